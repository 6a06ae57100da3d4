//! The timing harness the report uses: rounds interleaved across every
//! engine and, in the report, across every rule count (so that a busy
//! phase of a shared machine slows all of them alike), each call timed on
//! its own for the median and p99, and batches of consecutive calls for an
//! amortized figure without clock overhead.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// How long to measure.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Rounds over all cases.
    pub rounds: usize,
    /// Warm-up per case and round.
    pub warmup: Duration,
    /// Time spent timing single calls, per case and round.
    pub single: Duration,
    /// Time spent timing batches, per case and round.
    pub batched: Duration,
    /// Calls per batch.
    pub batch: usize,
    /// Fewest single calls per case and round, whatever the time.
    pub min_calls: usize,
}

/// What a measured case yields.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Median of single calls, nanoseconds (clock overhead included).
    pub median: f64,
    /// 99th percentile of single calls, nanoseconds.
    pub p99: f64,
    /// Mean of single calls, nanoseconds.
    pub mean: f64,
    /// Median over batches of the mean call time, nanoseconds (no clock
    /// overhead).
    pub amortized: f64,
    /// Median of each round's single calls.
    pub round_medians: Vec<f64>,
    /// Single calls timed.
    pub samples: usize,
}

/// A measured operation: decides request `i` of the suite-like state `S`.
pub type Case<S> = fn(&mut S, usize) -> bool;

/// The value at quantile `q` of sorted samples.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let at = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// The median time of `Instant::now()` pairs around nothing: the overhead
/// every single-call figure includes.
pub fn clock_overhead() -> f64 {
    let mut samples = Vec::with_capacity(100_000);
    for _ in 0..100_000 {
        let t0 = Instant::now();
        let t1 = Instant::now();
        samples.push((t1 - t0).as_nanos() as f64);
    }
    quantile(&sorted(samples), 0.5)
}

/// Accumulates one case's samples over rounds.
#[derive(Debug, Default)]
struct Acc {
    singles: Vec<f64>,
    batches: Vec<f64>,
    round_medians: Vec<f64>,
    next: usize,
}

fn run_round<S>(state: &mut S, case: Case<S>, requests: usize, budget: &Budget, acc: &mut Acc) {
    let warm = Instant::now();
    let mut calls = 0;
    while warm.elapsed() < budget.warmup || calls < 8 {
        black_box(case(state, acc.next % requests));
        acc.next += 1;
        calls += 1;
    }
    let mut round = Vec::new();
    let start = Instant::now();
    while start.elapsed() < budget.single || round.len() < budget.min_calls {
        let i = acc.next % requests;
        acc.next += 1;
        let t0 = Instant::now();
        let r = case(state, i);
        let t1 = Instant::now();
        black_box(r);
        round.push((t1 - t0).as_nanos() as f64);
    }
    let start = Instant::now();
    let mut batches = 0;
    while start.elapsed() < budget.batched || batches < 2 {
        let t0 = Instant::now();
        for _ in 0..budget.batch {
            let i = acc.next % requests;
            acc.next += 1;
            black_box(case(state, i));
        }
        let elapsed = t0.elapsed().as_nanos() as f64;
        acc.batches.push(elapsed / budget.batch as f64);
        batches += 1;
    }
    let round = sorted(round);
    acc.round_medians.push(quantile(&round, 0.5));
    acc.singles.extend(round);
}

/// Samples of several cases gathered over rounds, which the caller may
/// interleave with other measurements (the report interleaves the rounds
/// of every rule count, so that a slow phase of the machine touches every
/// row alike rather than one).
#[derive(Debug)]
pub struct Rounds {
    accs: Vec<Acc>,
}

impl Rounds {
    /// No samples yet, for `cases` cases.
    pub fn new(cases: usize) -> Rounds {
        Rounds { accs: (0..cases).map(|_| Acc::default()).collect() }
    }

    /// One round of every case, in order. Cases cycle over `requests`
    /// request indices.
    pub fn round<S>(&mut self, state: &mut S, cases: &[Case<S>], requests: usize, budget: &Budget) {
        for (case, acc) in cases.iter().zip(self.accs.iter_mut()) {
            run_round(state, *case, requests, budget, acc);
        }
    }

    /// The statistics of each case over every round.
    pub fn finish(self) -> Vec<Stats> {
        self.accs
            .into_iter()
            .map(|acc| {
                let samples = acc.singles.len();
                let mean = acc.singles.iter().sum::<f64>() / samples.max(1) as f64;
                let singles = sorted(acc.singles);
                let batches = sorted(acc.batches);
                Stats {
                    median: quantile(&singles, 0.5),
                    p99: quantile(&singles, 0.99),
                    mean,
                    amortized: quantile(&batches, 0.5),
                    round_medians: acc.round_medians,
                    samples,
                }
            })
            .collect()
    }
}

/// Measures every case, `budget.rounds` rounds, the cases interleaved
/// within each round. Cases cycle over `requests` request indices.
pub fn measure<S>(state: &mut S, cases: &[Case<S>], requests: usize, budget: &Budget) -> Vec<Stats> {
    let mut rounds = Rounds::new(cases.len());
    for _ in 0..budget.rounds {
        rounds.round(state, cases, requests, budget);
    }
    rounds.finish()
}

/// A one-shot operation's timings.
#[derive(Debug, Clone, Default)]
pub struct Once {
    /// Median, nanoseconds.
    pub median: f64,
    /// Fastest, nanoseconds.
    pub min: f64,
    /// Runs.
    pub runs: usize,
}

/// Times `f` after one untimed run: at least `min_runs` runs, more while
/// under `max_runs` and `max_total`.
pub fn once<T>(min_runs: usize, max_runs: usize, max_total: Duration, mut f: impl FnMut() -> T) -> Once {
    black_box(f());
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < min_runs || (times.len() < max_runs && start.elapsed() < max_total) {
        let t0 = Instant::now();
        black_box(f());
        times.push(t0.elapsed().as_nanos() as f64);
    }
    let runs = times.len();
    let times = sorted(times);
    Once { median: quantile(&times, 0.5), min: times.first().copied().unwrap_or(f64::NAN), runs }
}

/// Formats nanoseconds with a unit.
pub fn fmt_ns(ns: f64) -> String {
    if !ns.is_finite() {
        "—".to_owned()
    } else if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1_000_000_000.0 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// Formats a byte count.
pub fn fmt_bytes(bytes: f64) -> String {
    if bytes < 1024.0 {
        format!("{bytes:.0} B")
    } else if bytes < 1024.0 * 1024.0 {
        format!("{:.1} KiB", bytes / 1024.0)
    } else {
        format!("{:.2} MiB", bytes / (1024.0 * 1024.0))
    }
}
