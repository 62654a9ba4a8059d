//! Unified diffs as models write them: headers optional, hunk line counts
//! often wrong, line numbers often off, context lines sometimes missing
//! their leading space. Each hunk is placed by its context (the place
//! nearest its stated line wins); a hunk whose context is nowhere in the
//! text is refused by name, never guessed.

/// Whether code is a unified diff rather than a file.
pub fn looks_like_diff(code: &str) -> bool {
    let mut lines = code.lines().map(str::trim_end);
    let has_headers = code.lines().zip(code.lines().skip(1)).any(|(a, b)| a.starts_with("--- ") && b.starts_with("+++ "));
    has_headers || lines.any(|l| l.starts_with("@@ ") || l == "@@")
}

/// The diff at the start of bare text, up to the first line that is
/// neither a diff line nor blank (prose after it).
pub fn bare_diff(text: &str) -> Option<String> {
    let start = text.lines().position(|l| l.starts_with("--- ") || l.starts_with("@@ "))?;
    let lines: Vec<&str> = text.lines().skip(start).take_while(|l| l.is_empty() || l.starts_with([' ', '+', '-', '@', '\\'])).collect();
    let diff = lines.join("\n") + "\n";
    looks_like_diff(&diff).then_some(diff)
}

#[derive(Debug)]
struct Hunk {
    header: String,
    /// 0-based line the hunk says it starts at, when it says.
    stated: Option<usize>,
    lines: Vec<Line>,
}

#[derive(Debug)]
enum Line {
    Context(String),
    Removed(String),
    Added(String),
}

impl Hunk {
    fn old(&self) -> Vec<&str> {
        self.lines.iter().filter_map(|l| match l { Line::Context(t) | Line::Removed(t) => Some(t.as_str()), Line::Added(_) => None }).collect()
    }

    /// How to name this hunk to a person: its header and first changed line.
    fn name(&self, number: usize) -> String {
        let first = self.lines.iter().find_map(|l| match l { Line::Removed(t) | Line::Added(t) => Some(t.trim()), Line::Context(_) => None }).unwrap_or("");
        format!("hunk {number} (`{}`, at `{first}`)", self.header.trim())
    }
}

fn hunks(diff: &str) -> Vec<Hunk> {
    let mut hunks: Vec<Hunk> = Vec::new();
    let lines: Vec<&str> = diff.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let file_header = line.starts_with("--- ") && lines.get(i + 1).is_some_and(|n| n.starts_with("+++ "));
        let after_file_header = line.starts_with("+++ ") && i > 0 && lines[i - 1].starts_with("--- ");
        if file_header || after_file_header || line.starts_with("diff --git") || line.starts_with("index ") {
            continue;
        }
        if line.starts_with("@@") {
            hunks.push(Hunk { header: line.to_string(), stated: stated_line(line), lines: Vec::new() });
            continue;
        }
        let Some(hunk) = hunks.last_mut() else { continue };
        let parsed = match line.chars().next() {
            Some('+') => Line::Added(line[1..].to_string()),
            Some('-') => Line::Removed(line[1..].to_string()),
            Some('\\') => continue,
            Some(' ') => Line::Context(line[1..].to_string()),
            // A context line that lost its leading space (or a blank one).
            _ => Line::Context(line.to_string()),
        };
        hunk.lines.push(parsed);
    }
    for hunk in &mut hunks {
        // Blank lines after the last change are padding before the fence.
        while matches!(hunk.lines.last(), Some(Line::Context(t)) if t.is_empty()) {
            hunk.lines.pop();
        }
    }
    hunks
}

/// `@@ -12,7 +12,8 @@` says the hunk starts at line 12 (0-based 11).
fn stated_line(header: &str) -> Option<usize> {
    let old = header.split_whitespace().find(|w| w.starts_with('-'))?;
    let start: usize = old[1..].split(',').next()?.parse().ok()?;
    Some(start.saturating_sub(1))
}

/// `original` with every hunk of `diff` applied, or the hunk that fits nowhere.
pub fn apply(original: &str, diff: &str) -> Result<String, String> {
    let hunks = hunks(diff);
    if hunks.is_empty() {
        return Err("the diff holds no hunk (no `@@` line)".into());
    }
    let text: Vec<&str> = original.lines().collect();
    let mut out: Vec<String> = Vec::new();
    let mut cursor = 0;
    for (number, hunk) in hunks.iter().enumerate() {
        let at = place(&text, cursor, hunk).ok_or_else(|| hunk.name(number + 1))?;
        out.extend(text[cursor..at].iter().map(|l| l.to_string()));
        let mut here = at;
        for line in &hunk.lines {
            match line {
                // Context keeps the file's own text (models lose trailing spaces).
                Line::Context(_) => out.push(text[here].to_string()),
                Line::Removed(_) => {}
                Line::Added(t) => {
                    out.push(t.clone());
                    continue;
                }
            }
            here += 1;
        }
        cursor = here;
    }
    out.extend(text[cursor..].iter().map(|l| l.to_string()));
    let mut result = out.join("\n");
    if original.ends_with('\n') || original.is_empty() {
        result.push('\n');
    }
    Ok(result)
}

/// Where a hunk's old lines start in `text` (at or after `from`): an exact
/// match first, then one ignoring indentation and trailing space; nearest
/// the stated line among several.
fn place(text: &[&str], from: usize, hunk: &Hunk) -> Option<usize> {
    let old = hunk.old();
    if old.is_empty() {
        return hunk.stated.map(|at| at.clamp(from, text.len()));
    }
    let exact = |a: &str, b: &str| a == b;
    let loose = |a: &str, b: &str| a.trim() == b.trim();
    for same in [&exact as &dyn Fn(&str, &str) -> bool, &loose] {
        let fits = |at: &usize| old.iter().enumerate().all(|(i, line)| same(text[at + i], line));
        let last_start = text.len().checked_sub(old.len())?;
        let found = (from..=last_start).filter(fits).min_by_key(|at| hunk.stated.map_or(0, |s| at.abs_diff(s)));
        if found.is_some() {
            return found;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "a\nb\nc\nd\ne\nf\n";

    #[test]
    fn hunks_are_placed_by_context_even_when_numbers_are_off() {
        assert_eq!(apply(TEXT, "@@ -2,3 +2,3 @@\n b\n-c\n+C\n d\n").unwrap(), "a\nb\nC\nd\ne\nf\n");
        assert_eq!(apply(TEXT, "--- a/x\n+++ b/x\n@@ -40,3 +40,3 @@\n d\n-e\n+E\n f\n").unwrap(), "a\nb\nc\nd\nE\nf\n");
        assert_eq!(apply(TEXT, "@@ ... @@\nb\n-c\n").unwrap(), "a\nb\nd\ne\nf\n", "a context line without its space");
        assert_eq!(apply(TEXT, "@@ -1 +1 @@\n-a  \n+A\n").unwrap(), "A\nb\nc\nd\ne\nf\n", "trailing space ignored");
    }

    #[test]
    fn a_hunk_that_fits_nowhere_is_named() {
        let error = apply(TEXT, "@@ -1,2 +1,2 @@\n a\n-b\n+B\n@@ -5,2 +5,2 @@\n-x\n+y\n").unwrap_err();
        assert_eq!(error, "hunk 2 (`@@ -5,2 +5,2 @@`, at `x`)");
        assert!(apply(TEXT, "no hunks here").is_err());
    }

    #[test]
    fn diffs_are_recognised_fenced_or_bare() {
        assert!(looks_like_diff("--- a/x\n+++ b/x\n"));
        assert!(!looks_like_diff("defmodule A do\n  x = 1 -- 2\nend\n"));
        assert_eq!(bare_diff("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+A\n\nThis renames a.").unwrap(), "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+A\n\n");
    }

    proptest::proptest! {
        #[test]
        fn applying_any_diff_never_panics(diff in "(@@ -[0-9] \\+[0-9] @@\\n|[ +-]?[abc]{0,2}\\n){0,8}") {
            let _ = apply(TEXT, &diff);
        }
    }
}
