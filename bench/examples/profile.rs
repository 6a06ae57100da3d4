//! Times Ward's decision paths alone, for profiling with `perf`:
//! `cargo run --release -p ward-bench --example profile -- N PATH SECONDS`
//! where PATH is `decide`, `verdict`, `encoded`, `built`, `json`, `json-verdict`, `encode` or `floor`
//! (the wasmtime call alone, without Ward code).

#![allow(clippy::expect_used, clippy::panic, reason = "a profiling tool: a failed set-up or an unknown path stops it")]

use std::hint::black_box;
use std::time::{Duration, Instant};

use ward_bench::engines::{self, Ward};
use ward_bench::workload::{self, Universe};
use ward_runtime::Runtime;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let path = args.get(2).map_or("decide", String::as_str).to_owned();
    // SECONDS, or `Nx` for exactly N passes over the requests (for counting
    // instructions under valgrind).
    let (seconds, passes): (f64, Option<u64>) = match args.get(3) {
        Some(a) if a.ends_with('x') => (f64::MAX, a.trim_end_matches('x').parse().ok()),
        a => (a.and_then(|a| a.parse().ok()).unwrap_or(3.0), None),
    };
    if path == "sample" {
        let universe = Universe::generate();
        for r in workload::requests(&universe).iter().take(3) {
            println!("{}", workload::request_json(&universe, r));
        }
        return;
    }
    if path == "source" {
        print!("{}", workload::ward_source(&workload::rules(n)).1);
        return;
    }
    let runtime = Runtime::new().expect("runtime");
    let universe = Universe::generate();
    let rules = workload::rules(n);
    let ward = Ward::new(&runtime, &rules).expect("ward");
    if path == "load" {
        let artifact = runtime.precompile(&ward.wasm).expect("precompile");
        let start = Instant::now();
        let mut loads = 0;
        while start.elapsed().as_secs_f64() < seconds {
            black_box(runtime.load_precompiled(&artifact).expect("load"));
            loads += 1;
        }
        println!("N={n} load: {:.2} ms per load over {loads}", start.elapsed().as_secs_f64() * 1e3 / loads as f64);
        return;
    }
    let json: Vec<Vec<u8>> = workload::requests(&universe)
        .iter()
        .map(|r| workload::request_json(&universe, r).to_string().into_bytes())
        .collect();
    let requests: Vec<_> = json.iter().map(|j| engines::ward_request(j).expect("request")).collect();
    let encoded: Vec<_> = requests.iter().map(|r| ward.module.encode(r).expect("encode")).collect();
    let handles = engines::WardHandles::new(&ward.module).expect("handles");
    let gateway: Vec<_> =
        workload::requests(&universe).iter().map(|r| engines::GatewayRequest::new(&universe, r)).collect();
    let distinct: usize = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(json.len());
    let json = &json[..distinct];
    let requests = &requests[..distinct];
    let encoded = &encoded[..distinct];
    let mut evaluator = ward.module.evaluator().expect("evaluator");
    let mut floor = ward_bench::floor::WasmFloor::new(&runtime).expect("floor");
    let deadline = Instant::now() + Duration::from_secs_f64(seconds.min(1e6));
    let mut calls = 0u64;
    let start = Instant::now();
    while Instant::now() < deadline && passes.is_none_or(|p| calls < p * requests.len() as u64) {
        for i in 0..requests.len() {
            let allowed = match path.as_str() {
                "decide" => evaluator.decide(&requests[i]).is_allow(),
                "verdict" => evaluator.evaluate(&requests[i]).is_allow(),
                "encoded" => evaluator.evaluate_encoded(&encoded[i]).is_allow(),
                "built" => engines::ward_build(&mut evaluator, &handles, &gateway[i]).is_allow(),
                "json" => evaluator.decide_json(&json[i]).is_allow(),
                "json-verdict" => evaluator.evaluate_json(&json[i]).is_allow(),
                "encode" => ward.module.encode(&requests[i]).is_ok(),
                "floor" => floor.call(encoded[i].as_bytes()).unwrap_or(false),
                other => panic!("unknown path {other}"),
            };
            black_box(allowed);
        }
        calls += requests.len() as u64;
    }
    let per = start.elapsed().as_nanos() as f64 / calls as f64;
    println!("N={n} {path}: {per:.0} ns per call over {calls} calls");
}
