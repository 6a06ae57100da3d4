//! `ward test`: run a program's `test` blocks through the compiled decision
//! module — the artifact gateways load — and through the reference
//! interpreter, and judge both against the expectations.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use ward_compiler::program::{Program, TestCase};
use ward_compiler::span::SourceMap;
use ward_compiler::testing::{self, Mismatch};
use ward_types::Decision;

use crate::engine::Interpreter;
use crate::output::{self, Failure, describe_io};
use crate::{Format, Outcome, status};

/// What `ward test` was asked to do.
#[derive(Debug)]
pub struct Options<'a> {
    /// Policy and test files or folders, one program.
    pub paths: &'a [PathBuf],
    /// Run only tests whose name contains this text.
    pub filter: Option<&'a str>,
    /// Human or JSON output.
    pub format: Format,
    /// Where to write a JUnit XML report.
    pub junit: Option<&'a Path>,
    /// Print rule coverage.
    pub coverage: bool,
    /// Fail when fewer rules than this percentage are decided by a test.
    pub min_coverage: Option<f64>,
    /// Colour diagnostics.
    pub color: bool,
}

/// The result of one test.
#[derive(Debug, Serialize)]
struct TestResult {
    name: String,
    /// `file:line` of the test's name.
    location: String,
    passed: bool,
    /// Ways the decision differs from the expectation.
    mismatches: Vec<MismatchJson>,
    /// Set when the interpreter and the module decided differently: a bug
    /// in Ward, never in the policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    disagreement: Option<Disagreement>,
    /// The module's decision.
    decision: Decision,
    #[serde(skip)]
    time: Duration,
}

#[derive(Debug, Serialize)]
struct MismatchJson {
    field: &'static str,
    expected: String,
    actual: String,
}

#[derive(Debug, Serialize)]
struct Disagreement {
    interpreter: Decision,
    module: Decision,
}

/// Rule coverage: how many tests each rule decided.
#[derive(Debug, Serialize)]
struct Coverage {
    /// Rule id → number of tests whose decision it determined, in program
    /// order.
    rules: Vec<RuleCoverage>,
    covered: usize,
    total: usize,
    percent: f64,
}

#[derive(Debug, Serialize)]
struct RuleCoverage {
    id: String,
    location: String,
    tests: usize,
}

/// The whole run, as `--format json` prints it.
#[derive(Debug, Serialize)]
struct Report {
    tests: Vec<TestResult>,
    passed: usize,
    failed: usize,
    filtered_out: usize,
    coverage: Coverage,
}

/// Runs `ward test`.
pub fn run(options: &Options<'_>) -> Outcome {
    if let Some(p) = options.min_coverage
        && !(0.0..=100.0).contains(&p)
    {
        return Err(Failure::new(format!("`--min-coverage` must be a percentage from 0 to 100, not {p}")));
    }
    let (program, sources) = Interpreter::compile(options.paths, options.color)?;
    let module = load_module(&program, &sources)?;
    let selected: Vec<&TestCase> =
        program.tests.iter().filter(|t| options.filter.is_none_or(|f| t.name.contains(f))).collect();
    let filtered_out = program.tests.len() - selected.len();
    if options.format == Format::Human {
        output::stdout(&format!("running {}\n", plural(selected.len(), "test")));
    }
    let mut results = Vec::with_capacity(selected.len());
    for test in selected {
        let result = run_one(&program, &module, &sources, test);
        if options.format == Format::Human {
            let verdict = if result.passed { "ok" } else { "FAILED" };
            output::stdout(&format!("test {} ... {verdict}\n", result.name));
        }
        results.push(result);
    }
    let coverage = coverage(&program, &sources, &results);
    let passed = results.iter().filter(|r| r.passed).count();
    let failed = results.len() - passed;
    let report = Report { tests: results, passed, failed, filtered_out, coverage };
    if let Some(path) = options.junit {
        write_junit(path, &report)?;
    }
    let coverage_ok = options.min_coverage.is_none_or(|min| report.coverage.percent + 1e-9 >= min);
    match options.format {
        Format::Human => print_human(&report, options),
        Format::Json => {
            let text = serde_json::to_string_pretty(&report)
                .map_err(|e| Failure::new(format!("cannot write the report as JSON: {e}")))?;
            output::stdout(&format!("{text}\n"));
        }
    }
    if !coverage_ok {
        let min = options.min_coverage.unwrap_or_default();
        return Err(Failure::new(format!(
            "rule coverage {:.1}% is below the required {min}%",
            report.coverage.percent
        ))
        .help("write tests whose decisions the uncovered rules determine; `--coverage` lists them"));
    }
    Ok(if report.failed == 0 { status::ok() } else { status::error() })
}

/// Compiles the program to WebAssembly and loads it as a gateway would.
fn load_module(program: &Program, sources: &SourceMap) -> Result<ward_runtime::DecisionModule, Failure> {
    let built = ward_compiler::codegen::build(program, sources);
    let runtime =
        ward_runtime::Runtime::new().map_err(|e| Failure::new(format!("cannot start the WebAssembly runtime: {e}")))?;
    runtime.load(&built.wasm).map_err(|e| Failure::new(format!("cannot load the compiled module: {e}")))
}

fn run_one(
    program: &Program,
    module: &ward_runtime::DecisionModule,
    sources: &SourceMap,
    test: &TestCase,
) -> TestResult {
    let start = Instant::now();
    // The request goes through JSON text, as a gateway receives it.
    let request = test.request.to_string();
    let from_module = module.decide_json(request.as_bytes());
    let from_interpreter = ward_compiler::interp::decide_json(program, request.as_bytes());
    let time = start.elapsed();
    let mismatches: Vec<MismatchJson> = testing::judge(&test.expect, &from_module)
        .into_iter()
        .map(|Mismatch { field, expected, actual }| MismatchJson { field, expected, actual })
        .collect();
    let disagreement = (!testing::engines_agree(&from_module, &from_interpreter))
        .then(|| Disagreement { interpreter: from_interpreter, module: from_module.clone() });
    TestResult {
        name: test.name.clone(),
        location: location(sources, test.span),
        passed: mismatches.is_empty() && disagreement.is_none(),
        mismatches,
        disagreement,
        decision: from_module,
        time,
    }
}

fn coverage(program: &Program, sources: &SourceMap, results: &[TestResult]) -> Coverage {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for result in results {
        for id in &result.decision.rules {
            *counts.entry(id.as_str()).or_default() += 1;
        }
    }
    let rules: Vec<RuleCoverage> = program
        .rules
        .iter()
        .map(|r| RuleCoverage {
            id: r.id.clone(),
            location: location(sources, r.span),
            tests: counts.get(r.id.as_str()).copied().unwrap_or(0),
        })
        .collect();
    let covered = rules.iter().filter(|r| r.tests > 0).count();
    let total = rules.len();
    // A program without rules has nothing left to cover.
    let percent = if total == 0 { 100.0 } else { covered as f64 * 100.0 / total as f64 };
    Coverage { rules, covered, total, percent }
}

fn print_human(report: &Report, options: &Options<'_>) {
    let mut out = String::new();
    let failures: Vec<&TestResult> = report.tests.iter().filter(|t| !t.passed).collect();
    if !failures.is_empty() {
        out.push_str("\nfailures:\n");
        for failure in &failures {
            out.push_str(&format!("\n---- {} ({}) ----\n", failure.name, failure.location));
            out.push_str(&describe_failure(failure, options.color));
        }
    }
    if options.coverage || options.min_coverage.is_some() {
        let c = &report.coverage;
        out.push_str(&format!(
            "\ncoverage: {} of {} decided by a test ({:.1}%)\n",
            c.covered,
            plural(c.total, "rule"),
            c.percent
        ));
        if options.coverage {
            let width = c.rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
            for rule in &c.rules {
                let tests = plural(rule.tests, "test");
                out.push_str(&format!("  {:width$}  {tests:>9}  {}\n", rule.id, rule.location));
            }
        }
        let missing: Vec<&str> = c.rules.iter().filter(|r| r.tests == 0).map(|r| r.id.as_str()).collect();
        if !missing.is_empty() {
            out.push_str(&format!("  not decided by any test: {}\n", missing.join(", ")));
        }
    }
    let filtered =
        if report.filtered_out > 0 { format!("; {} filtered out", report.filtered_out) } else { String::new() };
    out.push_str(&format!("\n{} passed, {} failed{filtered}\n", report.passed, report.failed));
    output::stdout(&out);
}

/// A readable diff of expected against actual, field by field.
fn describe_failure(result: &TestResult, color: bool) -> String {
    let paint = |text: String, style: &str| if color { format!("{style}{text}\x1b[0m") } else { text };
    let mut out = String::new();
    for m in &result.mismatches {
        out.push_str(&format!("  {}:\n", m.field));
        out.push_str(&format!("{}\n", paint(format!("    - expected {}", m.expected), "\x1b[31m")));
        out.push_str(&format!("{}\n", paint(format!("    + actual   {}", m.actual), "\x1b[32m")));
    }
    if let Some(d) = &result.disagreement {
        out.push_str(
            "  the reference interpreter and the compiled module disagree (a bug in Ward; please report it):\n",
        );
        out.push_str(&format!("    interpreter: {}\n", compact(&d.interpreter)));
        out.push_str(&format!("    module:      {}\n", compact(&d.module)));
    }
    out.push_str(&format!("  actual decision: {}\n", compact(&result.decision)));
    out
}

fn compact(decision: &Decision) -> String {
    serde_json::to_string(decision).unwrap_or_else(|e| format!("<cannot print the decision: {e}>"))
}

fn write_junit(path: &Path, report: &Report) -> Result<(), Failure> {
    use quick_junit::{NonSuccessKind, Report as Junit, TestCase as Case, TestCaseStatus, TestSuite};
    let mut suite = TestSuite::new("ward");
    for result in &report.tests {
        let status = if result.passed {
            TestCaseStatus::success()
        } else {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let summary: Vec<&str> = result.mismatches.iter().map(|m| m.field).collect();
            let message = if result.disagreement.is_some() {
                "the interpreter and the compiled module disagree".to_owned()
            } else {
                format!("unexpected {}", summary.join(", "))
            };
            status.set_message(message).set_description(describe_failure(result, false));
            status
        };
        let mut case = Case::new(result.name.as_str(), status);
        case.set_classname(result.location.split(':').next().unwrap_or_default());
        case.set_time(result.time);
        suite.add_test_case(case);
    }
    let mut junit = Junit::new("ward test");
    junit.add_test_suite(suite);
    let xml = junit.to_string().map_err(|e| Failure::new(format!("cannot write the JUnit report: {e}")))?;
    std::fs::write(path, xml)
        .map_err(|e| Failure::new(format!("cannot write `{}`: {}", path.display(), describe_io(&e))))
}

/// `file.ward:12`.
fn location(sources: &SourceMap, span: ward_compiler::span::Span) -> String {
    let file = sources.get(span.file);
    let (line, _) = file.line_col(span.start as usize);
    format!("{}:{line}", file.name)
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}
