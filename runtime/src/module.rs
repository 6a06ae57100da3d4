//! The runtime (engine and limits), loaded decision modules, and evaluators.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ward_types::manifest::{MANIFEST_SECTION, Manifest};
use ward_types::{Decision, DecisionError, ErrorKind, Request};
use wasmtime::{
    Config, Engine, ExternType, Instance, Memory, OptLevel, Store, StoreLimits, StoreLimitsBuilder, Trap, TypedFunc,
    ValType,
};

use crate::answer::{self, Verdict};
use crate::builder::BuilderScratch;
use crate::encode::{self, Scratch};
use crate::schema::Schema;
use crate::{LoadError, binary, json, precompiled};

/// Bounds on every evaluation.
///
/// Fuel is deterministic: the same request against the same module always
/// costs the same, whatever the machine's load, so a decision never depends
/// on timing. One unit is roughly one WebAssembly instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    fuel: u64,
    max_memory: usize,
}

impl Default for Limits {
    /// 10 million units of fuel per decision; 64 MiB of module memory.
    fn default() -> Limits {
        Limits { fuel: 10_000_000, max_memory: 64 << 20 }
    }
}

impl Limits {
    /// Fuel for one decision (the `ward_input`, `ward_evaluate` and
    /// `ward_output` calls together). A decision that runs out is a deny
    /// with a `budget_exceeded` error.
    pub fn with_fuel(self, fuel: u64) -> Limits {
        Limits { fuel, ..self }
    }

    /// The most linear memory, in bytes, a module instance may have. A
    /// request that would need more is a deny with a `malformed_request`
    /// error; a module whose initial memory is larger is refused.
    pub fn with_max_memory(self, bytes: usize) -> Limits {
        Limits { max_memory: bytes, ..self }
    }

    /// Fuel for one decision.
    pub fn fuel(&self) -> u64 {
        self.fuel
    }

    /// The memory cap in bytes.
    pub fn max_memory(&self) -> usize {
        self.max_memory
    }
}

/// Compiles and loads decision modules: a wasmtime engine (Cranelift, fuel
/// metering) and the limits that every module it loads inherits. Cheap to
/// clone; clones share the engine.
#[derive(Debug, Clone)]
pub struct Runtime {
    engine: Engine,
    limits: Limits,
}

impl Runtime {
    /// A runtime with the default [`Limits`].
    pub fn new() -> Result<Runtime, LoadError> {
        Runtime::with_limits(Limits::default())
    }

    /// A runtime with the given limits.
    pub fn with_limits(limits: Limits) -> Result<Runtime, LoadError> {
        let mut config = Config::new();
        config.consume_fuel(true);
        config.cranelift_opt_level(OptLevel::Speed);
        // Traps are reported by kind, never by WebAssembly offset: without
        // the address map, precompiled artifacts are smaller and load faster.
        config.generate_address_map(false);
        let engine = Engine::new(&config).map_err(|e| LoadError::Engine(format!("{e:#}")))?;
        Ok(Runtime { engine, limits })
    }

    /// The limits modules loaded by this runtime get.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The wasmtime engine modules are compiled with (fuel metered), for a
    /// host that runs other WebAssembly beside them under the same settings.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Compiles and loads a decision module from its WebAssembly bytes,
    /// checking its shape, its manifest and its ABI version.
    pub fn load(&self, wasm: &[u8]) -> Result<DecisionModule, LoadError> {
        let schema = manifest_of(wasm)?;
        let module = wasmtime::Module::new(&self.engine, wasm).map_err(|e| LoadError::InvalidWasm(format!("{e:#}")))?;
        DecisionModule::new(module, schema, self.limits)
    }

    /// Checks that [`Runtime::load`] would accept `wasm` as far as can be
    /// told without compiling it: valid WebAssembly within this runtime's
    /// limits, and a readable manifest of a supported ABI version. Fast
    /// enough to run after every build.
    pub fn validate(&self, wasm: &[u8]) -> Result<(), LoadError> {
        manifest_of(wasm)?;
        wasmtime::Module::validate(&self.engine, wasm).map_err(|e| LoadError::InvalidWasm(format!("{e:#}")))
    }

    /// Compiles a decision module ahead of time. The result loads with
    /// [`Runtime::load_precompiled`] on a runtime of the same version and
    /// configuration, without compiling again. The module is checked as
    /// [`Runtime::load`] checks it.
    pub fn precompile(&self, wasm: &[u8]) -> Result<Vec<u8>, LoadError> {
        let loaded = self.load(wasm)?;
        let artifact = loaded.shared.module.serialize().map_err(|e| LoadError::Precompile(format!("{e:#}")))?;
        let manifest =
            serde_json::to_vec(&loaded.shared.schema.manifest).map_err(|e| LoadError::Precompile(e.to_string()))?;
        precompiled::wrap(&self.engine, &manifest, &artifact)
    }

    /// Loads a module precompiled by [`Runtime::precompile`].
    ///
    /// # Trust
    ///
    /// A precompiled artifact is native code: load only artifacts from a
    /// build you trust, as you would a shared library. The artifact carries a
    /// BLAKE3 checksum and a fingerprint of the runtime version and engine
    /// configuration that made it; a damaged, truncated or mismatched
    /// artifact is refused with [`LoadError::InvalidArtifact`]. The checksum
    /// does not authenticate: someone able to write the artifact can write a
    /// matching checksum.
    pub fn load_precompiled(&self, artifact: &[u8]) -> Result<DecisionModule, LoadError> {
        // A large manifest is read on another thread while this one checks
        // the artifact and loads the code; errors are reported in the same
        // order as reading one after the other would (artifact, manifest, code).
        let manifest = precompiled::locate(artifact).filter(|m| m.len() >= PARALLEL_MANIFEST);
        let (schema, module) = match manifest {
            Some(manifest) => std::thread::scope(|scope| {
                let reading = scope.spawn(|| Schema::from_json(manifest));
                let code = precompiled::unwrap(&self.engine, artifact);
                let module = code.as_ref().ok().map(|&(_, code)| precompiled::deserialize(&self.engine, code));
                let schema =
                    reading.join().unwrap_or_else(|_| Err(LoadError::InvalidManifest("reading it failed".to_owned())));
                code?;
                let schema = schema?;
                let module = module.ok_or_else(|| LoadError::InvalidArtifact("it is truncated".to_owned()))??;
                Ok::<_, LoadError>((schema, module))
            })?,
            None => {
                let (manifest, code) = precompiled::unwrap(&self.engine, artifact)?;
                let schema = Schema::from_json(manifest)?;
                (schema, precompiled::deserialize(&self.engine, code)?)
            }
        };
        DecisionModule::new(module, schema, self.limits)
    }
}

/// Manifests of at least this many bytes are read in parallel with loading
/// a precompiled module's code.
const PARALLEL_MANIFEST: usize = 64 << 10;

/// The checked manifest of a module's bytes.
fn manifest_of(wasm: &[u8]) -> Result<Schema, LoadError> {
    let sections = binary::custom_sections(wasm, MANIFEST_SECTION)?;
    match sections.as_slice() {
        [] => Err(LoadError::MissingManifest),
        [json] => Schema::from_json(json),
        _ => Err(LoadError::DuplicateManifest),
    }
}

fn describe(ty: &ExternType) -> String {
    match ty {
        ExternType::Func(f) => {
            let list =
                |types: &mut dyn Iterator<Item = ValType>| types.map(|t| t.to_string()).collect::<Vec<_>>().join(", ");
            format!("a function ({}) -> ({})", list(&mut f.params()), list(&mut f.results()))
        }
        ExternType::Memory(m) if m.is_64() => "a 64-bit memory".to_owned(),
        ExternType::Memory(m) if m.is_shared() => "a shared memory".to_owned(),
        ExternType::Memory(_) => "a memory".to_owned(),
        ExternType::Global(_) => "a global".to_owned(),
        ExternType::Table(_) => "a table".to_owned(),
        ExternType::Tag(_) => "a tag".to_owned(),
    }
}

/// The exported functions: name, parameter count, signature text.
const FUNCTIONS: [(&str, usize, &str); 4] = [
    ("ward_abi_version", 0, "a function () -> (i32)"),
    ("ward_input", 1, "a function (i32) -> (i32)"),
    ("ward_evaluate", 1, "a function (i32) -> (i32)"),
    ("ward_output", 0, "a function () -> (i32)"),
];

/// Checks imports and exports.
fn check_shape(module: &wasmtime::Module) -> Result<(), LoadError> {
    if let Some(import) = module.imports().next() {
        return Err(LoadError::HasImports { import: format!("{}::{}", import.module(), import.name()) });
    }
    match module.get_export("memory") {
        None => return Err(LoadError::MissingExport { name: "memory" }),
        Some(ExternType::Memory(m)) if !m.is_64() && !m.is_shared() => {}
        Some(other) => {
            return Err(LoadError::WrongExport {
                name: "memory",
                expected: "a 32-bit unshared memory",
                found: describe(&other),
            });
        }
    }
    for (name, params, expected) in FUNCTIONS {
        match module.get_export(name) {
            None => return Err(LoadError::MissingExport { name }),
            Some(ExternType::Func(f))
                if f.params().len() == params
                    && f.params().all(|t| matches!(t, ValType::I32))
                    && f.results().len() == 1
                    && f.results().all(|t| matches!(t, ValType::I32)) => {}
            Some(other) => {
                return Err(LoadError::WrongExport { name, expected, found: describe(&other) });
            }
        }
    }
    Ok(())
}

/// What every evaluator of a module shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) id: u64,
    module: wasmtime::Module,
    pub(crate) schema: Schema,
    limits: Limits,
}

static NEXT_MODULE_ID: AtomicU64 = AtomicU64::new(1);

/// A loaded decision module: compiled code, its checked manifest and the
/// tables encoding needs. `Send + Sync` and cheap to clone (clones share
/// everything, including the evaluator pool).
///
/// Two ways to decide:
/// - [`DecisionModule::decide`] and friends take `&self` and may be called
///   from any number of threads: each call borrows an [`Evaluator`] from a
///   pool (a mutex held only to pop or push), creating one when all are busy.
/// - [`DecisionModule::evaluator`] gives a thread its own [`Evaluator`],
///   which decides through `&mut self` without any locking.
#[derive(Debug, Clone)]
pub struct DecisionModule {
    pub(crate) shared: Arc<Shared>,
    pool: Arc<Mutex<Vec<Evaluator>>>,
}

impl DecisionModule {
    fn new(module: wasmtime::Module, schema: Schema, limits: Limits) -> Result<DecisionModule, LoadError> {
        check_shape(&module)?;
        let id = NEXT_MODULE_ID.fetch_add(1, Ordering::Relaxed);
        let shared = Arc::new(Shared { id, module, schema, limits });
        // Instantiate once now: the module must fit the memory cap and agree
        // with its manifest about the ABI version.
        let mut evaluator = Evaluator::from_shared(shared.clone());
        let version = evaluator.abi_version()?;
        let manifest = shared.schema.manifest.abi_version;
        if i64::from(version) != i64::from(manifest) {
            return Err(LoadError::AbiVersionMismatch { manifest, export: version });
        }
        Ok(DecisionModule { shared, pool: Arc::new(Mutex::new(vec![evaluator])) })
    }

    /// The module's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.shared.schema.manifest
    }

    /// The limits every evaluation of this module runs under.
    pub fn limits(&self) -> Limits {
        self.shared.limits
    }

    /// A new evaluator: an instance of the module with its own memory,
    /// for one thread at a time.
    pub fn evaluator(&self) -> Result<Evaluator, LoadError> {
        let mut evaluator = Evaluator::from_shared(self.shared.clone());
        evaluator.live()?;
        Ok(evaluator)
    }

    /// Validates and encodes a request for this module, ahead of deciding
    /// it with [`Evaluator::decide_encoded`] (possibly many times, as a
    /// benchmark does). A request that does not conform yields its
    /// violations, sorted.
    pub fn encode(&self, request: &Request) -> Result<EncodedRequest, Vec<DecisionError>> {
        let mut bytes = Vec::new();
        encode::encode(&self.shared.schema, request, &mut bytes, &mut Scratch::default())?;
        Ok(EncodedRequest { module: self.shared.id, bytes })
    }

    fn with_evaluator(&self, f: impl FnOnce(&mut Evaluator) -> Decision) -> Decision {
        let pooled = self.pool.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
        let mut evaluator = pooled.unwrap_or_else(|| Evaluator::from_shared(self.shared.clone()));
        let decision = f(&mut evaluator);
        self.pool.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(evaluator);
        decision
    }

    /// Decides a request, with an evaluator from the pool.
    pub fn decide(&self, request: &Request) -> Decision {
        self.with_evaluator(|e| e.decide(request))
    }

    /// Decides a request given as JSON, with an evaluator from the pool. A
    /// document that is not a request is a deny with a `malformed_request`
    /// error.
    pub fn decide_json(&self, json: &[u8]) -> Decision {
        self.with_evaluator(|e| e.decide_json(json))
    }

    /// Decides a request encoded by [`DecisionModule::encode`], with an
    /// evaluator from the pool.
    pub fn decide_encoded(&self, request: &EncodedRequest) -> Decision {
        self.with_evaluator(|e| e.decide_encoded(request))
    }
}

/// A request validated and encoded for one module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedRequest {
    module: u64,
    bytes: Vec<u8>,
}

impl EncodedRequest {
    /// The encoded request, as the module reads it.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// A live instance: its store and entry points.
struct Live {
    store: Store<StoreLimits>,
    memory: Memory,
    abi_version: TypedFunc<(), i32>,
    input: TypedFunc<i32, i32>,
    evaluate: TypedFunc<i32, i32>,
    output: TypedFunc<(), i32>,
    /// The input buffer `ward_input` gave last and the length asked for:
    /// it stays valid for requests up to that length until the next
    /// `ward_input` (the ABI's calling sequence), so it is asked for again
    /// only for a longer request.
    input_buffer: Option<(usize, usize)>,
    /// Where the answer's address is written: what `ward_output` returns,
    /// the same for every call on an instance (ABI 2), so asked for once.
    answer_slot: Option<usize>,
}

/// An instance of a decision module and the buffers it reuses: decides one
/// request at a time, through `&mut self`. `Send`, so it can be moved to or
/// kept by a worker thread; not shared between threads.
///
/// The instance is reused from one decision to the next. After a trap or an
/// exhausted budget, it is discarded and a fresh one is made for the next
/// decision, so a failed evaluation leaves nothing behind.
pub struct Evaluator {
    pub(crate) shared: Arc<Shared>,
    live: Option<Live>,
    pub(crate) buf: Vec<u8>,
    pub(crate) scratch: Scratch,
    indices: Vec<u32>,
    pub(crate) builder: BuilderScratch,
}

impl std::fmt::Debug for Evaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluator").field("module", &self.shared.id).field("live", &self.live.is_some()).finish()
    }
}

/// The error of a failed call into the module.
fn call_error(error: &wasmtime::Error, during: &str) -> DecisionError {
    let (kind, message) = match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => (ErrorKind::BudgetExceeded, format!("the evaluation budget ran out during {during}")),
        Some(trap) => (ErrorKind::MalformedRequest, format!("the decision module trapped during {during}: {trap}")),
        None => (ErrorKind::MalformedRequest, format!("the decision module failed during {during}: {error:#}")),
    };
    DecisionError { kind, path: None, rule: None, message }
}

impl Evaluator {
    fn from_shared(shared: Arc<Shared>) -> Evaluator {
        Evaluator {
            shared,
            live: None,
            buf: Vec::new(),
            scratch: Scratch::default(),
            indices: Vec::new(),
            builder: BuilderScratch::default(),
        }
    }

    /// The live instance, instantiating the module if there is none.
    fn live(&mut self) -> Result<&mut Live, LoadError> {
        if self.live.is_none() {
            self.live = Some(self.instantiate()?);
        }
        self.live.as_mut().ok_or_else(|| LoadError::Instantiation("no instance".to_owned()))
    }

    fn instantiate(&self) -> Result<Live, LoadError> {
        let failed = |e: wasmtime::Error| LoadError::Instantiation(format!("{e:#}"));
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.shared.limits.max_memory)
            .instances(1)
            .memories(1)
            .tables(4)
            .build();
        let mut store = Store::new(self.shared.module.engine(), limits);
        store.limiter(|limits| limits);
        store.set_fuel(self.shared.limits.fuel).map_err(failed)?;
        let instance = Instance::new(&mut store, &self.shared.module, &[]).map_err(failed)?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| LoadError::Instantiation("no memory export".to_owned()))?;
        Ok(Live {
            abi_version: instance.get_typed_func(&mut store, "ward_abi_version").map_err(failed)?,
            input: instance.get_typed_func(&mut store, "ward_input").map_err(failed)?,
            evaluate: instance.get_typed_func(&mut store, "ward_evaluate").map_err(failed)?,
            output: instance.get_typed_func(&mut store, "ward_output").map_err(failed)?,
            input_buffer: None,
            answer_slot: None,
            memory,
            store,
        })
    }

    fn abi_version(&mut self) -> Result<i32, LoadError> {
        let fuel = self.shared.limits.fuel;
        let live = self.live()?;
        let failed = |e: wasmtime::Error| LoadError::Instantiation(format!("`ward_abi_version` failed: {e:#}"));
        live.store.set_fuel(fuel).map_err(failed)?;
        live.abi_version.call(&mut live.store, ()).map_err(failed)
    }

    /// The module's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.shared.schema.manifest
    }

    /// Decides a request.
    pub fn decide(&mut self, request: &Request) -> Decision {
        self.evaluate(request).into_decision()
    }

    /// Decides a request given as JSON. A document that is not a request is
    /// a deny with a `malformed_request` error.
    ///
    /// The request is validated and encoded straight from the text, without
    /// building a [`Request`] first; the decision (errors included) is the
    /// one [`Evaluator::decide`] gives for the parsed document.
    pub fn decide_json(&mut self, json: &[u8]) -> Decision {
        self.evaluate_json(json).into_decision()
    }

    /// Decides a request encoded by [`DecisionModule::encode`] for this
    /// evaluator's module. One encoded for another module is a deny.
    pub fn decide_encoded(&mut self, request: &EncodedRequest) -> Decision {
        self.evaluate_encoded(request).into_decision()
    }

    /// Evaluates a request without building the decision: the fast path
    /// when only the outcome and the determining rules are needed.
    pub fn evaluate(&mut self, request: &Request) -> Verdict<'_> {
        let mut buf = std::mem::take(&mut self.buf);
        let answer = match encode::encode(&self.shared.schema, request, &mut buf, &mut self.scratch) {
            Ok(()) => self.answer(&buf),
            Err(errors) => Err(Decision::fail_closed(errors)),
        };
        self.buf = buf;
        self.verdict(answer)
    }

    /// Evaluates a request given as JSON without building the decision: the
    /// fast path of [`Evaluator::decide_json`].
    pub fn evaluate_json(&mut self, json: &[u8]) -> Verdict<'_> {
        let mut buf = std::mem::take(&mut self.buf);
        let schema = &self.shared.schema;
        let encoded = match json::encode_json(schema, json, &mut buf, &mut self.scratch) {
            Some(encoded) => encoded,
            None => match Request::from_json(json) {
                Ok(request) => encode::encode(schema, &request, &mut buf, &mut self.scratch),
                Err(error) => Err(vec![error]),
            },
        };
        let answer = match encoded {
            Ok(()) => self.answer(&buf),
            Err(errors) => Err(Decision::fail_closed(errors)),
        };
        self.buf = buf;
        self.verdict(answer)
    }

    /// Evaluates a request encoded by [`DecisionModule::encode`] without
    /// building the decision.
    pub fn evaluate_encoded(&mut self, request: &EncodedRequest) -> Verdict<'_> {
        let answer = if request.module == self.shared.id {
            self.answer(&request.bytes)
        } else {
            Err(answer::deny(ErrorKind::MalformedRequest, "the request was encoded for another decision module"))
        };
        self.verdict(answer)
    }

    /// Evaluates the request a [`crate::RequestBuilder`] wrote into the
    /// buffer.
    pub(crate) fn evaluate_built(&mut self) -> Verdict<'_> {
        let buf = std::mem::take(&mut self.buf);
        let answer = self.answer(&buf);
        self.buf = buf;
        self.verdict(answer)
    }

    pub(crate) fn verdict(&self, answer: Result<i32, Decision>) -> Verdict<'_> {
        Verdict { schema: &self.shared.schema, answer: answer.map(|status| (status, self.indices.as_slice())) }
    }

    /// Calls the module on an encoded request and checks its answer: the
    /// status, with the rule indices sorted in `self.indices`.
    fn answer(&mut self, request: &[u8]) -> Result<i32, Decision> {
        let status = self.call(request)?;
        answer::check(&self.shared.schema, status, &mut self.indices)?;
        Ok(status)
    }

    /// The calling sequence: input, evaluate, output. Leaves the rule indices
    /// in `self.indices` and returns the status. A failed call discards the
    /// instance.
    fn call(&mut self, request: &[u8]) -> Result<i32, Decision> {
        let limits = self.shared.limits;
        let too_large = || Decision::fail_closed(vec![encode::too_large()]);
        let len = match i32::try_from(request.len()) {
            Ok(len) if request.len() <= limits.max_memory => len,
            _ => return Err(too_large()),
        };
        let mut indices = std::mem::take(&mut self.indices);
        let live = match self.live() {
            Ok(live) => live,
            Err(e) => {
                return Err(answer::deny(
                    ErrorKind::BudgetExceeded,
                    format!("cannot instantiate the decision module: {e}"),
                ));
            }
        };
        let result = Self::call_live(live, limits.fuel, request, len, &mut indices);
        self.indices = indices;
        if let Err(Failure::Call(_)) = result {
            self.live = None;
        }
        result.map_err(|failure| match failure {
            Failure::Call(error) => Decision::fail_closed(vec![error]),
            Failure::Deny(decision) => decision,
        })
    }

    fn call_live(live: &mut Live, fuel: u64, request: &[u8], len: i32, indices: &mut Vec<u32>) -> Result<i32, Failure> {
        let store = &mut live.store;
        store.set_fuel(fuel).map_err(|e| Failure::Call(call_error(&e, "set-up")))?;
        let start = match live.input_buffer {
            Some((start, capacity)) if request.len() <= capacity => start,
            _ => {
                live.input_buffer = None;
                let ptr =
                    live.input.call(&mut *store, len).map_err(|e| Failure::Call(call_error(&e, "`ward_input`")))?;
                if ptr == 0 {
                    return Err(Failure::Deny(Decision::fail_closed(vec![encode::too_large()])));
                }
                let start = ptr as u32 as usize;
                live.input_buffer = Some((start, request.len()));
                start
            }
        };
        let Some(dest) = live.memory.data_mut(&mut *store).get_mut(start..start + request.len()) else {
            return Err(Failure::Deny(answer::invalid_answer("`ward_input` returned a buffer outside its memory")));
        };
        dest.copy_from_slice(request);
        let status =
            live.evaluate.call(&mut *store, len).map_err(|e| Failure::Call(call_error(&e, "`ward_evaluate`")))?;
        indices.clear();
        if !answer::has_indices(status) {
            return Ok(status);
        }
        let slot = match live.answer_slot {
            Some(slot) => slot,
            None => {
                let slot =
                    live.output.call(&mut *store, ()).map_err(|e| Failure::Call(call_error(&e, "`ward_output`")))?;
                *live.answer_slot.insert(slot as u32 as usize)
            }
        };
        let memory = live.memory.data(&*store);
        let read = |at: usize| -> Option<u32> {
            let bytes = memory.get(at..at.checked_add(4)?)?;
            Some(u32::from_le_bytes(bytes.try_into().ok()?))
        };
        let outside = || Failure::Deny(answer::invalid_answer("the answer is outside the module's memory"));
        let out = read(slot).ok_or_else(outside)? as usize;
        let count = read(out).ok_or_else(outside)?;
        if count > i32::MAX as u32 {
            return Err(Failure::Deny(answer::invalid_answer(format!("a negative rule count ({})", count as i32))));
        }
        let count = count as usize;
        if count.checked_mul(4).and_then(|n| n.checked_add(out + 4)).is_none_or(|end| end > memory.len()) {
            return Err(outside());
        }
        indices.reserve(count);
        for k in 0..count {
            indices.push(read(out + 4 + 4 * k).ok_or_else(outside)?);
        }
        Ok(status)
    }
}

/// Why a call sequence did not produce an answer.
enum Failure {
    /// A call trapped or ran out of budget: the instance is discarded.
    Call(DecisionError),
    /// The module misbehaved without trapping, or refused the request.
    Deny(Decision),
}
