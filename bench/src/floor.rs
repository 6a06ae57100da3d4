//! The floor under any WebAssembly decision module on this machine: one
//! wasmtime call, in the engine of Ward's runtime (fuel metered),
//! that copies a request's bytes into linear memory and tests two of its
//! words. No Ward code runs, so a Ward decision's time above this floor is
//! Ward's own: encoding the request, the module's rules, reading the answer.

use ward_runtime::Runtime;
use wasmtime::{Instance, Memory, Module, Store, TypedFunc};

use crate::engines::SetupError;

/// Where the request is copied to, as a module's input buffer would be.
const INPUT: usize = 1024;

/// The module: `evaluate(len)` allows when the request's first word (Ward's
/// action index) is 0 and its second is not, as a rule reading two fields
/// would.
const WAT: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "evaluate") (param $len i32) (result i32)
    (i32.and
      (i32.eqz (i32.load (i32.const 1024)))
      (i32.ne (i32.load (i32.const 1028)) (i32.const 0)))))"#;

/// A store and instance of the floor module.
#[allow(missing_debug_implementations, reason = "holds a wasmtime store")]
pub struct WasmFloor {
    store: Store<()>,
    memory: Memory,
    evaluate: TypedFunc<i32, i32>,
}

impl WasmFloor {
    /// Compiles and instantiates the floor module in `runtime`'s engine.
    pub fn new(runtime: &Runtime) -> Result<WasmFloor, SetupError> {
        let engine = runtime.engine();
        let wasm = wat::parse_str(WAT).map_err(|e| format!("floor module: {e}"))?;
        let module = Module::new(engine, wasm).map_err(|e| format!("floor module: {e}"))?;
        let mut store = Store::new(engine, ());
        let instance = Instance::new(&mut store, &module, &[]).map_err(|e| format!("floor instance: {e}"))?;
        let memory = instance.get_memory(&mut store, "memory").ok_or("floor module: no memory")?;
        let evaluate =
            instance.get_typed_func::<i32, i32>(&mut store, "evaluate").map_err(|e| format!("floor module: {e}"))?;
        Ok(WasmFloor { store, memory, evaluate })
    }

    /// One call: fuel set, `request` copied in, the module called. `None`
    /// when the request does not fit or the call fails.
    pub fn call(&mut self, request: &[u8]) -> Option<bool> {
        self.store.set_fuel(10_000_000).ok()?;
        let len = i32::try_from(request.len()).ok()?;
        self.memory.data_mut(&mut self.store).get_mut(INPUT..INPUT + request.len())?.copy_from_slice(request);
        Some(self.evaluate.call(&mut self.store, len).ok()? != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_reads_the_request_it_was_given() -> Result<(), SetupError> {
        let runtime = Runtime::new().map_err(|e| e.to_string())?;
        let mut floor = WasmFloor::new(&runtime)?;
        assert_eq!(floor.call(&[0, 0, 0, 0, 1, 0, 0, 0]), Some(true));
        assert_eq!(floor.call(&[1, 0, 0, 0, 1, 0, 0, 0]), Some(false));
        assert_eq!(floor.call(&[0, 0, 0, 0, 0, 0, 0, 0]), Some(false));
        assert_eq!(floor.call(&vec![0; 70_000]), None, "larger than the module's memory");
        Ok(())
    }
}
