//! Server-sent events, parsed incrementally as bytes arrive.
//!
//! Hand-written rather than `eventsource-stream`: that crate buffers a line
//! without bound, and the three APIs use only `event:` and `data:`. Bytes
//! stay bytes until their line is complete, so a character split between
//! two network chunks is decoded whole; each byte is looked at once, so a
//! long line costs linear time; and a line or event over the limit is
//! refused in the chunk that crosses it, not after the stream ends.

use super::ProviderError;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

pub struct SseParser {
    /// Bytes of the line not ended yet.
    line: Vec<u8>,
    /// The last chunk ended in `\r`, so a `\n` opening the next one ends
    /// nothing new (`\r\n` split in two).
    after_cr: bool,
    event: Option<String>,
    data: Option<String>,
    /// Most bytes one line, or one event's data, may take.
    limit: usize,
}

impl SseParser {
    pub fn new(limit: usize) -> Self {
        Self { line: Vec::new(), after_cr: false, event: None, data: None, limit }
    }

    /// Feed bytes; get the events they complete.
    pub fn push(&mut self, mut bytes: &[u8]) -> Result<Vec<SseEvent>, ProviderError> {
        if self.after_cr && !bytes.is_empty() {
            self.after_cr = false;
            bytes = bytes.strip_prefix(b"\n").unwrap_or(bytes);
        }
        let mut events = Vec::new();
        // Lines end in `\n`, `\r\n` or a lone `\r`.
        while let Some(end) = bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.extend_line(&bytes[..end])?;
            let line = std::mem::take(&mut self.line);
            events.extend(self.take_line(&line)?);
            let mut next = end + 1;
            if bytes[end] == b'\r' {
                match bytes.get(next) {
                    Some(b'\n') => next += 1,
                    None => self.after_cr = true,
                    Some(_) => {}
                }
            }
            bytes = &bytes[next..];
        }
        self.extend_line(bytes)?;
        Ok(events)
    }

    fn extend_line(&mut self, bytes: &[u8]) -> Result<(), ProviderError> {
        if self.line.len() + bytes.len() > self.limit {
            return Err(ProviderError::TooLarge(self.limit));
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    /// One complete line; an empty one ends the event.
    fn take_line(&mut self, line: &[u8]) -> Result<Option<SseEvent>, ProviderError> {
        if line.is_empty() {
            let (event, data) = (self.event.take(), self.data.take());
            return Ok((event.is_some() || data.is_some()).then(|| SseEvent { event, data: data.unwrap_or_default() }));
        }
        let line = String::from_utf8_lossy(line);
        let (field, value) = line.split_once(':').unwrap_or((&line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "data" => {
                let joined = self.data.as_ref().map_or(0, |data| data.len() + 1) + value.len();
                if joined > self.limit {
                    return Err(ProviderError::TooLarge(self.limit));
                }
                match &mut self.data {
                    Some(data) => {
                        data.push('\n');
                        data.push_str(value);
                    }
                    None => self.data = Some(value.to_string()),
                }
            }
            "event" => self.event = Some(value.trim().to_string()),
            // Comments (`: ping`), `id:` and `retry:` mean nothing to us.
            _ => {}
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: Option<&str>, data: &str) -> SseEvent {
        SseEvent { event: name.map(str::to_string), data: data.to_string() }
    }

    /// The events of `chunks` fed one after the other.
    fn parse(limit: usize, chunks: &[&[u8]]) -> Result<Vec<SseEvent>, ProviderError> {
        let mut parser = SseParser::new(limit);
        let mut events = Vec::new();
        for chunk in chunks {
            events.extend(parser.push(chunk)?);
        }
        Ok(events)
    }

    #[test]
    fn events_split_across_chunks_are_reassembled() {
        let events = parse(1024, &[b"event: delta\ndata: {\"a\"", b":1}\n\ndata: x\r\ndata: y\r\n\r\n"]);
        assert_eq!(events, Ok(vec![event(Some("delta"), "{\"a\":1}"), event(None, "x\ny")]));
    }

    #[test]
    fn a_character_split_between_chunks_is_decoded_whole() {
        let bytes = "data: h\u{e9}llo \u{1F980}\n\n".as_bytes();
        let crab = bytes.len() - 6; // the crab's 4 bytes, then "\n\n"
        let events = parse(1024, &[&bytes[..8], &bytes[8..crab], &bytes[crab..crab + 1], &bytes[crab + 1..]]);
        assert_eq!(events, Ok(vec![event(None, "h\u{e9}llo \u{1F980}")]));
    }

    #[test]
    fn every_line_ending_counts_once_even_when_split() {
        let events = parse(1024, &[b"data: a\r", b"\ndata: b\r", b"\r", b"data: c\n", b"\n"]);
        assert_eq!(events, Ok(vec![event(None, "a\nb"), event(None, "c")]));
    }

    #[test]
    fn comments_and_other_fields_are_skipped() {
        let events = parse(1024, &[b": keep-alive\n\nid: 7\nretry: 10\ndata\ndata: x\n\n"]);
        assert_eq!(events, Ok(vec![event(None, "\nx")]));
    }

    #[test]
    fn a_line_over_the_limit_fails_in_the_chunk_that_crosses_it() {
        let mut parser = SseParser::new(16);
        assert_eq!(parser.push(b"data: 0123456789"), Ok(Vec::new()));
        assert_eq!(parser.push(b"x"), Err(ProviderError::TooLarge(16)));
    }

    #[test]
    fn an_event_of_many_short_lines_is_limited_too() {
        let lines = b"data: 0123456789\n".repeat(3);
        assert_eq!(parse(31, &[&lines]), Err(ProviderError::TooLarge(31)));
        assert_eq!(parse(32, &[&lines, b"\n"]).map(|e| e.len()), Ok(1));
    }
}
