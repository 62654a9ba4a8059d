//! Unified diffs as models write them: headers optional, hunk line counts
//! often wrong, line numbers often off, context lines sometimes missing
//! their leading space. Each hunk is placed by its context (the place
//! nearest its stated line wins); a hunk whose context is nowhere in the
//! text, or fits several places with no line number to pick one, is
//! refused by name, never guessed. The files a diff names ([`files`]) are
//! for the caller to check: hunks are applied to the one text given.

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

/// One side of a file header: a path as written (`a/lib/x.ex`), or
/// `/dev/null` (the file is created or deleted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Side {
    Path(String),
    DevNull,
}

/// The file headers of a diff, old side then new side, in order:
/// `--- X` / `+++ Y` pairs and `diff --git a/X b/Y` lines.
pub fn files(diff: &str) -> Vec<(Side, Side)> {
    let lines: Vec<&str> = diff.lines().collect();
    let mut headers = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if let (Some(old), Some(new)) = (line.strip_prefix("--- "), lines.get(i + 1).and_then(|n| n.strip_prefix("+++ "))) {
            headers.push((side(old), side(new)));
        } else if let Some(rest) = line.strip_prefix("diff --git ") {
            if let Some((old, new)) = rest.trim().split_once(" b/") {
                headers.push((side(old), side(&format!("b/{new}"))));
            }
        }
    }
    headers
}

fn side(raw: &str) -> Side {
    // `--- a/x.ex\t2024-01-01 10:00:00` carries a timestamp after a tab.
    let name = raw.split('\t').next().unwrap_or("").trim().trim_matches('"');
    if name == "/dev/null" { Side::DevNull } else { Side::Path(name.to_string()) }
}

/// A header's path without git's `a/` or `b/` prefix.
pub fn plain(name: &str) -> &str {
    name.strip_prefix("a/").or_else(|| name.strip_prefix("b/")).unwrap_or(name)
}

/// Whether a header's path names `path`: the one is a suffix of the other,
/// whole components (`a/lib/w.ex`, `lib/w.ex` and `w.ex` all name
/// `lib/w.ex`); a path that climbs (`..`) names nothing.
pub fn names_file(name: &str, path: &str) -> bool {
    let parts = |p: &str| -> Vec<String> { p.replace('\\', "/").split('/').filter(|c| !c.is_empty() && *c != ".").map(str::to_string).collect() };
    let (path, climbs) = (parts(path), |c: &[String]| c.iter().any(|c| c == ".."));
    [name, plain(name)].iter().any(|name| {
        let name = parts(name);
        !name.is_empty() && !climbs(&name) && !climbs(&path) && (path.ends_with(&name) || name.ends_with(&path))
    })
}

/// Why a diff could not be applied, naming the hunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The hunk's context is nowhere in the text.
    Nowhere(String),
    /// The hunk's context fits several places and no line number picks one.
    Ambiguous(String),
}

/// `original` with every hunk of `diff` applied, or the hunk that fits
/// nowhere, or fits several places with nothing to choose between them.
pub fn apply(original: &str, diff: &str) -> Result<String, Refused> {
    let hunks = hunks(diff);
    if hunks.is_empty() {
        return Err(Refused::Nowhere("the diff holds no hunk (no `@@` line)".into()));
    }
    let text: Vec<&str> = original.lines().collect();
    let mut out: Vec<String> = Vec::new();
    let mut cursor = 0;
    for (number, hunk) in hunks.iter().enumerate() {
        let at = match place(&text, cursor, hunk) {
            Placed::At(at) => at,
            Placed::Nowhere => return Err(Refused::Nowhere(hunk.name(number + 1))),
            Placed::Several => return Err(Refused::Ambiguous(hunk.name(number + 1))),
        };
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
/// the stated line among several; several with no stated line, or two
/// equally near it, are [`Placed::Several`].
fn place(text: &[&str], from: usize, hunk: &Hunk) -> Placed {
    let old = hunk.old();
    if old.is_empty() {
        return hunk.stated.map_or(Placed::Nowhere, |at| Placed::At(at.clamp(from, text.len())));
    }
    let Some(last_start) = text.len().checked_sub(old.len()) else { return Placed::Nowhere };
    let exact = |a: &str, b: &str| a == b;
    let loose = |a: &str, b: &str| a.trim() == b.trim();
    for same in [&exact as &dyn Fn(&str, &str) -> bool, &loose] {
        let fits = |at: &usize| old.iter().enumerate().all(|(i, line)| same(text[at + i], line));
        let found: Vec<usize> = (from..=last_start).filter(fits).collect();
        match (found.as_slice(), hunk.stated) {
            ([], _) => continue,
            ([only], _) => return Placed::At(*only),
            (_, None) => return Placed::Several,
            (_, Some(stated)) => {
                let nearest = found.iter().map(|at| at.abs_diff(stated)).min().unwrap_or(0);
                let mut nearest_places = found.iter().filter(|at| at.abs_diff(stated) == nearest);
                return match (nearest_places.next(), nearest_places.next()) {
                    (Some(at), None) => Placed::At(*at),
                    _ => Placed::Several,
                };
            }
        }
    }
    Placed::Nowhere
}

enum Placed {
    At(usize),
    Nowhere,
    Several,
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
        assert_eq!(error, Refused::Nowhere("hunk 2 (`@@ -5,2 +5,2 @@`, at `x`)".into()));
        assert!(apply(TEXT, "no hunks here").is_err());
    }

    #[test]
    fn a_hunk_that_fits_two_places_needs_a_line_number_to_pick_one() {
        const TWICE: &str = "x\nend\n\ny\nend\n\nz\n";
        let error = apply(TWICE, "@@ ... @@\n end\n \n+# here\n").unwrap_err();
        assert_eq!(error, Refused::Ambiguous("hunk 1 (`@@ ... @@`, at `# here`)".into()));
        assert!(matches!(apply(TWICE, "@@\n end\n-\n").unwrap_err(), Refused::Ambiguous(_)));
        assert_eq!(apply(TWICE, "@@ -5,2 +5,3 @@\n end\n \n+# here\n").unwrap(), "x\nend\n\ny\nend\n\n# here\nz\n");
        assert_eq!(apply(TWICE, "@@ -1,3 +1,3 @@\n x\n-end\n+fin\n").unwrap(), "x\nfin\n\ny\nend\n\nz\n", "one place: no number needed");
    }

    #[test]
    fn file_headers_are_read_and_matched_by_suffix() {
        let diff = "--- /dev/null\n+++ b/../../outside/evil.ex\n@@ -0,0 +1 @@\n+x\n--- a/lib/worker.ex\t2024-01-01\n+++ b/lib/worker.ex\n@@ -1 +1 @@\n-a\n+b\n";
        assert_eq!(files(diff), vec![
            (Side::DevNull, Side::Path("b/../../outside/evil.ex".into())),
            (Side::Path("a/lib/worker.ex".into()), Side::Path("b/lib/worker.ex".into())),
        ]);
        assert_eq!(files("diff --git a/lib/x.ex b/lib/y.ex\n"), vec![(Side::Path("a/lib/x.ex".into()), Side::Path("b/lib/y.ex".into()))]);
        for name in ["a/lib/worker.ex", "b/lib/worker.ex", "lib/worker.ex", "worker.ex", "/home/me/app/lib/worker.ex"] {
            assert!(names_file(name, "lib/worker.ex"), "{name}");
        }
        for name in ["a/lib/other.ex", "b/../../outside/evil.ex", "lib/worker.exs", "orker.ex", "../lib/worker.ex"] {
            assert!(!names_file(name, "lib/worker.ex"), "{name}");
        }
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
