//! Properties under attack: random and mutated input to every reader of
//! outside data — LSP frames and messages, Elixir text, pipeline YAML,
//! provider streams and answers. Each must answer (or refuse) without a
//! panic, with ranges that stay inside the text it was given.

use std::ops::Range;

use elexirion::elixir::{self, parser::ElixirParser, AnalysisOptions};
use elexirion::lsp::framing::{check_message, read_frame, FrameError};
use elexirion::pipeline::providers::sse::SseParser;
use elexirion::pipeline::{complete, hover, navigate, outcome, validate, yaml};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() }
}

fn assert_inside(text: &str, range: &Range<usize>, what: &str) {
    assert!(range.start <= range.end && range.end <= text.len(), "{what}: {range:?} outside {} bytes", text.len());
    assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end), "{what}: {range:?} splits a character");
}

/// Pieces that trouble parsers: openers without closers, quotes,
/// multi-byte characters, line endings of every kind, YAML indicators.
const FRAGMENTS: &[&str] = &[
    "", "\n", "\r\n", "\r", "\t", "  ", "    ", "é", "😀", "中", "\u{feff}", "\0", "do\n", "end\n", "fn x ->", "(", ")", "[", "]", "{",
    "}", "\"", "'", "\"\"\"\n", "#{", "#", "%{", "<<", ">>", "|>", "@", ":", "::", "- ", "? ", "&a ", "*a", "<<: *a", "|\n", ">-\n",
    "---\n", "...\n", "!!str ", "{{", "}}", "{{inputs.code}}", "name: x\n", "type: claude\n", "prompt:\n", "- type: static\n",
    "content: hi\n", "defmodule M do\n", "def f(a), do: a\n", "GenServer.call(s, :x, :infinity)\n", "String.to_atom(x)\n",
];

fn mutated(seed: &'static str) -> impl Strategy<Value = String> {
    let edits = prop::collection::vec((any::<prop::sample::Index>(), 0usize..8, prop::sample::select(FRAGMENTS)), 0..12);
    edits.prop_map(move |edits| {
        let mut text = seed.to_string();
        for (at, remove, insert) in edits {
            let mut start = at.index(text.len() + 1);
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = (start + remove).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            text.replace_range(start..end, insert);
        }
        text
    })
}

fn fragments() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..80).prop_map(|parts| parts.concat())
}

// ---- LSP frames and messages ----------------------------------------

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().unwrap()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_message_body_is_passed_or_answered_with_a_json_rpc_error(body in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Err(response) = check_message(&body) {
            let response: serde_json::Value = serde_json::from_slice(&response).expect("the refusal is JSON");
            let code = response["error"]["code"].as_i64().expect("an error code");
            prop_assert!(code == -32700 || code == -32600, "{response}");
            prop_assert_eq!(&response["jsonrpc"], "2.0");
        }
    }

    #[test]
    fn json_rpc_shaped_messages_with_odd_values_never_panic(
        id in prop::option::of(prop_oneof![any::<i64>().prop_map(serde_json::Value::from), ".*".prop_map(serde_json::Value::from), Just(serde_json::json!({})), Just(serde_json::json!([1]))]),
        method in prop::option::of("[a-z/$]{0,20}"),
        version in prop_oneof![Just("2.0"), Just("1.0"), Just("")],
    ) {
        let mut message = serde_json::json!({ "jsonrpc": version });
        if let Some(id) = id { message["id"] = id; }
        if let Some(method) = method { message["method"] = method.into(); }
        let _ = check_message(message.to_string().as_bytes());
    }

    #[test]
    fn any_byte_stream_is_framed_or_refused_without_a_panic(stream in prop::collection::vec(prop_oneof![
        Just(b"Content-Length: 2\r\n\r\n{}".to_vec()),
        Just(b"Content-Length: ".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"Content-Type: x\r\n".to_vec()),
        prop::collection::vec(any::<u8>(), 0..20),
    ], 0..10)) {
        let bytes = stream.concat();
        runtime().block_on(async {
            let mut reader = tokio::io::BufReader::new(&bytes[..]);
            for _ in 0..bytes.len() + 1 {
                match read_frame(&mut reader).await {
                    Ok(body) => assert!(body.len() <= bytes.len()),
                    Err(FrameError::Closed | FrameError::Broken(_)) => break,
                }
            }
        });
    }
}

// ---- Elixir text -----------------------------------------------------

const ELIXIR_SEED: &str = "defmodule App.Worker do\n  use GenServer\n\n  def start_link(arg), do: GenServer.start_link(__MODULE__, arg)\n\n  @impl true\n  def init(state) do\n    Process.sleep(100)\n    {:ok, state}\n  end\n\n  def handle_call(:get, _from, state), do: {:reply, state, state}\n  def handle_info(msg, state), do: {:noreply, String.to_atom(msg)}\nend\n";

fn analyse(text: &str) {
    let tree = ElixirParser::new().parse_str(text, None);
    for finding in elixir::analyze(text, &tree, &AnalysisOptions::default()) {
        assert_inside(text, &finding.range, finding.code);
        if let Some(fix) = &finding.fix {
            for edit in &fix.edits {
                assert_inside(text, &edit.range, fix.title.as_str());
            }
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_elixir_is_analysed_without_a_panic(text in mutated(ELIXIR_SEED)) {
        analyse(&text);
    }

    #[test]
    fn elixir_made_of_troublesome_pieces_is_analysed_without_a_panic(text in fragments()) {
        analyse(&text);
    }
}

// ---- Pipeline YAML ---------------------------------------------------

const PIPELINE_SEED: &str = include_str!("../pipelines/fix_otp_antipatterns.yaml");

fn every_yaml_feature(text: &str, at: prop::sample::Index) {
    let document = yaml::parse(text);
    for (range, message) in &document.errors {
        assert_inside(text, range, message);
    }
    let context = validate::ValidationContext { workspace: None };
    for finding in validate::validate(text, &context) {
        assert_inside(text, &finding.range, finding.code);
    }
    let mut offset = at.index(text.len() + 1);
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let _ = complete::complete(text, offset, None);
    let _ = hover::hover(text, offset);
    if let Some(range) = navigate::definition(text, offset) {
        assert_inside(text, &range, "definition");
    }
    for range in navigate::references(text, offset, true) {
        assert_inside(text, &range, "reference");
    }
    let _ = navigate::symbols(text);
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_pipelines_validate_complete_and_hover_without_a_panic(text in mutated(PIPELINE_SEED), at in any::<prop::sample::Index>()) {
        every_yaml_feature(&text, at);
    }

    #[test]
    fn yaml_made_of_troublesome_pieces_is_read_without_a_panic(text in fragments(), at in any::<prop::sample::Index>()) {
        every_yaml_feature(&text, at);
    }
}

// ---- Provider streams and answers ------------------------------------

fn events(chunks: &[&[u8]]) -> Result<Vec<(Option<String>, String)>, String> {
    let mut parser = SseParser::new(64);
    let mut out = Vec::new();
    for chunk in chunks {
        let events = parser.push(chunk).map_err(|e| e.to_string())?;
        out.extend(events.into_iter().map(|e| (e.event, e.data)));
    }
    Ok(out)
}

proptest! {
    #![proptest_config(config())]

    /// However the network splits a stream, the same events come out.
    #[test]
    fn sse_events_do_not_depend_on_how_the_stream_is_split(
        pieces in prop::collection::vec(prop_oneof![
            Just(&b"data: "[..]), Just(&b"event: delta"[..]), Just(&b"\n"[..]), Just(&b"\r\n"[..]), Just(&b"\r"[..]),
            Just(&b": ping"[..]), Just("héllo 😀".as_bytes()), Just(&b"{\"a\":1}"[..]), Just(&b"\xff"[..]), Just(&b"x"[..]),
        ], 0..40),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let bytes = pieces.concat();
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        at.push(0);
        at.push(bytes.len());
        at.sort_unstable();
        let chunks: Vec<&[u8]> = at.windows(2).map(|w| &bytes[w[0]..w[1]]).collect();
        prop_assert_eq!(events(&chunks), events(&[&bytes]));
    }

    #[test]
    fn any_answer_is_read_or_refused_without_a_panic(answer in fragments(), original in mutated(ELIXIR_SEED)) {
        if let Ok(findings) = outcome::parse_findings(&answer) {
            for anchored in outcome::anchor(findings, &original) {
                assert_inside(&original, &anchored.range, "anchored finding");
            }
        }
        let _ = outcome::new_text(&answer, &original);
    }

    #[test]
    fn findings_with_any_snippet_and_line_stay_inside_the_text(
        snippet in prop::option::of(fragments()),
        line in prop::option::of(any::<usize>()),
        original in mutated(ELIXIR_SEED),
    ) {
        let finding = outcome::ModelFinding { rule: "r".into(), severity: "warning".into(), message: "m".into(), line, snippet, suggestion: None };
        for anchored in outcome::anchor(vec![finding], &original) {
            assert_inside(&original, &anchored.range, "anchored finding");
        }
    }
}
