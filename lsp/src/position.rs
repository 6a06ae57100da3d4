//! Byte offsets to LSP positions and back. LSP columns count UTF-16 code
//! units; the compiler's spans count bytes.

use lsp_types::{Position, Range};

/// Line starts of one text, for position conversion.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes `text`.
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// The position of a byte offset (clamped to the text, snapped back to a
    /// character boundary).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.starts.get(line).copied().unwrap_or(0);
        let column: usize = text.get(start..offset).map_or(0, |s| s.chars().map(char::len_utf16).sum());
        Position { line: to_u32(line), character: to_u32(column) }
    }

    /// The byte offset of a position; positions past a line's end clamp to
    /// its end, positions past the text to its end.
    pub fn offset(&self, text: &str, position: Position) -> usize {
        let Some(start) = self.starts.get(position.line as usize).copied() else { return text.len() };
        let end = self.starts.get(position.line as usize + 1).map_or(text.len(), |e| e.saturating_sub(1));
        let line = text.get(start..end).unwrap_or("");
        let mut units = 0usize;
        for (i, c) in line.char_indices() {
            if units >= position.character as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        end
    }

    /// The range of a byte range.
    pub fn range(&self, text: &str, range: std::ops::Range<usize>) -> Range {
        Range { start: self.position(text, range.start), end: self.position(text, range.end) }
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii() {
        let text = "ab\ncd\n";
        let index = LineIndex::new(text);
        assert_eq!(index.position(text, 4), Position { line: 1, character: 1 });
        assert_eq!(index.offset(text, Position { line: 1, character: 1 }), 4);
        assert_eq!(index.offset(text, Position { line: 1, character: 99 }), 5);
        assert_eq!(index.offset(text, Position { line: 9, character: 0 }), text.len());
    }

    #[test]
    fn utf16_columns() {
        // `é` is two bytes and one UTF-16 unit; `𝄞` four bytes and two units.
        let text = "// é𝄞\nlet x = \"𝄞\" + y";
        let index = LineIndex::new(text);
        let y = text.rfind('y').unwrap_or(0);
        let pos = index.position(text, y);
        assert_eq!(pos, Position { line: 1, character: 15 });
        assert_eq!(index.offset(text, pos), y);
        let after = text.find('𝄞').unwrap_or(0) + 4;
        assert_eq!(index.position(text, after), Position { line: 0, character: 6 });
        assert_eq!(index.offset(text, Position { line: 0, character: 6 }), after);
        // Inside a surrogate pair, an offset snaps to the character's end.
        assert_eq!(index.offset(text, Position { line: 0, character: 5 }), after);
        // Inside a multi-byte character, a byte offset snaps back.
        assert_eq!(index.position(text, after - 1), Position { line: 0, character: 4 });
    }
}
