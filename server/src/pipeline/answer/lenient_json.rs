//! JSON as models write it: `//` and `/* */` comments, trailing commas,
//! and prose or fences around it. Every JSON value found in a text, so
//! the caller can pick the one that holds what it wants.

use serde_json::Value;

/// Parse one JSON text, forgiving comments and trailing commas.
pub fn parse(text: &str) -> Option<Value> {
    serde_json::from_str(&clean(text)).ok()
}

/// Every top-level `{...}` or `[...]` in `text` that parses, in order.
pub fn values_in(text: &str) -> Vec<Value> {
    let mut values = Vec::new();
    let mut at = 0;
    while let Some(offset) = text[at..].find(['{', '[']) {
        let start = at + offset;
        match balanced_end(&text[start..]).and_then(|end| parse(&text[start..start + end]).map(|v| (end, v))) {
            Some((end, value)) => {
                values.push(value);
                at = start + end;
            }
            None => at = start + 1,
        }
    }
    values
}

/// Where the bracket opening `text` closes, strings and comments skipped.
fn balanced_end(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => skip_string(&mut chars),
            '/' if chars.peek().is_some_and(|(_, n)| *n == '/' || *n == '*') => skip_comment(&mut chars),
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

type Chars<'a> = std::iter::Peekable<std::str::CharIndices<'a>>;

fn skip_string(chars: &mut Chars) {
    while let Some((_, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '"' => return,
            _ => {}
        }
    }
}

/// After a `/` whose next char is `/` or `*`.
fn skip_comment(chars: &mut Chars) {
    let block = chars.next().is_some_and(|(_, c)| c == '*');
    let mut previous = ' ';
    for (_, c) in chars.by_ref() {
        if (!block && c == '\n') || (block && previous == '*' && c == '/') {
            return;
        }
        previous = c;
    }
}

/// The text without comments and without commas before `}` or `]`.
fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        match c {
            '"' => {
                skip_string(&mut chars);
                let end = chars.peek().map_or(text.len(), |(i, _)| *i);
                out.push_str(&text[start..end]);
            }
            '/' if chars.peek().is_some_and(|(_, n)| *n == '/' || *n == '*') => {
                skip_comment(&mut chars);
                out.push(' ');
            }
            '}' | ']' => {
                let kept = out.trim_end().len();
                if out[..kept].ends_with(',') {
                    out.truncate(kept - 1);
                }
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn comments_and_trailing_commas_are_forgiven() {
        let text = "{\n  // the list\n  \"a\": [1, 2,], /* two */\n  \"b\": \"// not a comment,}\",\n}";
        assert_eq!(parse(text), Some(json!({"a": [1, 2], "b": "// not a comment,}"})));
    }

    #[test]
    fn every_value_in_prose_is_found_in_order() {
        let text = "For example {\"findings\": []} or [1, 2]; mine: {\"findings\": [{\"m\": \"x}\"}]} [not json";
        assert_eq!(values_in(text), vec![json!({"findings": []}), json!([1, 2]), json!({"findings": [{"m": "x}"}]})]);
    }
}
