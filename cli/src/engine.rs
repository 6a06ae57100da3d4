//! Decision engines: what `ward eval` asks — the reference interpreter over
//! policies compiled from source, or a decision module through the runtime.

use std::path::PathBuf;

use ward_compiler::diagnostics;
use ward_compiler::program::Program;
use ward_types::Decision;

use crate::output::{self, Failure};
use crate::sources;

/// Something that decides requests given as JSON text. A document that is
/// not a valid request is a deny, never an error of the engine.
pub trait Engine {
    /// Decides one request.
    fn decide(&self, request: &[u8]) -> Decision;
}

/// Policies compiled from source, decided by the reference interpreter.
#[derive(Debug)]
pub struct Interpreter {
    program: Program,
}

impl Interpreter {
    /// Compiles policy files and folders. Diagnostics go to standard error;
    /// any error makes the policy unusable.
    pub fn load(paths: &[PathBuf], color: bool) -> Result<Interpreter, Failure> {
        let (program, _) = Interpreter::compile(paths, color)?;
        Ok(Interpreter { program })
    }

    /// Compiles policy files and folders into a checked program and its
    /// sources; diagnostics go to standard error.
    pub fn compile(paths: &[PathBuf], color: bool) -> Result<(Program, ward_compiler::span::SourceMap), Failure> {
        let files = sources::load(paths)?;
        let compilation = ward_compiler::compile(files);
        if !compilation.diagnostics.is_empty() {
            output::stderr(&diagnostics::render(&compilation.sources, &compilation.diagnostics, color));
        }
        if compilation.has_errors() {
            let errors = compilation.diagnostics.iter().filter(|d| d.is_error()).count();
            let noun = if errors == 1 { "error" } else { "errors" };
            return Err(Failure::new(format!("the policy has {errors} {noun}"))
                .help("`ward check` reports them without evaluating"));
        }
        match compilation.program {
            Some(program) => Ok((program, compilation.sources)),
            None => Err(Failure::new("the policy could not be checked")),
        }
    }
}

impl Engine for Interpreter {
    fn decide(&self, request: &[u8]) -> Decision {
        ward_compiler::interp::decide_json(&self.program, request)
    }
}

/// A decision module loaded by the runtime, as a gateway loads it.
pub struct Module {
    module: ward_runtime::DecisionModule,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module").finish_non_exhaustive()
    }
}

impl Module {
    /// Loads a `.wasm` module, or a precompiled artifact from `ward build --precompiled`.
    pub fn load(path: &std::path::Path) -> Result<Module, Failure> {
        let shown = path.display();
        let bytes = std::fs::read(path)
            .map_err(|e| Failure::new(format!("cannot read module `{shown}`: {}", output::describe_io(&e))))?;
        let runtime = ward_runtime::Runtime::new()
            .map_err(|e| Failure::new(format!("cannot start the WebAssembly runtime: {e}")))?;
        let module = if bytes.starts_with(b"\0asm") { runtime.load(&bytes) } else { runtime.load_precompiled(&bytes) }
            .map_err(|e| Failure::new(format!("cannot load module `{shown}`: {e}")))?;
        Ok(Module { module })
    }
}

impl Engine for Module {
    fn decide(&self, request: &[u8]) -> Decision {
        self.module.decide_json(request)
    }
}
