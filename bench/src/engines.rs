//! The three engines, set up for one rule set: building each from source,
//! and turning a request into each engine's native input.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicySet, RestrictedExpression,
    Schema, ValidationMode, Validator,
};
use serde_json::Value as Json;
use ward_compiler::program::Program;
use ward_runtime::{
    ActionHandle, AttributeHandle, DecisionModule, EntityTypeHandle, Evaluator, Request, Runtime, UnknownName, Verdict,
};

use crate::workload::{self, LEVELS, Rule};

/// An error setting an engine up.
pub type SetupError = String;

// ---------------------------------------------------------------- Ward

/// A Ward policy compiled to a module (and the checked program, for the
/// reference interpreter).
#[allow(missing_debug_implementations, reason = "holds a loaded module")]
pub struct Ward {
    /// The checked program.
    pub program: Program,
    /// The module's WebAssembly bytes.
    pub wasm: Vec<u8>,
    /// The loaded module.
    pub module: DecisionModule,
}

/// Compiles Ward source to WebAssembly: `compile` (parse, check) and
/// `codegen::build`.
pub fn ward_compile(source: (String, String)) -> Result<(Program, Vec<u8>), SetupError> {
    let compilation = ward_compiler::compile(vec![source]);
    let Some(program) = compilation.program.clone() else {
        return Err(ward_compiler::diagnostics::render(&compilation.sources, &compilation.diagnostics, false));
    };
    let output = ward_compiler::codegen::build(&program, &compilation.sources);
    Ok((program, output.wasm))
}

impl Ward {
    /// Compiles and loads the Ward rendering of `rules`.
    pub fn new(runtime: &Runtime, rules: &[Rule]) -> Result<Ward, SetupError> {
        let (program, wasm) = ward_compile(workload::ward_source(rules))?;
        let module = runtime.load(&wasm).map_err(|e| format!("the runtime refuses the module: {e}"))?;
        Ok(Ward { program, wasm, module })
    }
}

/// A request as a gateway holds it in its own types before asking Ward:
/// what [`ward_build`] writes through a `RequestBuilder`.
#[derive(Debug, Clone)]
pub struct GatewayRequest {
    principal_kind: usize,
    principal_id: String,
    groups: Vec<&'static str>,
    department: String,
    clearance: &'static str,
    roles: Vec<&'static str>,
    mfa_age_seconds: Option<i64>,
    action: usize,
    resource_id: String,
    resource: GatewayResource,
    risk_score: i64,
    requests_last_minute: i64,
    zone: &'static str,
    mtls: bool,
    training_data: Option<(&'static str, bool)>,
}

#[derive(Debug, Clone)]
enum GatewayResource {
    Model { tier: &'static str, owner: String, family: &'static str },
    Dataset { classification: &'static str, owner: String, pii: bool },
}

impl GatewayRequest {
    /// The gateway's form of a generated request.
    pub fn new(universe: &workload::Universe, r: &workload::GenRequest) -> GatewayRequest {
        let p = &universe.principals[r.principal];
        let resource = if r.on_dataset() {
            let d = &universe.datasets[r.resource];
            GatewayResource::Dataset {
                classification: LEVELS[d.classification],
                owner: format!("d{}", d.owner),
                pii: d.pii,
            }
        } else {
            let m = &universe.models[r.resource];
            GatewayResource::Model { tier: LEVELS[m.tier], owner: format!("d{}", m.owner), family: m.family }
        };
        GatewayRequest {
            principal_kind: p.kind as usize,
            principal_id: p.id.clone(),
            groups: p.groups.clone(),
            department: format!("d{}", p.department),
            clearance: LEVELS[p.clearance],
            roles: p.roles.clone(),
            mfa_age_seconds: r.mfa_age_seconds,
            action: r.action,
            resource_id: if r.on_dataset() { format!("ds{}", r.resource) } else { format!("m{}", r.resource) },
            resource,
            risk_score: r.risk_score,
            requests_last_minute: r.requests_last_minute,
            zone: workload::ZONES[r.zone],
            mtls: r.mtls,
            training_data: r.training_data.map(|(level, pii)| (LEVELS[level], pii)),
        }
    }
}

/// A principal type's handles.
#[derive(Debug, Clone)]
struct PrincipalHandles {
    ty: EntityTypeHandle,
    department: AttributeHandle,
    clearance: AttributeHandle,
    roles: AttributeHandle,
    mfa_age_seconds: AttributeHandle,
}

/// The workload's names resolved once in a module, as a gateway does at
/// start-up.
#[derive(Debug, Clone)]
pub struct WardHandles {
    actions: Vec<ActionHandle>,
    principals: Vec<PrincipalHandles>,
    group: EntityTypeHandle,
    model: [AttributeHandle; 3],
    model_ty: EntityTypeHandle,
    dataset: [AttributeHandle; 3],
    dataset_ty: EntityTypeHandle,
    context: [AttributeHandle; 6],
}

impl WardHandles {
    /// Resolves the workload's names in `module`.
    pub fn new(module: &DecisionModule) -> Result<WardHandles, SetupError> {
        let e = |e: UnknownName| e.to_string();
        let principals = ["User", "ServiceAccount", "Agent"]
            .iter()
            .map(|name| {
                let ty = module.entity_type(name).map_err(e)?;
                let attribute = |a: &str| module.principal_attribute(ty, a).map_err(e);
                Ok(PrincipalHandles {
                    ty,
                    department: attribute("department")?,
                    clearance: attribute("clearance")?,
                    roles: attribute("roles")?,
                    mfa_age_seconds: attribute("mfa_age_seconds")?,
                })
            })
            .collect::<Result<Vec<_>, SetupError>>()?;
        let model_ty = module.entity_type("Model").map_err(e)?;
        let dataset_ty = module.entity_type("Dataset").map_err(e)?;
        let resource = |ty, names: [&str; 3]| -> Result<[AttributeHandle; 3], SetupError> {
            Ok([
                module.resource_attribute(ty, names[0]).map_err(e)?,
                module.resource_attribute(ty, names[1]).map_err(e)?,
                module.resource_attribute(ty, names[2]).map_err(e)?,
            ])
        };
        let context = |name: &str| module.context_attribute(name).map_err(e);
        Ok(WardHandles {
            actions: workload::ACTIONS.iter().map(|a| module.action(a).map_err(e)).collect::<Result<_, _>>()?,
            principals,
            group: module.entity_type("Group").map_err(e)?,
            model: resource(model_ty, ["tier", "owner", "family"])?,
            model_ty,
            dataset: resource(dataset_ty, ["classification", "owner", "pii"])?,
            dataset_ty,
            context: [
                context("risk_score")?,
                context("requests_last_minute")?,
                context("zone")?,
                context("mtls")?,
                context("training_data.classification")?,
                context("training_data.pii")?,
            ],
        })
    }
}

/// Builds `r` into `evaluator`'s buffer through a `RequestBuilder` and
/// evaluates it: the hot path of a gateway that fills requests from its own
/// types.
pub fn ward_build<'e>(evaluator: &'e mut Evaluator, h: &WardHandles, r: &GatewayRequest) -> Verdict<'e> {
    let mut request = evaluator.request();
    let p = &h.principals[r.principal_kind];
    let mut groups = [(h.group, ""); 4];
    for (slot, g) in groups.iter_mut().zip(&r.groups) {
        slot.1 = g;
    }
    request.action(h.actions[r.action]).principal(p.ty, &r.principal_id, &groups[..r.groups.len().min(4)]);
    request.set_str(&p.department, &r.department).set_str(&p.clearance, r.clearance).set_strs(&p.roles, &r.roles);
    if let Some(age) = r.mfa_age_seconds {
        request.set_int(&p.mfa_age_seconds, age);
    }
    match &r.resource {
        GatewayResource::Model { tier, owner, family } => {
            request.resource(h.model_ty, &r.resource_id, &[]);
            request.set_str(&h.model[0], tier).set_str(&h.model[1], owner).set_str(&h.model[2], family);
        }
        GatewayResource::Dataset { classification, owner, pii } => {
            request.resource(h.dataset_ty, &r.resource_id, &[]);
            request.set_str(&h.dataset[0], classification).set_str(&h.dataset[1], owner).set_bool(&h.dataset[2], *pii);
        }
    }
    let c = &h.context;
    request.set_int(&c[0], r.risk_score).set_int(&c[1], r.requests_last_minute);
    request.set_str(&c[2], r.zone).set_bool(&c[3], r.mtls);
    if let Some((classification, pii)) = r.training_data {
        request.set_str(&c[4], classification).set_bool(&c[5], pii);
    }
    request.evaluate()
}

/// Parses a request document for Ward.
pub fn ward_request(json: &[u8]) -> Result<Request, SetupError> {
    Request::from_json(json).map_err(|e| e.message)
}

// ---------------------------------------------------------------- Cedar

/// A Cedar policy set with what turning requests into Cedar's structures
/// needs: parsed type names and action ids.
#[derive(Debug)]
pub struct Cedar {
    /// The policies (ids `policy0`, `policy1`, … in rule order).
    pub policies: PolicySet,
    /// The authorizer.
    pub authorizer: Authorizer,
    types: HashMap<String, EntityTypeName>,
    actions: HashMap<String, EntityUid>,
}

/// A request in Cedar's structures.
#[derive(Debug, Clone)]
pub struct CedarInput {
    /// The request (principal, action, resource, context).
    pub request: cedar_policy::Request,
    /// The principal and resource entities.
    pub entities: Entities,
}

/// Parses the Cedar schema.
pub fn cedar_schema() -> Result<Schema, SetupError> {
    Schema::from_cedarschema_str(workload::CEDAR_SCHEMA)
        .map(|(schema, _)| schema)
        .map_err(|e| format!("the Cedar schema: {e:?}"))
}

/// Parses Cedar policy text and validates it (strict) against the schema:
/// what a deployment does before it serves.
pub fn cedar_parse_validate(text: &str, schema: &Schema) -> Result<PolicySet, SetupError> {
    let policies = PolicySet::from_str(text).map_err(|e| format!("Cedar refuses the policies: {e:?}"))?;
    let result = Validator::new(schema.clone()).validate(&policies, ValidationMode::Strict);
    if !result.validation_passed() {
        let errors: Vec<String> = result.validation_errors().map(|e| e.to_string()).collect();
        return Err(format!("Cedar validation fails: {}", errors.join("\n")));
    }
    Ok(policies)
}

/// The Cedar policy text for `rules`.
pub fn cedar_text(rules: &[Rule]) -> String {
    workload::cedar_policies(rules).join("\n")
}

fn level_of(text: &str) -> Option<i64> {
    LEVELS.iter().position(|l| *l == text).map(|i| i as i64)
}

/// Attributes whose string values are classification levels (Longs in Cedar).
fn is_level_attr(name: &str) -> bool {
    matches!(name, "clearance" | "tier" | "classification")
}

fn cedar_value(name: &str, value: &Json) -> Result<RestrictedExpression, SetupError> {
    Ok(match value {
        Json::Bool(b) => RestrictedExpression::new_bool(*b),
        Json::Number(n) => RestrictedExpression::new_long(n.as_i64().ok_or("a non-integer number")?),
        Json::String(s) if is_level_attr(name) => {
            RestrictedExpression::new_long(level_of(s).ok_or("an unknown level")?)
        }
        Json::String(s) => RestrictedExpression::new_string(s.clone()),
        Json::Array(items) => {
            RestrictedExpression::new_set(items.iter().map(|v| cedar_value(name, v)).collect::<Result<Vec<_>, _>>()?)
        }
        Json::Object(map) => RestrictedExpression::new_record(
            map.iter().map(|(k, v)| Ok((k.clone(), cedar_value(k, v)?))).collect::<Result<Vec<_>, SetupError>>()?,
        )
        .map_err(|e| e.to_string())?,
        Json::Null => return Err("null".to_owned()),
    })
}

impl Cedar {
    /// Parses and validates the Cedar rendering of `rules`.
    pub fn new(rules: &[Rule], schema: &Schema) -> Result<Cedar, SetupError> {
        let policies = cedar_parse_validate(&cedar_text(rules), schema)?;
        let parse = |name: &str| EntityTypeName::from_str(name).map_err(|e| format!("type name {name}: {e}"));
        let mut types = HashMap::new();
        for name in ["User", "ServiceAccount", "Agent", "Group", "Model", "Dataset"] {
            types.insert(name.to_owned(), parse(name)?);
        }
        let action_type = parse("Action")?;
        let actions = workload::ACTIONS
            .iter()
            .map(|a| ((*a).to_owned(), EntityUid::from_type_name_and_id(action_type.clone(), EntityId::new(a))))
            .collect();
        Ok(Cedar { policies, authorizer: Authorizer::new(), types, actions })
    }

    fn uid(&self, ty: &str, id: &str) -> Result<EntityUid, SetupError> {
        let ty = self.types.get(ty).ok_or_else(|| format!("unknown type {ty}"))?;
        Ok(EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id)))
    }

    fn entity(&self, data: &ward_types::EntityData) -> Result<(EntityUid, Entity), SetupError> {
        let uid = self.uid(&data.ty, &data.id)?;
        let attrs = data
            .attributes
            .iter()
            .map(|(k, v)| Ok((k.clone(), cedar_value(k, v)?)))
            .collect::<Result<HashMap<_, _>, SetupError>>()?;
        let parents = data.ancestors.iter().map(|a| self.uid(&a.ty, &a.id)).collect::<Result<HashSet<_>, _>>()?;
        let entity = Entity::new(uid.clone(), attrs, parents).map_err(|e| e.to_string())?;
        Ok((uid, entity))
    }

    /// Turns a parsed request document into Cedar's structures: two
    /// entities, the context, the request (no schema checks on the hot
    /// path, as Cedar deployments do).
    pub fn input(&self, request: &Request) -> Result<CedarInput, SetupError> {
        let (principal, p) = self.entity(&request.principal)?;
        let (resource, r) = self.entity(&request.resource)?;
        let action =
            self.actions.get(&request.action).ok_or_else(|| format!("unknown action {}", request.action))?.clone();
        let context = Context::from_pairs(
            request
                .context
                .iter()
                .map(|(k, v)| Ok((k.clone(), cedar_value(k, v)?)))
                .collect::<Result<Vec<_>, SetupError>>()?,
        )
        .map_err(|e| e.to_string())?;
        let entities = Entities::from_entities([p, r], None).map_err(|e| e.to_string())?;
        let request =
            cedar_policy::Request::new(principal, action, resource, context, None).map_err(|e| e.to_string())?;
        Ok(CedarInput { request, entities })
    }

    /// Decides prebuilt input: allow, and the determining policies' indices.
    pub fn decide(&self, input: &CedarInput) -> (bool, Vec<usize>) {
        let response = self.authorizer.is_authorized(&input.request, &self.policies, &input.entities);
        let mut reasons: Vec<usize> = response
            .diagnostics()
            .reason()
            .filter_map(|id| id.to_string().strip_prefix("policy")?.parse().ok())
            .collect();
        reasons.sort_unstable();
        (response.decision() == cedar_policy::Decision::Allow, reasons)
    }

    /// Whether Cedar allows prebuilt input.
    pub fn decide_allow(&self, input: &CedarInput) -> bool {
        self.authorizer.is_authorized(&input.request, &self.policies, &input.entities).decision()
            == cedar_policy::Decision::Allow
    }

    /// Whether Cedar allows, from the request document's JSON text.
    pub fn allow_json(&self, json: &[u8]) -> bool {
        let Ok(request) = Request::from_json(json) else {
            return false;
        };
        let Ok(input) = self.input(&request) else {
            return false;
        };
        self.authorizer.is_authorized(&input.request, &self.policies, &input.entities).decision()
            == cedar_policy::Decision::Allow
    }
}

// ---------------------------------------------------------------- regorus

/// regorus, both ways: the tree-walking interpreter and the RVM.
#[allow(missing_debug_implementations, reason = "regorus engines")]
pub struct Rego {
    /// The interpreter, with the policy added.
    pub engine: regorus::Engine,
    /// The VM, with the compiled program loaded; `None` when the RVM
    /// cannot compile the policy (it caps a program at 65,535 instructions).
    pub vm: Option<regorus::rvm::RegoVM>,
    /// Why there is no VM.
    pub vm_error: Option<String>,
}

/// Rule text per Rego file: regorus refuses files over 1 MiB, so a large
/// policy is split into files of the same package, as a large store would be.
const REGO_FILE_BYTES: usize = 256 * 1024;

/// Parses the Rego policy into a fresh engine, split into files of at most
/// [`REGO_FILE_BYTES`] of rules each (the first also holds the header).
pub fn rego_parse(text: &str) -> Result<regorus::Engine, SetupError> {
    let mut engine = regorus::Engine::new();
    let split = text.find("\n# ").map_or(text.len(), |at| at + 1);
    let (header, mut rest) = text.split_at(split);
    let mut files = vec![header.to_owned()];
    while !rest.is_empty() {
        let mut end = rest.len().min(REGO_FILE_BYTES);
        if end < rest.len() {
            end = rest[..end].rfind("\n# ").map_or(rest.len(), |at| at + 1);
        }
        let (chunk, tail) = rest.split_at(end);
        files.push(format!("package ward\n\nimport rego.v1\n\n{chunk}"));
        rest = tail;
    }
    for (k, file) in files.into_iter().enumerate() {
        engine.add_policy(format!("ward{k}.rego"), file).map_err(|e| format!("regorus refuses the policy: {e}"))?;
    }
    Ok(engine)
}

/// Compiles a parsed engine's policy for the RVM.
pub fn rego_rvm_program(engine: &mut regorus::Engine) -> Result<Arc<regorus::rvm::Program>, SetupError> {
    let entry: regorus::Rc<str> = workload::REGO_ENTRY.into();
    let compiled = engine.compile_with_entrypoint(&entry).map_err(|e| format!("regorus compile: {e}"))?;
    regorus::languages::rego::compiler::Compiler::compile_from_policy(&compiled, &[workload::REGO_ENTRY])
        .map_err(|e| format!("RVM compile: {e}"))
}

/// Turns a Ward request document into a regorus input value.
pub fn rego_input(json: &[u8]) -> Result<regorus::Value, SetupError> {
    let text = std::str::from_utf8(json).map_err(|e| e.to_string())?;
    regorus::Value::from_json_str(text).map_err(|e| e.to_string())
}

/// Whether an evaluation result is `true` (an error or anything else denies).
fn as_allow<E>(value: Result<regorus::Value, E>) -> bool {
    matches!(value, Ok(regorus::Value::Bool(true)))
}

impl Rego {
    /// Parses the Rego rendering of `rules` for both evaluators.
    pub fn new(rules: &[Rule]) -> Result<Rego, SetupError> {
        let text = workload::rego_policy(rules);
        let engine = rego_parse(&text)?;
        let mut for_vm = engine.clone();
        let (vm, vm_error) = match rego_rvm_program(&mut for_vm) {
            Ok(program) => {
                let mut vm = regorus::rvm::RegoVM::new();
                vm.load_program(program);
                (Some(vm), None)
            }
            Err(e) => (None, Some(e)),
        };
        Ok(Rego { engine, vm, vm_error })
    }

    /// The interpreter's decision on a prebuilt input (cloned: a gateway
    /// hands over a fresh input each time).
    pub fn interp_allow(&mut self, input: &regorus::Value) -> bool {
        self.engine.set_input(input.clone());
        as_allow(self.engine.eval_rule(workload::REGO_ENTRY.to_owned()))
    }

    /// The RVM's decision on a prebuilt input.
    pub fn rvm_allow(&mut self, input: &regorus::Value) -> bool {
        let Some(vm) = self.vm.as_mut() else {
            return false;
        };
        vm.set_input(input.clone());
        as_allow(vm.execute())
    }

    /// The interpreter's decision from JSON text.
    pub fn interp_allow_json(&mut self, json: &[u8]) -> bool {
        match rego_input(json) {
            Ok(input) => {
                self.engine.set_input(input);
                as_allow(self.engine.eval_rule(workload::REGO_ENTRY.to_owned()))
            }
            Err(_) => false,
        }
    }

    /// The RVM's decision from JSON text.
    pub fn rvm_allow_json(&mut self, json: &[u8]) -> bool {
        match rego_input(json) {
            Ok(input) => {
                let Some(vm) = self.vm.as_mut() else {
                    return false;
                };
                vm.set_input(input);
                as_allow(vm.execute())
            }
            Err(_) => false,
        }
    }
}
