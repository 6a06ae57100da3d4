//! The parser: tokens to [`ast::File`], with error recovery. Parsing never
//! fails; it returns what it could build and every diagnostic.

use lalrpop_util::{ErrorRecovery, ParseError};

use crate::diagnostics::{Code, Diagnostic};
use crate::span::{FileId, Span};
use crate::syntax::ast::{self, BinOp, Expr, ExprKind, Pattern, PatternPart};
use crate::syntax::lexer::{self, Comment, LexError, Tok};

/// An error the parser recovered from.
pub type Recovered = ErrorRecovery<usize, Tok, LexError>;

/// Top-level items before they are sorted into imports and declarations.
#[derive(Debug)]
pub enum TopLevel {
    /// An import.
    Import(ast::Import),
    /// Any other item.
    Item(ast::Item),
}

/// A parsed file with its comments and diagnostics.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The tree; broken parts are `Error` nodes.
    pub file: ast::File,
    /// Comments in source order, for the formatter.
    pub comments: Vec<Comment>,
    /// Lexical and syntax errors, each reported once.
    pub diagnostics: Vec<Diagnostic>,
}

#[allow(clippy::all, clippy::pedantic, unused_parens, missing_debug_implementations)]
mod generated {
    lalrpop_util::lalrpop_mod!(pub grammar, "/syntax/grammar.rs");
    pub use grammar::*;
}

/// Parses one file. Never fails.
pub fn parse(file: FileId, source: &str) -> Parsed {
    let lexed = lexer::lex(source);
    let mut diagnostics = lex_diagnostics(file, &lexed);
    let mut recovered = Vec::new();
    let tokens = lexed.tokens.iter().cloned().map(Ok::<_, LexError>);
    let result = generated::FileParser::new().parse(file, source, &mut recovered, tokens);
    let mut tree = match result {
        Ok(tree) => tree,
        Err(error) => {
            // Unrecoverable (the grammar could not resynchronise): keep an empty file.
            recovered.push(ErrorRecovery { error, dropped_tokens: Vec::new() });
            ast::File { package: None, imports: Vec::new(), items: Vec::new() }
        }
    };
    for error in recovered {
        if let Some(diagnostic) = syntax_diagnostic(file, source, error.error) {
            diagnostics.push(diagnostic);
        }
    }
    crate::syntax::depth::limit(&mut tree, &mut diagnostics);
    attach_docs(&mut tree, source, &lexed.comments);
    crate::diagnostics::sort(&mut diagnostics);
    Parsed { file: tree, comments: lexed.comments, diagnostics }
}

/// Parses a single expression (for tests and tools). Never fails.
pub fn parse_expr(file: FileId, source: &str) -> (Expr, Vec<Diagnostic>) {
    let lexed = lexer::lex(source);
    let mut diagnostics = lex_diagnostics(file, &lexed);
    let mut recovered = Vec::new();
    let tokens = lexed.tokens.iter().cloned().map(Ok::<_, LexError>);
    let result = generated::ExprParser::new().parse(file, source, &mut recovered, tokens);
    let mut expr = match result {
        Ok(expr) => expr,
        Err(error) => {
            recovered.push(ErrorRecovery { error, dropped_tokens: Vec::new() });
            Expr { kind: ExprKind::Error, span: Span::new(file, 0, source.len()) }
        }
    };
    for error in recovered {
        if let Some(diagnostic) = syntax_diagnostic(file, source, error.error) {
            diagnostics.push(diagnostic);
        }
    }
    crate::syntax::depth::limit_expr(&mut expr, &mut diagnostics);
    crate::diagnostics::sort(&mut diagnostics);
    (expr, diagnostics)
}

fn lex_diagnostics(file: FileId, lexed: &lexer::Lexed) -> Vec<Diagnostic> {
    let errors = lexed.tokens.iter().filter_map(|(start, tok, end)| match tok {
        Tok::Error(error) => Some((*start, error, *end)),
        _ => None,
    });
    let soft = lexed.errors.iter().map(|(start, error, end)| (*start, error, *end));
    errors.chain(soft).map(|(start, error, end)| lex_diagnostic(error, Span::new(file, start, end))).collect()
}

fn lex_diagnostic(error: &LexError, span: Span) -> Diagnostic {
    match error {
        LexError::UnexpectedChar => {
            Diagnostic::new(Code::InvalidToken, span, "invalid token").label("not part of the Ward language")
        }
        LexError::UnterminatedString => Diagnostic::new(Code::UnterminatedString, span, "unterminated string literal")
            .label("this string has no closing `\"`")
            .help("close the string on the same line"),
        LexError::BadEscape => Diagnostic::new(Code::InvalidEscape, span, "invalid escape sequence")
            .label("this string contains an unknown escape")
            .help("known escapes are \\\" \\\\ \\n \\t \\r \\* and \\u{...}"),
        LexError::UnterminatedComment => Diagnostic::new(Code::UnterminatedComment, span, "unterminated block comment")
            .label("this comment has no closing `*/`"),
        LexError::BadNumber => Diagnostic::new(Code::InvalidNumber, span, "invalid number or duration")
            .label("a number followed by letters that are not a duration unit")
            .help("duration units are ms, s, m, h and d, as in `15m` or `1h30m`"),
        LexError::MisplacedTypeArgument { .. } => Diagnostic::new(Code::UnknownType, span, "misplaced type argument"),
    }
}

/// Turns a parse error into a diagnostic, or `None` when the error is only a
/// consequence of a lexical error already reported.
fn syntax_diagnostic(file: FileId, source: &str, error: ParseError<usize, Tok, LexError>) -> Option<Diagnostic> {
    match error {
        ParseError::InvalidToken { location } => {
            Some(Diagnostic::new(Code::InvalidToken, Span::new(file, location, location + 1), "invalid token"))
        }
        ParseError::UnrecognizedEof { location, expected } => {
            let span = Span::new(file, location, location);
            Some(
                Diagnostic::new(Code::UnexpectedEof, span, "unexpected end of file")
                    .label(format!("expected {}", describe_expected(&expected)))
                    .with_eof_help(&expected),
            )
        }
        ParseError::UnrecognizedToken { token: (start, tok, end), expected } => {
            if matches!(tok, Tok::Error(_)) {
                return None;
            }
            let span = Span::new(file, start, end);
            Some(
                Diagnostic::new(Code::UnexpectedToken, span, format!("unexpected {}", tok.describe()))
                    .label(format!("expected {}", describe_expected(&expected)))
                    .with_token_help(&tok, &expected),
            )
        }
        ParseError::ExtraToken { token: (start, tok, end) } => {
            if matches!(tok, Tok::Error(_)) {
                return None;
            }
            Some(Diagnostic::new(
                Code::UnexpectedToken,
                Span::new(file, start, end),
                format!("unexpected {}", tok.describe()),
            ))
        }
        ParseError::User { error: LexError::MisplacedTypeArgument { start, end } } => {
            let span = Span::new(file, start, end);
            let text = source.get(start..end).unwrap_or("");
            let message =
                if text.contains('<') { "only `Set` takes a type argument" } else { "only `Int` takes a range" };
            Some(
                Diagnostic::new(Code::UnknownType, span, message)
                    .help("write `Set<T>` for a set, `Int[lo..hi]` for a range of integers"),
            )
        }
        ParseError::User { .. } => None,
    }
}

trait SyntaxHelp {
    fn with_token_help(self, tok: &Tok, expected: &[String]) -> Self;
    fn with_eof_help(self, expected: &[String]) -> Self;
}

impl SyntaxHelp for Diagnostic {
    fn with_token_help(self, tok: &Tok, expected: &[String]) -> Diagnostic {
        let expects = |t: &str| expected.iter().any(|e| e == &format!("\"{t}\""));
        if matches!(tok, Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge | Tok::EqEq | Tok::NotEq) && expects("&&") {
            self.help("comparisons do not chain: write `a < b && b < c`")
        } else if expects(";") && starts_item(tok) {
            self.help("a rule or `def` ends with `;`: add it before this token")
        } else if expects(",") && matches!(tok, Tok::Ident(_)) {
            self.help("separate the items of a list with `,`")
        } else if let Tok::Ident(name) = tok {
            if lexer::KEYWORDS.contains(&name.as_str()) { self } else { self }
        } else if lexer::KEYWORDS.contains(&tok.text()) && expected.iter().any(|e| e == "IDENT") {
            self.help(format!("`{}` is a keyword and cannot be used as a name here", tok.text()))
        } else {
            self
        }
    }

    fn with_eof_help(self, expected: &[String]) -> Diagnostic {
        if expected.iter().any(|e| e == "\";\"") {
            self.help("a rule ends with `;`")
        } else if expected.iter().any(|e| e == "\"}\"") {
            self.help("a `{` is not closed")
        } else {
            self
        }
    }
}

fn starts_item(tok: &Tok) -> bool {
    matches!(
        tok,
        Tok::Permit
            | Tok::Forbid
            | Tok::At
            | Tok::Entity
            | Tok::Enum
            | Tok::Level
            | Tok::Type
            | Tok::Action
            | Tok::Context
            | Tok::Obligation
            | Tok::Def
            | Tok::Import
    )
}

/// "one of `a`, `b` or `c`", from lalrpop's list of expected terminals.
fn describe_expected(expected: &[String]) -> String {
    let mut names: Vec<String> = expected
        .iter()
        .map(|e| match e.as_str() {
            "IDENT" => "a name".to_owned(),
            "INT" => "an integer".to_owned(),
            "DURATION" => "a duration".to_owned(),
            "STR" => "a string".to_owned(),
            other => format!("`{}`", other.trim_matches('"')),
        })
        .collect();
    names.sort();
    names.dedup();
    // Long lists mean "an expression" or "a declaration"; say so.
    if names.len() > 8 {
        if names.iter().any(|n| n == "`permit`") {
            return "a declaration or rule".to_owned();
        }
        if names.iter().any(|n| n == "`principal`") && names.iter().any(|n| n == "an integer") {
            return "an expression".to_owned();
        }
        if names.iter().any(|n| n == "`&&`") {
            let mut short: Vec<String> = names
                .iter()
                .filter(|n| {
                    ["`;`", "`)`", "`]`", "`,`", "`when`", "`unless`", "`obligate`", "`then`", "`else`"]
                        .contains(&n.as_str())
                })
                .cloned()
                .collect();
            short.push("an operator".to_owned());
            return join_or(&short);
        }
    }
    join_or(&names)
}

fn join_or(names: &[String]) -> String {
    match names {
        [] => "nothing more".to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("one of {} or {}", init.join(", "), last),
    }
}

/// Records a type argument where none is allowed (used by the grammar).
pub fn misplaced_type_argument(start: usize, end: usize) -> Recovered {
    ErrorRecovery {
        error: ParseError::User { error: LexError::MisplacedTypeArgument { start, end } },
        dropped_tokens: Vec::new(),
    }
}

/// A literal's value as `i128`, saturating: anything this large is outside
/// 64 bits, which the checker reports (used by the grammar).
pub fn saturate(n: u128) -> i128 {
    i128::try_from(n).unwrap_or(i128::MAX)
}

/// Builds a binary expression node (used by the grammar).
pub fn binary(file: FileId, l: usize, r: usize, op: BinOp, a: Expr, b: Expr) -> Expr {
    Expr { kind: ExprKind::Binary(op, Box::new(a), Box::new(b)), span: Span::new(file, l, r) }
}

/// Builds a glob pattern from the raw text of a string literal, quotes
/// included: `*` is a wildcard, `\*` a literal star (used by the grammar).
pub fn pattern_from_raw(raw: &str, span: Span) -> Pattern {
    let inner = raw.strip_prefix('"').unwrap_or(raw);
    let inner = inner.strip_suffix('"').unwrap_or(inner);
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => {
                if !literal.is_empty() {
                    parts.push(PatternPart::Literal(std::mem::take(&mut literal)));
                }
                if parts.last() != Some(&PatternPart::Wildcard) {
                    parts.push(PatternPart::Wildcard);
                }
            }
            '\\' => match chars.next() {
                Some('n') => literal.push('\n'),
                Some('t') => literal.push('\t'),
                Some('r') => literal.push('\r'),
                Some('u') => {
                    // `\u{...}`: the lexer has validated it.
                    let mut hex = String::new();
                    for c in chars.by_ref() {
                        if c == '}' {
                            break;
                        }
                        if c != '{' {
                            hex.push(c);
                        }
                    }
                    if let Some(c) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        literal.push(c);
                    }
                }
                Some(other) => literal.push(other),
                None => {}
            },
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        parts.push(PatternPart::Literal(literal));
    }
    Pattern { parts, span }
}

/// Fills the `docs` fields from `///` comments directly above declarations.
fn attach_docs(file: &mut ast::File, source: &str, comments: &[Comment]) {
    let docs_before = |start: u32| -> Option<String> {
        let start = start as usize;
        // The last comment that ends before `start`.
        let mut index = comments.partition_point(|c| c.end <= start);
        let mut lines = Vec::new();
        let mut boundary = start;
        while index > 0 {
            let c = &comments[index - 1];
            if !c.doc || !source.get(c.end..boundary).is_some_and(|gap| gap.trim().is_empty()) {
                break;
            }
            lines.push(c.text.clone());
            boundary = c.start;
            index -= 1;
        }
        if lines.is_empty() {
            return None;
        }
        lines.reverse();
        Some(lines.join("\n"))
    };
    let attrs = |attrs: &mut Vec<ast::AttrDecl>| {
        for attr in attrs {
            attr.docs = docs_before(attr.span.start);
            if let ast::TypeExpr::Record(fields, _) = &mut attr.ty {
                for field in fields {
                    field.docs = docs_before(field.span.start);
                }
            }
        }
    };
    for item in &mut file.items {
        let start = item.span().start;
        match item {
            ast::Item::Entity(d) => {
                d.docs = docs_before(start);
                attrs(&mut d.attrs);
            }
            ast::Item::Enum(d) => d.docs = docs_before(start),
            ast::Item::Level(d) => d.docs = docs_before(start),
            ast::Item::Type(d) => {
                d.docs = docs_before(start);
                if let ast::TypeExpr::Record(fields, _) = &mut d.ty {
                    attrs(fields);
                }
            }
            ast::Item::Action(d) => d.docs = docs_before(start),
            ast::Item::Context(d) => {
                d.docs = docs_before(start);
                attrs(&mut d.attrs);
            }
            ast::Item::Obligation(d) => d.docs = docs_before(start),
            ast::Item::Def(d) => d.docs = docs_before(start),
            ast::Item::Rule(d) => d.docs = docs_before(start),
            ast::Item::Test(d) => d.docs = docs_before(start),
            ast::Item::Fixture(d) => d.docs = docs_before(start),
            ast::Item::Error(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(src: &str) -> ast::File {
        let parsed = parse(FileId(0), src);
        assert!(parsed.diagnostics.is_empty(), "{:#?}", parsed.diagnostics);
        parsed.file
    }

    #[test]
    fn parses_the_brief_sketch() {
        let file = parse_ok(include_str!("../../../tests/corpus/parse/sketch.ward"));
        assert_eq!(file.package.as_ref().map(|p| p.dotted()), Some("acme.ai".to_owned()));
        assert!(file.items.len() > 10);
    }

    #[test]
    fn doc_comments_attach() {
        let file =
            parse_ok("package a\n/// The user.\n/// Second line.\nentity User {\n  /// Clearance.\n  c: Int }\n");
        let ast::Item::Entity(e) = &file.items[0] else { panic!("not an entity") };
        assert_eq!(e.docs.as_deref(), Some("The user.\nSecond line."));
        assert_eq!(e.attrs[0].docs.as_deref(), Some("Clearance."));
    }

    #[test]
    fn negative_literal_folds() {
        let (e, d) = parse_expr(FileId(0), "-9223372036854775808");
        assert!(d.is_empty());
        assert_eq!(e.kind, ExprKind::Int(-9_223_372_036_854_775_808));
    }

    #[test]
    fn like_pattern_escapes() {
        let (e, d) = parse_expr(FileId(0), r#"x like "gpt-*\*""#);
        assert!(d.is_empty());
        let ExprKind::Like(_, p) = e.kind else { panic!("not like") };
        assert_eq!(
            p.parts,
            vec![PatternPart::Literal("gpt-".into()), PatternPart::Wildcard, PatternPart::Literal("*".into())]
        );
    }

    #[test]
    fn independent_errors_are_each_reported_once() {
        let src = "package a\npermit (principal, action, resource) when 1 + ;\nentity X { a: , b: Int }\npermit (principal, action, resource) when $ ;\n";
        let parsed = parse(FileId(0), src);
        let codes: Vec<_> = parsed.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, vec!["E0010", "E0010", "E0001"], "{:#?}", parsed.diagnostics);
    }
}
