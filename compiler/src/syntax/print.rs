//! The printer: an AST back to canonical source text.
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
//! Comments other than doc comments are not in the AST, so they are not
//! printed. A comment-preserving formatter can build on the same documents:
//! comments become `Text` followed by a `HardLine`, inserted before the node
//! whose span follows them (a hard line forces the enclosing groups to
//! break, so a `//` comment never swallows code).

use std::fmt::Write as _;

use ward_types::values::format_duration;

use crate::syntax::ast::{
    ActionDecl, ActionScope, Annotation, Arg, AttrDecl, BinOp, ContextDecl, DefDecl, EntityDecl, EntityScope, EnumDecl,
    Expr, ExprKind, File, Ident, Import, Item, LevelDecl, NamedArg, ObligationCall, ObligationDecl, Param, Path,
    Pattern, PatternPart, Rule, Scope, ScopeConstraint, TypeDecl, TypeExpr, UnOp,
};
use crate::syntax::ast::{Data, DataField, DataKind, FixtureDecl, TestDecl};

/// The line width the printer aims for.
pub const WIDTH: usize = 100;

/// Indentation of one nesting level.
const INDENT: usize = 2;

/// Prints a file as canonical Ward source, ending with a newline (an empty
/// file prints as the empty string).
pub fn print_file(file: &File) -> String {
    layout(&file_doc(file), WIDTH)
}

/// Prints an expression as canonical Ward source, without a final newline.
pub fn print_expr(e: &Expr) -> String {
    layout(&expr(e), WIDTH)
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

/// `open items close`, the items separated by commas: on one line when it
/// fits, otherwise one item per line with a trailing comma.
fn delimited(open: &str, items: Vec<Doc>, close: &str, spaced: bool) -> Doc {
    if items.is_empty() {
        return text(format!("{open}{close}"));
    }
    let brk = if spaced { Doc::Line } else { Doc::SoftLine };
    group(concat([
        text(open),
        nest(concat([brk.clone(), join(items, &concat([text(","), Doc::Line])), Doc::IfBreak(",")])),
        brk,
        text(close),
    ]))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Flat,
    Break,
}

/// Lays a document out within `width` columns.
fn layout(doc: &Doc, width: usize) -> String {
    let mut out = String::new();
    let mut col = 0usize;
    // Indentation is written lazily, before the next text, so that blank
    // lines carry no trailing spaces.
    let mut pending_indent: Option<usize> = None;
    let mut stack: Vec<(usize, Mode, &Doc)> = vec![(0, Mode::Break, doc)];
    while let Some((indent, mode, doc)) = stack.pop() {
        let mut write = |s: &str, out: &mut String| {
            if let Some(n) = pending_indent.take() {
                out.extend(std::iter::repeat_n(' ', n));
            }
            out.push_str(s);
            col += s.chars().count();
        };
        match doc {
            Doc::Nil => {}
            Doc::Text(s) => write(s, &mut out),
            Doc::IfBreak(s) => {
                if mode == Mode::Break {
                    write(s, &mut out);
                }
            }
            Doc::Line if mode == Mode::Flat => write(" ", &mut out),
            Doc::SoftLine if mode == Mode::Flat => {}
            Doc::Line | Doc::SoftLine | Doc::HardLine => {
                out.push('\n');
                col = indent;
                pending_indent = Some(indent);
            }
            Doc::Nest(inner) => stack.push((indent + INDENT, mode, inner)),
            Doc::Group(inner) => {
                let mode = if mode == Mode::Flat || fits(width.saturating_sub(col), (indent, Mode::Flat, inner), &stack)
                {
                    Mode::Flat
                } else {
                    Mode::Break
                };
                stack.push((indent, mode, inner));
            }
            Doc::Concat(docs) => stack.extend(docs.iter().rev().map(|d| (indent, mode, d))),
        }
    }
    out
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
            // A hard line inside a flat group cannot be flat; after the
            // group it ends the line that had to fit.
            Doc::HardLine => return mode == Mode::Break,
            Doc::Nest(inner) => local.push((indent + INDENT, mode, inner)),
            Doc::Group(inner) => local.push((indent, mode, inner)),
            Doc::Concat(docs) => local.extend(docs.iter().rev().map(|d| (indent, mode, d))),
        }
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

fn ident(i: &Ident) -> Doc {
    text(i.name.clone())
}

fn path(p: &Path) -> Doc {
    text(p.dotted())
}

/// `///` lines, each followed by a line break.
fn docs(d: Option<&String>) -> Doc {
    let Some(d) = d else { return Doc::Nil };
    concat(d.split('\n').flat_map(|line| {
        let line = if line.is_empty() { "///".to_owned() } else { format!("/// {line}") };
        [text(line), Doc::HardLine]
    }))
}

// ------------------------------------------------------------------ file

fn file_doc(file: &File) -> Doc {
    let mut sections = Vec::new();
    if let Some(p) = &file.package {
        sections.push(concat([text("package "), path(p)]));
    }
    if !file.imports.is_empty() {
        sections.push(join(file.imports.iter().map(import), &Doc::HardLine));
    }
    sections.extend(file.items.iter().map(item));
    if sections.is_empty() {
        return Doc::Nil;
    }
    concat([join(sections, &concat([Doc::HardLine, Doc::HardLine])), Doc::HardLine])
}

fn import(i: &Import) -> Doc {
    let mut parts = vec![text("import "), path(&i.package)];
    if let Some(names) = &i.names {
        parts.push(text("."));
        parts.push(delimited("{", names.iter().map(ident).collect(), "}", false));
    }
    if let Some(alias) = &i.alias {
        parts.push(text(" as "));
        parts.push(ident(alias));
    }
    concat(parts)
}

fn item(i: &Item) -> Doc {
    match i {
        Item::Entity(d) => entity(d),
        Item::Enum(d) => enum_decl(d),
        Item::Level(d) => level(d),
        Item::Type(d) => type_decl(d),
        Item::Action(d) => action(d),
        Item::Context(d) => context(d),
        Item::Obligation(d) => obligation(d),
        Item::Def(d) => def(d),
        Item::Rule(d) => rule(d),
        Item::Test(d) => test_decl(d),
        Item::Fixture(d) => fixture(d),
        Item::Error(_) => text("<error>"),
    }
}

fn entity(d: &EntityDecl) -> Doc {
    let mut parts = vec![docs(d.docs.as_ref()), text("entity "), ident(&d.name)];
    if !d.parents.is_empty() {
        parts.push(text(" in "));
        parts.push(delimited("[", d.parents.iter().map(path).collect(), "]", false));
    }
    parts.push(text(" "));
    parts.push(attr_block(&d.attrs));
    concat(parts)
}

/// `{ attrs }` of an entity or the context: one attribute per line.
fn attr_block(attrs: &[AttrDecl]) -> Doc {
    if attrs.is_empty() {
        return text("{}");
    }
    concat([
        text("{"),
        nest(concat(attrs.iter().map(|a| concat([Doc::HardLine, attr(a), text(",")])))),
        Doc::HardLine,
        text("}"),
    ])
}

fn attr(a: &AttrDecl) -> Doc {
    if a.name.name.is_empty() && matches!(a.ty, TypeExpr::Error(_)) {
        return concat([docs(a.docs.as_ref()), text("<error>")]);
    }
    concat([
        docs(a.docs.as_ref()),
        ident(&a.name),
        text(": "),
        type_expr(&a.ty),
        if a.optional { text("?") } else { Doc::Nil },
    ])
}

fn type_expr(t: &TypeExpr) -> Doc {
    match t {
        TypeExpr::Named(p) => path(p),
        TypeExpr::IntRange { lo, hi, .. } => {
            let bound = |b: &Option<i128>| b.map(|n| n.to_string()).unwrap_or_default();
            text(format!("Int[{}..{}]", bound(lo), bound(hi)))
        }
        TypeExpr::Set(inner, _) => concat([text("Set<"), type_expr(inner), text(">")]),
        TypeExpr::Record(fields, _) => delimited("{", fields.iter().map(attr).collect(), "}", true),
        TypeExpr::Error(_) => text("<error>"),
    }
}

fn enum_decl(d: &EnumDecl) -> Doc {
    concat([
        docs(d.docs.as_ref()),
        text("enum "),
        ident(&d.name),
        text(" "),
        delimited("{", d.values.iter().map(ident).collect(), "}", true),
    ])
}

fn level(d: &LevelDecl) -> Doc {
    let values = join(d.values.iter().map(ident), &concat([Doc::Line, text("< ")]));
    concat([
        docs(d.docs.as_ref()),
        group(concat([text("level "), ident(&d.name), text(" ="), nest(concat([Doc::Line, values]))])),
    ])
}

fn type_decl(d: &TypeDecl) -> Doc {
    concat([docs(d.docs.as_ref()), text("type "), ident(&d.name), text(" = "), type_expr(&d.ty)])
}

fn action(d: &ActionDecl) -> Doc {
    let types = |paths: &[Path]| match paths {
        [one] => path(one),
        many => delimited("[", many.iter().map(path).collect(), "]", false),
    };
    let mut fields = Vec::new();
    if !d.principals.is_empty() {
        fields.push(concat([text("principal: "), types(&d.principals)]));
    }
    if !d.resources.is_empty() {
        fields.push(concat([text("resource: "), types(&d.resources)]));
    }
    concat([
        docs(d.docs.as_ref()),
        text("action "),
        join(d.names.iter().map(ident), &text(", ")),
        text(" "),
        delimited("{", fields, "}", true),
    ])
}

fn context(d: &ContextDecl) -> Doc {
    concat([docs(d.docs.as_ref()), text("context "), attr_block(&d.attrs)])
}

fn param(p: &Param) -> Doc {
    concat([ident(&p.name), text(": "), type_expr(&p.ty)])
}

fn obligation(d: &ObligationDecl) -> Doc {
    let params =
        if d.params.is_empty() { Doc::Nil } else { delimited("(", d.params.iter().map(param).collect(), ")", false) };
    concat([docs(d.docs.as_ref()), text("obligation "), ident(&d.name), params])
}

fn def(d: &DefDecl) -> Doc {
    concat([
        docs(d.docs.as_ref()),
        group(concat([
            text("def "),
            ident(&d.name),
            delimited("(", d.params.iter().map(param).collect(), ")", false),
            text(" -> "),
            type_expr(&d.ret),
            text(" ="),
            nest(concat([Doc::Line, expr(&d.body)])),
            text(";"),
        ])),
    ])
}

fn rule(r: &Rule) -> Doc {
    let mut parts = vec![docs(r.docs.as_ref())];
    if !r.annotations.is_empty() {
        parts.push(join(r.annotations.iter().map(annotation), &text(" ")));
        parts.push(Doc::HardLine);
    }
    parts.push(text(r.effect.keyword()));
    parts.push(text(" "));
    parts.push(scope(&r.scope));
    let mut clauses = Vec::new();
    for c in &r.conditions {
        let keyword = if c.when { "when " } else { "unless " };
        clauses.push(Doc::HardLine);
        clauses.push(text(keyword));
        clauses.push(nest(expr(&c.expr)));
    }
    if !r.obligations.is_empty() {
        clauses.push(Doc::HardLine);
        clauses.push(group(concat([
            text("obligate "),
            nest(join(r.obligations.iter().map(obligation_call), &concat([text(","), Doc::Line]))),
        ])));
    }
    parts.push(nest(concat(clauses)));
    parts.push(text(";"));
    concat(parts)
}

fn annotation(a: &Annotation) -> Doc {
    let value = match &a.value {
        Some(v) => text(format!("({})", quote(&v.value))),
        None => Doc::Nil,
    };
    concat([text("@"), ident(&a.name), value])
}

fn scope(s: &Scope) -> Doc {
    delimited(
        "(",
        vec![entity_scope("principal", &s.principal), action_scope(&s.action), entity_scope("resource", &s.resource)],
        ")",
        false,
    )
}

fn entity_scope(keyword: &str, s: &EntityScope) -> Doc {
    let mut parts = vec![text(keyword)];
    if let Some(ty) = &s.ty {
        parts.push(text(": "));
        parts.push(path(ty));
    }
    match &s.constraint {
        Some(ScopeConstraint::Eq(e)) => parts.push(concat([text(" == "), expr_at(e, POSTFIX)])),
        Some(ScopeConstraint::In(e)) => parts.push(concat([text(" in "), expr_at(e, POSTFIX)])),
        None => {}
    }
    concat(parts)
}

fn action_scope(s: &ActionScope) -> Doc {
    match (s.list, s.actions.as_slice()) {
        (false, []) => text("action"),
        (false, [one]) => concat([text("action: "), path(one)]),
        (_, many) => concat([text("action in "), delimited("[", many.iter().map(path).collect(), "]", false)]),
    }
}

fn obligation_call(c: &ObligationCall) -> Doc {
    let args =
        if c.args.is_empty() { Doc::Nil } else { delimited("(", c.args.iter().map(named_arg).collect(), ")", false) };
    concat([path(&c.name), args])
}

fn named_arg(a: &NamedArg) -> Doc {
    concat([ident(&a.name), text(": "), expr(&a.value)])
}

// ------------------------------------------------------------------ expressions

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

/// The expression, parenthesised if it binds less tightly than `min`.
fn expr_at(e: &Expr, min: u8) -> Doc {
    if prec(e) < min { concat([text("("), nest(expr(e)), text(")")]) } else { expr(e) }
}

/// Whether the expression prints starting with `-`.
fn starts_with_minus(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Int(n) | ExprKind::Duration(n) => *n < 0,
        ExprKind::Unary(UnOp::Neg, _) => true,
        _ => false,
    }
}

/// An expression, without parentheses around it.
fn expr(e: &Expr) -> Doc {
    match &e.kind {
        ExprKind::Bool(b) => text(if *b { "true" } else { "false" }),
        ExprKind::Int(n) => text(n.to_string()),
        ExprKind::Str(s) => text(quote(s)),
        ExprKind::Duration(n) => text(duration(*n)),
        ExprKind::Name(n) => text(n.clone()),
        ExprKind::Principal => text("principal"),
        ExprKind::Resource => text("resource"),
        ExprKind::Context => text("context"),
        ExprKind::Entity { ty, id } => concat([expr_at(ty, POSTFIX), text("::"), text(quote(id))]),
        ExprKind::Set(elems) => delimited("[", elems.iter().map(expr).collect(), "]", false),
        ExprKind::Attr(e, name) => concat([expr_at(e, POSTFIX), text("."), ident(name)]),
        ExprKind::Call { callee, args } => {
            concat([expr_at(callee, POSTFIX), delimited("(", args.iter().map(arg).collect(), ")", false)])
        }
        ExprKind::Has(e, name) => concat([expr_at(e, ADD), text(" has "), ident(name)]),
        ExprKind::Like(e, p) => concat([expr_at(e, ADD), text(" like "), text(pattern(p))]),
        ExprKind::Unary(op, operand) => {
            let symbol = match op {
                UnOp::Not => "!",
                // `- -x` rather than `--x`, which reads as a decrement.
                UnOp::Neg if starts_with_minus(operand) => "- ",
                UnOp::Neg => "-",
            };
            concat([text(symbol), expr_at(operand, UNARY)])
        }
        ExprKind::Binary(op, ..) => binary_chain(e, *op),
        ExprKind::If(c, a, b) => group(concat([
            text("if "),
            nest(expr(c)),
            nest(concat([Doc::Line, text("then "), nest(expr(a)), Doc::Line, text("else "), nest(expr(b))])),
        ])),
        ExprKind::Let(name, value, body) => {
            group(concat([text("let "), ident(name), text(" = "), expr(value), text(";"), Doc::Line, expr(body)]))
        }
        ExprKind::Error => text("<error>"),
    }
}

/// A binary operation. Chains of a left-associative operator level
/// (`a && b && c`) are one group, broken before each operator.
fn binary_chain(e: &Expr, op: BinOp) -> Doc {
    let level = binop_prec(op);
    let (left_min, right_min) = if level == CMP { (ADD, ADD) } else { (level, level + 1) };
    // Walk down the left spine while it stays at this level.
    let mut rights = Vec::new();
    let mut left = e;
    while let ExprKind::Binary(op, l, r) = &left.kind {
        if binop_prec(*op) != level || (level == CMP && !rights.is_empty()) {
            break;
        }
        rights.push((*op, r.as_ref()));
        left = l;
    }
    let mut tail = Vec::new();
    for (op, r) in rights.into_iter().rev() {
        tail.push(Doc::Line);
        tail.push(text(format!("{} ", op.symbol())));
        tail.push(expr_at(r, right_min));
    }
    // An operand that is itself an operation binds more tightly: its own
    // breaks are indented one level more, so the layout shows the nesting.
    let first = expr_at(left, left_min);
    let first = if matches!(left.kind, ExprKind::Binary(..)) { nest(first) } else { first };
    group(concat([first, nest(concat(tail))]))
}

fn arg(a: &Arg) -> Doc {
    match a {
        Arg::Expr(e) => expr(e),
        Arg::Lambda(name, body) => concat([ident(name), text(" => "), nest(expr(body))]),
    }
}

// ------------------------------------------------------------------ tests

fn test_decl(d: &TestDecl) -> Doc {
    let fields = d.fields.iter().map(|f| concat([Doc::HardLine, data_field(f), text(",")]));
    concat([
        docs(d.docs.as_ref()),
        text("test "),
        text(quote(&d.name.value)),
        text(" {"),
        nest(concat(fields)),
        if d.fields.is_empty() { Doc::Nil } else { Doc::HardLine },
        text("}"),
    ])
}

fn fixture(d: &FixtureDecl) -> Doc {
    concat([docs(d.docs.as_ref()), text("fixture "), ident(&d.name), text(" = "), data(&d.value), text(";")])
}

fn data_field(f: &DataField) -> Doc {
    concat([ident(&f.name), text(": "), data(&f.value)])
}

fn data_path(segments: &[Ident]) -> Doc {
    join(segments.iter().map(ident), &text("."))
}

fn data(d: &Data) -> Doc {
    match &d.kind {
        DataKind::Bool(b) => text(b.to_string()),
        DataKind::Int(n) => text(n.to_string()),
        DataKind::Duration(ms) => text(duration(*ms)),
        DataKind::Str(s) => text(quote(s)),
        DataKind::Name(p) => path(p),
        DataKind::Entity { ty, id, attrs, parents } => {
            let mut parts = vec![path(ty), text("::"), text(quote(&id.value))];
            if !attrs.is_empty() {
                parts.push(text(" "));
                parts.push(delimited("{", attrs.iter().map(data_field).collect(), "}", true));
            }
            if !parents.is_empty() {
                let refs = parents.iter().map(|(ty, id)| concat([path(ty), text("::"), text(quote(&id.value))]));
                parts.push(text(" in "));
                parts.push(delimited("[", refs.collect(), "]", false));
            }
            concat(parts)
        }
        DataKind::Call(name, args) => {
            concat([path(name), delimited("(", args.iter().map(data_field).collect(), ")", false)])
        }
        DataKind::Set(elems) => delimited("[", elems.iter().map(data).collect(), "]", false),
        DataKind::Record(fields) => delimited("{", fields.iter().map(data_field).collect(), "}", true),
        DataKind::With(base, updates) => {
            let updates = updates.iter().map(|u| concat([data_path(&u.path), text(": "), data(&u.value)]));
            concat([data(base), text(" with "), delimited("{", updates.collect(), "}", true)])
        }
        DataKind::Without(base, paths) => concat([
            data(base),
            text(" without "),
            delimited("[", paths.iter().map(|p| data_path(p)).collect(), "]", false),
        ]),
    }
}

// ------------------------------------------------------------------ signatures

/// A declaration as its reference documentation shows it: without its doc
/// comment, and a function without its body. `None` for rules, tests,
/// fixtures and broken items.
pub fn signature(i: &Item) -> Option<String> {
    let doc = match i {
        Item::Entity(d) => entity(&EntityDecl { docs: None, ..d.clone() }),
        Item::Enum(d) => enum_decl(&EnumDecl { docs: None, ..d.clone() }),
        Item::Level(d) => level(&LevelDecl { docs: None, ..d.clone() }),
        Item::Type(d) => type_decl(&TypeDecl { docs: None, ..d.clone() }),
        Item::Action(d) => action(&ActionDecl { docs: None, ..d.clone() }),
        Item::Context(d) => context(&ContextDecl { docs: None, ..d.clone() }),
        Item::Obligation(d) => obligation(&ObligationDecl { docs: None, ..d.clone() }),
        Item::Def(d) => group(concat([
            text("def "),
            ident(&d.name),
            delimited("(", d.params.iter().map(param).collect(), ")", false),
            text(" -> "),
            type_expr(&d.ret),
        ])),
        Item::Rule(_) | Item::Test(_) | Item::Fixture(_) | Item::Error(_) => return None,
    };
    Some(layout(&doc, WIDTH))
}
