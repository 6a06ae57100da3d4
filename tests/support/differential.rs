//! The differential property: a generated program, compiled both ways, must
//! decide every generated request alike in the reference interpreter and in
//! its WebAssembly decision module.
//!
//! [`CaseStrategy`] is a proptest strategy of cases (a program and its
//! requests). Its value trees shrink a failing case by dropping requests,
//! then rules, one at a time, so that the case reported is small.

use std::fmt;

use proptest::prelude::Rng as _;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use ward_compiler::{codegen, compile, interp};
use ward_runtime::Runtime;
use ward_types::{Decision, ErrorKind, Request};

use crate::policy::{self, Policy};
use crate::request::Requests;

pub use crate::policy::Knobs;

/// A program and the requests to decide with it.
#[derive(Clone)]
pub struct Case {
    /// The program.
    pub policy: Policy,
    /// The requests: label and JSON text.
    pub requests: Vec<(String, String)>,
    keep_rules: Vec<bool>,
    keep_requests: Vec<bool>,
}

impl Case {
    /// A case from a seed: the program, then `requests` requests.
    pub fn generate(seed: u64, requests: usize, knobs: Knobs) -> Case {
        let policy = policy::generate(seed, knobs);
        let mut generator = Requests::new(&policy, seed.rotate_left(17) ^ 0xA5A5);
        let requests: Vec<(String, String)> = (0..requests)
            .map(|_| {
                let g = generator.next_request();
                (g.label, g.text)
            })
            .collect();
        let keep_rules = vec![true; policy.rules.len()];
        let keep_requests = vec![true; requests.len()];
        Case { policy, requests, keep_rules, keep_requests }
    }

    /// The source files of the (possibly shrunk) program.
    pub fn files(&self) -> Vec<(String, String)> {
        self.policy.files(&self.keep_rules)
    }

    /// The (possibly shrunk) requests.
    pub fn kept_requests(&self) -> impl Iterator<Item = &(String, String)> {
        self.requests.iter().zip(&self.keep_requests).filter(|(_, keep)| **keep).map(|(r, _)| r)
    }
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "program seed {} (rerun with WARD_DIFF_SEED={} WARD_DIFF_PROGRAMS=1)",
            self.policy.seed, self.policy.seed
        )?;
        for (name, text) in self.files() {
            writeln!(f, "--- {name}\n{text}")?;
        }
        for (label, text) in self.kept_requests() {
            writeln!(f, "--- request ({label})\n{}", shown(text))?;
        }
        Ok(())
    }
}

/// A request as failure messages show it: whole unless it is huge (the
/// program's seed reproduces it).
pub fn shown(text: &str) -> String {
    const MAX: usize = 3_000;
    match text.char_indices().nth(MAX) {
        None => text.to_owned(),
        Some((at, _)) => {
            format!("{}… ({} bytes in all; rerun the seed for the whole request)", &text[..at], text.len())
        }
    }
}

/// Generates cases with this many requests each.
#[derive(Debug, Clone, Copy)]
pub struct CaseStrategy {
    /// Requests per program.
    pub requests: usize,
    /// What to generate.
    pub knobs: Knobs,
    /// Generate this one program (seed) instead of random ones.
    pub seed: Option<u64>,
}

impl Strategy for CaseStrategy {
    type Tree = CaseTree;
    type Value = Case;

    fn new_tree(&self, runner: &mut TestRunner) -> proptest::strategy::NewTree<Self> {
        let seed = self.seed.unwrap_or_else(|| runner.rng().next_u64());
        Ok(CaseTree { case: Case::generate(seed, self.requests, self.knobs), phase: 0, cursor: 0, last: None })
    }
}

/// Shrinks a case: requests first, then rules, one at a time.
#[derive(Debug, Clone)]
pub struct CaseTree {
    case: Case,
    /// 0: requests, 1: rules, 2: done.
    phase: u8,
    cursor: usize,
    last: Option<(u8, usize)>,
}

impl ValueTree for CaseTree {
    type Value = Case;

    fn current(&self) -> Case {
        self.case.clone()
    }

    fn simplify(&mut self) -> bool {
        loop {
            let keep = match self.phase {
                0 => &mut self.case.keep_requests,
                1 => &mut self.case.keep_rules,
                _ => return false,
            };
            let kept = keep.iter().filter(|k| **k).count();
            while self.cursor < keep.len() && !keep[self.cursor] {
                self.cursor += 1;
            }
            if self.cursor < keep.len() && kept > 1 {
                keep[self.cursor] = false;
                self.last = Some((self.phase, self.cursor));
                self.cursor += 1;
                return true;
            }
            self.phase += 1;
            self.cursor = 0;
        }
    }

    fn complicate(&mut self) -> bool {
        match self.last.take() {
            Some((0, i)) => {
                self.case.keep_requests[i] = true;
                true
            }
            Some((_, i)) => {
                self.case.keep_rules[i] = true;
                true
            }
            None => false,
        }
    }
}

/// What a campaign saw, to check that it exercised every outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Programs compiled.
    pub programs: usize,
    /// Requests decided (by both engines).
    pub requests: usize,
    /// Allows.
    pub allows: usize,
    /// Denies by a forbid.
    pub forbids: usize,
    /// Default denies.
    pub defaults: usize,
    /// Denies by an evaluation error (overflow).
    pub overflows: usize,
    /// Denies of requests that do not conform.
    pub invalid: usize,
    /// Requests meant to be malformed.
    pub malformed: usize,
}

impl Stats {
    /// Adds another campaign's counts.
    pub fn add(&mut self, other: &Stats) {
        self.programs += other.programs;
        self.requests += other.requests;
        self.allows += other.allows;
        self.forbids += other.forbids;
        self.defaults += other.defaults;
        self.overflows += other.overflows;
        self.invalid += other.invalid;
        self.malformed += other.malformed;
    }

    fn count(&mut self, d: &Decision) {
        self.requests += 1;
        if d.is_allow() {
            self.allows += 1;
        } else if d.errors.iter().any(|e| e.kind == ErrorKind::Overflow) {
            self.overflows += 1;
        } else if !d.errors.is_empty() {
            self.invalid += 1;
        } else if d.rules.is_empty() {
            self.defaults += 1;
        } else {
            self.forbids += 1;
        }
    }
}

/// An error as compared: kind, path, rule. Messages are for humans and
/// differ between engines.
type ErrorKey = (ErrorKind, Option<String>, Option<String>);

/// The runtime reports an unknown or inapplicable principal or resource type
/// at `principal` / `resource`, the interpreter at `principal.type` /
/// `resource.type` (see `known_bugs.rs`). Maps the former to the latter.
fn normalise_type_path(kind: ErrorKind, path: Option<String>) -> Option<String> {
    match (kind, path.as_deref()) {
        (ErrorKind::UnknownEntityType | ErrorKind::ActionNotApplicable, Some(role @ ("principal" | "resource"))) => {
            Some(format!("{role}.type"))
        }
        _ => path,
    }
}

fn error_keys(d: &Decision, normalise: bool) -> Vec<ErrorKey> {
    let mut keys: Vec<ErrorKey> = d
        .errors
        .iter()
        .map(|e| {
            let path = if normalise { normalise_type_path(e.kind, e.path.clone()) } else { e.path.clone() };
            (e.kind, path, e.rule.clone())
        })
        .collect();
    keys.sort();
    keys
}

/// Compares two decisions on everything but error messages. `normalise`
/// forgives the runtime's known path divergence.
pub fn compare(expected: &Decision, actual: &Decision, normalise: bool) -> Result<(), String> {
    let mut problems = Vec::new();
    if expected.decision != actual.decision {
        problems.push("decision");
    }
    if expected.rules != actual.rules {
        problems.push("rules");
    }
    if expected.reasons != actual.reasons {
        problems.push("reasons");
    }
    if expected.obligations != actual.obligations {
        problems.push("obligations");
    }
    if expected.errors.is_empty() != actual.errors.is_empty() {
        problems.push("presence of errors");
    } else if error_keys(expected, false) != error_keys(actual, normalise) {
        problems.push("errors (kind, path, rule)");
    }
    if problems.is_empty() { Ok(()) } else { Err(format!("they differ in: {}", problems.join(", "))) }
}

/// Checks that a module is valid WebAssembly without imports.
pub fn validate_module(wasm: &[u8]) -> Result<(), String> {
    wasmparser::Validator::new().validate_all(wasm).map_err(|e| format!("invalid WebAssembly: {e}"))?;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::ImportSection(imports) = payload.map_err(|e| e.to_string())?
            && imports.count() > 0
        {
            return Err(format!("the module has {} imports", imports.count()));
        }
    }
    Ok(())
}

/// Compiles the case's program both ways and decides every request with
/// both engines. `Err` describes the first disagreement (or why the
/// program could not be compiled) with everything needed to reproduce it.
pub fn check(runtime: &Runtime, case: &Case, knobs: Knobs) -> Result<Stats, String> {
    let files = case.files();
    let compilation = compile(files);
    let Some(program) = compilation.program.clone().filter(|_| !compilation.has_errors()) else {
        return Err(format!(
            "the generator wrote a program that does not compile:\n{}",
            ward_compiler::diagnostics::render(&compilation.sources, &compilation.diagnostics, false)
        ));
    };
    let output = codegen::build(&program, &compilation.sources);
    validate_module(&output.wasm)?;
    let module = runtime.load(&output.wasm).map_err(|e| format!("the runtime refuses the module: {e}"))?;
    let mut stats = Stats { programs: 1, ..Stats::default() };
    let mut evaluator = module.evaluator().map_err(|e| format!("no evaluator: {e}"))?;
    for (label, text) in case.kept_requests() {
        let expected = interp::decide_json(&program, text.as_bytes());
        let actual = module.decide_json(text.as_bytes());
        // The runtime reads JSON text straight into the module's layout; the
        // parsed document, encoded from a `Request`, must decide exactly alike.
        let parsed = match Request::from_json(text.as_bytes()) {
            Ok(request) => module.decide(&request),
            Err(error) => Decision::fail_closed(vec![error]),
        };
        if parsed != actual {
            return Err(format!(
                "the runtime's JSON and Request paths disagree on a {label} request\n  request: {}\n  from JSON:    {}\n  from Request: {}",
                shown(text),
                serde_json::to_string(&actual).unwrap_or_default(),
                serde_json::to_string(&parsed).unwrap_or_default(),
            ));
        }
        // And so must the request built through handles, wherever its names
        // have handles.
        let built = Request::from_json(text.as_bytes())
            .ok()
            .and_then(|request| crate::builder::decide_built(&module, &mut evaluator, &request));
        if let Some(built) = built.filter(|built| *built != actual) {
            return Err(format!(
                "the runtime's JSON and RequestBuilder paths disagree on a {label} request\n  request: {}\n  from JSON:  {}\n  built:      {}",
                shown(text),
                serde_json::to_string(&actual).unwrap_or_default(),
                serde_json::to_string(&built).unwrap_or_default(),
            ));
        }
        if let Err(difference) = compare(&expected, &actual, !knobs.type_paths) {
            return Err(format!(
                "interpreter and module disagree ({difference}) on a {label} request\n  request:     {}\n  interpreter: {}\n  module:      {}",
                shown(text),
                serde_json::to_string(&expected).unwrap_or_default(),
                serde_json::to_string(&actual).unwrap_or_default(),
            ));
        }
        if label == "valid" && expected.errors.iter().any(|e| e.kind != ErrorKind::Overflow) {
            return Err(format!(
                "the request generator wrote a request that does not conform\n  request: {}\n  interpreter: {}",
                shown(text),
                serde_json::to_string(&expected).unwrap_or_default()
            ));
        }
        if label != "valid" {
            stats.malformed += 1;
            if expected.is_allow() || expected.errors.is_empty() {
                return Err(format!("a {label} request was decided without an error\n  request: {}", shown(text)));
            }
        }
        stats.count(&expected);
    }
    Ok(stats)
}
