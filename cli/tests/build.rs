//! End-to-end tests of `ward build` and `ward eval MODULE`, with the real binary.

#![allow(clippy::expect_used, clippy::unwrap_used, reason = "tests")]

use std::path::{Path, PathBuf};
use std::process::Command;

fn ward() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ward"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ward-build-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn build_then_eval_agrees_with_the_interpreter_on_every_example_request() {
    let out = temp("examples");
    let policy = root().join("examples/model-gateway/policy");
    let wasm = out.join("gateway.wasm");
    let cwasm = out.join("gateway.cwasm");
    let built =
        ward().arg("build").arg(&policy).arg("-o").arg(&wasm).arg("--precompiled").arg(&cwasm).output().expect("runs");
    assert_eq!(built.status.code(), Some(0), "{}", String::from_utf8_lossy(&built.stderr));
    assert!(String::from_utf8_lossy(&built.stderr).contains("rules"));
    let bytes = std::fs::read(&wasm).expect("module written");
    assert!(bytes.starts_with(b"\0asm"));
    let mut requests: Vec<PathBuf> = std::fs::read_dir(root().join("examples/model-gateway/requests"))
        .expect("requests")
        .map(|e| e.expect("entry").path())
        .collect();
    requests.sort();
    assert!(requests.len() >= 4);
    for request in requests {
        let run = |engine: &mut Command| {
            let output = engine.arg("--request").arg(&request).output().expect("runs");
            let decision: serde_json::Value = serde_json::from_slice(&output.stdout).expect("decision JSON");
            (output.status.code(), decision)
        };
        let interpreted = run(ward().arg("eval").arg("--policy").arg(&policy));
        let compiled = run(ward().arg("eval").arg(&wasm));
        let precompiled = run(ward().arg("eval").arg(&cwasm));
        for (code, decision) in [&compiled, &precompiled] {
            assert_eq!(*code, interpreted.0, "exit status for {}", request.display());
            for field in ["decision", "rules", "reasons", "obligations"] {
                assert_eq!(decision[field], interpreted.1[field], "{field} for {}", request.display());
            }
            let kinds = |d: &serde_json::Value| -> Vec<(serde_json::Value, serde_json::Value)> {
                d["errors"].as_array().expect("errors").iter().map(|e| (e["kind"].clone(), e["path"].clone())).collect()
            };
            assert_eq!(kinds(decision), kinds(&interpreted.1), "errors for {}", request.display());
        }
    }
}

#[test]
fn build_reports_policy_errors_and_writes_nothing() {
    let out = temp("errors");
    let policy = out.join("bad.ward");
    std::fs::write(&policy, "package bad\nentity U {}\naction a { principal: U, resource: U }\n@id(\"B-1\") permit (principal, action, resource) when 1;\n").expect("write");
    let wasm = out.join("bad.wasm");
    let built = ward().arg("build").arg(&policy).arg("-o").arg(&wasm).env("NO_COLOR", "1").output().expect("runs");
    assert_eq!(built.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&built.stderr).contains("E0201"));
    assert!(!wasm.exists());
}

#[test]
fn eval_refuses_a_file_that_is_not_a_module() {
    let out = temp("not-a-module");
    let bogus = out.join("bogus.wasm");
    std::fs::write(&bogus, b"\0asm\x01\0\0\0garbage").expect("write");
    let run = ward().arg("eval").arg(&bogus).arg("--request").arg("-").output().expect("runs");
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("cannot load module"));
    let missing = ward().arg("eval").arg(out.join("missing.wasm")).arg("--request").arg("-").output().expect("runs");
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn eval_needs_a_module_or_a_policy() {
    let run = ward().arg("eval").arg("--request").arg("-").output().expect("runs");
    assert_eq!(run.status.code(), Some(1));
}

#[test]
fn build_writes_no_module_that_the_runtime_would_refuse() {
    // 256 functions of 200 parameters, each calling the next: within the
    // checker's limits, but inlined into one function of 51,200 locals,
    // beyond WebAssembly's 50,000.
    let out = temp("refused");
    let params: Vec<String> = (0..200).map(|i| format!("p{i}: Int")).collect();
    let args: Vec<String> = (0..200).map(|i| format!("p{i}")).collect();
    let mut source = format!(
        "package wide\nentity U {{ a: Int }}\naction go {{ principal: U, resource: U }}\n\
         def f0({}) -> Int = p0 + 1;\n",
        params.join(", ")
    );
    for k in 1..256 {
        source.push_str(&format!("def f{k}({}) -> Int = f{}({}) + 1;\n", params.join(", "), k - 1, args.join(", ")));
    }
    source.push_str(&format!(
        "@id(\"W-1\") permit (principal, action: go, resource) when f255({}) > 5;\n",
        vec!["principal.a"; 200].join(", ")
    ));
    let policy = out.join("wide.ward");
    std::fs::write(&policy, source).expect("write");
    let wasm = out.join("wide.wasm");
    let built = ward().arg("build").arg(&policy).arg("-o").arg(&wasm).env("NO_COLOR", "1").output().expect("runs");
    let stderr = String::from_utf8_lossy(&built.stderr);
    assert_eq!(built.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the runtime would refuse") && stderr.contains("too many locals"), "{stderr}");
    assert!(!wasm.exists());
}
