//! The optimization store on real files in temporary directories.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use elexirion::store::{dspy, Field, Store};
use serde_json::json;

fn corpus(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/dspy").join(name)
}

fn field(name: &str, prefix: &str, description: &str, output: bool) -> Field {
    Field { name: name.into(), prefix: prefix.into(), description: description.into(), output }
}

#[test]
fn both_saved_dspy_programs_import_as_the_expected_versions() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("store.db")).unwrap().store;

    let bare = dspy::parse(&std::fs::read_to_string(corpus("predict_unoptimized.json")).unwrap()).unwrap();
    let cot = dspy::parse(&std::fs::read_to_string(corpus("chain_of_thought_bootstrap.json")).unwrap()).unwrap();
    store.add_versions(&dspy::versions(bare, "fix", &[("self".into(), "rewrite".into())])).unwrap();
    store.add_versions(&dspy::versions(cot, "fix", &[("gen.predict".into(), "suggest".into())])).unwrap();

    let rewrite = store.versions("fix", Some("rewrite")).unwrap();
    assert_eq!(rewrite.len(), 1);
    let v = &rewrite[0].version;
    assert_eq!((v.source.as_str(), v.instructions.as_str()), ("dspy", "Suggest a refactoring for the given Elixir function."));
    assert_eq!(v.fields, [field("code", "Code:", "Elixir source", false), field("suggestion", "Suggestion:", "refactoring advice", true)]);
    assert!(v.demos.is_empty());

    let suggest = store.versions("fix", Some("suggest")).unwrap();
    let v = &suggest[0].version;
    assert_eq!(
        v.fields,
        [field("code", "Code:", "Elixir source", false), field("reasoning", "Reasoning:", "${reasoning}", true), field("suggestion", "Suggestion:", "refactoring advice", true)]
    );
    assert_eq!(serde_json::Value::Array(v.demos.iter().cloned().map(serde_json::Value::Object).collect()), json!([
        { "augmented": true, "code": "def f(x), do: g(h(x))", "reasoning": "pipe is clearer", "suggestion": "use |> pipeline" },
        { "code": "def a(l), do: Enum.map(l, fn x -> x*2 end)", "suggestion": "use capture &(&1*2)" },
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
        assert_eq!(store.schema_version().unwrap(), 1);
        let program = std::fs::read_to_string(corpus("chain_of_thought_bootstrap.json")).unwrap();
        store.add_versions(&dspy::versions(dspy::parse(&program).unwrap(), "fix", &[])).unwrap();
    }
    let reopened = Store::open(&path).unwrap();
    assert!(reopened.warning.is_none());
    assert_eq!(reopened.store.versions("fix", Some("gen")).unwrap().len(), 1);
    assert_eq!(reopened.store.latest("fix", "gen").unwrap(), Some(1));
}

fn moved_aside(dir: &Path) -> usize {
    std::fs::read_dir(dir).unwrap().flatten().filter(|e| e.file_name().to_string_lossy().contains(".corrupt-")).count()
}

#[test]
fn garbage_and_truncated_stores_are_moved_aside_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    std::fs::write(&path, b"this is not an SQLite database, just garbage bytes ............").unwrap();
    let opened = Store::open(&path).unwrap();
    assert!(opened.warning.as_deref().unwrap().contains("moved to"), "{:?}", opened.warning);
    assert_eq!(moved_aside(dir.path()), 1);
    assert_eq!(opened.store.schema_version().unwrap(), 1);
    drop(opened);

    // A real store cut in half.
    let program = std::fs::read_to_string(corpus("chain_of_thought_bootstrap.json")).unwrap();
    let other = dir.path().join("other.db");
    {
        let mut store = Store::open(&other).unwrap().store;
        for _ in 0..200 {
            store.add_versions(&dspy::versions(dspy::parse(&program).unwrap(), "fix", &[])).unwrap();
        }
    }
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", other.display()));
    }
    let bytes = std::fs::read(&other).unwrap();
    std::fs::write(&other, &bytes[..bytes.len() / 2]).unwrap();
    let opened = Store::open(&other).unwrap();
    assert!(opened.warning.is_some(), "a truncated store is reported");
    assert!(opened.store.versions("fix", None).unwrap().is_empty());
}

fn import(store: &Path) -> std::process::Output {
    Command::new(support::binary())
        .args(["store", "import-dspy", corpus("chain_of_thought_bootstrap.json").to_str().unwrap(), "--pipeline", "fix", "--store"])
        .arg(store)
        .output()
        .unwrap()
}

#[test]
fn two_processes_writing_at_once_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    Store::open(&path).unwrap();
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
    let mut committed = 0;
    for round in 0..12 {
        let mut child = Command::new(support::binary())
            .args(["store", "import-dspy", corpus("chain_of_thought_bootstrap.json").to_str().unwrap(), "--pipeline", "fix", "--store"])
            .arg(&path)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
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
    let output = import(&path);
    assert_eq!(String::from_utf8_lossy(&output.stdout), "imported fix / gen as version 1 (2 demos)\n");
    let listing = Command::new(support::binary()).args(["store", "versions", "--pipeline", "fix", "--json", "--store"]).arg(&path).output().unwrap();
    let versions: serde_json::Value = serde_json::from_slice(&listing.stdout).unwrap();
    assert_eq!(versions[0]["step"], "gen");
    assert_eq!(versions[0]["fields"][1]["name"], "reasoning");
}
