//! The Ward compiler: source to checked program, diagnostics, and the
//! reference interpreter.
//!
//! The pipeline is `syntax` (lex and parse) → `check` (resolve names and
//! types against the schema) → `interp` (the reference semantics). Nothing
//! here does IO: files, colours and exit codes belong to the command line.

pub mod diagnostics;
pub mod span;
pub mod syntax;
