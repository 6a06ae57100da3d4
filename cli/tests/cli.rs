//! End-to-end tests of the `ward` command: the real binary, real files,
//! exit statuses and output.
#![expect(clippy::expect_used, clippy::panic, reason = "a test fails by panicking")]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use ward_compiler::diagnostics::{Code, JsonDiagnostic};

/// What one run of `ward` did.
#[derive(Debug)]
struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }
}

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn example() -> PathBuf {
    root().join("examples/model-gateway")
}

/// Runs `ward` in `dir` with colour off, optionally feeding standard input.
fn ward_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ward"));
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the `ward` binary runs");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(input).expect("write stdin");
    }
    let output = child.wait_with_output().expect("`ward` finishes");
    let run = Run {
        status: output.status.code().expect("`ward` exits, not killed by a signal"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    };
    assert!(!run.stderr.contains("panicked"), "`ward` panicked:\n{}", run.stderr);
    run
}

fn ward(args: &[&str]) -> Run {
    ward_in(&root(), args, None)
}

/// A fresh, empty folder for one test.
fn scratch(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch folder");
    dir
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create folder");
    }
    std::fs::write(path, text).expect("write file");
}

/// A policy whose only problem is a syntax error: `=` for `==` on line 8.
const SYNTAX_ERROR: &str = "package demo\n\nentity User {}\naction sign_in { principal: User, resource: User }\n\n@id(\"R-1\")\npermit (principal, action, resource)\n  when principal.x = 1;\n";

// ---------------------------------------------------------------- check

#[test]
fn check_accepts_the_example_policy() {
    let run = ward(&["check", "examples/model-gateway/policy"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "checked 3 files: 0 errors, 0 warnings\n");
}

#[test]
fn check_reports_syntax_errors_with_source_and_summary() {
    let dir = scratch("syntax");
    write(&dir, "broken.ward", SYNTAX_ERROR);
    let run = ward_in(&dir, &["check", "broken.ward"], None);
    assert_eq!(run.status, 1);
    assert_eq!(run.stdout, "");
    insta::assert_snapshot!("check_syntax_error", run.stderr);
}

#[test]
fn check_reports_type_errors_with_labels_and_help() {
    let dir = scratch("types");
    write(
        &dir,
        "mfa.ward",
        "package demo\n\nentity User { mfa_age: Duration? }\naction sign_in { principal: User, resource: User }\n\n@id(\"ZT-001\")\nforbid (principal: User, action, resource)\n  when principal.mfa_age > 15m;\n",
    );
    let run = ward_in(&dir, &["check", "mfa.ward"], None);
    assert_eq!(run.status, 1);
    insta::assert_snapshot!("check_type_error", run.stderr);
    let json = ward_in(&dir, &["check", "--format", "json", "mfa.ward"], None);
    let diagnostics: Vec<JsonDiagnostic> = serde_json::from_str(&json.stdout).expect("an array of diagnostics");
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    assert_eq!(diagnostics[0].code, "E0203");
    assert_eq!((diagnostics[0].line, diagnostics[0].column), (8, 8));
    assert!(diagnostics[0].help.as_deref().is_some_and(|h| h.contains("has")), "{diagnostics:#?}");
}

#[test]
fn check_passes_with_warnings() {
    let dir = scratch("warnings");
    write(
        &dir,
        "anonymous.ward",
        "package demo\n\nentity User {}\naction sign_in { principal: User, resource: User }\n\npermit (principal, action, resource);\n",
    );
    let run = ward_in(&dir, &["check", "anonymous.ward"], None);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stderr.contains("[W0001] Warning: rule without `@id`"), "{}", run.stderr);
    assert!(run.stderr.ends_with("checked 1 file: 0 errors, 1 warning\n"), "{}", run.stderr);
    let json = ward_in(&dir, &["check", "--format", "json", "anonymous.ward"], None);
    assert_eq!(json.status, 0);
    assert_eq!(json.json()[0]["severity"], "warning");
}

#[test]
fn check_json_gives_code_location_and_help() {
    let dir = scratch("json");
    write(&dir, "broken.ward", SYNTAX_ERROR);
    let run = ward_in(&dir, &["check", "--format", "json", "broken.ward"], None);
    assert_eq!(run.status, 1);
    let diagnostics: Vec<JsonDiagnostic> = serde_json::from_str(&run.stdout).expect("an array of diagnostics");
    assert!(!diagnostics.is_empty());
    let first = &diagnostics[0];
    assert_eq!(first.code, "E0010");
    assert_eq!(first.severity, "error");
    assert_eq!(first.file, "broken.ward");
    // `=` in `  when principal.x = 1;`: line 8, column 20.
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    assert_eq!((first.line, first.column, first.end_line, first.end_column), (8, 20, 8, 21), "{first:?}");
    assert_eq!(first.message, "unexpected `=`");
    // Every diagnostic has the documented fields.
    for value in run.json().as_array().expect("array") {
        for field in ["code", "severity", "message", "file", "line", "column", "end_line", "end_column"] {
            assert!(value.get(field).is_some(), "missing `{field}` in {value}");
        }
    }
}

#[test]
fn check_json_is_an_empty_array_for_a_clean_policy() {
    let run = ward(&["check", "--format", "json", "examples/model-gateway/policy"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(run.json(), serde_json::json!([]));
}

#[test]
fn check_walks_folders_sorted_and_names_files_as_given() {
    let dir = scratch("walk");
    write(&dir, "policies/b.ward", "package b\nentity B { a: Int, c }\n");
    write(&dir, "policies/a/z.ward", "package z\nentity Z { a: }\n");
    write(&dir, "policies/a/notes.txt", "not a policy ;;;");
    write(&dir, "policies/.hidden/x.ward", "this is skipped");
    write(&dir, "extra.ward", "package p\nentity E {\n");
    let run = ward_in(&dir, &["check", "--format", "json", "policies", "./extra.ward", "policies/b.ward"], None);
    assert_eq!(run.status, 1);
    let diagnostics: Vec<JsonDiagnostic> = serde_json::from_str(&run.stdout).expect("an array of diagnostics");
    let files: Vec<&str> = diagnostics.iter().map(|d| d.file.as_str()).collect();
    assert_eq!(files, ["extra.ward", "policies/a/z.ward", "policies/b.ward"], "{diagnostics:#?}");

    let human = ward_in(&dir, &["check", "policies"], None);
    assert!(human.stderr.ends_with("checked 2 files: 2 errors, 0 warnings\n"), "{}", human.stderr);
}

#[test]
fn check_output_is_deterministic() {
    let dir = scratch("determinism");
    write(&dir, "one.ward", SYNTAX_ERROR);
    write(&dir, "two.ward", "package demo\nentity Model { tier: }\n");
    let a = ward_in(&dir, &["check", "--format", "json", "two.ward", "one.ward"], None);
    let b = ward_in(&dir, &["check", "--format", "json", "one.ward", "two.ward"], None);
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(a.status, 1);
}

#[test]
fn check_reports_missing_files_and_empty_folders() {
    let run = ward(&["check", "no/such/policy.ward"]);
    assert_eq!(run.status, 1);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "error: cannot read `no/such/policy.ward`: no such file or directory\n");

    let dir = scratch("empty");
    write(&dir, "empty/readme.txt", "nothing here");
    let run = ward_in(&dir, &["check", "empty"], None);
    assert_eq!(run.status, 1);
    insta::assert_snapshot!("check_empty_folder", run.stderr);
}

#[test]
fn check_reports_files_that_are_not_text() {
    let dir = scratch("binary");
    std::fs::write(dir.join("blob.ward"), [0xff_u8, 0xfe, 0x00, 0x01]).expect("write");
    let run = ward_in(&dir, &["check", "blob.ward"], None);
    assert_eq!(run.status, 1);
    assert_eq!(run.stderr, "error: cannot read `blob.ward`: the file is not UTF-8 text\n");
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let dir = scratch("colour");
    write(&dir, "broken.ward", SYNTAX_ERROR);
    let mut command = Command::new(env!("CARGO_BIN_EXE_ward"));
    let coloured = command
        .args(["--color", "always", "check", "broken.ward"])
        .current_dir(&dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&coloured.stderr).contains('\u{1b}'));

    // Piped standard error, `auto`: no colour.
    let auto = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["check", "broken.ward"])
        .current_dir(&dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("runs");
    assert!(!String::from_utf8_lossy(&auto.stderr).contains('\u{1b}'));

    let no_color = ward_in(&dir, &["--color", "always", "check", "broken.ward"], None);
    assert!(!no_color.stderr.contains('\u{1b}'));
}

// ---------------------------------------------------------------- usage

#[test]
fn usage_errors_exit_1_with_a_message() {
    for args in [
        &["check"][..],
        &["check", "--format", "xml", "x.ward"],
        &["frobnicate"],
        &["eval", "--request", "r.json"],
        &[],
    ] {
        let run = ward(args);
        assert_eq!(run.status, 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("error") || run.stderr.contains("Usage"), "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?}");
    }
}

#[test]
fn help_and_version_exit_0() {
    let help = ward(&["--help"]);
    assert_eq!(help.status, 0);
    for command in ["check", "explain", "eval"] {
        assert!(help.stdout.contains(command), "{}", help.stdout);
    }
    let version = ward(&["--version"]);
    assert_eq!(version.status, 0);
    assert!(version.stdout.starts_with("ward "), "{}", version.stdout);
}

// ---------------------------------------------------------------- explain

#[test]
fn explain_prints_code_title_and_explanation() {
    let run = ward(&["explain", "E0203"]);
    assert_eq!(run.status, 0);
    insta::assert_snapshot!("explain_e0203", run.stdout);
    // Codes are case-insensitive.
    assert_eq!(ward(&["explain", "e0203"]).stdout, run.stdout);
}

#[test]
fn explain_covers_every_code_of_the_catalogue() {
    let run = ward(&["explain", "--list"]);
    assert_eq!(run.status, 0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), Code::ALL.len());
    for (line, code) in lines.iter().zip(Code::ALL) {
        assert_eq!(*line, format!("{}  {}", code.as_str(), code.title()));
        let one = ward(&["explain", code.as_str()]);
        assert_eq!(one.status, 0);
        assert!(one.stdout.starts_with(&format!("{}: {}\n\n", code.as_str(), code.title())));
    }
}

#[test]
fn explain_rejects_unknown_codes() {
    let run = ward(&["explain", "E9999"]);
    assert_eq!(run.status, 1);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "error: unknown diagnostic code `E9999`\n  help: `ward explain --list` lists every code\n");
    assert_eq!(ward(&["explain", "E0001", "--list"]).status, 1);
}

// ---------------------------------------------------------------- eval

fn eval_example(request: &str) -> Run {
    ward_in(&example(), &["eval", "--policy", "policy", "--request", &format!("requests/{request}")], None)
}

#[test]
fn eval_allows_with_obligations() {
    let run = eval_example("allow-analyst-infer.json");
    assert_eq!(run.status, 0, "{}{}", run.stdout, run.stderr);
    let decision = run.json();
    assert_eq!(decision["decision"], "allow");
    assert_eq!(decision["rules"], serde_json::json!(["AI-001", "AI-002"]));
    assert_eq!(
        decision["obligations"],
        serde_json::json!([
            {"name": "redact", "args": {"field": "email"}},
            {"name": "redact", "args": {"field": "phone"}}
        ])
    );
    assert_eq!(decision["errors"], serde_json::json!([]));
}

#[test]
fn eval_denies_by_forbid_with_its_obligations() {
    let run = eval_example("deny-extraction.json");
    assert_eq!(run.status, 2, "{}{}", run.stdout, run.stderr);
    let decision = run.json();
    assert_eq!(decision["decision"], "deny");
    assert_eq!(decision["rules"], serde_json::json!(["AS-002"]));
    assert_eq!(decision["obligations"][1], serde_json::json!({"name": "quarantine", "args": {"for": "15m"}}));
}

#[test]
fn eval_denies_by_default() {
    let run = eval_example("deny-default.json");
    assert_eq!(run.status, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.json(),
        serde_json::json!({"decision": "deny", "rules": [], "reasons": [], "obligations": [], "errors": []})
    );
}

#[test]
fn eval_fails_closed_on_requests_outside_the_schema() {
    let run = eval_example("malformed-risk-out-of-range.json");
    assert_eq!(run.status, 2, "{}{}", run.stdout, run.stderr);
    let decision = run.json();
    assert_eq!(decision["decision"], "deny");
    assert_eq!(decision["rules"], serde_json::json!([]));
    assert_eq!(decision["errors"][0]["kind"], "out_of_declared_range");
    assert_eq!(decision["errors"][0]["path"], "context.risk");
}

#[test]
fn eval_denies_documents_that_are_not_requests() {
    let dir = scratch("not-a-request");
    for (name, text) in [("garbage.json", "this is not JSON"), ("array.json", "[1, 2]"), ("empty.json", "")] {
        write(&dir, name, text);
        let policy = example().join("policy");
        let run = ward_in(&dir, &["eval", "--policy", policy.to_str().expect("UTF-8 path"), "--request", name], None);
        assert_eq!(run.status, 2, "{name}: {}{}", run.stdout, run.stderr);
        let decision = run.json();
        assert_eq!(decision["decision"], "deny");
        assert_eq!(decision["errors"][0]["kind"], "malformed_request", "{name}");
    }
}

#[test]
fn eval_reads_the_request_from_standard_input() {
    let request = std::fs::read(example().join("requests/allow-analyst-infer.json")).expect("read request");
    let run = ward_in(&example(), &["eval", "--policy", "policy", "--request", "-"], Some(&request));
    assert_eq!(run.status, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, eval_example("allow-analyst-infer.json").stdout);

    let run = ward_in(&example(), &["eval", "--policy", "policy", "--request", "-"], Some(b"{"));
    assert_eq!(run.status, 2);
    assert_eq!(run.json()["errors"][0]["kind"], "malformed_request");
}

#[test]
fn eval_cannot_evaluate_without_a_request_or_a_valid_policy() {
    let run = ward_in(&example(), &["eval", "--policy", "policy", "--request", "requests/missing.json"], None);
    assert_eq!(run.status, 1);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "error: cannot read request `requests/missing.json`: no such file or directory\n");

    let run = ward_in(&example(), &["eval", "--policy", "nowhere", "--request", "requests/deny-default.json"], None);
    assert_eq!(run.status, 1);
    assert_eq!(run.stderr, "error: cannot read `nowhere`: no such file or directory\n");

    let dir = scratch("eval-broken");
    write(&dir, "broken.ward", SYNTAX_ERROR);
    write(&dir, "request.json", "{}");
    let run = ward_in(&dir, &["eval", "--policy", "broken.ward", "--request", "request.json"], None);
    assert_eq!(run.status, 1);
    assert_eq!(run.stdout, "");
    insta::assert_snapshot!("eval_broken_policy", run.stderr);
}

// ---------------------------------------------------------------- fmt

/// A policy in no particular layout, with comments.
const UNFORMATTED: &str = "package demo\nentity User {} // people\naction sign_in { principal: User, resource: User }\n\n\n\n@id(\"R-1\") permit (principal, action, resource)\n  when principal == principal; // always\n";

/// `UNFORMATTED` formatted.
const FORMATTED: &str = "package demo\n\nentity User {} // people\naction sign_in { principal: User, resource: User }\n\n@id(\"R-1\")\npermit (principal, action, resource)\n  when principal == principal; // always\n";

#[test]
fn fmt_rewrites_files_that_change_and_names_them() {
    let dir = scratch("fmt-rewrite");
    write(&dir, "policies/a.ward", UNFORMATTED);
    write(&dir, "policies/nested/b.ward", FORMATTED);
    write(&dir, "policies/notes.txt", "not a policy");
    let run = ward_in(&dir, &["fmt", "policies"], None);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "reformatted policies/a.ward\n");
    assert_eq!(run.stderr, "1 of 2 files reformatted\n");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("read back");
    assert_eq!(read("policies/a.ward"), FORMATTED);
    assert_eq!(read("policies/nested/b.ward"), FORMATTED);
    assert_eq!(read("policies/notes.txt"), "not a policy");
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(dir.join("policies"))
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");

    // A second run changes nothing.
    let again = ward_in(&dir, &["fmt", "policies"], None);
    assert_eq!(again.status, 0);
    assert_eq!(again.stdout, "");
    assert_eq!(again.stderr, "2 files already formatted\n");
}

#[test]
fn fmt_check_prints_a_diff_and_fails_without_writing() {
    let dir = scratch("fmt-check");
    write(&dir, "a.ward", UNFORMATTED);
    let run = ward_in(&dir, &["fmt", "--check", "a.ward"], None);
    assert_eq!(run.status, 1);
    assert_eq!(std::fs::read_to_string(dir.join("a.ward")).expect("read"), UNFORMATTED);
    assert_eq!(run.stderr, "1 of 1 file not formatted\n");
    insta::assert_snapshot!("fmt_check_diff", run.stdout);
}

#[test]
fn fmt_check_passes_on_formatted_files() {
    let dir = scratch("fmt-check-ok");
    write(&dir, "a.ward", FORMATTED);
    let run = ward_in(&dir, &["fmt", "--check", "a.ward"], None);
    assert_eq!(run.status, 0, "{}", run.stdout);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "1 file already formatted\n");
}

#[test]
fn fmt_check_passes_on_the_repository_policies() {
    let run = ward(&["fmt", "--check", "stdlib", "examples"]);
    assert_eq!(run.status, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn fmt_formats_standard_input_to_standard_output() {
    let dir = scratch("fmt-stdin");
    for args in [&["fmt", "-"][..], &["fmt", "--stdin"][..]] {
        let run = ward_in(&dir, args, Some(UNFORMATTED.as_bytes()));
        assert_eq!(run.status, 0, "{}", run.stderr);
        assert_eq!(run.stdout, FORMATTED);
        assert_eq!(run.stderr, "");
    }
    let check = ward_in(&dir, &["fmt", "--check", "-"], Some(UNFORMATTED.as_bytes()));
    assert_eq!(check.status, 1);
    assert!(check.stdout.contains("+@id(\"R-1\")\n"), "{}", check.stdout);
    let ok = ward_in(&dir, &["fmt", "--check", "--stdin"], Some(FORMATTED.as_bytes()));
    assert_eq!((ok.status, ok.stdout.as_str()), (0, ""));
}

#[test]
fn fmt_leaves_files_with_syntax_errors_untouched() {
    let dir = scratch("fmt-syntax");
    write(&dir, "broken.ward", SYNTAX_ERROR);
    write(&dir, "good.ward", UNFORMATTED);
    let run = ward_in(&dir, &["fmt", "broken.ward", "good.ward"], None);
    assert_eq!(run.status, 1);
    assert_eq!(std::fs::read_to_string(dir.join("broken.ward")).expect("read"), SYNTAX_ERROR);
    // Other files are still formatted.
    assert_eq!(std::fs::read_to_string(dir.join("good.ward")).expect("read"), FORMATTED);
    assert_eq!(run.stdout, "reformatted good.ward\n");
    insta::assert_snapshot!("fmt_syntax_error", run.stderr);

    let stdin = ward_in(&dir, &["fmt", "-"], Some(SYNTAX_ERROR.as_bytes()));
    assert_eq!(stdin.status, 1);
    assert_eq!(stdin.stdout, "");
    assert!(stdin.stderr.contains("[E0010] Error"), "{}", stdin.stderr);
}

#[test]
fn fmt_reports_usage_and_missing_files() {
    let run = ward(&["fmt"]);
    assert_eq!(run.status, 1);
    assert!(run.stderr.contains("PATH"), "{}", run.stderr);
    let run = ward(&["fmt", "no/such/policy.ward"]);
    assert_eq!(run.status, 1);
    assert_eq!(run.stderr, "error: cannot read `no/such/policy.ward`: no such file or directory\n");
    let run = ward(&["fmt", "-", "stdlib"]);
    assert_eq!(run.status, 1);
    assert!(run.stderr.starts_with("error: standard input cannot be formatted together with files"), "{}", run.stderr);
}

// ---------------------------------------------------------------- the example's README

/// Every ```console block of the example's README that starts with
/// `$ ward` is run in the example's folder; what it shows must be what
/// `ward` prints (standard output, then standard error).
#[test]
fn example_readme_shows_real_output() {
    let readme = std::fs::read_to_string(example().join("README.md")).expect("the example has a README");
    let mut blocks = 0;
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "```console" {
            continue;
        }
        let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        let Some(command) = block.first().and_then(|l| l.strip_prefix("$ ward ")) else {
            continue;
        };
        blocks += 1;
        let (command, stdin) = match command.split_once(" < ") {
            Some((command, file)) => (command, Some(std::fs::read(example().join(file.trim())).expect("stdin file"))),
            None => (command, None),
        };
        let args: Vec<&str> = command.split_whitespace().collect();
        let run = ward_in(&example(), &args, stdin.as_deref());
        let expected: String = block[1..].iter().map(|l| format!("{l}\n")).collect();
        assert_eq!(format!("{}{}", run.stdout, run.stderr), expected, "`ward {command}` in the example's README");
        if let Ok(decision) = serde_json::from_str::<Value>(&run.stdout) {
            let expected_status = if decision["decision"] == "allow" { 0 } else { 2 };
            assert_eq!(run.status, expected_status, "`ward {command}`");
        }
    }
    assert!(blocks >= 4, "the README shows at least four runs, found {blocks}");
}

/// Every request of the example decides as its file name says.
#[test]
fn example_requests_decide_as_named() {
    let mut count = 0;
    let mut entries: Vec<_> =
        std::fs::read_dir(example().join("requests")).expect("requests folder").flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).expect("UTF-8 name").to_owned();
        let run = eval_example(&name);
        let decision = run.json();
        let expected = if name.starts_with("allow-") { "allow" } else { "deny" };
        assert_eq!(decision["decision"], expected, "{name}: {}", run.stdout);
        assert_eq!(run.status, if expected == "allow" { 0 } else { 2 }, "{name}");
        let errors = decision["errors"].as_array().expect("errors array");
        assert_eq!(name.starts_with("malformed-"), !errors.is_empty(), "{name}: {}", run.stdout);
        count += 1;
    }
    assert!(count >= 4);
}
