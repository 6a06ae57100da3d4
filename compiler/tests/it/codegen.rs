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

/// The size of a module's code section.
fn code_size(wasm: &[u8]) -> u32 {
    wasmparser::Parser::new(0)
        .parse_all(wasm)
        .find_map(|payload| match payload.expect("parses") {
            wasmparser::Payload::CodeSectionStart { size, .. } => Some(size),
            _ => None,
        })
        .expect("a code section")
}

#[test]
fn types_the_actions_guarantee_are_not_tested_again() {
    // The host refuses a request whose principal or resource is of a type
    // the action does not apply to, so a scope naming the only types the
    // rule's actions allow needs no test of the type, and an entity literal
    // of the only type allowed is matched by its id alone.
    let module = |resources: &str| {
        let text = format!(
            "package acme.types\nentity User {{}}\nentity Model {{}}\nentity Dataset {{}}\n\
             action infer {{ principal: User, resource: {resources} }}\n\
             permit (principal: User, action == infer, resource == Model::\"m0\");\n\
             permit (principal: User, action == infer, resource: Model) when context.n > 1;\n\
             context {{ n: Int }}\n"
        );
        let output = build(vec![("types.ward".into(), text)]);
        assert_valid(&output.wasm);
        code_size(&output.wasm)
    };
    let guaranteed = module("Model");
    let tested = module("[Model, Dataset]");
    assert!(guaranteed < tested, "{guaranteed} bytes of code where the types are guaranteed, {tested} where not");
}
