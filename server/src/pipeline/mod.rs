//! Pipeline files (pipeline_ex YAML): parsing, the schema, validation.

pub mod json_schema;
pub mod schema;
pub mod templates;
pub mod validate;
pub mod yaml;
