//! Functions every decision module contains: checked arithmetic, byte and
//! string comparison, set scans, hierarchy and address-range tests, and the
//! bookkeeping of applicable rules.

use wasm_encoder::{BlockType, Instruction as I, ValType};

use super::func::{Func, result};
use super::layout::ENTITY_ANCESTORS;

/// How set elements are stored and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `i64` elements (integers, durations), compared by value.
    I64,
    /// `i32` elements (enum values), compared by value.
    I32,
    /// String slots, compared with `str_eq`.
    Str,
    /// Entity slots, compared with `ent_eq`.
    Ent,
}

impl Kind {
    /// Bytes per element.
    pub fn size(self) -> u32 {
        match self {
            Kind::I64 => 8,
            Kind::I32 => 4,
            Kind::Str => 12,
            Kind::Ent => 16,
        }
    }

    /// The value type elements are passed as.
    pub fn val(self) -> ValType {
        if self == Kind::I64 { ValType::I64 } else { ValType::I32 }
    }

    const ALL: [Kind; 4] = [Kind::I64, Kind::I32, Kind::Str, Kind::Ent];
}

/// The helper functions, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum H {
    AddOvf,
    SubOvf,
    MulOvf,
    BytesEq,
    Find,
    StrEq,
    StrStarts,
    StrEnds,
    StrContains,
    EntEq,
    IpEq,
    CidrEq,
    IpInCidr,
    InHier,
    InHierSet,
    NotePermit,
    NoteForbid,
    Has(Kind),
    All(Kind),
    Any(Kind),
    SetEq(Kind),
}

/// The helpers that take no set kind, in function-index order.
const PLAIN: [H; 17] = [
    H::AddOvf,
    H::SubOvf,
    H::MulOvf,
    H::BytesEq,
    H::Find,
    H::StrEq,
    H::StrStarts,
    H::StrEnds,
    H::StrContains,
    H::EntEq,
    H::IpEq,
    H::CidrEq,
    H::IpInCidr,
    H::InHier,
    H::InHierSet,
    H::NotePermit,
    H::NoteForbid,
];

/// Every helper, in function-index order: the plain ones, then four per
/// set kind.
pub fn all() -> Vec<H> {
    let mut list = PLAIN.to_vec();
    for kind in Kind::ALL {
        list.extend([H::Has(kind), H::All(kind), H::Any(kind), H::SetEq(kind)]);
    }
    list
}

/// The function index of a helper (helpers come first in the module),
/// without building the list: it is asked for at every call site.
pub fn index(h: H) -> u32 {
    let per_kind = |kind: Kind, k: u32| {
        let position = Kind::ALL.iter().position(|x| *x == kind).unwrap_or(0) as u32;
        PLAIN.len() as u32 + 4 * position + k
    };
    match h {
        H::Has(kind) => per_kind(kind, 0),
        H::All(kind) => per_kind(kind, 1),
        H::Any(kind) => per_kind(kind, 2),
        H::SetEq(kind) => per_kind(kind, 3),
        plain => PLAIN.iter().position(|x| *x == plain).unwrap_or(0) as u32,
    }
}

/// Addresses and globals the helpers refer to.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    /// Where requests start; offsets in requests and constants are relative to it.
    pub base: u32,
    /// The list of applicable permits: count, then indices.
    pub permits: u32,
    /// The list of applicable forbids.
    pub forbids: u32,
    /// The list of failing rules.
    pub errors: u32,
}

/// Global indices.
pub const G_PERMITS: u32 = 0;
/// Count of applicable forbids.
pub const G_FORBIDS: u32 = 1;
/// Count of failing rules.
pub const G_ERRORS: u32 = 2;

/// A helper's parameter and result types.
pub fn signature(h: H) -> (Vec<ValType>, Vec<ValType>) {
    use ValType::{I32, I64};
    match h {
        H::AddOvf | H::SubOvf | H::MulOvf => (vec![I64, I64], vec![I32]),
        H::BytesEq => (vec![I32, I32, I32], vec![I32]),
        H::Find => (vec![I32, I32, I32, I32], vec![I32]),
        H::NotePermit | H::NoteForbid => (vec![I32, I32], vec![]),
        H::Has(kind) => (vec![I32, kind.val()], vec![I32]),
        _ => (vec![I32, I32], vec![I32]),
    }
}

/// Notes a rule's status (local `status`, not 0) in the answer lists: the
/// rule's index, which `rule` pushes, goes to the list of applicable permits
/// or forbids when the status is 1, to the failing rules' when it is 2. The
/// body of [`H::NotePermit`] and [`H::NoteForbid`], and inlined where a
/// call per rule would cost too much.
pub fn note_into(f: &mut Func, ctx: Ctx, permit: bool, rule: &dyn Fn(&mut Func), status: u32) {
    let (global, list) = if permit { (G_PERMITS, ctx.permits) } else { (G_FORBIDS, ctx.forbids) };
    for (value, global, list) in [(1, global, list), (2, G_ERRORS, ctx.errors)] {
        f.get(status).i32(value).op(I::I32Eq).if_(BlockType::Empty);
        f.op(I::GlobalGet(global)).i32(4).op(I::I32Mul);
        rule(f);
        f.store32(list + 4);
        f.op(I::GlobalGet(global)).i32(1).op(I::I32Add).op(I::GlobalSet(global));
        f.end();
    }
}

/// Builds a helper's body.
pub fn build(h: H, ctx: Ctx) -> Func {
    let params = signature(h).0.len() as u32;
    let mut f = Func::new(params);
    match h {
        H::AddOvf => {
            let r = f.local(ValType::I64);
            f.get(0).get(1).op(I::I64Add).set(r);
            f.get(0).get(r).op(I::I64Xor).get(1).get(r).op(I::I64Xor).op(I::I64And).i64(0).op(I::I64LtS);
        }
        H::SubOvf => {
            let r = f.local(ValType::I64);
            f.get(0).get(1).op(I::I64Sub).set(r);
            f.get(0).get(1).op(I::I64Xor).get(0).get(r).op(I::I64Xor).op(I::I64And).i64(0).op(I::I64LtS);
        }
        H::MulOvf => {
            f.get(0).op(I::I64Eqz).if_(result(ValType::I32)).i32(0).else_();
            f.get(0).i64(-1).op(I::I64Eq).if_(result(ValType::I32));
            f.get(1).i64(i64::MIN).op(I::I64Eq).else_();
            f.get(0).get(1).op(I::I64Mul).get(0).op(I::I64DivS).get(1).op(I::I64Ne);
            f.end().end();
        }
        H::BytesEq => {
            let i = f.local(ValType::I32);
            f.block(result(ValType::I32));
            let out = f.depth();
            f.loop_();
            let top = f.depth();
            f.get(i).get(2).op(I::I32GeU).if_(BlockType::Empty).i32(1);
            f.br_to(out);
            f.end();
            f.get(0).get(i).op(I::I32Add).load8(0).get(1).get(i).op(I::I32Add).load8(0).op(I::I32Ne);
            f.if_(BlockType::Empty).i32(0);
            f.br_to(out);
            f.end();
            f.get(i).i32(1).op(I::I32Add).set(i);
            f.br_to(top);
            f.end().op(I::Unreachable).end();
        }
        H::Find => {
            // (haystack, haystack_len, needle, needle_len) -> position or -1
            let i = f.local(ValType::I32);
            let last = f.local(ValType::I32);
            f.get(3).get(1).op(I::I32GtU).if_(BlockType::Empty).i32(-1).op(I::Return).end();
            f.get(1).get(3).op(I::I32Sub).set(last);
            f.block(result(ValType::I32));
            let out = f.depth();
            f.loop_();
            let top = f.depth();
            f.get(i).get(last).op(I::I32GtU).if_(BlockType::Empty).i32(-1);
            f.br_to(out);
            f.end();
            f.get(0).get(i).op(I::I32Add).get(2).get(3).call(index(H::BytesEq));
            f.if_(BlockType::Empty).get(i);
            f.br_to(out);
            f.end();
            f.get(i).i32(1).op(I::I32Add).set(i);
            f.br_to(top);
            f.end().op(I::Unreachable).end();
        }
        H::StrEq => {
            let (ia, ib) = (f.local(ValType::I32), f.local(ValType::I32));
            f.get(0).load32(0).set(ia).get(1).load32(0).set(ib);
            f.get(ia).get(ib).op(I::I32Or).if_(result(ValType::I32));
            f.get(ia).get(ib).op(I::I32Eq).else_();
            f.get(0).load32(8).get(1).load32(8).op(I::I32Ne).if_(result(ValType::I32)).i32(0).else_();
            abs(&mut f, ctx, 0, 4);
            abs(&mut f, ctx, 1, 4);
            f.get(0).load32(8).call(index(H::BytesEq));
            f.end().end();
        }
        H::StrStarts | H::StrEnds => {
            // (string, prefix or suffix)
            f.get(1).load32(8).get(0).load32(8).op(I::I32LeU).if_(result(ValType::I32));
            abs(&mut f, ctx, 0, 4);
            if h == H::StrEnds {
                f.get(0).load32(8).op(I::I32Add).get(1).load32(8).op(I::I32Sub);
            }
            abs(&mut f, ctx, 1, 4);
            f.get(1).load32(8).call(index(H::BytesEq));
            f.else_().i32(0).end();
        }
        H::StrContains => {
            abs(&mut f, ctx, 0, 4);
            f.get(0).load32(8);
            abs(&mut f, ctx, 1, 4);
            f.get(1).load32(8).call(index(H::Find)).i32(0).op(I::I32GeS);
        }
        H::EntEq => {
            f.get(0).load32(0).get(1).load32(0).op(I::I32Eq).if_(result(ValType::I32));
            f.get(0).i32(4).op(I::I32Add).get(1).i32(4).op(I::I32Add).call(index(H::StrEq));
            f.else_().i32(0).end();
        }
        H::IpEq | H::CidrEq => {
            let header = if h == H::IpEq { I::I32Eq } else { I::I64Eq };
            if h == H::IpEq {
                f.get(0).load32(0).get(1).load32(0).op(header);
            } else {
                f.get(0).load64(0).get(1).load64(0).op(header);
            }
            f.get(0).load64(8).get(1).load64(8).op(I::I64Eq).op(I::I32And);
            f.get(0).load64(16).get(1).load64(16).op(I::I64Eq).op(I::I32And);
        }
        H::IpInCidr => {
            // (ip, cidr)
            let prefix = f.local(ValType::I64);
            f.get(1).load32(4).op(I::I64ExtendI32U).set(prefix);
            f.get(0).load32(0).get(1).load32(0).op(I::I32Ne).if_(BlockType::Empty).i32(0).op(I::Return).end();
            f.get(0).load32(0).i32(4).op(I::I32Eq).if_(result(ValType::I32));
            // IPv4: the address is in the low word.
            f.get(0)
                .load64(16)
                .i64(-1)
                .i64(32)
                .get(prefix)
                .op(I::I64Sub)
                .op(I::I64Shl)
                .i64(0xFFFF_FFFF)
                .op(I::I64And)
                .op(I::I64And);
            f.get(1).load64(16).op(I::I64Eq);
            f.else_();
            f.get(prefix).op(I::I64Eqz).if_(result(ValType::I32)).i32(1).else_();
            f.get(prefix).i64(64).op(I::I64LeU).if_(result(ValType::I32));
            f.get(0).load64(8).i64(-1).i64(64).get(prefix).op(I::I64Sub).op(I::I64Shl).op(I::I64And);
            f.get(1).load64(8).op(I::I64Eq);
            f.else_();
            f.get(0).load64(8).get(1).load64(8).op(I::I64Eq);
            f.get(0).load64(16).i64(-1).i64(128).get(prefix).op(I::I64Sub).op(I::I64Shl).op(I::I64And);
            f.get(1).load64(16).op(I::I64Eq).op(I::I32And);
            f.end().end().end();
        }
        H::InHier => {
            f.get(0).get(1).call(index(H::EntEq)).if_(result(ValType::I32)).i32(1).else_();
            f.get(0).i32(ENTITY_ANCESTORS as i32).op(I::I32Add).get(1).call(index(H::Has(Kind::Ent)));
            f.end();
        }
        H::InHierSet => {
            scan(&mut f, ctx, 1, Kind::Ent, 0, 1, |f, elem| {
                f.get(0).get(elem).call(index(H::InHier));
            });
        }
        H::NotePermit | H::NoteForbid => note_into(&mut f, ctx, h == H::NotePermit, &|f| _ = f.get(0), 1),
        H::Has(kind) => {
            scan(&mut f, ctx, 0, kind, 0, 1, |f, elem| {
                element_value(f, kind, elem);
                f.get(1);
                equal(f, kind);
            });
        }
        H::All(kind) => {
            // Every element of the second set is in the first.
            scan(&mut f, ctx, 1, kind, 1, 0, |f, elem| {
                f.get(0);
                element_value(f, kind, elem);
                f.call(index(H::Has(kind))).op(I::I32Eqz);
            });
        }
        H::Any(kind) => {
            scan(&mut f, ctx, 1, kind, 0, 1, |f, elem| {
                f.get(0);
                element_value(f, kind, elem);
                f.call(index(H::Has(kind)));
            });
        }
        H::SetEq(kind) => {
            // Elements are distinct, so equal sizes and inclusion suffice.
            f.get(0).load32(4).get(1).load32(4).op(I::I32Eq).if_(result(ValType::I32));
            f.get(0).get(1).call(index(H::All(kind))).else_().i32(0).end();
        }
    }
    f
}

/// Pushes `base + load32(local + offset)`: the address an offset field points to.
fn abs(f: &mut Func, ctx: Ctx, local: u32, offset: u32) {
    f.get(local).load32(offset).addr(ctx.base).op(I::I32Add);
}

/// Pushes the value of the element at the address in local `elem`.
pub fn element_value(f: &mut Func, kind: Kind, elem: u32) {
    match kind {
        Kind::I64 => {
            f.get(elem).load64(0);
        }
        Kind::I32 => {
            f.get(elem).load32(0);
        }
        Kind::Str | Kind::Ent => {
            f.get(elem);
        }
    }
}

/// Compares the two values on the stack.
pub fn equal(f: &mut Func, kind: Kind) {
    match kind {
        Kind::I64 => f.op(I::I64Eq),
        Kind::I32 => f.op(I::I32Eq),
        Kind::Str => f.call(index(H::StrEq)),
        Kind::Ent => f.call(index(H::EntEq)),
    };
}

/// Loops over the elements of the set whose slot address is in local `set`.
/// `test` pushes an `i32`; when it is non-zero the scan returns `hit`, and
/// when every element has been tested it returns `exhausted`.
fn scan(f: &mut Func, ctx: Ctx, set: u32, kind: Kind, exhausted: i32, hit: i32, test: impl Fn(&mut Func, u32)) {
    let (i, n, p, elem) = (f.local(ValType::I32), f.local(ValType::I32), f.local(ValType::I32), f.local(ValType::I32));
    f.get(set).load32(4).set(n);
    abs(f, ctx, set, 0);
    f.set(p);
    f.block(result(ValType::I32));
    let out = f.depth();
    f.loop_();
    let top = f.depth();
    f.get(i).get(n).op(I::I32GeU).if_(BlockType::Empty).i32(exhausted);
    f.br_to(out);
    f.end();
    f.get(p).get(i).i32(kind.size() as i32).op(I::I32Mul).op(I::I32Add).set(elem);
    test(f, elem);
    f.if_(BlockType::Empty).i32(hit);
    f.br_to(out);
    f.end();
    f.get(i).i32(1).op(I::I32Add).set(i);
    f.br_to(top);
    f.end().op(I::Unreachable).end();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_helper_is_at_its_index() {
        for (position, h) in all().into_iter().enumerate() {
            assert_eq!(index(h) as usize, position, "{h:?}");
        }
    }
}
