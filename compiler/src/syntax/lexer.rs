//! The lexer: source text to tokens with byte spans.
//!
//! Lexing never fails. A character sequence that is not a token becomes
//! [`Tok::Error`], which the grammar declares but never uses: the parser then
//! recovers at the next synchronisation point and the lexical error is
//! reported once, by the lexer, not again by the parser. Comments are not
//! tokens; they are collected on the side for doc comments and the formatter.

use logos::Logos;

/// A lexical error, carried by [`Tok::Error`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LexError {
    /// A character that starts no token.
    #[default]
    UnexpectedChar,
    /// A string literal without its closing quote.
    UnterminatedString,
    /// A string literal with an escape sequence Ward does not define.
    BadEscape,
    /// A block comment without its closing `*/`.
    UnterminatedComment,
    /// A number immediately followed by letters that are no duration unit.
    BadNumber,
    /// Not lexical: a type argument or range on a type that takes none
    /// (`Foo<Int>`, `String[0..1]`), found by the grammar.
    MisplacedTypeArgument {
        /// Start of the offending type.
        start: usize,
        /// End of the offending type.
        end: usize,
    },
}

/// The tokens of Ward.
#[derive(Logos, Debug, Clone, PartialEq, Eq)]
#[logos(error = LexError)]
#[logos(skip r"[ \t\r\n\f]+")]
pub enum Tok {
    // Keywords.
    #[token("package")]
    Package,
    #[token("import")]
    Import,
    #[token("as")]
    As,
    #[token("entity")]
    Entity,
    #[token("enum")]
    Enum,
    #[token("level")]
    Level,
    #[token("type")]
    Type,
    #[token("action")]
    Action,
    #[token("context")]
    Context,
    #[token("obligation")]
    Obligation,
    #[token("def")]
    Def,
    #[token("permit")]
    Permit,
    #[token("forbid")]
    Forbid,
    #[token("principal")]
    Principal,
    #[token("resource")]
    Resource,
    #[token("when")]
    When,
    #[token("unless")]
    Unless,
    #[token("obligate")]
    Obligate,
    #[token("let")]
    Let,
    #[token("if")]
    If,
    #[token("then")]
    Then,
    #[token("else")]
    Else,
    #[token("has")]
    Has,
    #[token("like")]
    Like,
    #[token("in")]
    In,
    #[token("true")]
    True,
    #[token("false")]
    False,
    #[token("test")]
    Test,
    #[token("fixture")]
    Fixture,
    #[token("with")]
    With,
    #[token("without")]
    Without,

    // Punctuation.
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token(",")]
    Comma,
    #[token(";")]
    Semi,
    #[token(":")]
    Colon,
    #[token("::")]
    ColonColon,
    #[token(".")]
    Dot,
    #[token("..")]
    DotDot,
    #[token("?")]
    Question,
    #[token("@")]
    At,
    #[token("=")]
    Eq,
    #[token("=>")]
    FatArrow,
    #[token("->")]
    Arrow,
    #[token("==")]
    EqEq,
    #[token("!=")]
    NotEq,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[token("&&")]
    AndAnd,
    #[token("||")]
    OrOr,
    #[token("!")]
    Bang,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,

    // Literals and names.
    /// An identifier.
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice().to_owned())]
    Ident(String),
    /// A decimal integer literal. The value saturates at `u128::MAX`; the
    /// checker reports values outside 64 bits.
    #[regex(r"[0-9][0-9_]*", parse_int)]
    Int(u128),
    /// A duration literal such as `15m` or `1h30m`, in milliseconds
    /// (saturating; the checker reports values outside 64 bits).
    #[regex(r"[0-9][0-9_]*(ms|s|m|h|d)([0-9][0-9_]*(ms|s|m|h|d))*", parse_duration)]
    Duration(u128),
    /// A number followed by letters that form no duration: an error.
    #[regex(r"[0-9][0-9_]*[A-Za-z_][A-Za-z0-9_]*", bad_number, priority = 1)]
    BadNumber,
    /// A string literal, unescaped.
    #[token("\"", lex_string)]
    Str(String),

    /// A token that the lexer could not make sense of. No grammar rule uses
    /// it, so the parser recovers at the next synchronisation point.
    Error(LexError),
}

fn bad_number(_: &mut logos::Lexer<Tok>) -> Result<(), LexError> {
    Err(LexError::BadNumber)
}

fn parse_int(lex: &mut logos::Lexer<Tok>) -> u128 {
    let mut value: u128 = 0;
    for b in lex.slice().bytes().filter(|b| *b != b'_') {
        value = value.saturating_mul(10).saturating_add(u128::from(b - b'0'));
    }
    value
}

/// Milliseconds per duration unit.
pub fn unit_millis(unit: &str) -> Option<u128> {
    Some(match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    })
}

fn parse_duration(lex: &mut logos::Lexer<Tok>) -> u128 {
    let text = lex.slice();
    let mut total: u128 = 0;
    let mut number: u128 = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_digit() {
            number = number.saturating_mul(10).saturating_add(u128::from(b - b'0'));
            i += 1;
        } else if b == b'_' {
            i += 1;
        } else {
            let unit_len = if bytes[i..].starts_with(b"ms") { 2 } else { 1 };
            let millis = unit_millis(&text[i..i + unit_len]).unwrap_or(1);
            total = total.saturating_add(number.saturating_mul(millis));
            number = 0;
            i += unit_len;
        }
    }
    total
}

fn lex_string(lex: &mut logos::Lexer<Tok>) -> Result<String, LexError> {
    let rest = lex.remainder();
    let mut out = String::new();
    let mut chars = rest.char_indices();
    let mut error = None;
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                lex.bump(i + 1);
                return match error {
                    Some(e) => Err(e),
                    None => Ok(out),
                };
            }
            '\n' => break,
            '\\' => match chars.next() {
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, 'r')) => out.push('\r'),
                // Meaningful in `like` patterns, which re-read the raw text.
                Some((_, '*')) => out.push('*'),
                Some((_, 'u')) => match unicode_escape(&mut chars) {
                    Some(c) => out.push(c),
                    None => error = Some(LexError::BadEscape),
                },
                Some((_, '\n')) | None => break,
                Some(_) => error = Some(LexError::BadEscape),
            },
            c => out.push(c),
        }
    }
    // Unterminated: the token covers the rest of the line.
    let line_len = rest.find('\n').unwrap_or(rest.len());
    lex.bump(line_len);
    Err(LexError::UnterminatedString)
}

/// `\u{1F600}`: one to six hexadecimal digits in braces.
fn unicode_escape(chars: &mut std::str::CharIndices<'_>) -> Option<char> {
    if chars.next()?.1 != '{' {
        return None;
    }
    let mut value: u32 = 0;
    let mut digits = 0;
    for (_, c) in chars.by_ref() {
        if c == '}' {
            return if digits == 0 { None } else { char::from_u32(value) };
        }
        let d = c.to_digit(16)?;
        digits += 1;
        if digits > 6 {
            return None;
        }
        value = value * 16 + d;
    }
    None
}

/// A comment, kept beside the token stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// Byte range of the whole comment, markers included.
    pub start: usize,
    /// End of the comment (exclusive).
    pub end: usize,
    /// `///` documentation comment (as opposed to `//` or `/* */`).
    pub doc: bool,
    /// The comment's text without its markers.
    pub text: String,
}

/// The result of lexing one file.
#[derive(Debug, Clone, Default)]
pub struct Lexed {
    /// Tokens with their byte ranges, comments excluded.
    pub tokens: Vec<(usize, Tok, usize)>,
    /// Comments, in source order.
    pub comments: Vec<Comment>,
    /// Errors inside tokens that are still usable (a string with a bad
    /// escape stays a string token), so the parser does not stumble on them.
    pub errors: Vec<(usize, LexError, usize)>,
}

/// Splits `source` into tokens and comments. Never fails.
pub fn lex(source: &str) -> Lexed {
    let mut out = Lexed::default();
    // Comments are cut out first so that the token lexer never sees them;
    // this also keeps `//` inside string literals intact.
    let mut lexer = Tok::lexer(source);
    while let Some(result) = lexer.next() {
        let span = lexer.span();
        match result {
            Ok(tok) => out.tokens.push((span.start, tok, span.end)),
            Err(LexError::UnexpectedChar) if source[span.start..].starts_with("//") => {
                let len = source[span.start..].find('\n').unwrap_or(source.len() - span.start);
                let text = &source[span.start..span.start + len];
                let doc = text.starts_with("///") && !text.starts_with("////");
                let body = if doc { &text[3..] } else { &text[2..] };
                out.comments.push(Comment {
                    start: span.start,
                    end: span.start + len,
                    doc,
                    text: body.strip_prefix(' ').unwrap_or(body).trim_end().to_owned(),
                });
                lexer.bump(len.saturating_sub(span.end - span.start));
            }
            Err(LexError::UnexpectedChar) if source[span.start..].starts_with("/*") => {
                let rest = &source[span.start + 2..];
                match rest.find("*/") {
                    Some(close) => {
                        let end = span.start + 2 + close + 2;
                        out.comments.push(Comment {
                            start: span.start,
                            end,
                            doc: false,
                            text: rest[..close].trim().to_owned(),
                        });
                        lexer.bump(end - span.end);
                    }
                    None => {
                        out.tokens.push((span.start, Tok::Error(LexError::UnterminatedComment), source.len()));
                        lexer.bump(source.len() - span.end);
                    }
                }
            }
            Err(LexError::BadEscape) => {
                // The string's extent is known: keep it as a string so that
                // the rule around it still parses, and report the escape.
                let raw = &source[span.start..span.end];
                let inner = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')).unwrap_or(raw);
                out.errors.push((span.start, LexError::BadEscape, span.end));
                out.tokens.push((span.start, Tok::Str(inner.replace("\\\"", "\"")), span.end));
            }
            Err(e) => {
                // Merge runs of unexpected characters into one error token.
                if let Some((_, Tok::Error(LexError::UnexpectedChar), end)) = out.tokens.last_mut()
                    && e == LexError::UnexpectedChar
                    && *end == span.start
                {
                    *end = span.end;
                    continue;
                }
                out.tokens.push((span.start, Tok::Error(e), span.end));
            }
        }
    }
    out
}

impl Tok {
    /// How the token is shown in diagnostics.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(name) => format!("identifier `{name}`"),
            Tok::Int(_) => "integer literal".to_owned(),
            Tok::Duration(_) => "duration literal".to_owned(),
            Tok::Str(_) => "string literal".to_owned(),
            Tok::BadNumber | Tok::Error(_) => "invalid token".to_owned(),
            other => format!("`{}`", other.text()),
        }
    }

    /// The fixed text of a keyword or punctuation token.
    pub fn text(&self) -> &'static str {
        match self {
            Tok::Package => "package",
            Tok::Import => "import",
            Tok::As => "as",
            Tok::Entity => "entity",
            Tok::Enum => "enum",
            Tok::Level => "level",
            Tok::Type => "type",
            Tok::Action => "action",
            Tok::Context => "context",
            Tok::Obligation => "obligation",
            Tok::Def => "def",
            Tok::Permit => "permit",
            Tok::Forbid => "forbid",
            Tok::Principal => "principal",
            Tok::Resource => "resource",
            Tok::When => "when",
            Tok::Unless => "unless",
            Tok::Obligate => "obligate",
            Tok::Let => "let",
            Tok::If => "if",
            Tok::Then => "then",
            Tok::Else => "else",
            Tok::Has => "has",
            Tok::Like => "like",
            Tok::In => "in",
            Tok::True => "true",
            Tok::False => "false",
            Tok::Test => "test",
            Tok::Fixture => "fixture",
            Tok::With => "with",
            Tok::Without => "without",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Comma => ",",
            Tok::Semi => ";",
            Tok::Colon => ":",
            Tok::ColonColon => "::",
            Tok::Dot => ".",
            Tok::DotDot => "..",
            Tok::Question => "?",
            Tok::At => "@",
            Tok::Eq => "=",
            Tok::FatArrow => "=>",
            Tok::Arrow => "->",
            Tok::EqEq => "==",
            Tok::NotEq => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::AndAnd => "&&",
            Tok::OrOr => "||",
            Tok::Bang => "!",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Ident(_) | Tok::Int(_) | Tok::Duration(_) | Tok::Str(_) | Tok::BadNumber => "",
            Tok::Error(_) => "",
        }
    }
}

/// Words the lexer reserves: they cannot name attributes, types or values.
pub const KEYWORDS: &[&str] = &[
    "package",
    "import",
    "as",
    "entity",
    "enum",
    "level",
    "type",
    "action",
    "context",
    "obligation",
    "def",
    "permit",
    "forbid",
    "principal",
    "resource",
    "when",
    "unless",
    "obligate",
    "let",
    "if",
    "then",
    "else",
    "has",
    "like",
    "in",
    "true",
    "false",
    "test",
    "fixture",
    "with",
    "without",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        lex(src).tokens.into_iter().map(|(_, t, _)| t).collect()
    }

    #[test]
    fn durations_and_numbers() {
        assert_eq!(
            toks("15m 1h30m 500ms 42"),
            vec![Tok::Duration(900_000), Tok::Duration(5_400_000), Tok::Duration(500), Tok::Int(42)]
        );
        assert_eq!(toks("12abc"), vec![Tok::Error(LexError::BadNumber)]);
    }

    #[test]
    fn comments_are_collected_not_tokens() {
        let lexed = lex("/// doc\npermit // trailing\n/* block */ ;");
        assert_eq!(lexed.tokens.len(), 2);
        assert_eq!(lexed.comments.len(), 3);
        assert!(lexed.comments[0].doc);
        assert_eq!(lexed.comments[0].text, "doc");
        assert_eq!(lexed.comments[1].text, "trailing");
    }

    #[test]
    fn strings_and_errors() {
        assert_eq!(toks(r#""a\"b\u{41}""#), vec![Tok::Str("a\"bA".into())]);
        assert_eq!(toks("\"open\nx"), vec![Tok::Error(LexError::UnterminatedString), Tok::Ident("x".into())]);
        assert_eq!(
            toks("a $$ b"),
            vec![Tok::Ident("a".into()), Tok::Error(LexError::UnexpectedChar), Tok::Ident("b".into())]
        );
        assert_eq!(toks(r#""bad \q""#), vec![Tok::Str("bad \\q".into())]);
        assert_eq!(lex(r#""bad \q""#).errors.len(), 1);
    }

    #[test]
    fn slash_inside_string_is_not_a_comment() {
        assert_eq!(toks(r#""http://x""#), vec![Tok::Str("http://x".into())]);
    }
}
