//! Answers come with `\r\n` or `\n` whatever the file uses; code is read
//! with `\n` and handed back in the file's own line endings.

pub fn to_lf(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// `text` (with `\n`) in the line endings `original` uses.
pub fn like(original: &str, text: String) -> String {
    if original.contains("\r\n") { text.replace('\n', "\r\n") } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_follows_the_files_line_endings() {
        assert_eq!(like("a\r\nb\r\n", to_lf("x\r\ny\n")), "x\r\ny\r\n");
        assert_eq!(like("a\nb\n", to_lf("x\r\ny\r\n")), "x\ny\n");
    }
}
