//! Shared helpers for the end-to-end and conformance tests: compiling
//! policies with the compiler and loading them with the runtime.

#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used, reason = "test support")]

use ward_compiler::{codegen, compile, program::Program};
use ward_runtime::{DecisionModule, Runtime};

/// A policy compiled both ways: the checked program for the interpreter and
/// the decision module for the runtime.
#[allow(missing_debug_implementations, reason = "holds a loaded module")]
pub struct Compiled {
    /// The checked program.
    pub program: Program,
    /// The WebAssembly module.
    pub wasm: Vec<u8>,
    /// The module loaded by the runtime.
    pub module: DecisionModule,
}

/// Compiles `(name, source)` files; panics with rendered diagnostics on errors.
pub fn compile_both(runtime: &Runtime, files: Vec<(String, String)>) -> Compiled {
    let compilation = compile(files);
    let program = compilation.program.clone().unwrap_or_else(|| {
        panic!("{}", ward_compiler::diagnostics::render(&compilation.sources, &compilation.diagnostics, false))
    });
    let output = codegen::build(&program, &compilation.sources);
    let module = runtime.load(&output.wasm).unwrap_or_else(|e| panic!("the runtime refuses the module: {e}"));
    Compiled { program, wasm: output.wasm, module }
}

/// The size of a module's code section.
pub fn code_size(wasm: &[u8]) -> u32 {
    wasmparser::Parser::new(0)
        .parse_all(wasm)
        .find_map(|payload| match payload.expect("parses") {
            wasmparser::Payload::CodeSectionStart { size, .. } => Some(size),
            _ => None,
        })
        .expect("a code section")
}

pub mod builder;
pub mod differential;
pub mod policy;
pub mod request;
pub mod rng;
