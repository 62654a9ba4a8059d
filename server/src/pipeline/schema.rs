//! The pipeline_ex format, described once. Validation, completion, hover
//! and the JSON Schema export (`elexirion schema`) are all read from here,
//! so they cannot disagree.
//!
//! Sources: pipeline_ex's `Pipeline.Config` (what it accepts or rejects),
//! its step modules (the keys each step reads), and its configuration
//! guide (what keys mean). Keys the guide documents but no code reads are
//! marked [`Support::NotRun`].

/// A key of a mapping.
pub struct Field {
    pub name: &'static str,
    pub doc: &'static str,
    pub shape: Shape,
    pub need: Need,
    pub support: Support,
}

/// Whether a key must be there, and what happens when it is not.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Need {
    Optional,
    /// pipeline_ex rejects the file without it (an error).
    Required,
    /// pipeline_ex accepts the file, but the step fails when it runs (a warning).
    Needed,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Support {
    Runs,
    /// Documented by pipeline_ex but ignored when a pipeline runs.
    NotRun,
}

pub enum Shape {
    String,
    Integer,
    Number,
    Boolean,
    /// Anything goes (free-form data).
    Any,
    Enum(&'static [Choice]),
    List(&'static Shape),
    /// A mapping with these keys; others are reported as unknown.
    Object(&'static [Field]),
    /// A mapping from names of the user's choice to values of one shape.
    MapOf(&'static Shape),
    /// Either of several shapes (e.g. a string or a list).
    Either(&'static [Shape]),
    /// A list of prompt items (see [`PROMPT_ITEMS`]).
    Prompt,
    /// A list of steps (see [`STEP_TYPES`]).
    Steps,
}

pub struct Choice {
    pub value: &'static str,
    pub doc: &'static str,
}

pub struct StepType {
    pub name: &'static str,
    pub doc: &'static str,
    /// Fields besides [`COMMON_STEP_FIELDS`].
    pub fields: &'static [Field],
    pub prompt: PromptRule,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PromptRule {
    /// pipeline_ex rejects the step without a prompt list.
    Required,
    /// The step may have a prompt but need not.
    Optional,
}

pub struct PromptItemType {
    pub name: &'static str,
    pub doc: &'static str,
    pub fields: &'static [Field],
}

const fn field(name: &'static str, doc: &'static str, shape: Shape) -> Field {
    Field { name, doc, shape, need: Need::Optional, support: Support::Runs }
}

const fn required(name: &'static str, doc: &'static str, shape: Shape) -> Field {
    Field { name, doc, shape, need: Need::Required, support: Support::Runs }
}

const fn needed(name: &'static str, doc: &'static str, shape: Shape) -> Field {
    Field { name, doc, shape, need: Need::Needed, support: Support::Runs }
}

const fn not_run(name: &'static str, doc: &'static str, shape: Shape) -> Field {
    Field { name, doc, shape, need: Need::Optional, support: Support::NotRun }
}

const fn choice(value: &'static str, doc: &'static str) -> Choice {
    Choice { value, doc }
}

pub const ROOT: &[Field] = &[required(
    "workflow",
    "The pipeline: its name, defaults and steps. pipeline_ex rejects a file without it.",
    Shape::Object(WORKFLOW),
)];

pub const WORKFLOW: &[Field] = &[
    required("name", "Name of the workflow, used in logs, results and the editor.", Shape::String),
    field("description", "What the workflow does, for people reading it.", Shape::String),
    field("version", "Version of this workflow definition (free text).", Shape::Either(&[Shape::String, Shape::Number])),
    field("checkpoint_enabled", "Save progress after each step so a failed run can resume. Default: false.", Shape::Boolean),
    field("workspace_dir", "Directory Claude steps work in. Default: `./workspace`.", Shape::String),
    field("checkpoint_dir", "Where checkpoints are written. Default: `./checkpoints`.", Shape::String),
    field("output_dir", "Where `output_to_file` results are written. Default: `./outputs`.", Shape::String),
    field("defaults", "Settings applied to every step that does not set its own.", Shape::Object(DEFAULTS)),
    field(
        "gemini_functions",
        "Functions Gemini steps may call, by name: each with a `description` and JSON Schema `parameters`.",
        Shape::MapOf(&Shape::Object(GEMINI_FUNCTION)),
    ),
    field("environment", "Run mode and cost alerts.", Shape::Object(ENVIRONMENT)),
    field("claude_auth", "How Claude authentication is checked before the run.", Shape::Object(CLAUDE_AUTH)),
    field("resource_limits", "Limits for nested pipelines: depth, steps, memory, time.", Shape::Object(RESOURCE_LIMITS)),
    field("variables", "Initial values of the workflow's state variables (`{{state.name}}`).", Shape::MapOf(&Shape::Any)),
    field("inputs", "Inputs the workflow expects (`{{inputs.name}}`), with defaults.", Shape::MapOf(&Shape::Any)),
    field("metadata", "Free-form information about the workflow.", Shape::MapOf(&Shape::Any)),
    field("agents", "Claude subagents available to Claude steps, by name.", Shape::MapOf(&Shape::Any)),
    field("hooks", "Claude Code hooks (`PreToolUse`, `PostToolUse`...) for Claude steps.", Shape::MapOf(&Shape::Any)),
    required("steps", "The steps, run in order. pipeline_ex rejects a workflow without at least one.", Shape::Steps),
    field("editor", "Elexirion: how this pipeline appears in the editor (pipeline_ex ignores it).", Shape::Object(EDITOR)),
    field(
        "dspy_config",
        "Optimized prompts from the optimization store (pipeline_ex's DSPy design; Elexirion runs it, pipeline_ex does not yet).",
        Shape::Object(DSPY_CONFIG),
    ),
    field("hybrid_config", "Which prompts the steps run with: the pipeline's own or stored versions.", Shape::Object(HYBRID_CONFIG)),
];

pub const MODES: &[Choice] = &[
    choice("traditional", "The prompt written in the pipeline."),
    choice("optimized", "The best stored version of each step's prompt; the written prompt when there is none or it fails."),
    choice("hybrid", "Choose among the stored versions by how often their results were accepted (Thompson sampling)."),
    choice("evaluation", "Score the stored versions on accepted examples with `evaluation_metric` instead of running."),
];

pub const DSPY_CONFIG: &[Field] = &[
    field("optimization_enabled", "Run with the best stored prompt versions (optimized mode). Default: false.", Shape::Boolean),
    field("hybrid_mode", "Choose among stored versions, learning from accepted and rejected results. Default: false.", Shape::Boolean),
    field(
        "evaluation_metric",
        "How evaluation scores an answer against an accepted result. Default: token_f1.",
        Shape::Enum(&[
            choice("token_f1", "Word overlap (F1) with the accepted result."),
            choice("exact_match", "1 when the answer equals the accepted result (whitespace trimmed), else 0."),
            choice("contains", "1 when the answer contains the accepted result, else 0."),
        ]),
    ),
    field("evaluation_examples", "How many of the newest accepted examples evaluation uses. Default: 20.", Shape::Integer),
    field("optimization_target", "What DSPy optimizes for (read by scripts in `optimize/`, not by the runner).", Shape::String),
    field("training_examples", "How many examples a DSPy script trains on (read by scripts in `optimize/`).", Shape::Integer),
    field("validation_examples", "How many examples a DSPy script validates on (read by scripts in `optimize/`).", Shape::Integer),
];

pub const HYBRID_CONFIG: &[Field] = &[
    field("mode", "Execution mode. Default: traditional.", Shape::Enum(MODES)),
    field("fallback_enabled", "Use the written prompt when a stored version fails. Always on in Elexirion.", Shape::Boolean),
];

pub const EDITOR: &[Field] = &[
    needed("title", "The code action's title, e.g. \"Fix OTP anti-patterns\".", Shape::String),
    field(
        "kind",
        "What the result becomes. Default: analysis.",
        Shape::Enum(&[
            choice("analysis", "The final answer is JSON findings, shown as diagnostics."),
            choice("refactor", "The final answer is new code or a diff, applied as a reviewed edit."),
            choice("explanation", "The final answer is prose (Markdown), opened as a document beside the code."),
        ]),
    ),
    field(
        "scope",
        "What the pipeline works on. Default: file.",
        Shape::Enum(&[
            choice("file", "The whole current file."),
            choice("selection", "The current selection (offered only when there is one)."),
            choice("workspace", "The whole workspace."),
        ]),
    ),
    field("languages", "Editor language ids the pipeline applies to, e.g. `[elixir]`.", Shape::List(&Shape::String)),
    field(
        "writes_to",
        "Where a refactor's result goes. Default: file.",
        Shape::Enum(&[
            choice("file", "Replaces the current file (or the selection)."),
            choice("test_file", "Becomes the file's ExUnit test: `lib/a/b.ex` -> `test/a/b_test.exs`."),
        ]),
    ),
    field("inputs", "Workflow inputs filled from the editor, e.g. `code: \"{{editor.selection_or_file}}\"`.", Shape::MapOf(&Shape::String)),
    field(
        "may_change_api",
        "The refactor may remove or rename modules and public functions. Default: false, and an edit that loses public API is refused.",
        Shape::Boolean,
    ),
    field("description", "A longer description shown with the code action.", Shape::String),
];

pub const DEFAULTS: &[Field] = &[
    field("gemini_model", "Model for Gemini steps without `model`, e.g. `gemini-2.5-flash`.", Shape::String),
    field("gemini_token_budget", "Token budget for Gemini steps without `token_budget`.", Shape::Object(TOKEN_BUDGET)),
    field("claude_model", "Model for Claude steps without `claude_options.model`.", Shape::String),
    field("claude_output_format", "Output format for Claude steps. Default: json.", OUTPUT_FORMAT),
    field("claude_preset", "Preset for `claude_smart` and other preset-aware steps.", PRESET),
    field("claude_options", "Claude options merged under every Claude step's own.", Shape::Object(CLAUDE_OPTIONS)),
    field("output_dir", "Where `output_to_file` results go.", Shape::String),
    field("timeout_seconds", "Time limit for each step.", Shape::Integer),
    field("retry_on_error", "Retry a step that fails. Default: false.", Shape::Boolean),
    field("continue_on_error", "Go on with the next step when one fails. Default: false.", Shape::Boolean),
];

pub const OUTPUT_FORMAT: Shape = Shape::Enum(&[
    choice("json", "Structured JSON messages."),
    choice("text", "Plain text."),
    choice("stream-json", "Streamed JSON messages."),
    choice("stream_json", "Streamed JSON messages (alternative spelling)."),
]);

pub const PRESET: Shape = Shape::Enum(&[
    choice("development", "Permissive: verbose, full tool access."),
    choice("production", "Restricted: minimal tools, safe defaults."),
    choice("analysis", "Read-only tools, tuned for code analysis."),
    choice("chat", "Simple conversation, basic tools."),
    choice("test", "For tests: mocked, deterministic."),
]);

pub const TOKEN_BUDGET: &[Field] = &[
    field("max_output_tokens", "Most tokens in the answer.", Shape::Integer),
    field("max_input_tokens", "Most tokens in the prompt.", Shape::Integer),
    field("temperature", "Sampling temperature, 0 to 2.", Shape::Number),
    field("top_p", "Nucleus sampling: probability mass considered.", Shape::Number),
    field("top_k", "Sample among the k likeliest tokens.", Shape::Integer),
];

pub const GEMINI_FUNCTION: &[Field] = &[
    required("description", "What the function does (the model reads it).", Shape::String),
    required("parameters", "JSON Schema of the function's arguments.", Shape::MapOf(&Shape::Any)),
];

pub const ENVIRONMENT: &[Field] = &[
    field(
        "mode",
        "Run mode.",
        Shape::Enum(&[choice("development", ""), choice("production", ""), choice("test", "")]),
    ),
    field(
        "debug_level",
        "How much is logged.",
        Shape::Enum(&[choice("basic", ""), choice("detailed", ""), choice("performance", "")]),
    ),
    field("cost_alerts", "Warn when a run costs more than a threshold.", Shape::Object(COST_ALERTS)),
];

pub const COST_ALERTS: &[Field] = &[
    field("enabled", "Turn cost alerts on.", Shape::Boolean),
    field("threshold_usd", "Cost in US dollars that triggers the alert.", Shape::Number),
    field("notify_on_exceed", "Notify when the threshold is exceeded.", Shape::Boolean),
];

pub const CLAUDE_AUTH: &[Field] = &[
    field("auto_check", "Verify authentication before starting.", Shape::Boolean),
    field(
        "provider",
        "Where Claude is served from.",
        Shape::Enum(&[choice("anthropic", ""), choice("aws_bedrock", ""), choice("google_vertex", "")]),
    ),
    field("fallback_mock", "Use mocks when authentication fails (development only).", Shape::Boolean),
    field("diagnostics", "Run authentication diagnostics.", Shape::Boolean),
];

pub const RESOURCE_LIMITS: &[Field] = &[
    field("max_nesting_depth", "Deepest nesting of `pipeline` steps.", Shape::Integer),
    field("max_total_steps", "Most steps across nested pipelines.", Shape::Integer),
    field("memory_limit_mb", "Memory limit in megabytes.", Shape::Integer),
    field("timeout_seconds", "Time limit for the whole run.", Shape::Integer),
];

pub const RETRY_CONFIG: &[Field] = &[
    field("max_retries", "Retries after the first attempt.", Shape::Integer),
    field(
        "backoff_strategy",
        "How the wait between retries grows.",
        Shape::Enum(&[choice("linear", "Waits grow by the same step."), choice("exponential", "Waits double.")]),
    ),
    field("retry_on", "Error kinds that trigger a retry, e.g. `[timeout, rate_limit]`.", Shape::List(&Shape::String)),
    field("retry_conditions", "Error kinds that trigger a retry (claude_robust).", Shape::List(&Shape::String)),
    field("fallback_action", "What to do when retries run out, e.g. `simplified_prompt`.", Shape::String),
];

pub const CLAUDE_OPTIONS: &[Field] = &[
    field("max_turns", "Most conversation turns.", Shape::Integer),
    field("output_format", "Format of Claude's messages.", OUTPUT_FORMAT),
    field("model", "Model, e.g. `sonnet`, `opus` or a full model id.", Shape::String),
    field("fallback_model", "Model to use when the first is overloaded.", Shape::String),
    field("verbose", "Log in detail.", Shape::Boolean),
    field("system_prompt", "System prompt replacing the default.", Shape::String),
    field("append_system_prompt", "Text appended to the system prompt.", Shape::String),
    field("allowed_tools", "Tools Claude may use (agent feature; ignored by Elexirion).", Shape::List(&Shape::String)),
    field("disallowed_tools", "Tools Claude may not use (agent feature; ignored by Elexirion).", Shape::List(&Shape::String)),
    field("cwd", "Working directory for tools (agent feature).", Shape::String),
    field(
        "permission_mode",
        "How tool permissions are granted (agent feature).",
        Shape::Enum(&[choice("default", ""), choice("accept_edits", ""), choice("bypass_permissions", ""), choice("plan", "")]),
    ),
    field("permission_prompt_tool", "Tool that answers permission prompts (agent feature).", Shape::String),
    field("mcp_config", "Path to an MCP server configuration (agent feature).", Shape::String),
    field("session_id", "Session to continue.", Shape::String),
    field("resume_session", "Resume the session if there is one.", Shape::Boolean),
    field("retry_config", "Retries for this step.", Shape::Object(RETRY_CONFIG)),
    field("timeout_ms", "Time limit per request, in milliseconds.", Shape::Integer),
    field("timeout_seconds", "Time limit per request, in seconds.", Shape::Integer),
    field("debug_mode", "Print debugging output.", Shape::Boolean),
    field("telemetry_enabled", "Record performance telemetry.", Shape::Boolean),
    field("cost_tracking", "Track and report the cost of the step.", Shape::Boolean),
    field("async_streaming", "Stream messages as they arrive.", Shape::Boolean),
    field(
        "stream_handler",
        "Where streamed messages go (with `async_streaming`).",
        Shape::Enum(&[choice("console", ""), choice("simple", ""), choice("debug", ""), choice("file", ""), choice("callback", ""), choice("buffer", "")]),
    ),
    field("stream_buffer_size", "Messages buffered while streaming (a positive integer).", Shape::Integer),
    field("pass_through_streaming", "Pass streamed messages through unchanged.", Shape::Boolean),
];

pub const COMMON_STEP_FIELDS: &[Field] = &[
    required("name", "The step's name, unique in the workflow; other steps refer to it.", Shape::String),
    required("type", "What the step does; see the step types.", Shape::String),
    field("condition", "Run the step only when this holds, e.g. `steps.check.result.ok`.", Shape::Either(&[Shape::String, Shape::MapOf(&Shape::Any)])),
    field("output_to_file", "Also write the step's result to this file (in the output directory).", Shape::String),
    field("streaming", "Stream this step's output (when its provider can).", Shape::Either(&[Shape::Boolean, Shape::MapOf(&Shape::Any)])),
    field("description", "What the step does, for people reading it.", Shape::String),
    not_run("role", "Documented role of the step (`brain` or `muscle`); pipeline_ex does not use it.", Shape::String),
];

const PROMPT: Field = required("prompt", "The prompt: a list of items (`static`, `file`, `previous_response`...), joined in order.", Shape::Prompt);
const OPTIONAL_PROMPT: Field = field("prompt", "The prompt: a list of items (`static`, `file`, `previous_response`...).", Shape::Prompt);
const CLAUDE_OPTIONS_FIELD: Field = field("claude_options", "Options of the Claude call.", Shape::Object(CLAUDE_OPTIONS));
const PRESET_FIELD: Field = field("preset", "A bundle of Claude settings (claude_smart and friends).", PRESET);
const MODEL_FIELD: Field = field("model", "Gemini model for this step.", Shape::String);
const TOKEN_BUDGET_FIELD: Field = field("token_budget", "Token limits and sampling for this step.", Shape::Object(TOKEN_BUDGET));
const FUNCTIONS_FIELD: Field = field("functions", "Names of `gemini_functions` the model may call.", Shape::List(&Shape::String));
const NESTED_STEPS: Field = needed("steps", "The steps to run for each iteration.", Shape::Steps);

pub const STEP_TYPES: &[StepType] = &[
    StepType {
        name: "claude",
        doc: "One call to Claude with the prompt.",
        fields: &[PROMPT, CLAUDE_OPTIONS_FIELD],
        prompt: PromptRule::Required,
    },
    StepType {
        name: "gemini",
        doc: "One call to Gemini with the prompt.",
        fields: &[PROMPT, MODEL_FIELD, TOKEN_BUDGET_FIELD, FUNCTIONS_FIELD],
        prompt: PromptRule::Required,
    },
    StepType {
        name: "claude_smart",
        doc: "A Claude call configured by a preset.",
        fields: &[PROMPT, PRESET_FIELD, CLAUDE_OPTIONS_FIELD, field("environment_aware", "Pick the preset from the environment's mode.", Shape::Boolean)],
        prompt: PromptRule::Required,
    },
    StepType {
        name: "claude_session",
        doc: "A Claude call that keeps a conversation across steps and runs.",
        fields: &[PROMPT, PRESET_FIELD, CLAUDE_OPTIONS_FIELD, field("session_config", "How the session is kept.", Shape::Object(SESSION_CONFIG))],
        prompt: PromptRule::Required,
    },
    StepType {
        name: "claude_extract",
        doc: "A Claude call whose answer is extracted and post-processed (text, JSON, code, markdown...).",
        fields: &[PROMPT, PRESET_FIELD, CLAUDE_OPTIONS_FIELD, field("extraction_config", "How the answer is extracted.", Shape::Object(EXTRACTION_CONFIG)), not_run("schema", "A schema for the extracted content; pipeline_ex does not use it.", Shape::Any)],
        prompt: PromptRule::Required,
    },
    StepType {
        name: "claude_batch",
        doc: "Several Claude calls run concurrently, one per task.",
        fields: &[OPTIONAL_PROMPT, PRESET_FIELD, CLAUDE_OPTIONS_FIELD, field("batch_config", "Concurrency and time limits.", Shape::Object(BATCH_CONFIG)), field("tasks", "The tasks: each with its own `prompt` (or `file`).", Shape::List(&Shape::Object(BATCH_TASK)))],
        prompt: PromptRule::Optional,
    },
    StepType {
        name: "claude_robust",
        doc: "A Claude call with retries, backoff and a fallback.",
        fields: &[PROMPT, PRESET_FIELD, CLAUDE_OPTIONS_FIELD, field("retry_config", "Retries, backoff and fallback.", Shape::Object(RETRY_CONFIG))],
        prompt: PromptRule::Required,
    },
    StepType {
        name: "parallel_claude",
        doc: "Several Claude calls with their own prompts, run concurrently.",
        fields: &[required("parallel_tasks", "The tasks: each with an `id`, a `prompt` and `claude_options`.", Shape::List(&Shape::Object(PARALLEL_TASK))), OPTIONAL_PROMPT],
        prompt: PromptRule::Optional,
    },
    StepType {
        name: "gemini_instructor",
        doc: "A Gemini call whose answer must be JSON matching a schema (function calling).",
        fields: &[PROMPT, MODEL_FIELD, TOKEN_BUDGET_FIELD, FUNCTIONS_FIELD, field("schema", "JSON Schema the answer must match.", Shape::MapOf(&Shape::Any))],
        prompt: PromptRule::Required,
    },
    StepType {
        name: "set_variable",
        doc: "Set state variables (`{{state.name}}`) from values or templates.",
        fields: &[
            field("variables", "Variables to set, by name.", Shape::MapOf(&Shape::Any)),
            field(
                "scope",
                "Where the variables live. Default: global.",
                Shape::Enum(&[choice("global", "For the rest of the run."), choice("session", "For this session."), choice("loop", "For the current loop.")]),
            ),
        ],
        prompt: PromptRule::Optional,
    },
    StepType {
        name: "for_loop",
        doc: "Run steps once per item of a list (or of files matched by a glob).",
        fields: &[
            needed("iterator", "Name of the loop variable (`{{loop.NAME}}`).", Shape::String),
            needed("data_source", "What to iterate over: a template such as `steps.x.result.items`, or a list.", Shape::Either(&[Shape::String, Shape::List(&Shape::Any)])),
            NESTED_STEPS,
            field("parallel", "Run iterations concurrently.", Shape::Boolean),
            field("max_parallel", "Most iterations at once.", Shape::Integer),
            field("batch_size", "Items per iteration.", Shape::Integer),
            field("break_on_error", "Stop at the first failing iteration.", Shape::Boolean),
        ],
        prompt: PromptRule::Optional,
    },
    StepType {
        name: "while_loop",
        doc: "Run steps while a condition holds, at most `max_iterations` times.",
        fields: &[
            needed("condition", "Keep going while this holds, e.g. `state.score < 8`.", Shape::String),
            NESTED_STEPS,
            needed("max_iterations", "Most iterations (a safety bound).", Shape::Integer),
            field("timeout_seconds", "Time limit for the whole loop.", Shape::Integer),
            field("break_condition", "Stop early when this holds.", Shape::String),
        ],
        prompt: PromptRule::Optional,
    },
    StepType {
        name: "data_transform",
        doc: "Transform data between steps: filter, map, aggregate, join, group, sort.",
        fields: &[
            needed("input_source", "Where the data comes from, e.g. `previous_response:step_name`.", Shape::String),
            needed("operations", "Operations applied in order.", Shape::List(&Shape::MapOf(&Shape::Any))),
            field("output_field", "Name of the result.", Shape::String),
            field("output_format", "Format of the result.", Shape::String),
        ],
        prompt: PromptRule::Optional,
    },
    StepType {
        name: "file_ops",
        doc: "File operations in the workspace: copy, move, delete, validate, list, convert, stream_copy, stream_process.",
        fields: &[
            needed(
                "operation",
                "The operation.",
                Shape::Enum(&[
                    choice("copy", ""),
                    choice("move", ""),
                    choice("delete", ""),
                    choice("validate", ""),
                    choice("list", ""),
                    choice("convert", ""),
                    choice("stream_copy", "Copy `source` to `destination` in chunks, for large files."),
                    choice("stream_process", "Apply a line `processor` (uppercase, lowercase, trim, replace) to `source`, streamed."),
                ]),
            ),
            field("source", "File or glob the operation reads.", Shape::Either(&[Shape::String, Shape::List(&Shape::String)])),
            field("destination", "Where results go.", Shape::String),
            field("files", "Files to validate.", Shape::List(&Shape::Any)),
            field("path", "Directory to list.", Shape::String),
            field("pattern", "Glob for `list`.", Shape::String),
            field("format", "Target format for `convert`.", Shape::String),
        ],
        prompt: PromptRule::Optional,
    },
    StepType {
        name: "pipeline",
        doc: "Run another pipeline as a step.",
        fields: &[
            field("pipeline_file", "Path of the pipeline to run.", Shape::String),
            field("pipeline_ref", "Name of a registered pipeline to run.", Shape::String),
            field("pipeline", "The pipeline to run, inline.", Shape::MapOf(&Shape::Any)),
            field("inputs", "Inputs passed to it.", Shape::MapOf(&Shape::Any)),
            field("outputs", "Results taken back from it.", Shape::List(&Shape::Any)),
            field("config", "Nesting options (inherit context, workspace...).", Shape::MapOf(&Shape::Any)),
        ],
        prompt: PromptRule::Optional,
    },
];

/// Step types pipeline_ex's documentation names but `Pipeline.Config` rejects.
pub const DOCUMENTED_NOT_RUN_STEP_TYPES: &[(&str, &str)] = &[
    ("codebase_query", "pipeline_ex has a codebase_query step module but does not accept the type in a workflow"),
    ("switch", "described in pipeline_ex's design documents, never implemented"),
    ("test_echo", "accepted only inside pipeline_ex's own test suite"),
];

pub const SESSION_CONFIG: &[Field] = &[
    field("persist", "Keep the session between runs.", Shape::Boolean),
    field("session_name", "Name of the session.", Shape::String),
    field("continue_on_restart", "Continue the session after a restart.", Shape::Boolean),
    field("checkpoint_frequency", "Save the session every this many turns.", Shape::Integer),
    field("description", "What the session is for.", Shape::String),
];

pub const EXTRACTION_CONFIG: &[Field] = &[
    field("use_content_extractor", "Use the content extractor.", Shape::Boolean),
    field(
        "format",
        "What to extract.",
        Shape::Enum(&[choice("text", ""), choice("json", ""), choice("structured", ""), choice("summary", ""), choice("markdown", ""), choice("code", "")]),
    ),
    field("post_processing", "Post-processing steps, e.g. `[extract_code_blocks]`.", Shape::List(&Shape::String)),
    field("max_summary_length", "Longest summary, in characters.", Shape::Integer),
    field("include_metadata", "Include metadata in the result.", Shape::Boolean),
];

pub const BATCH_CONFIG: &[Field] = &[
    field("max_parallel", "Most tasks at once.", Shape::Integer),
    field("timeout_per_task", "Time limit per task, in milliseconds.", Shape::Integer),
    field("consolidate_results", "Merge the tasks' results into one.", Shape::Boolean),
];

pub const BATCH_TASK: &[Field] = &[
    field("task_id", "Name of the task in the results.", Shape::String),
    field("file", "File the task is about.", Shape::String),
    field("prompt", "The task's prompt: a string or a list of items.", Shape::Either(&[Shape::String, Shape::Prompt])),
    CLAUDE_OPTIONS_FIELD,
];

pub const PARALLEL_TASK: &[Field] = &[
    needed("id", "Name of the task in the results.", Shape::String),
    needed("prompt", "The task's prompt.", Shape::Prompt),
    CLAUDE_OPTIONS_FIELD,
    field("output_to_file", "Also write the task's result to this file.", Shape::String),
];

pub const PROMPT_ITEMS: &[PromptItemType] = &[
    PromptItemType {
        name: "static",
        doc: "Literal text (templates `{{...}}` are filled in).",
        fields: &[required("content", "The text.", Shape::String)],
    },
    PromptItemType {
        name: "file",
        doc: "The contents of a file in the workspace.",
        fields: &[required("path", "Path of the file, relative to the workspace.", Shape::String)],
    },
    PromptItemType {
        name: "previous_response",
        doc: "The result of an earlier step.",
        fields: &[
            required("step", "Name of the earlier step.", Shape::String),
            field("extract", "A dotted path into its JSON result, e.g. `analysis.issues`.", Shape::String),
            field("strict", "Fail when `extract` finds nothing (instead of using the whole result).", Shape::Boolean),
            field("max_length", "Truncate the included text to this many characters.", Shape::Integer),
            field("extract_with", "Extract with the content extractor (`content_extractor`).", Shape::String),
            field("summary", "Summarize the result before including it.", Shape::Boolean),
        ],
    },
    PromptItemType {
        name: "session_context",
        doc: "Earlier turns of a Claude session.",
        fields: &[required("session_id", "The session.", Shape::String), field("include_last_n", "How many turns to include.", Shape::Integer)],
    },
    PromptItemType {
        name: "claude_continue",
        doc: "Continue a Claude session with a new prompt.",
        fields: &[required("session_id", "The session.", Shape::String), field("new_prompt", "The prompt to continue with.", Shape::String)],
    },
];

/// Template namespaces: `{{steps.NAME.result}}` and friends.
pub const TEMPLATE_NAMESPACES: &[Choice] = &[
    choice("steps", "Results of earlier steps: `{{steps.NAME.result}}`, `{{steps.NAME.result.field}}`."),
    choice("inputs", "The workflow's inputs: `{{inputs.NAME}}`."),
    choice("global_vars", "Variables shared with nested pipelines: `{{global_vars.NAME}}`."),
    choice("state", "State variables set by `set_variable` or `workflow.variables`: `{{state.NAME}}`."),
    choice("loop", "The current loop iteration: `{{loop.ITERATOR}}`, `{{loop.index}}`."),
    choice("workflow", "The workflow itself: `{{workflow.name}}`."),
    choice("editor", "Elexirion: the editor's context (see below)."),
    choice("project", "Elexirion: what the workspace index knows around the file (see below)."),
];

/// `{{editor.*}}` variables, filled by Elexirion when a pipeline runs in the editor.
pub const EDITOR_VARIABLES: &[Choice] = &[
    choice("file", "The whole text of the current file."),
    choice("selection", "The selected text (empty when nothing is selected)."),
    choice("selection_or_file", "The selection, or the whole file when nothing is selected."),
    choice("language", "The file's language id, e.g. `elixir`."),
    choice("diagnostics", "Elexirion's current diagnostics for the file, as text."),
    choice("path", "The file's path relative to the workspace."),
    choice("test_file", "The whole text of the file's ExUnit test file (`lib/a/b.ex` -> `test/a/b_test.exs`), empty when there is none."),
];

/// `{{project.*}}` variables, from the workspace index (no BEAM needed),
/// each cut to fit the prompt's context budget, most relevant first.
pub const PROJECT_VARIABLES: &[Choice] = &[
    choice("supervision", "The supervision tree around the file's modules: which supervisor starts them, and beside what."),
    choice("callers", "Who calls the file's public functions, with the calling line."),
    choice("tests", "The file's ExUnit tests (the test file, or its test names when it is too long)."),
    choice("dependencies", "The public functions of other modules the file calls, with their signatures."),
];

/// Namespaces whose variables are a fixed list, with that list.
pub const FIXED_NAMESPACES: &[(&str, &[Choice])] = &[("editor", EDITOR_VARIABLES), ("project", PROJECT_VARIABLES)];

/// The documented variable `namespace.name`, if it is one.
pub fn fixed_variable(namespace: &str, name: &str) -> Option<&'static Choice> {
    FIXED_NAMESPACES.iter().find(|(n, _)| *n == namespace).and_then(|(_, variables)| variables.iter().find(|v| v.value == name))
}

pub fn step_type(name: &str) -> Option<&'static StepType> {
    STEP_TYPES.iter().find(|t| t.name == name)
}

pub fn prompt_item_type(name: &str) -> Option<&'static PromptItemType> {
    PROMPT_ITEMS.iter().find(|t| t.name == name)
}
