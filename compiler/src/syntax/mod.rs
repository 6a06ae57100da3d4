//! Concrete syntax: lexer, grammar, AST and parser.

pub mod ast;
pub mod depth;
pub mod lexer;
pub mod parser;
pub mod print;
