//! `elexirion store ...`: the optimization store from the command line.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use clap::Subcommand;

use crate::pipeline::run::evaluation::StepScores;
use crate::pipeline::run::{chat_adapter, SharedStore};
use crate::store::examples::{to_jsonl, Verdict};
use crate::store::learn::{self, Learned};
use crate::store::select;
use crate::store::{dspy, OpenError, Store};

#[derive(Subcommand)]
pub enum StoreCommand {
    /// Import a program saved by DSPy's `Module.save` (JSON): each
    /// predictor's instructions and demos become a prompt version.
    ImportDspy {
        program: PathBuf,
        /// The pipeline the program optimizes.
        #[arg(long)]
        pipeline: String,
        /// Which step a predictor is, as `PREDICTOR=STEP` (repeatable);
        /// default: the predictor's path without `.predict` (`self` for a bare one).
        #[arg(long = "map", value_name = "PREDICTOR=STEP")]
        map: Vec<String>,
    },
    /// List a pipeline's prompt versions with their record.
    Versions {
        #[arg(long)]
        pipeline: String,
        #[arg(long)]
        step: Option<String>,
        /// Print them as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the prompt a step is served in optimized mode (or one version),
    /// rendered as it is sent, with `{field}` where its inputs go.
    Show {
        #[arg(long)]
        pipeline: String,
        #[arg(long)]
        step: String,
        #[arg(long)]
        version: Option<i64>,
    },
    /// Write a step's judged examples as JSONL, one DSPy trainset row each:
    /// the inputs by name, the result (the user's edit when there is one)
    /// and the verdict.
    ExportExamples {
        #[arg(long)]
        pipeline: String,
        #[arg(long)]
        step: String,
        /// The name of the result field in each row.
        #[arg(long, default_value = "response")]
        output_field: String,
        /// Write here instead of stdout.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Build a `learned` version of each step from its accepted examples
    /// (a few short, different ones as demos).
    Learn {
        #[arg(long)]
        pipeline: String,
        #[arg(long, default_value_t = 3)]
        max_demos: usize,
    },
    /// Compare a pipeline's prompt versions and execution modes, per step:
    /// runs, acceptance with its 95% interval, evaluation score, latency,
    /// tokens and cost, and what to do next (by the rule optimized mode uses).
    Report {
        #[arg(long)]
        pipeline: String,
        /// Also write the report as one self-contained HTML page, with charts.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Print it as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Judge a run: the step whose answer was its result (or `--step`), as
    /// accepted, rejected, or edited (accepted after changes; give the final
    /// text with --final-file). The steps before it are not judged by it,
    /// and a run that produced no result is not judged.
    Verdict {
        #[arg(value_parser = parse_verdict)]
        verdict: Verdict,
        /// The run, as printed by `pipeline run`. Needed to judge a run again.
        #[arg(long = "run", visible_alias = "invocation", value_name = "ID", required_unless_present = "pipeline", conflicts_with = "pipeline")]
        run: Option<String>,
        /// Judge this pipeline's newest run that is not judged yet.
        #[arg(long)]
        pipeline: Option<String>,
        /// Judge this step of the run instead of its result's.
        #[arg(long)]
        step: Option<String>,
        /// The result the user ended up with (required by, and only for, `edited`).
        #[arg(long, value_name = "PATH")]
        final_file: Option<PathBuf>,
    },
}

fn parse_verdict(text: &str) -> Result<Verdict, String> {
    Verdict::parse(text).ok_or_else(|| "expected accepted, rejected or edited".into())
}

/// The store for a run, shared with the engine; a store that cannot be
/// opened is reported and the run goes on without it.
pub fn open_shared(path: &Path) -> Option<SharedStore> {
    match Store::open(path) {
        Ok(opened) => {
            if let Some(warning) = opened.warning {
                eprintln!("elexirion: warning: {warning}");
            }
            Some(Arc::new(Mutex::new(opened.store)))
        }
        Err(busy @ OpenError::Busy(_)) => {
            eprintln!("elexirion: warning: {busy}; this run is not recorded");
            None
        }
        Err(problem) => {
            eprintln!("elexirion: warning: the optimization store cannot be used ({problem}); running without it");
            None
        }
    }
}

/// Where `store report --html` may write: a path the user named that
/// ends in `.html` or `.htm`, and is not an existing file of another kind
/// (a symbolic link is replaced, not followed). Outside the workspace is
/// allowed: the user named the path. The page is written atomically.
fn html_report_path(path: &Path) -> Result<(), String> {
    let html = path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
    if !html {
        return Err(format!("--html {}: the report is written only to a file ending in .html or .htm (nothing written)", path.display()));
    }
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.is_dir() => Err(format!("--html {}: that is a directory (nothing written)", path.display())),
        _ => Ok(()),
    }
}

/// `--store`, else `[store] path` of elexirion.toml (relative to its
/// directory), else `.elexirion/store.db` here.
fn store_path(explicit: Option<PathBuf>) -> Result<PathBuf, String> {
    if let Some(path) = explicit {
        return Ok(path);
    }
    let here = std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    Ok(match crate::config::Config::discover(&here)? {
        Some((file, config)) => config.store.resolve(file.parent().unwrap_or(&here))?,
        None => crate::config::StoreSettings::default().resolve(&here)?,
    })
}

pub fn run(command: StoreCommand, store: Option<PathBuf>) -> Result<String, String> {
    let path = store_path(store)?;
    if let StoreCommand::Report { html: Some(page), .. } = &command {
        html_report_path(page)?;
    }
    // A report only reads: where there is no store, it says so instead of starting one.
    if matches!(command, StoreCommand::Report { .. }) && !path.exists() {
        return Err(format!("there is no optimization store at {} (a pipeline run starts one; give another with --store)", path.display()));
    }
    let opened = Store::open(&path)?;
    if let Some(warning) = &opened.warning {
        eprintln!("elexirion: warning: {warning}");
    }
    let mut store = opened.store;
    match command {
        StoreCommand::ImportDspy { program, pipeline, map } => {
            let text = std::fs::read_to_string(&program).map_err(|e| format!("{}: {e}", program.display()))?;
            let map: Vec<(String, String)> = map
                .iter()
                .map(|m| m.split_once('=').map(|(a, b)| (a.to_string(), b.to_string())).ok_or(format!("--map `{m}`: expected PREDICTOR=STEP")))
                .collect::<Result<_, _>>()?;
            let predictors = dspy::parse(&text).map_err(|e| format!("{}: {e}", program.display()))?;
            // The store knows the steps the pipeline ran; the workspace's files are read only when it does not know them all.
            let known = store.run_steps(&pipeline)?;
            let steps = if predictors.iter().all(|p| known.contains(&dspy::step_for(p, &map))) { known } else { pipeline_steps(known, &pipeline)? };
            let import = dspy::versions(predictors, &pipeline, &map, &steps).map_err(|e| format!("{}: {e}", program.display()))?;
            for warning in &import.warnings {
                eprintln!("elexirion: warning: {warning}");
            }
            let ids = store.add_versions(&import.versions)?;
            Ok(import
                .versions
                .iter()
                .zip(ids)
                .map(|(v, id)| format!("imported {} / {} as version {id} ({} demos)\n", v.pipeline, v.step, v.demos.len()))
                .collect())
        }
        StoreCommand::Report { pipeline, html, json } => {
            let report = store.report(&pipeline)?;
            if let Some(path) = html {
                crate::check::write_atomically(&path, &crate::store::report::html::page(&report)).map_err(|e| format!("{}: {e}", path.display()))?;
                eprintln!("wrote the report to {}", path.display());
            }
            Ok(if json { format!("{:#}\n", serde_json::json!(report)) } else { crate::store::report::text(&report) })
        }
        StoreCommand::Versions { pipeline, step, json } => {
            let versions = store.versions(&pipeline, step.as_deref())?;
            if json {
                let list: Vec<serde_json::Value> = versions
                    .iter()
                    .map(|p| {
                        serde_json::json!({
                            "id": p.id, "pipeline": p.version.pipeline, "step": p.version.step, "source": p.version.source,
                            "created_at": p.created_at, "parent": p.version.parent, "instructions": p.version.instructions,
                            "objective": crate::pipeline::run::prompt::objective(&p.version),
                            "fields": p.version.fields, "demos": p.version.demos, "notes": p.version.notes, "record": p.record,
                        })
                    })
                    .collect();
                return Ok(format!("{:#}\n", serde_json::Value::Array(list)));
            }
            let mut out = format!("{:>4}  {:<28} {:<8} {:>5} {:>5} {:>8} {:>8} {:>9}  created\n", "id", "pipeline / step", "source", "demos", "runs", "accepted", "rejected", "latency");
            for p in &versions {
                let r = &p.record;
                out.push_str(&format!(
                    "{:>4}  {:<28} {:<8} {:>5} {:>5} {:>8} {:>8} {:>7.0}ms  {}\n",
                    p.id,
                    format!("{} / {}", p.version.pipeline, p.version.step),
                    p.version.source,
                    p.version.demos.len(),
                    r.runs,
                    r.successes(),
                    r.rejected,
                    r.mean_latency_ms,
                    p.created_at
                ));
            }
            Ok(out)
        }
        StoreCommand::Show { pipeline, step, version } => {
            let versions = store.versions(&pipeline, Some(&step))?;
            let shown = match version {
                Some(id) => versions.iter().find(|v| v.id == id).ok_or(format!("{pipeline} / {step} has no version {id}"))?,
                // What optimized mode sends: by evidence, else the written prompt.
                None => select::by_evidence(&versions).or_else(|| select::manual(&versions)).or_else(|| versions.last()).ok_or(format!("the store has no prompt for {pipeline} / {step}"))?,
            };
            Ok(format!("version {} ({})\n\n{}\n", shown.id, shown.version.source, chat_adapter::preview(&shown.version).trim_end()))
        }
        StoreCommand::ExportExamples { pipeline, step, output_field, output } => {
            let examples = store.examples(&pipeline, &step, true)?;
            let jsonl = to_jsonl(&examples, &output_field);
            match output {
                Some(path) => {
                    crate::check::write_atomically(&path, &jsonl).map_err(|e| format!("{}: {e}", path.display()))?;
                    eprintln!("wrote {} examples to {}", jsonl.lines().count(), path.display());
                    Ok(String::new())
                }
                None => Ok(jsonl),
            }
        }
        StoreCommand::Learn { pipeline, max_demos } => {
            let mut out = String::new();
            for (step, outcome) in learn::learn(&mut store, &pipeline, max_demos)? {
                out.push_str(&match outcome {
                    Ok(Learned::New { id, demos, from }) => format!("{pipeline} / {step}: learned version {id} ({demos} demos from {from} accepted examples)\n"),
                    Ok(Learned::Unchanged { id }) => format!("{pipeline} / {step}: unchanged (version {id} has these demos)\n"),
                    Err(reason) => format!("{pipeline} / {step}: nothing learned ({reason})\n"),
                });
            }
            Ok(out)
        }
        StoreCommand::Verdict { verdict, run, pipeline, step, final_file } => {
            let final_text = match (&final_file, verdict) {
                (Some(path), Verdict::Edited) => {
                    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
                    if text.trim().is_empty() {
                        return Err(format!("{}: the edited text is empty; nothing was judged", path.display()));
                    }
                    Some(text)
                }
                (Some(_), _) => return Err("--final-file goes with the verdict `edited`".into()),
                (None, Verdict::Edited) => {
                    return Err("`edited` needs the result the user ended up with: give it with --final-file PATH (or judge the answer as it was: accepted)".into());
                }
                (None, _) => None,
            };
            let judgment = match (run, pipeline) {
                (Some(run), _) => store.judge(&run, step.as_deref(), verdict, final_text.as_deref()),
                (None, Some(pipeline)) => store.judge_newest(&pipeline, step.as_deref(), verdict, final_text.as_deref()),
                (None, None) => return Err("give --run ID or --pipeline NAME".into()),
            };
            Ok(verdict_report(&judgment.map_err(|e| e.to_string())?))
        }
    }
}

/// What a verdict judged, and what it changed.
fn verdict_report(judgment: &crate::store::examples::Judgment) -> String {
    let mut out = format!("{}: {}\n", judgment.run.describe(), judgment.change());
    if !judgment.other_steps.is_empty() {
        out.push_str(&format!(
            "not judged by this: {} (judge a step on its own with --run {} --step NAME)\n",
            judgment.other_steps.join(", "),
            judgment.run.invocation
        ));
    }
    out
}

/// Evaluation results as a table (or JSON).
pub fn scores_table(steps: &[StepScores], json: bool) -> String {
    if json {
        return format!("{:#}\n", serde_json::json!(steps));
    }
    let mut out = String::new();
    for step in steps {
        out.push_str(&format!("{} ({}):\n", step.step, step.metric));
        for score in &step.scores {
            let failed = if score.failures > 0 { format!(", {} failed or unusable ({})", score.failures, score.problems.join("; ")) } else { String::new() };
            let demos = if score.held_out_demos > 0 { format!(", {} of its demos left out", score.held_out_demos) } else { String::new() };
            let scored = score.score.map(|s| format!("{s:.3}")).unwrap_or_else(|| "  -  ".into());
            out.push_str(&format!("  version {:>4} {:<8} {scored} on {} examples{demos}{failed}\n", score.version, score.source, score.examples));
        }
    }
    out
}

/// The model steps of `pipeline`: `steps` (those the store has seen it
/// run) and those of the workspace's pipeline files that carry its name
/// (the workspace: where elexirion.toml is, else the current directory).
fn pipeline_steps(mut steps: Vec<String>, pipeline: &str) -> Result<Vec<String>, String> {
    let here = std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    let root = match crate::config::Config::discover(&here) {
        Ok(Some((file, _))) => file.parent().map(Path::to_path_buf).unwrap_or(here),
        _ => here,
    };
    for entry in ignore::WalkBuilder::new(&root).build().flatten() {
        let path = entry.path();
        let Some(name) = path.to_str().filter(|p| p.ends_with(".yaml") || p.ends_with(".yml")) else { continue };
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        if !crate::pipeline::is_pipeline_file(name, &text) {
            continue;
        }
        let Some(root_node) = crate::pipeline::yaml::parse(&text).root else { continue };
        let Some(workflow) = crate::pipeline::outline::workflow(&root_node) else { continue };
        if workflow.get("name").and_then(crate::pipeline::yaml::YamlNode::as_str) != Some(pipeline) {
            continue;
        }
        let model_steps = crate::pipeline::outline::all_steps(workflow, &text)
            .into_iter()
            .filter(|s| s.step_type.as_deref().is_some_and(|t| crate::pipeline::run::MODEL_STEPS.contains(&t)))
            .map(|s| s.name);
        steps.extend(model_steps);
    }
    steps.sort();
    steps.dedup();
    Ok(steps)
}
