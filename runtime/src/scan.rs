//! A serde deserializer for the plain JSON most requests are written in:
//! objects, arrays, strings without escapes, integers, `true`, `false` and
//! `null`. It reads the text once, byte by byte, with none of a general
//! parser's per-value bookkeeping. Anything else — an escape, a number with
//! a fraction or an exponent, deep nesting, a raw value, any syntax error —
//! makes it give up, and the caller reads the document again with
//! `serde_json`, which decides what it means and reports any error. So for
//! every document it accepts, it yields exactly the values `serde_json`
//! would.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// Giving up: the document is left to `serde_json`.
#[derive(Debug)]
pub(crate) struct GiveUp;

impl fmt::Display for GiveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("left to the general JSON parser")
    }
}

impl std::error::Error for GiveUp {}

impl de::Error for GiveUp {
    fn custom<T: fmt::Display>(_: T) -> GiveUp {
        GiveUp
    }
}

type Result<T> = std::result::Result<T, GiveUp>;

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

/// The deserializer over UTF-8 text.
pub(crate) struct Scanner<'de> {
    text: &'de str,
    at: usize,
    depth: u32,
}

impl<'de> Scanner<'de> {
    pub(crate) fn new(text: &'de str) -> Scanner<'de> {
        Scanner { text, at: 0, depth: 0 }
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
    fn peek(&mut self) -> Result<u8> {
        self.skip_space();
        self.bytes().get(self.at).copied().ok_or(GiveUp)
    }

    fn expect(&mut self, byte: u8) -> Result<()> {
        if self.peek()? == byte {
            self.at += 1;
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    /// A string without escapes or control characters, borrowed from the
    /// text; at its opening quote.
    fn string(&mut self) -> Result<&'de str> {
        self.expect(b'"')?;
        let bytes = self.bytes();
        let start = self.at;
        // Eight bytes at a time up to the first special byte while eight
        // remain (a string is followed by more of the document, so nearly
        // always), then byte by byte.
        let mut end = start;
        while let Some(chunk) = bytes.get(end..).and_then(<[u8]>::first_chunk::<8>) {
            let found = specials(u64::from_le_bytes(*chunk));
            if found != 0 {
                end += found.trailing_zeros() as usize / 8;
                return self.close_string(start, end);
            }
            end += 8;
        }
        while let Some(&b) = bytes.get(end) {
            if b == b'"' || b == b'\\' || b < 0x20 {
                return self.close_string(start, end);
            }
            end += 1;
        }
        Err(GiveUp)
    }

    /// The string from `start` to `end`, if a quote follows it (not a
    /// backslash or a control character).
    #[inline]
    fn close_string(&mut self, start: usize, end: usize) -> Result<&'de str> {
        if self.bytes().get(end) != Some(&b'"') {
            return Err(GiveUp);
        }
        // Both ends are ASCII quotes of UTF-8 text: character boundaries.
        let s = self.text.get(start..end).ok_or(GiveUp)?;
        self.at = end + 1;
        Ok(s)
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

    /// An integer of at most 18 digits, as `serde_json` reads it: positive
    /// ones as `u64`, negative ones as `i64` (`-0`, which it reads as a
    /// float, is left to it).
    fn integer<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
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
        if negative {
            // At most 18 digits: fits, negated.
            visitor.visit_i64(-(value as i64))
        } else {
            visitor.visit_u64(value)
        }
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH { Err(GiveUp) } else { Ok(()) }
    }

    fn map<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        self.nested(b'{', b'}', |entries| visitor.visit_map(entries))
    }

    fn seq<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        self.nested(b'[', b']', |entries| visitor.visit_seq(entries))
    }

    /// An object or an array between `open` and `close`, its entries read
    /// by `read`, one level deeper.
    fn nested<T>(&mut self, open: u8, close: u8, read: impl FnOnce(Entries<'_, 'de>) -> Result<T>) -> Result<T> {
        self.expect(open)?;
        self.enter()?;
        let value = read(Entries { scanner: self, first: true })?;
        self.expect(close)?;
        self.depth -= 1;
        Ok(value)
    }
}

impl<'de> de::Deserializer<'de> for &mut Scanner<'de> {
    type Error = GiveUp;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek()? {
            b'"' => visitor.visit_borrowed_str(self.string()?),
            b'{' => self.map(visitor),
            b'[' => self.seq(visitor),
            b't' => {
                self.word(b"true")?;
                visitor.visit_bool(true)
            }
            b'f' => {
                self.word(b"false")?;
                visitor.visit_bool(false)
            }
            b'n' => {
                self.word(b"null")?;
                visitor.visit_unit()
            }
            b'-' | b'0'..=b'9' => self.integer(visitor),
            _ => Err(GiveUp),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_str(self.string()?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.map(visitor)
    }

    /// Only as an object (`serde_json` also takes an array).
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.map(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.seq(visitor)
    }

    /// Newtypes include `serde_json`'s raw values, which only it can make.
    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, _visitor: V) -> Result<V::Value> {
        Err(GiveUp)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf
        option unit unit_struct tuple tuple_struct enum ignored_any
    }
}

/// The entries of an object or the elements of an array.
struct Entries<'s, 'de> {
    scanner: &'s mut Scanner<'de>,
    first: bool,
}

impl Entries<'_, '_> {
    /// Whether another entry follows, before `close`; consumes the comma.
    fn more(&mut self, close: u8) -> Result<bool> {
        let next = self.scanner.peek()?;
        if next == close {
            return Ok(false);
        }
        if !std::mem::replace(&mut self.first, false) {
            if next != b',' {
                return Err(GiveUp);
            }
            self.scanner.at += 1;
        }
        Ok(true)
    }
}

impl<'de> MapAccess<'de> for Entries<'_, 'de> {
    type Error = GiveUp;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if !self.more(b'}')? {
            return Ok(None);
        }
        if self.scanner.peek()? != b'"' {
            return Err(GiveUp);
        }
        let key = seed.deserialize(&mut *self.scanner)?;
        self.scanner.expect(b':')?;
        Ok(Some(key))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        seed.deserialize(&mut *self.scanner)
    }
}

impl<'de> SeqAccess<'de> for Entries<'_, 'de> {
    type Error = GiveUp;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if !self.more(b']')? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.scanner).map(Some)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use serde::Deserialize;
    use serde_json::Value;

    fn scan(text: &str) -> Option<Value> {
        let mut scanner = Scanner::new(text);
        let value = Value::deserialize(&mut scanner).ok()?;
        scanner.end().ok()?;
        Some(value)
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

    proptest::proptest! {
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
