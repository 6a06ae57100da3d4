//! Refusing modules that do not follow the ABI.

use serde_json::{Value, json};
use ward_runtime::{Limits, LoadError, MANIFEST_SECTION, Runtime, append_custom_section, ward_abi_version};

use crate::common::{manifest, module_bytes, policy_bytes, policy_wat, wat};

fn load(bytes: &[u8]) -> Result<ward_runtime::DecisionModule, LoadError> {
    Runtime::new().unwrap().load(bytes)
}

fn refused(bytes: &[u8]) -> LoadError {
    let error = load(bytes).expect_err("refused");
    assert!(!error.to_string().is_empty());
    error
}

/// The standard exports after `ward_abi_version`.
const REST: &str = r#"
  (func (export "ward_input") (param i32) (result i32) (i32.const 4096))
  (func (export "ward_evaluate") (param i32) (result i32) (i32.const 2))
  (func (export "ward_output") (result i32) (i32.const 1024))"#;

#[test]
fn the_test_policy_loads() {
    let module = load(&policy_bytes()).unwrap();
    assert_eq!(module.manifest().rules.len(), 6);
    assert_eq!(module.manifest().abi_version, ward_abi_version());
    // A minimal module that always answers "nothing applies" loads too.
    assert!(load(&module_bytes(&wat("", 2, REST), Some(&manifest()))).is_ok());
}

#[test]
fn not_webassembly() {
    assert!(matches!(refused(b"not wasm"), LoadError::InvalidWasm(_)));
    let mut truncated = policy_bytes();
    truncated.truncate(truncated.len() / 2);
    assert!(matches!(refused(&truncated), LoadError::InvalidWasm(_) | LoadError::MissingManifest));
    // Framing intact, contents invalid: wasmtime refuses it.
    let mut garbage = b"\0asm\x01\0\0\0".to_vec();
    garbage.extend_from_slice(&[1, 3, 0xff, 0xff, 0xff]);
    append_custom_section(&mut garbage, MANIFEST_SECTION, manifest().to_string().as_bytes());
    assert!(matches!(refused(&garbage), LoadError::InvalidWasm(_)));
}

#[test]
fn validation_refuses_what_loading_refuses_short_of_compiling() {
    let runtime = Runtime::new().unwrap();
    assert_eq!(runtime.validate(&policy_bytes()), Ok(()));
    assert!(matches!(runtime.validate(b"not wasm"), Err(LoadError::InvalidWasm(_))));
    assert_eq!(runtime.validate(&module_bytes(&policy_wat(), None)), Err(LoadError::MissingManifest));
    let mut garbage = b"\0asm\x01\0\0\0".to_vec();
    garbage.extend_from_slice(&[1, 3, 0xff, 0xff, 0xff]);
    append_custom_section(&mut garbage, MANIFEST_SECTION, manifest().to_string().as_bytes());
    assert!(matches!(runtime.validate(&garbage), Err(LoadError::InvalidWasm(_))));
}

#[test]
fn imports_are_refused() {
    let text = wat(r#"(import "env" "now" (func (result i64)))"#, 2, REST);
    let error = refused(&module_bytes(&text, Some(&manifest())));
    assert_eq!(error, LoadError::HasImports { import: "env::now".to_owned() });
    assert!(error.to_string().contains("env::now"));
    let memory = r#"(import "env" "mem" (memory 1))"#;
    let text = format!(
        r#"(module {memory}
  (export "memory" (memory 0))
  (func (export "ward_abi_version") (result i32) (i32.const 2)) {REST})"#
    );
    assert!(matches!(refused(&module_bytes(&text, Some(&manifest()))), LoadError::HasImports { .. }));
}

#[test]
fn missing_and_wrong_exports_are_refused() {
    let without = |name: &str| REST.lines().filter(|l| !l.contains(name)).collect::<Vec<_>>().join("\n");
    for name in ["ward_input", "ward_evaluate", "ward_output"] {
        let error = refused(&module_bytes(&wat("", 2, &without(name)), Some(&manifest())));
        assert!(matches!(error, LoadError::MissingExport { name: n } if n == name), "{error}");
    }
    let no_memory =
        format!("(module (memory 1) (func (export \"ward_abi_version\") (result i32) (i32.const 2)) {REST})");
    assert_eq!(refused(&module_bytes(&no_memory, Some(&manifest()))), LoadError::MissingExport { name: "memory" });
    let no_version = format!("(module (memory (export \"memory\") 1) {REST})");
    assert_eq!(
        refused(&module_bytes(&no_version, Some(&manifest()))),
        LoadError::MissingExport { name: "ward_abi_version" }
    );

    let wrong =
        REST.replace("(func (export \"ward_evaluate\") (param i32)", "(func (export \"ward_evaluate\") (param i64)");
    let error = refused(&module_bytes(&wat("", 2, &wrong), Some(&manifest())));
    assert!(matches!(error, LoadError::WrongExport { name: "ward_evaluate", .. }), "{error}");
    assert!(error.to_string().contains("(i64) -> (i32)"), "{error}");
    let wrong = REST
        .replace("(func (export \"ward_output\") (result i32) (i32.const 1024))", "(func (export \"ward_output\"))");
    assert!(matches!(refused(&module_bytes(&wat("", 2, &wrong), Some(&manifest()))), LoadError::WrongExport { .. }));
    let global = format!(
        "(module (global (export \"memory\") i32 (i32.const 0)) (memory 1) (func (export \"ward_abi_version\") (result i32) (i32.const 2)) {REST})"
    );
    assert!(matches!(
        refused(&module_bytes(&global, Some(&manifest()))),
        LoadError::WrongExport { name: "memory", .. }
    ));
}

#[test]
fn the_manifest_must_be_there_once_and_valid() {
    assert_eq!(refused(&module_bytes(&policy_wat(), None)), LoadError::MissingManifest);
    let mut twice = policy_bytes();
    append_custom_section(&mut twice, MANIFEST_SECTION, manifest().to_string().as_bytes());
    assert_eq!(refused(&twice), LoadError::DuplicateManifest);
    let mut bad = module_bytes(&policy_wat(), None);
    append_custom_section(&mut bad, MANIFEST_SECTION, b"{not json");
    assert!(matches!(refused(&bad), LoadError::InvalidManifest(_)));
    let mut m = manifest();
    m.as_object_mut().unwrap().remove("rules");
    assert!(matches!(refused(&module_bytes(&policy_wat(), Some(&m))), LoadError::InvalidManifest(_)));
    // A section with a similar name is not the manifest.
    let mut other = module_bytes(&policy_wat(), None);
    append_custom_section(&mut other, "ward.manifest2", manifest().to_string().as_bytes());
    assert_eq!(refused(&other), LoadError::MissingManifest);
}

#[test]
fn abi_versions_must_be_supported_and_agree() {
    // A module of the first ABI (built by an earlier release) is refused
    // with what to do about it; so is one of a later ABI.
    let mut v1 = manifest();
    v1["abi_version"] = json!(1);
    let error = refused(&module_bytes(&wat("", 1, REST), Some(&v1)));
    assert_eq!(error, LoadError::UnsupportedAbiVersion { module: 1, supported: 2 });
    assert!(error.to_string().contains("rebuild"), "{error}");
    let mut v3 = manifest();
    v3["abi_version"] = json!(3);
    let error = refused(&module_bytes(&wat("", 3, REST), Some(&v3)));
    assert_eq!(error, LoadError::UnsupportedAbiVersion { module: 3, supported: 2 });
    assert!(error.to_string().contains("newer"), "{error}");
    // The manifest says 2, the export 3.
    let error = refused(&module_bytes(&wat("", 3, REST), Some(&manifest())));
    assert_eq!(error, LoadError::AbiVersionMismatch { manifest: 2, export: 3 });
    assert!(matches!(
        refused(&module_bytes(&wat("", 0, REST), Some(&manifest()))),
        LoadError::AbiVersionMismatch { .. }
    ));
}

/// The manifest with one change, expected to be refused as inconsistent
/// with a message containing `needle`.
fn inconsistent(change: impl FnOnce(&mut Value), needle: &str) {
    let mut m = manifest();
    change(&mut m);
    match refused(&module_bytes(&policy_wat(), Some(&m))) {
        LoadError::InconsistentManifest(message) => {
            assert!(message.contains(needle), "{message} lacks {needle}")
        }
        other => panic!("expected an inconsistent manifest ({needle}), got {other:?}"),
    }
}

#[test]
fn inconsistent_manifests_are_refused() {
    let schema = "/schema";
    let p = |m: &mut Value, pointer: &str, v: Value| *m.pointer_mut(&format!("{schema}{pointer}")).unwrap() = v;
    inconsistent(|m| p(m, "/fixed_size", json!(200)), "outside the fixed part");
    inconsistent(|m| p(m, "/context/2/offset", json!(236)), "outside the fixed part");
    inconsistent(|m| p(m, "/entity_types/0/fields/1/offset", json!(20)), "overlap");
    inconsistent(|m| p(m, "/entity_types/0/fields/1/offset", json!(36)), "overlap");
    inconsistent(|m| p(m, "/entity_types/0/fields/2/present_offset", json!(44)), "overlap");
    inconsistent(|m| p(m, "/entity_types/2/fields/6/type/size", json!(8)), "size is 8");
    inconsistent(|m| p(m, "/entity_types/2/fields/6/type/fields/1/present_offset", json!(0)), "overlap");
    inconsistent(|m| p(m, "/resource_offset", json!(40)), "overlap");
    inconsistent(|m| p(m, "/context_offset", json!(0)), "overlap");
    inconsistent(|m| p(m, "/entity_types/2/fields/2/type/enum", json!(1)), "enum 1");
    inconsistent(|m| p(m, "/entity_types/2/fields/1/type/types", json!([3])), "entity type 3");
    inconsistent(|m| p(m, "/entity_types/0/ancestor_types", json!([7])), "entity type 7");
    inconsistent(|m| p(m, "/actions/0/resources", json!([9])), "entity type 9");
    inconsistent(|m| p(m, "/actions/1/principals", json!([])), "allows no principal");
    inconsistent(|m| p(m, "/entity_types/1/name", json!("User")), "declared twice");
    inconsistent(|m| p(m, "/actions/1/name", json!("read")), "declared twice");
    inconsistent(|m| p(m, "/context/1/name", json!("mtls")), "declared twice");
    inconsistent(|m| p(m, "/enums/0/values", json!(["a", "a"])), "declared twice");
    inconsistent(|m| m["strings"] = json!(["x", "x"]), "declared twice");
    inconsistent(|m| p(m, "/context/0/type", json!({"kind": "int", "min": 5, "max": 1})), "empty integer range");
    inconsistent(|m| p(m, "/context/4/type", json!({"kind": "set", "element": {"kind": "ip"}})), "cannot order");
    inconsistent(|m| m["rules"][0]["obligations"][0]["name"] = json!("page"), "undeclared obligation");
    inconsistent(|m| m["rules"][1]["obligations"][0]["args"] = json!({"until": "15m"}), "parameters");
    inconsistent(|m| m["rules"][4]["obligations"][0]["args"] = json!({"x": 1}), "parameters");
}

#[test]
fn fields_of_different_types_may_share_a_slot() {
    let mut m = manifest();
    // Group and Doc can both be resources: Group's `tags` shares Doc's slot.
    m["schema"]["entity_types"][1]["fields"] =
        json!([{"name": "tags", "type": {"kind": "set", "element": {"kind": "string"}}, "offset": 24}]);
    let module = load(&module_bytes(&policy_wat(), Some(&m))).unwrap();
    let mut value = crate::common::manage(true, json!(5));
    value["resource"]["attributes"] = json!({"tags": ["b", "a"]});
    let encoded = module.encode(&crate::common::request(&value)).unwrap();
    assert_eq!(&encoded.as_bytes()[88..96], &[0, 1, 0, 0, 2, 0, 0, 0], "256: aligned after \"alice\" and \"admins\"");
}

#[test]
fn a_module_too_large_for_the_memory_cap_is_refused() {
    let text = wat("", 2, REST).replace("(memory (export \"memory\") 1)", "(memory (export \"memory\") 4)");
    let runtime = Runtime::with_limits(Limits::default().with_max_memory(2 << 16)).unwrap();
    let error = runtime.load(&module_bytes(&text, Some(&manifest()))).expect_err("refused");
    assert!(matches!(error, LoadError::Instantiation(_)), "{error}");
}
