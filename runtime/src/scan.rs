//! A reader for the plain JSON most requests are written in: objects,
//! arrays, strings without escapes, integers, `true`, `false` and `null`. It
//! reads the text once, byte by byte, with none of a general parser's
//! per-value bookkeeping, and lends out strings from the text. Anything else
//! read — an escape, a number with a fraction or an exponent, deep nesting,
//! any syntax error — makes it give up, and the caller reads the document
//! again with `serde_json`, which decides what it means and reports any
//! error. So for every document it accepts, it reads exactly what
//! `serde_json` would. Values skipped unread may also have escapes and
//! fractions.

use serde_json::Number;

/// Giving up: the document is left to `serde_json`.
#[derive(Debug)]
pub(crate) struct GiveUp;

pub(crate) type Result<T> = std::result::Result<T, GiveUp>;

/// Eight copies of a byte, one per byte of a word.
const fn splat(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

/// Flags (high bit set) the bytes of `word` that end a plain string's run: a
/// quote, a backslash or a control character. The lowest flagged byte is
/// always exact; bytes above it may be flagged falsely (borrows), which does
/// not matter since scanning stops at the lowest.
#[inline]
fn specials(word: u64) -> u64 {
    const LOW: u64 = splat(0x01);
    const HIGH: u64 = splat(0x80);
    let zero_in = |x: u64| x.wrapping_sub(LOW) & !x & HIGH;
    let control = word.wrapping_sub(splat(0x20)) & !word & HIGH;
    zero_in(word ^ splat(b'"')) | zero_in(word ^ splat(b'\\')) | control
}

/// Nesting deeper than this is left to `serde_json` (which allows 128).
const MAX_DEPTH: u32 = 64;

/// Where a string lies in the text: start and end byte.
pub(crate) type Span = (usize, usize);

/// The reader over UTF-8 text.
pub(crate) struct Scanner<'de> {
    text: &'de str,
    at: usize,
    depth: u32,
}

impl<'de> Scanner<'de> {
    pub(crate) fn new(text: &'de str) -> Scanner<'de> {
        Scanner { text, at: 0, depth: 0 }
    }

    /// A reader of the same text from `at` (a position this one was at).
    pub(crate) fn from(&self, at: usize) -> Scanner<'de> {
        Scanner { text: self.text, at, depth: self.depth }
    }

    /// Where the reader is.
    pub(crate) fn position(&self) -> usize {
        self.at
    }

    /// The text of a span this reader read.
    #[inline(always)]
    pub(crate) fn slice(&self, (start, end): Span) -> &'de str {
        self.text.get(start..end).unwrap_or("")
    }

    /// Succeeds when only whitespace is left.
    pub(crate) fn end(&mut self) -> Result<()> {
        self.skip_space();
        if self.at == self.text.len() { Ok(()) } else { Err(GiveUp) }
    }

    fn bytes(&self) -> &'de [u8] {
        self.text.as_bytes()
    }

    #[inline]
    fn skip_space(&mut self) {
        // Compact documents have none: one comparison decides.
        if self.bytes().get(self.at).is_some_and(|&b| b > b' ') {
            return;
        }
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes().get(self.at) {
            self.at += 1;
        }
    }

    /// The next byte that is not whitespace, not consumed.
    #[inline]
    pub(crate) fn peek(&mut self) -> Result<u8> {
        self.skip_space();
        self.bytes().get(self.at).copied().ok_or(GiveUp)
    }

    #[inline]
    fn expect(&mut self, byte: u8) -> Result<()> {
        if self.peek()? == byte {
            self.at += 1;
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    /// A string without escapes or control characters, borrowed from the
    /// text.
    #[inline(always)]
    pub(crate) fn string(&mut self) -> Result<&'de str> {
        let span = self.span()?;
        Ok(self.slice(span))
    }

    /// Where the next value, a string without escapes or control
    /// characters, lies (quotes excluded).
    #[inline(always)]
    pub(crate) fn span(&mut self) -> Result<Span> {
        self.expect(b'"')?;
        let bytes = self.bytes();
        let start = self.at;
        // Eight bytes at a time up to the first special byte while eight
        // remain (a string is followed by more of the document, so nearly
        // always), then byte by byte.
        let mut end = start;
        loop {
            match bytes.get(end..).and_then(<[u8]>::first_chunk::<8>) {
                Some(chunk) => {
                    let found = specials(u64::from_le_bytes(*chunk));
                    if found != 0 {
                        end += found.trailing_zeros() as usize / 8;
                        break;
                    }
                    end += 8;
                }
                None => match bytes.get(end) {
                    Some(&b) if b == b'"' || b == b'\\' || b < 0x20 => break,
                    Some(_) => end += 1,
                    None => return Err(GiveUp),
                },
            }
        }
        // Only a quote ends a plain string; both ends are then ASCII quotes
        // of UTF-8 text, so character boundaries.
        if bytes.get(end) != Some(&b'"') {
            return Err(GiveUp);
        }
        self.at = end + 1;
        Ok((start, end))
    }

    /// A literal word (`true`, `false`, `null`).
    fn word(&mut self, word: &[u8]) -> Result<()> {
        if self.bytes().get(self.at..self.at + word.len()) == Some(word) {
            self.at += word.len();
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    /// `true` or `false`.
    pub(crate) fn boolean(&mut self) -> Result<bool> {
        match self.peek()? {
            b't' => self.word(b"true").map(|()| true),
            _ => self.word(b"false").map(|()| false),
        }
    }

    /// `null`.
    pub(crate) fn null(&mut self) -> Result<()> {
        self.skip_space();
        self.word(b"null")
    }

    /// An integer of at most 18 digits, as `serde_json` reads it: positive
    /// ones as `u64`, negative ones as `i64` (`-0`, which it reads as a
    /// float, is left to it).
    pub(crate) fn integer(&mut self) -> Result<Number> {
        self.skip_space();
        let negative = self.bytes().get(self.at) == Some(&b'-');
        if negative {
            self.at += 1;
        }
        let start = self.at;
        let mut value: u64 = 0;
        while let Some(&b) = self.bytes().get(self.at).filter(|b| b.is_ascii_digit()) {
            value = value * 10 + u64::from(b - b'0');
            self.at += 1;
            if self.at - start > 18 {
                return Err(GiveUp);
            }
        }
        let digits = self.at - start;
        let leading_zero = digits > 1 && self.bytes().get(start) == Some(&b'0');
        let fraction = matches!(self.bytes().get(self.at), Some(b'.' | b'e' | b'E'));
        if digits == 0 || leading_zero || fraction || (negative && value == 0) {
            return Err(GiveUp);
        }
        // At most 18 digits: fits, negated.
        Ok(if negative { Number::from(-(value as i64)) } else { Number::from(value) })
    }

    fn enter(&mut self, open: u8) -> Result<()> {
        self.expect(open)?;
        self.depth += 1;
        if self.depth > MAX_DEPTH { Err(GiveUp) } else { Ok(()) }
    }

    /// After an entry of a container closed by `close`: whether another
    /// follows (its comma consumed) or the container ended (its close
    /// consumed, one level up).
    fn next(&mut self, close: u8) -> Result<bool> {
        let b = self.peek()?;
        self.at += 1;
        if b == b',' {
            Ok(true)
        } else if b == close {
            self.depth -= 1;
            Ok(false)
        } else {
            Err(GiveUp)
        }
    }

    /// An object: `entry` reads each entry's value, given its key.
    #[inline]
    pub(crate) fn object(&mut self, mut entry: impl FnMut(&mut Self, &'de str) -> Result<()>) -> Result<()> {
        self.enter(b'{')?;
        if self.peek()? == b'}' {
            return self.next(b'}').map(drop);
        }
        loop {
            let key = self.string()?;
            self.expect(b':')?;
            entry(self, key)?;
            if !self.next(b'}')? {
                return Ok(());
            }
        }
    }

    /// An array: `element` reads each element, given its index.
    #[inline]
    pub(crate) fn array(&mut self, mut element: impl FnMut(&mut Self, usize) -> Result<()>) -> Result<()> {
        self.enter(b'[')?;
        if self.peek()? == b']' {
            return self.next(b']').map(drop);
        }
        let mut i = 0;
        loop {
            element(self, i)?;
            i += 1;
            if !self.next(b']')? {
                return Ok(());
            }
        }
    }

    /// Reads past any value. What is skipped is never read, so it may be
    /// more than plain: keys and strings with escapes, numbers with a
    /// fraction (but no exponent, which may take a number beyond what
    /// `serde_json` represents).
    pub(crate) fn skip(&mut self) -> Result<()> {
        match self.peek()? {
            b'"' => self.skip_string(),
            // As `object`, but keys are skipped too, so they may have escapes.
            // (One loop for both, its key reader passed in, cost the JSON
            // path 4% of its instructions: kept apart.)
            b'{' => {
                self.enter(b'{')?;
                if self.peek()? == b'}' {
                    return self.next(b'}').map(drop);
                }
                loop {
                    self.skip_string()?;
                    self.expect(b':')?;
                    self.skip()?;
                    if !self.next(b'}')? {
                        return Ok(());
                    }
                }
            }
            b'[' => self.array(|s, _| s.skip()),
            b't' | b'f' => self.boolean().map(drop),
            b'n' => self.null(),
            _ => self.skip_number(),
        }
    }

    /// Reads past a string, escapes included (a `\u` escape of half a
    /// surrogate pair, which `serde_json` may refuse, gives up).
    fn skip_string(&mut self) -> Result<()> {
        self.expect(b'"')?;
        loop {
            match self.bytes().get(self.at) {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    let escape = self.bytes().get(self.at + 1).copied().ok_or(GiveUp)?;
                    self.at += 2;
                    match escape {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            let hex = self.bytes().get(self.at..self.at + 4).ok_or(GiveUp)?;
                            let text = std::str::from_utf8(hex).map_err(|_| GiveUp)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return Err(GiveUp);
                            }
                            let unit = u16::from_str_radix(text, 16).map_err(|_| GiveUp)?;
                            if (0xD800..0xE000).contains(&unit) {
                                return Err(GiveUp);
                            }
                            self.at += 4;
                        }
                        _ => return Err(GiveUp),
                    }
                }
                Some(&b) if b >= 0x20 => self.at += 1,
                _ => return Err(GiveUp),
            }
        }
    }

    /// Reads past a number: an integer, or one with a fraction of at most
    /// 300 digits in all (no exponent), so always a finite `f64`.
    fn skip_number(&mut self) -> Result<()> {
        self.skip_space();
        let start = self.at;
        if self.bytes().get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        let digits = |s: &mut Self| {
            let from = s.at;
            while s.bytes().get(s.at).is_some_and(u8::is_ascii_digit) {
                s.at += 1;
            }
            s.at - from
        };
        let first = self.at;
        let whole = digits(self);
        if whole == 0 || (whole > 1 && self.bytes().get(first) == Some(&b'0')) {
            return Err(GiveUp);
        }
        if self.bytes().get(self.at) == Some(&b'.') {
            self.at += 1;
            if digits(self) == 0 {
                return Err(GiveUp);
            }
        }
        if matches!(self.bytes().get(self.at), Some(b'e' | b'E')) || self.at - start > 300 {
            return Err(GiveUp);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use serde_json::{Map, Value};

    /// A value read with the reader's parts.
    fn value(s: &mut Scanner<'_>) -> Result<Value> {
        Ok(match s.peek()? {
            b'"' => Value::String(s.string()?.to_owned()),
            b'{' => {
                let mut map = Map::new();
                s.object(|s, key| {
                    map.insert(key.to_owned(), value(s)?);
                    Ok(())
                })?;
                Value::Object(map)
            }
            b'[' => {
                let mut items = Vec::new();
                s.array(|s, _| {
                    items.push(value(s)?);
                    Ok(())
                })?;
                Value::Array(items)
            }
            b't' | b'f' => Value::Bool(s.boolean()?),
            b'n' => {
                s.null()?;
                Value::Null
            }
            _ => Value::Number(s.integer()?),
        })
    }

    /// Whether skipping the document succeeds; then `serde_json` reads it.
    fn skips(text: &str) -> bool {
        let mut skipping = Scanner::new(text);
        let skipped = skipping.skip().and_then(|()| skipping.end()).is_ok();
        if skipped {
            assert!(serde_json::from_str::<Value>(text).is_ok(), "skipped, but not JSON: {text:?}");
        }
        skipped
    }

    /// The document read, if the reader takes it (then it skips it too).
    fn scan(text: &str) -> Option<Value> {
        let mut scanner = Scanner::new(text);
        let read = value(&mut scanner).and_then(|v| scanner.end().map(|()| v)).ok();
        if read.is_some() {
            assert!(skips(text), "read but not skipped: {text:?}");
        }
        read
    }

    #[test]
    fn plain_documents_read_as_serde_json_reads_them() {
        for text in [
            r#"{"a": [1, -2, 0, true, false, null, "x", {}], "b": {"c": []}, "é": "ü"}"#,
            " [ ] ",
            "123456789012345678",
            "-123456789012345678",
            r#"{"a":1,"a":2}"#,
        ] {
            assert_eq!(scan(text), Some(serde_json::from_str::<Value>(text).unwrap()), "{text}");
        }
    }

    #[test]
    fn anything_else_is_left_to_serde_json() {
        for text in [
            r#""a\"b""#,
            "1.5",
            "1e3",
            "-0",
            "01",
            "1234567890123456789",
            "\"a\u{1}b\"",
            "[1,]",
            "[1 2]",
            "{\"a\" 1}",
            "{1: 2}",
            "tru",
            "[1] x",
            "",
            &"[".repeat(65),
        ] {
            assert_eq!(scan(text), None, "{text:?}");
        }
        let deep = format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert!(scan(&deep).is_some());
    }

    #[test]
    fn skipping_takes_what_is_never_read() {
        for text in [
            r#""a\"b""#,
            r#""\u00e9\/\b\f\n\r\t\\""#,
            "1.5",
            "-0.25",
            "-0",
            r#"{"k\n": [1.5, "\/", {"x": -0.0}], "": null}"#,
        ] {
            assert!(skips(text), "{text:?}");
        }
        for text in [
            "1e3",
            "1.5E-2",
            r#""\ud800""#,
            r#""\udfff""#,
            r#""\x""#,
            r#""\u00g0""#,
            "1.",
            ".5",
            "01.5",
            "-",
            "\"a",
            "\"a\u{1}\"",
            &"1".repeat(301),
        ] {
            assert!(!skips(text), "{text:?}");
        }
    }

    proptest::proptest! {
        /// Token soup: whatever the reader skips, `serde_json` reads.
        #[test]
        fn what_is_skipped_is_json(
            tokens in proptest::collection::vec(
                proptest::sample::select(vec![
                    "{", "}", "[", "]", ",", ":", "\"", "\\", "u", "d800", "00e9", "1", "0", "-", ".", "e", "5",
                    "true", "null", " ", "a", "\n", "\u{1}", "é",
                ]),
                0..24,
            ),
        ) {
            skips(&tokens.concat());
        }

        /// Documents of every kind of value, numbers with fractions and
        /// strings with characters that must be escaped included: skipped
        /// unless a number has an exponent.
        #[test]
        fn json_documents_are_skipped(
            numbers in proptest::collection::vec(proptest::num::f64::NORMAL, 0..4),
            texts in proptest::collection::vec("[a\"\\\u{0}-\u{1f}é😀/]{0,6}", 0..4),
        ) {
            let value = serde_json::json!({"n": numbers, "t": texts, "o": {"k": [null, true, {}]}});
            let text = value.to_string();
            let exponent = numbers.iter().any(|n| serde_json::json!(n).to_string().contains(['e', 'E']));
            proptest::prop_assert_eq!(skips(&text), !exponent, "{}", text);
        }

        /// Strings of any length and content (quotes, backslashes, control
        /// characters and multi-byte characters at every position relative
        /// to the eight-byte steps): read exactly when plain, as serde_json
        /// reads them.
        #[test]
        fn strings_are_read_exactly_when_plain(
            raw in proptest::collection::vec(
                proptest::prop_oneof![
                    6 => proptest::char::range('a', 'z'),
                    1 => proptest::prop_oneof![
                        proptest::strategy::Just('"'),
                        proptest::strategy::Just('\\'),
                        proptest::strategy::Just('\u{1}'),
                        proptest::strategy::Just('\u{1f}'),
                        proptest::strategy::Just(' '),
                        proptest::strategy::Just('\u{7f}'),
                        proptest::strategy::Just('é'),
                        proptest::strategy::Just('😀'),
                    ],
                ],
                0..40,
            ),
            tail in "[a-z]{0,3}",
        ) {
            let body: String = raw.into_iter().collect();
            let text = format!("[\"{body}\", \"{tail}\"]");
            let plain = !body.chars().any(|c| c == '"' || c == '\\' || c < ' ');
            let scanned = scan(&text);
            // A quote may make other valid JSON of the text: then both read it alike.
            if plain {
                proptest::prop_assert!(scanned.is_some(), "{:?}", text);
            }
            if let Some(value) = scanned {
                proptest::prop_assert_eq!(Some(value), serde_json::from_str::<Value>(&text).ok());
            }
        }
    }
}
