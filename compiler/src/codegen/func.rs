//! A small builder for function bodies: locals are declared as they are
//! needed, and the nesting depth is tracked so that branches to an outer
//! label get the right relative index.

use wasm_encoder::{BlockType, Function, Instruction, MemArg, ValType};

/// While a template is emitted, `local.get PARAM_MARK + n` stands for its
/// `n`-th parameter, whose number is known only at the end
/// ([`Func::with_params`]).
pub const PARAM_MARK: u32 = 1 << 30;

/// A function being built.
#[derive(Debug)]
pub struct Func {
    params: u32,
    locals: Vec<ValType>,
    body: Vec<Instruction<'static>>,
    depth: u32,
}

impl Func {
    /// A function with `params` parameters.
    pub fn new(params: u32) -> Func {
        Func { params, locals: Vec::new(), body: Vec::new(), depth: 0 }
    }

    /// Appends an instruction.
    pub fn op(&mut self, instruction: Instruction<'static>) -> &mut Func {
        match instruction {
            Instruction::Block(_) | Instruction::Loop(_) | Instruction::If(_) => self.depth += 1,
            Instruction::End => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        self.body.push(instruction);
        self
    }

    /// A fresh local of type `ty`.
    pub fn local(&mut self, ty: ValType) -> u32 {
        self.locals.push(ty);
        self.params + self.locals.len() as u32 - 1
    }

    /// The number of labels currently open.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// Branches to the label that was innermost when `depth()` returned `label`.
    pub fn br_to(&mut self, label: u32) {
        let relative = self.depth - label;
        self.op(Instruction::Br(relative));
    }

    /// Branches, when the `i32` on the stack is not zero, to a label
    /// recorded with `depth()`.
    pub fn br_if(&mut self, label: u32) {
        let relative = self.depth - label;
        self.op(Instruction::BrIf(relative));
    }

    /// `i32.const`
    pub fn i32(&mut self, v: i32) -> &mut Func {
        self.op(Instruction::I32Const(v))
    }

    /// `i32.const` of an address or offset.
    pub fn addr(&mut self, v: u32) -> &mut Func {
        self.op(Instruction::I32Const(v as i32))
    }

    /// `i64.const`
    pub fn i64(&mut self, v: i64) -> &mut Func {
        self.op(Instruction::I64Const(v))
    }

    /// `local.get`
    pub fn get(&mut self, l: u32) -> &mut Func {
        self.op(Instruction::LocalGet(l))
    }

    /// `local.set`
    pub fn set(&mut self, l: u32) -> &mut Func {
        self.op(Instruction::LocalSet(l))
    }

    /// `local.tee`
    pub fn tee(&mut self, l: u32) -> &mut Func {
        self.op(Instruction::LocalTee(l))
    }

    /// `i32.load offset=o`
    pub fn load32(&mut self, offset: u32) -> &mut Func {
        self.op(Instruction::I32Load(mem(offset)))
    }

    /// `i64.load offset=o`
    pub fn load64(&mut self, offset: u32) -> &mut Func {
        self.op(Instruction::I64Load(mem(offset)))
    }

    /// `i32.load8_u offset=o`
    pub fn load8(&mut self, offset: u32) -> &mut Func {
        self.op(Instruction::I32Load8U(mem(offset)))
    }

    /// `i32.store offset=o`
    pub fn store32(&mut self, offset: u32) -> &mut Func {
        self.op(Instruction::I32Store(mem(offset)))
    }

    /// `i64.store offset=o`
    pub fn store64(&mut self, offset: u32) -> &mut Func {
        self.op(Instruction::I64Store(mem(offset)))
    }

    /// `block` with a result type.
    pub fn block(&mut self, ty: BlockType) -> &mut Func {
        self.op(Instruction::Block(ty))
    }

    /// `loop`
    pub fn loop_(&mut self) -> &mut Func {
        self.op(Instruction::Loop(BlockType::Empty))
    }

    /// `if` with a result type.
    pub fn if_(&mut self, ty: BlockType) -> &mut Func {
        self.op(Instruction::If(ty))
    }

    /// `else`
    pub fn else_(&mut self) -> &mut Func {
        self.op(Instruction::Else)
    }

    /// `end`
    pub fn end(&mut self) -> &mut Func {
        self.op(Instruction::End)
    }

    /// `call`
    pub fn call(&mut self, f: u32) -> &mut Func {
        self.op(Instruction::Call(f))
    }

    /// The function, built without parameters, with `params` in front of
    /// its locals: the marked locals become the parameters.
    pub fn with_params(mut self, params: &[ValType]) -> Func {
        let n = params.len() as u32;
        let renumber = |l: u32| if l >= PARAM_MARK { l - PARAM_MARK } else { l + n };
        for instruction in &mut self.body {
            match instruction {
                Instruction::LocalGet(l) | Instruction::LocalSet(l) | Instruction::LocalTee(l) => *l = renumber(*l),
                _ => {}
            }
        }
        self.params += n;
        self
    }

    /// How many instructions the body has so far: its size, roughly.
    pub fn instructions(&self) -> usize {
        self.body.len()
    }

    /// The encoded function.
    pub fn finish(mut self) -> Function {
        self.body.push(Instruction::End);
        let mut f = Function::new_with_locals_types(self.locals);
        for instruction in &self.body {
            f.instruction(instruction);
        }
        f
    }
}

/// A memory argument with a static offset. Request data need not be
/// aligned, so no alignment is promised.
pub fn mem(offset: u32) -> MemArg {
    MemArg { offset: u64::from(offset), align: 0, memory_index: 0 }
}

/// The block type of a value type.
pub fn result(ty: ValType) -> BlockType {
    BlockType::Result(ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marked_locals_become_the_parameters_and_locals_follow_them() {
        let mut f = Func::new(0);
        let local = f.local(ValType::I32);
        f.get(PARAM_MARK + 1).set(local).get(PARAM_MARK).tee(local);
        let f = f.with_params(&[ValType::I64, ValType::I32]);
        let locals: Vec<u32> = f
            .body
            .iter()
            .filter_map(|i| match i {
                Instruction::LocalGet(l) | Instruction::LocalSet(l) | Instruction::LocalTee(l) => Some(*l),
                _ => None,
            })
            .collect();
        assert_eq!(locals, [1, 2, 0, 2]);
        assert_eq!((f.params, f.locals.len()), (2, 1));
    }
}
