//! Decision engines: what `ward eval` asks. Today the reference interpreter
//! over policies compiled from source.

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
        let files = sources::load(paths)?;
        let compilation = ward_compiler::compile(files);
        if !compilation.diagnostics.is_empty() {
            output::stderr(&diagnostics::render(
                &compilation.sources,
                &compilation.diagnostics,
                color,
            ));
        }
        if compilation.has_errors() {
            let errors = compilation
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .count();
            let noun = if errors == 1 { "error" } else { "errors" };
            return Err(Failure::new(format!("the policy has {errors} {noun}"))
                .help("`ward check` reports them without evaluating"));
        }
        match compilation.program {
            Some(program) => Ok(Interpreter { program }),
            None => Err(Failure::new("the policy could not be checked")),
        }
    }
}

impl Engine for Interpreter {
    fn decide(&self, request: &[u8]) -> Decision {
        ward_compiler::interp::decide_json(&self.program, request)
    }
}
