//! The mistakes Elixir's tokenizer finds before its parser runs, found the
//! way it finds them (`elixir_tokenizer.erl`): strings, heredocs, sigils and
//! quoted atoms never terminated, `(` `[` `{` `<<` `do` `fn` `#{` matched
//! with their closers on one stack, characters no token starts with, `do`
//! where a block cannot start. tree-sitter lexes only what its parse state
//! allows, so after a mistake its tokens drift from Elixir's; this reads the
//! text itself, in one pass.
//!
//! After a closer that closes nothing, or one that closes an opener further
//! down the stack (those above it were never closed), the scan goes on to
//! find independent mistakes; after a literal left open, the rest of the
//! file means something else to Elixir, and it stops.

use std::ops::Range;

/// One mistake, shown at `range`, explaining the errors inside `claims`.
pub(super) struct Mistake {
    pub range: Range<usize>,
    pub claims: Range<usize>,
    pub message: String,
    /// Set for a `do` or `fn` still open at the end of the file: Elixir
    /// matches every `end` with the innermost open block, so the block
    /// reported is often not the one left open, and the caller may know better.
    pub open_at_end: Option<OpenAtEnd>,
}

pub(super) struct OpenAtEnd {
    /// The innermost block still open.
    pub opener: usize,
    /// The block Elixir's hint names: one still open when another of its
    /// kind opened no further indented.
    pub hinted: Option<usize>,
    /// Every block closed, as Elixir pairs them: (`do` or `fn`, its `end`), sorted.
    pub closed_blocks: Vec<(usize, usize)>,
}

pub(super) fn mistakes(source: &str) -> Vec<Mistake> {
    let mut scanner = Scanner {
        text: source,
        bytes: source.as_bytes(),
        at: 0,
        indent: leading_space(source.as_bytes(), 0),
        open: Vec::new(),
        open_counts: [0; DELIMITERS],
        interpolations: Vec::new(),
        block_hints: Vec::new(),
        end_hints: Vec::new(),
        closed_blocks: Vec::new(),
        previous: Previous::LineStart,
        dangling: None,
        found: Vec::new(),
    };
    if scanner.scan().is_ok() {
        scanner.end_of_file();
    }
    scanner.found
}

const DELIMITERS: usize = 7;

/// The BEAM's limit.
const MAX_ATOM_LENGTH: usize = 255;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Delimiter {
    Paren,
    Bracket,
    Brace,
    Bits,
    Do,
    Fn,
    Interpolation,
}

impl Delimiter {
    fn opener(self) -> &'static str {
        match self {
            Delimiter::Paren => "(",
            Delimiter::Bracket => "[",
            Delimiter::Brace => "{",
            Delimiter::Bits => "<<",
            Delimiter::Do => "do",
            Delimiter::Fn => "fn",
            Delimiter::Interpolation => "#{",
        }
    }

    fn closer(self) -> &'static str {
        match self {
            Delimiter::Paren => ")",
            Delimiter::Bracket => "]",
            Delimiter::Brace | Delimiter::Interpolation => "}",
            Delimiter::Bits => ">>",
            Delimiter::Do | Delimiter::Fn => "end",
        }
    }

    fn is_block(self) -> bool {
        matches!(self, Delimiter::Do | Delimiter::Fn)
    }

    /// Whether `closer` (named by the opener it is for) closes this opener:
    /// `end` closes `fn` as well as `do`.
    fn closed_by(self, closer: Delimiter) -> bool {
        self == closer || (self.is_block() && closer.is_block())
    }
}

#[derive(Clone, Copy)]
struct Opener {
    kind: Delimiter,
    at: usize,
    /// The indentation of its line, for Elixir's hints.
    indent: usize,
    /// The mistake found at this opener (`, do`, `Alias(`), in `found`:
    /// it claims the code up to the closer.
    mistake: Option<usize>,
}

/// A string-like literal being read.
#[derive(Clone, Copy)]
struct Literal {
    /// Where it opens (`"`, `~r/`, `:"`...).
    start: usize,
    opener_len: usize,
    /// One byte, or three for heredocs.
    closer: &'static [u8],
    interpolates: bool,
    what: &'static str,
    /// Whether it names an atom (`:"a b"`, `foo."a b"()`), at most 255 long.
    atom: bool,
}

impl Literal {
    fn heredoc(&self) -> bool {
        self.closer.len() == 3
    }
}

/// The token before, as far as `do`, `(`, `.` and quotes care.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Previous {
    LineStart,
    /// `,` or `;`, which a newline does not end.
    Separator,
    Dot,
    Alias(usize),
    /// `)`, after which a keyword needs a comma.
    CloseParen,
    /// `fn` or an operator word, after which `do` cannot come.
    NoDoAfter,
    Other,
}

struct Scanner<'s> {
    text: &'s str,
    bytes: &'s [u8],
    at: usize,
    /// The indentation of the line being read (spaces and tabs), updated as
    /// Elixir does: at newlines outside literals.
    indent: usize,
    open: Vec<Opener>,
    /// How many openers of each kind `open` holds, so that a closer with
    /// none to close costs nothing to tell.
    open_counts: [usize; DELIMITERS],
    /// The literals whose interpolations are open, each with the index of
    /// its `#{` in `open`, innermost last.
    interpolations: Vec<(Literal, usize)>,
    /// Elixir's hints: blocks still open when another of their kind opened
    /// no further indented, and `end`s indented deeper than their `do`.
    block_hints: Vec<Opener>,
    end_hints: Vec<usize>,
    /// (`do` or `fn`, its `end`) for every block closed.
    closed_blocks: Vec<(usize, usize)>,
    previous: Previous,
    /// The last token, when it needs something after it (`+`, `,`, `when`).
    dangling: Option<Range<usize>>,
    found: Vec<Mistake>,
}

/// Whether the scan goes on: a literal left open stops it.
type Flow = Result<(), Stop>;
struct Stop;

impl Scanner<'_> {
    fn scan(&mut self) -> Flow {
        while self.at < self.bytes.len() {
            self.token()?;
        }
        Ok(())
    }

    fn peek(&self, offset: usize) -> u8 {
        self.bytes.get(self.at + offset).copied().unwrap_or(0)
    }

    fn starts_with(&self, prefix: &[u8]) -> bool {
        self.bytes[self.at..].starts_with(prefix)
    }

    /// Reads one token (or blank, or comment) of code.
    fn token(&mut self) -> Flow {
        let start = self.at;
        let byte = self.bytes[start];
        let dangling = if matches!(byte, b'\n' | b' ' | b'\t' | b'\r' | b'#') { None } else { self.dangling.take() };
        // A closer that closes nothing is the mistake, not what is before it.
        let closer = match byte {
            b')' => Some(Delimiter::Paren),
            b']' => Some(Delimiter::Bracket),
            b'}' => Some(Delimiter::Brace),
            b'>' if self.starts_with(b">>") && !self.starts_with(b">>>") => Some(Delimiter::Bits),
            _ => None,
        };
        if byte == b',' || closer.is_some_and(|closer| self.top_closed_by(closer)) {
            let next = start..start + if byte == b'>' { 2 } else { 1 };
            self.nothing_after(dangling.clone(), next, byte == b',');
        }
        match byte {
            b'\n' => {
                self.at += 1;
                self.newline();
            }
            b'\\' if matches!(self.peek(1), b'\n' | b'\r') => {
                // A line continuation: no end of line for Elixir.
                self.at += if self.peek(1) == b'\r' && self.peek(2) == b'\n' { 3 } else { 2 };
                self.indent = leading_space(self.bytes, self.at);
            }
            b' ' | b'\t' | b'\r' => self.at += 1,
            b'#' => self.at = line_end(self.bytes, start),
            b'"' | b'\'' => return self.quote(),
            b'~' if self.peek(1).is_ascii_alphabetic() => return self.sigil(),
            b'~' if self.starts_with(b"~>>") || self.starts_with(b"~~~") => self.operator(3),
            b'~' if self.peek(1) == b'>' => self.operator(2),
            b'=' if self.peek(1) == b'~' => self.operator(2),
            b'%' if matches!(self.peek(1), b'(' | b'[') => {
                let message = format!("syntax error: unexpected `{}`: a map is written `%{{`", &self.text[start..start + 2]);
                self.report(start..start + 2, start..start + 2, message);
                self.operator(1);
            }
            b'?' => self.char_literal(),
            b':' => return self.colon(),
            b'(' | b'[' | b'{' => {
                let kind = match byte {
                    b'(' => Delimiter::Paren,
                    b'[' => Delimiter::Bracket,
                    _ => Delimiter::Brace,
                };
                let previous = self.previous;
                self.push(kind, start, 1);
                if let (Delimiter::Paren, Previous::Alias(alias)) = (kind, previous) {
                    let name = self.text[alias..start].trim_end();
                    self.mistake_at_opener(format!("syntax error: unexpected `(` after the alias `{name}`: function names start with a lowercase letter"));
                }
            }
            b'<' if self.starts_with(b"<<<") || self.starts_with(b"<<~") => self.operator(3),
            b'<' if self.peek(1) == b'~' => self.operator(2),
            b'<' if self.peek(1) == b'<' => self.push(Delimiter::Bits, start, 2),
            b'>' if self.starts_with(b">>>") => self.operator(3),
            b'>' if self.peek(1) == b'>' => return self.close(Delimiter::Bits, start..start + 2),
            b')' => {
                self.close(Delimiter::Paren, start..start + 1)?;
                self.previous = Previous::CloseParen;
            }
            b']' => return self.close(Delimiter::Bracket, start..start + 1),
            b'}' => return self.close(Delimiter::Brace, start..start + 1),
            b',' | b';' => {
                self.at += 1;
                self.previous = Previous::Separator;
                self.dangling = (byte == b',').then_some(start..start + 1);
            }
            b'.' => {
                let dots = self.bytes[start..].iter().take_while(|b| **b == b'.').count();
                self.at += dots;
                self.previous = if dots == 1 { Previous::Dot } else { Previous::Other };
                // `..` alone is a range of everything; after an operand it needs another.
                let after_operand = self.text[..start].trim_end_matches([' ', '\t']).ends_with(|c: char| c.is_alphanumeric() || "_)]}\"'?!".contains(c));
                self.dangling = (dots == 1 || dots == 2 && after_operand).then_some(start..start + dots);
            }
            b'0'..=b'9' => self.number(),
            b'\\' if self.peek(1) == b'\\' => self.operator(2),
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => return self.word(dangling),
            // An alias is made of ASCII letters: `Р` (Cyrillic) starts none.
            0x80.. if self.text[start..].starts_with(|c: char| c.is_alphabetic() && !c.is_uppercase()) => return self.word(dangling),
            b'+' | b'-' | b'*' | b'/' | b'=' | b'<' | b'>' | b'!' | b'^' | b'&' | b'|' | b'@' | b'%' => {
                self.operator(1)
            }
            _ => {
                // `` ` ``, `$`, a lone `\`, a non-breaking space...
                let end = next_char(self.text, start);
                let message = format!("syntax error: unexpected `{}`", &self.text[start..end]);
                self.report(start..end, start..end, message);
                self.at = end;
                self.previous = Previous::Other;
            }
        }
        Ok(())
    }

    fn top_closed_by(&self, closer: Delimiter) -> bool {
        self.open.last().is_some_and(|top| top.kind.closed_by(closer))
    }

    /// `x + )`, `foo(a, , b)`, `x +` then `end`: an operator, or a comma,
    /// with nothing after it before the token `next` (a trailing comma is
    /// fine before a closer, not before `,` or `end`: `comma_ends`).
    fn nothing_after(&mut self, dangling: Option<Range<usize>>, next: Range<usize>, comma_ends: bool) {
        let Some(dangling) = dangling else { return };
        if self.bytes[dangling.start] == b',' && !comma_ends {
            return;
        }
        let range = self.operator_run(dangling);
        if &self.text[range.clone()] == "->" {
            // `fn -> end`: a clause may be empty.
            return;
        }
        let message = format!("syntax error: nothing follows `{}`", &self.text[range.clone()]);
        self.report(range.clone(), range.start..next.end, message);
    }

    /// The whole operator a dangling token ends (`|>` for its `>`).
    fn operator_run(&self, dangling: Range<usize>) -> Range<usize> {
        let run = self.bytes[..dangling.start].iter().rev().take_while(|b| is_operator_byte(**b)).count();
        if is_operator_byte(self.bytes[dangling.start]) { dangling.start - run..dangling.end } else { dangling }
    }

    fn operator(&mut self, len: usize) {
        let start = self.at;
        self.at += len;
        self.previous = Previous::Other;
        self.dangling = Some(start..self.at);
    }

    fn newline(&mut self) {
        self.indent = leading_space(self.bytes, self.at);
        if !matches!(self.previous, Previous::Separator | Previous::Dot) {
            self.previous = Previous::LineStart;
        }
    }

    fn push(&mut self, kind: Delimiter, at: usize, len: usize) {
        if kind.is_block() {
            // Elixir's hint that a block lacks its `end`: another of its kind
            // opens no further indented while it is still open.
            if let Some(top) = self.open.last().filter(|top| top.kind == kind && self.indent <= top.indent) {
                self.block_hints.push(*top);
            }
        }
        self.open.push(Opener { kind, at, indent: self.indent, mistake: None });
        self.open_counts[kind as usize] += 1;
        self.at = at + len;
        self.previous = if kind == Delimiter::Fn { Previous::NoDoAfter } else { Previous::Other };
    }

    /// Pops the opener `closer` closes.
    fn pop_closed(&mut self, closer: Range<usize>) {
        let Some(opener) = self.pop() else { return };
        if opener.kind.is_block() {
            self.closed_blocks.push((opener.at, closer.start));
        }
        if let Some(mistake) = opener.mistake {
            self.found[mistake].claims.end = closer.end;
        }
    }

    /// The opener just pushed is a mistake, just reported.
    fn mistake_at_opener(&mut self, message: String) {
        let opener = self.open.last_mut().expect("an opener was pushed");
        let range = opener.at..opener.at + opener.kind.opener().len();
        opener.mistake = Some(self.found.len());
        self.report(range.clone(), range, message);
    }

    fn pop(&mut self) -> Option<Opener> {
        let opener = self.open.pop()?;
        self.open_counts[opener.kind as usize] -= 1;
        Some(opener)
    }

    fn close(&mut self, kind: Delimiter, range: Range<usize>) -> Flow {
        self.at = range.end;
        self.previous = Previous::Other;
        let Some(top) = self.open.last().copied() else {
            return self.stray(kind, range);
        };
        if top.kind.closed_by(kind) {
            if top.kind == Delimiter::Do && self.indent > top.indent {
                self.end_hints.push(range.start);
            }
            self.pop_closed(range);
            return Ok(());
        }
        if top.kind == Delimiter::Interpolation && kind == Delimiter::Brace {
            self.pop();
            let (literal, _) = self.interpolations.pop().expect("an open `#{` is inside a literal");
            return self.literal_body(literal);
        }
        // Only an opener inside the innermost interpolation can match.
        let frame = self.interpolations.last().map_or(0, |(_, at)| at + 1);
        let open_of_kind = self.open_counts[kind as usize] + if kind == Delimiter::Do { self.open_counts[Delimiter::Fn as usize] } else { 0 };
        let matched = if open_of_kind == 0 { None } else { self.open.iter().rposition(|o| o.kind.closed_by(kind)) };
        match matched.filter(|matched| *matched >= frame) {
            Some(matched) => {
                while self.open.len() > matched + 1 {
                    let opener = self.pop().expect("openers above the match");
                    self.report_unclosed(opener, range.start);
                }
                self.pop_closed(range);
                Ok(())
            }
            None => self.stray(kind, range),
        }
    }

    /// A closer with nothing of its kind to close.
    fn stray(&mut self, kind: Delimiter, range: Range<usize>) -> Flow {
        let closer = kind.closer();
        if let Some(&(literal, interpolation)) = self.interpolations.last() {
            let opener = self.open[interpolation].at;
            let line = line_number(self.bytes, opener);
            let message = format!("syntax error: unexpected `{closer}` inside the `#{{` opened on line {line}, which has no matching `}}`");
            self.report(range, literal.start..self.bytes.len(), message);
            return Err(Stop);
        }
        // Elixir's hint for an `end` too many: the last `end` indented
        // deeper than the `do` it closed, which was likely meant for none.
        let range = match (kind.is_block(), self.open.is_empty(), self.end_hints.last()) {
            (true, true, Some(&hint)) => hint..hint + 3,
            _ => range,
        };
        let message = if kind.is_block() {
            "syntax error: unexpected `end`: it has no `do` to close".to_string()
        } else {
            format!("syntax error: unexpected `{closer}`")
        };
        self.report(range.clone(), range, message);
        Ok(())
    }

    fn report_unclosed(&mut self, opener: Opener, until: usize) {
        let range = opener.at..opener.at + opener.kind.opener().len();
        self.report(range, opener.at..until, unclosed_message(opener.kind));
    }

    fn report(&mut self, range: Range<usize>, claims: Range<usize>, message: String) {
        self.found.push(Mistake { range, claims, message, open_at_end: None });
    }

    /// What the end of the file leaves open: a mistake of its own only
    /// when none came before, after which the pairing is guesswork (where
    /// Elixir stops).
    fn end_of_file(&mut self) {
        if !self.found.is_empty() {
            return;
        }
        let Some(top) = self.open.last().copied() else {
            if let Some(dangling) = self.dangling.take() {
                // `x +` or `foo a,` ends the file: Elixir needs what follows.
                let range = self.operator_run(dangling);
                let message = format!("syntax error: nothing follows `{}` at the end of the file", &self.text[range.clone()]);
                self.report(range.clone(), range.start..self.bytes.len(), message);
            }
            return;
        };
        let range = top.at..top.at + top.kind.opener().len();
        let claims = top.at..self.bytes.len();
        let open_at_end = top.kind.is_block().then(|| {
            let mut closed_blocks = std::mem::take(&mut self.closed_blocks);
            closed_blocks.sort_unstable();
            OpenAtEnd {
                opener: top.at,
                hinted: self.block_hints.iter().rev().find(|hint| hint.kind == top.kind).map(|hint| hint.at),
                closed_blocks,
            }
        });
        self.found.push(Mistake { range, claims, message: unclosed_message(top.kind), open_at_end });
    }

    /// An identifier, alias, keyword (`do:`) or reserved word; `dangling`
    /// is the token before if it needs something after it.
    fn word(&mut self, dangling: Option<Range<usize>>) -> Flow {
        let start = self.at;
        let mut end = word_end(self.text, start);
        let previous = std::mem::replace(&mut self.previous, Previous::Other);
        let keyword_at = |end: usize| self.bytes.get(end) == Some(&b':') && self.bytes.get(end + 1).is_none_or(|b| b.is_ascii_whitespace());
        if self.bytes.get(end) == Some(&b'@') {
            // Only keywords may hold `@` (`node@host: 1`), as atoms may.
            let extended = atom_end(self.text, start);
            if keyword_at(extended) {
                end = extended;
            } else {
                let message = format!("syntax error: unexpected `@` in the name `{}@`", &self.text[start..end]);
                self.report(start..end + 1, start..end + 1, message);
            }
        }
        self.at = end;
        let word = &self.text[start..end];
        if keyword_at(end) {
            self.at += 1;
            if previous == Previous::CloseParen {
                // `def f(x) do: x`: keyword arguments after a call's parentheses need a comma.
                let message = format!("syntax error: unexpected keyword `{word}:`: a comma is missing before it");
                self.report(start..end + 1, start..end + 1, message);
            }
            return Ok(());
        }
        if self.bytes.get(end) == Some(&b':') && self.bytes.get(end + 1) != Some(&b':') {
            let message = format!("syntax error: the keyword `{word}:` needs a space after it");
            self.report(start..end + 1, start..end + 1, message);
        }
        let alias = self.bytes[start].is_ascii_uppercase();
        if alias && word.ends_with(['?', '!']) {
            let message = format!("syntax error: unexpected `{}` in the alias `{word}`", &word[word.len() - 1..]);
            self.report(start..end, start..end, message);
        }
        if previous == Previous::Dot {
            if alias {
                self.previous = Previous::Alias(start);
            }
            return Ok(());
        }
        match word {
            // `x +` or `foo a,` before a block's end or next clause.
            "end" | "after" | "else" | "catch" | "rescue" if self.top_closed_by(Delimiter::Do) => {
                self.nothing_after(dangling, start..end, true)
            }
            // `def f(x) |> do` (after a comma, `do` is wrong anyway).
            "do" => self.nothing_after(dangling, start..end, false),
            _ => {}
        }
        match word {
            "do" => {
                self.push(Delimiter::Do, start, 2);
                if matches!(previous, Previous::Separator | Previous::NoDoAfter) {
                    let message = "syntax error: unexpected `do`: a `do` block follows a call's arguments, a keyword argument is written `do:`";
                    self.mistake_at_opener(message.to_string());
                }
            }
            "fn" => self.push(Delimiter::Fn, start, 2),
            "end" => return self.close(Delimiter::Do, start..end),
            "not" | "and" | "or" | "when" | "in" => {
                self.previous = Previous::NoDoAfter;
                self.dangling = Some(start..end);
            }
            "after" | "else" | "catch" | "rescue" => self.previous = Previous::NoDoAfter,
            _ if alias => self.previous = Previous::Alias(start),
            _ => {}
        }
        Ok(())
    }

    /// `12`, `1_000`, `1.5e-3`, `0x1F`. A letter right after a decimal
    /// number is Elixir's error (`1e3` too: an exponent needs a fraction).
    fn number(&mut self) {
        let start = self.at;
        self.previous = Previous::Other;
        let radix: Option<fn(&u8) -> bool> = match &self.bytes[start..] {
            [b'0', b'x', next, ..] if next.is_ascii_hexdigit() => Some(u8::is_ascii_hexdigit),
            [b'0', b'b', b'0' | b'1', ..] => Some(|b| matches!(b, b'0' | b'1')),
            [b'0', b'o', b'0'..=b'7', ..] => Some(|b| matches!(b, b'0'..=b'7')),
            _ => None,
        };
        if let Some(digit) = radix {
            self.at = digits_end(self.bytes, start + 2, digit);
            return;
        }
        let mut end = digits_end(self.bytes, start, u8::is_ascii_digit);
        if self.bytes.get(end) == Some(&b'.') && self.bytes.get(end + 1).is_some_and(u8::is_ascii_digit) {
            end = digits_end(self.bytes, end + 1, u8::is_ascii_digit);
            let sign = usize::from(matches!(self.bytes.get(end + 1), Some(b'+' | b'-')));
            if matches!(self.bytes.get(end), Some(b'e' | b'E')) && self.bytes.get(end + 1 + sign).is_some_and(u8::is_ascii_digit) {
                end = digits_end(self.bytes, end + 1 + sign, u8::is_ascii_digit);
            }
        }
        self.at = end;
        if self.bytes.get(end).is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_') {
            let message = format!("syntax error: unexpected `{}` right after the number `{}`", self.bytes[end] as char, &self.text[start..end]);
            self.report(start..end + 1, start..end + 1, message);
        }
    }

    /// `?a`, `?\n`, `?"`: one character, whatever it is.
    fn char_literal(&mut self) {
        let mut at = self.at + 1;
        if self.bytes.get(at) == Some(&b'\\') {
            at += 1;
        }
        self.at = next_char(self.text, at);
        self.previous = Previous::Other;
    }

    /// Atoms, `::`, and the `:"quoted"` atoms (read as literals).
    fn colon(&mut self) -> Flow {
        let start = self.at;
        self.previous = Previous::Other;
        match self.peek(1) {
            b'"' | b'\'' => {
                let closer: &'static [u8] = if self.peek(1) == b'"' { b"\"" } else { b"'" };
                return self.literal(Literal { start, opener_len: 2, closer, interpolates: true, what: "atom", atom: true });
            }
            b':' => self.operator(2),
            b'a'..=b'z' | b'A'..=b'Z' | b'_' | 0x80.. => self.at = atom_end(self.text, start + 1),
            _ => {
                // Atoms of delimiters (`:<<>>`, `:%{}`, `:{}`) or operators (`:+`, `:|>`).
                let special: &[&[u8]] = &[b":<<>>", b":%{}", b":{}", b":..//"];
                let len = match special.iter().find(|s| self.starts_with(s)) {
                    Some(special) => special.len(),
                    None => 1 + self.bytes[start + 1..].iter().take(3).take_while(|b| is_operator_byte(**b)).count(),
                };
                // Right after an operator, `: ` makes a keyword of it
                // (`&&&: 2`, `%{}: x`); anywhere else, nothing.
                let before = &self.bytes[..start];
                let keyword = before.last().is_some_and(|b| is_operator_byte(*b)) || before.ends_with(b"{}");
                if len == 1 && !keyword {
                    self.report(start..start + 1, start..start + 1, "syntax error: unexpected `:`".to_string());
                }
                self.at += len;
            }
        }
        Ok(())
    }

    /// `"`, `'`, and their heredocs, which a `.` before makes quoted names
    /// (`foo."name"`): never heredocs.
    fn quote(&mut self) -> Flow {
        let start = self.at;
        let byte = self.bytes[start];
        let heredoc = self.peek(1) == byte && self.peek(2) == byte && self.previous != Previous::Dot;
        let (closer, what): (&'static [u8], _) = match (byte, heredoc) {
            (b'"', true) => (b"\"\"\"", "heredoc"),
            (b'"', false) => (b"\"", "string"),
            (_, true) => (b"'''", "heredoc"),
            _ => (b"'", "charlist"),
        };
        let atom = self.previous == Previous::Dot;
        self.literal(Literal { start, opener_len: closer.len(), closer, interpolates: true, what, atom })
    }

    /// `~r/.../`, `~S"""`...: lowercase sigils interpolate, all take escapes.
    fn sigil(&mut self) -> Flow {
        let start = self.at;
        // One lowercase letter, or uppercase ones (`~HTML`, in newer Elixir).
        let letters = if self.bytes[start + 1].is_ascii_lowercase() {
            1
        } else {
            self.bytes[start + 1..].iter().take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit()).count()
        };
        let delimiter_at = start + 1 + letters;
        let interpolates = self.bytes[start + 1].is_ascii_lowercase();
        let closer: &'static [u8] = match &self.bytes[delimiter_at..] {
            [b'"', b'"', b'"', ..] => b"\"\"\"",
            [b'\'', b'\'', b'\'', ..] => b"'''",
            [b'/', ..] => b"/",
            [b'|', ..] => b"|",
            [b'"', ..] => b"\"",
            [b'\'', ..] => b"'",
            [b'(', ..] => b")",
            [b'[', ..] => b"]",
            [b'{', ..] => b"}",
            [b'<', ..] => b">",
            _ => {
                let name = &self.text[start..delimiter_at];
                let message = format!("syntax error: `{name}` needs a delimiter after it: one of / | \" ' ( [ {{ <");
                self.report(start..delimiter_at, start..delimiter_at, message);
                self.at = delimiter_at;
                self.previous = Previous::Other;
                return Ok(());
            }
        };
        let opener_len = 1 + letters + closer.len();
        self.literal(Literal { start, opener_len, closer, interpolates, what: "sigil", atom: false })
    }

    fn literal(&mut self, literal: Literal) -> Flow {
        self.at = literal.start + literal.opener_len;
        if literal.heredoc() {
            // Only blanks may follow a heredoc's opening quotes on its line.
            let line_end = line_end(self.bytes, self.at);
            if !self.text[self.at..line_end].trim().is_empty() || line_end == self.bytes.len() {
                let range = literal.start..literal.start + literal.opener_len;
                let quotes = std::str::from_utf8(literal.closer).unwrap_or("\"\"\"");
                let message = format!("syntax error: nothing may follow a heredoc's opening {quotes} on their line");
                self.report(range.clone(), literal.start..self.bytes.len(), message);
                return Err(Stop);
            }
        }
        self.literal_body(literal)
    }

    /// Reads a literal's content from `at` to its closer, or to an
    /// interpolation, which is read as code until its `}`.
    fn literal_body(&mut self, literal: Literal) -> Flow {
        let bytes = self.bytes;
        let mut at = self.at;
        let mut line_start = false;
        while at < bytes.len() {
            if literal.heredoc() && line_start {
                line_start = false;
                let content = at + leading_space(bytes, at);
                if bytes[content..].starts_with(literal.closer) {
                    self.at = content + literal.closer.len();
                    self.after_literal(literal);
                    return Ok(());
                }
            }
            match bytes[at] {
                b'\\' => {
                    line_start = bytes.get(at + 1) == Some(&b'\n');
                    at = next_char(self.text, at + 1);
                }
                b'\n' => {
                    line_start = true;
                    at += 1;
                }
                b'#' if literal.interpolates && bytes.get(at + 1) == Some(&b'{') => {
                    self.interpolations.push((literal, self.open.len()));
                    self.push(Delimiter::Interpolation, at, 2);
                    return Ok(());
                }
                byte if !literal.heredoc() && byte == literal.closer[0] => {
                    self.at = at + 1;
                    self.after_literal(literal);
                    return Ok(());
                }
                _ => at += 1,
            }
        }
        let opener = &self.text[literal.start..literal.start + literal.opener_len];
        let closer = std::str::from_utf8(literal.closer).unwrap_or("\"");
        let message = match literal.what {
            "sigil" => format!("unterminated sigil `{}`: no closing `{closer}`", opener.strip_suffix(closer).unwrap_or(opener)),
            what => format!("unterminated {what}: no closing `{closer}`"),
        };
        self.report(literal.start..literal.start + literal.opener_len, literal.start..bytes.len(), message);
        Err(Stop)
    }

    fn after_literal(&mut self, literal: Literal) {
        self.previous = Previous::Other;
        if literal.what == "sigil" {
            // Modifiers: `~r/x/iu`.
            self.at += self.bytes[self.at..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
            return;
        }
        let keyword = self.peek(0) == b':' && self.bytes.get(self.at + 1).is_none_or(|b| b.is_ascii_whitespace());
        if keyword {
            // A quoted keyword: `"key": value`.
            self.at += 1;
        }
        if keyword || literal.atom {
            let content = &self.text[literal.start + literal.opener_len..self.at - usize::from(keyword) - literal.closer.len()];
            if !content.contains("#{") && content.chars().count() > MAX_ATOM_LENGTH {
                let range = literal.start..literal.start + literal.opener_len;
                let message = format!("syntax error: an atom is at most {MAX_ATOM_LENGTH} characters long");
                self.report(range, literal.start..self.at, message);
            }
        }
    }
}

fn unclosed_message(kind: Delimiter) -> String {
    if kind.is_block() {
        format!("missing `end`: this `{}` block is never closed", kind.opener())
    } else {
        format!("unclosed `{}`: no matching `{}`", kind.opener(), kind.closer())
    }
}

fn is_operator_byte(byte: u8) -> bool {
    b"+-*/=<>!^&|~@%\\.:".contains(&byte)
}

/// The width of the spaces and tabs at `at`.
fn leading_space(bytes: &[u8], at: usize) -> usize {
    bytes[at.min(bytes.len())..].iter().take_while(|b| **b == b' ' || **b == b'\t').count()
}

fn line_end(bytes: &[u8], at: usize) -> usize {
    bytes[at..].iter().position(|b| *b == b'\n').map_or(bytes.len(), |i| at + i)
}

fn line_number(bytes: &[u8], at: usize) -> usize {
    bytes[..at].iter().filter(|b| **b == b'\n').count() + 1
}

/// Past the character at `at` (which may be several bytes).
fn next_char(text: &str, at: usize) -> usize {
    text.get(at..).and_then(|rest| rest.chars().next()).map_or(text.len().min(at + 1), |c| at + c.len_utf8())
}

/// Past the digits at `at` (`_` may join two of them).
fn digits_end(bytes: &[u8], mut at: usize, digit: fn(&u8) -> bool) -> usize {
    while at < bytes.len() && (digit(&bytes[at]) || (bytes[at] == b'_' && bytes.get(at + 1).is_some_and(digit))) {
        at += 1;
    }
    at
}

/// Past the atom's name at `start`: an identifier which may hold `@`
/// (`:nonode@nohost`).
fn atom_end(text: &str, start: usize) -> usize {
    let mut end = word_end(text, start);
    while text.as_bytes().get(end) == Some(&b'@') {
        end = word_end(text, end + 1);
    }
    end
}

/// Past the identifier at `start`, with its `?` or `!`. Letters of any
/// script count (and marks: Elixir takes Unicode's identifier characters).
fn word_end(text: &str, start: usize) -> usize {
    let rest = &text[start..];
    let in_word = |c: char| c.is_alphanumeric() || c == '_' || !(c.is_ascii() || c.is_whitespace());
    let len = rest.find(|c: char| !in_word(c)).unwrap_or(rest.len());
    let end = start + len;
    if matches!(text.as_bytes().get(end), Some(b'?' | b'!')) {
        end + 1
    } else {
        end
    }
}
