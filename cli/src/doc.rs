//! `ward doc`: reference documentation of packages, from their doc comments.

use std::path::{Path, PathBuf};

use crate::output::{self, Failure, describe_io};
use crate::{Outcome, sources, status};

/// Runs `ward doc [PATH…] [--stdlib] [-o DIR]`.
pub fn run(paths: &[PathBuf], stdlib: bool, out: Option<&Path>) -> Outcome {
    let mut files = if paths.is_empty() { Vec::new() } else { sources::load(paths)? };
    if stdlib {
        files.extend(
            ward_compiler::stdlib::FILES
                .iter()
                .map(|(name, text)| (format!("{}{name}", ward_compiler::stdlib::PREFIX), (*text).to_owned())),
        );
    }
    let pages = ward_compiler::docs::markdown(&files);
    match out {
        None => {
            let text: Vec<&str> = pages.values().map(String::as_str).collect();
            output::stdout(&text.join("\n"));
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| Failure::new(format!("cannot create `{}`: {}", dir.display(), describe_io(&e))))?;
            for (package, page) in &pages {
                let name = if package.is_empty() { "unnamed" } else { package.as_str() };
                let path = dir.join(format!("{name}.md"));
                std::fs::write(&path, page)
                    .map_err(|e| Failure::new(format!("cannot write `{}`: {}", path.display(), describe_io(&e))))?;
            }
            output::stderr(&format!("wrote {} reference pages to `{}`\n", pages.len(), dir.display()));
        }
    }
    Ok(status::ok())
}
