//! `ward build`: compile policies into a decision module.

use std::path::{Path, PathBuf};

use crate::engine::Interpreter;
use crate::output::{self, Failure, describe_io};
use crate::{Outcome, status};

/// Runs `ward build PATH… -o OUT.wasm [--precompiled OUT.cwasm]`.
pub fn run(paths: &[PathBuf], out: &Path, precompiled: Option<&Path>, color: bool) -> Outcome {
    let (program, sources) = Interpreter::compile(paths, color)?;
    let module = ward_compiler::codegen::build(&program, &sources);
    let runtime =
        ward_runtime::Runtime::new().map_err(|e| Failure::new(format!("cannot start the WebAssembly runtime: {e}")))?;
    // A module that gateways would refuse is not written: a policy can
    // exceed a limit of WebAssembly that the checker does not foresee.
    runtime.validate(&module.wasm).map_err(|e| {
        Failure::new(format!("the policy compiles to a module that the runtime would refuse, so none was written: {e}"))
    })?;
    write(out, &module.wasm)?;
    let mut summary = format!(
        "built `{}`: {} rule{}, {} bytes",
        out.display(),
        module.manifest.rules.len(),
        if module.manifest.rules.len() == 1 { "" } else { "s" },
        module.wasm.len()
    );
    if let Some(path) = precompiled {
        let artifact =
            runtime.precompile(&module.wasm).map_err(|e| Failure::new(format!("cannot precompile the module: {e}")))?;
        write(path, &artifact)?;
        summary.push_str(&format!("; precompiled `{}`: {} bytes", path.display(), artifact.len()));
    }
    output::stderr(&format!("{summary}\n"));
    Ok(status::ok())
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    std::fs::write(path, bytes)
        .map_err(|e| Failure::new(format!("cannot write `{}`: {}", path.display(), describe_io(&e))))
}
