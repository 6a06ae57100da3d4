//! Loads a precompiled module in a loop, for a profiler or a quick timing:
//! `cargo run --release -p ward-bench --example load -- 10000 50`
//! (rule count, iterations), or under `perf record -g`.

use std::time::Instant;

use ward_bench::{engines, workload};
use ward_runtime::Runtime;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let iterations: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(50);
    let runtime = Runtime::new().map_err(|e| e.to_string())?;
    let (_, wasm) = engines::ward_compile(workload::ward_source(&workload::rules(n)))?;
    let artifact = runtime.precompile(&wasm).map_err(|e| e.to_string())?;
    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t0 = Instant::now();
        let module = runtime.load_precompiled(&artifact).map_err(|e| e.to_string())?;
        times.push(t0.elapsed().as_secs_f64() * 1e3);
        drop(module);
    }
    times.sort_by(f64::total_cmp);
    let median = times.get(times.len() / 2).copied().unwrap_or(f64::NAN);
    println!(
        "N={n}: artifact {:.2} MiB, wasm {:.2} MiB; load_precompiled median {median:.2} ms over {iterations}",
        artifact.len() as f64 / 1048576.0,
        wasm.len() as f64 / 1048576.0
    );
    Ok(())
}
