//! Pipeline files (pipeline_ex YAML): parsing, the schema, validation.

pub mod answer;
pub mod complete;
pub mod editor;
pub mod elixir_oracle;
pub mod hover;
pub mod json_schema;
pub mod navigate;
pub mod on_file;
pub mod optimized_prompt;
pub mod outcome;
pub mod outline;
pub mod providers;
pub mod run;
pub mod schema;
pub mod templates;
pub mod validate;
pub mod verify;
pub mod yaml;

/// Whether a file is a pipeline: YAML in a `pipelines/` directory or named
/// `*.pipeline.yaml`, or YAML whose top level is `workflow:` with `steps:`
/// inside. Other YAML (CI workflows, configuration) is left alone.
pub fn is_pipeline_file(path: &str, text: &str) -> bool {
    let is_yaml = path.ends_with(".yaml") || path.ends_with(".yml");
    if !is_yaml {
        return false;
    }
    let in_pipelines_dir = path.split(['/', '\\']).rev().skip(1).any(|part| part == "pipelines");
    let named = path.ends_with(".pipeline.yaml") || path.ends_with(".pipeline.yml");
    let by_content = text.lines().any(|l| l.trim_end() == "workflow:") && text.contains("steps:");
    in_pipelines_dir || named || by_content
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipelines_are_recognised_by_place_or_content() {
        assert!(is_pipeline_file("/w/pipelines/fix.yaml", ""));
        assert!(is_pipeline_file("/w/review.pipeline.yml", ""));
        assert!(is_pipeline_file("/w/any.yaml", "workflow:\n  name: x\n  steps:\n"));
        assert!(!is_pipeline_file("/w/.github/workflows/ci.yml", "on: push\njobs:\n  test:\n    steps:\n"));
        assert!(!is_pipeline_file("/w/pipelines/notes.md", "workflow:\n steps:"));
    }
}
