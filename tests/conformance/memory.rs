//! A decision module allocates nothing per call: a million evaluations run
//! within the memory the module starts with.

use ward_runtime::{Limits, Runtime};
use ward_tests::compile_both;

const POLICY: &str = include_str!("../corpus/check/sketch-ok.ward");

const REQUEST: &str = r#"{
  "principal": {"type": "User", "id": "alice", "ancestors": [{"type": "Group", "id": "ml-admins"}],
    "attributes": {"clearance": "confidential", "roles": ["lead", "ml-ops"], "mfa_age": "5m", "risk": 10,
      "device": {"managed": true}}},
  "action": "infer",
  "resource": {"type": "Model", "id": "m1", "attributes": {"tier": "internal", "family": "gpt-4", "owner": "bob"}},
  "context": {"zone": "corp", "mtls": true, "risk": 5, "requests_per_minute": 20, "source_ip": "10.1.2.3",
    "now": "2026-01-31T09:30:00Z"}
}"#;

/// The module's initial memory, in bytes, from its memory section.
fn initial_memory(wasm: &[u8]) -> usize {
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::MemorySection(reader)) = payload
            && let Some(memory) = reader.into_iter().next()
        {
            return memory.expect("memory type").initial as usize * 65_536;
        }
    }
    panic!("the module has no memory")
}

#[test]
fn a_million_evaluations_stay_within_the_initial_memory() {
    let wasm = compile_both(&Runtime::new().expect("runtime"), vec![("sketch.ward".into(), POLICY.into())]).wasm;
    // Capped at the initial size: any growth would make a call fail, and a
    // failing call is a deny.
    let runtime = Runtime::with_limits(Limits::default().with_max_memory(initial_memory(&wasm))).expect("runtime");
    let module = runtime.load(&wasm).expect("loads under the cap");
    let request = ward_types::Request::from_json(REQUEST.as_bytes()).expect("request");
    let encoded = module.encode(&request).expect("conforms");
    let mut evaluator = module.evaluator().expect("evaluator");
    let first = evaluator.decide_encoded(&encoded);
    assert!(first.is_allow(), "{first:?}");
    for _ in 0..1_000_000 {
        let decision = evaluator.decide_encoded(&encoded);
        assert!(decision.is_allow() && decision.errors.is_empty(), "{decision:?}");
    }
    assert_eq!(evaluator.decide(&request), first);
}
