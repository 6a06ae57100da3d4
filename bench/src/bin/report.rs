//! Measures Ward, Cedar and regorus on the gateway workload and writes
//! `BENCHMARKS.md` and the latency plot.
//!
//! ```text
//! cargo run --release -p ward-bench --bin report            # full: N = 1 … 10,000
//! cargo run --release -p ward-bench --bin report -- --quick # N = 1, 10, 100, short budgets, stdout only
//! ```
//! Options: `--ns 1,10,100` (rule counts), `--rounds R`, `--out FILE`
//! (markdown; `-` for stdout), `--svg FILE`, `--json FILE`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;
use ward_bench::engines;
use ward_bench::harness::{self, Budget, Case, Once, Stats, fmt_bytes, fmt_ns};
use ward_bench::{Agreement, Suite, workload};
use ward_runtime::Runtime;

/// The decision paths timed, in table order.
const PATHS: [(&str, &str, Case<Suite>); 13] = [
    (
        "ward",
        "Ward: `Evaluator::evaluate(&Request)` (encode + call + reading the verdict: outcome and determining rule ids)",
        |s, i| ward_bench::read_verdict(s.evaluator.evaluate(&s.ward_requests[i])),
    ),
    ("ward-decision", "Ward: `Evaluator::decide(&Request)` (encode + call + an owned `Decision`)", |s, i| {
        let r = &s.ward_requests[i];
        s.evaluator.decide(r).is_allow()
    }),
    ("ward-encoded", "Ward: `Evaluator::decide_encoded` (request validated and encoded beforehand)", |s, i| {
        let r = &s.encoded[i];
        s.evaluator.decide_encoded(r).is_allow()
    }),
    (
        "ward-built",
        "Ward: `Evaluator::request()` + setters through handles resolved at start-up + `evaluate()` (the request built from a gateway's own types; validation, call and reading the verdict included)",
        |s, i| ward_bench::read_verdict(ward_bench::engines::ward_build(&mut s.evaluator, &s.handles, &s.gateway[i])),
    ),
    (
        "wasm-floor",
        "Floor: one wasmtime call in the engine of Ward's runtime (fuel metered), copying the encoded request into linear memory and testing two of its words (no Ward code)",
        |s, i| s.floor.call(s.encoded[i].as_bytes()).unwrap_or(false),
    ),
    ("cedar", "Cedar: `Authorizer::is_authorized(&Request, &PolicySet, &Entities)`", |s, i| {
        s.cedar.decide_allow(&s.cedar_inputs[i])
    }),
    ("rego-rvm", "regorus RVM: `set_input(value.clone())` + `execute()`", |s, i| {
        let v = &s.rego_inputs[i];
        s.rego.rvm_allow(v)
    }),
    ("rego-interp", "regorus interpreter: `set_input(value.clone())` + `eval_rule(\"data.ward.allow\")`", |s, i| {
        let v = &s.rego_inputs[i];
        s.rego.interp_allow(v)
    }),
    (
        "ward-json",
        "Ward: `Evaluator::evaluate_json(bytes)` (one pass from the text: parse + validate + encode; call + reading the verdict)",
        |s, i| ward_bench::read_verdict(s.evaluator.evaluate_json(&s.json[i])),
    ),
    ("ward-json-decision", "Ward: `Evaluator::decide_json(bytes)` (the same, building an owned `Decision`)", |s, i| {
        let j = &s.json[i];
        s.evaluator.decide_json(j).is_allow()
    }),
    (
        "cedar-json",
        "Cedar: parse the document, build 2 `Entity`s, `Entities`, `Context`, `Request`, `is_authorized`",
        |s, i| s.cedar.allow_json(&s.json[i]),
    ),
    ("rego-rvm-json", "regorus RVM: `Value::from_json_str` + `set_input` + `execute()`", |s, i| {
        let j = &s.json[i];
        s.rego.rvm_allow_json(j)
    }),
    ("rego-interp-json", "regorus interpreter: `Value::from_json_str` + `set_input` + `eval_rule`", |s, i| {
        let j = &s.json[i];
        s.rego.interp_allow_json(j)
    }),
];

fn path_index(key: &str) -> usize {
    PATHS.iter().position(|(k, _, _)| *k == key).unwrap_or(0)
}

/// One-shot figures for one rule count.
#[derive(Debug, Default)]
struct Setup {
    ward_compile: Once,
    ward_source_bytes: usize,
    cedar_parse_validate: Once,
    cedar_text_bytes: usize,
    rego_parse: Once,
    rego_compile: Once,
    rego_text_bytes: usize,
    load_wasm: Once,
    load_precompiled: Once,
    wasm_bytes: usize,
    precompiled_bytes: usize,
    memory_pages: u64,
    rss_per_evaluator: f64,
}

struct Row {
    n: usize,
    setup: Setup,
    stats: Vec<Stats>,
    agreement: Agreement,
    rvm_error: Option<String>,
}

struct Options {
    ns: Vec<usize>,
    budget: Budget,
    out: Option<PathBuf>,
    svg: Option<PathBuf>,
    json: Option<PathBuf>,
    quick: bool,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

fn options() -> Result<Options, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let mut o = Options {
        ns: if quick { vec![1, 10, 100] } else { vec![1, 10, 100, 1_000, 10_000] },
        budget: if quick {
            Budget {
                rounds: 2,
                warmup: Duration::from_millis(20),
                single: Duration::from_millis(60),
                batched: Duration::from_millis(30),
                batch: 32,
                min_calls: 20,
            }
        } else {
            Budget {
                rounds: 5,
                warmup: Duration::from_millis(100),
                single: Duration::from_millis(300),
                batched: Duration::from_millis(150),
                batch: 32,
                min_calls: 30,
            }
        },
        out: (!quick).then(|| root().join("BENCHMARKS.md")),
        svg: (!quick).then(|| root().join("bench/latency.svg")),
        json: (!quick).then(|| root().join("bench/results.json")),
        quick,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--quick" => {}
            "--ns" => {
                o.ns = value()?
                    .split(',')
                    .map(|n| n.trim().parse().map_err(|e| format!("--ns: {e}")))
                    .collect::<Result<_, _>>()?
            }
            "--rounds" => o.budget.rounds = value()?.parse().map_err(|e| format!("--rounds: {e}"))?,
            "--out" => o.out = Some(PathBuf::from(value()?)),
            "--svg" => o.svg = Some(PathBuf::from(value()?)),
            "--json" => o.json = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
}

fn rss_bytes() -> f64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(f64::NAN, |pages| pages * 4096.0)
}

/// The module's initial linear memory, in 64 KiB pages.
fn memory_pages(wasm: &[u8]) -> u64 {
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::MemorySection(reader)) = payload
            && let Some(memory) = reader.into_iter().flatten().next()
        {
            return memory.initial;
        }
    }
    0
}

fn setup_figures(runtime: &Runtime, suite: &Suite, quick: bool) -> Result<Setup, String> {
    let (min_runs, max_runs, max_total) = if quick {
        (1, 3, Duration::from_millis(300))
    } else if suite.n >= 10_000 {
        (3, 5, Duration::from_secs(8))
    } else {
        (5, 15, Duration::from_secs(3))
    };
    let mut s = Setup::default();
    let source = workload::ward_source(&suite.rules);
    s.ward_source_bytes = source.1.len();
    s.ward_compile = harness::once(min_runs, max_runs, max_total, || {
        engines::ward_compile(source.clone()).map(|(_, wasm)| wasm.len())
    });
    let schema = engines::cedar_schema()?;
    let cedar_text = engines::cedar_text(&suite.rules);
    s.cedar_text_bytes = cedar_text.len();
    s.cedar_parse_validate =
        harness::once(min_runs, max_runs, max_total, || engines::cedar_parse_validate(&cedar_text, &schema).is_ok());
    let rego_text = workload::rego_policy(&suite.rules);
    s.rego_text_bytes = rego_text.len();
    s.rego_parse = harness::once(min_runs, max_runs, max_total, || engines::rego_parse(&rego_text).is_ok());
    s.rego_compile = harness::once(min_runs, max_runs, max_total, || {
        engines::rego_parse(&rego_text).and_then(|mut e| engines::rego_rvm_program(&mut e)).is_ok()
    });
    let wasm = &suite.ward.wasm;
    s.wasm_bytes = wasm.len();
    s.memory_pages = memory_pages(wasm);
    s.load_wasm = harness::once(min_runs, max_runs, max_total, || runtime.load(wasm).is_ok());
    let artifact = runtime.precompile(wasm).map_err(|e| format!("precompile: {e}"))?;
    s.precompiled_bytes = artifact.len();
    s.load_precompiled =
        harness::once(min_runs.max(5), max_runs.max(20), max_total, || runtime.load_precompiled(&artifact).is_ok());
    // Memory: resident growth over many evaluators, each of which has
    // decided one request (its instance exists and has run).
    let count = if quick { 20 } else { 200 };
    let before = rss_bytes();
    let mut evaluators = Vec::with_capacity(count);
    for k in 0..count {
        let mut e = suite.module().evaluator().map_err(|e| format!("evaluator: {e}"))?;
        e.decide(&suite.ward_requests[k % suite.ward_requests.len()]);
        evaluators.push(e);
    }
    let after = rss_bytes();
    s.rss_per_evaluator = (after - before) / count as f64;
    drop(evaluators);
    Ok(s)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn command_output(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Versions of the packages that matter, from the lock file.
fn locked_version(name: &str) -> String {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).unwrap_or_default();
    let needle = format!("name = \"{name}\"\nversion = \"");
    lock.find(&needle)
        .and_then(|at| {
            let rest = &lock[at + needle.len()..];
            rest.find('"').map(|end| rest[..end].to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Groups the digits of a whole number in threes: `18435` is `18,435`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A factor for a table: one decimal below 10 (`3.9`), a whole number with
/// grouped digits above (`1,694`).
fn factor(f: f64) -> String {
    if f < 9.95 { format!("{f:.1}") } else { thousands(f.round() as u64) }
}

/// Ward's median `a` over a peer's `b`, as a fraction and a factor:
/// `1/1,694 (1,694× faster)`, or `1.3 (1.3× slower)`.
fn ratio(a: f64, b: f64) -> String {
    let r = a / b;
    if !r.is_finite() || r <= 0.0 {
        "—".to_owned()
    } else if r < 1.0 {
        let f = factor(1.0 / r);
        format!("1/{f} ({f}× faster)")
    } else {
        let f = factor(r);
        format!("{f} ({f}× slower)")
    }
}

/// Checks that every engine and path agrees with the reference on every
/// request; nothing is timed otherwise.
fn suite_agreement(n: usize, suite: &mut Suite) -> Result<Agreement, String> {
    let agreement = suite.check_agreement();
    if agreement.mismatches.is_empty() {
        return Ok(agreement);
    }
    for m in agreement.mismatches.iter().take(20) {
        eprintln!("{m}");
    }
    Err(format!("N = {n}: the engines disagree on {} decisions; nothing is timed", agreement.mismatches.len()))
}

fn main() {
    if let Err(e) = run() {
        eprintln!("report: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let o = options()?;
    let started = Instant::now();
    let load_start = loadavg();
    let runtime = Runtime::new().map_err(|e| e.to_string())?;
    let overhead = harness::clock_overhead();
    eprintln!("clock overhead per timed call: {overhead:.1} ns");
    // Every engine is built and checked, and its one-shot figures taken,
    // for every rule count first; then the latency rounds go over every rule
    // count in turn, so that a slow phase of the machine spreads over all of
    // them instead of falling on one.
    let mut prepared = Vec::new();
    for &n in &o.ns {
        eprintln!("N = {n}: building the engines");
        let mut suite = Suite::new(&runtime, n)?;
        let agreement = suite_agreement(n, &mut suite)?;
        eprintln!(
            "N = {n}: all {} paths agree on {} requests ({} allow, {} deny); compile and load times",
            agreement.paths.len(),
            agreement.requests,
            agreement.allow,
            agreement.deny
        );
        let setup = setup_figures(&runtime, &suite, o.quick)?;
        if let Some(e) = &suite.rego.vm_error {
            eprintln!("N = {n}: no regorus RVM: {e}");
        }
        // The RVM cannot compile every policy: its paths are then left out.
        let keep: Vec<bool> =
            PATHS.iter().map(|(k, _, _)| !(suite.rego.vm.is_none() && k.starts_with("rego-rvm"))).collect();
        let cases: Vec<Case<Suite>> = PATHS.iter().zip(&keep).filter(|(_, k)| **k).map(|((_, _, c), _)| *c).collect();
        let rounds = harness::Rounds::new(cases.len());
        prepared.push((suite, agreement, setup, keep, cases, rounds));
    }
    for round in 0..o.budget.rounds {
        for (suite, _, _, _, cases, rounds) in &mut prepared {
            eprintln!("N = {}: decision latency, round {} of {}", suite.n, round + 1, o.budget.rounds);
            let requests = suite.requests.len();
            rounds.round(suite, cases, requests, &o.budget);
        }
    }
    let mut rows = Vec::new();
    for (suite, agreement, setup, keep, _, rounds) in prepared {
        let mut measured = rounds.finish().into_iter();
        let stats: Vec<Stats> = keep
            .iter()
            .map(|k| {
                if *k {
                    measured.next().unwrap_or_default()
                } else {
                    Stats { median: f64::NAN, p99: f64::NAN, mean: f64::NAN, amortized: f64::NAN, ..Stats::default() }
                }
            })
            .collect();
        eprintln!("N = {}:", suite.n);
        for ((key, _, _), st) in PATHS.iter().zip(&stats) {
            eprintln!(
                "  {key:18} p50 {:>10}  p99 {:>10}  amortized {:>10}",
                fmt_ns(st.median),
                fmt_ns(st.p99),
                fmt_ns(st.amortized)
            );
        }
        let rvm_error = suite.rego.vm_error.clone();
        rows.push(Row { n: suite.n, setup, stats, agreement, rvm_error });
    }
    let load_end = loadavg();
    let elapsed = started.elapsed();
    let meta = Meta { overhead, load_start, load_end, elapsed, budget: o.budget, quick: o.quick };
    let markdown = render(&rows, &meta);
    match &o.out {
        Some(p) if p.as_os_str() != "-" => {
            let markdown = markdown + &preserved_section(p);
            std::fs::write(p, &markdown).map_err(|e| format!("{}: {e}", p.display()))?;
            eprintln!("wrote {}", p.display());
        }
        _ => print!("{markdown}"),
    }
    if let Some(p) = &o.svg {
        plot(&rows, p)?;
        eprintln!("wrote {}", p.display());
    }
    if let Some(p) = &o.json {
        let value = results_json(&rows, &meta);
        let text = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
        std::fs::write(p, text + "\n").map_err(|e| format!("{}: {e}", p.display()))?;
        eprintln!("wrote {}", p.display());
    }
    Ok(())
}

struct Meta {
    overhead: f64,
    load_start: String,
    load_end: String,
    elapsed: Duration,
    budget: Budget,
    quick: bool,
}

fn stat<'a>(row: &'a Row, key: &str) -> &'a Stats {
    &row.stats[path_index(key)]
}

fn results_json(rows: &[Row], meta: &Meta) -> serde_json::Value {
    json!({
        "clock_overhead_ns": meta.overhead,
        "rows": rows.iter().map(|row| json!({
            "n": row.n,
            "agreement": {"requests": row.agreement.requests, "allow": row.agreement.allow, "deny": row.agreement.deny, "mismatches": row.agreement.mismatches.len()},
            "latency": PATHS.iter().zip(&row.stats).map(|((key, _, _), s)| (key.to_string(), json!({
                "median_ns": s.median, "p99_ns": s.p99, "mean_ns": s.mean, "amortized_ns": s.amortized,
                "round_medians_ns": s.round_medians, "samples": s.samples,
            }))).collect::<serde_json::Map<_, _>>(),
            "setup": {
                "ward_compile_ns": row.setup.ward_compile.median,
                "cedar_parse_validate_ns": row.setup.cedar_parse_validate.median,
                "rego_parse_ns": row.setup.rego_parse.median,
                "rego_parse_compile_rvm_ns": row.setup.rego_compile.median,
                "ward_load_wasm_ns": row.setup.load_wasm.median,
                "ward_load_precompiled_ns": row.setup.load_precompiled.median,
                "wasm_bytes": row.setup.wasm_bytes,
                "precompiled_bytes": row.setup.precompiled_bytes,
                "memory_pages": row.setup.memory_pages,
                "rss_per_evaluator_bytes": row.setup.rss_per_evaluator,
            },
        })).collect::<Vec<_>>(),
    })
}

fn render(rows: &[Row], meta: &Meta) -> String {
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(
        w,
        "# Benchmarks: Ward vs Cedar vs regorus (Rego)\n\n\
         <!-- Generated by `bench/src/bin/report.rs`; do not edit by hand. -->\n\n\
         One workload — a zero-trust AI gateway — on three engines in one process, with \
         equivalent policies generated for each at every rule count N. Every figure below \
         comes from one run of the committed benchmark; on a shared machine absolute times \
         drift, so compare engines through the **ratios**, measured in the same run with \
         rounds interleaved across engines and rule counts (every engine and N gets one round before any gets the next).\n\n\
         Reproduce (from the repository root):\n\n\
         ```sh\ncargo run --release -p ward-bench --bin report\n```\n\n\
         It rewrites this file, `bench/latency.svg` and `bench/results.json`. \
         `cargo test -p ward-bench` runs the quick agreement check (N = 1, 10, 100, no timing); \
         `cargo run --release -p ward-bench --bin report -- --quick` prints a short timed run; \
         `cargo bench -p ward-bench` runs the same decision paths under criterion.\n"
    );
    if meta.quick {
        let _ = writeln!(w, "**Quick mode: short budgets, indicative only.**\n");
    }
    // Machine.
    let _ = writeln!(w, "## Machine and versions\n\n| item | value |\n| --- | --- |");
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let _ = writeln!(w, "| nproc | {nproc} |");
    let _ = writeln!(w, "| CPU model | {} |", cpu_model());
    let _ = writeln!(w, "| load average (1/5/15 min) at start / end | {} / {} |", meta.load_start, meta.load_end);
    let _ = writeln!(w, "| rustc | {} |", command_output("rustc", &["--version"]));
    for name in ["cedar-policy", "regorus", "wasmtime"] {
        let _ = writeln!(w, "| {name} | {} |", locked_version(name));
    }
    let _ = writeln!(
        w,
        "| build | release profile of the workspace (opt-level 3, no LTO) |\n\
         | run time | {:.0} s |\n\
         | clock overhead per timed call (median of `Instant::now()` pairs) | {:.0} ns |\n\
         | rounds | {} per measurement, interleaved across engines and rule counts; per round: warm-up {} ms, single calls {} ms (at least {}), batches of {} calls {} ms |\n",
        meta.elapsed.as_secs_f64(),
        meta.overhead,
        meta.budget.rounds,
        meta.budget.warmup.as_millis(),
        meta.budget.single.as_millis(),
        meta.budget.min_calls,
        meta.budget.batch,
        meta.budget.batched.as_millis(),
    );

    // Headline.
    let _ = writeln!(
        w,
        "## Headline: time per decision, median (p99)\n\n\
         Inputs already in each engine's native form (Ward: a parsed `Request`; the \
         encoding into the module's memory, the call and reading the answer included: \
         the outcome and the determining rules' ids, borrowed from the module, as a \
         gateway's hot path reads them). Beside it, Ward building an owned `Decision` \
         (rule ids, reasons and obligations copied out), Ward deciding a request \
         encoded beforehand, and Ward building the request from a gateway's own types through \
         a `RequestBuilder` (names resolved to handles at start-up; every value validated as \
         it is set). Ratios are Ward's median over the peer's, written as a fraction: 1/40 means Ward takes a fortieth of the peer's time (40× faster).\n\n\
         ![decision latency vs number of rules](bench/latency.svg)\n\n\
         | N | Ward | Ward, owned `Decision` | Ward, pre-encoded | Ward, `RequestBuilder` | Cedar | regorus RVM | regorus interpreter | Ward / Cedar | Ward / regorus RVM | Ward / regorus interpreter |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for row in rows {
        let ward = stat(row, "ward");
        let cell = |s: &Stats| format!("{} ({})", fmt_ns(s.median), fmt_ns(s.p99));
        let _ = writeln!(
            w,
            "| {} | **{}** | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.n,
            cell(ward),
            cell(stat(row, "ward-decision")),
            cell(stat(row, "ward-encoded")),
            cell(stat(row, "ward-built")),
            cell(stat(row, "cedar")),
            cell(stat(row, "rego-rvm")),
            cell(stat(row, "rego-interp")),
            ratio(ward.median, stat(row, "cedar").median),
            ratio(ward.median, stat(row, "rego-rvm").median),
            ratio(ward.median, stat(row, "rego-interp").median),
        );
    }
    let _ = writeln!(
        w,
        "\n### Where Ward's time goes, median\n\n\
         The floor is one wasmtime call on this machine, in the engine of Ward's runtime (fuel \
         metered), that copies the same encoded request into linear memory and tests two \
         of its words: what any WebAssembly decision module pays, measured in the same rounds. \
         Above it, a pre-encoded decision adds the module's rules and reading the answer; a \
         parsed request adds validating and encoding it.\n\n\
         | N | floor | pre-encoded | above the floor | parsed `Request` | encoding (parsed − pre-encoded) |\n\
         | --- | --- | --- | --- | --- | --- |"
    );
    for row in rows {
        let floor = stat(row, "wasm-floor").median;
        let encoded = stat(row, "ward-encoded").median;
        let parsed = stat(row, "ward").median;
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} |",
            row.n,
            fmt_ns(floor),
            fmt_ns(encoded),
            fmt_ns(encoded - floor),
            fmt_ns(parsed),
            fmt_ns(parsed - encoded),
        );
    }
    let _ = writeln!(
        w,
        "\n### End to end from the request's JSON text, median (p99)\n\n\
         The same document (a Ward request, 256 of them) for every engine.\n\n\
         | N | Ward | Ward, owned `Decision` | Cedar | regorus RVM | regorus interpreter | Ward / Cedar | Ward / regorus RVM | Ward / regorus interpreter |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for row in rows {
        let ward = stat(row, "ward-json");
        let cell = |s: &Stats| format!("{} ({})", fmt_ns(s.median), fmt_ns(s.p99));
        let _ = writeln!(
            w,
            "| {} | **{}** | {} | {} | {} | {} | {} | {} | {} |",
            row.n,
            cell(ward),
            cell(stat(row, "ward-json-decision")),
            cell(stat(row, "cedar-json")),
            cell(stat(row, "rego-rvm-json")),
            cell(stat(row, "rego-interp-json")),
            ratio(ward.median, stat(row, "cedar-json").median),
            ratio(ward.median, stat(row, "rego-rvm-json").median),
            ratio(ward.median, stat(row, "rego-interp-json").median),
        );
    }

    for row in rows {
        if let Some(e) = &row.rvm_error {
            let _ = writeln!(
                w,
                "\nAt N = {}, regorus's RVM cannot compile the policy (`{}`): its rows are empty (—).",
                row.n,
                e.replace('`', "'")
            );
        }
    }

    // Setup.
    let _ = writeln!(
        w,
        "\n## Compile, load, size, memory\n\n\
         One-shot operations, median of repeated runs after one untimed run (runs in brackets).\n\n\
         | N | Ward compile + codegen | Cedar parse + validate (strict) | regorus parse | regorus parse + compile + RVM | Ward load from .wasm | Ward load precompiled | .wasm size | precompiled size | linear memory (initial) | resident memory per evaluator |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for row in rows {
        let s = &row.setup;
        let once = |o: &Once| format!("{} [{}]", fmt_ns(o.median), o.runs);
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} × 64 KiB | {} |",
            row.n,
            once(&s.ward_compile),
            once(&s.cedar_parse_validate),
            once(&s.rego_parse),
            if row.rvm_error.is_some() {
                format!("fails after {}", once(&s.rego_compile))
            } else {
                once(&s.rego_compile)
            },
            once(&s.load_wasm),
            once(&s.load_precompiled),
            fmt_bytes(s.wasm_bytes as f64),
            fmt_bytes(s.precompiled_bytes as f64),
            s.memory_pages,
            fmt_bytes(s.rss_per_evaluator),
        );
    }
    let _ = writeln!(w, "\n| N | Ward source | Cedar policy text | Rego text |\n| --- | --- | --- | --- |");
    for row in rows {
        let s = &row.setup;
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} |",
            row.n,
            fmt_bytes(s.ward_source_bytes as f64),
            fmt_bytes(s.cedar_text_bytes as f64),
            fmt_bytes(s.rego_text_bytes as f64)
        );
    }
    let _ = writeln!(
        w,
        "\nCompile times: Ward is `ward_compiler::compile` (parse, resolve, type-check) plus \
         `codegen::build` (decision IR, WebAssembly, manifest), i.e. what `ward build` does \
         without file IO; Cedar is `PolicySet::from_str` plus `Validator::validate` in strict \
         mode (schema parsed once beforehand); regorus is `Engine::new` + `add_policy`, and \
         that plus `compile_with_entrypoint` and the RVM `Compiler::compile_from_policy`. \
         Load: `Runtime::load` compiles the module with Cranelift and instantiates it once; \
         `Runtime::load_precompiled` checks and deserializes the artifact of \
         `Runtime::precompile` (reading a manifest of 64 KiB or more on a second thread \
         meanwhile) and instantiates it once.\n\n\
         Memory per evaluator: the module's initial linear memory (its memory section, in \
         64 KiB pages) is what the instance may touch without growing; the resident figure is \
         the growth of the process's resident set (`/proc/self/statm`) over many evaluators, \
         each of which has decided one request, divided by their number. It counts the \
         touched pages of linear memory plus the store, instance and evaluator buffers; the \
         virtual address space wasmtime reserves per memory (guard regions) is not resident \
         and not counted.\n"
    );

    // Targets.
    let _ = writeln!(
        w,
        "## Ward's targets\n\nReported, not asserted in tests. Each latency target is judged on the median of all \
         its calls; beside it, the range of its rounds' medians: on a shared machine whole rounds run \
         slower or faster together (every engine's and the floor's), by up to 2× from one round to the next.\n\n\
         | target | measured | met |\n| --- | --- | --- |"
    );
    let spread = |s: &Stats| {
        let low = s.round_medians.iter().copied().fold(f64::INFINITY, f64::min);
        let high = s.round_medians.iter().copied().fold(0.0, f64::max);
        format!("rounds {}–{}", fmt_ns(low), fmt_ns(high))
    };
    let yes = |b: bool| if b { "yes" } else { "**no**" };
    for (key, what) in
        [("ward", "p50 from a parsed request"), ("ward-built", "(beside it) p50 through a `RequestBuilder`")]
    {
        for row in rows {
            let s = stat(row, key);
            let _ = writeln!(
                w,
                "| {what} ≤ 250 ns, N = {} | {} ({}; amortized, no clock overhead: {}; the wasmtime floor: {}) | {} |",
                row.n,
                fmt_ns(s.median),
                spread(s),
                fmt_ns(s.amortized),
                fmt_ns(stat(row, "wasm-floor").median),
                yes(s.median <= 250.0)
            );
        }
    }
    let at = |n: usize| rows.iter().find(|r| r.n == n);
    if let (Some(r10), Some(big)) = (at(10), rows.iter().filter(|r| r.n > 10).max_by_key(|r| r.n)) {
        let a = stat(r10, "ward").median;
        let b = stat(big, "ward").median;
        let _ = writeln!(
            w,
            "| flat: p50 at N = {} ≤ 2 × p50 at N = 10 | {} vs {} = {:.2}× | {} |",
            big.n,
            fmt_ns(b),
            fmt_ns(a),
            b / a,
            yes(b <= 2.0 * a)
        );
    }
    for row in rows {
        let s = stat(row, "ward-json");
        let m = s.median;
        let _ = writeln!(
            w,
            "| p50 from JSON ≤ 1.5 µs, N = {} | {} ({}) | {} |",
            row.n,
            fmt_ns(m),
            spread(s),
            yes(m <= 1500.0)
        );
    }
    if let Some(big) = rows.iter().max_by_key(|r| r.n) {
        let c = big.setup.ward_compile.median;
        let _ = writeln!(
            w,
            "| `ward build` (compile + codegen) of N = {} rules ≤ 1 s | {} | {} |",
            big.n,
            fmt_ns(c),
            yes(c <= 1e9)
        );
    }
    for row in rows.iter().filter(|r| r.n >= 100) {
        let per100 = row.setup.wasm_bytes as f64 * 100.0 / row.n as f64;
        let _ = writeln!(
            w,
            "| module size ≤ 64 KB per 100 rules, N = {} | {} per 100 rules ({} in all) | {} |",
            row.n,
            fmt_bytes(per100),
            fmt_bytes(row.setup.wasm_bytes as f64),
            yes(per100 <= 64_000.0)
        );
    }
    for row in rows {
        let l = row.setup.load_precompiled.median;
        let _ = writeln!(w, "| load a precompiled module ≤ 10 ms, N = {} | {} | {} |", row.n, fmt_ns(l), yes(l <= 1e7));
    }

    // Agreement.
    let _ = writeln!(
        w,
        "\n## Decision agreement\n\nChecked before anything is timed; the run stops on any \
         disagreement. Every path is compared with a plain-Rust reference implementation of \
         the abstract rules: the decision everywhere, and the determining rules (applicable \
         permits of an allow, applicable forbids of a deny) for Ward's module, Ward's \
         reference interpreter and Cedar.\n\n\
         | N | requests | allow | deny | paths | disagreements |\n| --- | --- | --- | --- | --- | --- |"
    );
    for row in rows {
        let a = &row.agreement;
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} |",
            row.n,
            a.requests,
            a.allow,
            a.deny,
            a.paths.join(", "),
            a.mismatches.len()
        );
    }

    // Detail.
    let _ = writeln!(
        w,
        "\n## Detail: every decision path\n\n\
         Median, p99 and mean over single calls, each timed on its own (clock overhead \
         included); amortized = median over batches of {} consecutive calls of the mean call \
         (no clock overhead); the median of each round shows drift.\n",
        meta.budget.batch
    );
    for (key, what, _) in PATHS {
        let _ = writeln!(w, "- `{key}`: {what}");
    }
    let _ = writeln!(
        w,
        "\n| path | N | median | p99 | mean | amortized | median of each round | samples |\n| --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for (k, (key, _, _)) in PATHS.iter().enumerate() {
        for row in rows {
            let s = &row.stats[k];
            let rounds: Vec<String> = s.round_medians.iter().map(|m| fmt_ns(*m)).collect();
            let _ = writeln!(
                w,
                "| {key} | {} | **{}** | {} | {} | {} | {} | {} |",
                row.n,
                fmt_ns(s.median),
                fmt_ns(s.p99),
                fmt_ns(s.mean),
                fmt_ns(s.amortized),
                rounds.join(" / "),
                s.samples
            );
        }
    }

    let _ = writeln!(
        w,
        "\n## Workload\n\n\
         A zero-trust AI gateway (`bench/src/workload.rs`). Universe: {} departments, {} models \
         (classification tier, owning department, family), {} datasets (classification, owner, \
         PII flag), {} principals — users, service accounts and agents with department, \
         clearance, roles, groups and, per request, an optional MFA age. Actions: infer, embed, \
         fine_tune, export_weights (on models), read_dataset (on datasets). Context: risk score, \
         requests in the last minute, network zone, mTLS, optional training-data classification \
         and PII flag.\n\n\
         Rules: 7 base rules — permit infer/embed with MFA at most an hour old, clearance ≥ \
         tier and mTLS; permit fine-tuning to ML engineers cleared for the model on non-PII \
         training data; permit reading a dataset from the corporate zone with clearance ≥ \
         classification and MFA for PII; permit weight export to model-owner users from the \
         corporate zone with MFA at most 15 minutes old; forbid anything at risk over 80; \
         forbid weight export unless a model owner of the owning department; forbid anything \
         above 600 requests a minute (extraction). Then N − 7 generated rules, round-robin: \
         permit infer on one model to one department (corporate zone, mTLS, clearance ≥ tier); \
         permit fine-tuning one model to one department's data scientists (non-PII data at most \
         their clearance); forbid model actions on one model above a risk threshold (30–79); \
         permit reading one dataset to one department. N = 1 is the first base rule alone. At \
         N = 10,000 each model has about 10 rules of each model kind, so only a few rules \
         concern any request.\n\n\
         Renderings: Ward uses `resource == Model::\"m17\"` scope equalities and leading \
         `principal.department == \"d3\"` / `context.zone == Zone.corp` conjuncts, which its \
         compiler turns into dispatch; Cedar uses the same scope heads and passes strict \
         validation (levels are `Long`s 0–3); Rego has one `permit if {{…}}` / `forbid if {{…}}` \
         body per rule (two for the rules with a disjunction), the resource id test first, and \
         `allow if {{ permit; not forbid }}`, reading the Ward request document as `input` \
         (levels through a lookup object).\n\n\
         Requests: {} deterministic requests (40% infer, 10% embed, 20% fine_tune, 15% \
         read_dataset, 15% export_weights; about 6% over the extraction rate; risk uniform \
         0–100), the same for every engine; timings cycle over all of them, so medians and \
         p99s are over this allow/deny mix.\n\n\
         Native forms: Ward — a parsed `ward_types::Request` (the pre-encoded row also skips \
         validation and encoding); Cedar — prebuilt `Request` and per-request `Entities` \
         (principal and resource); regorus — a prebuilt `Value`, cloned into `set_input` on \
         each call. JSON paths: Ward `decide_json`; Cedar parses the document with serde \
         into the request type, then builds entities, context and request (no schema on the \
         hot path); regorus `Value::from_json_str`.\n\n\
         ## Caveats\n\n\
         - Shared 2-core virtual machine: throughput drifts with other work; every engine \
         is measured in every round, so ratios hold better than absolute figures. p99 on such \
         a machine includes preemption and is an upper bound; at large N the slow engines \
         give few samples per round, so their p99 is close to their maximum.\n\
         - Single thread, warm caches, the same 256 requests cycled.\n\
         - Ward's evaluator enforces a fuel budget (deterministic metering) on every call; \
         Cedar and regorus run without limits.\n\
         - One process means one set of features per dependency: `cedar-policy-core` turns on \
         `serde_json`'s `preserve_order`, so in this binary the attribute maps of Ward's \
         `Request` are insertion-ordered hash maps (SipHash) rather than the B-tree maps a \
         Ward-only build gets. Ward's parsed-request and JSON figures here include that cost.\n\n\
         ## Profiling Ward\n\n\
         `bench/examples/profile.rs` loops over one Ward path (`verdict`, `decide`, `encoded`, `built`, \
         `json-verdict`, `json`, `encode`, or `floor`: the wasmtime call alone) at one N, for a number of seconds or an exact number of \
         passes over the {} requests. Instruction counts do not depend on the machine's load; \
         counting two runs and taking the difference cancels the set-up (compiling the module):\n\n\
         ```sh\ncargo build --release -p ward-bench --example profile\n\
         for passes in 20 100; do\n  \
         valgrind --tool=callgrind --callgrind-out-file=cg.$passes \\\n    \
         target/release/examples/profile 10 verdict ${{passes}}x\n\
         done\n\
         # instructions per decision: (total of cg.100 - total of cg.20) / (80 * {})\n```\n",
        workload::DEPARTMENTS,
        workload::MODELS,
        workload::DATASETS,
        workload::PRINCIPALS,
        workload::REQUESTS,
        workload::REQUESTS,
        workload::REQUESTS,
    );
    s
}

fn plot(rows: &[Row], path: &Path) -> Result<(), String> {
    use plotters::prelude::*;
    let series: [(&str, &str, RGBColor); 6] = [
        ("ward", "Ward (parsed request)", RGBColor(0xd6, 0x27, 0x28)),
        ("ward-json", "Ward (from JSON)", RGBColor(0xff, 0x98, 0x96)),
        ("cedar", "Cedar (prebuilt)", RGBColor(0x1f, 0x77, 0xb4)),
        ("cedar-json", "Cedar (from JSON)", RGBColor(0xae, 0xc7, 0xe8)),
        ("rego-rvm", "regorus RVM (prebuilt)", RGBColor(0x2c, 0xa0, 0x2c)),
        ("rego-interp", "regorus interpreter (prebuilt)", RGBColor(0x94, 0x67, 0xbd)),
    ];
    let max_n = rows.iter().map(|r| r.n).max().unwrap_or(10).max(10) as f64;
    let mut lo = f64::INFINITY;
    let mut hi: f64 = 0.0;
    for row in rows {
        for (key, _, _) in &series {
            let m = stat(row, key).median;
            if m.is_finite() && m > 0.0 {
                lo = lo.min(m);
                hi = hi.max(m);
            }
        }
    }
    let lo = 10f64.powf(lo.log10().floor()).max(1.0);
    let hi = 10f64.powf(hi.log10().ceil());
    let err = |e: &dyn std::fmt::Display| format!("plot: {e}");
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Time per decision (median) vs number of rules", ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(80)
        .build_cartesian_2d((0.7f64..max_n * 1.5).log_scale(), (lo..hi).log_scale())
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("rules (N)")
        .y_desc("median time per decision")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| fmt_ns(*v))
        .draw()
        .map_err(|e| err(&e))?;
    for (key, label, color) in series {
        let points: Vec<(f64, f64)> =
            rows.iter().map(|r| (r.n as f64, stat(r, key).median)).filter(|(_, m)| m.is_finite() && *m > 0.0).collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, color.filled()))).map_err(|e| err(&e))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

/// The part of an existing report between `<!-- preserved:begin -->` and
/// `<!-- preserved:end -->`, markers included: figures other benchmarks
/// write by hand (such as the language server's), kept across regenerations.
fn preserved_section(path: &std::path::Path) -> String {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let (begin, end) = ("<!-- preserved:begin -->", "<!-- preserved:end -->");
    match (old.find(begin), old.find(end)) {
        (Some(b), Some(e)) if b < e => format!("\n{}\n", &old[b..e + end.len()]),
        _ => String::new(),
    }
}
