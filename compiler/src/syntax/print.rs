//! The printer: an AST back to canonical source text.
