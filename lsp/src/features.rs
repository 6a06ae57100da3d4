//! Requests answered from a program's analysis and semantic index.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use lsp_server::ErrorCode;
use lsp_types::{
    CodeLens, CodeLensParams, Command, CompletionItem, CompletionItemKind, CompletionParams, CompletionResponse,
    DocumentFormattingParams, DocumentSymbol, DocumentSymbolParams, DocumentSymbolResponse, GotoDefinitionParams,
    GotoDefinitionResponse, Hover, HoverContents, HoverParams, Location, MarkupContent, MarkupKind,
    PrepareRenameResponse, Range, ReferenceParams, RenameParams, SemanticToken, SemanticTokenType, SemanticTokens,
    SemanticTokensParams, SymbolInformation, SymbolKind, TextDocumentPositionParams, TextEdit, Uri, WorkspaceEdit,
    WorkspaceSymbolParams, WorkspaceSymbolResponse,
};
use ward_compiler::check::index::{DefKind, Definition, Index};
use ward_compiler::program::Type;
use ward_compiler::span::{FileId, Span};
use ward_compiler::syntax::lexer::{self, Tok};

use crate::server::{RUN_TESTS, Server};
use crate::workspace::{Analysis, path_to_uri, uri_to_path};

// Completion offers the lexer's keywords and the checker's built-in types.
use ward_compiler::check::BUILTIN_TYPES;
use ward_compiler::syntax::lexer::KEYWORDS;

/// Built-in functions offered by completion.
const BUILTIN_FUNCTIONS: &[&str] = &["ip", "cidr", "timestamp", "time"];

/// Semantic token types, in legend order.
pub const TOKEN_TYPES: &[SemanticTokenType] = &[
    SemanticTokenType::KEYWORD,
    SemanticTokenType::STRING,
    SemanticTokenType::NUMBER,
    SemanticTokenType::COMMENT,
    SemanticTokenType::OPERATOR,
    SemanticTokenType::TYPE,
    SemanticTokenType::ENUM,
    SemanticTokenType::ENUM_MEMBER,
    SemanticTokenType::PROPERTY,
    SemanticTokenType::FUNCTION,
    SemanticTokenType::PARAMETER,
    SemanticTokenType::VARIABLE,
    SemanticTokenType::NAMESPACE,
    SemanticTokenType::EVENT,
    SemanticTokenType::DECORATOR,
];

fn token_type(t: &SemanticTokenType) -> u32 {
    TOKEN_TYPES.iter().position(|x| x == t).map_or(0, |i| i as u32)
}

/// The analysis, file and byte offset of a document position.
fn locate<'s>(server: &'s mut Server, at: &TextDocumentPositionParams) -> Option<(&'s Analysis, FileId, u32)> {
    let path = uri_to_path(&at.text_document.uri)?;
    let analysis = server.workspace.analysis_for(&path);
    let file = analysis.file(&path)?;
    let offset = analysis.offset(file, at.position);
    Some((analysis, file, offset))
}

fn location(analysis: &Analysis, span: Span) -> Option<Location> {
    Some(Location { uri: path_to_uri(analysis.path(span.file))?, range: analysis.range(span) })
}

/// The occurrence at `offset` and the declarations it refers to.
fn occurrence(index: &Index, file: FileId, offset: u32) -> Option<(Span, Vec<Span>)> {
    let found: Vec<_> = index
        .references
        .iter()
        .filter(|r| r.span.file == file && r.span.start <= offset && offset <= r.span.end)
        .collect();
    let span = found.iter().map(|r| r.span).min_by_key(|s| s.end - s.start)?;
    let mut targets: Vec<Span> = found.iter().filter(|r| r.span == span).map(|r| r.target).collect();
    targets.sort();
    targets.dedup();
    Some((span, targets))
}

/// `textDocument/hover`: the declaration's signature and docs, or the type.
pub fn hover(server: &mut Server, params: &HoverParams) -> Option<Hover> {
    let (analysis, file, offset) = locate(server, &params.text_document_position_params)?;
    let index = &analysis.compilation.index;
    let mut parts = Vec::new();
    let mut range = None;
    if let Some((span, targets)) = occurrence(index, file, offset) {
        range = Some(analysis.range(span));
        for target in targets {
            let Some(d) = index.definition(target) else { continue };
            let ty = index.types.iter().find(|(s, _)| *s == span).map(|(_, t)| index.show(t));
            parts.push(describe(analysis, d, ty.as_deref()));
        }
    }
    if parts.is_empty() {
        let (span, ty) = index.type_at(file, offset)?;
        range = Some(analysis.range(*span));
        parts.push(format!("```ward\n{}\n```", index.show(ty)));
    }
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: parts.join("\n\n---\n\n") }),
        range,
    })
}

fn describe(analysis: &Analysis, d: &Definition, ty: Option<&str>) -> String {
    let signature = match (d.kind, ty) {
        (DefKind::Local, Some(ty)) => format!("{}: {ty}", d.name),
        _ if d.detail.is_empty() => format!("{} {}", d.kind.describe(), d.name),
        _ => d.detail.clone(),
    };
    let mut out = format!("```ward\n{signature}\n```");
    let place = match (d.kind, &d.container) {
        (DefKind::Attribute, Some(c)) if c == "context" => " of the context".to_owned(),
        (DefKind::Attribute | DefKind::EnumValue | DefKind::LevelValue | DefKind::Param, Some(c)) => {
            format!(" of `{c}`")
        }
        (_, Some(c)) => format!(" in package `{c}`"),
        _ => String::new(),
    };
    let stdlib = if analysis.is_stdlib(d.span.file) { " (standard library)" } else { "" };
    out.push_str(&format!("\n\n{}{place}{stdlib}", d.kind.describe()));
    if let Some(docs) = &d.docs {
        out.push_str(&format!("\n\n{}", docs.trim()));
    }
    out
}

/// `textDocument/definition`.
pub fn definition(server: &mut Server, params: &GotoDefinitionParams) -> Option<GotoDefinitionResponse> {
    let (analysis, file, offset) = locate(server, &params.text_document_position_params)?;
    let (_, targets) = occurrence(&analysis.compilation.index, file, offset)?;
    let locations: Vec<Location> = targets.iter().filter_map(|t| location(analysis, *t)).collect();
    (!locations.is_empty()).then_some(GotoDefinitionResponse::Array(locations))
}

/// `textDocument/references`.
pub fn references(server: &mut Server, params: &ReferenceParams) -> Option<Vec<Location>> {
    let (analysis, file, offset) = locate(server, &params.text_document_position)?;
    let index = &analysis.compilation.index;
    let (_, targets) = occurrence(index, file, offset)?;
    let mut spans: Vec<Span> = Vec::new();
    for target in &targets {
        spans.extend(
            index
                .references_to(*target)
                .into_iter()
                .filter(|s| params.context.include_declaration || !targets.contains(s)),
        );
    }
    spans.sort();
    spans.dedup();
    Some(spans.into_iter().filter_map(|s| location(analysis, s)).collect())
}

/// `textDocument/prepareRename`: the name under the cursor, if it can be renamed.
pub fn prepare_rename(server: &mut Server, params: &TextDocumentPositionParams) -> Option<PrepareRenameResponse> {
    let (analysis, file, offset) = locate(server, params)?;
    let (span, targets) = occurrence(&analysis.compilation.index, file, offset)?;
    renamable(analysis, &targets).ok()?;
    Some(PrepareRenameResponse::Range(analysis.range(span)))
}

fn renamable(analysis: &Analysis, targets: &[Span]) -> Result<(), String> {
    let index = &analysis.compilation.index;
    if targets.is_empty() {
        return Err("nothing to rename here".to_owned());
    }
    for target in targets {
        if analysis.is_stdlib(target.file) {
            return Err("declarations of the standard library cannot be renamed".to_owned());
        }
        if index.definition(*target).is_some_and(|d| d.kind == DefKind::Package) {
            return Err("packages cannot be renamed".to_owned());
        }
    }
    Ok(())
}

/// `textDocument/rename`: every occurrence in the program, across files.
pub fn rename(server: &mut Server, params: &RenameParams) -> Result<Option<WorkspaceEdit>, (ErrorCode, String)> {
    let new_name = params.new_name.as_str();
    let identifier = new_name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && new_name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !identifier || KEYWORDS.contains(&new_name) {
        return Err((ErrorCode::InvalidParams, format!("`{new_name}` is not a valid name")));
    }
    let Some((analysis, file, offset)) = locate(server, &params.text_document_position) else { return Ok(None) };
    let index = &analysis.compilation.index;
    let Some((span, targets)) = occurrence(index, file, offset) else { return Ok(None) };
    renamable(analysis, &targets).map_err(|m| (ErrorCode::InvalidRequest, m))?;
    let old = analysis.compilation.sources.snippet(span).to_owned();
    #[expect(clippy::mutable_key_type, reason = "the protocol's type; URIs are not mutated")]
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    let mut seen = HashSet::new();
    for target in &targets {
        for s in index.references_to(*target) {
            if analysis.compilation.sources.snippet(s) != old || !seen.insert(s) {
                continue;
            }
            let Some(uri) = path_to_uri(analysis.path(s.file)) else { continue };
            changes.entry(uri).or_default().push(TextEdit { range: analysis.range(s), new_text: new_name.to_owned() });
        }
    }
    Ok(Some(WorkspaceEdit { changes: Some(changes), ..WorkspaceEdit::default() }))
}

/// `textDocument/completion`.
pub fn completion(server: &mut Server, params: &CompletionParams) -> Option<CompletionResponse> {
    let at = &params.text_document_position;
    let path = uri_to_path(&at.text_document.uri)?;
    let (text, file, offset) = {
        let analysis = server.workspace.analysis_for(&path);
        let file = analysis.file(&path)?;
        (analysis.text(file).to_owned(), file, analysis.offset(file, at.position) as usize)
    };
    let before = text.get(..offset).unwrap_or("");
    let prefix_len = before.chars().rev().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').count();
    let word_start = offset - prefix_len;
    let items = if before[..word_start].ends_with('.') {
        member_completion(server, &path, &text, file, word_start)
    } else {
        general_completion(server, &path)
    };
    Some(CompletionResponse::Array(items))
}

/// Completion after `receiver.`: attributes, enum values, package members.
fn member_completion(
    server: &mut Server,
    path: &Path,
    text: &str,
    file: FileId,
    name_start: usize,
) -> Vec<CompletionItem> {
    let dot = name_start - 1;
    let receiver_start = text[..dot]
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
        .last()
        .map_or(dot, |(i, _)| i);
    let receiver = &text[receiver_start..dot];
    let preceded_by_dot = text[..receiver_start].ends_with('.');
    let analysis = server.workspace.analysis_for(path);
    let index = &analysis.compilation.index;
    // `Zone.`: the values of an enum or level.
    if !preceded_by_dot {
        let values: Vec<CompletionItem> = index
            .definitions
            .iter()
            .filter(|d| matches!(d.kind, DefKind::EnumValue | DefKind::LevelValue))
            .filter(|d| d.container.as_deref() == Some(receiver))
            .map(|d| item(&d.name, CompletionItemKind::ENUM_MEMBER, &d.detail, d.docs.as_deref()))
            .collect();
        if !values.is_empty() {
            return values;
        }
    }
    // `identity.`: the declarations of an imported package.
    if !preceded_by_dot && let Some(items) = package_members(server, path, receiver) {
        return items;
    }
    // An attribute read: the receiver's type as the checker saw it.
    if let Some(ty) = receiver_type(server, path, text, file, name_start) {
        let analysis = server.workspace.analysis_for(path);
        return members_of(&analysis.compilation.index, &ty);
    }
    let analysis = server.workspace.analysis_for(path);
    let index = &analysis.compilation.index;
    let schema = &index.schema;
    let ty = match receiver {
        "context" if !preceded_by_dot => Some(Type::Record(Box::new(schema.context.clone()))),
        "principal" | "resource" if !preceded_by_dot => {
            let rule = index.rules.iter().find(|r| r.span.file == file && (r.span.range()).contains(&name_start));
            match rule {
                Some(r) if receiver == "principal" => Some(r.principal.clone()),
                Some(r) => Some(r.resource.clone()),
                None => {
                    let mut ids: Vec<_> = schema
                        .actions
                        .iter()
                        .flat_map(|a| if receiver == "principal" { a.principals.clone() } else { a.resources.clone() })
                        .collect();
                    ids.sort();
                    ids.dedup();
                    Some(Type::Entity(ids))
                }
            }
        }
        _ => None,
    };
    ty.map(|t| members_of(index, &t)).unwrap_or_default()
}

/// The type of the value before the dot at `name_start`, from the checker:
/// as the document stands, or with a placeholder name completing the read.
fn receiver_type(server: &mut Server, path: &Path, text: &str, file: FileId, name_start: usize) -> Option<Type> {
    let analysis = server.workspace.analysis_for(path);
    let found = access_at(&analysis.compilation.index, file, name_start);
    if found.is_some() {
        return found;
    }
    const PLACEHOLDER: &str = "completion__";
    for suffix in ["", ";"] {
        let mut patched = text.to_owned();
        patched.insert_str(name_start, &format!("{PLACEHOLDER}{suffix}"));
        let dir = server.workspace.program_of(path);
        let mut files = server.workspace.sources(&dir);
        for f in &mut files {
            if f.0 == path {
                f.1 = patched.clone();
            }
        }
        let probe = Analysis::new(files, &server.workspace.stdlib_dir);
        let Some(id) = probe.file(path) else { continue };
        if let Some(ty) = access_at(&probe.compilation.index, id, name_start) {
            return Some(ty);
        }
    }
    None
}

fn access_at(index: &Index, file: FileId, name_start: usize) -> Option<Type> {
    index
        .accesses
        .iter()
        .find(|a| a.name.file == file && a.name.start as usize == name_start)
        .map(|a| a.receiver.clone())
}

/// The attributes and methods of a value of type `ty`.
fn members_of(index: &Index, ty: &Type) -> Vec<CompletionItem> {
    let schema = &index.schema;
    let mut fields: BTreeMap<String, CompletionItem> = BTreeMap::new();
    let mut add = |f: &ward_compiler::program::Field| {
        let detail = format!("{}: {}{}", f.name, index.show(&f.ty), if f.optional { "?" } else { "" });
        fields
            .entry(f.name.clone())
            .or_insert_with(|| item(&f.name, CompletionItemKind::FIELD, &detail, f.docs.as_deref()));
    };
    let methods: &[&str] = match ty {
        Type::Record(r) => {
            r.fields.iter().for_each(&mut add);
            &[]
        }
        Type::Entity(ids) => {
            for id in ids {
                if let Some(e) = schema.entities.get(id.0 as usize) {
                    e.attrs.fields.iter().for_each(&mut add);
                }
            }
            &[]
        }
        Type::String => &["starts_with", "ends_with", "contains"],
        Type::Set(_) => &["contains", "contains_all", "contains_any", "is_empty", "size", "any", "all"],
        Type::Timestamp => &["time_of_day"],
        _ => &[],
    };
    let mut out: Vec<CompletionItem> = fields.into_values().collect();
    out.extend(methods.iter().map(|m| item(m, CompletionItemKind::METHOD, "built-in method", None)));
    out
}

/// The declarations of the package imported as `alias` in the file.
fn package_members(server: &mut Server, path: &Path, alias: &str) -> Option<Vec<CompletionItem>> {
    let analysis = server.workspace.analysis_for(path);
    let file = analysis.file(path)?;
    let text = analysis.text(file);
    let package = lexer::lex(text)
        .tokens
        .windows(2)
        .filter(|w| w[0].1 == Tok::Import)
        .filter_map(|w| text.get(w[1].0..).map(|rest| rest.split([';', '\n', '{']).next().unwrap_or("").trim()))
        .map(|line| {
            let (package, alias) = match line.split_once(" as ") {
                Some((p, a)) => (p.trim(), a.trim()),
                None => (line, line.rsplit('.').next().unwrap_or(line)),
            };
            (package.trim_end_matches('.').to_owned(), alias.to_owned())
        })
        .find(|(_, a)| a == alias)
        .map(|(p, _)| p)?;
    let from = |index: &Index| -> Vec<CompletionItem> {
        index
            .definitions
            .iter()
            .filter(|d| d.container.as_deref() == Some(package.as_str()) && d.kind != DefKind::Package)
            .map(|d| item(&d.name, completion_kind(d.kind), &d.detail, d.docs.as_deref()))
            .collect()
    };
    let here = from(&analysis.compilation.index);
    if !here.is_empty() {
        return Some(here);
    }
    Some(from(&stdlib_index(server).compilation.index))
}

/// Every standard-library package, compiled once.
fn stdlib_index(server: &mut Server) -> &Analysis {
    let stdlib_dir = server.workspace.stdlib_dir.clone();
    server.stdlib.get_or_insert_with(|| {
        let mut probe = String::from("package completion__\n");
        for (_, text) in ward_compiler::stdlib::FILES {
            if let Some(line) = text.lines().find(|l| l.starts_with("package ")) {
                probe.push_str(&format!("import {}\n", line["package ".len()..].trim()));
            }
        }
        Analysis::new(vec![(PathBuf::from("completion__.ward"), probe)], &stdlib_dir)
    })
}

/// Completion anywhere else: keywords, types, declarations, the standard library.
fn general_completion(server: &mut Server, path: &Path) -> Vec<CompletionItem> {
    let mut items: Vec<CompletionItem> =
        KEYWORDS.iter().map(|k| item(k, CompletionItemKind::KEYWORD, "keyword", None)).collect();
    items.extend(BUILTIN_TYPES.iter().map(|t| item(t, CompletionItemKind::CLASS, "built-in type", None)));
    items.extend(BUILTIN_FUNCTIONS.iter().map(|f| item(f, CompletionItemKind::FUNCTION, "literal constructor", None)));
    let analysis = server.workspace.analysis_for(path);
    let mut seen: HashSet<String> = items.iter().map(|i| i.label.clone()).collect();
    let own = analysis.file(path).map(|f| {
        analysis.compilation.index.definitions.iter().filter(move |d| {
            // Locals only from this file; other declarations from the whole program.
            d.kind != DefKind::Local || d.span.file == f
        })
    });
    for d in own.into_iter().flatten() {
        if matches!(
            d.kind,
            DefKind::Package | DefKind::Attribute | DefKind::Param | DefKind::EnumValue | DefKind::LevelValue
        ) || analysis.is_stdlib(d.span.file)
        {
            continue;
        }
        if seen.insert(d.name.clone()) {
            items.push(item(&d.name, completion_kind(d.kind), &d.detail, d.docs.as_deref()));
        }
    }
    let stdlib = stdlib_index(server);
    for d in &stdlib.compilation.index.definitions {
        if !matches!(d.kind, DefKind::Def | DefKind::Obligation | DefKind::Enum | DefKind::Level | DefKind::Entity) {
            continue;
        }
        let Some(package) = &d.container else { continue };
        let alias = package.rsplit('.').next().unwrap_or(package);
        let label = format!("{alias}.{}", d.name);
        if seen.insert(label.clone()) {
            let mut i = item(&label, completion_kind(d.kind), &d.detail, d.docs.as_deref());
            i.label_details =
                Some(lsp_types::CompletionItemLabelDetails { detail: None, description: Some(package.clone()) });
            items.push(i);
        }
    }
    items
}

fn completion_kind(kind: DefKind) -> CompletionItemKind {
    match kind {
        DefKind::Entity | DefKind::Alias => CompletionItemKind::CLASS,
        DefKind::Enum | DefKind::Level => CompletionItemKind::ENUM,
        DefKind::EnumValue | DefKind::LevelValue => CompletionItemKind::ENUM_MEMBER,
        DefKind::Attribute => CompletionItemKind::FIELD,
        DefKind::Action => CompletionItemKind::EVENT,
        DefKind::Obligation => CompletionItemKind::INTERFACE,
        DefKind::Def => CompletionItemKind::FUNCTION,
        DefKind::Param | DefKind::Local | DefKind::Fixture => CompletionItemKind::VARIABLE,
        DefKind::Test => CompletionItemKind::TEXT,
        DefKind::Package => CompletionItemKind::MODULE,
        DefKind::Context => CompletionItemKind::STRUCT,
    }
}

fn item(label: &str, kind: CompletionItemKind, detail: &str, docs: Option<&str>) -> CompletionItem {
    CompletionItem {
        label: label.to_owned(),
        kind: Some(kind),
        detail: (!detail.is_empty()).then(|| detail.to_owned()),
        documentation: docs.map(|d| {
            lsp_types::Documentation::MarkupContent(MarkupContent { kind: MarkupKind::Markdown, value: d.to_owned() })
        }),
        ..CompletionItem::default()
    }
}

fn symbol_kind(kind: DefKind) -> SymbolKind {
    match kind {
        DefKind::Package => SymbolKind::PACKAGE,
        DefKind::Entity => SymbolKind::CLASS,
        DefKind::Enum | DefKind::Level => SymbolKind::ENUM,
        DefKind::EnumValue | DefKind::LevelValue => SymbolKind::ENUM_MEMBER,
        DefKind::Alias => SymbolKind::STRUCT,
        DefKind::Attribute => SymbolKind::FIELD,
        DefKind::Action => SymbolKind::EVENT,
        DefKind::Context => SymbolKind::OBJECT,
        DefKind::Obligation => SymbolKind::INTERFACE,
        DefKind::Param => SymbolKind::VARIABLE,
        DefKind::Def => SymbolKind::FUNCTION,
        DefKind::Local => SymbolKind::VARIABLE,
        DefKind::Test => SymbolKind::METHOD,
        DefKind::Fixture => SymbolKind::CONSTANT,
    }
}

/// `textDocument/documentSymbol`: declarations with their attributes, values
/// and parameters nested.
#[expect(deprecated, reason = "the field is required by the type")]
pub fn document_symbols(server: &mut Server, params: &DocumentSymbolParams) -> Option<DocumentSymbolResponse> {
    let path = uri_to_path(&params.text_document.uri)?;
    let analysis = server.workspace.analysis_for(&path);
    let file = analysis.file(&path)?;
    let defs: Vec<&Definition> = analysis
        .compilation
        .index
        .definitions
        .iter()
        .filter(|d| d.span.file == file && d.kind != DefKind::Local)
        .collect();
    let nested = |d: &Definition| {
        matches!(d.kind, DefKind::Attribute | DefKind::Param | DefKind::EnumValue | DefKind::LevelValue)
    };
    let symbol = |d: &Definition, children: Option<Vec<DocumentSymbol>>| DocumentSymbol {
        name: d.name.clone(),
        detail: (!d.detail.is_empty()).then(|| d.detail.clone()),
        kind: symbol_kind(d.kind),
        tags: None,
        deprecated: None,
        range: analysis.range(d.full),
        selection_range: analysis.range(d.span),
        children,
    };
    let mut out = Vec::new();
    let mut context_children = Vec::new();
    for d in defs.iter().filter(|d| !nested(d)) {
        let children: Vec<DocumentSymbol> = defs
            .iter()
            .filter(|c| nested(c) && c.span.start >= d.full.start && c.span.end <= d.full.end)
            .map(|c| symbol(c, None))
            .collect();
        out.push(symbol(d, (!children.is_empty()).then_some(children)));
    }
    for d in defs.iter().filter(|d| nested(d) && d.container.as_deref() == Some("context")) {
        context_children.push(symbol(d, None));
    }
    if !context_children.is_empty() {
        let (start, end) = context_children.iter().fold(
            (None, None),
            |(s, e): (Option<lsp_types::Position>, Option<lsp_types::Position>), c| {
                (
                    Some(s.map_or(c.range.start, |s| s.min(c.range.start))),
                    Some(e.map_or(c.range.end, |e| e.max(c.range.end))),
                )
            },
        );
        let range = Range { start: start.unwrap_or_default(), end: end.unwrap_or_default() };
        out.push(DocumentSymbol {
            name: "context".to_owned(),
            detail: None,
            kind: SymbolKind::OBJECT,
            tags: None,
            deprecated: None,
            range,
            selection_range: Range { start: range.start, end: range.start },
            children: Some(context_children),
        });
    }
    out.sort_by_key(|s| (s.range.start.line, s.range.start.character));
    Some(DocumentSymbolResponse::Nested(out))
}

/// `workspace/symbol`: declarations of every analysed program.
#[expect(deprecated, reason = "the field is required by the type")]
pub fn workspace_symbols(server: &mut Server, params: &WorkspaceSymbolParams) -> Option<WorkspaceSymbolResponse> {
    if server.workspace.analyses.is_empty()
        && let Some(root) = server.workspace.root.clone()
    {
        server.workspace.analyse(&root);
    }
    let query = params.query.to_lowercase();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for analysis in server.workspace.analyses.values() {
        for d in &analysis.compilation.index.definitions {
            if matches!(d.kind, DefKind::Local | DefKind::Param) || !d.name.to_lowercase().contains(&query) {
                continue;
            }
            let path = analysis.path(d.span.file).to_path_buf();
            if !seen.insert((path, d.span.start, d.name.clone())) {
                continue;
            }
            let Some(location) = location(analysis, d.span) else { continue };
            out.push(SymbolInformation {
                name: d.name.clone(),
                kind: symbol_kind(d.kind),
                tags: None,
                deprecated: None,
                location,
                container_name: d.container.clone(),
            });
        }
    }
    out.sort_by(|a, b| (&a.name, a.location.uri.as_str()).cmp(&(&b.name, b.location.uri.as_str())));
    Some(WorkspaceSymbolResponse::Flat(out))
}

/// The formatted text of a document, as `ward fmt` writes it, or `None`
/// when it has syntax errors.
pub fn format_source(text: &str) -> Option<String> {
    ward_compiler::format_source(text).ok()
}

/// `textDocument/formatting`: one edit replacing the document.
pub fn formatting(server: &mut Server, params: &DocumentFormattingParams) -> Option<Vec<TextEdit>> {
    let path = uri_to_path(&params.text_document.uri)?;
    let analysis = server.workspace.analysis_for(&path);
    let file = analysis.file(&path)?;
    let text = analysis.text(file);
    let formatted = format_source(text)?;
    if formatted == text {
        return Some(Vec::new());
    }
    Some(vec![TextEdit { range: analysis.range(Span::new(file, 0, text.len())), new_text: formatted }])
}

/// `textDocument/semanticTokens/full`: tokens from the compiler's lexer,
/// names classified by what they resolve to.
pub fn semantic_tokens(server: &mut Server, params: &SemanticTokensParams) -> Option<SemanticTokens> {
    let path = uri_to_path(&params.text_document.uri)?;
    let analysis = server.workspace.analysis_for(&path);
    let file = analysis.file(&path)?;
    let text = analysis.text(file);
    let index = &analysis.compilation.index;
    let kinds: HashMap<Span, DefKind> = index.definitions.iter().map(|d| (d.span, d.kind)).collect();
    let mut names: HashMap<u32, DefKind> = HashMap::new();
    for r in index.references.iter().filter(|r| r.span.file == file) {
        if let Some(kind) = kinds.get(&r.target) {
            names.insert(r.span.start, *kind);
        }
    }
    let lexed = lexer::lex(text);
    let mut raw: Vec<(usize, usize, u32)> = Vec::new();
    for (start, tok, end) in &lexed.tokens {
        let ty = match tok {
            Tok::Str(_) => SemanticTokenType::STRING,
            Tok::Int(_) | Tok::Duration(_) => SemanticTokenType::NUMBER,
            Tok::Ident(name) => match names.get(&u32::try_from(*start).unwrap_or(u32::MAX)) {
                Some(kind) => name_token(*kind),
                None if BUILTIN_TYPES.contains(&name.as_str()) => SemanticTokenType::TYPE,
                None => continue,
            },
            Tok::AndAnd | Tok::OrOr | Tok::Bang | Tok::EqEq | Tok::NotEq | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge => {
                SemanticTokenType::OPERATOR
            }
            Tok::At => SemanticTokenType::DECORATOR,
            other if other.text().chars().all(|c| c.is_ascii_lowercase()) && !other.text().is_empty() => {
                SemanticTokenType::KEYWORD
            }
            _ => continue,
        };
        raw.push((*start, *end, token_type(&ty)));
    }
    for c in &lexed.comments {
        raw.push((c.start, c.end, token_type(&SemanticTokenType::COMMENT)));
    }
    raw.sort();
    let lines = &analysis.lines[file.0 as usize];
    let mut data = Vec::new();
    let (mut prev_line, mut prev_col) = (0u32, 0u32);
    for (start, end, ty) in raw {
        // One token per line: clients need not support multi-line tokens.
        let mut piece_start = start;
        for piece in text.get(start..end).unwrap_or("").split_inclusive('\n') {
            let trimmed = piece.trim_end_matches(['\n', '\r']);
            let from = lines.position(text, piece_start);
            let to = lines.position(text, piece_start + trimmed.len());
            piece_start += piece.len();
            let length = to.character.saturating_sub(from.character);
            if length == 0 {
                continue;
            }
            let delta_line = from.line - prev_line;
            let delta_start = if delta_line == 0 { from.character - prev_col } else { from.character };
            data.push(SemanticToken { delta_line, delta_start, length, token_type: ty, token_modifiers_bitset: 0 });
            (prev_line, prev_col) = (from.line, from.character);
        }
    }
    Some(SemanticTokens { result_id: None, data })
}

fn name_token(kind: DefKind) -> SemanticTokenType {
    match kind {
        DefKind::Package => SemanticTokenType::NAMESPACE,
        DefKind::Entity | DefKind::Alias | DefKind::Context => SemanticTokenType::TYPE,
        DefKind::Enum | DefKind::Level => SemanticTokenType::ENUM,
        DefKind::EnumValue | DefKind::LevelValue => SemanticTokenType::ENUM_MEMBER,
        DefKind::Attribute => SemanticTokenType::PROPERTY,
        DefKind::Action => SemanticTokenType::EVENT,
        DefKind::Obligation => SemanticTokenType::DECORATOR,
        DefKind::Def => SemanticTokenType::FUNCTION,
        DefKind::Param => SemanticTokenType::PARAMETER,
        DefKind::Local | DefKind::Fixture => SemanticTokenType::VARIABLE,
        DefKind::Test => SemanticTokenType::STRING,
    }
}

/// `textDocument/codeLens`: "Run tests" on a file that declares tests.
pub fn code_lenses(server: &mut Server, params: &CodeLensParams) -> Option<Vec<CodeLens>> {
    let path = uri_to_path(&params.text_document.uri)?;
    let text = match server.workspace.open.get(&path) {
        Some(t) => t.clone(),
        None => std::fs::read_to_string(&path).ok()?,
    };
    let lexed = lexer::lex(&text);
    let Some((start, _, end)) = lexed.tokens.iter().find(|(_, t, _)| *t == Tok::Test) else { return Some(Vec::new()) };
    let lines = crate::position::LineIndex::new(&text);
    let count = lexed.tokens.iter().filter(|(_, t, _)| *t == Tok::Test).count();
    let title = if count == 1 { "▶ Run test".to_owned() } else { format!("▶ Run {count} tests") };
    Some(vec![CodeLens {
        range: lines.range(&text, *start..*end),
        command: Some(Command {
            title,
            command: RUN_TESTS.to_owned(),
            arguments: Some(vec![serde_json::Value::String(params.text_document.uri.as_str().to_owned())]),
        }),
        data: None,
    }])
}
