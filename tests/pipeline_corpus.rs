//! The pipeline_ex corpus in tests/fixtures/pipeline_ex (real files by
//! other people, vendored with their licence).

use std::path::PathBuf;

use elexirion::pipeline::yaml;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/pipeline_ex")
}

fn corpus() -> Vec<PathBuf> {
    let dir = corpus_dir();
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

/// Files pipeline_ex's `Pipeline.Config.load_workflow` rejects (as its README
/// explains: no `workflow:` root, a string `prompt:`, the test-only
/// `test_echo` type, a step without its prompt). Every other file is accepted.
const REJECTED: &[&str] = &[
    "blog_generator.yaml",
    "examples__claude_output_formats_test.yaml",
    "examples__context_management_example.yaml",
    "examples__data_transform_example.yaml",
    "examples__hooks_example.yaml",
    "examples__memory_compaction_example.yaml",
    "examples__meta__genesis_example.yaml",
    "examples__subagents_example.yaml",
    "generated_pipeline.yaml",
    "test__fixtures__pipelines__context_inherit_test.yaml",
    "test__fixtures__pipelines__nested_with_error.yaml",
    "test__fixtures__pipelines__output_extraction_test.yaml",
    "test__fixtures__pipelines__test_nested_basic.yaml",
];

#[test]
fn validation_agrees_with_pipeline_ex_on_every_corpus_file() {
    use elexirion::finding::Severity;
    use elexirion::pipeline::validate::{validate, ValidationContext};

    let workspace = corpus_dir();
    let context = ValidationContext { workspace: Some(&workspace) };
    let mut accepted = 0;
    for path in corpus() {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let source = std::fs::read_to_string(&path).unwrap();
        let findings = validate(&source, &context);
        let errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
        if REJECTED.contains(&name.as_str()) {
            assert!(errors > 0, "{name}: pipeline_ex rejects it, but no error was found");
        } else {
            assert_eq!(errors, 0, "{name}: pipeline_ex accepts it, but errors were found: {findings:#?}");
            accepted += 1;
        }
        // What each file gets, line by line, for review.
        let rendered: String = findings
            .iter()
            .map(|f| {
                let line = source[..f.range.start].matches('\n').count() + 1;
                let column = source[..f.range.start].rsplit('\n').next().unwrap().chars().count() + 1;
                format!("{line}:{column} {} {} {} `{}`\n", f.severity.as_str(), f.code, f.message, &source[f.range.clone()].lines().next().unwrap_or(""))
            })
            .collect();
        insta::assert_snapshot!(format!("corpus__{name}"), rendered);
    }
    assert_eq!(accepted, corpus().len() - REJECTED.len());
}

/// The exported JSON Schema is a valid draft 2020-12 schema, and it agrees
/// with our own validation: every corpus file we find nothing wrong with
/// satisfies it, and files with wrong types or missing keys do not.
#[test]
fn the_json_schema_agrees_with_validation() {
    use elexirion::pipeline::validate::{validate, ValidationContext};

    let schema = elexirion::pipeline::json_schema::json_schema();
    let validator = jsonschema::draft202012::new(&schema).expect("a valid JSON Schema");
    let mut clean = 0;
    for path in corpus() {
        let source = std::fs::read_to_string(&path).unwrap();
        if !validate(&source, &ValidationContext::default()).is_empty() {
            continue;
        }
        clean += 1;
        let instance = yaml::parse(&source).root.unwrap().to_json();
        let errors: Vec<String> = validator.iter_errors(&instance).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    }
    assert!(clean >= 15, "only {clean} clean corpus files");

    // The pipelines we ship: clean for us, and valid for the schema.
    let shipped = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../pipelines");
    let mut count = 0;
    for entry in std::fs::read_dir(&shipped).unwrap() {
        let path = entry.unwrap().path();
        let source = std::fs::read_to_string(&path).unwrap();
        let findings = validate(&source, &ValidationContext { workspace: Some(&shipped) });
        assert!(findings.is_empty(), "{}: {findings:#?}", path.display());
        let instance = yaml::parse(&source).root.unwrap().to_json();
        assert!(validator.is_valid(&instance), "{}", path.display());
        count += 1;
    }
    assert_eq!(count, 5);

    for bad in [
        "workflow:\n  steps:\n    - name: a\n      type: claude\n      prompt: []\n",
        "workflow:\n  name: x\n  steps:\n    - name: a\n      type: claude\n      prompt: \"text\"\n",
        "workflow:\n  name: x\n  steps:\n    - name: a\n      type: claude_smart\n      preset: fast\n      prompt: []\n",
        "workflow:\n  name: x\n  steps:\n    - name: a\n      type: parallel_claude\n",
        "workflow:\n  name: x\n  steps:\n    - name: a\n      type: typo\n",
    ] {
        let instance = yaml::parse(bad).root.unwrap().to_json();
        assert!(!validator.is_valid(&instance), "the schema accepts:\n{bad}");
        assert!(!validate(bad, &ValidationContext::default()).is_empty(), "validation accepts:\n{bad}");
    }
}
