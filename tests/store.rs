//! The optimization store on real files in temporary directories.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use elexirion::store::examples::{Outcome, RunRecord, Verdict};
use elexirion::store::learn::{self, Learned};
use elexirion::store::select::{self, Mode};
use elexirion::store::{dspy, Field, OpenError, Store};
use serde_json::json;

/// A program saved by DSPy's `Module.save` (tests/fixtures/dspy/README.md).
fn saved_program(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/dspy").join(name)
}

fn field(name: &str, prefix: &str, description: &str, output: bool) -> Field {
    Field { name: name.into(), prefix: prefix.into(), description: description.into(), output }
}

#[test]
fn both_saved_dspy_programs_import_as_the_expected_versions() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("store.db")).unwrap().store;

    let bare = dspy::parse(&std::fs::read_to_string(saved_program("predict_unoptimized.json")).unwrap()).unwrap();
    let cot = dspy::parse(&std::fs::read_to_string(saved_program("chain_of_thought_bootstrap.json")).unwrap()).unwrap();
    let steps = ["rewrite".to_string(), "suggest".to_string()];
    store.add_versions(&dspy::versions(bare, "fix", &[("self".into(), "rewrite".into())], &steps).unwrap().versions).unwrap();
    store.add_versions(&dspy::versions(cot, "fix", &[("gen.predict".into(), "suggest".into())], &steps).unwrap().versions).unwrap();

    let rewrite = store.versions("fix", Some("rewrite")).unwrap();
    assert_eq!(rewrite.len(), 1);
    let v = &rewrite[0].version;
    assert_eq!((v.source.as_str(), v.instructions.as_str()), ("dspy", "Write one ExUnit test for the given Elixir function."));
    assert_eq!(v.fields, [field("function", "Function:", "an Elixir function", false), field("test", "Test:", "an ExUnit test", true)]);
    assert!(v.demos.is_empty());

    let suggest = store.versions("fix", Some("suggest")).unwrap();
    let v = &suggest[0].version;
    assert_eq!(
        v.fields,
        [field("function", "Function:", "an Elixir function", false), field("reasoning", "Reasoning:", "${reasoning}", true), field("test", "Test:", "an ExUnit test", true)]
    );
    assert_eq!(serde_json::Value::Array(v.demos.iter().cloned().map(serde_json::Value::Object).collect()), json!([
        { "augmented": true, "function": "def double(x), do: x * 2", "reasoning": "it doubles", "test": "assert double(2) == 4" },
        { "function": "def empty?(l), do: l == []", "test": "assert empty?([])" },
    ]));
    assert_eq!(store.versions("fix", None).unwrap().len(), 2);
    assert!(dspy::parse("{\"metadata\": {}}").unwrap_err().contains("no predictor"));
    assert!(dspy::parse("[1, 2]").is_err());
}

#[test]
fn a_new_store_is_migrated_and_keeps_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/store.db");
    {
        let mut store = Store::open(&path).unwrap().store;
        assert_eq!(store.schema_version().unwrap(), elexirion::store::SCHEMA_VERSION);
        let program = std::fs::read_to_string(saved_program("chain_of_thought_bootstrap.json")).unwrap();
        store.add_versions(&dspy::versions(dspy::parse(&program).unwrap(), "fix", &[], &["gen".to_string()]).unwrap().versions).unwrap();
    }
    let reopened = Store::open(&path).unwrap();
    assert!(reopened.warning.is_none());
    assert_eq!(reopened.store.versions("fix", Some("gen")).unwrap().len(), 1);
    assert_eq!(reopened.store.latest("fix", "gen").unwrap(), Some(1));
}

/// The files set aside in `dir` (a database and its `-wal`/`-shm`), by name.
fn set_aside(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).filter(|p| p.to_string_lossy().contains(".corrupt-")).collect();
    files.sort();
    files
}

/// SQLite's own verdict on a database file: "ok" when it is healthy.
fn integrity(path: &Path) -> String {
    let check = || -> rusqlite::Result<String> { rusqlite::Connection::open(path)?.query_row("PRAGMA integrity_check", [], |row| row.get(0)) };
    check().unwrap_or_else(|e| e.to_string())
}

const HELD: &str = "INSERT INTO prompt_versions (pipeline, step, instructions, fields, demos, source) VALUES ('fix', 'held', 'Held.', '[]', '[]', 'dspy')";

/// Another process's connection, inside a write transaction that has
/// added one version and not committed yet.
fn writer_holding(path: &Path, begin: &str) -> rusqlite::Connection {
    let other = rusqlite::Connection::open(path).unwrap();
    other.execute_batch(&format!("{begin}; {HELD};")).unwrap();
    other
}

/// The store as the first release wrote it: schema version 1, one version.
fn version_1_store(path: &Path) {
    let connection = rusqlite::Connection::open(path).unwrap();
    connection
        .execute_batch(
            "CREATE TABLE prompt_versions (id INTEGER PRIMARY KEY, pipeline TEXT NOT NULL, step TEXT NOT NULL, instructions TEXT NOT NULL,
                fields TEXT NOT NULL, demos TEXT NOT NULL, source TEXT NOT NULL CHECK (source IN ('manual', 'dspy', 'learned')),
                created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), parent INTEGER REFERENCES prompt_versions(id), notes TEXT);
             CREATE INDEX prompt_versions_by_step ON prompt_versions (pipeline, step);
             INSERT INTO prompt_versions (pipeline, step, instructions, fields, demos, source) VALUES ('fix', 'rewrite', 'Old.', '[]', '[]', 'dspy');
             PRAGMA user_version = 1;",
        )
        .unwrap();
}

#[test]
fn a_store_another_process_is_writing_opens_at_once_and_keeps_its_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    drop(Store::open(&path).unwrap());
    let other = writer_holding(&path, "BEGIN IMMEDIATE");
    let started = std::time::Instant::now();
    let opened = Store::open(&path).unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "a current store needs no write lock to open ({:?})", started.elapsed());
    assert!(opened.warning.is_none(), "{:?}", opened.warning);
    other.execute_batch("COMMIT").unwrap();
    assert_eq!(opened.store.versions("fix", Some("held")).unwrap().len(), 1, "the other writer's commit is in the store");
    assert!(set_aside(dir.path()).is_empty());
    assert_eq!(integrity(&path), "ok");
}

/// Open while `other` holds the store: busy, nothing moved; then, once
/// it commits, its version is in the store.
fn busy_then_kept(path: &Path, other: rusqlite::Connection) -> Store {
    let started = std::time::Instant::now();
    let problem = Store::open_waiting(path, std::time::Duration::from_millis(300)).unwrap_err();
    assert!(matches!(problem, OpenError::Busy(_)), "{problem}");
    assert_eq!(problem.to_string(), format!("the store {} is busy (locked by another process)", path.display()));
    assert!(started.elapsed() >= std::time::Duration::from_millis(300), "it waited for the lock");
    assert!(set_aside(path.parent().unwrap()).is_empty(), "a busy store is not moved");
    other.execute_batch("COMMIT").unwrap();
    drop(other);
    let opened = Store::open(path).unwrap();
    assert!(opened.warning.is_none(), "{:?}", opened.warning);
    assert_eq!(opened.store.versions("fix", Some("held")).unwrap().len(), 1, "the other writer's commit is in the store");
    assert_eq!(integrity(path), "ok");
    opened.store
}

#[test]
fn a_store_that_must_migrate_while_another_process_writes_is_busy_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    version_1_store(&path);
    rusqlite::Connection::open(&path).unwrap().pragma_update(None, "journal_mode", "WAL").unwrap();
    let store = busy_then_kept(&path, writer_holding(&path, "BEGIN IMMEDIATE"));
    assert_eq!(store.schema_version().unwrap(), elexirion::store::SCHEMA_VERSION);
    assert_eq!(store.versions("fix", Some("rewrite")).unwrap()[0].version.instructions, "Old.");
}

#[test]
fn a_store_locked_against_readers_is_busy_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    drop(Store::open(&path).unwrap());
    // Out of WAL mode, an exclusive transaction keeps readers out too.
    rusqlite::Connection::open(&path).unwrap().pragma_update(None, "journal_mode", "DELETE").unwrap();
    busy_then_kept(&path, writer_holding(&path, "BEGIN EXCLUSIVE"));
}

#[test]
fn a_pipeline_run_goes_on_without_a_busy_store_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".elexirion/store.db");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    drop(Store::open(&path).unwrap());
    rusqlite::Connection::open(&path).unwrap().pragma_update(None, "journal_mode", "DELETE").unwrap();
    let other = writer_holding(&path, "BEGIN EXCLUSIVE");
    std::fs::write(dir.path().join("p.yaml"), "workflow:\n  name: p\n  steps:\n    - name: say\n      type: set_variable\n      variables:\n        said: hello\n").unwrap();
    // Waits the full default busy wait (10 s) before giving up on the store.
    let output = Command::new(support::binary()).args(["pipeline", "run", "p.yaml", "--json"]).current_dir(dir.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("is busy (locked by another process); this run is not recorded"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["steps"]["say"]["json"], json!({ "said": "hello" }));
    assert!(set_aside(path.parent().unwrap()).is_empty());
    other.execute_batch("COMMIT").unwrap();
    assert_eq!(integrity(&path), "ok");
}

#[test]
fn a_file_that_is_not_a_database_is_moved_aside_and_a_new_store_started() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let garbage = b"this is not an SQLite database, just garbage bytes ............";
    std::fs::write(&path, garbage).unwrap();
    let opened = Store::open(&path).unwrap();
    let aside = set_aside(dir.path());
    assert_eq!(aside.len(), 1, "{aside:?}");
    let warning = opened.warning.unwrap();
    assert!(warning.contains(&aside[0].display().to_string()), "the warning names where it went: {warning}");
    assert_eq!(std::fs::read(&aside[0]).unwrap(), garbage);
    assert_eq!(opened.store.schema_version().unwrap(), elexirion::store::SCHEMA_VERSION);
    assert_eq!(integrity(&path), "ok");
}

#[test]
fn a_set_aside_never_overwrites_an_earlier_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    // Set-asides made this second and the next few: a name taken from the
    // clock alone lands on one of them.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let mut expected: Vec<String> = (now..now + 5).map(|second| format!("an earlier set-aside made at {second}")).collect();
    for (second, text) in (now..).zip(&expected) {
        std::fs::write(format!("{}.corrupt-{second}", path.display()), text).unwrap();
    }
    for garbage in ["first garbage, not a database ..........................", "second garbage, not a database either ..................."] {
        std::fs::write(&path, garbage).unwrap();
        assert!(Store::open(&path).unwrap().warning.is_some());
        expected.push(garbage.to_string());
    }
    let mut kept: Vec<String> = set_aside(dir.path()).iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
    kept.sort();
    expected.sort();
    assert_eq!(kept, expected);
    assert_eq!(integrity(&path), "ok");
}

/// A store of 200 versions, closed, so that all of it is in the one file.
fn written_store(path: &Path) -> Vec<u8> {
    let program = std::fs::read_to_string(saved_program("chain_of_thought_bootstrap.json")).unwrap();
    let mut store = Store::open(path).unwrap().store;
    for _ in 0..200 {
        store.add_versions(&dspy::versions(dspy::parse(&program).unwrap(), "fix", &[], &["gen".to_string()]).unwrap().versions).unwrap();
    }
    drop(store);
    assert!(!Path::new(&format!("{}-wal", path.display())).exists(), "closing checkpointed the WAL");
    std::fs::read(path).unwrap()
}

#[test]
fn a_real_store_sqlite_finds_damaged_is_moved_aside_and_replaced() {
    let cut_in_half = |bytes: &mut Vec<u8>| bytes.truncate(bytes.len() / 2);
    let pages_overwritten = |bytes: &mut Vec<u8>| {
        let middle = bytes.len() / 2;
        bytes[middle - 8192..middle + 8192].iter_mut().enumerate().for_each(|(i, b)| *b = (i * 7) as u8);
    };
    for (damage, how) in [("cut in half", &cut_in_half as &dyn Fn(&mut Vec<u8>)), ("pages overwritten in the middle", &pages_overwritten)] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let mut bytes = written_store(&path);
        how(&mut bytes);
        std::fs::write(&path, &bytes).unwrap();
        assert_ne!(integrity(&path), "ok", "{damage}: SQLite itself finds the file damaged");
        let opened = Store::open(&path).unwrap();
        assert!(opened.warning.is_some(), "{damage}: a damaged store is reported");
        assert!(opened.store.versions("fix", None).unwrap().is_empty(), "{damage}");
        let aside = set_aside(dir.path());
        assert_eq!(std::fs::read(&aside[0]).unwrap(), bytes, "{damage}: the damaged bytes are kept");
        assert_eq!(integrity(&path), "ok", "{damage}");
    }
}

#[test]
fn a_path_that_cannot_be_opened_is_an_error_and_nothing_is_moved() {
    let dir = tempfile::tempdir().unwrap();
    // A folder where the store should be.
    let folder = dir.path().join("store.db");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("notes.txt"), "mine").unwrap();
    assert!(Store::open(&folder).is_err());
    assert_eq!(std::fs::read_to_string(folder.join("notes.txt")).unwrap(), "mine");
    // A file where its folder should be.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "mine").unwrap();
    assert!(Store::open(&file.join("store.db")).is_err());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    // Another program's healthy database that the migrations do not fit.
    let foreign = dir.path().join("foreign.db");
    rusqlite::Connection::open(&foreign).unwrap().execute_batch("CREATE TABLE prompt_versions (mine TEXT); INSERT INTO prompt_versions VALUES ('kept');").unwrap();
    let problem = Store::open(&foreign).unwrap_err().to_string();
    assert!(problem.contains("already exists"), "{problem}");
    assert_eq!(integrity(&foreign), "ok");
    let kept: String = rusqlite::Connection::open(&foreign).unwrap().query_row("SELECT mine FROM prompt_versions", [], |row| row.get(0)).unwrap();
    assert_eq!(kept, "kept");
    assert!(set_aside(dir.path()).is_empty());
}

/// Import the saved program into pipeline `fix`, whose file (with its
/// step `gen`, see [`fix_pipeline_beside`]) is in the store's workspace:
/// an import names real steps.
fn import(store: &Path) -> std::process::Output {
    import_command(store).output().unwrap()
}

/// Pipeline `fix` with its step `gen`, in the workspace of a store.
fn fix_pipeline_beside(store: &Path) {
    let workspace = store.parent().unwrap();
    std::fs::create_dir_all(workspace.join("pipelines")).unwrap();
    let pipeline = "workflow:\n  name: fix\n  steps:\n    - name: gen\n      type: claude\n      prompt:\n        - type: static\n          content: \"Write a test for {{inputs.function}}\"\n";
    std::fs::write(workspace.join("pipelines/fix.yaml"), pipeline).unwrap();
}

fn import_command(store: &Path) -> Command {
    let workspace = store.parent().unwrap();
    let mut command = Command::new(support::binary());
    command.args(["store", "import-dspy", saved_program("chain_of_thought_bootstrap.json").to_str().unwrap(), "--pipeline", "fix", "--store"]).arg(store).current_dir(workspace);
    command
}

#[test]
fn two_processes_writing_at_once_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    Store::open(&path).unwrap();
    fix_pipeline_beside(&path);
    let writers: Vec<_> = (0..2)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || (0..10).map(|_| import(&path)).filter(|o| o.status.success()).count())
        })
        .collect();
    let succeeded: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(succeeded, 20);
    assert_eq!(Store::open(&path).unwrap().store.versions("fix", None).unwrap().len(), 20);
}

#[test]
fn a_writer_killed_mid_way_loses_no_committed_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    fix_pipeline_beside(&path);
    let mut committed = 0;
    for round in 0..12 {
        let mut child = import_command(&path).stdout(std::process::Stdio::piped()).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(round));
        let _ = child.kill();
        let output = child.wait_with_output().unwrap();
        committed += String::from_utf8_lossy(&output.stdout).matches("imported").count();
    }
    let opened = Store::open(&path).unwrap();
    assert!(opened.warning.is_none(), "the store survived: {:?}", opened.warning);
    let stored = opened.store.versions("fix", None).unwrap().len();
    assert!(stored >= committed, "{stored} stored, {committed} reported committed");
}

#[test]
fn the_command_line_lists_what_it_imported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    fix_pipeline_beside(&path);
    let output = import(&path);
    assert_eq!(String::from_utf8_lossy(&output.stdout), "imported fix / gen as version 1 (2 demos)\n");
    let listing = Command::new(support::binary()).args(["store", "versions", "--pipeline", "fix", "--json", "--store"]).arg(&path).output().unwrap();
    let versions: serde_json::Value = serde_json::from_slice(&listing.stdout).unwrap();
    assert_eq!(versions[0]["step"], "gen");
    assert_eq!(versions[0]["fields"][1]["name"], "reasoning");
}

fn run_of(version: i64, invocation: &str, code: &str, output: &str) -> RunRecord {
    let mut inputs = serde_json::Map::new();
    inputs.insert("code".into(), json!(code));
    RunRecord {
        invocation: invocation.into(),
        pipeline: "fix".into(),
        step: "rewrite".into(),
        version,
        provider: Some("anthropic".into()),
        model: Some("claude-x".into()),
        latency_ms: 100.0,
        input_tokens: Some(10),
        output_tokens: Some(5),
        outcome: Outcome::Answered,
        example: Some((inputs, output.into())),
    }
}

fn manual(store: &mut Store) -> i64 {
    store.manual_version("fix", "rewrite", "Rewrite this module:\n{{editor.code}}", &elexirion::pipeline::run::prompt_fields("Rewrite this module:\n{{editor.code}}")).unwrap()
}

#[test]
fn a_version_1_store_is_migrated_without_losing_its_versions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    version_1_store(&path);
    let mut store = Store::open(&path).unwrap().store;
    assert_eq!(store.schema_version().unwrap(), elexirion::store::SCHEMA_VERSION);
    let old = &store.versions("fix", None).unwrap()[0];
    assert_eq!((old.version.instructions.as_str(), old.record.runs), ("Old.", 0));
    store.record_run(&run_of(old.id, "a", "x", "y")).unwrap();
    assert_eq!(store.version(old.id).unwrap().unwrap().record.runs, 1);
}

#[test]
fn runs_and_verdicts_keep_each_versions_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("store.db")).unwrap().store;
    let id = manual(&mut store);
    assert_eq!(manual(&mut store), id, "an unchanged template is the same version");
    store.record_run(&run_of(id, "one", "defmodule A", "fixed A")).unwrap();
    // A call that failed, then the one whose answer was the run's result
    // (a run whose last call failed has no result to judge).
    let mut failed = run_of(id, "two", "", "");
    failed.outcome = Outcome::Failed("timeout".into());
    (failed.example, failed.input_tokens, failed.output_tokens) = (None, None, None);
    store.record_run(&failed).unwrap();
    store.record_run(&run_of(id, "two", "defmodule B", "fixed B")).unwrap();

    assert_eq!(store.set_verdict("one", Verdict::Accepted, None).unwrap(), 1);
    assert_eq!(store.set_verdict("two", Verdict::Edited, Some("fixed B by hand")).unwrap(), 1);
    let record = store.version(id).unwrap().unwrap().record;
    assert_eq!((record.runs, record.errors, record.accepted, record.edited, record.rejected), (3, 1, 1, 1, 0));
    assert_eq!(record.mean_latency_ms, 100.0, "failed runs do not count toward latency");
    assert_eq!((record.input_tokens, record.output_tokens), (20, 10));

    // Undone later: the accepted one becomes rejected, counts move.
    store.set_verdict("one", Verdict::Rejected, None).unwrap();
    let record = store.version(id).unwrap().unwrap().record;
    assert_eq!((record.accepted, record.edited, record.rejected), (0, 1, 1));

    let examples = store.examples("fix", "rewrite", true).unwrap();
    assert_eq!(examples.len(), 2);
    assert_eq!(examples[1].best_output(), "fixed B by hand");
    let jsonl = elexirion::store::examples::to_jsonl(&examples, "response");
    let rows: Vec<serde_json::Value> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows, [
        json!({ "code": "defmodule A", "response": "fixed A", "verdict": "rejected" }),
        json!({ "code": "defmodule B", "response": "fixed B by hand", "verdict": "edited" }),
    ]);
    assert_eq!(store.last_invocation("fix").unwrap().as_deref(), Some("two"));

    // A changed template is a new manual version, child of the old one.
    let changed = store.manual_version("fix", "rewrite", "Fix:\n{{editor.code}}", &[]).unwrap();
    assert_ne!(changed, id);
    assert_eq!(store.version(changed).unwrap().unwrap().version.parent, Some(id));
}

#[test]
fn learning_takes_short_and_different_accepted_examples_as_demos() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("store.db")).unwrap().store;
    let id = manual(&mut store);
    let cases = [
        ("a", "def handle_call(:get, _from, state), do: {:reply, state, state}", "short and accepted", Verdict::Accepted),
        ("b", "def handle_call(:get, _from, state), do: {:reply, state, state} # again", "nearly the same and accepted", Verdict::Accepted),
        ("c", "def init(_), do: {:ok, Process.sleep(1000)}", "a different one, accepted", Verdict::Edited),
        ("d", &"x = 1\n".repeat(200), "a very long one, accepted", Verdict::Accepted),
        ("e", "def terminate(_, _), do: :ok", "rejected", Verdict::Rejected),
    ];
    for (invocation, code, output, verdict) in &cases {
        store.record_run(&run_of(id, invocation, code, output)).unwrap();
        store.set_verdict(invocation, *verdict, None).unwrap();
    }
    let learned = learn::learn_step(&mut store, "fix", "rewrite", 2).unwrap();
    let Learned::New { id: learned_id, demos: 2, from: 4 } = learned else { panic!("{learned:?}") };
    let version = store.version(learned_id).unwrap().unwrap().version;
    assert_eq!((version.source.as_str(), version.parent), ("learned", Some(id)));
    assert_eq!(version.instructions, "Rewrite this module:\n`code`");
    let outputs: Vec<&str> = version.demos.iter().map(|d| d["response"].as_str().unwrap()).collect();
    // The shortest first, then one of the two near-duplicates (never both),
    // never the long one or the rejected one.
    assert_eq!(outputs[0], "a different one, accepted");
    assert!(["short and accepted", "nearly the same and accepted"].contains(&outputs[1]), "{outputs:?}");
    assert_eq!(learn::learn_step(&mut store, "fix", "rewrite", 2).unwrap(), Learned::Unchanged { id: learned_id });
}

/// Two versions with true acceptance rates 0.3 and 0.7; the bandit sees
/// each verdict and should end up serving the better one most of the time.
#[test]
fn hybrid_selection_converges_on_the_better_version() {
    use rand::{Rng, SeedableRng};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("store.db")).unwrap().store;
    let worse = manual(&mut store);
    let mut better = store.versions("fix", Some("rewrite")).unwrap()[0].version.clone();
    better.source = "learned".into();
    let better = store.add_versions(&[better]).unwrap()[0];
    let rate = |id: i64| if id == better { 0.7 } else { 0.3 };
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut last_hundred_better = 0;
    for round in 0..500 {
        let versions = store.versions("fix", Some("rewrite")).unwrap();
        let chosen = select::choose(Mode::Hybrid, &versions, &mut rng).unwrap().id;
        let invocation = format!("r{round}");
        store.record_run(&run_of(chosen, &invocation, "code", "out")).unwrap();
        let verdict = if rng.random::<f64>() < rate(chosen) { Verdict::Accepted } else { Verdict::Rejected };
        store.set_verdict(&invocation, verdict, None).unwrap();
        if round >= 400 && chosen == better {
            last_hundred_better += 1;
        }
    }
    let worse_runs = store.version(worse).unwrap().unwrap().record.runs;
    assert!(last_hundred_better >= 85, "the better version served {last_hundred_better} of the last 100");
    assert!(worse_runs >= 5, "the worse version was still tried ({worse_runs} runs)");
    let versions = store.versions("fix", Some("rewrite")).unwrap();
    assert_eq!(select::best(&versions).unwrap().id, better);
    assert_eq!(select::choose(Mode::Traditional, &versions, &mut rng).unwrap().id, worse, "traditional serves the pipeline's own prompt");
}

#[test]
fn chat_adapter_renders_partial_demos_and_reads_the_last_output_field() {
    use elexirion::pipeline::run::chat_adapter;
    let program = std::fs::read_to_string(saved_program("chain_of_thought_bootstrap.json")).unwrap();
    let version = dspy::versions(dspy::parse(&program).unwrap(), "fix", &[], &["gen".to_string()]).unwrap().versions.remove(0);
    let mut inputs = serde_json::Map::new();
    inputs.insert("function".into(), json!("def id(x), do: x"));
    let rendered = chat_adapter::render(&version, &inputs).unwrap();
    assert!(rendered.system.starts_with("Your input fields are:\n1. `function` (str): an Elixir function\nYour output fields are:\n1. `reasoning` (str)\n2. `test` (str): an ExUnit test\n"), "{}", rendered.system);
    assert!(rendered.system.contains("[[ ## reasoning ## ]]\n{reasoning}\n\n[[ ## test ## ]]\n{test}\n\n[[ ## completed ## ]]"));
    assert_eq!(rendered.turns.len(), 2);
    assert_eq!(rendered.turns[0].assistant, "[[ ## reasoning ## ]]\nit doubles\n\n[[ ## test ## ]]\nassert double(2) == 4\n\n[[ ## completed ## ]]");
    // The raw demo has no reasoning: labelled as DSPy labels an incomplete one.
    assert!(rendered.turns[1].user.starts_with("This is an example of the task, though some input or output fields are not supplied."));
    assert!(rendered.prompt.ends_with("starting with the field `[[ ## reasoning ## ]]`, then `[[ ## test ## ]]`, and then ending with the marker for `[[ ## completed ## ]]`."));

    let answer = "[[ ## reasoning ## ]]\nshort\n\n[[ ## test ## ]]\nassert id(1) == 1\n\n[[ ## completed ## ]]";
    assert_eq!(chat_adapter::parse(&version, answer), "assert id(1) == 1");
    assert_eq!(chat_adapter::parse(&version, "  plain answer  "), "plain answer", "a model that ignores the markers");
    assert!(chat_adapter::render(&version, &serde_json::Map::new()).unwrap_err().contains("`function`"));
}

#[test]
fn the_mode_comes_from_the_request_else_the_pipeline() {
    use elexirion::pipeline::run::declared_mode;
    let steps = "  steps:\n    - name: a\n      type: claude\n      prompt: []\n";
    let hybrid = format!("workflow:\n  name: p\n  hybrid_config:\n    mode: hybrid\n{steps}");
    let optimized = format!("workflow:\n  name: p\n  dspy_config:\n    optimization_enabled: true\n{steps}");
    let plain = format!("workflow:\n  name: p\n{steps}");
    assert_eq!(declared_mode(&hybrid, None), Mode::Hybrid);
    assert_eq!(declared_mode(&optimized, None), Mode::Optimized);
    assert_eq!(declared_mode(&plain, None), Mode::Traditional);
    assert_eq!(declared_mode(&hybrid, Some(Mode::Traditional)), Mode::Traditional, "settings and --mode win");
    let findings = elexirion::pipeline::validate::validate(&hybrid, &Default::default());
    assert!(findings.iter().all(|f| !f.message.contains("unknown key")), "{findings:?}");
}

#[test]
fn processes_opening_one_damaged_store_at_once_set_it_aside_once() {
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        std::fs::write(&path, vec![0x5a; 5_000]).unwrap();
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
        let openers: Vec<_> = (0..6)
            .map(|_| {
                let (path, barrier) = (path.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    elexirion::store::Store::open(&path).map(|opened| opened.store.schema_version().unwrap())
                })
            })
            .collect();
        for opener in openers {
            assert_eq!(opener.join().unwrap().map_err(|e| e.to_string()), Ok(elexirion::store::SCHEMA_VERSION));
        }
        let aside: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains(".corrupt-") && !name.ends_with("-wal") && !name.ends_with("-shm"))
            .collect();
        assert_eq!(aside.len(), 1, "only the damaged file is set aside: {aside:?}");
        assert_eq!(std::fs::read(dir.path().join(&aside[0])).unwrap(), vec![0x5a; 5_000]);
    }
}
