//! A real editor: headless Neovim with its built-in LSP client attached to
//! `ward lsp` opens the example with an error in it, receives the
//! diagnostic, and gets hover and go-to-definition results.
//!
//! Skipped with a notice when `nvim` is not installed, except under
//! `CI=true`, where a missing Neovim fails the test.

#![allow(clippy::expect_used, clippy::panic, reason = "a test fails by panicking")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

/// Whether this runs in continuous integration, where skipping is a failure.
fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn nvim_available() -> bool {
    Command::new("nvim").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// `line:col` (UTF-16 column) of the `n`th `needle` in `text`, plus `shift`.
fn position(text: &str, needle: &str, n: usize, shift: usize) -> String {
    let offset = text.match_indices(needle).nth(n).map(|(i, _)| i).expect("needle");
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..offset].matches('\n').count();
    let column: usize = text[line_start..offset].chars().map(char::len_utf16).sum::<usize>() + shift;
    format!("{line}:{column}")
}

#[test]
fn neovim_gets_diagnostics_hover_and_definition() {
    if !nvim_available() {
        assert!(!ci(), "in CI but `nvim` is not installed");
        eprintln!("notice: `nvim` not found, skipping the Neovim test");
        return;
    }
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/model-gateway/policy");
    let dir: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join("neovim-example");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    for entry in std::fs::read_dir(&example).expect("example").flatten() {
        std::fs::copy(entry.path(), dir.join(entry.file_name())).expect("copy");
    }
    // The error: a misspelt attribute in the first rule.
    let access = std::fs::read_to_string(dir.join("access.ward")).expect("read");
    let broken = access.replacen("principal.clearance", "principal.clearence", 1);
    std::fs::write(dir.join("access.ward"), &broken).expect("write");

    // Neovim's and the server's caches, outside the program's folder.
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("neovim-home");
    let out = home.join("result.json");
    std::fs::create_dir_all(&home).expect("mkdir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/neovim/client.lua");
    let mut child = Command::new("nvim")
        .args(["--headless", "-u", "NONE", "-i", "NONE", "-n", "-c"])
        .arg(format!("luafile {}", script.display()))
        .env("WARD_BIN", env!("CARGO_BIN_EXE_ward"))
        .env("WARD_FILE", dir.join("access.ward"))
        .env("WARD_OUT", &out)
        .env("WARD_HOVER", position(&broken, "resource.tier", 0, "resource.".len() + 1))
        .env("WARD_DEFINITION", position(&broken, "dominates(", 0, 1))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_DATA_HOME", home.join("data"))
        .spawn()
        .expect("nvim starts");
    let mut waited = Duration::ZERO;
    while child.try_wait().expect("wait").is_none() {
        assert!(waited < Duration::from_secs(120), "nvim did not finish");
        std::thread::sleep(Duration::from_millis(100));
        waited += Duration::from_millis(100);
    }
    let text = std::fs::read_to_string(&out).expect("nvim wrote its result");
    let result: Value = serde_json::from_str(&text).expect("JSON");
    assert!(result.get("error").is_none(), "{result}");
    assert_eq!(result["got_diagnostics"], true, "{result}");

    let diagnostics = result["diagnostics"].as_array().cloned().unwrap_or_default();
    assert_eq!(diagnostics.len(), 1, "{result}");
    assert_eq!(diagnostics[0]["code"], "E0102");
    assert!(diagnostics[0]["message"].as_str().unwrap_or("").contains("unknown attribute `clearence`"));
    let expected = position(&broken, "clearence", 0, 0);
    assert_eq!(format!("{}:{}", diagnostics[0]["lnum"], diagnostics[0]["col"]), expected);

    let hover = result["hover"]["contents"]["value"].as_str().unwrap_or("");
    assert!(hover.contains("tier: Classification"), "{result}");

    let definition = &result["definition"][0];
    assert!(definition["uri"].as_str().unwrap_or("").ends_with("/schema.ward"), "{result}");
    let schema = std::fs::read_to_string(dir.join("schema.ward")).expect("read");
    let line = definition["range"]["start"]["line"].as_u64().unwrap_or(u64::MAX) as usize;
    assert!(schema.lines().nth(line).unwrap_or("").starts_with("def dominates("), "{result}");
}
