//! Informal per-decision timings on a small compiled policy:
//! `cargo run --release -p ward-runtime --example bench`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::Instant;

use serde_json::json;
use ward_runtime::{Request, Runtime};

const POLICY: &str = include_str!("../tests/compiled/gateway.ward");

/// Nanoseconds this thread has run, where the system says (Linux), so
/// that a busy machine does not inflate the timings; wall time elsewhere.
fn cpu_nanos(wall: Instant) -> u128 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| wall.elapsed().as_nanos())
}

fn time(label: &str, iterations: u32, mut f: impl FnMut()) {
    // `BENCH_ONLY=text` runs only the timings whose label contains `text` (for profiling).
    if std::env::var("BENCH_ONLY").is_ok_and(|only| !label.contains(&only)) {
        return;
    }
    for _ in 0..iterations / 10 {
        f();
    }
    // The best of several rounds: the machine may be busy with other work.
    let origin = Instant::now();
    let (mut cpu, mut wall) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..7 {
        let (started, cpu_start) = (Instant::now(), cpu_nanos(origin));
        for _ in 0..iterations / 7 {
            f();
        }
        let rounds = f64::from(iterations / 7);
        cpu = cpu.min((cpu_nanos(origin) - cpu_start) as f64 / rounds);
        wall = wall.min(started.elapsed().as_nanos() as f64 / rounds);
    }
    println!("{label:<44} {cpu:>8.0} ns (wall {wall:.0} ns)");
}

fn main() {
    let compilation = ward_compiler::compile(vec![("gateway.ward".to_owned(), POLICY.to_owned())]);
    let program = compilation.program.expect("the policy compiles");
    let wasm = ward_compiler::codegen::build(&program, &compilation.sources).wasm;
    let runtime = Runtime::new().unwrap();
    let module = runtime.load(&wasm).unwrap();
    let mut evaluator = module.evaluator().unwrap();

    let value = json!({
        "principal": {"type": "Client", "id": "c1", "attributes": {
            "spiffe": "spiffe://prod.acme.internal/api", "score": 20, "labels": ["chat", "beta"]}},
        "action": "invoke",
        "resource": {"type": "Endpoint", "id": "e1", "attributes": {
            "path": "/v1/chat", "public": false, "methods": ["GET", "POST"]}},
        "context": {"source": "10.0.0.1", "method": "POST"}
    });
    let text = serde_json::to_vec(&value).unwrap();
    let request = Request::from_value(value).unwrap();
    let encoded = module.encode(&request).unwrap();
    let decision = evaluator.decide(&request);
    assert!(decision.is_allow(), "{decision:?}");
    println!("decision: {}", serde_json::to_string(&decision).unwrap());

    let n: u32 = std::env::var("BENCH_ITERATIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(200_000);
    time("encode (validate + encode)", n, || {
        black_box(module.encode(black_box(&request)).unwrap());
    });
    time("Evaluator::evaluate_encoded (no decision)", n, || {
        black_box(evaluator.evaluate_encoded(black_box(&encoded)).is_allow());
    });
    time("Evaluator::evaluate (parsed, no decision)", n, || {
        black_box(evaluator.evaluate(black_box(&request)).is_allow());
    });
    time("Evaluator::decide_encoded", n, || {
        black_box(evaluator.decide_encoded(black_box(&encoded)));
    });
    time("Evaluator::decide (parsed request)", n, || {
        black_box(evaluator.decide(black_box(&request)));
    });
    time("DecisionModule::decide (pool)", n, || {
        black_box(module.decide(black_box(&request)));
    });
    time("Evaluator::decide_json (parse + decide)", n / 4, || {
        black_box(evaluator.decide_json(black_box(&text)));
    });
    let artifact = runtime.precompile(&wasm).unwrap();
    let start = Instant::now();
    runtime.load(&wasm).unwrap();
    println!("{:<44} {:>8.2} ms", "load (compile)", start.elapsed().as_secs_f64() * 1e3);
    let start = Instant::now();
    runtime.load_precompiled(&artifact).unwrap();
    println!("{:<44} {:>8.2} ms", "load_precompiled", start.elapsed().as_secs_f64() * 1e3);
}
