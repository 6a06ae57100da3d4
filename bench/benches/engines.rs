//! The decision paths of the report under criterion, for interactive use:
//! `cargo bench -p ward-bench` (set `WARD_BENCH_NS=1,10,100` to choose the
//! rule counts; default 1, 10, 100, 1000). Each iteration decides the next
//! of the 256 benchmark requests. The engines are checked to agree first.
//! `BENCHMARKS.md` comes from the `report` binary, which also gives p99.

#![allow(clippy::expect_used, clippy::panic, reason = "benchmark set-up")]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ward_bench::Suite;
use ward_runtime::Runtime;

type Path = (&'static str, fn(&mut Suite, usize) -> bool);

const PATHS: [Path; 11] = [
    ("ward", |s, i| ward_bench::read_verdict(s.evaluator.evaluate(&s.ward_requests[i]))),
    ("ward-decision", |s, i| {
        let r = &s.ward_requests[i];
        s.evaluator.decide(r).is_allow()
    }),
    ("ward-encoded", |s, i| {
        let r = &s.encoded[i];
        s.evaluator.decide_encoded(r).is_allow()
    }),
    ("ward-json", |s, i| ward_bench::read_verdict(s.evaluator.evaluate_json(&s.json[i]))),
    ("ward-json-decision", |s, i| {
        let j = &s.json[i];
        s.evaluator.decide_json(j).is_allow()
    }),
    ("cedar", |s, i| s.cedar.decide_allow(&s.cedar_inputs[i])),
    ("cedar-json", |s, i| s.cedar.allow_json(&s.json[i])),
    ("rego-rvm", |s, i| {
        let v = &s.rego_inputs[i];
        s.rego.rvm_allow(v)
    }),
    ("rego-rvm-json", |s, i| {
        let j = &s.json[i];
        s.rego.rvm_allow_json(j)
    }),
    ("rego-interp", |s, i| {
        let v = &s.rego_inputs[i];
        s.rego.interp_allow(v)
    }),
    ("rego-interp-json", |s, i| {
        let j = &s.json[i];
        s.rego.interp_allow_json(j)
    }),
];

fn rule_counts() -> Vec<usize> {
    std::env::var("WARD_BENCH_NS")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 10, 100, 1_000])
}

fn decide(c: &mut Criterion) {
    let runtime = Runtime::new().expect("a runtime");
    for n in rule_counts() {
        let mut suite = Suite::new(&runtime, n).unwrap_or_else(|e| panic!("N = {n}: {e}"));
        let agreement = suite.check_agreement();
        assert!(
            agreement.mismatches.is_empty(),
            "N = {n}: the engines disagree: {:?}",
            &agreement.mismatches[..agreement.mismatches.len().min(5)]
        );
        let mut group = c.benchmark_group(format!("decide/N={n}"));
        if n >= 1_000 {
            group.sample_size(10);
        }
        let requests = suite.requests.len();
        for (name, path) in PATHS {
            let mut next = 0;
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter(|| {
                    let i = next % requests;
                    next += 1;
                    black_box(path(&mut suite, i))
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, decide);
criterion_main!(benches);
