//! `like` patterns: anchored globs whose only wildcard, `*`, matches any
//! sequence of characters (possibly empty). Everything else matches itself,
//! case-sensitively; a literal `*` is a literal part containing `*`.

use crate::syntax::ast::PatternPart;

/// Whether `text` matches the whole pattern.
pub fn matches(parts: &[PatternPart], text: &str) -> bool {
    // Normalise into the literal segments between wildcards: `segments[0]`
    // is a prefix, the last a suffix, the others are found in order.
    let mut segments: Vec<String> = vec![String::new()];
    for part in parts {
        match part {
            PatternPart::Literal(s) => {
                if let Some(last) = segments.last_mut() {
                    last.push_str(s);
                }
            }
            PatternPart::Wildcard => segments.push(String::new()),
        }
    }
    let (first, rest) = match segments.split_first() {
        Some(split) => split,
        None => return text.is_empty(),
    };
    let Some((last, middle)) = rest.split_last() else {
        // No wildcard: the whole text.
        return text == first;
    };
    let Some(after_prefix) = text.strip_prefix(first.as_str()) else {
        return false;
    };
    if after_prefix.len() < last.len() {
        return false;
    }
    let Some(mut between) = after_prefix.strip_suffix(last.as_str()) else {
        return false;
    };
    // Leftmost matches of the middle segments, in order, are as good as any.
    for segment in middle {
        match between.find(segment.as_str()) {
            Some(at) => between = &between[at + segment.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Parses test notation: `*` is a wildcard, `\*` a literal star.
    fn pattern(text: &str) -> Vec<PatternPart> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => literal.extend(chars.next()),
                '*' => {
                    if !literal.is_empty() {
                        parts.push(PatternPart::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(PatternPart::Wildcard);
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(PatternPart::Literal(literal));
        }
        parts
    }

    fn like(text: &str, p: &str) -> bool {
        matches(&pattern(p), text)
    }

    /// A plainly correct matcher: backtracking over characters.
    fn reference(parts: &[PatternPart], text: &[char]) -> bool {
        match parts.split_first() {
            None => text.is_empty(),
            Some((PatternPart::Wildcard, rest)) => (0..=text.len()).any(|i| reference(rest, &text[i..])),
            Some((PatternPart::Literal(s), rest)) => {
                let s: Vec<char> = s.chars().collect();
                text.starts_with(&s) && reference(rest, &text[s.len()..])
            }
        }
    }

    #[test]
    fn examples() {
        assert!(like("", ""));
        assert!(!like("a", ""));
        assert!(like("", "*"));
        assert!(like("anything at all", "*"));
        assert!(like("", "**"));
        assert!(like("gpt-4", "gpt-*"));
        assert!(like("gpt-", "gpt-*"));
        assert!(!like("xgpt-4", "gpt-*"));
        assert!(!like("GPT-4", "gpt-*"));
        assert!(like("abc", "a*b*c"));
        assert!(like("aXbYc", "a*b*c"));
        assert!(like("abbbc", "a*b*c"));
        assert!(!like("acb", "a*b*c"));
        assert!(!like("ab", "a*b*c"));
        assert!(like("aa", "a*a"));
        assert!(!like("a", "a*a"), "prefix and suffix must not overlap");
        assert!(like("aba", "a*a"));
        assert!(like("abcabc", "*abc"));
        assert!(like("x.y", "*.*"));
        assert!(!like("xy", "*.*"));
        assert!(like("a*b", "a\\*b"));
        assert!(!like("aXb", "a\\*b"));
        assert!(like("a*b", "a*b"));
        assert!(like("**", "\\*\\*"));
        assert!(!like("*", "\\*\\*"));
        assert!(like("ünïcødé", "ü*é"));
        assert!(like("日本語モデル", "日本*"));
        assert!(like("日本語モデル", "*語*"));
        assert!(!like("日本語", "*ル"));
        assert!(like("é", "*é*"));
    }

    #[test]
    fn adjacent_literal_parts_join() {
        let parts = vec![PatternPart::Literal("ab".into()), PatternPart::Literal("c".into())];
        assert!(matches(&parts, "abc"));
        assert!(!matches(&parts, "ab"));
        assert!(matches(&[], ""));
        assert!(!matches(&[], "x"));
    }

    proptest! {
        #[test]
        fn agrees_with_backtracking(p in "[ab*\\\\é]{0,8}", text in "[abé*]{0,10}") {
            let parts = pattern(&p);
            let chars: Vec<char> = text.chars().collect();
            prop_assert_eq!(matches(&parts, &text), reference(&parts, &chars));
        }
    }
}
