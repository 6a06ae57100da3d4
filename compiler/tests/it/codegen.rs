//! Integration tests: code generation. Every module the compiler emits is
//! validated; its manifest and import section are checked.

use std::path::Path;

use ward_compiler::{codegen, compile};

/// Compiles sources and returns the module, failing on diagnostics.
pub fn build(files: Vec<(String, String)>) -> codegen::Output {
    let compilation = compile(files);
    let program = compilation.program.as_ref().unwrap_or_else(|| {
        panic!("{}", ward_compiler::diagnostics::render(&compilation.sources, &compilation.diagnostics, false))
    });
    codegen::build(program, &compilation.sources)
}

/// Checks that a module validates, imports nothing and carries a manifest.
pub fn assert_valid(wasm: &[u8]) {
    let mut validator = wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::default());
    validator.validate_all(wasm).expect("the module validates");
    let mut manifest = false;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload.expect("parses") {
            wasmparser::Payload::ImportSection(reader) => assert_eq!(reader.count(), 0, "no imports"),
            wasmparser::Payload::CustomSection(c) if c.name() == "ward.manifest" => {
                let m: ward_types::manifest::Manifest = serde_json::from_slice(c.data()).expect("manifest JSON");
                assert_eq!(m.abi_version, 2);
                manifest = true;
            }
            _ => {}
        }
    }
    assert!(manifest, "the module carries a manifest");
}

#[test]
fn corpus_and_examples_compile_to_valid_modules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut count = 0;
    for dir in ["tests/corpus/check", "tests/corpus/parse"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("folder") {
            let path = entry.expect("entry").path();
            let name = path.file_name().expect("name").to_string_lossy().into_owned();
            if !name.ends_with("-ok.ward") && dir.ends_with("check") {
                continue;
            }
            if dir.ends_with("parse") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("readable");
            let output = build(vec![(name, text)]);
            assert_valid(&output.wasm);
            count += 1;
        }
    }
    assert!(count > 0);
}
