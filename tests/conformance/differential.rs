//! Differential property tests: random well-typed programs and random
//! requests, decided by the reference interpreter (the oracle) and by the
//! compiled WebAssembly module through the runtime, must agree on the
//! decision, the rules, the reasons, the obligations and the errors (kind,
//! attribute path and rule). Every module must also be valid WebAssembly
//! without imports.
//!
//! The normal run decides `WARD_DIFF_PROGRAMS` × `WARD_DIFF_REQUESTS`
//! (default 1000 × 20) cases from a fixed seed, split over two tests so that
//! both halves run in parallel. A longer campaign:
//!
//! ```text
//! WARD_DIFF_PROGRAMS=20000 WARD_DIFF_REQUESTS=50 WARD_DIFF_SEED=random \
//!     cargo test -p ward-tests --test conformance differential -- --nocapture
//! ```
//!
//! - `WARD_DIFF_SEED`: a number (the campaign's seed; a failure prints the
//!   seed of its program, and `WARD_DIFF_SEED=<that> WARD_DIFF_PROGRAMS=1`
//!   reruns that program alone) or `random`.
//! - `WARD_DIFF_KNOWN_BUGS=all` (or a comma-separated list: `type-paths`,
//!   `required-has`, `literal-set-order`, `shared-def-sets`): also generate
//!   the shapes of the reported, not yet fixed disagreements
//!   (`known_bugs.rs`), and compare error paths strictly.
//!
//! A failure prints the program's files and the request, shrunk to the
//! rules and requests that still disagree.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use proptest::test_runner::{Config, RngSeed, TestRunner};
use ward_compiler::codegen::index::{self, Node, visit};
use ward_compiler::codegen::layout::Layout;
use ward_compiler::program::{Expr, ExprKind, Program, Type};
use ward_compiler::syntax::ast::PatternPart;
use ward_runtime::{Limits, Runtime};
use ward_tests::differential::{Case, CaseStrategy, Knobs, Stats, check};

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text.trim().parse().unwrap_or_else(|_| panic!("{name} must be a number, found `{text}`")),
        Err(_) => default,
    }
}

fn knobs() -> Knobs {
    match std::env::var("WARD_DIFF_KNOWN_BUGS") {
        Ok(text) => Knobs::parse(&text).unwrap_or_else(|e| panic!("WARD_DIFF_KNOWN_BUGS: {e}")),
        // Every reported disagreement is fixed: generate every shape.
        Err(_) => Knobs::parse("all").unwrap_or_default(),
    }
}

/// The campaign seed: fixed by default, so that the normal run is
/// reproducible.
fn seed() -> Option<u64> {
    match std::env::var("WARD_DIFF_SEED").as_deref() {
        Ok("random") => None,
        Ok(text) => Some(text.trim().parse().unwrap_or_else(|_| panic!("WARD_DIFF_SEED must be a number or `random`"))),
        Err(_) => Some(0x5EED_0FD1),
    }
}

/// Runs `programs` programs of the campaign, part `part` of `parts`.
fn campaign(part: u64, parts: u64) -> Stats {
    let programs = env_number("WARD_DIFF_PROGRAMS", 1_000);
    let requests = env_number("WARD_DIFF_REQUESTS", 20) as usize;
    let mine = programs / parts + u64::from(part < programs % parts);
    let stats = Mutex::new(Stats::default());
    if mine == 0 {
        return Stats::default();
    }
    let knobs = knobs();
    let campaign_seed = seed();
    // One program alone: the campaign seed is the program's seed.
    let single = (programs == 1).then_some(campaign_seed).flatten();
    let config = Config {
        cases: mine as u32,
        failure_persistence: None,
        rng_seed: match campaign_seed {
            Some(s) => RngSeed::Fixed(s.wrapping_add(part.wrapping_mul(0x9E37_79B9))),
            None => RngSeed::Random,
        },
        max_shrink_iters: 1_000,
        ..Config::default()
    };
    // A budget far beyond what any generated request needs: running out is
    // a deny the interpreter, which has no budget, cannot match.
    let runtime = Runtime::with_limits(Limits::default().with_fuel(2_000_000_000)).expect("a runtime");
    let strategy = CaseStrategy { requests, knobs, seed: single };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |case: Case| {
        let found = check(&runtime, &case, knobs).map_err(proptest::test_runner::TestCaseError::fail)?;
        stats.lock().unwrap_or_else(|e| e.into_inner()).add(&found);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    stats.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// The counts of a campaign, checked for variety: a generator that stopped
/// producing some outcome would make the property vacuous.
fn check_variety(stats: &Stats) {
    eprintln!("differential: {stats:?}");
    if stats.programs < 100 {
        return;
    }
    let share = |n: usize| n * 1_000 / stats.requests.max(1);
    assert!(share(stats.allows) >= 20, "too few allows: {stats:?}");
    assert!(share(stats.forbids) >= 20, "too few denies by a forbid: {stats:?}");
    assert!(share(stats.defaults) >= 20, "too few default denies: {stats:?}");
    assert!(stats.overflows >= 5, "too few overflows: {stats:?}");
    assert!(share(stats.invalid) >= 50, "too few requests that do not conform: {stats:?}");
}

#[test]
fn interpreter_and_module_agree_on_generated_programs_part_1() {
    let stats = campaign(0, 2);
    check_variety(&stats);
}

#[test]
fn interpreter_and_module_agree_on_generated_programs_part_2() {
    let stats = campaign(1, 2);
    check_variety(&stats);
}

/// What a program's IR contains: expression forms, operand types of
/// comparisons and arithmetic, scope and clause forms.
fn features(program: &Program, out: &mut BTreeSet<String>) {
    let ty = |t: &Type| -> &'static str {
        match t {
            Type::Bool => "Bool",
            Type::Int { .. } => "Int",
            Type::String => "String",
            Type::Duration => "Duration",
            Type::Timestamp => "Timestamp",
            Type::TimeOfDay => "TimeOfDay",
            Type::Ip => "Ip",
            Type::Cidr => "Cidr",
            Type::Set(_) => "Set",
            Type::Record(_) => "Record",
            Type::Enum(id) if program.schema.enum_type(*id).ordered => "Level",
            Type::Enum(_) => "Enum",
            Type::Entity(_) => "Entity",
        }
    };
    let expr = |e: &Expr, out: &mut BTreeSet<String>| {
        visit(e, &mut |e| {
            let name = match &e.kind {
                ExprKind::Const(_) => "Const".to_owned(),
                ExprKind::Principal => "Principal".to_owned(),
                ExprKind::Resource => "Resource".to_owned(),
                ExprKind::Context => "Context".to_owned(),
                ExprKind::Var(_) => "Var".to_owned(),
                ExprKind::Attr(..) => "Attr".to_owned(),
                ExprKind::Has(..) => "Has".to_owned(),
                ExprKind::Set(_) => "Set".to_owned(),
                ExprKind::Not(_) => "Not".to_owned(),
                ExprKind::Neg(a) => format!("Neg {}", ty(&a.ty)),
                ExprKind::And(..) => "And".to_owned(),
                ExprKind::Or(..) => "Or".to_owned(),
                ExprKind::If(..) => "If".to_owned(),
                ExprKind::Let(..) => "Let".to_owned(),
                ExprKind::Equal { left, .. } => format!("Equal {}", ty(&left.ty)),
                ExprKind::Compare(_, a, _) => format!("Compare {}", ty(&a.ty)),
                ExprKind::Arith(op, a, b) => format!("Arith {op:?} {} {}", ty(&a.ty), ty(&b.ty)),
                ExprKind::InHierarchy(_, t) => format!("InHierarchy {}", ty(&t.ty)),
                ExprKind::InSet(..) => "InSet".to_owned(),
                ExprKind::InRange(..) => "InRange".to_owned(),
                ExprKind::Like(_, parts) => {
                    let star = parts.iter().any(|p| matches!(p, PatternPart::Literal(s) if s.contains('*')));
                    format!("Like{}", if star { " literal star" } else { "" })
                }
                ExprKind::StrOp(op, ..) => format!("StrOp {op:?}"),
                ExprKind::ContainsAll(..) => "ContainsAll".to_owned(),
                ExprKind::ContainsAny(..) => "ContainsAny".to_owned(),
                ExprKind::IsEmpty(_) => "IsEmpty".to_owned(),
                ExprKind::Size(_) => "Size".to_owned(),
                ExprKind::Quantifier { all, .. } => {
                    format!("Quantifier {}", if *all { "all" } else { "any" })
                }
                ExprKind::TimeOfDay(_) => "TimeOfDay".to_owned(),
                ExprKind::Call(..) => "Call".to_owned(),
            };
            out.insert(name);
        });
    };
    for def in &program.defs {
        expr(&def.body, out);
    }
    for rule in &program.rules {
        for (when, condition) in &rule.conditions {
            out.insert(if *when { "when" } else { "unless" }.to_owned());
            expr(condition, out);
        }
        for (role, scope) in [("principal", &rule.scope.principal), ("resource", &rule.scope.resource)] {
            if scope.types.is_some() {
                out.insert(format!("scope {role}: T"));
            }
            if scope.eq.is_some() {
                out.insert(format!("scope {role} =="));
            }
            if scope.within.is_some() {
                out.insert(format!("scope {role} in"));
            }
        }
        out.insert(if rule.scope.actions.is_some() { "scope actions" } else { "scope any action" }.to_owned());
        if rule.obligations.iter().any(|o| !o.args.is_empty()) {
            out.insert("obligation with arguments".to_owned());
        }
    }
}

/// The generator writes every expression form, on every type it applies
/// to, and every scope and clause form; and programs that dispatch through
/// switches, some wide enough for a table.
#[test]
fn the_generator_covers_the_language() {
    let mut found = BTreeSet::new();
    let (mut switches, mut tables, mut batches) = (0, 0, 0);
    for seed in 0..400 {
        let policy = ward_tests::policy::generate(seed, Knobs::default());
        let compilation = ward_compiler::compile(policy.files(&vec![true; policy.rules.len()]));
        let program = compilation.program.unwrap_or_else(|| panic!("seed {seed} does not compile"));
        features(&program, &mut found);
        let layout = Layout::new(&program.schema);
        let mut ids: HashMap<String, u32> = HashMap::new();
        let trees = index::build(&program, &layout, &mut |s: &str| {
            let next = ids.len() as u32 + 1;
            *ids.entry(s.to_owned()).or_insert(next)
        });
        let (mut s, mut t) = (0, 0);
        trees.iter().for_each(|n| count_switches(n, &mut s, &mut t));
        switches += usize::from(s > 0);
        tables += usize::from(t > 0);
        batches += usize::from(trees.iter().any(|n| has_batch(n, &program)));
    }
    let mut expected: Vec<String> = [
        "Const",
        "Principal",
        "Resource",
        "Context",
        "Var",
        "Attr",
        "Has",
        "Set",
        "Not",
        "Neg Int",
        "Neg Duration",
        "And",
        "Or",
        "If",
        "Let",
        "Compare Int",
        "Compare Duration",
        "Compare Timestamp",
        "Compare TimeOfDay",
        "Compare Level",
        "Arith Add Int Int",
        "Arith Sub Int Int",
        "Arith Mul Int Int",
        "Arith Add Duration Duration",
        "Arith Sub Duration Duration",
        "Arith Add Timestamp Duration",
        "Arith Sub Timestamp Duration",
        "Arith Sub Timestamp Timestamp",
        "InHierarchy Entity",
        "InHierarchy Set",
        "InSet",
        "InRange",
        "Like",
        "Like literal star",
        "StrOp StartsWith",
        "StrOp EndsWith",
        "StrOp Contains",
        "ContainsAll",
        "ContainsAny",
        "IsEmpty",
        "Size",
        "Quantifier all",
        "Quantifier any",
        "TimeOfDay",
        "Call",
        "when",
        "unless",
        "scope principal: T",
        "scope principal ==",
        "scope principal in",
        "scope resource: T",
        "scope resource ==",
        "scope resource in",
        "scope actions",
        "scope any action",
        "obligation with arguments",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for t in
        ["Bool", "Int", "String", "Duration", "Timestamp", "TimeOfDay", "Ip", "Cidr", "Enum", "Level", "Entity", "Set"]
    {
        expected.push(format!("Equal {t}"));
    }
    let missing: Vec<&String> = expected.iter().filter(|e| !found.contains(*e)).collect();
    assert!(missing.is_empty(), "the generator never wrote: {missing:?}");
    assert!(switches >= 40, "too few programs dispatch through a switch: {switches} of 400");
    assert!(tables >= 4, "too few programs dispatch through a table: {tables} of 400");
    assert!(batches >= 50, "too few programs have a leaf of three copies of a rule: {batches} of 400");
}

/// Whether a leaf of the dispatch tree holds a rule and two or more of its
/// copies that differ only in literals (ids `R<n>` and `R<n>v<k>`), which
/// code generation evaluates as one loop over their literals.
fn has_batch(node: &Node, program: &Program) -> bool {
    match node {
        Node::Leaf(rules) => {
            let mut families: HashMap<&str, usize> = HashMap::new();
            for &i in rules {
                let id = program.rules[i].id.as_str();
                let family = id.split_once('v').map_or(id, |(base, _)| base);
                *families.entry(family).or_default() += 1;
            }
            families.values().any(|&n| n >= 3)
        }
        Node::Switch { cases, rest, .. } => {
            cases.iter().any(|(_, c)| has_batch(c, program)) || has_batch(rest, program)
        }
    }
}

fn count_switches(node: &Node, switches: &mut usize, tables: &mut usize) {
    if let Node::Switch { cases, rest, .. } = node {
        *switches += 1;
        *tables += usize::from(cases.len() > 8);
        cases.iter().for_each(|(_, c)| count_switches(c, switches, tables));
        count_switches(rest, switches, tables);
    }
}
