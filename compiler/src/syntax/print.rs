//! The printer and the formatter: an AST back to canonical source text.
//!
//! Printing happens in two steps. The AST is first turned into a [`Doc`], a
//! small document tree of text, possible line breaks, indentation and groups
//! (in the style of Wadler's "prettier printer"); the document is then laid
//! out within [`WIDTH`] columns: a group is printed on one line when it fits
//! and with all its breaks taken otherwise.
//!
//! The output is canonical: the same AST (spans aside) always gives the same
//! text, and the text parses back to the same AST. Parentheses are printed
//! only where the grammar's precedence requires them.
//!
//! [`print_file`] prints a tree alone: doc comments come from the tree and
//! other comments are lost. [`format_file`] prints the same layout with every
//! comment of the source kept, anchored to source positions: before a node
//! or a token is printed, the comments that precede it in the source are; a
//! comment on the same line as the end of a node (the outermost one ending
//! there) or of a token follows it. A `//` comment after code goes to the end
//! of its output line and breaks the enclosing group, so it never swallows
//! code; a `/* */` comment inside a line stays between its tokens; a `///`
//! comment after code stays in place, so that it documents nothing new.
//! Blank lines between declarations, between attributes and before comments
//! are kept, at most one in a row. A new kind of item needs an arm in
//! `Printer::item` and a function that prints it.

use std::fmt::Write as _;

use ward_types::values::format_duration;

use crate::span::FileId;
use crate::syntax::ast::{
    ActionDecl, ActionScope, Annotation, Arg, AttrDecl, BinOp, Condition, ContextDecl, DefDecl, EntityDecl,
    EntityScope, EnumDecl, Expr, ExprKind, File, Ident, Import, Item, LevelDecl, NamedArg, ObligationCall,
    ObligationDecl, Param, Path, Pattern, PatternPart, Rule, Scope, ScopeConstraint, TypeDecl, TypeExpr, UnOp,
};
use crate::syntax::ast::{Data, DataField, DataKind, DataUpdate, FixtureDecl, StrLit, TestDecl};
use crate::syntax::lexer::{self, Tok};
use crate::syntax::parser;

/// The line width the printer aims for.
pub const WIDTH: usize = 100;

/// Indentation of one nesting level.
const INDENT: usize = 2;

/// Prints a file as canonical Ward source, ending with a newline (an empty
/// file prints as the empty string). Comments other than doc comments are
/// not in the tree and so not printed; see [`format_file`].
pub fn print_file(file: &File) -> String {
    let doc = Printer { trivia: None }.file(file);
    layout(&doc, WIDTH)
}

/// Prints an expression as canonical Ward source, without a final newline.
pub fn print_expr(e: &Expr) -> String {
    let doc = Printer { trivia: None }.expr(e);
    layout(&doc, WIDTH)
}

/// Prints `file`, parsed from `source` without errors, in the canonical
/// layout with every comment of `source` kept. The result ends with one
/// newline (an empty file gives the empty string).
pub fn format_file(file: &File, source: &str) -> String {
    let mut text = format_once(file, source);
    // A comment that moved to the end of a line can settle elsewhere on the
    // next pass, so passes repeat until the text stops changing.
    for _ in 0..3 {
        let parsed = parser::parse(FileId(0), &text);
        if !parsed.diagnostics.is_empty() {
            break;
        }
        let again = format_once(&parsed.file, &text);
        if again == text {
            break;
        }
        text = again;
    }
    text
}

fn format_once(file: &File, source: &str) -> String {
    let lexed = lexer::lex(source);
    let trivia = Trivia { source, tokens: lexed.tokens, comments: lexed.comments, next: 0, open: Vec::new() };
    let mut printer = Printer { trivia: Some(trivia) };
    let doc = printer.file(file);
    let rest = printer.leading(source.len() + 1);
    let text = layout(&concat([doc, rest, Doc::HardLine]), WIDTH);
    let text = text.trim_end();
    if text.is_empty() { String::new() } else { format!("{text}\n") }
}

// ------------------------------------------------------------------ documents

/// A document: text with optional line breaks, laid out by [`layout`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Doc {
    /// Nothing.
    Nil,
    /// Text without line breaks.
    Text(String),
    /// A space, or a line break when the enclosing group breaks.
    Line,
    /// Nothing, or a line break when the enclosing group breaks.
    SoftLine,
    /// Always a line break; the enclosing groups break too.
    HardLine,
    /// Text printed only when the enclosing group breaks (trailing commas).
    IfBreak(&'static str),
    /// The inner document, its line breaks indented by one more level.
    Nest(Box<Doc>),
    /// Printed flat if it fits on the line, with every break taken otherwise.
    Group(Box<Doc>),
    /// Documents one after another.
    Concat(Vec<Doc>),
    /// A comment printed where it stands, on a line of its own when
    /// `own_line`; whatever follows starts a new line.
    Comment {
        /// The comment as written, trailing spaces removed.
        text: String,
        /// Starts a line (rather than ending one).
        own_line: bool,
        /// The source had a blank line before it.
        blank_before: bool,
    },
    /// A comment printed at the end of the current output line.
    LineSuffix(String),
    /// A block comment among the tokens of a line, with spaces around.
    Inline(String),
}

fn text(s: impl Into<String>) -> Doc {
    Doc::Text(s.into())
}

fn concat(docs: impl IntoIterator<Item = Doc>) -> Doc {
    Doc::Concat(docs.into_iter().collect())
}

fn nest(doc: Doc) -> Doc {
    Doc::Nest(Box::new(doc))
}

fn group(doc: Doc) -> Doc {
    Doc::Group(Box::new(doc))
}

/// `docs` with `sep` between each two.
fn join(docs: impl IntoIterator<Item = Doc>, sep: &Doc) -> Doc {
    let mut out = Vec::new();
    for (i, doc) in docs.into_iter().enumerate() {
        if i > 0 {
            out.push(sep.clone());
        }
        out.push(doc);
    }
    Doc::Concat(out)
}

/// Whether the document prints nothing at all.
fn is_empty(doc: &Doc) -> bool {
    match doc {
        Doc::Nil => true,
        Doc::Concat(docs) => docs.iter().all(is_empty),
        _ => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Flat,
    Break,
}

/// The output of [`layout`] as it is written.
struct Output {
    out: String,
    col: usize,
    /// Indentation not yet written: it is written lazily, before the next
    /// text, so that blank lines carry no trailing spaces.
    pending_indent: Option<usize>,
    /// Whether anything has been written on the current line.
    content: bool,
    /// A comment ended the line: the next text starts a new one.
    need_newline: bool,
    /// End-of-line comments waiting for the line break.
    suffixes: Vec<String>,
    /// An inline comment was written: a space goes before the next word.
    space: bool,
}

impl Output {
    fn raw(&mut self, s: &str) {
        if std::mem::take(&mut self.space) && !s.starts_with([' ', ',', ';', ')', ']', '}']) {
            self.out.push(' ');
            self.col += 1;
        }
        if let Some(n) = self.pending_indent.take() {
            self.out.extend(std::iter::repeat_n(' ', n));
        }
        self.out.push_str(s);
        match s.rfind('\n') {
            Some(i) => self.col = s[i + 1..].chars().count(),
            None => self.col += s.chars().count(),
        }
        self.content = true;
    }

    fn write(&mut self, s: &str, indent: usize) {
        if self.need_newline {
            // A space after a comment: the line break to come replaces it.
            if s.trim().is_empty() {
                return;
            }
            self.newline(indent);
        }
        self.raw(s);
    }

    /// Ends the line, after its end-of-line comments.
    fn newline(&mut self, indent: usize) {
        let suffixes = std::mem::take(&mut self.suffixes);
        if !suffixes.is_empty() {
            let trimmed = self.out.trim_end_matches(' ').len();
            self.out.truncate(trimmed);
        }
        let mut alone = false;
        for (i, s) in suffixes.iter().enumerate() {
            // Nothing may follow a line comment on its line, and only a line
            // comment may follow a block comment that starts one (read back,
            // it is a comment on a line of its own).
            if i > 0 && (suffixes[i - 1].starts_with("//") || (alone && !s.starts_with("//"))) {
                self.break_line(indent);
            }
            alone = !self.content;
            if self.content {
                self.raw(" ");
            }
            self.raw(s);
        }
        self.break_line(indent);
    }

    /// Whether the current line holds only a block comment, which the next
    /// text must not follow.
    fn after_lone_block_comment(&self) -> bool {
        self.need_newline && self.out.ends_with("*/")
    }

    fn break_line(&mut self, indent: usize) {
        self.pending_indent = None;
        self.space = false;
        let trimmed = self.out.trim_end_matches(' ').len();
        self.out.truncate(trimmed);
        self.out.push('\n');
        self.col = indent;
        self.pending_indent = Some(indent);
        self.content = false;
        self.need_newline = false;
    }

    /// Whether a blank line may go here: not at the start of the output,
    /// not after another blank line or an opening bracket.
    fn blank_allowed(&self) -> bool {
        let last = self.out.trim_end().chars().last();
        !self.out.ends_with("\n\n") && last.is_some_and(|c| !matches!(c, '{' | '(' | '['))
    }

    fn inline(&mut self, text: &str, indent: usize) {
        // Behind end-of-line comments, it waits for the line's end too.
        if !self.suffixes.is_empty() {
            self.suffixes.push(text.to_owned());
            return;
        }
        if self.need_newline {
            self.newline(indent);
        }
        if !self.content {
            // Starting a line, it is read back as a comment on a line of its
            // own, so it stands alone as one.
            self.raw(text);
            self.need_newline = true;
            return;
        }
        let after_space = self.out.ends_with([' ', '(', '[']);
        if !after_space && !self.space {
            self.raw(" ");
        }
        self.raw(text);
        self.space = true;
    }

    fn comment(&mut self, text: &str, own_line: bool, blank_before: bool, indent: usize) {
        if own_line {
            if self.content || self.need_newline || !self.suffixes.is_empty() {
                self.newline(indent);
            }
            if blank_before && self.blank_allowed() {
                self.out.push('\n');
            }
            self.raw(text);
        } else {
            if self.need_newline || !self.suffixes.is_empty() {
                self.newline(indent);
            }
            let sep = if self.content { " " } else { "" };
            self.raw(&format!("{sep}{text}"));
        }
        self.need_newline = true;
    }
}

/// Lays a document out within `width` columns.
fn layout(doc: &Doc, width: usize) -> String {
    let mut o = Output {
        out: String::new(),
        col: 0,
        pending_indent: None,
        content: false,
        need_newline: false,
        suffixes: Vec::new(),
        space: false,
    };
    let mut stack: Vec<(usize, Mode, &Doc)> = vec![(0, Mode::Break, doc)];
    while let Some((indent, mode, doc)) = stack.pop() {
        match doc {
            Doc::Nil => {}
            Doc::Text(s) => o.write(s, indent),
            Doc::IfBreak(s) => {
                if mode == Mode::Break {
                    o.write(s, indent);
                }
            }
            // After a comment, the line break to come replaces the space.
            Doc::Line if mode == Mode::Flat => {
                if !o.need_newline {
                    o.write(" ", indent);
                }
            }
            Doc::SoftLine if mode == Mode::Flat => {}
            Doc::Line | Doc::SoftLine | Doc::HardLine => o.newline(indent),
            Doc::Nest(inner) => stack.push((indent + INDENT, mode, inner)),
            Doc::Group(inner) => {
                let col = if o.need_newline { indent } else { o.col };
                let flat = mode == Mode::Flat || fits(width.saturating_sub(col), (indent, Mode::Flat, inner), &stack);
                stack.push((indent, if flat { Mode::Flat } else { Mode::Break }, inner));
            }
            Doc::Concat(docs) => stack.extend(docs.iter().rev().map(|d| (indent, mode, d))),
            Doc::Comment { text, own_line, blank_before } => o.comment(text, *own_line, *blank_before, indent),
            Doc::LineSuffix(s) => {
                if o.after_lone_block_comment() {
                    // It stays on the block comment's line, which it ends.
                    o.raw(&format!(" {s}"));
                    continue;
                }
                if o.need_newline {
                    o.newline(indent);
                }
                o.suffixes.push(s.clone());
            }
            Doc::Inline(s) => o.inline(s, indent),
        }
    }
    if !o.suffixes.is_empty() {
        o.newline(0);
    }
    o.out
}

/// Whether `first`, followed by the rest of the document up to its next
/// possible line break, fits in `remaining` columns.
fn fits(remaining: usize, first: (usize, Mode, &Doc), rest: &[(usize, Mode, &Doc)]) -> bool {
    let mut remaining = remaining;
    let mut local = vec![first];
    let mut rest = rest.iter().rev();
    loop {
        let (indent, mode, doc) = match local.pop() {
            Some(cmd) => cmd,
            None => match rest.next() {
                Some(cmd) => *cmd,
                None => return true,
            },
        };
        let mut take = |n: usize| match remaining.checked_sub(n) {
            Some(r) => {
                remaining = r;
                true
            }
            None => false,
        };
        match doc {
            Doc::Nil => {}
            Doc::Text(s) => {
                if !take(s.chars().count()) {
                    return false;
                }
            }
            Doc::IfBreak(s) => {
                if mode == Mode::Break && !take(s.len()) {
                    return false;
                }
            }
            Doc::Line | Doc::SoftLine => {
                if mode == Mode::Break {
                    return true;
                }
                if matches!(doc, Doc::Line) && !take(1) {
                    return false;
                }
            }
            // A hard line or a comment inside a flat group cannot be flat;
            // after the group it ends the line that had to fit.
            Doc::HardLine | Doc::Comment { .. } => return mode == Mode::Break,
            // An end-of-line comment takes no room, but its line must end.
            Doc::LineSuffix(_) => {
                if mode == Mode::Flat {
                    return false;
                }
            }
            Doc::Inline(s) => {
                if (s.contains('\n') && mode == Mode::Flat) || !take(s.chars().count() + 1) {
                    return false;
                }
            }
            Doc::Nest(inner) => local.push((indent + INDENT, mode, inner)),
            Doc::Group(inner) => local.push((indent, mode, inner)),
            Doc::Concat(docs) => local.extend(docs.iter().rev().map(|d| (indent, mode, d))),
        }
    }
}

// ------------------------------------------------------------------ comments

/// What the formatter knows of the source beside the tree.
struct Trivia<'s> {
    source: &'s str,
    /// Tokens with their byte ranges, to find punctuation the tree has no
    /// span for.
    tokens: Vec<(usize, Tok, usize)>,
    comments: Vec<lexer::Comment>,
    /// The first comment not printed yet.
    next: usize,
    /// Ends of the nodes being printed, innermost last.
    open: Vec<usize>,
}

impl Trivia<'_> {
    /// The first token starting at or after `pos`.
    fn token_from(&self, pos: usize) -> Option<(usize, &Tok, usize)> {
        let i = self.tokens.partition_point(|t| t.0 < pos);
        self.tokens.get(i).map(|(s, t, e)| (*s, t, *e))
    }

    /// The last token ending at or before `pos`.
    fn token_before(&self, pos: usize) -> Option<(usize, &Tok, usize)> {
        let i = self.tokens.partition_point(|t| t.2 <= pos);
        i.checked_sub(1).and_then(|i| self.tokens.get(i)).map(|(s, t, e)| (*s, t, *e))
    }

    /// Start of the first comment not printed yet, if it comes before `pos`;
    /// `pos` otherwise.
    fn first_before(&self, pos: usize) -> usize {
        self.comments.get(self.next).map_or(pos, |c| c.start.min(pos))
    }

    /// Whether a blank line separates `from` and `to`.
    fn blank_between(&self, from: usize, to: usize) -> bool {
        let gap = self.source.get(from..to).unwrap_or("");
        let lines: Vec<&str> = gap.split('\n').collect();
        lines.len() > 2 && lines[1..lines.len() - 1].iter().any(|l| l.trim().is_empty())
    }

    fn comment_doc(&self, index: usize) -> Doc {
        let Some(c) = self.comments.get(index) else { return Doc::Nil };
        let raw = self.source.get(c.start..c.end).unwrap_or("");
        let text = raw.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
        let line_start = self.source[..c.start].rfind('\n').map_or(0, |i| i + 1);
        let own_line = self.source[line_start..c.start].trim().is_empty();
        if own_line {
            let before = self.source[..line_start].strip_suffix('\n').unwrap_or("");
            let previous_line = &before[before.rfind('\n').map_or(0, |i| i + 1)..];
            let blank_before = line_start > 0 && previous_line.trim().is_empty();
            Doc::Comment { text, own_line, blank_before }
        } else if c.doc {
            // Printed in place: moved after later tokens, it could become
            // the documentation of a declaration it did not document.
            Doc::Comment { text, own_line, blank_before: false }
        } else if raw.starts_with("/*") {
            Doc::Inline(text)
        } else {
            Doc::LineSuffix(text)
        }
    }
}

/// Builds documents from the tree; with [`Trivia`], interleaves the
/// source's comments.
struct Printer<'s> {
    trivia: Option<Trivia<'s>>,
}

/// The punctuation around a list, for [`Printer::delimited`].
#[derive(Debug, Clone, Copy)]
struct Bracket {
    open: &'static str,
    close: &'static str,
    /// A space inside the brackets when the list is on one line.
    spaced: bool,
    /// Source offsets: the end of the opening bracket and the start of the
    /// closing one, when known.
    at: Option<(usize, usize)>,
}

impl Bracket {
    fn new(open: &'static str, close: &'static str, spaced: bool, at: Option<(usize, usize)>) -> Bracket {
        Bracket { open, close, spaced, at }
    }
}

fn start(span: crate::span::Span) -> usize {
    span.start as usize
}

fn end(span: crate::span::Span) -> usize {
    span.end as usize
}

impl Printer<'_> {
    /// The comments before `pos` not printed yet.
    fn leading(&mut self, pos: usize) -> Doc {
        self.comments_before(pos, false)
    }

    /// The comments before `pos` not printed yet; with `keep_blank`, a
    /// blank line after them stays.
    fn comments_before(&mut self, pos: usize, keep_blank: bool) -> Doc {
        let Some(t) = &mut self.trivia else { return Doc::Nil };
        let mut docs = Vec::new();
        while let Some(c) = t.comments.get(t.next) {
            if c.start >= pos {
                break;
            }
            let doc = t.comment_doc(t.next);
            let last_end = c.end;
            t.next += 1;
            let own_line = matches!(doc, Doc::Comment { own_line: true, .. });
            docs.push(doc);
            if keep_blank && own_line && t.first_before(pos) == pos && t.blank_between(last_end, pos) {
                docs.extend([Doc::HardLine, Doc::HardLine]);
            }
        }
        concat(docs)
    }

    /// Comments on the same line as `pos`, right after it.
    fn trailing(&mut self, pos: usize) -> Doc {
        let Some(t) = &mut self.trivia else { return Doc::Nil };
        let mut docs = Vec::new();
        let mut pos = pos;
        while let Some(c) = t.comments.get(t.next) {
            let Some(gap) = t.source.get(pos..c.start) else { break };
            if gap.contains('\n') || !gap.trim().is_empty() {
                break;
            }
            let next_pos = c.end;
            docs.push(t.comment_doc(t.next));
            t.next += 1;
            pos = next_pos;
        }
        concat(docs)
    }

    /// A node: the comments before it, the node, and comments on the line
    /// after it unless an enclosing node ends at the same place and takes them.
    fn node(&mut self, span: crate::span::Span, build: impl FnOnce(&mut Self) -> Doc) -> Doc {
        if self.trivia.is_none() {
            return build(self);
        }
        let lead = self.leading(start(span));
        if let Some(t) = &mut self.trivia {
            t.open.push(end(span));
        }
        let doc = build(self);
        let outermost = match &mut self.trivia {
            Some(t) => {
                t.open.pop();
                t.open.last() != Some(&end(span))
            }
            None => true,
        };
        let trail = if outermost { self.trailing(end(span)) } else { Doc::Nil };
        concat([lead, doc, trail])
    }

    /// The comments before the first token at or after `pos`.
    fn before_token(&mut self, pos: usize) -> Doc {
        let at = self.trivia.as_ref().and_then(|t| t.token_from(pos)).map(|t| t.0);
        match at {
            Some(at) => self.leading(at),
            None => Doc::Nil,
        }
    }

    /// `text` for a token starting at `at`, after the comments before it.
    fn token(&mut self, at: Option<usize>, s: &str) -> Doc {
        match at {
            Some(at) => concat([self.leading(at), text(s)]),
            None => text(s),
        }
    }

    /// Punctuation or a keyword the tree has no span for, the first token
    /// at or after `from`: printed as `s` between the comments before and
    /// after it.
    fn punct(&mut self, from: usize, s: &str) -> Doc {
        match self.token_from(from) {
            Some((start, _, end)) => concat([self.leading(start), text(s), self.trailing(end)]),
            None => text(s),
        }
    }

    /// Like [`Printer::punct`], for the last token ending at or before `to`.
    fn punct_before(&mut self, to: usize, s: &str) -> Doc {
        let token = self.trivia.as_ref().and_then(|t| t.token_before(to)).map(|t| (t.0, t.2));
        match token {
            Some((start, end)) => concat([self.leading(start), text(s), self.trailing(end)]),
            None => text(s),
        }
    }

    /// A keyword starting at `at` (when known), with the comments after it.
    fn keyword(&mut self, at: Option<usize>, s: &str) -> Doc {
        match at {
            Some(at) => concat([self.leading(at), text(s), self.trailing(at + s.len())]),
            None => text(s),
        }
    }

    /// Where the node starting at `span` starts, in the formatter.
    fn at(&self, span: crate::span::Span) -> Option<usize> {
        self.trivia.as_ref().map(|_| start(span))
    }

    fn token_from(&self, pos: usize) -> Option<(usize, Tok, usize)> {
        self.trivia.as_ref().and_then(|t| t.token_from(pos)).map(|(s, t, e)| (s, t.clone(), e))
    }

    /// The start of the token before `pos`, when it is `tok`.
    fn token_before_is(&self, pos: usize, tok: &Tok) -> Option<usize> {
        self.trivia.as_ref().and_then(|t| t.token_before(pos)).filter(|t| t.1 == tok).map(|t| t.0)
    }

    /// The start of the first token at or after `pos`, when it is `tok`.
    fn token_from_is(&self, pos: usize, tok: &Tok) -> Option<usize> {
        self.token_from(pos).filter(|t| &t.1 == tok).map(|t| t.0)
    }

    /// Where a bracketed list is in the source: the end of `open`, the first
    /// such token from `from` (past opening parentheses), and the start of
    /// `close`, after the last item and its optional trailing comma.
    fn bracket_at(&self, from: usize, open: &Tok, last_item_end: Option<usize>, close: &Tok) -> Option<(usize, usize)> {
        let t = self.trivia.as_ref()?;
        let mut tok = t.token_from(from)?;
        while tok.1 == &Tok::LParen && open != &Tok::LParen {
            tok = t.token_from(tok.2)?;
        }
        if tok.1 != open {
            return None;
        }
        let open_end = tok.2;
        let mut after = t.token_from(last_item_end.unwrap_or(open_end))?;
        if after.1 == &Tok::Comma {
            after = t.token_from(after.2)?;
        }
        (after.1 == close).then_some((open_end, after.0))
    }

    /// The separator after an item that ends at `item_end`: `sep`, with the
    /// comments around the source's comma when there is one.
    fn separator(&mut self, item_end: Option<usize>, sep: Doc) -> Doc {
        let comma = item_end.and_then(|e| self.token_from(e)).filter(|t| t.1 == Tok::Comma);
        match comma {
            Some((s, _, e)) => concat([self.leading(s), sep, self.trailing(e)]),
            None => sep,
        }
    }

    /// `open items close`, the items separated by commas: on one line when it
    /// fits, otherwise one item per line with a trailing comma. `item`
    /// builds the `i`th item and says where it ends in the source.
    fn delimited(
        &mut self,
        b: Bracket,
        n: usize,
        mut item: impl FnMut(&mut Self, usize) -> (Doc, Option<usize>),
    ) -> Doc {
        let (before_open, after_open) = self.around_open(b.at);
        let mut body = Vec::new();
        for i in 0..n {
            let (doc, item_end) = item(self, i);
            body.push(doc);
            if i + 1 < n {
                body.push(self.separator(item_end, text(",")));
                body.push(Doc::Line);
            } else {
                body.push(self.separator(item_end, Doc::IfBreak(",")));
            }
        }
        let before_close = match b.at {
            Some((_, close)) => self.leading(close),
            None => Doc::Nil,
        };
        let after_close = self.after_close(b.at);
        if n == 0 {
            if is_empty(&after_open) && is_empty(&before_close) {
                return concat([before_open, text(format!("{}{}", b.open, b.close)), after_close]);
            }
            let brk = if b.spaced { Doc::Line } else { Doc::SoftLine };
            return concat([
                before_open,
                group(concat([text(b.open), after_open, nest(before_close), brk, text(b.close)])),
                after_close,
            ]);
        }
        let brk = if b.spaced { Doc::Line } else { Doc::SoftLine };
        concat([
            before_open,
            group(concat([
                text(b.open),
                after_open,
                nest(concat([brk.clone(), concat(body), before_close])),
                brk,
                text(b.close),
            ])),
            after_close,
        ])
    }

    /// The comments before and after an opening bracket (one byte long).
    fn around_open(&mut self, at: Option<(usize, usize)>) -> (Doc, Doc) {
        match at {
            Some((open_end, _)) => (self.leading(open_end.saturating_sub(1)), self.trailing(open_end)),
            None => (Doc::Nil, Doc::Nil),
        }
    }

    /// The comments on the line after a closing bracket, unless it ends a
    /// node, which takes them.
    fn after_close(&mut self, at: Option<(usize, usize)>) -> Doc {
        let Some((_, close)) = at else { return Doc::Nil };
        let ends_node = self.trivia.as_ref().is_some_and(|t| t.open.last() == Some(&(close + 1)));
        if ends_node { Doc::Nil } else { self.trailing(close + 1) }
    }

    fn ident(&mut self, i: &Ident) -> Doc {
        self.node(i.span, |_| text(i.name.clone()))
    }

    fn path(&mut self, p: &Path) -> Doc {
        self.node(p.span, |pr| {
            let mut parts = Vec::new();
            for (i, segment) in p.segments.iter().enumerate() {
                if i > 0 {
                    parts.push(pr.punct(end(p.segments[i - 1].span), "."));
                }
                parts.push(pr.ident(segment));
            }
            concat(parts)
        })
    }

    /// `///` lines from the tree, each followed by a line break. The
    /// formatter prints doc comments with the others, from the source.
    fn docs(&self, d: Option<&String>) -> Doc {
        let Some(d) = d else { return Doc::Nil };
        if self.trivia.is_some() {
            return Doc::Nil;
        }
        concat(d.split('\n').flat_map(|line| {
            let line = if line.is_empty() { "///".to_owned() } else { format!("/// {line}") };
            [text(line), Doc::HardLine]
        }))
    }

    // -------------------------------------------------------------- file

    fn file(&mut self, file: &File) -> Doc {
        let mut tops: Vec<Top<'_>> = Vec::new();
        if let Some(p) = &file.package {
            tops.push(Top::Package(p));
        }
        tops.extend(file.imports.iter().map(Top::Import));
        tops.extend(file.items.iter().map(Top::Item));
        // The formatter keeps imports and declarations in source order, so
        // that comments stay with them.
        if self.trivia.is_some() {
            tops.sort_by_key(|t| t.start());
        }
        let mut docs = Vec::new();
        let mut previous: Option<&Top<'_>> = None;
        for top in &tops {
            if let Some(prev) = previous {
                docs.push(Doc::HardLine);
                if self.blank_line(prev, top) {
                    docs.push(Doc::HardLine);
                }
            }
            let start = match top {
                // Comments before `package` are the file's header.
                Top::Package(p) => self.trivia.as_ref().and_then(|t| t.token_before(start(p.span))).map_or(0, |t| t.0),
                _ => top.start(),
            };
            docs.push(self.comments_before(start, true));
            docs.push(match top {
                Top::Package(p) => concat([self.keyword(Some(start), "package"), text(" "), self.path(p)]),
                Top::Import(i) => self.import(i),
                Top::Item(i) => self.item(i),
            });
            previous = Some(top);
        }
        if docs.is_empty() {
            return Doc::Nil;
        }
        concat([concat(docs), Doc::HardLine])
    }

    /// Whether a blank line goes between two top-level entries: always
    /// after the package, between imports and declarations and around
    /// rules; between two imports or two declarations, where the source had
    /// one.
    fn blank_line(&self, prev: &Top<'_>, next: &Top<'_>) -> bool {
        let rule = |t: &Top<'_>| matches!(t, Top::Item(Item::Rule(_) | Item::Test(_)));
        let same_kind = !rule(prev)
            && !rule(next)
            && matches!((prev, next), (Top::Import(_), Top::Import(_)) | (Top::Item(_), Top::Item(_)));
        match &self.trivia {
            Some(t) if same_kind => t.blank_between(prev.end(), t.first_before(next.start())),
            // Without the source: imports in one block, declarations apart.
            None => !matches!((prev, next), (Top::Import(_), Top::Import(_))),
            Some(_) => true,
        }
    }

    fn import(&mut self, i: &Import) -> Doc {
        self.node(i.span, |p| {
            let mut parts = vec![p.keyword(p.at(i.span), "import"), text(" "), p.path(&i.package)];
            if let Some(names) = &i.names {
                parts.push(p.punct(end(i.package.span), "."));
                let dot = p.token_from(end(i.package.span)).map_or(end(i.package.span), |t| t.2);
                let at = p.bracket_at(dot, &Tok::LBrace, names.last().map(|n| end(n.span)), &Tok::RBrace);
                parts.push(p.delimited(Bracket::new("{", "}", false, at), names.len(), |p, k| {
                    (p.ident(&names[k]), Some(end(names[k].span)))
                }));
            }
            if let Some(alias) = &i.alias {
                parts.push(text(" "));
                parts.push(p.punct_before(start(alias.span), "as"));
                parts.push(text(" "));
                parts.push(p.ident(alias));
            }
            concat(parts)
        })
    }

    /// One declaration or rule. A new item kind needs an arm here and a
    /// function printing it.
    fn item(&mut self, i: &Item) -> Doc {
        self.node(i.span(), |p| match i {
            Item::Entity(d) => p.entity(d),
            Item::Enum(d) => p.enum_decl(d),
            Item::Level(d) => p.level(d),
            Item::Type(d) => p.type_decl(d),
            Item::Action(d) => p.action(d),
            Item::Context(d) => p.context(d),
            Item::Obligation(d) => p.obligation(d),
            Item::Def(d) => p.def(d),
            Item::Rule(d) => p.rule(d),
            Item::Test(d) => p.test_decl(d),
            Item::Fixture(d) => p.fixture(d),
            Item::Error(_) => text("<error>"),
        })
    }

    fn entity(&mut self, d: &EntityDecl) -> Doc {
        let mut parts =
            vec![self.docs(d.docs.as_ref()), self.keyword(self.at(d.span), "entity"), text(" "), self.ident(&d.name)];
        // Where the attribute block may start: after the parents.
        let mut from = end(d.name.span);
        if let Some(last) = d.parents.last() {
            parts.push(text(" "));
            parts.push(self.punct(end(d.name.span), "in"));
            parts.push(text(" "));
            let open = self.token_before_is(start(d.parents[0].span), &Tok::LBracket);
            let at = open.and_then(|o| self.bracket_at(o, &Tok::LBracket, Some(end(last.span)), &Tok::RBracket));
            from = at.map_or(end(last.span), |(_, close)| close + 1);
            parts.push(self.delimited(Bracket::new("[", "]", false, at), d.parents.len(), |p, k| {
                (p.path(&d.parents[k]), Some(end(d.parents[k].span)))
            }));
        }
        parts.push(text(" "));
        let at = self.bracket_at(from, &Tok::LBrace, d.attrs.last().map(|a| end(a.span)), &Tok::RBrace);
        // `entity A` without a block: the next `{` is not this entity's.
        let at = at.filter(|(_, close)| *close < end(d.span));
        parts.push(self.attr_block(&d.attrs, at));
        concat(parts)
    }

    /// `{ attrs }` of an entity or the context: one attribute per line (the
    /// formatter keeps a block written on one line so while it fits).
    fn attr_block(&mut self, attrs: &[AttrDecl], at: Option<(usize, usize)>) -> Doc {
        let one_line = match (&self.trivia, at, attrs.first()) {
            (Some(t), Some((open_end, _)), Some(first)) => {
                t.source.get(open_end..start(first.span)).is_some_and(|gap| !gap.contains('\n'))
            }
            _ => false,
        };
        if one_line {
            return self.delimited(Bracket::new("{", "}", true, at), attrs.len(), |p, k| {
                (p.attr(&attrs[k]), Some(end(attrs[k].span)))
            });
        }
        let (before_open, after_open) = self.around_open(at);
        let mut body = Vec::new();
        let mut previous_end = None;
        for a in attrs {
            body.push(Doc::HardLine);
            let blank = match (previous_end, &self.trivia) {
                (Some(prev), Some(t)) => t.blank_between(prev, t.first_before(start(a.span))),
                _ => false,
            };
            if blank {
                body.push(Doc::HardLine);
            }
            body.push(self.comments_before(start(a.span), true));
            body.push(self.attr(a));
            let comma = self.token_from(end(a.span)).filter(|t| t.1 == Tok::Comma).map(|t| t.2);
            body.push(self.separator(Some(end(a.span)), text(",")));
            previous_end = Some(comma.unwrap_or(end(a.span)));
        }
        let before_close = match at {
            Some((_, close)) => self.leading(close),
            None => Doc::Nil,
        };
        let after_close = self.after_close(at);
        if attrs.is_empty() {
            if is_empty(&after_open) && is_empty(&before_close) {
                return concat([before_open, text("{}"), after_close]);
            }
            let comments = group(concat([text("{"), after_open, nest(before_close), Doc::Line, text("}")]));
            return concat([before_open, comments, after_close]);
        }
        concat([
            before_open,
            text("{"),
            after_open,
            nest(concat([concat(body), before_close])),
            Doc::HardLine,
            text("}"),
            after_close,
        ])
    }

    fn attr(&mut self, a: &AttrDecl) -> Doc {
        self.node(a.span, |p| {
            if a.name.name.is_empty() && matches!(a.ty, TypeExpr::Error(_)) {
                return concat([p.docs(a.docs.as_ref()), text("<error>")]);
            }
            let name = p.ident(&a.name);
            let colon = p.punct(end(a.name.span), ":");
            let ty = p.type_expr(&a.ty);
            let optional = if a.optional { p.punct(end(a.ty.span()), "?") } else { Doc::Nil };
            concat([p.docs(a.docs.as_ref()), name, colon, text(" "), ty, optional])
        })
    }

    fn type_expr(&mut self, t: &TypeExpr) -> Doc {
        self.node(t.span(), |p| match t {
            TypeExpr::Named(path) => p.path(path),
            TypeExpr::IntRange { lo, hi, span } => {
                let bound = |b: &Option<i128>| b.map(|n| n.to_string()).unwrap_or_default();
                // Comments inside the range go before its last token.
                let close = p.trivia.as_ref().map(|_| end(*span).saturating_sub(1));
                concat([text(format!("Int[{}..{}", bound(lo), bound(hi))), p.token(close, "]")])
            }
            TypeExpr::Set(inner, _) => {
                let inner_doc = p.type_expr(inner);
                let close = p.token(p.token_from_is(end(inner.span()), &Tok::Gt), ">");
                concat([text("Set<"), inner_doc, close])
            }
            TypeExpr::Record(fields, span) => {
                let at = p.bracket_at(start(*span), &Tok::LBrace, fields.last().map(|f| end(f.span)), &Tok::RBrace);
                p.delimited(Bracket::new("{", "}", true, at), fields.len(), |p, k| {
                    (p.attr(&fields[k]), Some(end(fields[k].span)))
                })
            }
            TypeExpr::Error(_) => text("<error>"),
        })
    }

    fn enum_decl(&mut self, d: &EnumDecl) -> Doc {
        let keyword = self.keyword(self.at(d.span), "enum");
        let name = self.ident(&d.name);
        let at = self.bracket_at(end(d.name.span), &Tok::LBrace, d.values.last().map(|v| end(v.span)), &Tok::RBrace);
        let values = self.delimited(Bracket::new("{", "}", true, at), d.values.len(), |p, k| {
            (p.ident(&d.values[k]), Some(end(d.values[k].span)))
        });
        concat([self.docs(d.docs.as_ref()), keyword, text(" "), name, text(" "), values])
    }

    fn level(&mut self, d: &LevelDecl) -> Doc {
        let keyword = self.keyword(self.at(d.span), "level");
        let name = self.ident(&d.name);
        let eq = self.punct(end(d.name.span), "=");
        let mut values = Vec::new();
        let mut previous: Option<&Ident> = None;
        for v in &d.values {
            if let Some(prev) = previous {
                values.push(self.before_token(end(prev.span)));
                values.push(Doc::Line);
                values.push(self.punct(end(prev.span), "<"));
                values.push(text(" "));
            }
            values.push(self.ident(v));
            previous = Some(v);
        }
        concat([
            self.docs(d.docs.as_ref()),
            group(concat([keyword, text(" "), name, text(" "), eq, nest(concat([Doc::Line, concat(values)]))])),
        ])
    }

    fn type_decl(&mut self, d: &TypeDecl) -> Doc {
        let keyword = self.keyword(self.at(d.span), "type");
        let name = self.ident(&d.name);
        let eq = self.punct(end(d.name.span), "=");
        let ty = self.type_expr(&d.ty);
        concat([self.docs(d.docs.as_ref()), keyword, text(" "), name, text(" "), eq, text(" "), ty])
    }

    fn action(&mut self, d: &ActionDecl) -> Doc {
        let keyword = self.keyword(self.at(d.span), "action");
        let mut names = Vec::new();
        for (i, n) in d.names.iter().enumerate() {
            if i > 0 {
                names.push(self.punct(end(d.names[i - 1].span), ","));
                names.push(Doc::Line);
            }
            names.push(self.ident(n));
        }
        // A long list of names takes one line each.
        let names = group(nest(concat(names)));
        let kinds: Vec<(&str, &[Path])> =
            [("principal: ", d.principals.as_slice()), ("resource: ", d.resources.as_slice())]
                .into_iter()
                .filter(|(_, paths)| !paths.is_empty())
                .collect();
        let from = d.names.last().map_or(start(d.span), |n| end(n.span));
        let open = self.token_from_is(from, &Tok::LBrace);
        let at = open.map(|o| (o + 1, end(d.span).saturating_sub(1)));
        // The fields print principals first; their separators are the
        // source's only when the source has them in that order.
        let in_order = match (d.principals.last(), d.resources.first()) {
            (Some(p), Some(r)) => p.span.end < r.span.start,
            _ => true,
        };
        let fields = self.delimited(Bracket::new("{", "}", true, at), kinds.len(), |p, k| {
            let (label, paths) = kinds[k];
            let (types, field_end) = match paths {
                [one] => (p.path(one), end(one.span)),
                many => p.path_list(many),
            };
            (concat([text(label), types]), Some(field_end).filter(|_| in_order))
        });
        concat([self.docs(d.docs.as_ref()), keyword, text(" "), names, text(" "), fields])
    }

    /// `[A, B]` in an action declaration, and where it ends in the source.
    fn path_list(&mut self, paths: &[Path]) -> (Doc, usize) {
        let last_end = paths.last().map_or(0, |p| end(p.span));
        let open = paths.first().and_then(|p| self.token_before_is(start(p.span), &Tok::LBracket));
        let at = open.and_then(|o| self.bracket_at(o, &Tok::LBracket, Some(last_end), &Tok::RBracket));
        let doc = self.delimited(Bracket::new("[", "]", false, at), paths.len(), |p, j| {
            (p.path(&paths[j]), Some(end(paths[j].span)))
        });
        (doc, at.map_or(last_end, |(_, close)| close + 1))
    }

    fn context(&mut self, d: &ContextDecl) -> Doc {
        let at = self.bracket_at(start(d.span), &Tok::Context, None, &Tok::LBrace).and_then(|(_, open)| {
            self.bracket_at(open, &Tok::LBrace, d.attrs.last().map(|a| end(a.span)), &Tok::RBrace)
        });
        let keyword = self.keyword(self.at(d.span), "context");
        let block = self.attr_block(&d.attrs, at);
        concat([self.docs(d.docs.as_ref()), keyword, text(" "), block])
    }

    fn param(&mut self, prm: &Param) -> Doc {
        self.node(prm.span, |p| {
            let name = p.ident(&prm.name);
            let colon = p.punct(end(prm.name.span), ":");
            concat([name, colon, text(" "), p.type_expr(&prm.ty)])
        })
    }

    fn params(&mut self, after: usize, params: &[Param]) -> Doc {
        let at = self.bracket_at(after, &Tok::LParen, params.last().map(|p| end(p.span)), &Tok::RParen);
        self.delimited(Bracket::new("(", ")", false, at), params.len(), |p, k| {
            (p.param(&params[k]), Some(end(params[k].span)))
        })
    }

    fn obligation(&mut self, d: &ObligationDecl) -> Doc {
        let keyword = self.keyword(self.at(d.span), "obligation");
        let name = self.ident(&d.name);
        let params = if d.params.is_empty() { Doc::Nil } else { self.params(end(d.name.span), &d.params) };
        concat([self.docs(d.docs.as_ref()), keyword, text(" "), name, params])
    }

    fn def(&mut self, d: &DefDecl) -> Doc {
        let keyword = self.keyword(self.at(d.span), "def");
        let name = self.ident(&d.name);
        let params = self.params(end(d.name.span), &d.params);
        let arrow = self.punct_before(start(d.ret.span()), "->");
        let ret = self.type_expr(&d.ret);
        let eq = self.punct(end(d.ret.span()), "=");
        let body = self.expr(&d.body);
        let semi = self.token(self.token_from_is(end(d.body.span), &Tok::Semi), ";");
        concat([
            self.docs(d.docs.as_ref()),
            group(concat([
                keyword,
                text(" "),
                name,
                params,
                text(" "),
                arrow,
                text(" "),
                ret,
                text(" "),
                eq,
                nest(concat([Doc::Line, body])),
                semi,
            ])),
        ])
    }

    fn rule(&mut self, r: &Rule) -> Doc {
        let mut parts = vec![self.docs(r.docs.as_ref())];
        if !r.annotations.is_empty() {
            let annotations: Vec<Doc> = r.annotations.iter().map(|a| self.annotation(a)).collect();
            parts.push(join(annotations, &text(" ")));
            parts.push(Doc::HardLine);
        }
        let at = self.at(r.effect_span);
        parts.push(self.keyword(at, r.effect.keyword()));
        parts.push(text(" "));
        parts.push(self.scope(&r.scope));
        let mut clauses = Vec::new();
        for c in &r.conditions {
            clauses.push(Doc::HardLine);
            clauses.push(self.condition(c));
        }
        if let Some(first) = r.obligations.first() {
            clauses.push(Doc::HardLine);
            let keyword = self.token_before_is(start(first.span), &Tok::Obligate);
            let keyword = self.keyword(keyword, "obligate");
            let mut calls = Vec::new();
            for (i, c) in r.obligations.iter().enumerate() {
                calls.push(self.obligation_call(c));
                if i + 1 < r.obligations.len() {
                    calls.push(self.separator(Some(end(c.span)), text(",")));
                    calls.push(Doc::Line);
                }
            }
            clauses.push(group(concat([keyword, text(" "), nest(concat(calls))])));
        }
        parts.push(nest(concat(clauses)));
        let semi = self.trivia.as_ref().map(|_| end(r.span).saturating_sub(1));
        parts.push(self.token(semi, ";"));
        concat(parts)
    }

    fn condition(&mut self, c: &Condition) -> Doc {
        self.node(c.span, |p| {
            let keyword = p.keyword(p.at(c.span), if c.when { "when" } else { "unless" });
            // An operator chain indents its own continuation lines.
            let condition = p.expr(&c.expr);
            let condition = if matches!(c.expr.kind, ExprKind::Binary(..)) { condition } else { nest(condition) };
            concat([keyword, text(" "), condition])
        })
    }

    fn annotation(&mut self, a: &Annotation) -> Doc {
        self.node(a.span, |p| {
            let name = p.ident(&a.name);
            match &a.value {
                Some(v) => {
                    let open = p.punct(end(a.name.span), "(");
                    let value = p.node(v.span, |_| text(quote(&v.value)));
                    let close = p.token(p.token_from_is(end(v.span), &Tok::RParen), ")");
                    concat([text("@"), name, open, value, close])
                }
                None => concat([text("@"), name]),
            }
        })
    }

    fn scope(&mut self, s: &Scope) -> Doc {
        let open = self.token_before_is(start(s.principal.span), &Tok::LParen);
        let close = self.bracket_at(end(s.resource.span), &Tok::Comma, None, &Tok::RParen).map(|(_, c)| c);
        let close = close.or_else(|| self.token_from_is(end(s.resource.span), &Tok::RParen));
        let at = open.zip(close).map(|(o, c)| (o + 1, c));
        self.delimited(Bracket::new("(", ")", false, at), 3, |p, k| match k {
            0 => (p.entity_scope("principal", &s.principal), Some(end(s.principal.span))),
            1 => (p.action_scope(&s.action), Some(end(s.action.span))),
            _ => (p.entity_scope("resource", &s.resource), Some(end(s.resource.span))),
        })
    }

    fn entity_scope(&mut self, keyword: &str, s: &EntityScope) -> Doc {
        self.node(s.span, |p| {
            let mut parts = vec![p.keyword(p.at(s.span), keyword)];
            if let Some(ty) = &s.ty {
                parts.push(p.punct_before(start(ty.span), ":"));
                parts.push(text(" "));
                parts.push(p.path(ty));
            }
            let (op, e) = match &s.constraint {
                Some(ScopeConstraint::Eq(e)) => ("==", e),
                Some(ScopeConstraint::In(e)) => ("in", e),
                None => return concat(parts),
            };
            parts.extend([text(" "), p.punct_before(start(e.span), op), text(" "), p.expr_at(e, POSTFIX)]);
            concat(parts)
        })
    }

    fn action_scope(&mut self, s: &ActionScope) -> Doc {
        self.node(s.span, |p| match (s.list, s.actions.as_slice()) {
            (false, []) => p.keyword(p.at(s.span), "action"),
            (false, [one]) => {
                let keyword = p.keyword(p.at(s.span), "action");
                concat([keyword, p.punct_before(start(one.span), ":"), text(" "), p.path(one)])
            }
            (_, many) => {
                let at = p.bracket_at(start(s.span), &Tok::Action, None, &Tok::In).and_then(|(_, in_kw)| {
                    p.bracket_at(in_kw + 2, &Tok::LBracket, many.last().map(|a| end(a.span)), &Tok::RBracket)
                });
                let list = p.delimited(Bracket::new("[", "]", false, at), many.len(), |p, k| {
                    (p.path(&many[k]), Some(end(many[k].span)))
                });
                let keyword = p.keyword(p.at(s.span), "action");
                let in_kw = p.punct(start(s.span) + "action".len(), "in");
                concat([keyword, text(" "), in_kw, text(" "), list])
            }
        })
    }

    fn obligation_call(&mut self, c: &ObligationCall) -> Doc {
        self.node(c.span, |p| {
            let name = p.path(&c.name);
            if c.args.is_empty() {
                return name;
            }
            let at =
                p.bracket_at(end(c.name.span), &Tok::LParen, c.args.last().map(|a| end(a.value.span)), &Tok::RParen);
            let args = p.delimited(Bracket::new("(", ")", false, at), c.args.len(), |p, k| {
                (p.named_arg(&c.args[k]), Some(end(c.args[k].value.span)))
            });
            concat([name, args])
        })
    }

    fn named_arg(&mut self, a: &NamedArg) -> Doc {
        let name = self.ident(&a.name);
        let colon = self.punct(end(a.name.span), ":");
        concat([name, colon, text(" "), self.expr(&a.value)])
    }

    // -------------------------------------------------------------- tests

    fn test_decl(&mut self, d: &TestDecl) -> Doc {
        let keyword = self.keyword(self.at(d.span), "test");
        let name = self.str_lit(&d.name);
        let last = d.fields.last().map(|f| end(f.value.span));
        let at = self.bracket_at(end(d.name.span), &Tok::LBrace, last, &Tok::RBrace);
        let (before_open, after_open) = self.around_open(at);
        let mut body = Vec::new();
        for f in &d.fields {
            body.push(Doc::HardLine);
            body.push(self.comments_before(start(f.name.span), true));
            body.push(self.data_field(f));
            body.push(self.separator(Some(end(f.value.span)), text(",")));
        }
        let before_close = match at {
            Some((_, close)) => self.leading(close),
            None => Doc::Nil,
        };
        let after_close = self.after_close(at);
        let block = if d.fields.is_empty() && is_empty(&after_open) && is_empty(&before_close) {
            text("{}")
        } else {
            concat([text("{"), after_open, nest(concat([concat(body), before_close])), Doc::HardLine, text("}")])
        };
        concat([self.docs(d.docs.as_ref()), keyword, text(" "), name, text(" "), before_open, block, after_close])
    }

    fn fixture(&mut self, d: &FixtureDecl) -> Doc {
        let keyword = self.keyword(self.at(d.span), "fixture");
        let name = self.ident(&d.name);
        let eq = self.punct(end(d.name.span), "=");
        let value = self.data(&d.value);
        let semi = self.token(self.token_from_is(end(d.value.span), &Tok::Semi), ";");
        concat([self.docs(d.docs.as_ref()), keyword, text(" "), name, text(" "), eq, text(" "), value, semi])
    }

    fn str_lit(&mut self, s: &StrLit) -> Doc {
        self.node(s.span, |_| text(quote(&s.value)))
    }

    fn data_field(&mut self, f: &DataField) -> Doc {
        let name = self.ident(&f.name);
        let colon = self.punct(end(f.name.span), ":");
        concat([name, colon, text(" "), self.data(&f.value)])
    }

    /// `name: value, ...` between brackets that start at or after `from`.
    fn data_fields(&mut self, from: usize, fields: &[DataField], brackets: (Tok, Tok), b: Bracket) -> Doc {
        let at = self.bracket_at(from, &brackets.0, fields.last().map(|f| end(f.value.span)), &brackets.1);
        self.delimited(Bracket { at, ..b }, fields.len(), |p, k| {
            (p.data_field(&fields[k]), Some(end(fields[k].value.span)))
        })
    }

    fn data_path(&mut self, segments: &[Ident]) -> Doc {
        let mut parts = Vec::new();
        for (i, segment) in segments.iter().enumerate() {
            if i > 0 {
                parts.push(self.punct(end(segments[i - 1].span), "."));
            }
            parts.push(self.ident(segment));
        }
        concat(parts)
    }

    fn data_update(&mut self, u: &DataUpdate) -> Doc {
        let path = self.data_path(&u.path);
        let colon = match u.path.last() {
            Some(last) => self.punct(end(last.span), ":"),
            None => text(":"),
        };
        concat([path, colon, text(" "), self.data(&u.value)])
    }

    /// The end of the token that starts at or after `pos`, or `pos`.
    fn past_token(&self, pos: usize) -> usize {
        self.token_from(pos).map_or(pos, |t| t.2)
    }

    fn data(&mut self, d: &Data) -> Doc {
        self.node(d.span, |p| match &d.kind {
            DataKind::Bool(b) => text(b.to_string()),
            DataKind::Int(n) => text(n.to_string()),
            DataKind::Duration(ms) => text(duration(*ms)),
            DataKind::Str(s) => text(quote(s)),
            DataKind::Name(path) => p.path(path),
            DataKind::Entity { ty, id, attrs, parents } => {
                let mut parts = vec![p.path(ty), p.punct(end(ty.span), "::"), p.str_lit(id)];
                let mut after = end(id.span);
                if !attrs.is_empty() {
                    parts.push(text(" "));
                    let braces = (Tok::LBrace, Tok::RBrace);
                    parts.push(p.data_fields(after, attrs, braces, Bracket::new("{", "}", true, None)));
                    // Past the closing brace, and a trailing comma before it.
                    let mut next = p.token_from(attrs.last().map_or(after, |a| end(a.value.span)));
                    if let Some((_, Tok::Comma, e)) = next {
                        next = p.token_from(e);
                    }
                    after = next.map_or(after, |t| t.2);
                }
                if let Some(last) = parents.last() {
                    parts.push(text(" "));
                    parts.push(p.punct(after, "in"));
                    parts.push(text(" "));
                    let in_end = p.past_token(after);
                    let at = p.bracket_at(in_end, &Tok::LBracket, Some(end(last.1.span)), &Tok::RBracket);
                    parts.push(p.delimited(Bracket::new("[", "]", false, at), parents.len(), |p, k| {
                        let (ty, id) = &parents[k];
                        let doc = concat([p.path(ty), p.punct(end(ty.span), "::"), p.str_lit(id)]);
                        (doc, Some(end(id.span)))
                    }));
                }
                concat(parts)
            }
            DataKind::Call(name, args) => {
                let name_doc = p.path(name);
                let parens = (Tok::LParen, Tok::RParen);
                concat([name_doc, p.data_fields(end(name.span), args, parens, Bracket::new("(", ")", false, None))])
            }
            DataKind::Set(items) => {
                let last = items.last().map(|i| end(i.span));
                let at = p.bracket_at(start(d.span), &Tok::LBracket, last, &Tok::RBracket);
                p.delimited(Bracket::new("[", "]", false, at), items.len(), |p, k| {
                    (p.data(&items[k]), Some(end(items[k].span)))
                })
            }
            DataKind::Record(fields) => {
                let braces = (Tok::LBrace, Tok::RBrace);
                p.data_fields(start(d.span), fields, braces, Bracket::new("{", "}", true, None))
            }
            DataKind::With(base, updates) => {
                let base_doc = p.data(base);
                let keyword = p.punct(end(base.span), "with");
                let with_end = p.past_token(end(base.span));
                let last = updates.last().map(|u| end(u.value.span));
                let at = p.bracket_at(with_end, &Tok::LBrace, last, &Tok::RBrace);
                let block = p.delimited(Bracket::new("{", "}", true, at), updates.len(), |p, k| {
                    (p.data_update(&updates[k]), Some(end(updates[k].value.span)))
                });
                concat([base_doc, text(" "), keyword, text(" "), block])
            }
            DataKind::Without(base, paths) => {
                let base_doc = p.data(base);
                let keyword = p.punct(end(base.span), "without");
                let without_end = p.past_token(end(base.span));
                let last = paths.last().and_then(|path| path.last()).map(|i| end(i.span));
                let at = p.bracket_at(without_end, &Tok::LBracket, last, &Tok::RBracket);
                let list = p.delimited(Bracket::new("[", "]", false, at), paths.len(), |p, k| {
                    (p.data_path(&paths[k]), paths[k].last().map(|i| end(i.span)))
                });
                concat([base_doc, text(" "), keyword, text(" "), list])
            }
            DataKind::Error => text("<error>"),
        })
    }

    // -------------------------------------------------------------- expressions

    /// An expression, without parentheses around it.
    fn expr(&mut self, e: &Expr) -> Doc {
        self.expr_at(e, LOWEST)
    }

    /// The expression, parenthesised if it binds less tightly than `min`.
    fn expr_at(&mut self, e: &Expr, min: u8) -> Doc {
        crate::stack::grow(|| {
            self.node(e.span, |p| {
                let doc = p.expr_kind(e);
                if prec(e) < min { concat([text("("), nest(doc), text(")")]) } else { doc }
            })
        })
    }

    fn expr_kind(&mut self, e: &Expr) -> Doc {
        match &e.kind {
            ExprKind::Bool(b) => text(if *b { "true" } else { "false" }),
            ExprKind::Int(n) => text(n.to_string()),
            ExprKind::Str(s) => text(quote(s)),
            ExprKind::Duration(n) => text(duration(*n)),
            ExprKind::Name(n) => text(n.clone()),
            ExprKind::Principal => text("principal"),
            ExprKind::Resource => text("resource"),
            ExprKind::Context => text("context"),
            ExprKind::Entity { ty, id } => {
                let ty_doc = self.expr_at(ty, POSTFIX);
                concat([ty_doc, self.punct(end(ty.span), "::"), text(quote(id))])
            }
            ExprKind::Set(elems) => {
                let at =
                    self.bracket_at(start(e.span), &Tok::LBracket, elems.last().map(|x| end(x.span)), &Tok::RBracket);
                self.delimited(Bracket::new("[", "]", false, at), elems.len(), |p, k| {
                    (p.expr(&elems[k]), Some(end(elems[k].span)))
                })
            }
            ExprKind::Attr(x, name) => {
                let x_doc = self.expr_at(x, POSTFIX);
                concat([x_doc, self.punct(end(x.span), "."), self.ident(name)])
            }
            ExprKind::Call { callee, args } => {
                let callee_doc = self.expr_at(callee, POSTFIX);
                let at = self.bracket_at(
                    end(callee.span),
                    &Tok::LParen,
                    args.last().map(|a| end(arg_span(a))),
                    &Tok::RParen,
                );
                let args = self.delimited(Bracket::new("(", ")", false, at), args.len(), |p, k| {
                    (p.arg(&args[k]), Some(end(arg_span(&args[k]))))
                });
                concat([callee_doc, args])
            }
            ExprKind::Has(x, name) => {
                let x_doc = self.expr_at(x, ADD);
                concat([x_doc, text(" "), self.punct(end(x.span), "has"), text(" "), self.ident(name)])
            }
            ExprKind::Like(x, pat) => {
                let x_doc = self.expr_at(x, ADD);
                let like = self.punct(end(x.span), "like");
                concat([x_doc, text(" "), like, text(" "), self.node(pat.span, |_| text(pattern(pat)))])
            }
            ExprKind::Unary(op, operand) => {
                let symbol = match op {
                    UnOp::Not => "!",
                    // `- -x` rather than `--x`, which reads as a decrement.
                    UnOp::Neg if starts_with_minus(operand) => "- ",
                    UnOp::Neg => "-",
                };
                concat([text(symbol), self.expr_at(operand, UNARY)])
            }
            ExprKind::Binary(op, ..) => self.binary_chain(e, *op),
            ExprKind::If(_, _, b) if matches!(b.kind, ExprKind::If(..)) => self.if_chain(e),
            ExprKind::If(c, a, b) => {
                let if_kw = self.keyword(self.at(e.span).and_then(|s| self.token_from_is(s, &Tok::If)), "if");
                let cond = self.expr(c);
                let before_then = self.before_token(end(c.span));
                let then_kw = self.punct(end(c.span), "then");
                let then = self.expr(a);
                let before_else = self.before_token(end(a.span));
                let else_kw = self.punct(end(a.span), "else");
                let otherwise = self.expr(b);
                group(concat([
                    if_kw,
                    text(" "),
                    nest(cond),
                    nest(concat([
                        before_then,
                        Doc::Line,
                        then_kw,
                        text(" "),
                        nest(then),
                        before_else,
                        Doc::Line,
                        else_kw,
                        text(" "),
                        nest(otherwise),
                    ])),
                ]))
            }
            ExprKind::Let(name, value, body) => {
                let let_kw = self.keyword(self.at(e.span).and_then(|s| self.token_from_is(s, &Tok::Let)), "let");
                let name_end = end(name.span);
                let name = self.ident(name);
                let eq = self.punct(name_end, "=");
                let value_doc = self.expr(value);
                let semi = self.punct(end(value.span), ";");
                let body = self.expr(body);
                group(concat([let_kw, text(" "), name, text(" "), eq, text(" "), value_doc, semi, Doc::Line, body]))
            }
            ExprKind::Error => text("<error>"),
        }
    }

    /// `if a then x else if b then y else z`: when it does not fit on one
    /// line, each `else` starts a line at the same indentation as the `if`.
    fn if_chain(&mut self, e: &Expr) -> Doc {
        let mut parts = Vec::new();
        let mut if_at = self.at(e.span).and_then(|s| self.token_from_is(s, &Tok::If));
        let mut current = e;
        while let ExprKind::If(c, a, b) = &current.kind {
            parts.extend([self.keyword(if_at, "if"), text(" ")]);
            parts.push(nest(self.expr(c)));
            parts.extend([self.before_token(end(c.span)), text(" "), self.punct(end(c.span), "then"), text(" ")]);
            parts.push(nest(self.expr(a)));
            parts.extend([self.before_token(end(a.span)), Doc::Line, self.punct(end(a.span), "else"), text(" ")]);
            if matches!(b.kind, ExprKind::If(..)) {
                if_at = self.at(b.span).and_then(|s| self.token_from_is(s, &Tok::If));
                current = b;
            } else {
                parts.push(nest(self.expr(b)));
                break;
            }
        }
        group(concat(parts))
    }

    /// A binary operation. Chains of a left-associative operator level
    /// (`a && b && c`) are one group, broken before each operator.
    fn binary_chain(&mut self, e: &Expr, op: BinOp) -> Doc {
        let level = binop_prec(op);
        let (left_min, right_min) = if level == CMP { (ADD, ADD) } else { (level, level + 1) };
        // Walk down the left spine while it stays at this level.
        let mut rights = Vec::new();
        let mut left = e;
        while let ExprKind::Binary(op, l, r) = &left.kind {
            if binop_prec(*op) != level || (level == CMP && !rights.is_empty()) {
                break;
            }
            rights.push((*op, end(l.span), r.as_ref()));
            left = l;
        }
        // An operand that is itself an operation binds more tightly: its own
        // breaks are indented one level more, so the layout shows the nesting.
        let first = self.expr_at(left, left_min);
        let first = if matches!(left.kind, ExprKind::Binary(..)) { nest(first) } else { first };
        let mut tail = Vec::new();
        for (op, left_end, r) in rights.into_iter().rev() {
            // Comments before the operator go before its line break.
            tail.push(self.before_token(left_end));
            tail.push(Doc::Line);
            tail.push(self.punct(left_end, op.symbol()));
            tail.push(text(" "));
            tail.push(self.expr_at(r, right_min));
        }
        group(concat([first, nest(concat(tail))]))
    }

    fn arg(&mut self, a: &Arg) -> Doc {
        match a {
            Arg::Expr(e) => self.expr(e),
            Arg::Lambda(name, body) => {
                let name_end = end(name.span);
                let name = self.ident(name);
                let arrow = self.punct(name_end, "=>");
                concat([name, text(" "), arrow, text(" "), nest(self.expr(body))])
            }
        }
    }
}

/// A top-level entry of a file.
#[derive(Debug, Clone, Copy)]
enum Top<'a> {
    Package(&'a Path),
    Import(&'a Import),
    Item(&'a Item),
}

impl Top<'_> {
    fn start(&self) -> usize {
        match self {
            Top::Package(p) => start(p.span),
            Top::Import(i) => start(i.span),
            Top::Item(i) => start(i.span()),
        }
    }

    fn end(&self) -> usize {
        match self {
            Top::Package(p) => end(p.span),
            Top::Import(i) => end(i.span),
            Top::Item(i) => end(i.span()),
        }
    }
}

fn arg_span(a: &Arg) -> crate::span::Span {
    match a {
        Arg::Expr(e) => e.span,
        Arg::Lambda(name, body) => name.span.to(body.span),
    }
}

// ------------------------------------------------------------------ precedence

// Precedence levels, lowest first, as in the grammar.
/// `let`, `if`: only where a whole expression is allowed.
const LOWEST: u8 = 0;
const OR: u8 = 1;
const AND: u8 = 2;
/// Comparisons, `in`, `has`, `like`: non-associative.
const CMP: u8 = 3;
const ADD: u8 = 4;
const MUL: u8 = 5;
/// Unary `!` and `-`, and negative literals (which the parser folds from `-`).
const UNARY: u8 = 6;
const POSTFIX: u8 = 7;

fn binop_prec(op: BinOp) -> u8 {
    match op {
        BinOp::Or => OR,
        BinOp::And => AND,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::In => CMP,
        BinOp::Add | BinOp::Sub => ADD,
        BinOp::Mul => MUL,
    }
}

fn prec(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Let(..) | ExprKind::If(..) => LOWEST,
        ExprKind::Binary(op, ..) => binop_prec(*op),
        ExprKind::Has(..) | ExprKind::Like(..) => CMP,
        ExprKind::Unary(..) => UNARY,
        ExprKind::Int(n) | ExprKind::Duration(n) if *n < 0 => UNARY,
        _ => POSTFIX,
    }
}

/// Whether the expression prints starting with `-`.
fn starts_with_minus(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Int(n) | ExprKind::Duration(n) => *n < 0,
        ExprKind::Unary(UnOp::Neg, _) => true,
        _ => false,
    }
}

// ------------------------------------------------------------------ literals

/// A string literal with quotes, escaped so that the lexer reads back `s`.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    escape_into(&mut out, s, false);
    out.push('"');
    out
}

fn escape_into(out: &mut String, s: &str, star: bool) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '*' if star => out.push_str("\\*"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

/// A `like` pattern: `*` for wildcards, `\*` for literal stars.
fn pattern(p: &Pattern) -> String {
    let mut out = String::from("\"");
    for part in &p.parts {
        match part {
            PatternPart::Literal(s) => escape_into(&mut out, s, true),
            PatternPart::Wildcard => out.push('*'),
        }
    }
    out.push('"');
    out
}

/// A duration in canonical form (`1h30m`); values beyond 64 bits, which only
/// the checker rejects, in milliseconds so that they read back the same.
fn duration(millis: i128) -> String {
    match i64::try_from(millis) {
        Ok(ms) => format_duration(ms),
        Err(_) => format!("{millis}ms"),
    }
}

// ------------------------------------------------------------------ signatures

/// A declaration as its reference documentation shows it: without its doc
/// comment, and a function without its body. `None` for rules, tests,
/// fixtures and broken items.
pub fn signature(i: &Item) -> Option<String> {
    let mut p = Printer { trivia: None };
    let doc = match i {
        Item::Entity(d) => p.entity(&EntityDecl { docs: None, ..d.clone() }),
        Item::Enum(d) => p.enum_decl(&EnumDecl { docs: None, ..d.clone() }),
        Item::Level(d) => p.level(&LevelDecl { docs: None, ..d.clone() }),
        Item::Type(d) => p.type_decl(&TypeDecl { docs: None, ..d.clone() }),
        Item::Action(d) => p.action(&ActionDecl { docs: None, ..d.clone() }),
        Item::Context(d) => p.context(&ContextDecl { docs: None, ..d.clone() }),
        Item::Obligation(d) => p.obligation(&ObligationDecl { docs: None, ..d.clone() }),
        Item::Def(d) => {
            let name = p.ident(&d.name);
            let params = p.params(end(d.name.span), &d.params);
            let ret = p.type_expr(&d.ret);
            group(concat([text("def "), name, params, text(" -> "), ret]))
        }
        Item::Rule(_) | Item::Test(_) | Item::Fixture(_) | Item::Error(_) => return None,
    };
    Some(layout(&doc, WIDTH))
}
