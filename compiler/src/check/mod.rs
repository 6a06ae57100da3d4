//! Name resolution and type checking: parsed files to a [`Program`].

use crate::diagnostics::{self, Diagnostic};
use crate::program::Program;
use crate::span::SourceMap;
use crate::syntax::parser;
use crate::Compilation;

/// Parses and checks source files; see [`crate::compile`].
pub fn compile(files: Vec<(String, String)>) -> Compilation {
    let mut sources = SourceMap::new();
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    for (name, text) in files {
        let id = sources.add(name, text);
        let parsed = parser::parse(id, &sources.get(id).text);
        diagnostics.extend(parsed.diagnostics);
    }
    diagnostics::sort(&mut diagnostics);
    let program: Option<Program> = None;
    Compilation { sources, program, diagnostics }
}
