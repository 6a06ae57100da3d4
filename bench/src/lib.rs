//! Ward side by side with Cedar and regorus (Rego) on one workload, a
//! zero-trust AI gateway, in one process.
//!
//! [`workload`] generates equivalent policies for every engine at any
//! number of rules and one list of requests; [`engines`] sets each engine
//! up; [`Suite`] holds everything for one rule count, with every request
//! already in each engine's native form, and [`Suite::check_agreement`]
//! proves that all engines (and every input path of each) decide every
//! request alike before anything is timed. The `report` binary times them
//! and writes `BENCHMARKS.md`; `benches/engines.rs` is the same under
//! criterion.

pub mod engines;
pub mod floor;
pub mod harness;
pub mod workload;

use ward_runtime::{DecisionModule, EncodedRequest, Evaluator, Request, Runtime, Verdict};

use crate::engines::{Cedar, CedarInput, GatewayRequest, Rego, SetupError, Ward, WardHandles};
use crate::floor::WasmFloor;
use crate::workload::{GenRequest, Rule, Universe};

/// Reads a verdict as a gateway's hot path does: the outcome and the
/// determining rules' ids (borrowed, kept from being optimised away).
pub fn read_verdict(verdict: Verdict<'_>) -> bool {
    std::hint::black_box(verdict.rule_ids().count());
    verdict.is_allow()
}

/// Everything for one rule count: engines and inputs.
#[allow(missing_debug_implementations, reason = "holds engines")]
pub struct Suite {
    /// Number of rules.
    pub n: usize,
    /// The universe.
    pub universe: Universe,
    /// The abstract rules.
    pub rules: Vec<Rule>,
    /// The requests, typed.
    pub requests: Vec<GenRequest>,
    /// The requests as JSON text (Ward request documents; every engine
    /// reads these).
    pub json: Vec<Vec<u8>>,
    /// Parsed for Ward.
    pub ward_requests: Vec<Request>,
    /// Validated and encoded for the Ward module.
    pub encoded: Vec<EncodedRequest>,
    /// In a gateway's own types, for Ward's `RequestBuilder`.
    pub gateway: Vec<GatewayRequest>,
    /// The workload's names resolved in the Ward module.
    pub handles: WardHandles,
    /// In Cedar's structures.
    pub cedar_inputs: Vec<CedarInput>,
    /// As regorus values.
    pub rego_inputs: Vec<regorus::Value>,
    /// Ward.
    pub ward: Ward,
    /// A Ward evaluator of the module (one thread's).
    pub evaluator: Evaluator,
    /// Cedar.
    pub cedar: Cedar,
    /// regorus.
    pub rego: Rego,
    /// The floor under any WebAssembly decision module.
    pub floor: WasmFloor,
}

/// The outcome of the agreement check.
#[derive(Debug, Clone, Default)]
pub struct Agreement {
    /// Requests checked.
    pub requests: usize,
    /// Allowed by every engine.
    pub allow: usize,
    /// Denied by every engine.
    pub deny: usize,
    /// Decision paths compared.
    pub paths: Vec<&'static str>,
    /// Disagreements, described (empty when all agree).
    pub mismatches: Vec<String>,
}

impl Suite {
    /// Builds every engine for `n` rules and prepares every request in each
    /// engine's native form.
    pub fn new(runtime: &Runtime, n: usize) -> Result<Suite, SetupError> {
        let universe = Universe::generate();
        let rules = workload::rules(n);
        let requests = workload::requests(&universe);
        let json: Vec<Vec<u8>> =
            requests.iter().map(|r| workload::request_json(&universe, r).to_string().into_bytes()).collect();
        let ward = Ward::new(runtime, &rules)?;
        let schema = engines::cedar_schema()?;
        let cedar = Cedar::new(&rules, &schema)?;
        let rego = Rego::new(&rules)?;
        let ward_requests = json.iter().map(|j| engines::ward_request(j)).collect::<Result<Vec<_>, _>>()?;
        let encoded = ward_requests
            .iter()
            .map(|r| ward.module.encode(r).map_err(|errors| format!("Ward refuses a request: {errors:?}")))
            .collect::<Result<Vec<_>, _>>()?;
        let cedar_inputs = ward_requests.iter().map(|r| cedar.input(r)).collect::<Result<Vec<_>, _>>()?;
        let rego_inputs = json.iter().map(|j| engines::rego_input(j)).collect::<Result<Vec<_>, _>>()?;
        let evaluator = ward.module.evaluator().map_err(|e| format!("no evaluator: {e}"))?;
        let gateway = requests.iter().map(|r| GatewayRequest::new(&universe, r)).collect();
        let handles = WardHandles::new(&ward.module)?;
        let floor = WasmFloor::new(runtime)?;
        Ok(Suite {
            floor,
            gateway,
            handles,
            n,
            universe,
            rules,
            requests,
            json,
            ward_requests,
            encoded,
            cedar_inputs,
            rego_inputs,
            ward,
            evaluator,
            cedar,
            rego,
        })
    }

    /// The module.
    pub fn module(&self) -> &DecisionModule {
        &self.ward.module
    }

    /// Decides every request on every engine and input path and compares
    /// with the plain-Rust reference: the decision everywhere, and the
    /// determining rules where the engine reports them (Ward's module and
    /// interpreter, Cedar).
    pub fn check_agreement(&mut self) -> Agreement {
        let mut agreement = Agreement {
            requests: self.requests.len(),
            paths: vec![
                "ward (parsed request)",
                "ward (parsed request, verdict)",
                "ward (pre-encoded)",
                "ward (RequestBuilder)",
                "ward (JSON)",
                "ward (JSON, verdict)",
                "ward interpreter",
                "cedar (prebuilt)",
                "cedar (JSON)",
                "regorus interpreter (prebuilt)",
                "regorus interpreter (JSON)",
                "regorus RVM (prebuilt)",
                "regorus RVM (JSON)",
            ],
            ..Agreement::default()
        };
        if self.rego.vm.is_none() {
            agreement.paths.retain(|p| !p.starts_with("regorus RVM"));
        }
        for i in 0..self.requests.len() {
            let (allow, rules) = workload::reference_decide(&self.universe, &self.rules, &self.requests[i]);
            if allow {
                agreement.allow += 1;
            } else {
                agreement.deny += 1;
            }
            let mut results: Vec<(&str, bool, Option<Vec<String>>)> = Vec::new();
            let d = self.evaluator.decide(&self.ward_requests[i]);
            if !d.errors.is_empty() {
                agreement.mismatches.push(format!("N={} request {i}: Ward reports errors {:?}", self.n, d.errors));
            }
            results.push(("ward (parsed request)", d.is_allow(), Some(d.rules)));
            let v = self.evaluator.evaluate(&self.ward_requests[i]);
            let ids = v.rule_ids().map(str::to_owned).collect();
            results.push(("ward (parsed request, verdict)", v.is_allow(), Some(ids)));
            let d = self.evaluator.decide_encoded(&self.encoded[i]);
            results.push(("ward (pre-encoded)", d.is_allow(), Some(d.rules)));
            let d = engines::ward_build(&mut self.evaluator, &self.handles, &self.gateway[i]).into_decision();
            if !d.errors.is_empty() {
                agreement
                    .mismatches
                    .push(format!("N={} request {i}: the built request has errors {:?}", self.n, d.errors));
            }
            results.push(("ward (RequestBuilder)", d.is_allow(), Some(d.rules)));
            let d = self.evaluator.decide_json(&self.json[i]);
            results.push(("ward (JSON)", d.is_allow(), Some(d.rules)));
            let v = self.evaluator.evaluate_json(&self.json[i]);
            let ids = v.rule_ids().map(str::to_owned).collect();
            results.push(("ward (JSON, verdict)", v.is_allow(), Some(ids)));
            let d = ward_compiler::interp::decide(&self.ward.program, &self.ward_requests[i]);
            results.push(("ward interpreter", d.is_allow(), Some(d.rules)));
            let (a, reasons) = self.cedar.decide(&self.cedar_inputs[i]);
            let mut ids: Vec<String> = reasons.iter().map(|&k| workload::rule_id(k, &self.rules[k])).collect();
            ids.sort();
            results.push(("cedar (prebuilt)", a, Some(ids)));
            results.push(("cedar (JSON)", self.cedar.allow_json(&self.json[i]), None));
            let a = self.rego.interp_allow(&self.rego_inputs[i]);
            results.push(("regorus interpreter (prebuilt)", a, None));
            let a = self.rego.interp_allow_json(&self.json[i]);
            results.push(("regorus interpreter (JSON)", a, None));
            if self.rego.vm.is_some() {
                let a = self.rego.rvm_allow(&self.rego_inputs[i]);
                results.push(("regorus RVM (prebuilt)", a, None));
                let a = self.rego.rvm_allow_json(&self.json[i]);
                results.push(("regorus RVM (JSON)", a, None));
            }
            for (path, got_allow, got_rules) in results {
                let rules_differ = got_rules.as_ref().is_some_and(|r| *r != rules);
                if got_allow != allow || rules_differ {
                    agreement.mismatches.push(format!(
                        "N={} request {i}: {path} says {} {:?}, the reference {} {rules:?}",
                        self.n,
                        if got_allow { "allow" } else { "deny" },
                        got_rules.unwrap_or_default(),
                        if allow { "allow" } else { "deny" },
                    ));
                }
            }
        }
        agreement
    }
}
