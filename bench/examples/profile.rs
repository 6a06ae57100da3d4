//! A loop over one Ward decision path, for a profiler:
//! `cargo build --release -p ward-bench --example profile`, then e.g.
//! `valgrind --tool=callgrind target/release/examples/profile ward 1000 20000`
//! or `perf record -g target/release/examples/profile ward-json 100 2000000`.
//! Arguments: path (`ward`, `ward-encoded`, `ward-json`, `ward-verdict`), rule count,
//! iterations.

use std::hint::black_box;

use ward_bench::Suite;
use ward_runtime::Runtime;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().map_or("ward", String::as_str).to_owned();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    let iterations: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let runtime = Runtime::new().map_err(|e| e.to_string())?;
    let mut suite = Suite::new(&runtime, n)?;
    let requests = suite.requests.len();
    let mut allowed = 0;
    let start = std::time::Instant::now();
    for k in 0..iterations {
        let i = k % requests;
        let allow = match path.as_str() {
            "ward-encoded" => suite.evaluator.decide_encoded(&suite.encoded[i]).is_allow(),
            "ward-json" => suite.evaluator.decide_json(&suite.json[i]).is_allow(),
            "ward-verdict" => suite.evaluator.evaluate(&suite.ward_requests[i]).is_allow(),
            _ => suite.evaluator.decide(&suite.ward_requests[i]).is_allow(),
        };
        allowed += usize::from(black_box(allow));
    }
    let per = start.elapsed().as_nanos() as f64 / iterations.max(1) as f64;
    println!("{path} N={n}: {iterations} decisions, {allowed} allowed, {per:.0} ns each");
    Ok(())
}
