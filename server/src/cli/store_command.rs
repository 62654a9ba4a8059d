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
    /// Judge a run's result: accepted, rejected, or edited (accepted after
    /// changes; give the final text with --final-file).
    Verdict {
        #[arg(value_parser = parse_verdict)]
        verdict: Verdict,
        /// The run, as printed by `pipeline run`.
        #[arg(long, required_unless_present = "pipeline")]
        invocation: Option<String>,
        /// Judge this pipeline's most recent run.
        #[arg(long)]
        pipeline: Option<String>,
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
            let versions = dspy::versions(predictors, &pipeline, &map);
            let ids = store.add_versions(&versions)?;
            Ok(versions
                .iter()
                .zip(ids)
                .map(|(v, id)| format!("imported {} / {} as version {id} ({} demos)\n", v.pipeline, v.step, v.demos.len()))
                .collect())
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
                None => select::optimized(&versions).or_else(|| versions.last()).ok_or(format!("the store has no prompt for {pipeline} / {step}"))?,
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
        StoreCommand::Verdict { verdict, invocation, pipeline, final_file } => {
            let invocation = match (invocation, pipeline) {
                (Some(invocation), _) => invocation,
                (None, Some(pipeline)) => store.last_invocation(&pipeline)?.ok_or(format!("the store has no run of `{pipeline}`"))?,
                (None, None) => return Err("give --invocation or --pipeline".into()),
            };
            let final_text = final_file.map(|p| std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))).transpose()?;
            if final_text.is_some() && verdict != Verdict::Edited {
                return Err("--final-file goes with the verdict `edited`".into());
            }
            match store.set_verdict(&invocation, verdict, final_text.as_deref())? {
                0 => Err(format!("run {invocation} has no recorded answer to judge")),
                n => Ok(format!("run {invocation}: {n} example(s) judged {}\n", verdict.name())),
            }
        }
    }
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
            let failed = if score.failures > 0 { format!(", {} failed", score.failures) } else { String::new() };
            out.push_str(&format!("  version {:>4} {:<8} {:.3} on {} examples{failed}\n", score.version, score.source, score.score, score.examples));
        }
    }
    out
}
