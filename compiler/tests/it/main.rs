//! The compiler's integration tests, as one test binary.

mod check;
mod codegen;
mod fmt;
mod interp;
mod spec;
mod syntax;
