//! `elexirion store report`: a history of runs written through the real
//! store API (the calls the runner and the verdict commands make), then
//! the report read back as data, as JSON from the binary, and as an HTML
//! page opened in headless Chromium.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use elexirion::pipeline::providers::prices;
use elexirion::store::examples::{Outcome, RunRecord, Verdict};
use elexirion::store::report::Action;
use elexirion::store::select::{self, Mode};
use elexirion::store::{NewVersion, Store};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

const PIPELINE: &str = "fix_otp_antipatterns";
const STEP: &str = "rewrite";

/// Where the simulated history's page is kept for people to look at.
fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/store-report");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Simulated {
    store: Store,
    written: i64,
    learned: i64,
    imported: i64,
}

/// 200 runs of one step: 40 in traditional mode, 120 in hybrid (versions
/// drawn by the real Thompson sampling), 40 in optimized (the real
/// selection rule). The learned version is truly better: its results are
/// accepted 85% of the time, the written prompt's 55%, the DSPy one's 45%.
/// Some answers cannot be used; most results are judged.
fn simulate(path: &Path) -> Simulated {
    let mut store = Store::open(path).unwrap().store;
    let written = store.manual_version(PIPELINE, STEP, "Rewrite {{inputs.code}} without the anti-patterns", &[]).unwrap();
    let version = |source: &str, notes: &str| NewVersion {
        pipeline: PIPELINE.into(),
        step: STEP.into(),
        instructions: "Rewrite `code` without the anti-patterns".into(),
        fields: vec![elexirion::store::Field::named("code", false), elexirion::store::Field::named("response", true)],
        demos: vec![serde_json::Map::from_iter([("code".to_string(), json!("def a, do: 1")), ("response".to_string(), json!("def a, do: 2"))])],
        source: source.into(),
        parent: Some(written),
        notes: Some(notes.into()),
    };
    let ids = store.add_versions(&[version("learned", "3 of 14 accepted examples as demos"), version("dspy", "imported from DSPy predictor `rewrite.predict`")]).unwrap();
    let (learned, imported) = (ids[0], ids[1]);
    let truth = |id: i64| if id == learned { (0.85, 0.02, 1900) } else if id == imported { (0.45, 0.08, 1500) } else { (0.55, 0.05, 1200) };
    let price = prices::lookup(&Default::default(), "anthropic", "claude-sonnet-4-5", true).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(14);
    for index in 0..200 {
        let mode = match index {
            0..40 => Mode::Traditional,
            40..160 => Mode::Hybrid,
            _ => Mode::Optimized,
        };
        let candidates = store.candidates(PIPELINE, STEP).unwrap();
        let served = select::choose(mode, &candidates, &mut rng).unwrap().id;
        let (acceptance, unusable, input_tokens) = truth(served);
        let invocation = format!("sim-{index:03}");
        let output_tokens = rng.random_range(300..500);
        let code = format!("defmodule W{index} do\n  def f, do: GenServer.call(W, :f, :infinity)\nend\n");
        let run = RunRecord {
            invocation: invocation.clone(),
            pipeline: PIPELINE.into(),
            step: STEP.into(),
            version: served,
            provider: Some("anthropic".into()),
            model: Some("claude-sonnet-4-5".into()),
            latency_ms: rng.random_range(2000.0..6000.0),
            input_tokens: Some(input_tokens),
            output_tokens: Some(output_tokens),
            outcome: Outcome::Answered,
            example: Some((serde_json::Map::from_iter([("code".to_string(), json!(code))]), code.replace(", :infinity", ""))),
        };
        let id = store.record_run(&run).unwrap();
        store.annotate_run(id, mode.name(), Some(price.cost(input_tokens, output_tokens))).unwrap();
        if rng.random_bool(unusable) {
            assert!(store.mark_unusable(&invocation, "the answer holds no code").unwrap());
            continue;
        }
        if rng.random_bool(0.85) {
            let verdict = match rng.random_bool(acceptance) {
                true if rng.random_bool(0.2) => Verdict::Edited,
                true => Verdict::Accepted,
                false => Verdict::Rejected,
            };
            assert_eq!(store.set_verdict(&invocation, verdict, None).unwrap(), 1);
        }
    }
    // Evaluation scores on held-out examples, as `--mode evaluation` leaves them.
    store.set_score(written, 0.74, 12).unwrap();
    store.set_score(learned, 0.83, 9).unwrap();
    store.set_score(imported, 0.69, 2).unwrap();
    Simulated { store, written, learned, imported }
}

#[test]
fn a_simulated_history_of_200_runs_recommends_the_truly_better_version_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let simulated = simulate(&dir.path().join("store.db"));
    let report = simulated.store.report(PIPELINE).unwrap();
    let step = &report.steps[0];
    assert_eq!(step.step, STEP);
    assert_eq!(step.recommendation.action, Action::UseOptimized, "{:#?}", step.recommendation);
    assert_eq!(step.recommendation.version, Some(simulated.learned));
    let reason = &step.recommendation.reason;
    assert!(reason.contains(&format!("version {} (learned): acceptance at least", simulated.learned)) && reason.contains("the written prompt, version"), "{reason}");

    let runs: u64 = step.versions.iter().map(|v| v.figures.runs).sum();
    assert_eq!(runs, 200);
    let modes: Vec<&str> = step.modes.iter().map(|m| m.mode.as_str()).collect();
    assert_eq!(modes, ["hybrid", "optimized", "traditional"]);
    assert_eq!(step.modes.iter().map(|m| m.figures.runs).sum::<u64>(), 200);
    let version = |id: i64| step.versions.iter().find(|v| v.id == id).unwrap();
    let (learned, written, imported) = (version(simulated.learned), version(simulated.written), version(simulated.imported));
    assert!(learned.figures.acceptance.unwrap() > written.figures.acceptance.unwrap());
    assert!(learned.evidence_lower_bound > written.evidence_lower_bound);
    assert!(learned.figures.acceptance_interval.0 < learned.figures.acceptance.unwrap() && learned.figures.acceptance.unwrap() < learned.figures.acceptance_interval.1);
    for v in [learned, written] {
        assert!(v.figures.cost_usd.unwrap() > 0.0 && v.figures.cost_unknown_runs == 0 && !v.figures.cost_partial, "{:?}", v.figures);
        assert!(v.figures.cost_per_accepted.unwrap() > 0.0 && v.figures.mean_latency_ms.unwrap() >= 2000.0);
    }
    assert!(step.acceptance_over_time.iter().any(|s| s.version == simulated.learned && s.points.len() > 20));
    // Optimized mode followed the same rule: its runs went to the learned version.
    let optimized = &step.modes.iter().find(|m| m.mode == "optimized").unwrap().figures;
    assert!(optimized.acceptance.unwrap() > written.figures.acceptance.unwrap(), "{optimized:?}");
    let _ = imported;

    // The text table says on how many examples each evaluation score stands.
    let table = elexirion::store::report::text(&report);
    assert!(table.contains("0.74 on 12") && table.contains("0.83 on 9") && table.contains("0.69 on 2"), "{table}");

    let page = elexirion::store::report::html::page(&report);
    let artifact = artifacts().join("report.html");
    std::fs::write(&artifact, &page).unwrap();
    std::fs::write(artifacts().join("report.txt"), elexirion::store::report::text(&report)).unwrap();
    std::fs::write(artifacts().join("report.json"), serde_json::to_string_pretty(&report).unwrap()).unwrap();
    eprintln!("{}\nwritten to {}", elexirion::store::report::text(&report), artifact.display());
}

/// The binary's `store report` on a store file; its stdout.
fn report_command(store: &Path, extra: &[&str]) -> String {
    let output = Command::new(support::binary()).args(["store", "report", "--pipeline", PIPELINE]).args(extra).arg("--store").arg(store).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_json_report_holds_the_same_figures_and_recommendation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let simulated = simulate(&path);
    drop(simulated.store);
    let json: Value = serde_json::from_str(&report_command(&path, &["--json"])).unwrap();
    let step = &json["steps"][0];
    assert_eq!(step["recommendation"]["action"], "use-optimized");
    assert_eq!(step["recommendation"]["version"], simulated.learned);
    let versions = step["versions"].as_array().unwrap();
    assert_eq!(versions.iter().map(|v| v["figures"]["runs"].as_u64().unwrap()).sum::<u64>(), 200);
    for key in ["acceptance", "acceptance_interval", "evaluation_score", "mean_latency_ms", "input_tokens", "output_tokens", "cost_usd", "cost_per_accepted"] {
        assert!(!versions[1]["figures"][key].is_null(), "{key}: {:#}", versions[1]);
    }
    assert!(json["rule"].as_str().unwrap().contains("95% Wilson lower bound"));
    let text = report_command(&path, &[]);
    assert!(text.contains("recommendation: use the optimized prompt (version 2)") && text.contains("mode hybrid"), "{text}");
}

/// Debian's Chromium, which scripts/test installs (editors/vscode/e2e/run.sh).
fn chromium() -> &'static str {
    let path = "/usr/bin/chromium";
    assert!(
        Path::new(path).exists(),
        "this test opens the HTML report in headless Chromium, and {path} is missing: install Debian's `chromium` package (scripts/test does, through editors/vscode/e2e/run.sh)"
    );
    path
}

#[test]
fn the_html_report_is_one_self_contained_page_chromium_renders_with_tables_and_charts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    drop(simulate(&path).store);
    let page_path = dir.path().join("report.html");
    report_command(&path, &["--html", page_path.to_str().unwrap()]);
    let page = std::fs::read_to_string(&page_path).unwrap();
    for external in ["http://", "https://", "//cdn", "src=", "href=", "url(", "@import", "<link", "<script"] {
        assert!(!page.contains(external), "the page refers to something outside it: `{external}`");
    }

    let browser = chromium();
    let profile = dir.path().join("chromium-profile");
    let dom = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page_path.display()))
        .output()
        .unwrap();
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.status.success() && dom_text.contains("<body"), "chromium --dump-dom: {}", String::from_utf8_lossy(&dom.stderr));
    assert!(dom_text.contains("<table class=\"versions\">") && dom_text.contains("<table class=\"modes\">"), "{dom_text}");
    assert!(dom_text.contains("data-action=\"use-optimized\""));
    for mode in ["traditional", "hybrid", "optimized"] {
        assert!(dom_text.contains(&format!("<tr data-mode=\"{mode}\">")), "{mode}");
    }
    let line_chart = dom_text.split("<svg class=\"chart acceptance-over-time\"").nth(1).expect("the acceptance chart").split("</svg>").next().unwrap();
    assert!(line_chart.matches("<circle class=\"point\"").count() > 100, "a point per verdict");
    assert_eq!(line_chart.matches("<polyline class=\"series\"").count(), 3, "a line per version");
    let bar_chart = dom_text.split("<svg class=\"chart cost-per-accepted\"").nth(1).expect("the cost chart").split("</svg>").next().unwrap();
    assert_eq!(bar_chart.matches("<rect class=\"bar\"").count(), 3, "a bar per version");

    // And it draws: a screenshot with more than a blank page in it.
    let screenshot = artifacts().join("report.png");
    let _ = std::fs::remove_file(&screenshot);
    let shot = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars", "--window-size=1200,1800"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg(format!("file://{}", page_path.display()))
        .output()
        .unwrap();
    assert!(shot.status.success(), "chromium --screenshot: {}", String::from_utf8_lossy(&shot.stderr));
    let png = std::fs::read(&screenshot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "{} bytes", png.len());
}

/// One answered run of `version`, with its cost (`None`: unknown).
fn run_of(store: &mut Store, invocation: &str, version: i64, tokens: Option<(u64, u64)>, cost: Option<f64>) -> i64 {
    let run = RunRecord {
        invocation: invocation.into(),
        pipeline: PIPELINE.into(),
        step: STEP.into(),
        version,
        provider: Some("openai".into()),
        model: Some("llama3.1".into()),
        latency_ms: 1000.0,
        input_tokens: tokens.map(|t| t.0),
        output_tokens: tokens.map(|t| t.1),
        outcome: Outcome::Answered,
        example: Some((serde_json::Map::from_iter([("code".to_string(), json!(invocation))]), format!("answer {invocation}"))),
    };
    let id = store.record_run(&run).unwrap();
    store.annotate_run(id, "optimized", cost).unwrap();
    id
}

/// The written prompt v1 earned 5 accepted verdicts, then its wording
/// changed in the YAML (manual v2, no trials). Optimized mode kept serving
/// v1 and the report said there was "no other version to compare it
/// with". Now v1 is superseded history: shown, never served nor recommended.
#[test]
fn a_changed_written_prompt_supersedes_the_old_one_which_is_shown_but_never_served_or_recommended() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("store.db")).unwrap().store;
    let old = store.manual_version(PIPELINE, STEP, "Rewrite {{inputs.code}}", &[]).unwrap();
    for index in 0..5 {
        run_of(&mut store, &format!("old-{index}"), old, Some((5, 7)), Some(0.001));
        assert_eq!(store.set_verdict(&format!("old-{index}"), Verdict::Accepted, None).unwrap(), 1);
    }
    let new = store.manual_version(PIPELINE, STEP, "Rewrite {{inputs.code}} without the anti-patterns", &[]).unwrap();
    assert_ne!(old, new);
    let candidates = store.candidates(PIPELINE, STEP).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    for mode in [Mode::Optimized, Mode::Hybrid, Mode::Traditional] {
        assert_eq!(select::choose(mode, &candidates, &mut rng).unwrap().id, new, "{mode:?} serves the YAML's prompt");
    }
    let report = store.report(PIPELINE).unwrap();
    let step = &report.steps[0];
    let (was, now) = (&step.versions[0], &step.versions[1]);
    assert!(was.superseded && !now.superseded, "{:?} {:?}", was.superseded, now.superseded);
    assert_eq!(was.figures.accepted, 5, "its history is kept");
    assert_eq!(now.evidence.trials, 0.0, "evidence does not carry over to the new wording");
    let recommendation = &step.recommendation;
    assert_eq!((recommendation.action.clone(), recommendation.version), (Action::GatherMoreData, Some(new)), "{recommendation:#?}");
    assert!(!recommendation.reason.contains("no other version to compare it with"), "{}", recommendation.reason);
    assert!(recommendation.reason.contains(&format!("version {new} holds the pipeline's wording now and replaced version {old}, which is superseded")), "{}", recommendation.reason);
    let table = elexirion::store::report::text(&report);
    assert!(table.contains(&format!("{old} manual (superseded)")), "{table}");
    assert!(elexirion::store::report::html::page(&report).contains("manual (superseded: not served)"));
}

/// `--json` said `cost_usd: 0.0` beside `cost_unknown_runs: 2` when no
/// run's cost was known, and the text said nothing of a partial sum.
#[test]
fn a_cost_no_run_knows_is_null_and_a_sum_over_some_runs_says_it_is_partial() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let mut store = Store::open(&path).unwrap().store;
    let written = store.manual_version(PIPELINE, STEP, "Rewrite {{inputs.code}}", &[]).unwrap();
    run_of(&mut store, "a", written, Some((5, 7)), None);
    run_of(&mut store, "b", written, None, None);
    let report = store.report(PIPELINE).unwrap();
    let figures = &report.steps[0].versions[0].figures;
    assert_eq!((figures.cost_usd, figures.cost_known_runs, figures.cost_unknown_runs, figures.cost_partial), (None, 0, 2, false), "{figures:?}");
    assert_eq!(elexirion::store::report::cost_text(figures), "unknown");
    drop(store);
    let json: Value = serde_json::from_str(&report_command(&path, &["--json"])).unwrap();
    let figures = &json["steps"][0]["versions"][0]["figures"];
    assert_eq!((figures["cost_usd"].clone(), figures["cost_unknown_runs"].clone()), (Value::Null, json!(2)), "{figures:#}");
    assert_eq!(json["steps"][0]["modes"][0]["figures"]["cost_usd"], Value::Null);

    let mut store = Store::open(&path).unwrap().store;
    run_of(&mut store, "c", written, Some((5, 7)), Some(0.0123));
    let report = store.report(PIPELINE).unwrap();
    let figures = &report.steps[0].versions[0].figures;
    assert_eq!((figures.cost_usd, figures.cost_known_runs, figures.cost_unknown_runs, figures.cost_partial), (Some(0.0123), 1, 2, true), "{figures:?}");
    assert_eq!(elexirion::store::report::cost_text(figures), "$0.0123 (partial)");
    assert!(elexirion::store::report::text(&report).contains("$0.0123 (partial)"));
    assert!(elexirion::store::report::html::page(&report).contains("$0.0123 (partial)"));
    drop(store);
    let json: Value = serde_json::from_str(&report_command(&path, &["--json"])).unwrap();
    let figures = &json["steps"][0]["modes"][0]["figures"];
    assert_eq!((figures["cost_usd"].clone(), figures["cost_known_runs"].clone(), figures["cost_partial"].clone()), (json!(0.0123), json!(1), json!(true)), "{figures:#}");
}

/// A cost of Inf (a price of 1e308) was stored, and `--json` then said
/// `cost_usd: null, cost_unknown_runs: 0`. A cost that is not a finite
/// number of dollars is unknown, on the way in and when read.
#[test]
fn a_cost_that_is_not_a_finite_number_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let mut store = Store::open(&path).unwrap().store;
    let written = store.manual_version(PIPELINE, STEP, "Rewrite {{inputs.code}}", &[]).unwrap();
    run_of(&mut store, "a", written, Some((5, 7)), Some(f64::INFINITY));
    run_of(&mut store, "b", written, Some((5, 7)), Some(f64::NAN));
    drop(store);
    // And a store an earlier build wrote Inf into.
    rusqlite::Connection::open(&path).unwrap().execute("UPDATE runs SET cost_usd = 9e999 WHERE invocation = 'b'", []).unwrap();
    let json: Value = serde_json::from_str(&report_command(&path, &["--json"])).unwrap();
    let figures = &json["steps"][0]["versions"][0]["figures"];
    assert_eq!((figures["cost_usd"].clone(), figures["cost_unknown_runs"].clone()), (Value::Null, json!(2)), "{figures:#}");
    assert!(report_command(&path, &[]).contains("unknown"));
}

/// A server claiming 9223372036854775807 tokens twice overflowed the
/// version's totals into REAL; `store report` and `store versions` then
/// failed on `Invalid column type Real`. Such a store is repaired on
/// opening, and reading survives a REAL in a count.
#[test]
fn a_store_with_overflowed_token_totals_is_repaired_and_still_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let mut store = Store::open(&path).unwrap().store;
    let written = store.manual_version(PIPELINE, STEP, "Rewrite {{inputs.code}}", &[]).unwrap();
    run_of(&mut store, "sane", written, Some((5, 7)), Some(0.00002));
    run_of(&mut store, "huge-1", written, Some((5, 7)), Some(1.0));
    run_of(&mut store, "huge-2", written, Some((5, 7)), Some(1.0));
    drop(store);
    // What the broken responses left, in a store of the previous schema.
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection
        .execute_batch(
            "UPDATE runs SET input_tokens = 9223372036854775807 WHERE invocation LIKE 'huge-%';
             UPDATE prompt_versions SET input_tokens = 5 + 9223372036854775807 + 9223372036854775807;
             PRAGMA user_version = 4;",
        )
        .unwrap();
    let kind: String = connection.query_row("SELECT typeof(input_tokens) FROM prompt_versions", [], |row| row.get(0)).unwrap();
    assert_eq!(kind, "real", "the damage is reproduced");
    drop(connection);

    let store = Store::open(&path).unwrap().store;
    let version = store.version(written).unwrap().unwrap();
    assert_eq!((version.record.input_tokens, version.record.output_tokens), (5, 7), "summed again from the believable runs");
    let report = store.report(PIPELINE).unwrap();
    let figures = &report.steps[0].versions[0].figures;
    assert_eq!((figures.cost_usd, figures.cost_known_runs, figures.cost_unknown_runs), (Some(0.00002), 1, 2), "{figures:?}");
    assert_eq!(report.steps[0].modes[0].figures.input_tokens, 5);
    drop(store);

    // Reading alone survives what the repair did not see.
    rusqlite::Connection::open(&path).unwrap().execute("UPDATE prompt_versions SET input_tokens = 1.8e19, output_tokens = -3", []).unwrap();
    let store = Store::open(&path).unwrap().store;
    let version = store.version(written).unwrap().unwrap();
    assert_eq!(version.record.output_tokens, 0);
    assert!(version.record.input_tokens > 1_000_000_000);
    assert!(store.report(PIPELINE).is_ok());
    assert_eq!(store.candidates(PIPELINE, STEP).unwrap().len(), 1);
}

/// A repair request made a third model call the run's stored cost left out.
#[test]
fn a_call_added_to_a_run_adds_its_tokens_and_cost() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("store.db")).unwrap().store;
    let written = store.manual_version(PIPELINE, STEP, "Rewrite {{inputs.code}}", &[]).unwrap();
    run_of(&mut store, "run", written, Some((5, 7)), Some(0.5));
    store.add_call_to_run("run", STEP, Some((10, 20)), Some(0.25)).unwrap();
    let report = store.report(PIPELINE).unwrap();
    let figures = &report.steps[0].versions[0].figures;
    assert_eq!((figures.input_tokens, figures.output_tokens, figures.cost_usd), (15, 27, Some(0.75)), "{figures:?}");
    assert_eq!((report.steps[0].modes[0].figures.input_tokens, report.steps[0].modes[0].figures.cost_usd), (15, Some(0.75)));
    // A repair whose cost is unknown makes the run's cost unknown.
    store.add_call_to_run("run", STEP, None, None).unwrap();
    let figures = &store.report(PIPELINE).unwrap().steps[0].versions[0].figures;
    assert_eq!((figures.cost_usd, figures.cost_unknown_runs), (None, 1), "{figures:?}");
    store.add_call_to_run("no-such-run", STEP, Some((1, 1)), Some(1.0)).unwrap();
}

/// `store report --html lib/app/worker.ex` overwrote the source file.
#[test]
fn the_html_report_is_written_only_to_an_html_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let mut store = Store::open(&path).unwrap().store;
    let written = store.manual_version(PIPELINE, STEP, "Rewrite {{inputs.code}}", &[]).unwrap();
    run_of(&mut store, "a", written, Some((5, 7)), Some(0.001));
    drop(store);
    let source = dir.path().join("worker.ex");
    std::fs::write(&source, "defmodule App.Worker do\nend\n").unwrap();
    let output = Command::new(support::binary()).args(["store", "report", "--pipeline", PIPELINE, "--html"]).arg(&source).arg("--store").arg(&path).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("the report is written only to a file ending in .html or .htm"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&source).unwrap(), "defmodule App.Worker do\nend\n", "the source file is untouched");

    let page = dir.path().join("Report.HTM");
    report_command(&path, &["--html", page.to_str().unwrap()]);
    assert!(std::fs::read_to_string(&page).unwrap().starts_with("<!DOCTYPE html>"));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).filter(|n| n.to_string_lossy().starts_with(".tmp")).collect();
    assert!(leftovers.is_empty(), "no temporary file left: {leftovers:?}");
}

/// `store report` where there is no store created `.elexirion/store.db`.
#[test]
fn a_report_where_there_is_no_store_says_so_and_creates_none() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(support::binary()).args(["store", "report", "--pipeline", PIPELINE]).current_dir(dir.path()).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("there is no optimization store at"), "{stderr}");
    assert!(!dir.path().join(".elexirion").exists(), "nothing created");
}
