//! The command line: `serve` (the language server) and `check` (the linter).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod file_outcome;
pub mod github;
mod paths;
mod sarif;
mod store_command;

use store_command::StoreCommand;

use crate::check::{self, Report};
use crate::config::Config;
use crate::elixir::rules;
use crate::finding::Severity;

#[derive(Parser)]
#[command(name = "elexirion", version, about = "Language server and linter for Elixir OTP code")]
#[command(after_help = "Logging goes to stderr; set its level with ELEXIRION_LOG or RUST_LOG \
                        (e.g. ELEXIRION_LOG=debug).")]
struct Cli {
    /// Serve the language server over stdio (same as `elexirion serve`).
    #[arg(long)]
    stdio: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the language server over stdin/stdout.
    Serve {
        /// Accepted for editors that pass it; stdio is the only transport.
        #[arg(long)]
        stdio: bool,
    },
    /// Check Elixir files and directories (honouring .gitignore, skipping
    /// _build and deps). Exits 1 when errors are found.
    Check {
        /// Files or directories to check.
        #[arg(default_value = ".")]
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
        format: CheckFormat,
        /// Apply safe fixes to the files (atomically), then report what is left.
        #[arg(long)]
        fix: bool,
        /// Configuration file (default: the nearest elexirion.toml at or above
        /// the current directory).
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
    },
    /// Pipeline files (pipeline_ex YAML).
    Pipeline {
        #[command(subcommand)]
        command: PipelineCommand,
    },
    /// Print the JSON Schema of pipeline files (for yaml-language-server).
    Schema,
    /// The optimization store: prompt versions, runs, judged examples
    /// (default .elexirion/store.db, or `[store] path` in elexirion.toml).
    Store {
        #[command(subcommand)]
        command: StoreCommand,
        /// The store's path.
        #[arg(long, global = true)]
        store: Option<PathBuf>,
    },
    /// List the rules, or print their documentation as Markdown.
    Rules {
        /// Print every rule's documentation (the source of docs/rules.md).
        #[arg(long)]
        markdown: bool,
    },
}

#[derive(Subcommand)]
enum PipelineCommand {
    /// Run a pipeline: progress on stderr, the last step's result on stdout.
    /// Providers and models come from elexirion.toml `[providers]` and the
    /// ANTHROPIC_/GEMINI_/OPENAI_API_KEY and _BASE_URL variables.
    Run {
        file: PathBuf,
        /// An input for `{{inputs.KEY}}`, as `KEY=VALUE` (repeatable).
        #[arg(long = "input", value_name = "KEY=VALUE")]
        inputs: Vec<String>,
        /// An input read from a file, as `KEY=PATH` (repeatable).
        #[arg(long = "input-file", value_name = "KEY=PATH")]
        input_files: Vec<String>,
        /// Print every step's result as JSON.
        #[arg(long)]
        json: bool,
        /// Make every request, even when a cached answer exists.
        #[arg(long)]
        no_cache: bool,
        /// Root for --file, `file` prompts, globs, the cache and elexirion.toml
        /// (default: the current directory); nothing outside it is read or written.
        #[arg(long)]
        workspace: Option<PathBuf>,
        /// Limit for the whole run, in seconds.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
        /// Run the pipeline's `editor` block on this file: its inputs are
        /// filled from the file, an analysis prints findings, a refactor
        /// prints the diff of its edit.
        #[arg(long = "file", value_name = "PATH")]
        target: Option<PathBuf>,
        /// With --file: write a refactor's result (checked for syntax errors first).
        #[arg(long, requires = "target")]
        write: bool,
        /// Execution mode, overriding the pipeline's and elexirion.toml's:
        /// traditional, optimized, hybrid, evaluation.
        #[arg(long, value_parser = parse_mode)]
        mode: Option<crate::store::select::Mode>,
        /// Neither serve prompts from the optimization store nor record the run.
        #[arg(long)]
        no_store: bool,
    },
    /// Validate pipeline files with the same diagnostics as the editor.
    /// Exits 1 when a file has errors.
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Root for `file` prompt paths (default: the current directory).
        #[arg(long)]
        workspace: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// `path:line:col: severity code message` lines and a summary.
    Text,
    /// One JSON document with every diagnostic and the summary.
    Json,
}

/// `check`'s formats: those of `pipeline validate`, and two for CI.
#[derive(Clone, Copy, ValueEnum)]
enum CheckFormat {
    /// `path:line:col: severity code message` lines and a summary.
    Text,
    /// One JSON document with every diagnostic and the summary.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands: annotations on the files, in the log and on pull requests.
    Github,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Check { paths, format, fix, config }) => {
            init_logging("warn");
            match load_config(config.as_deref()) {
                Ok(config) => run_check(&paths, format, fix, &config),
                Err(message) => {
                    eprintln!("elexirion: {message}");
                    ExitCode::from(2)
                }
            }
        }
        Some(Command::Pipeline { command: PipelineCommand::Validate { files, format, workspace } }) => {
            init_logging("warn");
            if let Some(missing) = files.iter().find(|p| !p.is_file()) {
                eprintln!("elexirion: {}: no such file", missing.display());
                return ExitCode::from(2);
            }
            let workspace = workspace.unwrap_or_else(|| PathBuf::from("."));
            let report = check::validate_pipelines(&files, &workspace);
            print_report(&report, format)
        }
        Some(Command::Pipeline { command: PipelineCommand::Run { file, inputs, input_files, json, no_cache, workspace, timeout, target, write, mode, no_store } }) => {
            init_logging("warn");
            let target = target.map(|path| EditorTarget { path, write });
            let request = RunRequest { json, no_cache, workspace, timeout, target, mode, no_store };
            run_pipeline(&file, &inputs, &input_files, request)
        }
        Some(Command::Store { command, store }) => {
            init_logging("warn");
            print_outcome(store_command::run(command, store))
        }
        Some(Command::Schema) => {
            let schema = crate::pipeline::json_schema::json_schema();
            let _ = std::io::stdout().lock().write_all(format!("{schema:#}\n").as_bytes());
            ExitCode::SUCCESS
        }
        Some(Command::Rules { markdown }) => {
            let output = if markdown { rules_markdown() } else { rules_list() };
            let _ = std::io::stdout().lock().write_all(output.as_bytes());
            ExitCode::SUCCESS
        }
        Some(Command::Serve { .. }) | None if cli.stdio || cli.command.is_some() => {
            init_logging("info");
            serve()
        }
        _ => {
            eprintln!("elexirion: say what to do: `elexirion serve`, `elexirion check [PATHS]` or `--help`.");
            ExitCode::from(2)
        }
    }
}

/// Tracing to stderr only: stdout carries the protocol.
fn init_logging(default_level: &str) {
    let filter = std::env::var("ELEXIRION_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| default_level.to_string());
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}

fn serve() -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("elexirion: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(crate::lsp::serve_stdio());
    // A read of stdin blocked in the runtime's thread pool cannot be
    // cancelled; do not wait for an editor that keeps stdin open after `exit`.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    ExitCode::SUCCESS
}

fn load_config(explicit: Option<&std::path::Path>) -> Result<Config, String> {
    if let Some(path) = explicit {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        return Config::parse(&text).map_err(|e| format!("{}: {e}", path.display()));
    }
    let here = std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    Ok(Config::discover(&here)?.map(|(_, config)| config).unwrap_or_default())
}

fn run_check(paths: &[PathBuf], format: CheckFormat, fix: bool, config: &Config) -> ExitCode {
    if let Some(missing) = paths.iter().find(|p| !p.exists()) {
        eprintln!("elexirion: {}: no such file or directory", missing.display());
        return ExitCode::from(2);
    }
    if fix {
        for outcome in check::fix_paths(paths, &config.rules) {
            match outcome.result {
                Ok(0) => {}
                Ok(fixes) => eprintln!("{}: applied {fixes} fix{}", outcome.path.display(), if fixes == 1 { "" } else { "es" }),
                Err(error) => eprintln!("{}: not fixed: {error}", outcome.path.display()),
            }
        }
    }
    let report = check::check_paths(paths, &config.rules);
    let output = match format {
        CheckFormat::Text => text_report(&report),
        CheckFormat::Json => json_report(&report),
        CheckFormat::Sarif => sarif::report(&report),
        CheckFormat::Github => github::report(&report),
    };
    print_findings(&report, &output)
}

/// Print what a command produced, or why it failed (exit 1).
fn print_outcome(outcome: Result<String, String>) -> ExitCode {
    match outcome {
        Ok(output) => {
            // A closed pipe (`| head`) is not our failure.
            let _ = std::io::stdout().lock().write_all(output.as_bytes());
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("elexirion: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Print a report; exit 1 when it has errors.
fn print_report(report: &Report, format: Format) -> ExitCode {
    let output = match format {
        Format::Text => text_report(report),
        Format::Json => json_report(report),
    };
    print_findings(report, &output)
}

/// Print a report's `output`, in whatever format; exit 1 when it has errors.
fn print_findings(report: &Report, output: &str) -> ExitCode {
    // A closed pipe (`| head`) is not our failure.
    let _ = std::io::stdout().lock().write_all(output.as_bytes());
    if report.count(Severity::Error) > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn rules_list() -> String {
    let mut out = String::new();
    for rule in rules::RULES {
        let fix = rule.fix.map(|a| format!(" [fix: {}]", a.as_str())).unwrap_or_default();
        let opt_in = if rule.default { "" } else { " [opt-in]" };
        out.push_str(&format!("{}  {:<32} {}{opt_in}{fix}\n", rule.code, rule.name, rule.summary));
    }
    out
}

/// The rules' documentation, generated from the rule files (docs/rules.md).
pub fn rules_markdown() -> String {
    let mut out = String::from(
        "# Elexirion rules\n\n<!-- Generated by `elexirion rules --markdown`; edit the rule files, not this. -->\n\n\
         Turn a rule off in `elexirion.toml` (`[rules] disable = [\"name\"]`) or for one line with\n\
         `# elexirion:disable-next-line name` (or for a file, `# elexirion:disable-file name`).\n\n\
         Opt-in rules are off until `[rules] enable = [\"name\"]` (or `[\"all\"]`) turns them on: they\n\
         fell short of 90% precision on real projects they were not tuned on\n\
         ([docs/precision.md](precision.md)), so they are for a review now and then, not for every save.\n\n\
         | code | name | what | default | fix |\n|---|---|---|---|---|\n",
    );
    for rule in rules::RULES {
        let fix = rule.fix.map(|a| a.as_str()).unwrap_or("");
        let default = if rule.default { "on" } else { "opt-in" };
        out.push_str(&format!(
            "| {} | [{}](#{}) | {} | {default} | {fix} |\n",
            rule.code,
            rule.name,
            anchor(rule),
            rule.summary.replace('|', "\\|")
        ));
    }
    for rule in rules::RULES {
        let opt_in = if rule.default { "" } else { "\n\n*Opt-in*: off unless `[rules] enable` names it." };
        out.push_str(&format!("\n## {} {}\n\n{}{opt_in}\n\n{}\n", rule.code, rule.name, rule.summary, rule.doc));
    }
    out
}

/// The Markdown heading anchor of a rule's section.
pub fn anchor(rule: &rules::Rule) -> String {
    format!("{}-{}", rule.code.to_lowercase(), rule.name)
}

fn text_report(report: &Report) -> String {
    let mut out = String::new();
    for file in &report.files {
        let path = file.path.display();
        if let Some(error) = &file.error {
            out.push_str(&format!("{path}:1:1: error io {error}\n"));
        }
        for problem in &file.problems {
            let finding = &problem.finding;
            out.push_str(&format!(
                "{path}:{}:{}: {} {} {}\n",
                problem.start.line,
                problem.start.character,
                finding.severity.as_str(),
                finding.code,
                finding.message
            ));
        }
    }
    out.push_str(&summary(report));
    out
}

/// `Checked 3 files (11 lines) in 2 ms: 1 error, 0 warnings.`
fn summary(report: &Report) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "Checked {} ({}) in {} ms: {}, {}.\n",
        plural(report.files.len(), "file"),
        plural(report.lines(), "line"),
        report.elapsed.as_millis(),
        plural(report.count(Severity::Error), "error"),
        plural(report.count(Severity::Warning), "warning"),
    )
}

fn json_report(report: &Report) -> String {
    let mut diagnostics = Vec::new();
    for file in &report.files {
        let path = file.path.display().to_string();
        if let Some(error) = &file.error {
            diagnostics.push(serde_json::json!({
                "path": path, "line": 1, "column": 1, "end_line": 1, "end_column": 1,
                "severity": "error", "code": "io", "name": "unreadable-file", "message": error,
            }));
        }
        for problem in &file.problems {
            let finding = &problem.finding;
            diagnostics.push(serde_json::json!({
                "path": path,
                "line": problem.start.line,
                "column": problem.start.character,
                "end_line": problem.end.line,
                "end_column": problem.end.character,
                "severity": finding.severity.as_str(),
                "code": finding.code,
                "name": finding.name,
                "message": finding.message,
            }));
        }
    }
    let document = serde_json::json!({
        "diagnostics": diagnostics,
        "summary": {
            "files": report.files.len(),
            "lines": report.lines(),
            "errors": report.count(Severity::Error),
            "warnings": report.count(Severity::Warning),
            "elapsed_ms": report.elapsed.as_millis() as u64,
        },
    });
    format!("{document:#}\n")
}

/// `pipeline run --file PATH [--write]`.
struct EditorTarget {
    path: PathBuf,
    write: bool,
}

/// How `pipeline run` was asked to run.
struct RunRequest {
    json: bool,
    no_cache: bool,
    workspace: Option<PathBuf>,
    timeout: u64,
    target: Option<EditorTarget>,
    mode: Option<crate::store::select::Mode>,
    no_store: bool,
}

fn parse_mode(text: &str) -> Result<crate::store::select::Mode, String> {
    crate::store::select::Mode::parse(text).ok_or_else(|| format!("expected one of {}", crate::store::select::Mode::NAMES.join(", ")))
}

fn run_pipeline(file: &std::path::Path, inputs: &[String], input_files: &[String], request: RunRequest) -> ExitCode {
    let RunRequest { json, no_cache, workspace, timeout, target, mode, no_store } = request;
    use crate::pipeline::on_file::{self, FileRequest, Proposal};
    use crate::pipeline::run::{self, RunEvent, RunOptions};

    let fail = |message: String| {
        eprintln!("elexirion: {message}");
        ExitCode::from(2)
    };
    let source = match std::fs::read_to_string(file) {
        Ok(source) => source,
        Err(error) => return fail(format!("{}: {error}", file.display())),
    };
    let mut values = std::collections::HashMap::new();
    for pair in inputs {
        let Some((key, value)) = pair.split_once('=') else { return fail(format!("--input `{pair}`: expected KEY=VALUE")) };
        values.insert(key.to_string(), serde_json::Value::String(value.to_string()));
    }
    for pair in input_files {
        let Some((key, path)) = pair.split_once('=') else { return fail(format!("--input-file `{pair}`: expected KEY=PATH")) };
        match std::fs::read_to_string(path) {
            Ok(text) => values.insert(key.to_string(), serde_json::Value::String(text)),
            Err(error) => return fail(format!("--input-file {path}: {error}")),
        };
    }
    // Relative paths (--file, the configuration) are the workspace's, not the current directory's.
    let workspace = workspace.unwrap_or_else(|| PathBuf::from("."));
    let config = match Config::discover(&workspace) {
        Ok(found) => found.map(|(_, config)| config).unwrap_or_default(),
        Err(message) => return fail(message),
    };
    let prepared = match &target {
        Some(target) => {
            let Some(block) = crate::pipeline::editor::editor_block(&source) else {
                return fail("this pipeline has no `editor` block, so --file has nothing to fill".into());
            };
            let request = FileRequest {
                pipeline: source.clone(),
                block,
                workspace: workspace.clone(),
                path: target.path.clone(),
                text: None,
                selection: None,
                analysis: crate::elixir::AnalysisOptions { rules: config.rules.clone(), ..Default::default() },
                inputs: std::mem::take(&mut values),
                buffers: std::collections::HashMap::new(),
            };
            // The project context a prompt may ask for (`{{project.*}}`).
            let asks_for_project = source.contains("project.");
            let index = crate::workspace::resolve_inside(&workspace, std::path::Path::new("")).ok().filter(|_| asks_for_project).map(|root| crate::index::WorkspaceIndex::build(&root));
            match on_file::prepare(request, index.as_ref()) {
                Ok(prepared) => Some(prepared),
                Err(message) => return fail(message),
            }
        }
        None => None,
    };
    let store = match config.store.resolve(&workspace) {
        _ if no_store || !config.store.enabled => None,
        Ok(path) => store_command::open_shared(&path),
        Err(refused) => {
            eprintln!("elexirion: warning: {refused}; running without the optimization store");
            None
        }
    };
    let mode = mode.or(config.store.mode);
    let options = RunOptions {
        fresh: false,
        cache_dir: if no_cache { None } else { on_file::cache_dir(&workspace) },
        workspace,
        inputs: values,
        providers: config.providers,
        run_timeout: std::time::Duration::from_secs(timeout),
        store,
        mode,
    };
    // What the run's model calls cost, summed from its steps.
    let spent: std::sync::Arc<std::sync::Mutex<crate::pipeline::providers::prices::Spend>> = Default::default();
    let spent_by_steps = spent.clone();
    let events: run::EventSink = std::sync::Arc::new(move |event| match event {
        RunEvent::StepStarted { step, step_type } => eprintln!("> {step} ({step_type})"),
        RunEvent::StepFinished { step, provider, cached, elapsed, tokens, cost } => {
            let via = provider.map(|p| format!(" via {p}")).unwrap_or_default();
            let how = if cached { " (cached)".to_string() } else { tokens.map(|(i, o)| format!(", {i} -> {o} tokens")).unwrap_or_default() };
            let paid = cost.as_ref().map(|c| format!(", cost {c}")).unwrap_or_default();
            eprintln!("  done {step}{via} in {:.2} s{how}{paid}", elapsed.as_secs_f64());
            if let (Some(cost), Ok(mut spent)) = (cost, spent_by_steps.lock()) {
                spent.merge(&cost);
            }
        }
        RunEvent::StepSkipped { step } => eprintln!("  skipped {step}: its condition does not hold"),
        RunEvent::PromptServed { step, version, source } => eprintln!("  {step}: prompt version {version} ({source})"),
        RunEvent::Warning(message) => eprintln!("  warning: {message}"),
    });
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => return fail(format!("cannot start the async runtime: {error}")),
    };
    if run::declared_mode(&source, mode) == crate::store::select::Mode::Evaluation {
        return match runtime.block_on(run::evaluation::evaluate(&source, options, events)) {
            Ok(scores) => print_outcome(Ok(store_command::scores_table(&scores, json))),
            Err(error) => print_outcome(Err(error.to_string())),
        };
    }
    let store = options.store.clone();
    // Said only when the store really holds the run (a locked store drops it).
    let say_cost = || {
        if let Some(spent) = spent.lock().ok().filter(|s| !s.is_empty()) {
            eprintln!("cost: {spent}");
        }
    };
    // A run that produced no result has nothing to judge (a verdict on it is refused).
    let judge = |run_id: &str, produced_result: bool| {
        say_cost();
        let recorded = store.as_ref().and_then(|s| s.lock().ok().map(|s| s.has_invocation(run_id)));
        if recorded == Some(Ok(true)) && produced_result {
            eprintln!("recorded as run {run_id} (judge it with `elexirion store verdict accepted|rejected|edited --run {run_id}`)");
        } else if recorded == Some(Ok(true)) {
            eprintln!("recorded as run {run_id} (it produced no result to judge)");
        }
    };
    if let (Some(prepared), Some(target)) = (&prepared, &target) {
        let outcome = match runtime.block_on(on_file::run(prepared, options, events)) {
            Ok(outcome) => outcome,
            Err(error) => {
                match &error.run_id {
                    Some(run_id) => judge(run_id, false),
                    None => say_cost(),
                }
                eprintln!("elexirion: {error}");
                if json {
                    // Scripts reading --json get a document whatever happened.
                    let document = serde_json::json!({ "pipeline": prepared.block.name, "file": prepared.display_path, "run_id": error.run_id, "error": error.message });
                    let _ = writeln!(std::io::stdout().lock(), "{document:#}");
                }
                return ExitCode::FAILURE;
            }
        };
        judge(&outcome.run_id, true);
        let mut wrote = false;
        if let (Proposal::Edit(edit), true) = (&outcome.proposal, target.write) {
            if let Err(message) = on_file::write(edit) {
                eprintln!("elexirion: {message}");
                return ExitCode::FAILURE;
            }
            wrote = true;
        }
        let output = if json { format!("{:#}\n", file_outcome::json(prepared, &outcome, wrote)) } else { file_outcome::text(prepared, &outcome, wrote) };
        return print_outcome(Ok(output));
    }
    match runtime.block_on(run::run(&source, options, events)) {
        Ok(result) => {
            judge(&result.invocation, true);
            let output = if json {
                let steps: serde_json::Map<String, serde_json::Value> = result
                    .outputs
                    .iter()
                    .map(|(name, o)| (name.clone(), serde_json::json!({ "text": o.text, "json": o.json })))
                    .collect();
                let last = result.last().map(|o| o.text.clone()).unwrap_or_default();
                format!("{:#}\n", serde_json::json!({ "steps": steps, "result": last, "run_id": result.invocation }))
            } else {
                result.last().map(|o| format!("{}\n", o.text.trim_end())).unwrap_or_default()
            };
            print_outcome(Ok(output))
        }
        Err(error) => {
            say_cost();
            eprintln!("elexirion: {error}");
            ExitCode::FAILURE
        }
    }
}

