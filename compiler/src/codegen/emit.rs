//! Rules and expressions to WebAssembly instructions.
//!
//! Values on the stack: `Bool` and enum values as `i32`; `Int`, `Duration`,
//! `Timestamp` and `TimeOfDay` as `i64`; everything else (strings, entities,
//! sets, records, addresses, ranges) as the `i32` address of its slot.
//! A rule function returns 0 (does not apply), 1 (applies) or 2 (failed);
//! failures branch to the function's outermost block.

use std::collections::HashMap;

use wasm_encoder::{BlockType, Instruction as I, ValType};

use super::data::Data;
use super::func::{Func, PARAM_MARK, result};
use super::helpers::{H, Kind, element_value, index};
use super::layout::{Layout, record_field};
use crate::program::{
    ArithOp, Const, EntityLit, EntityScope, EntityTypeId, Expr, ExprKind, Ordering, Program, Rule, StrOp, Type, VarId,
};
use crate::syntax::ast::PatternPart;

/// The entity types a rule's actions allow for the principal and for the
/// resource (each sorted and distinct): what the host has checked before the
/// module runs (`spec/abi.md`, request validation), so that a rule need not
/// test what they already guarantee. Absent for a rule of any action.
#[derive(Debug, Clone)]
pub struct ActionTypes {
    /// The principal types of the rule's actions.
    pub principals: Vec<EntityTypeId>,
    /// The resource types of the rule's actions.
    pub resources: Vec<EntityTypeId>,
}

impl ActionTypes {
    /// What `rule`'s actions allow, when it names its actions.
    pub fn of(program: &Program, rule: &Rule) -> Option<ActionTypes> {
        let actions = rule.scope.actions.as_ref()?;
        let union = |role: fn(&crate::program::ActionDecl) -> &[EntityTypeId]| {
            let mut all: Vec<EntityTypeId> =
                actions.iter().flat_map(|a| role(&program.schema.actions[a.0 as usize]).iter().copied()).collect();
            all.sort();
            all.dedup();
            all
        };
        Some(ActionTypes { principals: union(|a| &a.principals), resources: union(|a| &a.resources) })
    }
}

/// The representation of a value of type `ty`.
pub fn val(ty: &Type) -> ValType {
    match ty {
        Type::Int { .. } | Type::Duration | Type::Timestamp | Type::TimeOfDay => ValType::I64,
        _ => ValType::I32,
    }
}

/// How elements of a set of `element` are stored.
pub fn kind(element: &Type) -> Kind {
    match element {
        Type::Int { .. } | Type::Duration | Type::Timestamp | Type::TimeOfDay => Kind::I64,
        Type::String => Kind::Str,
        Type::Entity(_) => Kind::Ent,
        _ => Kind::I32,
    }
}

fn set_kind(ty: &Type) -> Kind {
    match ty {
        Type::Set(element) => kind(element),
        _ => Kind::I32,
    }
}

const DAY_MS: i64 = 86_400_000;

/// A literal of a rule: a value its code would hold as a constant, which
/// its template takes as an argument instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Literal {
    I32(i32),
    I64(i64),
}

impl Literal {
    /// The parameter type that carries it.
    pub fn val(self) -> ValType {
        match self {
            Literal::I32(_) => ValType::I32,
            Literal::I64(_) => ValType::I64,
        }
    }

    /// Pushes the value.
    pub fn push(self, f: &mut Func) {
        match self {
            Literal::I32(v) => f.i32(v),
            Literal::I64(v) => f.i64(v),
        };
    }

    /// Its size in a batch record.
    pub fn size(self) -> u32 {
        match self {
            Literal::I32(_) => 4,
            Literal::I64(_) => 8,
        }
    }

    /// Appends its bytes to a batch record, little-endian, unaligned.
    pub fn write(self, record: &mut Vec<u8>) {
        match self {
            Literal::I32(v) => record.extend_from_slice(&v.to_le_bytes()),
            Literal::I64(v) => record.extend_from_slice(&v.to_le_bytes()),
        }
    }
}

/// The size of a batch record's header: the rule's index, an `i32`.
pub const RECORD_HEADER: u32 = 4;

/// Emits rule functions.
#[derive(Debug)]
pub struct Emitter<'a> {
    /// The program.
    pub program: &'a Program,
    /// The request layout.
    pub layout: &'a Layout,
    /// Constant data.
    pub data: &'a mut Data,
    /// Where requests start in memory.
    pub base: u32,
    /// While a template is emitted, the literals read so far, each a
    /// parameter.
    literals: Option<Vec<Literal>>,
    /// While a batch is emitted, the local holding the address of the
    /// record that carries the literals ([`Emitter::batch_into`]).
    record: Option<u32>,
}

struct Ctx {
    f: Func,
    vars: HashMap<VarId, u32>,
    err: u32,
    /// The label of the rule's block, which leaves its answer.
    done: u32,
    /// The function inlining in progress: each call gets its own number, so
    /// that set literals in two calls of one function get two scratch areas.
    instance: u32,
    instances: u32,
}

impl<'a> Emitter<'a> {
    /// An emitter of code for requests at `base`.
    pub fn new(program: &'a Program, layout: &'a Layout, data: &'a mut Data, base: u32) -> Emitter<'a> {
        Emitter { program, layout, data, base, literals: None, record: None }
    }

    /// The function deciding whether `rule` applies: 1 when it does, 0 when
    /// it does not, 2 when evaluating it fails.
    pub fn rule(&mut self, rule: &Rule, actions: Option<&ActionTypes>) -> Func {
        let mut f = Func::new(0);
        self.rule_into(&mut f, rule, actions);
        f
    }

    /// The rule's template: [`Emitter::rule`]'s function with the rule's
    /// literals (numbers, interned string ids, enum values, entity types,
    /// addresses of constant data) taken as parameters, and those literals.
    /// Rules that differ only in their literals have the same template.
    pub fn template(&mut self, rule: &Rule, actions: Option<&ActionTypes>) -> (Func, Vec<Literal>) {
        self.literals = Some(Vec::new());
        let f = self.rule(rule, actions);
        let literals = self.literals.take().unwrap_or_default();
        let params: Vec<ValType> = literals.iter().map(|l| l.val()).collect();
        (f.with_params(&params), literals)
    }

    /// The rule's code evaluating a record of literals in place of
    /// constants: [`Emitter::rule_into`]'s block, reading each literal from
    /// the record whose address is in local `record` (the rule's index, an
    /// `i32`, then each literal in [`Literal::write`]'s form, in order), and
    /// the rule's literals. Rules that share a template share this code.
    pub fn batch_into(
        &mut self,
        f: &mut Func,
        rule: &Rule,
        actions: Option<&ActionTypes>,
        record: u32,
    ) -> Vec<Literal> {
        self.literals = Some(Vec::new());
        self.record = Some(record);
        self.rule_into(f, rule, actions);
        self.record = None;
        self.literals.take().unwrap_or_default()
    }

    /// Pushes a literal: a constant, or while a template is emitted, the
    /// parameter that carries it, or while a batch is, its field of the record.
    fn literal(&mut self, c: &mut Ctx, value: Literal) {
        match (&mut self.literals, self.record) {
            (Some(literals), Some(record)) => {
                let offset = RECORD_HEADER + literals.iter().map(|l| l.size()).sum::<u32>();
                c.f.get(record);
                match value {
                    Literal::I32(_) => c.f.load32(offset),
                    Literal::I64(_) => c.f.load64(offset),
                };
                literals.push(value);
            }
            (Some(literals), None) => {
                c.f.get(PARAM_MARK + literals.len() as u32);
                literals.push(value);
            }
            (None, _) => value.push(&mut c.f),
        }
    }

    /// Appends to `f` a block that leaves what [`Emitter::rule`]'s function
    /// returns, for evaluating the rule where it is needed without a call.
    pub fn rule_into(&mut self, f: &mut Func, rule: &Rule, actions: Option<&ActionTypes>) {
        f.block(result(ValType::I32));
        let done = f.depth();
        f.block(BlockType::Empty);
        let err = f.depth();
        let mut c =
            Ctx { f: std::mem::replace(f, Func::new(0)), vars: HashMap::new(), err, done, instance: 0, instances: 0 };
        let principal = self.base + self.layout.schema.principal_offset;
        let resource = self.base + self.layout.schema.resource_offset;
        self.scope(&mut c, &rule.scope.principal, principal, actions.map(|a| a.principals.as_slice()));
        self.scope(&mut c, &rule.scope.resource, resource, actions.map(|a| a.resources.as_slice()));
        for (when, condition) in &rule.conditions {
            self.expr(&mut c, condition);
            if *when {
                c.f.op(I::I32Eqz);
            }
            c.f.if_(BlockType::Empty);
            Self::answer(&mut c, 0);
            c.f.end();
        }
        Self::answer(&mut c, 1);
        c.f.end();
        c.f.i32(2);
        c.f.end();
        *f = c.f;
    }

    /// Leaves the rule's block with `value`.
    fn answer(c: &mut Ctx, value: i32) {
        let done = c.done;
        c.f.i32(value);
        c.f.br_to(done);
    }

    /// Returns 0 from the rule when the entity at `block` is outside the scope.
    fn scope(&mut self, c: &mut Ctx, scope: &EntityScope, block: u32, all_types: Option<&[EntityTypeId]>) {
        if let Some(types) = &scope.types {
            // The action already guarantees the type when every type it
            // allows is in the scope.
            let implied = all_types.is_some_and(|all| all.iter().all(|t| types.contains(t)));
            if !implied {
                let tag = c.f.local(ValType::I32);
                c.f.addr(block).load32(0).set(tag);
                c.f.i32(0);
                for t in types {
                    c.f.get(tag).addr(t.0).op(I::I32Eq).op(I::I32Or);
                }
                c.f.op(I::I32Eqz).if_(BlockType::Empty);
                Self::answer(c, 0);
                c.f.end();
            }
        }
        if let Some(lit) = &scope.eq {
            c.f.addr(block);
            if all_types == Some(&[lit.ty][..]) {
                // Of the only type the action allows: the id decides.
                self.id_is(c, lit);
            } else {
                self.entity_is(c, lit);
            }
            c.f.op(I::I32Eqz).if_(BlockType::Empty);
            Self::answer(c, 0);
            c.f.end();
        }
        if let Some(targets) = &scope.within {
            let mut items: Vec<Const> = targets.iter().cloned().map(Const::Entity).collect();
            items.sort();
            items.dedup();
            let set = self.data.constant(&Const::Set(items));
            c.f.addr(block);
            self.literal(c, Literal::I32(set as i32));
            c.f.call(index(H::InHierSet));
            c.f.op(I::I32Eqz).if_(BlockType::Empty);
            Self::answer(c, 0);
            c.f.end();
        }
    }

    /// `value == literal` for a string or entity literal, compared by
    /// interned id: every string the module sees, from the request or its
    /// data, carries the id of the interned string it equals, or 0. Pushes
    /// the result and returns true; false (nothing emitted) for other
    /// equalities.
    fn literal_equal(&mut self, c: &mut Ctx, value: &Expr, literal: &Expr) -> bool {
        match &literal.kind {
            ExprKind::Const(Const::Str(text)) if value.ty == Type::String => {
                let id = self.data.string_id(text);
                self.expr(c, value);
                c.f.load32(0);
                self.literal(c, Literal::I32(id as i32));
                c.f.op(I::I32Eq);
                true
            }
            ExprKind::Const(Const::Entity(lit)) if matches!(value.ty, Type::Entity(_)) => {
                self.expr(c, value);
                self.entity_is(c, lit);
                true
            }
            _ => false,
        }
    }

    /// Turns the entity address on the stack into whether it is `lit`: its
    /// type tag and its id's interned id.
    fn entity_is(&mut self, c: &mut Ctx, lit: &EntityLit) {
        let at = c.f.local(ValType::I32);
        c.f.tee(at).load32(0);
        self.literal(c, Literal::I32(lit.ty.0 as i32));
        c.f.op(I::I32Eq).get(at);
        self.id_is(c, lit);
        c.f.op(I::I32And);
    }

    /// Turns the entity address on the stack into whether its id is `lit`'s
    /// (by interned id), whatever its type.
    fn id_is(&mut self, c: &mut Ctx, lit: &EntityLit) {
        let id = self.data.string_id(&lit.id);
        c.f.load32(4);
        self.literal(c, Literal::I32(id as i32));
        c.f.op(I::I32Eq);
    }

    fn br_err(c: &mut Ctx) {
        let err = c.err;
        c.f.br_to(err);
    }

    /// Pushes the value of `e`.
    fn expr(&mut self, c: &mut Ctx, e: &Expr) {
        crate::stack::grow(|| self.expr_kind(c, e));
    }

    fn expr_kind(&mut self, c: &mut Ctx, e: &Expr) {
        match &e.kind {
            ExprKind::Const(k) => self.constant(c, k),
            ExprKind::Principal => {
                c.f.addr(self.base + self.layout.schema.principal_offset);
            }
            ExprKind::Resource => {
                c.f.addr(self.base + self.layout.schema.resource_offset);
            }
            ExprKind::Context => {
                c.f.addr(self.base + self.layout.schema.context_offset);
            }
            ExprKind::Var(v) => {
                let local = c.vars.get(v).copied().unwrap_or(0);
                c.f.get(local);
            }
            ExprKind::Attr(base, name) => {
                self.expr(c, base);
                self.field_address(c, &base.ty, name);
                match val(&e.ty) {
                    ValType::I64 => {
                        c.f.load64(0);
                    }
                    _ if matches!(e.ty, Type::Bool | Type::Enum(_)) => {
                        c.f.load32(0);
                    }
                    _ => {}
                }
            }
            ExprKind::Has(base, name) => {
                self.expr(c, base);
                self.presence(c, &base.ty, name);
            }
            ExprKind::Set(items) => self.set_literal(c, e, items),
            ExprKind::Not(inner) => {
                self.expr(c, inner);
                c.f.op(I::I32Eqz);
            }
            ExprKind::Neg(inner) => {
                self.expr(c, inner);
                let a = c.f.local(ValType::I64);
                c.f.tee(a).i64(i64::MIN).op(I::I64Eq).if_(BlockType::Empty);
                Self::br_err(c);
                c.f.end();
                c.f.i64(0).get(a).op(I::I64Sub);
            }
            ExprKind::And(a, b) => {
                self.expr(c, a);
                c.f.if_(result(ValType::I32));
                self.expr(c, b);
                c.f.else_().i32(0).end();
            }
            ExprKind::Or(a, b) => {
                self.expr(c, a);
                c.f.if_(result(ValType::I32)).i32(1).else_();
                self.expr(c, b);
                c.f.end();
            }
            ExprKind::If(cond, a, b) => {
                self.expr(c, cond);
                c.f.if_(result(val(&e.ty)));
                self.expr(c, a);
                c.f.else_();
                self.expr(c, b);
                c.f.end();
            }
            ExprKind::Let(var, value, body) => {
                self.expr(c, value);
                let local = c.f.local(val(&value.ty));
                c.f.set(local);
                let previous = c.vars.insert(*var, local);
                self.expr(c, body);
                restore(&mut c.vars, *var, previous);
            }
            ExprKind::Equal { negated, left, right } => {
                if self.literal_equal(c, left, right) || self.literal_equal(c, right, left) {
                    if *negated {
                        c.f.op(I::I32Eqz);
                    }
                    return;
                }
                self.expr(c, left);
                self.expr(c, right);
                match &left.ty {
                    Type::Int { .. } | Type::Duration | Type::Timestamp | Type::TimeOfDay => c.f.op(I::I64Eq),
                    Type::String => c.f.call(index(H::StrEq)),
                    Type::Entity(_) => c.f.call(index(H::EntEq)),
                    Type::Ip => c.f.call(index(H::IpEq)),
                    Type::Cidr => c.f.call(index(H::CidrEq)),
                    Type::Set(element) => c.f.call(index(H::SetEq(kind(element)))),
                    _ => c.f.op(I::I32Eq),
                };
                if *negated {
                    c.f.op(I::I32Eqz);
                }
            }
            ExprKind::Compare(ordering, left, right) => {
                self.expr(c, left);
                self.expr(c, right);
                let wide = val(&left.ty) == ValType::I64;
                let op = match (ordering, wide) {
                    (Ordering::Lt, true) => I::I64LtS,
                    (Ordering::Le, true) => I::I64LeS,
                    (Ordering::Gt, true) => I::I64GtS,
                    (Ordering::Ge, true) => I::I64GeS,
                    (Ordering::Lt, false) => I::I32LtU,
                    (Ordering::Le, false) => I::I32LeU,
                    (Ordering::Gt, false) => I::I32GtU,
                    (Ordering::Ge, false) => I::I32GeU,
                };
                c.f.op(op);
            }
            ExprKind::Arith(op, left, right) => {
                self.expr(c, left);
                let a = c.f.local(ValType::I64);
                c.f.set(a);
                self.expr(c, right);
                let b = c.f.local(ValType::I64);
                c.f.set(b);
                let (check, compute) = match op {
                    ArithOp::Add => (H::AddOvf, I::I64Add),
                    ArithOp::Sub => (H::SubOvf, I::I64Sub),
                    ArithOp::Mul => (H::MulOvf, I::I64Mul),
                };
                c.f.get(a).get(b).call(index(check)).if_(BlockType::Empty);
                Self::br_err(c);
                c.f.end();
                c.f.get(a).get(b).op(compute);
            }
            ExprKind::InHierarchy(entity, target) => {
                self.expr(c, entity);
                self.expr(c, target);
                let helper = if matches!(target.ty, Type::Set(_)) { H::InHierSet } else { H::InHier };
                c.f.call(index(helper));
            }
            ExprKind::InSet(element, set) => {
                self.expr(c, set);
                self.expr(c, element);
                c.f.call(index(H::Has(set_kind(&set.ty))));
            }
            ExprKind::InRange(ip, range) => {
                self.expr(c, ip);
                self.expr(c, range);
                c.f.call(index(H::IpInCidr));
            }
            ExprKind::Like(subject, parts) => self.like(c, subject, parts),
            ExprKind::StrOp(op, subject, argument) => {
                self.expr(c, subject);
                self.expr(c, argument);
                let helper = match op {
                    StrOp::StartsWith => H::StrStarts,
                    StrOp::EndsWith => H::StrEnds,
                    StrOp::Contains => H::StrContains,
                };
                c.f.call(index(helper));
            }
            ExprKind::ContainsAll(a, b) | ExprKind::ContainsAny(a, b) => {
                self.expr(c, a);
                self.expr(c, b);
                let k = set_kind(&a.ty);
                let helper = if matches!(e.kind, ExprKind::ContainsAll(..)) { H::All(k) } else { H::Any(k) };
                c.f.call(index(helper));
            }
            ExprKind::IsEmpty(set) => {
                self.expr(c, set);
                c.f.load32(4).op(I::I32Eqz);
            }
            ExprKind::Size(set) => {
                self.expr(c, set);
                c.f.load32(4).op(I::I64ExtendI32U);
            }
            ExprKind::Quantifier { all, var, set, body } => self.quantifier(c, *all, *var, set, body),
            ExprKind::TimeOfDay(ts) => {
                self.expr(c, ts);
                let r = c.f.local(ValType::I64);
                c.f.i64(DAY_MS).op(I::I64RemS).tee(r).i64(0).op(I::I64LtS).if_(result(ValType::I64));
                c.f.get(r).i64(DAY_MS).op(I::I64Add).else_().get(r).end();
            }
            ExprKind::Call(def, args) => {
                let Some(def) = self.program.defs.get(def.0 as usize) else {
                    c.f.op(I::Unreachable);
                    return;
                };
                let mut bound = Vec::new();
                for (arg, (param, ty)) in args.iter().zip(&def.params) {
                    self.expr(c, arg);
                    let local = c.f.local(val(ty));
                    c.f.set(local);
                    bound.push((*param, local));
                }
                let previous: Vec<(VarId, Option<u32>)> =
                    bound.iter().map(|(param, local)| (*param, c.vars.insert(*param, *local))).collect();
                c.instances += 1;
                let outer = std::mem::replace(&mut c.instance, c.instances);
                self.expr(c, &def.body);
                c.instance = outer;
                for (param, old) in previous.into_iter().rev() {
                    restore(&mut c.vars, param, old);
                }
            }
        }
    }

    fn constant(&mut self, c: &mut Ctx, k: &Const) {
        match k {
            Const::Bool(b) => {
                c.f.i32(i32::from(*b));
            }
            Const::Int(n) | Const::Duration(n) | Const::Timestamp(n) | Const::TimeOfDay(n) => {
                self.literal(c, Literal::I64(*n));
            }
            Const::Enum(_, index) => self.literal(c, Literal::I32(*index as i32)),
            Const::Str(_) | Const::Ip(_) | Const::Cidr(_) | Const::Entity(_) | Const::Set(_) => {
                let slot = self.data.constant(k);
                self.literal(c, Literal::I32(slot as i32));
            }
        }
    }

    /// Turns the record or entity address on the stack into whether field
    /// `name` is present: its flag when optional, 1 when required.
    fn presence(&mut self, c: &mut Ctx, ty: &Type, name: &str) {
        let flags: Vec<(EntityTypeId, Option<u32>)> = match ty {
            Type::Record(record) => vec![(EntityTypeId(0), record_field(record, name).and_then(|f| f.present_offset))],
            Type::Entity(types) => {
                types.iter().map(|t| (*t, self.layout.entity_field(*t, name).and_then(|f| f.present_offset))).collect()
            }
            _ => Vec::new(),
        };
        let flag = |f: &mut Func, block: u32, offset: Option<u32>| match offset {
            Some(offset) => {
                f.get(block).load32(offset);
            }
            None => {
                f.i32(1);
            }
        };
        let block = c.f.local(ValType::I32);
        c.f.set(block);
        let Some(((_, last), init)) = flags.split_last() else {
            c.f.i32(0);
            return;
        };
        for (t, offset) in init {
            c.f.get(block).load32(0).addr(t.0).op(I::I32Eq).if_(result(ValType::I32));
            flag(&mut c.f, block, *offset);
            c.f.else_();
        }
        flag(&mut c.f, block, *last);
        for _ in init {
            c.f.end();
        }
    }

    /// Turns the record or entity address on the stack into the address of
    /// field `name`.
    fn field_address(&mut self, c: &mut Ctx, ty: &Type, name: &str) {
        let pick = |f: &ward_types::manifest::FieldLayout| f.offset;
        match ty {
            Type::Record(record) => {
                let offset = record_field(record, name).map_or(0, |f| pick(&f));
                c.f.addr(offset).op(I::I32Add);
            }
            Type::Entity(types) => {
                let offsets: Vec<(EntityTypeId, u32)> =
                    types.iter().map(|t| (*t, self.layout.entity_field(*t, name).map_or(0, &pick))).collect();
                let first = offsets.first().map_or(0, |(_, o)| *o);
                if offsets.iter().all(|(_, o)| *o == first) {
                    c.f.addr(first).op(I::I32Add);
                } else {
                    // Types keep this attribute in different places: choose by type.
                    let block = c.f.local(ValType::I32);
                    c.f.tee(block);
                    for (t, offset) in &offsets[..offsets.len() - 1] {
                        c.f.get(block).load32(0).addr(t.0).op(I::I32Eq).if_(result(ValType::I32)).addr(*offset).else_();
                    }
                    c.f.addr(offsets[offsets.len() - 1].1);
                    for _ in 1..offsets.len() {
                        c.f.end();
                    }
                    c.f.op(I::I32Add);
                }
            }
            _ => {}
        }
    }

    /// A set built from non-constant elements, in its own scratch area;
    /// duplicates are dropped so that the set's size counts distinct elements.
    fn set_literal(&mut self, c: &mut Ctx, e: &Expr, items: &[Expr]) {
        let k = set_kind(&e.ty);
        let site = (e as *const Expr as usize, c.instance);
        let (slot, elements) = self.data.scratch(site, items.len() as u32, k.size());
        let rel = elements.wrapping_sub(self.base) as i32;
        c.f.addr(slot).i32(rel).store32(0);
        c.f.addr(slot).i32(0).store32(4);
        let value = c.f.local(k.val());
        for item in items {
            self.expr(c, item);
            c.f.set(value);
            c.f.addr(slot).get(value).call(index(H::Has(k))).op(I::I32Eqz).if_(BlockType::Empty);
            // Address of the next element: elements + count * size.
            let at = c.f.local(ValType::I32);
            c.f.addr(slot).load32(4).i32(k.size() as i32).op(I::I32Mul).addr(elements).op(I::I32Add).set(at);
            match k {
                Kind::I64 => {
                    c.f.get(at).get(value).store64(0);
                }
                Kind::I32 => {
                    c.f.get(at).get(value).store32(0);
                }
                Kind::Str | Kind::Ent => {
                    for word in 0..k.size() / 4 {
                        c.f.get(at).get(value).load32(word * 4).store32(word * 4);
                    }
                }
            }
            c.f.addr(slot).addr(slot).load32(4).i32(1).op(I::I32Add).store32(4);
            c.f.end();
        }
        c.f.addr(slot);
    }

    /// `any` or `all`: the body is evaluated for every element (so that a
    /// failing element fails the rule whatever the order), the results
    /// combined with `or` or `and`.
    fn quantifier(&mut self, c: &mut Ctx, all: bool, var: VarId, set: &Expr, body: &Expr) {
        let k = set_kind(&set.ty);
        self.expr(c, set);
        let (slot, i, n, elem, value, acc) = (
            c.f.local(ValType::I32),
            c.f.local(ValType::I32),
            c.f.local(ValType::I32),
            c.f.local(ValType::I32),
            c.f.local(k.val()),
            c.f.local(ValType::I32),
        );
        c.f.tee(slot).load32(4).set(n);
        c.f.i32(0).set(i);
        c.f.i32(i32::from(all)).set(acc);
        c.f.block(BlockType::Empty);
        let out = c.f.depth();
        c.f.loop_();
        let top = c.f.depth();
        c.f.get(i).get(n).op(I::I32GeU);
        c.f.br_if(out);
        c.f.get(slot)
            .load32(0)
            .addr(self.base)
            .op(I::I32Add)
            .get(i)
            .i32(k.size() as i32)
            .op(I::I32Mul)
            .op(I::I32Add)
            .set(elem);
        element_value(&mut c.f, k, elem);
        c.f.set(value);
        let previous = c.vars.insert(var, value);
        c.f.get(acc);
        self.expr(c, body);
        restore(&mut c.vars, var, previous);
        c.f.op(if all { I::I32And } else { I::I32Or }).set(acc);
        c.f.get(i).i32(1).op(I::I32Add).set(i);
        c.f.br_to(top);
        c.f.end().end();
        c.f.get(acc);
    }

    /// A glob match, unrolled for the pattern: anchored literal parts are
    /// compared in place, floating ones searched for, a final one matched as
    /// a suffix.
    fn like(&mut self, c: &mut Ctx, subject: &Expr, parts: &[PatternPart]) {
        self.expr(c, subject);
        let (slot, bytes, len, pos, found) = (
            c.f.local(ValType::I32),
            c.f.local(ValType::I32),
            c.f.local(ValType::I32),
            c.f.local(ValType::I32),
            c.f.local(ValType::I32),
        );
        c.f.tee(slot).load32(8).set(len);
        c.f.get(slot).load32(4).addr(self.base).op(I::I32Add).set(bytes);
        c.f.i32(0).set(pos);
        c.f.block(result(ValType::I32));
        let done = c.f.depth();
        let mut anchored = true;
        let mut last_was_wildcard = parts.is_empty();
        for (n, part) in parts.iter().enumerate() {
            let last = n + 1 == parts.len();
            match part {
                PatternPart::Wildcard => {
                    anchored = false;
                    last_was_wildcard = true;
                }
                PatternPart::Literal(text) => {
                    last_was_wildcard = false;
                    let literal = self.data.bytes(text.as_bytes());
                    let size = text.len() as i32;
                    match (anchored, last) {
                        (true, false) => {
                            // Prefix at `pos`.
                            c.f.get(len).get(pos).op(I::I32Sub).i32(size).op(I::I32GeS).if_(result(ValType::I32));
                            c.f.get(bytes).get(pos).op(I::I32Add).addr(literal).i32(size).call(index(H::BytesEq));
                            c.f.else_().i32(0).end().op(I::I32Eqz).if_(BlockType::Empty).i32(0);
                            c.f.br_to(done);
                            c.f.end();
                            c.f.get(pos).i32(size).op(I::I32Add).set(pos);
                        }
                        (true, true) => {
                            // The rest is exactly this literal.
                            c.f.get(len).get(pos).op(I::I32Sub).i32(size).op(I::I32Eq).if_(result(ValType::I32));
                            c.f.get(bytes).get(pos).op(I::I32Add).addr(literal).i32(size).call(index(H::BytesEq));
                            c.f.else_().i32(0).end();
                            c.f.br_to(done);
                        }
                        (false, true) => {
                            // A suffix after everything matched so far.
                            c.f.get(len).get(pos).op(I::I32Sub).i32(size).op(I::I32GeS).if_(result(ValType::I32));
                            c.f.get(bytes)
                                .get(len)
                                .op(I::I32Add)
                                .i32(size)
                                .op(I::I32Sub)
                                .addr(literal)
                                .i32(size)
                                .call(index(H::BytesEq));
                            c.f.else_().i32(0).end();
                            c.f.br_to(done);
                        }
                        (false, false) => {
                            // The leftmost occurrence after `pos`.
                            c.f.get(bytes)
                                .get(pos)
                                .op(I::I32Add)
                                .get(len)
                                .get(pos)
                                .op(I::I32Sub)
                                .addr(literal)
                                .i32(size)
                                .call(index(H::Find));
                            c.f.tee(found).i32(0).op(I::I32LtS).if_(BlockType::Empty).i32(0);
                            c.f.br_to(done);
                            c.f.end();
                            c.f.get(pos).get(found).op(I::I32Add).i32(size).op(I::I32Add).set(pos);
                        }
                    }
                    anchored = true;
                }
            }
        }
        if last_was_wildcard {
            if parts.is_empty() {
                c.f.get(len).op(I::I32Eqz);
            } else {
                c.f.i32(1);
            }
        } else {
            // Every path above already branched out with the result.
            c.f.op(I::Unreachable);
        }
        c.f.end();
    }
}

fn restore(vars: &mut HashMap<VarId, u32>, var: VarId, previous: Option<u32>) {
    match previous {
        Some(local) => {
            vars.insert(var, local);
        }
        None => {
            vars.remove(&var);
        }
    }
}
