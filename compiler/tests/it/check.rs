//! Integration tests: the type checker, driven by the corpus in
//! `tests/corpus/check/`. A file whose name ends in `-ok.ward` must compile
//! without errors; any other file marks each expected diagnostic with a
//! comment `//~ CODE` on the line where it is reported (`//~^ CODE` for the
//! line above), and must produce exactly those.

use std::path::{Path, PathBuf};

use ward_compiler::compile;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/check")
}

fn files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus())
        .expect("corpus folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "ward"))
        .collect();
    files.sort();
    files
}

/// `(line, code)` pairs announced by `//~` comments.
fn expected(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if let Some(pos) = line.find("//~") {
            let rest = &line[pos + 3..];
            let (up, rest) = match rest.strip_prefix('^') {
                Some(r) => (1, r),
                None => (0, rest),
            };
            for code in rest.split_whitespace() {
                out.push((index + 1 - up, code.to_owned()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn corpus_diagnostics_match_annotations() {
    let mut failures = Vec::new();
    for path in files() {
        let text = std::fs::read_to_string(&path).expect("readable");
        let name = path.file_name().expect("name").to_string_lossy().into_owned();
        let compilation = compile(vec![(name.clone(), text.clone())]);
        let mut actual: Vec<(usize, String)> = compilation
            .diagnostics
            .iter()
            .map(|d| {
                let span = d.span();
                let (line, _) = compilation.sources.get(span.file).line_col(span.start as usize);
                (line, d.code.as_str().to_owned())
            })
            .collect();
        actual.sort();
        let want = if name.ends_with("-ok.ward") { Vec::new() } else { expected(&text) };
        if !name.ends_with("-ok.ward") && want.is_empty() {
            failures.push(format!("{name}: announces no expected diagnostics"));
        }
        if actual != want {
            let rendered = ward_compiler::diagnostics::render(&compilation.sources, &compilation.diagnostics, false);
            failures.push(format!("{name}:\n  expected {want:?}\n  actual   {actual:?}\n{rendered}"));
        }
        if name.ends_with("-ok.ward") && compilation.program.is_none() {
            failures.push(format!("{name}: no program produced"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
