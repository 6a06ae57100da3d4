//! `ward check`: compile policies and report every diagnostic.

use std::path::PathBuf;

use ward_compiler::Compilation;
use ward_compiler::diagnostics::{self, Severity};

use crate::output::{self, Failure};
use crate::{Format, Outcome, sources, status};

/// Runs `ward check`.
pub fn run(paths: &[PathBuf], format: Format, color: bool) -> Outcome {
    let files = sources::load(paths)?;
    let count = files.len();
    let compilation = ward_compiler::compile(files);
    match format {
        Format::Human => {
            output::stderr(&diagnostics::render(&compilation.sources, &compilation.diagnostics, color));
            output::stderr(&format!("{}\n", summary(count, &compilation)));
        }
        Format::Json => {
            let json: Vec<_> = compilation.diagnostics.iter().map(|d| d.to_json(&compilation.sources)).collect();
            let text = serde_json::to_string_pretty(&json)
                .map_err(|e| Failure::new(format!("cannot write diagnostics as JSON: {e}")))?;
            output::stdout(&format!("{text}\n"));
        }
    }
    Ok(if compilation.has_errors() { status::error() } else { status::ok() })
}

/// `checked 3 files: 0 errors, 1 warning`.
pub fn summary(files: usize, compilation: &Compilation) -> String {
    let count = |severity| compilation.diagnostics.iter().filter(|d| d.severity == severity).count();
    format!(
        "checked {}: {}, {}",
        plural(files, "file"),
        plural(count(Severity::Error), "error"),
        plural(count(Severity::Warning), "warning"),
    )
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}
