//! Where a finding belongs in the current text. Models quote code loosely
//! and miscount lines, so the quote is tried exactly, then ignoring
//! whitespace (indentation, runs of spaces, CRLF), then the stated line is
//! used; a finding that fits nowhere is shown at the top, never dropped.

use std::ops::Range;

use crate::pipeline::outcome::ModelFinding;

/// How a finding was placed, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchoring {
    Exact,
    IgnoringWhitespace,
    AtLine,
    Unanchored,
}

/// The finding's range in `source` (always on char boundaries, inside the
/// text) and how it was found.
pub fn locate(finding: &ModelFinding, source: &str) -> (Range<usize>, Anchoring) {
    let snippet = finding.snippet.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let nearest = |ranges: Vec<Range<usize>>| {
        ranges.into_iter().min_by_key(|r| finding.line.map_or(0, |line| line_of(source, r.start).abs_diff(line)))
    };
    if let Some(snippet) = snippet {
        if let Some(range) = nearest(source.match_indices(snippet).map(|(at, s)| at..at + s.len()).collect()) {
            return (range, Anchoring::Exact);
        }
        if let Some(range) = nearest(matches_ignoring_whitespace(source, snippet)) {
            return (range, Anchoring::IgnoringWhitespace);
        }
    }
    if let Some(range) = finding.line.and_then(|line| line_range(source, line)) {
        return (range, Anchoring::AtLine);
    }
    (line_range(source, 1).unwrap_or(0..0), Anchoring::Unanchored)
}

fn line_of(source: &str, offset: usize) -> usize {
    source[..offset].matches('\n').count() + 1
}

/// The trimmed range of 1-based `line`, when the text has that line.
fn line_range(source: &str, line: usize) -> Option<Range<usize>> {
    let start = if line == 1 { 0 } else { source.match_indices('\n').nth(line.checked_sub(2)?)?.0 + 1 };
    let text = source[start..].split('\n').next().unwrap_or("");
    let leading = text.len() - text.trim_start().len();
    let content = text.trim();
    Some(start + leading..start + leading + content.len())
}

/// Every place where `source` holds `snippet`'s non-whitespace characters
/// in order with only whitespace between them.
fn matches_ignoring_whitespace(source: &str, snippet: &str) -> Vec<Range<usize>> {
    let wanted: String = snippet.chars().filter(|c| !c.is_whitespace()).collect();
    let (kept, offsets): (String, Vec<(usize, usize)>) =
        source.char_indices().filter(|(_, c)| !c.is_whitespace()).map(|(i, c)| (c, (i, i + c.len_utf8()))).unzip();
    if wanted.is_empty() {
        return Vec::new();
    }
    // `kept` and `offsets` go char for char; turn byte offsets in `kept` into char positions.
    let char_at: std::collections::HashMap<usize, usize> = kept.char_indices().enumerate().map(|(n, (i, _))| (i, n)).collect();
    kept.match_indices(&wanted)
        .map(|(at, m)| {
            let first = char_at[&at];
            let last = first + m.chars().count() - 1;
            offsets[first].0..offsets[last].1
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "defmodule W do\r\n  def a,   do: GenServer.call(W, :a, :infinity)\r\n  def é, do: :ok\r\nend\r\n";

    fn finding(snippet: Option<&str>, line: Option<usize>) -> ModelFinding {
        ModelFinding { rule: String::new(), severity: String::new(), message: "m".into(), line, snippet: snippet.map(String::from), suggestion: None }
    }

    fn placed(snippet: Option<&str>, line: Option<usize>) -> (&'static str, Anchoring) {
        let (range, how) = locate(&finding(snippet, line), SOURCE);
        (&SOURCE[range], how)
    }

    #[test]
    fn quotes_are_matched_exactly_then_loosely_then_by_line() {
        assert_eq!(placed(Some(" :infinity "), None), (":infinity", Anchoring::Exact));
        assert_eq!(placed(Some("def a, do:\n GenServer.call(W,:a"), None), ("def a,   do: GenServer.call(W, :a", Anchoring::IgnoringWhitespace));
        assert_eq!(placed(Some("def é,do: :ok\nend"), None), ("def é, do: :ok\r\nend", Anchoring::IgnoringWhitespace));
        assert_eq!(placed(Some("not there"), Some(3)), ("def é, do: :ok", Anchoring::AtLine));
        assert_eq!(placed(None, Some(99)), ("defmodule W do", Anchoring::Unanchored));
        assert_eq!(locate(&finding(None, None), "").0, 0..0);
    }

    proptest::proptest! {
        #[test]
        fn ranges_are_always_inside_the_text_on_char_boundaries(source in "[a é\\n\\r\\t(){}]{0,40}", snippet in "[a é\\n(){}]{0,8}", line in proptest::option::of(0usize..8)) {
            let (range, _) = locate(&finding(Some(&snippet), line), &source);
            proptest::prop_assert!(range.start <= range.end && range.end <= source.len());
            proptest::prop_assert!(source.is_char_boundary(range.start) && source.is_char_boundary(range.end));
        }
    }
}
