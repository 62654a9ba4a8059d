//! The pipeline_ex corpus in ../shared/corpus (real files by other people).

use std::path::PathBuf;

use elexirion::pipeline::yaml;

fn corpus() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/pipelines/pipeline_ex");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 39, "corpus incomplete: {}", files.len());
    files
}

/// Our YAML reading agrees, value for value, with an independent parser.
#[test]
fn every_corpus_file_decodes_as_a_full_yaml_parser_decodes_it() {
    for path in corpus() {
        let source = std::fs::read_to_string(&path).unwrap();
        let document = yaml::parse(&source);
        assert!(document.errors.is_empty(), "{}: {:?}", path.display(), document.errors);
        let ours = document.root.unwrap().to_json();
        let theirs: serde_json::Value = serde_yaml_ng::from_str(&source).unwrap();
        assert_eq!(ours, theirs, "{}", path.display());
    }
}
