//! `ward fmt`: rewrite policy files in the canonical layout, or check that
//! they are.

use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use ward_compiler::diagnostics;
use ward_compiler::span::SourceMap;

use crate::output::{self, Failure, describe_io};
use crate::{Outcome, sources, status};

/// Runs `ward fmt`. `paths` containing `-` (or `stdin`) formats standard
/// input to standard output.
pub fn run(paths: &[PathBuf], check: bool, stdin: bool, color: bool) -> Outcome {
    if stdin || paths.iter().any(|p| p.as_os_str() == "-") {
        if !paths.iter().all(|p| p.as_os_str() == "-") {
            return Err(Failure::new("standard input cannot be formatted together with files")
                .help("give either `-` or paths, not both"));
        }
        return run_stdin(check, color);
    }
    let files = sources::find(paths)?;
    let mut errors = 0;
    let mut changed = Vec::new();
    for (name, path) in &files {
        let text =
            fs::read_to_string(path).map_err(|e| Failure::new(format!("cannot read `{name}`: {}", describe_io(&e))))?;
        let Some(formatted) = format(name, &text, color) else {
            errors += 1;
            continue;
        };
        if formatted == text {
            continue;
        }
        if check {
            output::stdout(&diff(name, &text, &formatted));
        } else {
            write_atomically(path, &formatted)
                .map_err(|e| Failure::new(format!("cannot write `{name}`: {}", describe_io(&e))))?;
            output::stdout(&format!("reformatted {name}\n"));
        }
        changed.push(name);
    }
    output::stderr(&format!("{}\n", summary(files.len(), changed.len(), errors, check)));
    Ok(if errors > 0 || (check && !changed.is_empty()) { status::error() } else { status::ok() })
}

/// Formats standard input to standard output; with `check`, prints a diff
/// instead and fails when the input is not formatted.
fn run_stdin(check: bool, color: bool) -> Outcome {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Failure::new(format!("cannot read standard input: {}", describe_io(&e))))?;
    let name = "<stdin>";
    let Some(formatted) = format(name, &text, color) else {
        return Ok(status::error());
    };
    if !check {
        output::stdout(&formatted);
        return Ok(status::ok());
    }
    if formatted == text {
        return Ok(status::ok());
    }
    output::stdout(&diff(name, &text, &formatted));
    Ok(status::error())
}

/// The formatted text, or `None` after printing the syntax errors that
/// prevent formatting.
fn format(name: &str, text: &str, color: bool) -> Option<String> {
    match ward_compiler::format_source(text) {
        Ok(formatted) => Some(formatted),
        Err(found) => {
            let mut sources = SourceMap::new();
            sources.add(name, text);
            output::stderr(&diagnostics::render(&sources, &found, color));
            output::stderr(&format!("error: `{name}` was not formatted: it has syntax errors\n"));
            None
        }
    }
}

/// A unified diff from `old` to `new`, with three lines of context.
fn diff(name: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("{name}\t(original)"), &format!("{name}\t(formatted)"))
        .to_string()
}

/// Replaces a file's contents through a temporary file in the same folder
/// and a rename, so that an interruption never leaves half a file.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = folder.join(format!(".{file_name}.{}.fmt-tmp", std::process::id()));
    let result = fs::write(&temporary, text)
        .and_then(|()| match fs::metadata(path) {
            Ok(metadata) => fs::set_permissions(&temporary, metadata.permissions()),
            Err(_) => Ok(()),
        })
        .and_then(|()| fs::rename(&temporary, path));
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result
}

/// `2 of 5 files reformatted`, `5 files already formatted`, ...
fn summary(files: usize, changed: usize, errors: usize, check: bool) -> String {
    let files_text = if files == 1 { "1 file".to_owned() } else { format!("{files} files") };
    let mut text = match (changed, check) {
        (0, _) if errors == 0 => format!("{files_text} already formatted"),
        (0, _) => format!("checked {files_text}"),
        (n, true) => format!("{n} of {files_text} not formatted"),
        (n, false) => format!("{n} of {files_text} reformatted"),
    };
    if errors > 0 {
        let noun = if errors == 1 { "file" } else { "files" };
        text.push_str(&format!("; {errors} {noun} with syntax errors left unchanged"));
    }
    text
}
