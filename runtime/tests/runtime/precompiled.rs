//! Precompiled artifacts: round trip and refusal of damaged ones.

use serde_json::json;
use ward_runtime::{LoadError, Runtime};

use crate::common::{manage, module_bytes, policy, policy_bytes, policy_wat, request};

#[test]
fn a_precompiled_module_decides_like_the_original() {
    let runtime = Runtime::new().unwrap();
    let artifact = runtime.precompile(&policy_bytes()).unwrap();
    let loaded = runtime.load_precompiled(&artifact).unwrap();
    let original = policy();
    assert_eq!(loaded.manifest(), original.manifest());
    for (admin, level) in [(true, 5), (true, 11), (false, 5), (true, i64::MAX)] {
        let r = request(&manage(admin, json!(level)));
        assert_eq!(loaded.decide(&r), original.decide(&r));
    }
    // Another runtime with the same configuration loads it too.
    assert!(Runtime::new().unwrap().load_precompiled(&artifact).is_ok());
}

#[test]
fn precompiling_checks_the_module() {
    let runtime = Runtime::new().unwrap();
    assert_eq!(runtime.precompile(&module_bytes(&policy_wat(), None)).unwrap_err(), LoadError::MissingManifest);
}

fn invalid(bytes: &[u8]) -> String {
    match Runtime::new().unwrap().load_precompiled(bytes) {
        Err(LoadError::InvalidArtifact(message)) => message,
        Err(other) => panic!("expected an invalid artifact, got {other}"),
        Ok(_) => panic!("a damaged artifact loaded"),
    }
}

#[test]
fn damaged_or_foreign_artifacts_are_refused() {
    let artifact = Runtime::new().unwrap().precompile(&policy_bytes()).unwrap();
    // Every byte matters: flip one in the header, the manifest, the code, the checksum.
    for at in [9, 50, artifact.len() / 2, artifact.len() - 100, artifact.len() - 1] {
        let mut tampered = artifact.clone();
        tampered[at] ^= 0x20;
        let message = invalid(&tampered);
        assert!(message.contains("checksum") || message.contains("format"), "byte {at}: {message}");
    }
    assert!(invalid(&artifact[..artifact.len() - 1]).contains("checksum"));
    assert!(invalid(&artifact[..20]).contains("truncated") || invalid(&artifact[..20]).contains("checksum"));
    assert!(invalid(&[]).contains("header"));
    assert!(invalid(&policy_bytes()).contains("header"), "a plain module is not an artifact");
    let mut magic = artifact.clone();
    magic[1] = b'W';
    assert!(invalid(&magic).contains("header"));
}

#[test]
fn an_artifact_with_a_valid_checksum_but_another_fingerprint_is_refused() {
    let artifact = Runtime::new().unwrap().precompile(&policy_bytes()).unwrap();
    let mut forged = artifact[..artifact.len() - 32].to_vec();
    forged[12] ^= 1; // first byte of the fingerprint
    let checksum = blake3::hash(&forged);
    forged.extend_from_slice(checksum.as_bytes());
    assert!(invalid(&forged).contains("another runtime version or engine configuration"));
}

/// Loads the artifact named by `WARD_RUNTIME_TEST_ARTIFACT`; run by
/// `an_artifact_loads_in_another_process` in a child process.
#[test]
#[ignore = "run by an_artifact_loads_in_another_process"]
fn child_loads_artifact() {
    let path = std::env::var("WARD_RUNTIME_TEST_ARTIFACT").expect("artifact path");
    let artifact = std::fs::read(path).unwrap();
    let module = Runtime::new().unwrap().load_precompiled(&artifact).unwrap();
    assert!(module.decide(&request(&manage(true, json!(5)))).is_allow());
}

#[test]
fn an_artifact_loads_in_another_process() {
    let artifact = Runtime::new().unwrap().precompile(&policy_bytes()).unwrap();
    let path = std::env::temp_dir().join(format!("ward-runtime-test-{}.wardc", std::process::id()));
    std::fs::write(&path, &artifact).unwrap();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "precompiled::child_loads_artifact", "--ignored", "--test-threads=1"])
        .env("WARD_RUNTIME_TEST_ARTIFACT", &path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("1 passed"), "{stdout}");
}
