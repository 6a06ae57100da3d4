//! Code generation: a checked program to a self-contained WebAssembly
//! decision module, as `spec/abi.md` defines it.
//!
//! The program is first lowered to the decision IR ([`index`]): per action,
//! a tree that dispatches on literal equalities so that a request reaches
//! only the rules that could apply. Each tree node becomes a function that
//! evaluates its rules and calls the subtree the request's key selects
//! (directly, or through a table for a switch of many cases); identical
//! subtrees, of one tree or of several, are one function. A rule is
//! evaluated in place in the leaves that need it, unless it is large and
//! several leaves do: then it is a function of its own that they call.
//! Rules that differ only in their literals — a large policy's thousands of
//! per-model or per-department rules — share one function, their template,
//! which each leaf calls with the rule's literals as arguments. Where a leaf
//! has several rules of one template (a model's many guards), it makes one
//! call instead, of the template's loop over a table of their literals.
//!
//! Memory layout: constant data from address 16, then the three answer
//! lists (applicable permits, applicable forbids, failing rules), then the
//! request buffer, which is the only thing that ever grows.

mod data;
mod emit;
mod func;
mod helpers;
pub mod index;
pub mod layout;

use std::borrow::Cow;
use std::collections::HashMap;

use sha2::{Digest, Sha256};
use ward_types::manifest::{self, ABI_VERSION, MANIFEST_SECTION, Manifest, ObligationInfo, RuleInfo};
use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, CustomSection, DataSection, ElementSection, Elements, Encode, ExportKind,
    ExportSection, Function, FunctionSection, GlobalSection, GlobalType, Instruction as I, MemorySection, MemoryType,
    Module, RefType, TableSection, TableType, TypeSection, ValType,
};

use self::data::Data;
use self::emit::{ActionTypes, Emitter, Literal};
use self::func::Func;
use self::helpers::{Ctx, G_ERRORS, G_FORBIDS, G_PERMITS, H};
use self::index::{Key, Node};
use self::layout::Layout;
use crate::program::{Effect, Program};
use crate::span::SourceMap;

const DATA_START: u32 = 16;
const PAGE: u64 = 65_536;
/// Switches with more cases than this dispatch through a table.
const SMALL_SWITCH: usize = 8;
/// A rule of at most this many instructions is inlined into each of up to
/// [`INLINE_LEAVES`] leaves that evaluate it, rather than called: its
/// leaves' code then runs straight through, for a few bytes more.
const SMALL_RULE: usize = 64;
const INLINE_LEAVES: usize = 8;
/// Rules that differ only in their literals share one function, their
/// template, when there are at least this many of them: a large policy's
/// thousands of rules of a few shapes then run a few functions that stay in
/// cache, and its module is a fraction of the size.
const TEMPLATE_MIN: usize = 4;
/// The rules of one template and effect that a leaf evaluates, when there
/// are at least this many, are one call of the template's batch function,
/// which loops over a table of their literals in data: a call per rule costs
/// more than an iteration (a large policy's per-model guards are such runs).
const BATCH_MIN: usize = 3;
/// A rule with more literals than this keeps its own code: a call passing
/// them all would be no smaller, and WebAssembly caps a function's
/// parameters (at 1,000 in common validators).
const TEMPLATE_PARAMS_MAX: usize = 64;

/// A compiled decision module.
#[derive(Debug, Clone)]
pub struct Output {
    /// The WebAssembly binary.
    pub wasm: Vec<u8>,
    /// The manifest it carries.
    pub manifest: Manifest,
}

/// A dispatch-tree node flattened into a function.
enum NodeFn {
    Leaf(Vec<usize>),
    Switch { key: Key, cases: Vec<(u32, usize)>, rest: usize, table: Option<u32> },
}

/// What makes two flattened nodes the same function.
#[derive(PartialEq, Eq, Hash)]
enum Shape {
    Leaf(Vec<usize>),
    Switch(Key, Vec<(u32, usize)>, usize),
}

impl NodeFn {
    fn shape(&self) -> Shape {
        match self {
            NodeFn::Leaf(rules) => Shape::Leaf(rules.clone()),
            NodeFn::Switch { key, cases, rest, .. } => Shape::Switch(*key, cases.clone(), *rest),
        }
    }
}

/// `node` as a function whose children are in `nodes`. Identical subtrees
/// become one function: the trees of several actions often hold the same
/// rules for one resource (a guard on a model covers every model action),
/// and a module then has their code once, and a request for any of those
/// actions runs the same code.
fn flatten(node: &Node, nodes: &mut Vec<NodeFn>, interned: &mut HashMap<Shape, usize>) -> NodeFn {
    match node {
        Node::Leaf(rules) => NodeFn::Leaf(rules.clone()),
        Node::Switch { key, cases, rest } => {
            let rest = intern(rest, nodes, interned);
            let cases = cases.iter().map(|(value, child)| (*value, intern(child, nodes, interned))).collect();
            NodeFn::Switch { key: *key, cases, rest, table: None }
        }
    }
}

/// The index in `nodes` of `node`'s function, added unless an identical
/// one is there.
fn intern(node: &Node, nodes: &mut Vec<NodeFn>, interned: &mut HashMap<Shape, usize>) -> usize {
    let function = flatten(node, nodes, interned);
    *interned.entry(function.shape()).or_insert_with(|| {
        nodes.push(function);
        nodes.len() - 1
    })
}

/// A function of the module other than helpers and exports.
#[derive(Debug, Clone, Copy)]
enum Body {
    Template(usize),
    Batch(usize),
    Rule(usize),
    Node(usize),
    Noop,
}

/// The order of the functions: each dispatch node, depth first from the
/// action roots, followed by the shared rule functions its leaf calls that
/// no earlier leaf did. Code that runs for one request then sits close
/// together, which keeps a large policy's decisions from touching memory all
/// over its code.
fn placement(nodes: &[NodeFn], actions: usize, shared: &[bool], templates: usize, batches: usize) -> Vec<Body> {
    struct Seen {
        rules: Vec<bool>,
        nodes: Vec<bool>,
    }
    fn place(k: usize, nodes: &[NodeFn], placed: &mut Vec<Body>, seen: &mut Seen) {
        // A node shared by several trees is placed where it is first reached.
        if seen.nodes.get(k).is_none_or(|&s| s) {
            return;
        }
        seen.nodes[k] = true;
        placed.push(Body::Node(k));
        match &nodes[k] {
            NodeFn::Leaf(leaf) => {
                for &r in leaf {
                    if !std::mem::replace(&mut seen.rules[r], true) {
                        placed.push(Body::Rule(r));
                    }
                }
            }
            NodeFn::Switch { cases, rest, .. } => {
                place(*rest, nodes, placed, seen);
                for (_, child) in cases {
                    place(*child, nodes, placed, seen);
                }
            }
        }
    }
    let mut placed = vec![Body::Noop];
    placed.extend((0..templates).map(Body::Template));
    placed.extend((0..batches).map(Body::Batch));
    // Rules without a function of their own count as placed.
    let mut seen = Seen { rules: shared.iter().map(|&s| !s).collect(), nodes: vec![false; nodes.len()] };
    for root in 0..actions {
        place(root, nodes, &mut placed, &mut seen);
    }
    placed
}

/// What a leaf evaluates, in order.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// One rule.
    Rule(usize),
    /// Rules of one batch function (an index into the batches), whose
    /// records are at `table..end` in data.
    Batch { batch: usize, table: u32, end: u32 },
}

/// A batch function: the template and the effect of the rules it evaluates.
type Batch = (usize, Effect);

/// A leaf's steps: its rules, those of a template and effect with at least
/// [`BATCH_MIN`] rules in the leaf gathered into one batch step (where the
/// first of them was) whose table of records is placed in `data`.
fn steps(
    program: &Program,
    rules: &[usize],
    template_of: &[Option<TemplateCall>],
    batches: &mut Vec<Batch>,
    data: &mut Data,
) -> Vec<Step> {
    let batch_of = |r: usize| template_of[r].as_ref().map(|(t, _)| (*t, program.rules[r].effect));
    let mut counts: HashMap<Batch, usize> = HashMap::new();
    for &r in rules {
        if let Some(b) = batch_of(r) {
            *counts.entry(b).or_default() += 1;
        }
    }
    let mut steps = Vec::new();
    let mut gathered: Vec<Batch> = Vec::new();
    for &r in rules {
        let Some(key) = batch_of(r).filter(|b| counts[b] >= BATCH_MIN) else {
            steps.push(Step::Rule(r));
            continue;
        };
        if gathered.contains(&key) {
            continue;
        }
        gathered.push(key);
        let mut table = Vec::new();
        for &q in rules.iter().filter(|&&q| batch_of(q) == Some(key)) {
            table.extend_from_slice(&(q as i32).to_le_bytes());
            for literal in template_of[q].iter().flat_map(|(_, literals)| literals) {
                literal.write(&mut table);
            }
        }
        let batch = batches.iter().position(|b| *b == key).unwrap_or_else(|| {
            batches.push(key);
            batches.len() - 1
        });
        let table_at = data.bytes(&table);
        steps.push(Step::Batch { batch, table: table_at, end: table_at + table.len() as u32 });
    }
    steps
}

/// A template's parameter types and function.
type Template = (Vec<ValType>, Function);
/// How a rule is evaluated through a template: which, with which literals.
type TemplateCall = (usize, Vec<Literal>);

/// The templates shared by at least [`TEMPLATE_MIN`] of the rules that some
/// leaf evaluates, each as its first rule, and per rule, its template and
/// literals when it has one. Which rules share a template does not depend on
/// `base` (every rule addresses requests from it alike).
fn templates(
    program: &Program,
    layout: &Layout,
    data: &mut Data,
    base: u32,
    leaves_of: &[usize],
    action_types: &[Option<ActionTypes>],
) -> (Vec<usize>, Vec<Option<TemplateCall>>) {
    // Rules of the same shape have the same parameter types and body.
    let mut shapes: HashMap<(Vec<ValType>, Vec<u8>), usize> = HashMap::new();
    // Per shape, its first rule and how many rules have it.
    let mut found: Vec<(usize, usize)> = Vec::new();
    let mut of_rule: Vec<Option<TemplateCall>> = Vec::with_capacity(program.rules.len());
    for (r, (rule, &uses)) in program.rules.iter().zip(leaves_of).enumerate() {
        if uses == 0 {
            of_rule.push(None);
            continue;
        }
        let mut emitter = Emitter::new(program, layout, data, base);
        let (f, literals) = emitter.template(rule, action_types[r].as_ref());
        if literals.len() > TEMPLATE_PARAMS_MAX {
            of_rule.push(None);
            continue;
        }
        let params: Vec<ValType> = literals.iter().map(|l| l.val()).collect();
        let mut body = Vec::new();
        f.finish().encode(&mut body);
        let shape = *shapes.entry((params, body)).or_insert_with(|| {
            found.push((r, 0));
            found.len() - 1
        });
        found[shape].1 += 1;
        of_rule.push(Some((shape, literals)));
    }
    // Only shapes with enough rules become templates, renumbered in order.
    let mut number = vec![None; found.len()];
    let mut templates = Vec::new();
    for (shape, (first, count)) in found.into_iter().enumerate() {
        if count >= TEMPLATE_MIN {
            number[shape] = Some(templates.len());
            templates.push(first);
        }
    }
    let of_rule =
        of_rule.into_iter().map(|t| t.and_then(|(shape, literals)| Some((number[shape]?, literals)))).collect();
    (templates, of_rule)
}

/// The helper that notes a rule of this effect's status.
fn note_of(effect: Effect) -> H {
    match effect {
        Effect::Permit => H::NotePermit,
        Effect::Forbid => H::NoteForbid,
    }
}

/// The SHA-256 of the sources, as the manifest reports it.
pub fn source_hash(sources: &SourceMap) -> String {
    let mut files: Vec<(&str, &str)> = sources.iter().map(|(_, f)| (f.name.as_str(), f.text.as_str())).collect();
    files.sort();
    let mut hasher = Sha256::new();
    for (name, text) in files {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.update([0]);
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn packages(sources: &SourceMap) -> Vec<String> {
    let mut packages: Vec<String> = sources
        .iter()
        .filter_map(|(_, f)| {
            let tokens = crate::syntax::lexer::lex(&f.text).tokens;
            let mut iter = tokens.iter().map(|(_, t, _)| t);
            if iter.next() != Some(&crate::syntax::lexer::Tok::Package) {
                return None;
            }
            let mut name = String::new();
            for t in iter {
                match t {
                    crate::syntax::lexer::Tok::Ident(s) => name.push_str(s),
                    crate::syntax::lexer::Tok::Dot => name.push('.'),
                    _ => break,
                }
            }
            Some(name)
        })
        .collect();
    packages.sort();
    packages.dedup();
    packages
}

/// Compiles a checked program into a decision module.
pub fn build(program: &Program, sources: &SourceMap) -> Output {
    let layout = Layout::new(&program.schema);
    let mut data = Data::new(DATA_START);
    let trees = index::build(program, &layout, &mut |s| data.string_id(s));
    let actions = trees.len();
    // Action roots first, so that the action's number selects its table entry.
    let mut nodes: Vec<NodeFn> = (0..actions).map(|_| NodeFn::Leaf(Vec::new())).collect();
    let mut interned = HashMap::new();
    for (root, tree) in trees.iter().enumerate() {
        nodes[root] = flatten(tree, &mut nodes, &mut interned);
    }
    // The function table: the no-op, the action roots (so that the action's
    // number plus one selects its entry), then the children of large
    // switches, which dispatch through an array of table indices in data.
    // Other nodes are called directly and stay out of the table.
    let mut table_nodes: Vec<usize> = (0..actions).collect();
    let mut table_slot: Vec<Option<u32>> = (0..nodes.len()).map(|k| (k < actions).then_some(k as u32 + 1)).collect();
    for node in &mut nodes {
        if let NodeFn::Switch { cases, table, .. } = node
            && cases.len() > SMALL_SWITCH
        {
            let max = cases.iter().map(|(v, _)| *v).max().unwrap_or(0);
            let mut array = vec![0u8; (max as usize + 1) * 4];
            for (value, child) in cases.iter() {
                let slot = *table_slot[*child].get_or_insert_with(|| {
                    table_nodes.push(*child);
                    table_nodes.len() as u32
                });
                array[*value as usize * 4..*value as usize * 4 + 4].copy_from_slice(&slot.to_le_bytes());
            }
            *table = Some(data.bytes(&array));
        }
    }

    // Pass 1 places every constant; pass 2 emits code with the final base.
    let action_types: Vec<Option<ActionTypes>> = program.rules.iter().map(|r| ActionTypes::of(program, r)).collect();
    let types_for = |rule: usize| action_types[rule].as_ref();
    let rule_sizes: Vec<usize> = program
        .rules
        .iter()
        .enumerate()
        .map(|(r, rule)| {
            let mut emitter = Emitter::new(program, &layout, &mut data, 0);
            emitter.rule(rule, types_for(r)).instructions()
        })
        .collect();
    // A rule evaluated by one leaf only is inlined there, and so is a small
    // one a few leaves evaluate (it has several actions); any other is a
    // function its leaves call.
    let mut leaves_of = vec![0usize; program.rules.len()];
    for node in &nodes {
        if let NodeFn::Leaf(rules) = node {
            for &r in rules {
                leaves_of[r] += 1;
            }
        }
    }
    // Templates are found before requests' base is known, so that the batch
    // tables, which hold the rules' literals, are placed with the constants;
    // their code is emitted once it is known, from each one's first rule.
    let (template_rules, template_of) = templates(program, &layout, &mut data, 0, &leaves_of, &action_types);
    let mut batches: Vec<Batch> = Vec::new();
    let leaf_steps: Vec<Vec<Step>> = nodes
        .iter()
        .map(|node| match node {
            NodeFn::Leaf(rules) => steps(program, rules, &template_of, &mut batches, &mut data),
            NodeFn::Switch { .. } => Vec::new(),
        })
        .collect();
    let n = program.rules.len() as u32;
    let list = 4 + 4 * n;
    // The answer slot (ABI: where `ward_output` points), then the lists.
    let answer_slot = data.end().div_ceil(8) * 8;
    let permits = answer_slot + 8;
    let forbids = permits + list;
    let errors = forbids + list;
    let base = (errors + list).div_ceil(16) * 16;
    let ctx = Ctx { base, permits, forbids, errors };

    let templates: Vec<Template> = template_rules
        .iter()
        .map(|&r| {
            let rule = &program.rules[r];
            let mut emitter = Emitter::new(program, &layout, &mut data, base);
            let (f, literals) = emitter.template(rule, types_for(r));
            (literals.iter().map(|l| l.val()).collect(), f.finish())
        })
        .collect();
    let shared: Vec<bool> = leaves_of
        .iter()
        .zip(&rule_sizes)
        .zip(&template_of)
        .map(|((&uses, &size), template)| template.is_none() && uses > 1 && (uses > INLINE_LEAVES || size > SMALL_RULE))
        .collect();
    let mut rule_fns: Vec<Option<Func>> = program
        .rules
        .iter()
        .zip(&shared)
        .enumerate()
        .map(|(r, (rule, &shared))| {
            shared.then(|| {
                let mut emitter = Emitter::new(program, &layout, &mut data, base);
                emitter.rule(rule, types_for(r))
            })
        })
        .collect();

    // Function indices: helpers, then the bodies in placement order, then
    // the exports.
    let helper_list = helpers::all();
    let first_body = helper_list.len() as u32;
    let placed = placement(&nodes, actions, &shared, templates.len(), batches.len());
    let mut template_fn = vec![0u32; templates.len()];
    let mut batch_fn = vec![0u32; batches.len()];
    let mut rule_fn = vec![0u32; program.rules.len()];
    let mut node_fn = vec![0u32; nodes.len()];
    let mut noop = 0;
    for (position, body) in placed.iter().enumerate() {
        let index = first_body + position as u32;
        match *body {
            Body::Template(t) => template_fn[t] = index,
            Body::Batch(b) => batch_fn[b] = index,
            Body::Rule(r) => rule_fn[r] = index,
            Body::Node(k) => node_fn[k] = index,
            Body::Noop => noop = index,
        }
    }
    let first_export = first_body + placed.len() as u32;

    let mut types = TypeSection::new();
    let mut signatures: Vec<(Vec<ValType>, Vec<ValType>)> = Vec::new();
    let mut type_of = |params: Vec<ValType>, results: Vec<ValType>| -> u32 {
        if let Some(i) = signatures.iter().position(|(p, r)| *p == params && *r == results) {
            return i as u32;
        }
        types.ty().function(params.clone(), results.clone());
        signatures.push((params, results));
        signatures.len() as u32 - 1
    };
    let void = type_of(vec![], vec![]);
    let to_i32 = type_of(vec![], vec![ValType::I32]);
    let i32_to_i32 = type_of(vec![ValType::I32], vec![ValType::I32]);
    let range = type_of(vec![ValType::I32, ValType::I32], vec![]);

    let mut functions = FunctionSection::new();
    let mut code = CodeSection::new();
    for h in &helper_list {
        let (params, results) = helpers::signature(*h);
        functions.function(type_of(params, results));
        code.function(&helpers::build(*h, ctx).finish());
    }
    let mut templates = templates.into_iter().map(Some).collect::<Vec<_>>();
    for body in &placed {
        let (k, node) = match *body {
            Body::Template(t) => {
                let (params, function) = templates[t].take().unwrap_or_else(|| (Vec::new(), Func::new(0).finish()));
                functions.function(type_of(params, vec![ValType::I32]));
                code.function(&function);
                continue;
            }
            Body::Batch(b) => {
                // Loops over the records from the first parameter's address
                // to the second's, evaluating on each the template's code (as
                // its first rule has it, literals read from the record).
                let (t, effect) = batches[b];
                let first = template_rules[t];
                let rule = &program.rules[first];
                functions.function(range);
                let (record, end) = (0, 1);
                let mut f = Func::new(2);
                let status = f.local(ValType::I32);
                f.loop_();
                let top = f.depth();
                let mut emitter = Emitter::new(program, &layout, &mut data, base);
                let literals = emitter.batch_into(&mut f, rule, types_for(first), record);
                let size = emit::RECORD_HEADER + literals.iter().map(|l| l.size()).sum::<u32>();
                f.tee(status).if_(BlockType::Empty);
                let rule_index = |f: &mut Func| _ = f.get(record).load32(0);
                helpers::note_into(&mut f, ctx, effect == Effect::Permit, &rule_index, status);
                f.end();
                f.get(record).i32(size as i32).op(I::I32Add).tee(record).get(end).op(I::I32LtU).br_if(top);
                f.end();
                code.function(&f.finish());
                continue;
            }
            Body::Rule(r) => {
                functions.function(to_i32);
                code.function(&rule_fns[r].take().unwrap_or_else(|| Func::new(0)).finish());
                continue;
            }
            Body::Noop => {
                functions.function(void);
                code.function(&Func::new(0).finish());
                continue;
            }
            Body::Node(k) => (k, &nodes[k]),
        };
        functions.function(void);
        let mut f = Func::new(0);
        match node {
            NodeFn::Leaf(_) => {
                // A rule's status: 0 it does not apply, 1 it does, 2 it
                // failed. Most rules of a leaf do not apply, so the note is
                // called only for the others.
                let status = f.local(ValType::I32);
                for step in &leaf_steps[k] {
                    let r = match *step {
                        Step::Rule(r) => r,
                        Step::Batch { batch, table, end } => {
                            f.addr(table).addr(end).call(batch_fn[batch]);
                            continue;
                        }
                    };
                    let rule = &program.rules[r];
                    if let Some((t, literals)) = &template_of[r] {
                        for literal in literals {
                            literal.push(&mut f);
                        }
                        f.call(template_fn[*t]);
                    } else if shared[r] {
                        f.call(rule_fn[r]);
                    } else {
                        let mut emitter = Emitter::new(program, &layout, &mut data, base);
                        emitter.rule_into(&mut f, rule, types_for(r));
                    }
                    f.tee(status).if_(BlockType::Empty);
                    f.i32(r as i32).get(status).call(helpers::index(note_of(rule.effect)));
                    f.end();
                }
            }
            NodeFn::Switch { key, cases, rest, table } => {
                f.call(node_fn[*rest]);
                let value = f.local(ValType::I32);
                f.addr(base + key.offset).load32(0).set(value);
                match table {
                    Some(array) => {
                        let max = cases.iter().map(|(v, _)| *v).max().unwrap_or(0);
                        f.get(value).addr(max).op(I::I32LeU).if_(BlockType::Empty);
                        f.get(value).i32(4).op(I::I32Mul).load32(*array);
                        f.op(I::CallIndirect { type_index: void, table_index: 0 });
                        f.end();
                    }
                    None => {
                        for (case, child) in cases {
                            f.get(value).addr(*case).op(I::I32Eq).if_(BlockType::Empty);
                            f.call(node_fn[*child]).end();
                        }
                    }
                }
            }
        }
        code.function(&f.finish());
    }

    // Exports.
    let fixed = layout.schema.fixed_size;
    functions.function(to_i32);
    let mut f = Func::new(0);
    f.i32(ABI_VERSION as i32);
    code.function(&f.finish());

    functions.function(i32_to_i32);
    let mut f = Func::new(1);
    let needed = f.local(ValType::I64);
    f.get(0).i32(0).op(I::I32LtS).if_(BlockType::Empty).i32(0).op(I::Return).end();
    f.get(0).op(I::I64ExtendI32U).op(I::I64Const(i64::from(base))).op(I::I64Add).set(needed);
    f.get(needed).op(I::MemorySize(0)).op(I::I64ExtendI32U).op(I::I64Const(PAGE as i64)).op(I::I64Mul).op(I::I64GtU);
    f.if_(BlockType::Empty);
    f.get(needed).op(I::MemorySize(0)).op(I::I64ExtendI32U).op(I::I64Const(PAGE as i64)).op(I::I64Mul).op(I::I64Sub);
    f.op(I::I64Const(PAGE as i64 - 1)).op(I::I64Add).op(I::I64Const(PAGE as i64)).op(I::I64DivU).op(I::I32WrapI64);
    f.op(I::MemoryGrow(0)).i32(-1).op(I::I32Eq).if_(BlockType::Empty).i32(0).op(I::Return).end();
    f.end();
    f.addr(base);
    code.function(&f.finish());

    functions.function(i32_to_i32);
    let mut f = Func::new(1);
    for g in [G_PERMITS, G_FORBIDS, G_ERRORS] {
        f.i32(0).op(I::GlobalSet(g));
    }
    // Unreadable: shorter than the fixed part, longer than memory, or an
    // action number out of range.
    f.get(0).addr(fixed).op(I::I32LtS);
    f.get(0).op(I::I64ExtendI32U).op(I::I64Const(i64::from(base))).op(I::I64Add);
    f.op(I::MemorySize(0)).op(I::I64ExtendI32U).op(I::I64Const(PAGE as i64)).op(I::I64Mul).op(I::I64GtU).op(I::I32Or);
    f.addr(base).load32(0).addr(actions as u32).op(I::I32GeU).op(I::I32Or);
    f.if_(BlockType::Empty);
    f.addr(permits)
        .i32(0)
        .store32(0)
        .addr(answer_slot)
        .addr(permits)
        .store32(0)
        .i32(manifest::status::BAD_INPUT)
        .op(I::Return);
    f.end();
    f.addr(base).load32(0).i32(1).op(I::I32Add).op(I::CallIndirect { type_index: void, table_index: 0 });
    for (global, list, status) in [
        (G_ERRORS, errors, manifest::status::ERROR),
        (G_FORBIDS, forbids, manifest::status::DENY_FORBID),
        (G_PERMITS, permits, manifest::status::ALLOW),
    ] {
        f.op(I::GlobalGet(global)).if_(BlockType::Empty);
        f.addr(list).op(I::GlobalGet(global)).store32(0);
        f.addr(answer_slot).addr(list).store32(0).i32(status).op(I::Return);
        f.end();
    }
    f.addr(permits).i32(0).store32(0);
    f.addr(answer_slot).addr(permits).store32(0).i32(manifest::status::DENY_DEFAULT);
    code.function(&f.finish());

    functions.function(to_i32);
    let mut f = Func::new(0);
    f.addr(answer_slot);
    code.function(&f.finish());

    let mut tables = TableSection::new();
    let table_size = 1 + table_nodes.len() as u64;
    tables.table(TableType {
        element_type: RefType::FUNCREF,
        table64: false,
        minimum: table_size,
        maximum: Some(table_size),
        shared: false,
    });

    let pages = (u64::from(base) + PAGE).div_ceil(PAGE);
    let mut memories = MemorySection::new();
    memories.memory(MemoryType { minimum: pages, maximum: None, memory64: false, shared: false, page_size_log2: None });

    let mut globals = GlobalSection::new();
    for _ in [G_PERMITS, G_FORBIDS, G_ERRORS] {
        globals.global(GlobalType { val_type: ValType::I32, mutable: true, shared: false }, &ConstExpr::i32_const(0));
    }

    let mut exports = ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0);
    exports.export("ward_abi_version", ExportKind::Func, first_export);
    exports.export("ward_input", ExportKind::Func, first_export + 1);
    exports.export("ward_evaluate", ExportKind::Func, first_export + 2);
    exports.export("ward_output", ExportKind::Func, first_export + 3);

    let mut elements = ElementSection::new();
    let table_funcs: Vec<u32> = std::iter::once(noop).chain(table_nodes.iter().map(|&k| node_fn[k])).collect();
    elements.active(None, &ConstExpr::i32_const(0), Elements::Functions(Cow::Owned(table_funcs)));

    let mut data_section = DataSection::new();
    data_section.active(0, &ConstExpr::i32_const(DATA_START as i32), data.finish(base));

    let manifest = Manifest {
        abi_version: ABI_VERSION,
        packages: packages(sources),
        source_hash: source_hash(sources),
        schema: layout.schema.clone(),
        strings: data.strings().to_vec(),
        obligations: program
            .obligations
            .iter()
            .map(|o| ObligationInfo { name: o.name.clone(), params: o.params.iter().map(|(n, _)| n.clone()).collect() })
            .collect(),
        rules: program
            .rules
            .iter()
            .map(|r| RuleInfo {
                id: r.id.clone(),
                effect: match r.effect {
                    Effect::Permit => manifest::Effect::Permit,
                    Effect::Forbid => manifest::Effect::Forbid,
                },
                reason: r.reason.clone(),
                obligations: r
                    .obligations
                    .iter()
                    .filter_map(|u| crate::interp::render_obligation(program, u))
                    .collect(),
            })
            .collect(),
    };
    let manifest_json = serde_json::to_vec(&manifest).unwrap_or_default();

    let mut module = Module::new();
    module.section(&types);
    module.section(&functions);
    module.section(&tables);
    module.section(&memories);
    module.section(&globals);
    module.section(&exports);
    module.section(&elements);
    module.section(&code);
    module.section(&data_section);
    module.section(&CustomSection { name: Cow::Borrowed(MANIFEST_SECTION), data: Cow::Owned(manifest_json) });
    Output { wasm: module.finish(), manifest }
}
