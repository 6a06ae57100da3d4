//! The Ward compiler: source to checked program, diagnostics, and the
//! reference interpreter.
//!
//! The pipeline is `syntax` (lex and parse) → `check` (resolve names and
//! types against the schema) → [`program::Program`] (the typed IR) →
//! `interp` (the reference semantics). Nothing here does IO: files, colours
//! and exit codes belong to the command line.

pub mod check;
pub mod codegen;
pub mod diagnostics;
pub mod docs;
pub mod interp;
pub mod program;
pub mod span;
mod stack;
pub mod stdlib;
pub mod syntax;
pub mod testing;

use diagnostics::Diagnostic;
use program::Program;
use span::SourceMap;

/// The result of compiling a set of source files.
#[derive(Debug)]
pub struct Compilation {
    /// Every file read, the standard library's included, for rendering.
    pub sources: SourceMap,
    /// The checked program, when there are no errors.
    pub program: Option<Program>,
    /// Every diagnostic, sorted by location.
    pub diagnostics: Vec<Diagnostic>,
    /// What every name refers to and the types of expressions, for editors.
    pub index: check::index::Index,
}

impl Compilation {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Compiles source files given as `(name, text)`: parses each, loads the
/// standard-library packages they import, resolves and type-checks the whole
/// program. Never fails: problems are diagnostics.
pub fn compile(files: Vec<(String, String)>) -> Compilation {
    check::compile(files)
}

/// Formats one `.ward` source text in the canonical layout, keeping its
/// comments. A text with syntax errors is not formatted: its diagnostics
/// come back instead (spans in [`span::FileId`] 0).
///
/// Formatting is idempotent and changes no meaning: the result parses to
/// the same tree as `source`. Should that check ever fail, `source` comes
/// back unchanged rather than a text that means something else.
pub fn format_source(source: &str) -> Result<String, Vec<Diagnostic>> {
    let parsed = syntax::parser::parse(span::FileId(0), source);
    if parsed.diagnostics.iter().any(Diagnostic::is_error) {
        return Err(parsed.diagnostics);
    }
    let formatted = syntax::print::format_file(&parsed.file, source);
    let reparsed = syntax::parser::parse(span::FileId(0), &formatted);
    // The canonical printing of a tree is the tree without its spans.
    let same = reparsed.diagnostics.is_empty()
        && syntax::print::print_file(&reparsed.file) == syntax::print::print_file(&parsed.file);
    Ok(if same { formatted } else { source.to_owned() })
}
