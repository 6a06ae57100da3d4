//! End-to-end tests of `ward test`: the real binary on real files, its exit
//! status, its report formats and its coverage figures.
#![expect(clippy::expect_used, clippy::panic, reason = "a test fails by panicking")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn ward(dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("the `ward` binary runs");
    let run = Run {
        status: output.status.code().expect("`ward` exits, not killed by a signal"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    };
    assert!(!run.stderr.contains("panicked"), "`ward` panicked:\n{}", run.stderr);
    run
}

/// A fresh directory holding `files`.
fn project(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ward-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("a file has a parent")).expect("create dir");
        std::fs::write(path, text).expect("write file");
    }
    dir
}

const POLICY: &str = r#"package demo

level Classification = public < internal < confidential
enum Urgency { low, high }
entity User { clearance: Classification, mfa_age: Duration? }
entity Model { tier: Classification }
action infer { principal: User, resource: Model }
context { risk: Int[0..100] }
obligation alert(urgency: Urgency)

@id("P-1")
permit (principal: User, action: infer, resource: Model)
  when principal.clearance >= resource.tier;

@id("F-1") @reason("stale MFA")
forbid (principal: User, action, resource)
  unless principal has mfa_age && principal.mfa_age <= 15m;

@id("F-2") @reason("critical risk")
forbid (principal, action, resource)
  when context.risk >= 90
  obligate alert(urgency: Urgency.high);
"#;

const FIXTURES: &str = r#"package demo

fixture base = {
  principal: User::"alice" { clearance: internal, mfa_age: 2m },
  action: infer,
  resource: Model::"m" { tier: public },
  context: { risk: 1 },
};
"#;

/// Three tests: two pass, one expects the wrong thing.
const TESTS: &str = r#"package demo

test "cleared user infers" {
  request: base,
  expect: allow,
  rules: ["P-1"],
}

test "stale MFA is denied" {
  request: base with { principal.mfa_age: 1h },
  expect: deny,
  rules: ["F-1"],
}

test "risk is wrongly expected to allow" {
  request: base with { context.risk: 95 },
  expect: allow,
  obligations: [],
}
"#;

#[test]
fn every_example_passes_with_full_rule_coverage() {
    let examples = root().join("examples");
    let mut count = 0;
    for entry in std::fs::read_dir(&examples).expect("examples/ exists") {
        let dir = entry.expect("dir entry").path();
        if !dir.join("tests").is_dir() {
            continue;
        }
        count += 1;
        let run = ward(&root(), &["test", dir.to_str().expect("UTF-8 path"), "--min-coverage", "100"]);
        assert_eq!(run.status, 0, "{}:\n{}\n{}", dir.display(), run.stdout, run.stderr);
        let last = run.stdout.trim_end().lines().last().unwrap_or_default();
        assert!(last.ends_with("passed, 0 failed"), "closing line: {last}");
    }
    assert!(count >= 1, "no example has tests");
}

#[test]
fn a_failing_test_exits_nonzero_with_a_diff() {
    let dir = project("failing", &[("policy.ward", POLICY), ("fixtures.ward", FIXTURES), ("tests.ward", TESTS)]);
    let run = ward(&dir, &["test", "."]);
    assert_eq!(run.status, 1, "{}\n{}", run.stdout, run.stderr);
    let out = &run.stdout;
    assert!(out.contains("running 3 tests"), "{out}");
    assert!(out.contains("test cleared user infers ... ok"), "{out}");
    assert!(out.contains("test risk is wrongly expected to allow ... FAILED"), "{out}");
    assert!(out.contains("---- risk is wrongly expected to allow (tests.ward:15) ----"), "{out}");
    assert!(out.contains("    - expected allow\n    + actual   deny"), "{out}");
    assert!(out.contains("    - expected []\n    + actual   [alert(urgency: \"high\")]"), "{out}");
    assert!(out.trim_end().ends_with("2 passed, 1 failed"), "{out}");
}

#[test]
fn junit_report_is_read_by_a_junit_parser() {
    let dir = project("junit", &[("policy.ward", POLICY), ("fixtures.ward", FIXTURES), ("tests.ward", TESTS)]);
    let run = ward(&dir, &["test", ".", "--junit", "report.xml"]);
    assert_eq!(run.status, 1);
    let xml = std::fs::read(dir.join("report.xml")).expect("the JUnit report is written");
    let suites = junit_parser::from_reader(std::io::Cursor::new(xml)).expect("a JUnit parser reads the report");
    assert_eq!(suites.tests, 3);
    assert_eq!(suites.failures, 1);
    let suite = &suites.suites[0];
    let failed: Vec<&str> =
        suite.cases.iter().filter(|c| c.status.is_failure()).map(|c| c.original_name.as_str()).collect();
    assert_eq!(failed, ["risk is wrongly expected to allow"]);
    let failure = suite.cases.iter().find(|c| c.status.is_failure()).expect("one failure");
    let text = failure.status.failure_as_ref().text.clone();
    assert!(text.contains("- expected allow"), "{text}");
}

#[test]
fn json_report_and_coverage_numbers() {
    let passing =
        TESTS.replace("expect: allow,\n  obligations: [],", "expect: deny,\n  obligations: [alert(urgency: high)],");
    let dir = project("json", &[("policy.ward", POLICY), ("fixtures.ward", FIXTURES), ("tests.ward", &passing)]);
    let run = ward(&dir, &["test", ".", "--format", "json"]);
    assert_eq!(run.status, 0, "{}\n{}", run.stdout, run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).expect("the report is JSON");
    assert_eq!(report["passed"], 3);
    assert_eq!(report["failed"], 0);
    assert_eq!(report["coverage"]["covered"], 3);
    assert_eq!(report["coverage"]["total"], 3);
    assert_eq!(report["tests"][2]["decision"]["obligations"][0]["name"], "alert");

    // Without the risk test, F-2 decides nothing: 2 of 3 rules covered.
    let run = ward(&dir, &["test", ".", "--filter", "MFA", "--format", "json"]);
    let report: Value = serde_json::from_str(&run.stdout).expect("the report is JSON");
    assert_eq!(report["passed"], 1);
    assert_eq!(report["filtered_out"], 2);
    assert_eq!(report["coverage"]["covered"], 1);
    let run = ward(&dir, &["test", ".", "--filter", "e", "--coverage"]);
    assert_eq!(run.status, 0);
    assert!(run.stdout.contains("coverage: 3 of 3 rules decided by a test (100.0%)"), "{}", run.stdout);
    assert!(run.stdout.contains("  F-2     1 test  policy.ward:19"), "{}", run.stdout);

    let dir = project(
        "coverage",
        &[("policy.ward", POLICY), ("fixtures.ward", FIXTURES), ("tests.ward", &passing.replace("risk is", "x"))],
    );
    let run = ward(&dir, &["test", ".", "--filter", "MFA", "--coverage", "--min-coverage", "34"]);
    assert_eq!(run.status, 1, "{}", run.stdout);
    assert!(run.stdout.contains("coverage: 1 of 3 rules decided by a test (33.3%)"), "{}", run.stdout);
    assert!(run.stdout.contains("not decided by any test: P-1, F-2"), "{}", run.stdout);
    assert!(run.stderr.contains("rule coverage 33.3% is below the required 34%"), "{}", run.stderr);
    let run = ward(&dir, &["test", ".", "--filter", "MFA", "--min-coverage", "33"]);
    assert_eq!(run.status, 0, "{}\n{}", run.stdout, run.stderr);
}

#[test]
fn a_test_naming_an_unknown_rule_does_not_compile() {
    let tests = TESTS.replace("[\"F-1\"]", "[\"F-9\"]");
    let dir = project("unknown-rule", &[("policy.ward", POLICY), ("fixtures.ward", FIXTURES), ("tests.ward", &tests)]);
    let run = ward(&dir, &["test", "."]);
    assert_eq!(run.status, 1);
    assert!(run.stderr.contains("E0304"), "{}", run.stderr);
    assert!(run.stderr.contains("no rule has the id `F-9`"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "no test runs: {}", run.stdout);
}

#[test]
fn tests_do_not_change_the_built_module() {
    let dir = project("build", &[("policy.ward", POLICY), ("fixtures.ward", FIXTURES), ("tests.ward", TESTS)]);
    let alone = ward(&dir, &["build", "policy.ward", "-o", "alone.wasm"]);
    assert_eq!(alone.status, 0, "{}", alone.stderr);
    let with_tests = ward(&dir, &["build", "policy.ward", "fixtures.ward", "tests.ward", "-o", "with.wasm"]);
    assert_eq!(with_tests.status, 0, "{}", with_tests.stderr);
    // Everything but the manifest's hash of the source files is the same.
    let read = |name: &str| {
        let mut bytes = std::fs::read(dir.join(name)).expect("module written");
        let key = b"\"source_hash\":\"";
        let at = bytes.windows(key.len()).position(|w| w == key).expect("the manifest has a source hash");
        bytes[at + key.len()..at + key.len() + 64].fill(b'0');
        bytes
    };
    let (a, b) = (read("alone.wasm"), read("with.wasm"));
    assert!(a == b, "tests and fixtures change nothing in the module's code or manifest");
}

#[test]
fn init_scaffolds_a_project_that_checks_and_passes_its_tests() {
    let parent = project("init", &[]);
    std::fs::create_dir_all(&parent).expect("create dir");
    let run = ward(&parent, &["init", "acme-gateway"]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stdout.contains("package `acme_gateway`"), "{}", run.stdout);
    let dir = parent.join("acme-gateway");
    for file in ["policy/schema.ward", "policy/rules.ward", "tests/rules.ward", "README.md", "ci.sh"] {
        assert!(dir.join(file).is_file(), "{file} is created");
    }
    let check = ward(&dir, &["check", "."]);
    assert_eq!(check.status, 0, "{}", check.stderr);
    assert!(check.stderr.contains("0 errors, 0 warnings"), "{}", check.stderr);
    let test = ward(&dir, &["test", ".", "--min-coverage", "100"]);
    assert_eq!(test.status, 0, "{}\n{}", test.stdout, test.stderr);
    assert!(test.stdout.trim_end().ends_with("5 passed, 0 failed"), "{}", test.stdout);
    let ci = std::fs::read_to_string(dir.join("ci.sh")).expect("ci.sh");
    for command in ["check .", "fmt --check .", "test . --min-coverage 100"] {
        assert!(ci.contains(command), "ci.sh runs `ward {command}`");
    }

    let again = ward(&parent, &["init", "acme-gateway"]);
    assert_eq!(again.status, 1);
    assert!(again.stderr.contains("already exists and is not empty"), "{}", again.stderr);
}

#[test]
fn the_committed_stdlib_reference_is_up_to_date() {
    let out = project("doc", &[]);
    let run = ward(&root(), &["doc", "--stdlib", "-o", out.to_str().expect("UTF-8 path")]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let committed = root().join("stdlib/reference");
    let mut pages = 0;
    for entry in std::fs::read_dir(&out).expect("pages written") {
        let path = entry.expect("dir entry").path();
        let name = path.file_name().expect("a file name").to_owned();
        let fresh = std::fs::read_to_string(&path).expect("page");
        let kept = std::fs::read_to_string(committed.join(&name)).unwrap_or_default();
        assert!(
            fresh == kept,
            "stdlib/reference/{} is stale: run `ward doc --stdlib -o stdlib/reference`",
            name.to_string_lossy()
        );
        pages += 1;
    }
    assert_eq!(pages, std::fs::read_dir(&committed).expect("stdlib/reference").count(), "no stale extra pages");
    assert!(pages >= 9, "one page per stdlib package");
}
