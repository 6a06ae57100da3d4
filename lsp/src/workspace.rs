//! Open documents, programs and their analyses.
//!
//! A file belongs to one program: every `.ward` file in a folder and below
//! it. That folder is the nearest one above the file with a `policy/`
//! subfolder of `.ward` files (the layout `ward init` creates, with `tests/`
//! beside it); failing that, the file's own folder, grown to its parent
//! while the parent holds `.ward` files too, up to the workspace root.
//! Unsaved editor text overrides the file on disk.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use ward_compiler::Compilation;
use ward_compiler::span::{FileId, Span};

use crate::position::LineIndex;

/// Most files read for one program.
const MAX_FILES: usize = 5_000;

/// One compiled program and how to map its files back to paths.
#[derive(Debug)]
pub struct Analysis {
    /// The compiler's result.
    pub compilation: Compilation,
    /// The path of each file, by file id.
    pub paths: Vec<PathBuf>,
    /// Line starts of each file, by file id.
    pub lines: Vec<LineIndex>,
}

impl Analysis {
    /// Compiles `files` (path, text), mapping standard-library files into `stdlib_dir`.
    pub fn new(files: Vec<(PathBuf, String)>, stdlib_dir: &Path) -> Analysis {
        let named = files.into_iter().map(|(p, t)| (p.to_string_lossy().into_owned(), t)).collect();
        let compilation = ward_compiler::compile(named);
        let mut paths = Vec::new();
        let mut lines = Vec::new();
        for (_, file) in compilation.sources.iter() {
            let path = match file.name.strip_prefix("<stdlib>/") {
                Some(name) => stdlib_dir.join(name),
                None => PathBuf::from(&file.name),
            };
            paths.push(path);
            lines.push(LineIndex::new(&file.text));
        }
        Analysis { compilation, paths, lines }
    }

    /// The id of the file at `path`.
    pub fn file(&self, path: &Path) -> Option<FileId> {
        self.paths.iter().position(|p| p == path).map(|i| FileId(u32::try_from(i).unwrap_or(u32::MAX)))
    }

    /// The text of a file.
    pub fn text(&self, file: FileId) -> &str {
        &self.compilation.sources.get(file).text
    }

    /// The path of a file.
    pub fn path(&self, file: FileId) -> &Path {
        &self.paths[file.0 as usize]
    }

    /// The LSP range of a span.
    pub fn range(&self, span: Span) -> lsp_types::Range {
        self.lines[span.file.0 as usize].range(self.text(span.file), span.range())
    }

    /// The byte offset of an LSP position in a file.
    pub fn offset(&self, file: FileId, position: lsp_types::Position) -> u32 {
        let offset = self.lines[file.0 as usize].offset(self.text(file), position);
        u32::try_from(offset).unwrap_or(u32::MAX)
    }

    /// Whether a file is part of the embedded standard library.
    pub fn is_stdlib(&self, file: FileId) -> bool {
        self.compilation.sources.get(file).name.starts_with("<stdlib>/")
    }
}

/// Documents, programs and analyses.
#[derive(Debug, Default)]
pub struct Workspace {
    /// The workspace folder, if the editor gave one.
    pub root: Option<PathBuf>,
    /// Open documents: path → text.
    pub open: BTreeMap<PathBuf, String>,
    /// Analyses by program folder.
    pub analyses: HashMap<PathBuf, Analysis>,
    /// Where the standard library is written for editors to open.
    pub stdlib_dir: PathBuf,
}

impl Workspace {
    /// The folder whose program `file` belongs to.
    pub fn program_of(&self, file: &Path) -> PathBuf {
        let Some(mut dir) = file.parent().map(Path::to_path_buf) else { return PathBuf::from(".") };
        // A project as `ward init` lays it out: `policy/` and `tests/` below one folder.
        for ancestor in dir.ancestors() {
            if self.root.as_deref().is_some_and(|root| !ancestor.starts_with(root)) {
                break;
            }
            if has_ward_files(&ancestor.join("policy")) {
                return ancestor.to_path_buf();
            }
        }
        loop {
            if self.root.as_deref() == Some(dir.as_path()) {
                return dir;
            }
            let Some(parent) = dir.parent() else { return dir };
            if self.root.as_ref().is_some_and(|root| !parent.starts_with(root)) {
                return dir;
            }
            if !has_ward_files(parent) {
                return dir;
            }
            dir = parent.to_path_buf();
        }
    }

    /// The sources of the program in `dir`: files on disk, overridden by open documents.
    pub fn sources(&self, dir: &Path) -> Vec<(PathBuf, String)> {
        let mut files: BTreeMap<PathBuf, String> = BTreeMap::new();
        let mut found = Vec::new();
        walk(dir, &mut found);
        for path in found {
            // The standard library's copy for editors is not part of a program below it.
            if path.starts_with(&self.stdlib_dir) && !dir.starts_with(&self.stdlib_dir) {
                continue;
            }
            if let Ok(text) = std::fs::read_to_string(&path) {
                files.insert(path, text);
            }
        }
        for (path, text) in &self.open {
            if path.starts_with(dir) && self.program_of(path) == dir {
                files.insert(path.clone(), text.clone());
            }
        }
        files.into_iter().collect()
    }

    /// Re-analyses the program in `dir`.
    pub fn analyse(&mut self, dir: &Path) -> &Analysis {
        let analysis = Analysis::new(self.sources(dir), &self.stdlib_dir);
        self.analyses.insert(dir.to_path_buf(), analysis);
        &self.analyses[dir]
    }

    /// The analysis of the program `file` belongs to, computed if missing.
    pub fn analysis_for(&mut self, file: &Path) -> &Analysis {
        let dir = self.program_of(file);
        if !self.analyses.contains_key(&dir) {
            self.analyse(&dir);
        }
        &self.analyses[&dir]
    }
}

fn has_ward_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| e.path().extension().is_some_and(|x| x == "ward") && e.path().is_file())
    })
}

/// Every `.ward` file below `dir`, skipping hidden folders and build output.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        if out.len() >= MAX_FILES {
            return;
        }
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "node_modules" || name == "target" {
            continue;
        }
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => walk(&path, out),
            Ok(_) if path.extension().is_some_and(|x| x == "ward") => out.push(path),
            _ => {}
        }
    }
}

/// Writes the standard library's files into a cache folder, so that editors
/// can open them; returns the folder.
pub fn materialise_stdlib() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join("ward").join(format!("stdlib-{}", env!("CARGO_PKG_VERSION")));
    if std::fs::create_dir_all(&dir).is_ok() {
        for (name, text) in ward_compiler::stdlib::FILES {
            let path = dir.join(name);
            if std::fs::read_to_string(&path).ok().as_deref() != Some(*text) {
                let _ = std::fs::write(&path, text);
            }
        }
    }
    dir
}

/// A `file:` URI's path.
pub fn uri_to_path(uri: &lsp_types::Uri) -> Option<PathBuf> {
    let text = uri.as_str();
    let rest = text.strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let decoded = percent_decode(rest)?;
    // `file:///C:/x` on Windows.
    let decoded = match decoded.as_bytes() {
        [b'/', drive, b':', ..] if drive.is_ascii_alphabetic() && cfg!(windows) => decoded[1..].to_owned(),
        _ => decoded,
    };
    Some(PathBuf::from(decoded))
}

/// The `file:` URI of a path.
pub fn path_to_uri(path: &Path) -> Option<lsp_types::Uri> {
    let text = path.to_string_lossy().replace('\\', "/");
    let mut encoded = String::from("file://");
    if !text.starts_with('/') {
        encoded.push('/');
    }
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => encoded.push(b as char),
            b':' if cfg!(windows) => encoded.push(':'),
            _ => encoded.push_str(&format!("%{b:02X}")),
        }
    }
    encoded.parse().ok()
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip() {
        let path = PathBuf::from("/tmp/a dir/pölicy.ward");
        let uri = path_to_uri(&path).map(|u| u.as_str().to_owned());
        assert_eq!(uri.as_deref(), Some("file:///tmp/a%20dir/p%C3%B6licy.ward"));
        let back = path_to_uri(&path).and_then(|u| uri_to_path(&u));
        assert_eq!(back, Some(path));
    }
}
