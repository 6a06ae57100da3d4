//! The workload: a zero-trust AI gateway. One abstract list of rules is
//! rendered to Ward, Cedar and Rego (and evaluated by a plain-Rust
//! reference), so the three policies mean the same thing by construction;
//! one list of requests, as Ward request JSON, is decided by every engine.
//!
//! Universe: 20 departments, 250 models, 100 datasets and 40 principals
//! (users, service accounts and agents). Rules: 7 base rules (MFA, clearance
//! against classification, roles, network zone, mTLS, forbids for risk,
//! weight export and extraction-rate), then per-model and per-dataset rules
//! for one department each, round-robin over four kinds, so that at large N
//! only a few rules concern any one request.

use std::fmt::Write as _;

use serde_json::{Value, json};

/// Number of departments.
pub const DEPARTMENTS: usize = 20;
/// Number of models.
pub const MODELS: usize = 250;
/// Number of datasets.
pub const DATASETS: usize = 100;
/// Number of principals.
pub const PRINCIPALS: usize = 40;
/// Number of requests every engine decides.
pub const REQUESTS: usize = 256;
/// The classification levels, lowest first.
pub const LEVELS: [&str; 4] = ["public", "internal", "confidential", "restricted"];
/// Network zones.
pub const ZONES: [&str; 3] = ["corp", "partner", "internet"];
/// Model families.
pub const FAMILIES: [&str; 5] = ["llama", "mistral", "gpt", "embedder", "vision"];
/// Actions on models.
pub const MODEL_ACTIONS: [&str; 4] = ["infer", "embed", "fine_tune", "export_weights"];
/// Every action, models' first.
pub const ACTIONS: [&str; 5] = ["infer", "embed", "fine_tune", "export_weights", "read_dataset"];

/// A small deterministic generator (SplitMix64), so that every run and
/// every engine sees the same universe, rules and requests.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// The kinds of principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// A human.
    User,
    /// A workload identity.
    ServiceAccount,
    /// An AI agent acting for someone.
    Agent,
}

impl PrincipalKind {
    /// The entity type's name (the same in Ward, Cedar and Rego input).
    pub fn type_name(self) -> &'static str {
        match self {
            PrincipalKind::User => "User",
            PrincipalKind::ServiceAccount => "ServiceAccount",
            PrincipalKind::Agent => "Agent",
        }
    }
}

/// A principal of the universe.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Kind.
    pub kind: PrincipalKind,
    /// Id.
    pub id: String,
    /// Department index.
    pub department: usize,
    /// Clearance level index.
    pub clearance: usize,
    /// Roles.
    pub roles: Vec<&'static str>,
    /// Groups (ancestors).
    pub groups: Vec<&'static str>,
}

/// A model.
#[derive(Debug, Clone)]
pub struct Model {
    /// Classification level index.
    pub tier: usize,
    /// Owning department.
    pub owner: usize,
    /// Family.
    pub family: &'static str,
}

/// A dataset.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Classification level index.
    pub classification: usize,
    /// Owning department.
    pub owner: usize,
    /// Whether it holds personal data.
    pub pii: bool,
}

/// Everything requests are about.
#[derive(Debug, Clone)]
pub struct Universe {
    /// Principals.
    pub principals: Vec<Principal>,
    /// Models, by index (id `m<index>`).
    pub models: Vec<Model>,
    /// Datasets, by index (id `ds<index>`).
    pub datasets: Vec<Dataset>,
}

impl Universe {
    /// The universe every run uses.
    pub fn generate() -> Universe {
        let mut rng = Rng::new(0x5741_5244);
        let level = |rng: &mut Rng| match rng.below(10) {
            0..=2 => 0,
            3..=5 => 1,
            6..=8 => 2,
            _ => 3,
        };
        let principals = (0..PRINCIPALS)
            .map(|i| {
                let kind = match i % 20 {
                    0..=13 => PrincipalKind::User,
                    14..=16 => PrincipalKind::ServiceAccount,
                    _ => PrincipalKind::Agent,
                };
                let mut roles = Vec::new();
                for (role, percent) in
                    [("ml-engineer", 40), ("model-owner", 25), ("data-scientist", 40), ("analyst", 30)]
                {
                    if rng.chance(percent) {
                        roles.push(role);
                    }
                }
                let mut groups = Vec::new();
                if roles.contains(&"data-scientist") || rng.chance(15) {
                    groups.push("data-science");
                }
                if rng.chance(30) {
                    groups.push("ml-platform");
                }
                if kind != PrincipalKind::User {
                    groups.push("automation");
                }
                let prefix = match kind {
                    PrincipalKind::User => "u",
                    PrincipalKind::ServiceAccount => "svc",
                    PrincipalKind::Agent => "agent",
                };
                Principal {
                    kind,
                    id: format!("{prefix}{i}"),
                    department: rng.below(DEPARTMENTS),
                    clearance: level(&mut rng),
                    roles,
                    groups,
                }
            })
            .collect();
        let models = (0..MODELS)
            .map(|_| Model {
                tier: level(&mut rng),
                owner: rng.below(DEPARTMENTS),
                family: FAMILIES[rng.below(FAMILIES.len())],
            })
            .collect();
        let datasets = (0..DATASETS)
            .map(|_| Dataset { classification: level(&mut rng), owner: rng.below(DEPARTMENTS), pii: rng.chance(30) })
            .collect();
        Universe { principals, models, datasets }
    }
}

/// The base rules, in the order they are added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// Permit infer and embed with fresh MFA, clearance ≥ model tier, mTLS.
    Infer,
    /// Permit fine-tuning to ML engineers cleared for the model, on non-PII
    /// training data.
    FineTune,
    /// Permit reading a dataset from the corporate zone with clearance ≥
    /// classification, and MFA if it holds personal data.
    ReadDataset,
    /// Permit a user who owns models to export weights from the corporate
    /// zone with MFA at most 15 minutes old.
    ExportWeights,
    /// Forbid anything when the risk score is over 80.
    Risk,
    /// Forbid weight export unless the principal is a model owner in the
    /// model's owning department.
    ExportOwner,
    /// Forbid anything above 600 requests a minute (model extraction).
    Extraction,
}

const BASE: [Base; 7] = [
    Base::Infer,
    Base::Risk,
    Base::FineTune,
    Base::ReadDataset,
    Base::ExportWeights,
    Base::ExportOwner,
    Base::Extraction,
];

/// One abstract rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// A base rule.
    Base(Base),
    /// Permit infer on one model to one department from the corporate zone
    /// over mTLS, with clearance ≥ tier.
    InferModel {
        /// Model index.
        model: usize,
        /// Department index.
        department: usize,
    },
    /// Permit fine-tuning one model to one department's data scientists,
    /// on non-PII training data at most their clearance.
    TuneModel {
        /// Model index.
        model: usize,
        /// Department index.
        department: usize,
    },
    /// Forbid model actions on one model above a risk threshold.
    GuardModel {
        /// Model index.
        model: usize,
        /// Risk scores above this are refused (30–79).
        threshold: i64,
    },
    /// Permit reading one dataset to one department, clearance ≥
    /// classification.
    ReadDataset {
        /// Dataset index.
        dataset: usize,
        /// Department index.
        department: usize,
    },
}

impl Rule {
    /// Whether the rule is a forbid.
    pub fn is_forbid(&self) -> bool {
        matches!(self, Rule::GuardModel { .. } | Rule::Base(Base::Risk | Base::ExportOwner | Base::Extraction))
    }
}

/// The rule's id in every engine (Ward `@id`, Cedar policy id).
pub fn rule_id(index: usize, rule: &Rule) -> String {
    match rule {
        Rule::Base(base) => format!(
            "B-{}",
            match base {
                Base::Infer => "INFER",
                Base::FineTune => "TUNE",
                Base::ReadDataset => "READ",
                Base::ExportWeights => "EXPORT",
                Base::Risk => "RISK",
                Base::ExportOwner => "OWNER",
                Base::Extraction => "EXTRACTION",
            }
        ),
        Rule::InferModel { .. } => format!("G{index}-INFER"),
        Rule::TuneModel { .. } => format!("G{index}-TUNE"),
        Rule::GuardModel { .. } => format!("G{index}-GUARD"),
        Rule::ReadDataset { .. } => format!("G{index}-READ"),
    }
}

/// The first `n` rules: the base rules, then generated ones.
pub fn rules(n: usize) -> Vec<Rule> {
    let mut rng = Rng::new(0x7275_6c65);
    let mut out: Vec<Rule> = BASE.iter().take(n).map(|b| Rule::Base(*b)).collect();
    let mut k = 0;
    while out.len() < n {
        let rule = match k % 4 {
            0 => Rule::InferModel { model: rng.below(MODELS), department: rng.below(DEPARTMENTS) },
            1 => Rule::TuneModel { model: rng.below(MODELS), department: rng.below(DEPARTMENTS) },
            2 => Rule::GuardModel { model: rng.below(MODELS), threshold: 30 + rng.below(50) as i64 },
            _ => Rule::ReadDataset { dataset: rng.below(DATASETS), department: rng.below(DEPARTMENTS) },
        };
        out.push(rule);
        k += 1;
    }
    out
}

/// A request in typed form, as the generator makes it.
#[derive(Debug, Clone)]
pub struct GenRequest {
    /// Principal index in the universe.
    pub principal: usize,
    /// Action index in [`ACTIONS`].
    pub action: usize,
    /// Model or dataset index (dataset when the action is `read_dataset`).
    pub resource: usize,
    /// MFA age in seconds, when the session has MFA.
    pub mfa_age_seconds: Option<i64>,
    /// Risk score 0–100.
    pub risk_score: i64,
    /// Requests in the last minute.
    pub requests_last_minute: i64,
    /// Zone index in [`ZONES`].
    pub zone: usize,
    /// Whether the connection is mutually authenticated.
    pub mtls: bool,
    /// Training data for fine-tuning: classification index and PII flag.
    pub training_data: Option<(usize, bool)>,
}

impl GenRequest {
    /// Whether the resource is a dataset.
    pub fn on_dataset(&self) -> bool {
        ACTIONS[self.action] == "read_dataset"
    }
}

/// The benchmark requests: 256, deterministic. 40% infer, 10% embed, 20%
/// fine_tune, 15% read_dataset, 15% export_weights; about 6% over the
/// extraction rate; risk uniform over 0–100.
pub fn requests(universe: &Universe) -> Vec<GenRequest> {
    let mut rng = Rng::new(0x7265_7175);
    (0..REQUESTS)
        .map(|_| {
            let action = match rng.below(100) {
                0..=39 => 0,
                40..=49 => 1,
                50..=69 => 2,
                70..=84 => 4,
                _ => 3,
            };
            let principal = rng.below(universe.principals.len());
            let resource = if ACTIONS[action] == "read_dataset" { rng.below(DATASETS) } else { rng.below(MODELS) };
            let kind = universe.principals[principal].kind;
            let mfa_percent = match kind {
                PrincipalKind::User => 85,
                PrincipalKind::ServiceAccount => 0,
                PrincipalKind::Agent => 50,
            };
            let mfa_age_seconds = rng.chance(mfa_percent).then(|| rng.below(5400) as i64);
            let risk_score = rng.below(101) as i64;
            let requests_last_minute = if rng.chance(6) { 601 + rng.below(2000) as i64 } else { rng.below(601) as i64 };
            let zone = match rng.below(10) {
                0..=6 => 0,
                7..=8 => 1,
                _ => 2,
            };
            let mtls = rng.chance(85);
            let training_data = (ACTIONS[action] == "fine_tune").then(|| (rng.below(LEVELS.len()), rng.chance(30)));
            GenRequest {
                principal,
                action,
                resource,
                mfa_age_seconds,
                risk_score,
                requests_last_minute,
                zone,
                mtls,
                training_data,
            }
        })
        .collect()
}

/// The request as a Ward request document (the JSON every engine reads).
pub fn request_json(universe: &Universe, r: &GenRequest) -> Value {
    let p = &universe.principals[r.principal];
    let mut attributes = json!({
        "department": format!("d{}", p.department),
        "clearance": LEVELS[p.clearance],
        "roles": p.roles,
    });
    if let (Some(age), Some(map)) = (r.mfa_age_seconds, attributes.as_object_mut()) {
        map.insert("mfa_age_seconds".to_owned(), json!(age));
    }
    let ancestors: Vec<Value> = p.groups.iter().map(|g| json!({"type": "Group", "id": g})).collect();
    let resource = if r.on_dataset() {
        let d = &universe.datasets[r.resource];
        json!({"type": "Dataset", "id": format!("ds{}", r.resource), "attributes": {
            "classification": LEVELS[d.classification],
            "owner": format!("d{}", d.owner),
            "pii": d.pii,
        }})
    } else {
        let m = &universe.models[r.resource];
        json!({"type": "Model", "id": format!("m{}", r.resource), "attributes": {
            "tier": LEVELS[m.tier],
            "owner": format!("d{}", m.owner),
            "family": m.family,
        }})
    };
    let mut context = json!({
        "risk_score": r.risk_score,
        "requests_last_minute": r.requests_last_minute,
        "zone": ZONES[r.zone],
        "mtls": r.mtls,
    });
    if let (Some((level, pii)), Some(map)) = (r.training_data, context.as_object_mut()) {
        map.insert("training_data".to_owned(), json!({"classification": LEVELS[level], "pii": pii}));
    }
    json!({
        "principal": {"type": p.kind.type_name(), "id": p.id, "attributes": attributes, "ancestors": ancestors},
        "action": ACTIONS[r.action],
        "resource": resource,
        "context": context,
    })
}

/// The ids of the rules that determine the decision, sorted, and whether
/// it is an allow: the plain-Rust reference semantics (deny overrides,
/// default deny).
pub fn reference_decide(universe: &Universe, rules: &[Rule], r: &GenRequest) -> (bool, Vec<String>) {
    let mut permits = Vec::new();
    let mut forbids = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        if applies(universe, rule, r) {
            if rule.is_forbid() {
                forbids.push(rule_id(i, rule));
            } else {
                permits.push(rule_id(i, rule));
            }
        }
    }
    let (allow, mut ids) = if !forbids.is_empty() {
        (false, forbids)
    } else if !permits.is_empty() {
        (true, permits)
    } else {
        (false, Vec::new())
    };
    ids.sort();
    ids.dedup();
    (allow, ids)
}

fn applies(universe: &Universe, rule: &Rule, r: &GenRequest) -> bool {
    let p = &universe.principals[r.principal];
    let action = ACTIONS[r.action];
    let model = (!r.on_dataset()).then(|| &universe.models[r.resource]);
    let dataset = r.on_dataset().then(|| &universe.datasets[r.resource]);
    let has_role = |role: &str| p.roles.contains(&role);
    match *rule {
        Rule::Base(Base::Infer) => {
            matches!(action, "infer" | "embed")
                && model
                    .is_some_and(|m| r.mfa_age_seconds.is_some_and(|a| a <= 3600) && p.clearance >= m.tier && r.mtls)
        }
        Rule::Base(Base::FineTune) => {
            action == "fine_tune"
                && model.is_some_and(|m| {
                    has_role("ml-engineer") && p.clearance >= m.tier && r.training_data.is_some_and(|(_, pii)| !pii)
                })
        }
        Rule::Base(Base::ReadDataset) => {
            action == "read_dataset"
                && dataset.is_some_and(|d| {
                    r.zone == 0 && p.clearance >= d.classification && (!d.pii || r.mfa_age_seconds.is_some())
                })
        }
        Rule::Base(Base::ExportWeights) => {
            action == "export_weights"
                && p.kind == PrincipalKind::User
                && has_role("model-owner")
                && r.zone == 0
                && r.mfa_age_seconds.is_some_and(|a| a <= 900)
        }
        Rule::Base(Base::Risk) => r.risk_score > 80,
        Rule::Base(Base::ExportOwner) => {
            action == "export_weights" && model.is_some_and(|m| !(has_role("model-owner") && p.department == m.owner))
        }
        Rule::Base(Base::Extraction) => r.requests_last_minute > 600,
        Rule::InferModel { model: id, department } => {
            action == "infer"
                && !r.on_dataset()
                && r.resource == id
                && p.department == department
                && r.zone == 0
                && r.mtls
                && p.clearance >= universe.models[id].tier
        }
        Rule::TuneModel { model: id, department } => {
            action == "fine_tune"
                && r.resource == id
                && p.groups.contains(&"data-science")
                && p.department == department
                && r.training_data.is_some_and(|(level, pii)| !pii && level <= p.clearance)
        }
        Rule::GuardModel { model: id, threshold } => !r.on_dataset() && r.resource == id && r.risk_score > threshold,
        Rule::ReadDataset { dataset: id, department } => {
            r.on_dataset()
                && r.resource == id
                && p.department == department
                && p.clearance >= universe.datasets[id].classification
        }
    }
}

// ---------------------------------------------------------------- Ward

/// The Ward policy: one file, `(name, text)`.
pub fn ward_source(rules: &[Rule]) -> (String, String) {
    let mut s = String::from(
        r#"package bench.gateway

level Classification = public < internal < confidential < restricted
enum Zone { corp, partner, internet }

entity Group {}
entity User in [Group] { department: String, clearance: Classification, roles: Set<String>, mfa_age_seconds: Int[0..]? }
entity ServiceAccount in [Group] { department: String, clearance: Classification, roles: Set<String>, mfa_age_seconds: Int[0..]? }
entity Agent in [Group] { department: String, clearance: Classification, roles: Set<String>, mfa_age_seconds: Int[0..]? }
entity Model { tier: Classification, owner: String, family: String }
entity Dataset { classification: Classification, owner: String, pii: Bool }

action infer, embed, fine_tune, export_weights { principal: [User, ServiceAccount, Agent], resource: Model }
action read_dataset { principal: [User, ServiceAccount, Agent], resource: Dataset }

context {
  risk_score: Int[0..100],
  requests_last_minute: Int[0..],
  zone: Zone,
  mtls: Bool,
  training_data: { classification: Classification, pii: Bool }?,
}

"#,
    );
    for (i, rule) in rules.iter().enumerate() {
        let id = rule_id(i, rule);
        let _ = write!(s, "@id(\"{id}\") ");
        let body = match *rule {
            Rule::Base(Base::Infer) => "permit (principal, action in [infer, embed], resource: Model)\n  when principal has mfa_age_seconds && principal.mfa_age_seconds <= 3600\n  when principal.clearance >= resource.tier && context.mtls;".to_owned(),
            Rule::Base(Base::FineTune) => "permit (principal, action == fine_tune, resource: Model)\n  when principal.roles.contains(\"ml-engineer\") && principal.clearance >= resource.tier\n  when context has training_data && !context.training_data.pii;".to_owned(),
            Rule::Base(Base::ReadDataset) => "permit (principal, action == read_dataset, resource: Dataset)\n  when context.zone == Zone.corp && principal.clearance >= resource.classification\n  when !resource.pii || principal has mfa_age_seconds;".to_owned(),
            Rule::Base(Base::ExportWeights) => "permit (principal: User, action == export_weights, resource: Model)\n  when principal.roles.contains(\"model-owner\") && context.zone == Zone.corp\n  when principal has mfa_age_seconds && principal.mfa_age_seconds <= 900;".to_owned(),
            Rule::Base(Base::Risk) => "@reason(\"risk score over 80\")\nforbid (principal, action, resource)\n  when context.risk_score > 80;".to_owned(),
            Rule::Base(Base::ExportOwner) => "@reason(\"only the owning department's model owners export weights\")\nforbid (principal, action == export_weights, resource: Model)\n  unless principal.roles.contains(\"model-owner\") && principal.department == resource.owner;".to_owned(),
            Rule::Base(Base::Extraction) => "@reason(\"request rate suggests model extraction\")\nforbid (principal, action, resource)\n  when context.requests_last_minute > 600;".to_owned(),
            Rule::InferModel { model, department } => format!(
                "permit (principal, action == infer, resource == Model::\"m{model}\")\n  when principal.department == \"d{department}\" && context.zone == Zone.corp && context.mtls && principal.clearance >= resource.tier;"
            ),
            Rule::TuneModel { model, department } => format!(
                "permit (principal in Group::\"data-science\", action == fine_tune, resource == Model::\"m{model}\")\n  when principal.department == \"d{department}\" && context has training_data && !context.training_data.pii && context.training_data.classification <= principal.clearance;"
            ),
            Rule::GuardModel { model, threshold } => format!(
                "forbid (principal, action in [infer, embed, fine_tune, export_weights], resource == Model::\"m{model}\")\n  when context.risk_score > {threshold};"
            ),
            Rule::ReadDataset { dataset, department } => format!(
                "permit (principal, action == read_dataset, resource == Dataset::\"ds{dataset}\")\n  when principal.department == \"d{department}\" && principal.clearance >= resource.classification;"
            ),
        };
        s.push_str(&body);
        s.push_str("\n\n");
    }
    ("gateway.ward".to_owned(), s)
}

// ---------------------------------------------------------------- Cedar

/// The Cedar schema (Cedar schema syntax). Levels are `Long` 0–3.
pub const CEDAR_SCHEMA: &str = r#"
entity Group;
entity User, ServiceAccount, Agent in [Group] {
  department: String,
  clearance: Long,
  roles: Set<String>,
  mfa_age_seconds?: Long,
};
entity Model { tier: Long, owner: String, family: String };
entity Dataset { classification: Long, owner: String, pii: Bool };
type Ctx = {
  risk_score: Long,
  requests_last_minute: Long,
  zone: String,
  mtls: Bool,
  training_data?: { classification: Long, pii: Bool },
};
action infer, embed, fine_tune, export_weights appliesTo {
  principal: [User, ServiceAccount, Agent], resource: [Model], context: Ctx
};
action read_dataset appliesTo {
  principal: [User, ServiceAccount, Agent], resource: [Dataset], context: Ctx
};
"#;

/// The Cedar policies, one per rule, in rule order (policy `k` is rule `k`).
pub fn cedar_policies(rules: &[Rule]) -> Vec<String> {
    rules
        .iter()
        .map(|rule| match *rule {
            Rule::Base(Base::Infer) => "permit (principal, action in [Action::\"infer\", Action::\"embed\"], resource is Model)\n  when { principal has mfa_age_seconds && principal.mfa_age_seconds <= 3600 && principal.clearance >= resource.tier && context.mtls };".to_owned(),
            Rule::Base(Base::FineTune) => "permit (principal, action == Action::\"fine_tune\", resource is Model)\n  when { principal.roles.contains(\"ml-engineer\") && principal.clearance >= resource.tier && context has training_data && !context.training_data.pii };".to_owned(),
            Rule::Base(Base::ReadDataset) => "permit (principal, action == Action::\"read_dataset\", resource is Dataset)\n  when { context.zone == \"corp\" && principal.clearance >= resource.classification && (!resource.pii || principal has mfa_age_seconds) };".to_owned(),
            Rule::Base(Base::ExportWeights) => "permit (principal is User, action == Action::\"export_weights\", resource is Model)\n  when { principal.roles.contains(\"model-owner\") && context.zone == \"corp\" && principal has mfa_age_seconds && principal.mfa_age_seconds <= 900 };".to_owned(),
            Rule::Base(Base::Risk) => "forbid (principal, action, resource)\n  when { context.risk_score > 80 };".to_owned(),
            Rule::Base(Base::ExportOwner) => "forbid (principal, action == Action::\"export_weights\", resource is Model)\n  unless { principal.roles.contains(\"model-owner\") && principal.department == resource.owner };".to_owned(),
            Rule::Base(Base::Extraction) => "forbid (principal, action, resource)\n  when { context.requests_last_minute > 600 };".to_owned(),
            Rule::InferModel { model, department } => format!(
                "permit (principal, action == Action::\"infer\", resource == Model::\"m{model}\")\n  when {{ principal.department == \"d{department}\" && context.zone == \"corp\" && context.mtls && principal.clearance >= resource.tier }};"
            ),
            Rule::TuneModel { model, department } => format!(
                "permit (principal in Group::\"data-science\", action == Action::\"fine_tune\", resource == Model::\"m{model}\")\n  when {{ principal.department == \"d{department}\" && context has training_data && !context.training_data.pii && context.training_data.classification <= principal.clearance }};"
            ),
            Rule::GuardModel { model, threshold } => format!(
                "forbid (principal, action in [Action::\"infer\", Action::\"embed\", Action::\"fine_tune\", Action::\"export_weights\"], resource == Model::\"m{model}\")\n  when {{ context.risk_score > {threshold} }};"
            ),
            Rule::ReadDataset { dataset, department } => format!(
                "permit (principal, action == Action::\"read_dataset\", resource == Dataset::\"ds{dataset}\")\n  when {{ principal.department == \"d{department}\" && principal.clearance >= resource.classification }};"
            ),
        })
        .collect()
}

// ---------------------------------------------------------------- Rego

/// The Rego entry point.
pub const REGO_ENTRY: &str = "data.ward.allow";

/// The Rego policy: one `permit`/`forbid` body per rule (two for the rules
/// with a disjunction), the resource id test first, and
/// `allow if { permit; not forbid }`. Reads the Ward request document as
/// `input`.
pub fn rego_policy(rules: &[Rule]) -> String {
    let mut s = String::from(
        r#"package ward

import rego.v1

default allow := false

default permit := false

default forbid := false

allow if {
	permit
	not forbid
}

lv := {"public": 0, "internal": 1, "confidential": 2, "restricted": 3}

"#,
    );
    let p = "input.principal.attributes";
    let r = "input.resource.attributes";
    let c = "input.context";
    for (i, rule) in rules.iter().enumerate() {
        let id = rule_id(i, rule);
        let bodies: Vec<(&str, Vec<String>)> = match *rule {
            Rule::Base(Base::Infer) => vec![(
                "permit",
                vec![
                    "input.action in {\"infer\", \"embed\"}".into(),
                    "input.resource.type == \"Model\"".into(),
                    format!("{p}.mfa_age_seconds <= 3600"),
                    format!("lv[{p}.clearance] >= lv[{r}.tier]"),
                    format!("{c}.mtls == true"),
                ],
            )],
            Rule::Base(Base::FineTune) => vec![(
                "permit",
                vec![
                    "input.action == \"fine_tune\"".into(),
                    "input.resource.type == \"Model\"".into(),
                    format!("\"ml-engineer\" in {p}.roles"),
                    format!("lv[{p}.clearance] >= lv[{r}.tier]"),
                    format!("{c}.training_data.pii == false"),
                ],
            )],
            Rule::Base(Base::ReadDataset) => {
                let head = vec![
                    "input.action == \"read_dataset\"".to_owned(),
                    "input.resource.type == \"Dataset\"".into(),
                    format!("{c}.zone == \"corp\""),
                    format!("lv[{p}.clearance] >= lv[{r}.classification]"),
                ];
                let mut a = head.clone();
                a.push(format!("{r}.pii == false"));
                let mut b = head;
                b.push(format!("_ = {p}.mfa_age_seconds"));
                vec![("permit", a), ("permit", b)]
            }
            Rule::Base(Base::ExportWeights) => vec![(
                "permit",
                vec![
                    "input.action == \"export_weights\"".into(),
                    "input.principal.type == \"User\"".into(),
                    "input.resource.type == \"Model\"".into(),
                    format!("\"model-owner\" in {p}.roles"),
                    format!("{c}.zone == \"corp\""),
                    format!("{p}.mfa_age_seconds <= 900"),
                ],
            )],
            Rule::Base(Base::Risk) => vec![("forbid", vec![format!("{c}.risk_score > 80")])],
            Rule::Base(Base::ExportOwner) => {
                let head =
                    vec!["input.action == \"export_weights\"".to_owned(), "input.resource.type == \"Model\"".into()];
                let mut a = head.clone();
                a.push(format!("not \"model-owner\" in {p}.roles"));
                let mut b = head;
                b.push(format!("{p}.department != {r}.owner"));
                vec![("forbid", a), ("forbid", b)]
            }
            Rule::Base(Base::Extraction) => {
                vec![("forbid", vec![format!("{c}.requests_last_minute > 600")])]
            }
            Rule::InferModel { model, department } => vec![(
                "permit",
                vec![
                    format!("input.resource.id == \"m{model}\""),
                    "input.resource.type == \"Model\"".into(),
                    "input.action == \"infer\"".into(),
                    format!("{p}.department == \"d{department}\""),
                    format!("{c}.zone == \"corp\""),
                    format!("{c}.mtls == true"),
                    format!("lv[{p}.clearance] >= lv[{r}.tier]"),
                ],
            )],
            Rule::TuneModel { model, department } => vec![(
                "permit",
                vec![
                    format!("input.resource.id == \"m{model}\""),
                    "input.resource.type == \"Model\"".into(),
                    "input.action == \"fine_tune\"".into(),
                    "{\"type\": \"Group\", \"id\": \"data-science\"} in input.principal.ancestors".into(),
                    format!("{p}.department == \"d{department}\""),
                    format!("{c}.training_data.pii == false"),
                    format!("lv[{c}.training_data.classification] <= lv[{p}.clearance]"),
                ],
            )],
            Rule::GuardModel { model, threshold } => vec![(
                "forbid",
                vec![
                    format!("input.resource.id == \"m{model}\""),
                    "input.resource.type == \"Model\"".into(),
                    "input.action in {\"infer\", \"embed\", \"fine_tune\", \"export_weights\"}".into(),
                    format!("{c}.risk_score > {threshold}"),
                ],
            )],
            Rule::ReadDataset { dataset, department } => vec![(
                "permit",
                vec![
                    format!("input.resource.id == \"ds{dataset}\""),
                    "input.resource.type == \"Dataset\"".into(),
                    "input.action == \"read_dataset\"".into(),
                    format!("{p}.department == \"d{department}\""),
                    format!("lv[{p}.clearance] >= lv[{r}.classification]"),
                ],
            )],
        };
        for (head, lines) in bodies {
            let _ = writeln!(s, "# {id}\n{head} if {{");
            for line in lines {
                let _ = writeln!(s, "\t{line}");
            }
            s.push_str("}\n\n");
        }
    }
    s
}
