//! Pipeline files (pipeline_ex YAML): parsing, the schema, validation.

pub mod yaml;
