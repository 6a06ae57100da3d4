//! The VS Code package's TextMate grammar tokenizes every `.ward` file of the
//! repository without unmatched regions, and gives keywords keyword scopes.
//! The expectations come from the compiler's lexer; `editors/vscode/test/grammar.mjs`
//! tokenizes with `vscode-textmate`.
//!
//! Skipped with a notice when Node.js or the package's `node_modules` are
//! missing, except under `CI=true`, where that fails the test.

#![allow(clippy::expect_used, clippy::panic, reason = "a test fails by panicking")]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use ward_compiler::syntax::lexer::{self, LexError, Tok};

fn ward_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "target" || name == "node_modules" || name.starts_with("target-") {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            ward_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "ward") {
            out.push(path);
        }
    }
}

/// Line and UTF-16 column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..offset].matches('\n').count();
    (line, text[line_start..offset].chars().map(char::len_utf16).sum())
}

fn manifest_entry(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("read");
    let lexed = lexer::lex(&text);
    let open_at_eof = lexed.tokens.iter().any(|(_, t, _)| *t == Tok::Error(LexError::UnterminatedComment));
    let invalid_tokens =
        !lexed.errors.is_empty() || lexed.tokens.iter().any(|(_, t, _)| matches!(t, Tok::Error(_) | Tok::BadNumber));
    let keywords: Vec<Value> = lexed
        .tokens
        .iter()
        .filter(|(_, t, _)| {
            !matches!(t, Tok::Ident(_) | Tok::Error(_))
                && t.text().chars().all(|c| c.is_ascii_lowercase())
                && !t.text().is_empty()
        })
        .map(|(start, t, _)| {
            let (line, col) = line_col(&text, *start);
            json!([line, col, t.text()])
        })
        .collect();
    json!({ "path": path, "open_at_eof": open_at_eof, "invalid_tokens": invalid_tokens, "keywords": keywords })
}

#[test]
fn textmate_grammar_tokenizes_every_ward_file() {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let package = repo.join("editors/vscode");
    let node = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    if !node || !package.join("node_modules/vscode-textmate").is_dir() {
        assert!(!ci, "in CI but Node.js or editors/vscode/node_modules is missing (run `npm ci` there)");
        eprintln!("notice: Node.js or editors/vscode/node_modules missing, skipping the grammar test");
        return;
    }
    let mut files = Vec::new();
    ward_files(&repo, &mut files);
    assert!(files.len() > 10, "found only {} files", files.len());
    let manifest: Vec<Value> = files.iter().map(|f| manifest_entry(f)).collect();
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("grammar-manifest.json");
    std::fs::write(&path, serde_json::to_string(&manifest).expect("JSON")).expect("write");
    let out = Command::new("node").arg(package.join("test/grammar.mjs")).arg(&path).output().expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains(&format!("tokenized {} files", files.len())), "{stdout}");
}
