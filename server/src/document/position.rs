//! Conversion between editor positions (line + character) and byte offsets.
//!
//! LSP counts `character` in UTF-16 code units unless client and server agree
//! on UTF-8; lines end at `\n`, `\r\n` or `\r` (ropey's `cr_lines`). Positions
//! past the end of a line or of the text are clamped, never an error: editors
//! send them after fast typing, and a clamped position is what they mean.

use ropey::Rope;

/// How `character` in a position is counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PositionEncoding {
    Utf8,
    #[default]
    Utf16,
    /// Unicode scalar values: what people call columns.
    Utf32,
}

/// A zero-based line and character, counted in some [`PositionEncoding`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct TextPosition {
    pub line: u32,
    pub character: u32,
}

impl TextPosition {
    pub fn new(line: u32, character: u32) -> Self {
        Self { line, character }
    }
}

/// The byte offset of `position` in `text`, clamped to the line's content and
/// floored to a character boundary.
pub fn byte_offset(text: &Rope, position: TextPosition, encoding: PositionEncoding) -> usize {
    let line = position.line as usize;
    if line >= text.len_lines() {
        return text.len_bytes();
    }
    let line_start_char = text.line_to_char(line);
    let content_end_char = line_start_char + line_content_chars(text, line);
    let char_index = match encoding {
        PositionEncoding::Utf8 => {
            let line_start_byte = text.char_to_byte(line_start_char);
            let wanted = line_start_byte.saturating_add(position.character as usize);
            text.byte_to_char(wanted.min(text.char_to_byte(content_end_char)))
        }
        PositionEncoding::Utf16 => {
            let line_start_unit = text.char_to_utf16_cu(line_start_char);
            let content_end_unit = text.char_to_utf16_cu(content_end_char);
            let wanted = line_start_unit.saturating_add(position.character as usize);
            text.utf16_cu_to_char(wanted.min(content_end_unit))
        }
        PositionEncoding::Utf32 => {
            line_start_char.saturating_add(position.character as usize).min(content_end_char)
        }
    };
    text.char_to_byte(char_index)
}

/// The position of byte `offset` in `text` (clamped to the text's length).
pub fn position_at(text: &Rope, offset: usize, encoding: PositionEncoding) -> TextPosition {
    let offset = offset.min(text.len_bytes());
    let char_index = text.byte_to_char(offset);
    let line = text.char_to_line(char_index);
    let line_start_char = text.line_to_char(line);
    let character = match encoding {
        PositionEncoding::Utf8 => text.char_to_byte(char_index) - text.char_to_byte(line_start_char),
        PositionEncoding::Utf16 => {
            text.char_to_utf16_cu(char_index) - text.char_to_utf16_cu(line_start_char)
        }
        PositionEncoding::Utf32 => char_index - line_start_char,
    };
    TextPosition::new(line as u32, character as u32)
}

/// Chars on `line`, without its line terminator.
fn line_content_chars(text: &Rope, line: usize) -> usize {
    let slice = text.line(line);
    let mut len = slice.len_chars();
    if len > 0 && slice.char(len - 1) == '\n' {
        len -= 1;
    }
    if len > 0 && slice.char(len - 1) == '\r' {
        len -= 1;
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str, line: u32, character: u32, encoding: PositionEncoding) -> usize {
        let rope = Rope::from_str(text);
        let offset = byte_offset(&rope, TextPosition::new(line, character), encoding);
        assert_eq!(position_at(&rope, offset, encoding), TextPosition::new(line, character));
        offset
    }

    #[test]
    fn multi_byte_characters_count_per_encoding() {
        // "é" is 2 bytes / 1 UTF-16 unit; "😀" is 4 bytes / 2 units; "中" 3 bytes / 1 unit.
        let text = "x = \"é😀中\" <> y\n";
        assert_eq!(round_trip(text, 0, 6, PositionEncoding::Utf16), 7);
        assert_eq!(round_trip(text, 0, 8, PositionEncoding::Utf16), 11);
        assert_eq!(round_trip(text, 0, 9, PositionEncoding::Utf16), 14);
        assert_eq!(round_trip(text, 0, 11, PositionEncoding::Utf8), 11);
        assert_eq!(round_trip(text, 0, 14, PositionEncoding::Utf8), 14);
        assert_eq!(round_trip(text, 0, 7, PositionEncoding::Utf32), 11);
    }

    #[test]
    fn positions_inside_a_character_floor_to_its_start() {
        let rope = Rope::from_str("😀x");
        assert_eq!(byte_offset(&rope, TextPosition::new(0, 1), PositionEncoding::Utf16), 0);
        assert_eq!(byte_offset(&rope, TextPosition::new(0, 2), PositionEncoding::Utf8), 0);
    }

    #[test]
    fn out_of_range_positions_are_clamped() {
        let rope = Rope::from_str("ab\r\ncd");
        assert_eq!(byte_offset(&rope, TextPosition::new(0, 99), PositionEncoding::Utf16), 2);
        assert_eq!(byte_offset(&rope, TextPosition::new(1, 1), PositionEncoding::Utf8), 5);
        assert_eq!(byte_offset(&rope, TextPosition::new(7, 0), PositionEncoding::Utf8), 6);
    }

    #[test]
    fn all_lsp_line_endings_start_a_new_line() {
        let rope = Rope::from_str("a\nb\r\nc\rd");
        let starts: Vec<usize> = (0..4)
            .map(|line| byte_offset(&rope, TextPosition::new(line, 0), PositionEncoding::Utf8))
            .collect();
        assert_eq!(starts, [0, 2, 5, 7]);
    }
}
