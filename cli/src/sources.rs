//! Finding and reading policy files.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::output::{Failure, describe_io};

/// The extension of Ward source files.
const EXTENSION: &str = "ward";

/// Policy files as `(name, text)`, named as the user gave their paths,
/// sorted by name, each once.
pub fn load(paths: &[PathBuf]) -> Result<Vec<(String, String)>, Failure> {
    find(paths)?
        .into_iter()
        .map(|(name, path)| {
            let text = fs::read_to_string(&path)
                .map_err(|e| Failure::new(format!("cannot read `{name}`: {}", describe_io(&e))))?;
            Ok((name, text))
        })
        .collect()
}

/// The policy files that `paths` name, as `(name, path)`: named as the user
/// gave their paths, sorted by name, each once.
pub fn find(paths: &[PathBuf]) -> Result<Vec<(String, PathBuf)>, Failure> {
    let mut files = BTreeMap::new();
    for path in paths {
        let found = collect(path)?;
        if found.is_empty() {
            return Err(Failure::new(format!("no `.ward` files in `{}`", path.display()))
                .help("give policy files, or folders that contain them"));
        }
        for file in found {
            // The same file reached through two arguments is read once.
            let key = fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
            files.entry(key).or_insert(file);
        }
    }
    let mut named: Vec<(String, PathBuf)> = files.into_values().map(|path| (display(&path), path)).collect();
    named.sort();
    Ok(named)
}

/// A path as shown in diagnostics: as given, with `/` separators.
fn display(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./").map(str::to_owned).unwrap_or(text)
}

/// The `.ward` files a path names: the file itself, or every `.ward` file
/// below a folder. Hidden entries (names starting with `.`) and symbolic
/// links to folders are skipped inside folders.
fn collect(path: &Path) -> Result<Vec<PathBuf>, Failure> {
    let metadata = fs::metadata(path)
        .map_err(|e| Failure::new(format!("cannot read `{}`: {}", path.display(), describe_io(&e))))?;
    if metadata.is_dir() {
        let mut out = Vec::new();
        walk(path, &mut out)?;
        out.sort();
        Ok(out)
    } else {
        // A file named explicitly is taken whatever its extension.
        Ok(vec![path.to_path_buf()])
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Failure> {
    let cannot =
        |e: std::io::Error| Failure::new(format!("cannot read folder `{}`: {}", dir.display(), describe_io(&e)));
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).map_err(cannot)? {
        entries.push(entry.map_err(cannot)?);
    }
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(cannot)?;
        if kind.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == EXTENSION) {
            // Regular files and symbolic links to files; a link to a folder
            // is not followed, so walks cannot loop.
            if kind.is_file() || fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                out.push(path);
            }
        }
    }
    Ok(())
}
