//! A generator of random well-typed Ward programs, as source text.
//!
//! It works from a small typed model of the language: a random schema
//! (enums and levels, record aliases, entity types with a hierarchy and
//! typed, sometimes optional attributes, actions, a context, obligations),
//! then `def`s and rules whose conditions are built top-down by type ("an
//! expression of type `T` with these variables in scope"). The model tracks
//! what the checker tracks, the attribute paths known to be present on the
//! true and the false branch of a condition, so that optional attributes are
//! read only under a `has` guard, through `&&`, `||`, `!`, `if`, `let` and
//! successive `when`/`unless` clauses, exactly as the checker allows. Some
//! programs also carry copies of a rule that differ from it only in
//! literals, the shape code generation compiles to one template and, in
//! numbers, to one loop over a table of their literals.
//!
//! Every literal the generator writes is remembered ([`Pools`]) so that the
//! request generator can make equalities, `like` patterns, ranges and
//! hierarchy tests come out true as well as false.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ward_types::values::{self, Cidr};

use crate::rng::Rng;

/// A type of the model. `Int` keeps its declared range (which constrains
/// requests only); entity types are sets of entity type indices.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ty {
    /// `Bool`
    Bool,
    /// `Int`, `Int[lo..hi]`
    Int {
        /// Lower bound.
        min: Option<i64>,
        /// Upper bound.
        max: Option<i64>,
    },
    /// `String`
    Str,
    /// `Duration`
    Duration,
    /// `Timestamp`
    Timestamp,
    /// `TimeOfDay`
    TimeOfDay,
    /// `Ip`
    Ip,
    /// `Cidr`
    Cidr,
    /// `Set<T>`
    Set(Box<Ty>),
    /// A record: index into [`Schema::records`].
    Record(usize),
    /// An enum or level: index into [`Schema::enums`].
    Enum(usize),
    /// An entity of one of these types (sorted, distinct).
    Entity(Vec<usize>),
}

/// Which shapes of known, reported disagreements to generate (see
/// `tests/conformance/known_bugs.rs`). All off by default, so that the
/// normal run passes until they are fixed; a campaign turns them on with
/// `WARD_DIFF_KNOWN_BUGS=all` or a comma-separated list of their names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Knobs {
    /// `type-paths`: compare the error paths of unknown and inapplicable
    /// principal and resource types strictly.
    pub type_paths: bool,
    /// `required-has`: `has` on attributes that are required (in some or all
    /// of the possible entity types).
    pub required_has: bool,
    /// `literal-set-order`: quantifiers over sets built from non-constant
    /// set literals.
    pub literal_set_order: bool,
    /// `shared-def-sets`: functions returning sets built from non-constant
    /// set literals.
    pub shared_def_sets: bool,
}

impl Knobs {
    /// The names `WARD_DIFF_KNOWN_BUGS` accepts.
    pub const NAMES: [&'static str; 4] = ["type-paths", "required-has", "literal-set-order", "shared-def-sets"];

    /// Parses `all` or a comma-separated list of names.
    pub fn parse(text: &str) -> Result<Knobs, String> {
        let mut k = Knobs::default();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "all" | "1" => {
                    k = Knobs { type_paths: true, required_has: true, literal_set_order: true, shared_def_sets: true };
                }
                "type-paths" => k.type_paths = true,
                "required-has" => k.required_has = true,
                "literal-set-order" => k.literal_set_order = true,
                "shared-def-sets" => k.shared_def_sets = true,
                other => {
                    return Err(format!(
                        "unknown known bug `{other}`; the names are `all`, {}",
                        Knobs::NAMES.join(", ")
                    ));
                }
            }
        }
        Ok(k)
    }
}

/// A plain `Int`.
pub const INT: Ty = Ty::Int { min: None, max: None };

/// An attribute of an entity type, a record or the context.
#[derive(Debug, Clone)]
pub struct Attr {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: Ty,
    /// Declared with `?`.
    pub optional: bool,
}

/// A record type: declared once, as an alias (`type Name = {..}`) or inline
/// at its only use.
#[derive(Debug, Clone)]
pub struct RecordDef {
    /// The alias, if declared as one.
    pub alias: Option<String>,
    /// Its fields.
    pub fields: Vec<Attr>,
}

/// An enum or a level.
#[derive(Debug, Clone)]
pub struct EnumDef {
    /// Its name.
    pub name: String,
    /// Its values (for a level, lowest first).
    pub values: Vec<String>,
    /// A level rather than an enum.
    pub ordered: bool,
}

/// An entity type.
#[derive(Debug, Clone)]
pub struct EntityDef {
    /// Its name.
    pub name: String,
    /// Types it may be a member of.
    pub parents: Vec<usize>,
    /// Its attributes.
    pub attrs: Vec<Attr>,
}

/// An action.
#[derive(Debug, Clone)]
pub struct ActionDef {
    /// Its name.
    pub name: String,
    /// Principal types.
    pub principals: Vec<usize>,
    /// Resource types.
    pub resources: Vec<usize>,
}

/// An obligation declaration.
#[derive(Debug, Clone)]
pub struct ObligationDef {
    /// Its name.
    pub name: String,
    /// Parameters.
    pub params: Vec<(String, Ty)>,
}

/// A function declaration.
#[derive(Debug, Clone)]
pub struct DefSig {
    /// Its name.
    pub name: String,
    /// Parameters.
    pub params: Vec<(String, Ty)>,
    /// Result type.
    pub ret: Ty,
    /// May return a set built by a set literal at run time.
    pub dynamic: bool,
}

/// The schema of a generated program.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// Enums and levels.
    pub enums: Vec<EnumDef>,
    /// Record types.
    pub records: Vec<RecordDef>,
    /// Entity types.
    pub entities: Vec<EntityDef>,
    /// Actions.
    pub actions: Vec<ActionDef>,
    /// The context's attributes, when the program declares a context.
    pub context: Option<Vec<Attr>>,
    /// Obligations.
    pub obligations: Vec<ObligationDef>,
}

impl Schema {
    /// Whether an entity of type `child` may have an ancestor of type `ancestor`.
    pub fn can_be_in(&self, child: usize, ancestor: usize) -> bool {
        let mut seen = vec![false; self.entities.len()];
        let mut stack = self.entities[child].parents.clone();
        while let Some(t) = stack.pop() {
            if t == ancestor {
                return true;
            }
            if !std::mem::replace(&mut seen[t], true) {
                stack.extend(self.entities[t].parents.iter().copied());
            }
        }
        false
    }

    /// The types an entity of type `child` may have among its ancestors.
    pub fn ancestor_types(&self, child: usize) -> Vec<usize> {
        (0..self.entities.len()).filter(|a| self.can_be_in(child, *a)).collect()
    }

    /// Ward source for a type.
    pub fn show(&self, ty: &Ty) -> String {
        match ty {
            Ty::Bool => "Bool".into(),
            Ty::Int { min: None, max: None } => "Int".into(),
            Ty::Int { min, max } => {
                let bound = |b: &Option<i64>| b.map(|b| b.to_string()).unwrap_or_default();
                format!("Int[{}..{}]", bound(min), bound(max))
            }
            Ty::Str => "String".into(),
            Ty::Duration => "Duration".into(),
            Ty::Timestamp => "Timestamp".into(),
            Ty::TimeOfDay => "TimeOfDay".into(),
            Ty::Ip => "Ip".into(),
            Ty::Cidr => "Cidr".into(),
            Ty::Set(element) => format!("Set<{}>", self.show(element)),
            Ty::Record(r) => match &self.records[*r].alias {
                Some(alias) => alias.clone(),
                None => self.show_fields(&self.records[*r].fields),
            },
            Ty::Enum(e) => self.enums[*e].name.clone(),
            Ty::Entity(ts) => self.entities[ts[0]].name.clone(),
        }
    }

    fn show_fields(&self, fields: &[Attr]) -> String {
        let parts: Vec<String> = fields
            .iter()
            .map(|f| format!("{}: {}{}", f.name, self.show(&f.ty), if f.optional { "?" } else { "" }))
            .collect();
        format!("{{ {} }}", parts.join(", "))
    }

    /// The fields a value of this type has, with the checker's rules for
    /// entity unions: a field of every possible type, types unified, optional
    /// if optional in any of them.
    pub fn fields_of(&self, ty: &Ty) -> Vec<Attr> {
        match ty {
            Ty::Record(r) => self.records[*r].fields.clone(),
            Ty::Entity(types) => {
                let Some(first) = types.first() else {
                    return Vec::new();
                };
                let mut out = Vec::new();
                for attr in &self.entities[*first].attrs {
                    let mut merged = Some(attr.clone());
                    for t in &types[1..] {
                        merged = merged.and_then(|m| {
                            let other = self.entities[*t].attrs.iter().find(|a| a.name == m.name)?;
                            let ty = unify(&m.ty, &other.ty)?;
                            Some(Attr { name: m.name, ty, optional: m.optional || other.optional })
                        });
                    }
                    out.extend(merged);
                }
                out
            }
            _ => Vec::new(),
        }
    }

    /// Whether attribute `name` of a value of type `ty` is optional in some
    /// of its possible entity types and required in others.
    pub fn mixed(&self, ty: &Ty, name: &str) -> bool {
        let Ty::Entity(types) = ty else { return false };
        let flags: Vec<bool> = types
            .iter()
            .filter_map(|t| self.entities[*t].attrs.iter().find(|a| a.name == name))
            .map(|a| a.optional)
            .collect();
        flags.iter().any(|f| *f) && !flags.iter().all(|f| *f)
    }

    /// Every attribute site of an entity type, record or context, for
    /// request generation: the type and the optionality.
    pub fn entity_attrs(&self, t: usize) -> &[Attr] {
        &self.entities[t].attrs
    }
}

/// The checker's join of two types.
pub fn unify(a: &Ty, b: &Ty) -> Option<Ty> {
    match (a, b) {
        (Ty::Int { .. }, Ty::Int { .. }) => Some(INT),
        (Ty::Entity(x), Ty::Entity(y)) => {
            let mut all: Vec<usize> = x.iter().chain(y).copied().collect();
            all.sort_unstable();
            all.dedup();
            Some(Ty::Entity(all))
        }
        (Ty::Set(x), Ty::Set(y)) => unify(x, y).map(|t| Ty::Set(Box::new(t))),
        _ if a == b => Some(a.clone()),
        _ => None,
    }
}

/// Whether a value of type `actual` is acceptable where `want` is asked
/// for: any `Int` for `Int`; entity types among the wanted ones.
pub fn fits(actual: &Ty, want: &Ty) -> bool {
    match (actual, want) {
        (Ty::Int { .. }, Ty::Int { .. }) => true,
        (Ty::Entity(a), Ty::Entity(w)) => a.iter().all(|t| w.contains(t)),
        (Ty::Set(a), Ty::Set(w)) => fits(a, w),
        _ => actual == want,
    }
}

/// A `like` pattern: literal parts and wildcards (`None`).
pub type Pattern = Vec<Option<String>>;

/// The literals a program uses, for requests to reuse.
#[derive(Debug, Clone, Default)]
pub struct Pools {
    /// Strings (literals, entity ids).
    pub strings: BTreeSet<String>,
    /// Integers.
    pub ints: BTreeSet<i64>,
    /// Durations in milliseconds.
    pub durations: BTreeSet<i64>,
    /// Timestamps in milliseconds.
    pub timestamps: BTreeSet<i64>,
    /// Times of day in milliseconds.
    pub times: BTreeSet<i64>,
    /// Addresses.
    pub ips: BTreeSet<IpAddr>,
    /// Ranges.
    pub cidrs: BTreeSet<Cidr>,
    /// Entity literals: type and id.
    pub entities: BTreeSet<(usize, String)>,
    /// `like` patterns.
    pub patterns: Vec<Pattern>,
}

/// A generated program.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The seed that generated it.
    pub seed: u64,
    /// The model of its schema.
    pub schema: Schema,
    /// `def`s.
    pub defs: Vec<DefSig>,
    /// The schema and functions, as source.
    pub header: String,
    /// Each rule, as source.
    pub rules: Vec<String>,
    /// Rules from this index on go into a second file.
    pub split: usize,
    /// Literals used.
    pub pools: Pools,
}

/// The package every generated file declares.
pub const PACKAGE: &str = "gen.policy";

impl Policy {
    /// The source files of the program with the rules whose `keep` flag is set.
    pub fn files(&self, keep: &[bool]) -> Vec<(String, String)> {
        let mut a = format!("package {PACKAGE}\n\n");
        let mut b = format!("package {PACKAGE}\n\n");
        for (i, rule) in self.rules.iter().enumerate() {
            if !keep.get(i).copied().unwrap_or(true) {
                continue;
            }
            let file = if i < self.split { &mut a } else { &mut b };
            file.push_str(rule);
            file.push_str("\n\n");
        }
        let mut files = vec![
            ("schema.ward".to_owned(), format!("package {PACKAGE}\n\n{}", self.header)),
            ("rules_a.ward".to_owned(), a),
        ];
        if self.split < self.rules.len() {
            files.push(("rules_b.ward".to_owned(), b));
        }
        files
    }
}

// ------------------------------------------------------------------ text

/// A string literal, escaped.
pub fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A `like` pattern literal: wildcards as `*`, literal stars as `\*`.
pub fn quote_pattern(pattern: &Pattern) -> String {
    let mut out = String::from("\"");
    for part in pattern {
        match part {
            None => out.push('*'),
            Some(text) => {
                for c in text.chars() {
                    match c {
                        '*' => out.push_str("\\*"),
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        c => out.push(c),
                    }
                }
            }
        }
    }
    out.push('"');
    out
}

fn int_text(n: i64) -> String {
    if n < 0 { format!("(-{})", n.unsigned_abs()) } else { n.to_string() }
}

fn duration_text(ms: i64) -> String {
    if ms < 0 {
        format!("(-{})", values::format_duration(ms).trim_start_matches('-'))
    } else {
        values::format_duration(ms)
    }
}

fn ip_text(ip: &IpAddr) -> String {
    ip.to_string()
}

// ------------------------------------------------------------ generation

const STRINGS: &[&str] = &[
    "alice",
    "bob",
    "gpt-4",
    "gpt-4o",
    "llama",
    "ml-ops",
    "admin",
    "",
    "a*b",
    "*",
    "日本語",
    "ü",
    "x",
    "prod",
    "eval",
    "ml-",
];
const IDS: &[&str] = &["alice", "bob", "ml", "admins", "m1", "", "gpt-4", "x*", "root"];
const NAMES: &[&str] = &["a", "b", "c", "d", "e", "f", "g", "h", "type", "level"];
const ENTITY_NAMES: &[&str] = &["User", "Group", "Team", "Model", "Agent", "Doc", "Org"];
const ACTION_NAMES: &[&str] = &["read", "write", "infer", "embed", "train", "delete", "share"];
const VALUE_NAMES: &[&str] =
    &["low", "mid", "high", "top", "corp", "partner", "internet", "red", "green", "blue", "on", "off"];
const REASONS: &[&str] =
    &["too risky", "MFA missing", "allowed", "rate limit", "", "ünïcode reason", "quote \" and \\ backslash"];

/// Boundary integers, for overflow.
const EDGE_INTS: &[i64] = &[
    i64::MAX,
    i64::MIN,
    i64::MAX - 1,
    i64::MIN + 1,
    4_611_686_018_427_387_904,
    -4_611_686_018_427_387_904,
    3_037_000_500,
    -3_037_000_500,
    4_294_967_296,
    2_147_483_647,
    -1,
    0,
    1,
    2,
];

const DAY: i64 = 86_400_000;
/// The largest duration literal of whole days.
const MAX_DAYS: i64 = 106_751_991_167 * DAY;

/// Generates a policy from a seed, with the shapes of known disagreements
/// that `knobs` asks for.
pub fn generate(seed: u64, knobs: Knobs) -> Policy {
    let mut rng = Rng::new(seed);
    // Shapes: usual; many rules dispatching on the same attribute.
    let heavy = rng.percent(12);
    let mut schema = schema(&mut rng);
    if heavy {
        let key = Attr { name: "key".into(), ty: Ty::Str, optional: false };
        schema.context.get_or_insert_with(Vec::new).push(key);
    }
    let mut pools = Pools::default();
    for s in STRINGS {
        if rng.percent(40) {
            pools.strings.insert((*s).to_owned());
        }
    }
    let mut b = Builder {
        rng: rng.fork(),
        schema: &schema,
        defs: Vec::new(),
        pools: &mut pools,
        next_var: 0,
        knobs,
        focus: Vec::new(),
    };
    let mut header = String::new();
    b.schema_text(&mut header);
    let def_count = b.rng.weighted(&[3, 3, 3, 2]);
    let mut def_texts = Vec::new();
    for i in 0..def_count {
        def_texts.push(b.def(i));
    }
    for d in &def_texts {
        header.push_str(d);
        header.push('\n');
    }
    let count = if heavy { 8 + b.rng.below(18) } else { 1 + b.rng.below(7) };
    let key_paths = b.key_paths();
    let mut rules = Vec::new();
    let mut used_ids = BTreeSet::new();
    for i in 0..count {
        rules.push(b.rule(i, heavy, &key_paths, &mut used_ids));
    }
    let mut split = if b.rng.percent(30) { b.rng.below(rules.len() + 1) } else { rules.len() };
    let defs = b.defs.clone();
    drop(b);
    // Some programs get copies of a rule that differ from it only in
    // literals: the compiler gives such rules one template and, three or
    // more of one effect in a dispatch leaf, one loop over their literals.
    if rng.percent(30) {
        let at = rng.below(rules.len());
        let copies = literal_variants(&mut rng, &header, &rules[at], at, &pools);
        if at < split {
            split += copies.len();
        }
        rules.splice(at + 1..at + 1, copies);
    }
    Policy { seed, schema, defs, header, rules, split, pools }
}

/// Two to five copies of `rule` (the rule at `index`), each with a fresh id
/// and some of its integer and string literals replaced, and each checked
/// to compile with `header` (a copy that does not is left out).
fn literal_variants(rng: &mut Rng, header: &str, rule: &str, index: usize, pools: &Pools) -> Vec<String> {
    let count = 2 + rng.below(4);
    let mut out = Vec::new();
    for k in 0..count {
        let mut text = vary_literals(rng, rule, pools);
        if let Some(rest) = text.strip_prefix("@id(\"")
            && let Some(end) = rest.find("\")")
        {
            text = format!("@id(\"R{index}v{k}\"){}", &rest[end + 2..]);
        }
        let files = vec![
            ("schema.ward".to_owned(), format!("package {PACKAGE}\n\n{header}")),
            ("variant.ward".to_owned(), format!("package {PACKAGE}\n\n{text}\n")),
        ];
        if ward_compiler::compile(files).program.is_some() {
            out.push(text);
        }
    }
    out
}

/// `rule` with each integer literal (durations' numbers included), each
/// string literal and each typed literal (`ip("…")`, `cidr("…")`,
/// `timestamp("…")`, `time("…")`) and entity id replaced, at even odds, by
/// another of its kind; annotations and `like` patterns are kept.
fn vary_literals(rng: &mut Rng, rule: &str, pools: &Pools) -> String {
    const KEPT_BEFORE: &[&str] = &["@id(", "@reason(", "@owner(", "like"];
    let strings: Vec<String> = pools.strings.iter().cloned().collect();
    let ips: Vec<String> = pools.ips.iter().map(ToString::to_string).collect();
    let cidrs: Vec<String> = pools.cidrs.iter().map(ToString::to_string).collect();
    let timestamps: Vec<String> = pools.timestamps.iter().map(|&ms| values::format_timestamp(ms)).collect();
    let times: Vec<String> = pools.times.iter().map(|&ms| values::format_time_of_day(ms)).collect();
    let ints: Vec<i64> = pools.ints.iter().map(|n| (n % 1_000).abs()).collect();
    let chars: Vec<char> = rule.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i = (i + 1).min(chars.len());
            let literal: String = chars[start..i].iter().collect();
            let before = out.trim_end();
            let others: &[String] = if KEPT_BEFORE.iter().any(|k| before.ends_with(k)) {
                &[]
            } else if before.ends_with("timestamp(") {
                &timestamps
            } else if before.ends_with("time(") {
                &times
            } else if before.ends_with("cidr(") {
                &cidrs
            } else if before.ends_with("ip(") {
                &ips
            } else {
                &strings
            };
            if !others.is_empty() && rng.coin() {
                let other: &String = rng.pick(others);
                out.push_str(&quote(other));
            } else {
                out.push_str(&literal);
            }
        } else if c.is_ascii_digit() && !out.ends_with(|p: char| p.is_alphanumeric() || p == '_') {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let duration = chars.get(i).is_some_and(|n| n.is_ascii_alphabetic());
            if rng.coin() {
                let n = if duration || ints.is_empty() || rng.coin() { rng.range(0, 60) } else { *rng.pick(&ints) };
                let _ = write!(out, "{n}");
            } else {
                out.extend(&chars[start..i]);
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn schema(rng: &mut Rng) -> Schema {
    let mut s = Schema::default();
    // Enums and levels.
    let enum_count = 1 + rng.below(3);
    for i in 0..enum_count {
        let many = rng.percent(15);
        let n = if many { 9 + rng.below(4) } else { 1 + rng.below(5) };
        let values: Vec<String> = if many {
            (0..n).map(|k| format!("k{k}")).collect()
        } else {
            let mut names: Vec<&str> = VALUE_NAMES.to_vec();
            let mut out = Vec::new();
            for _ in 0..n {
                let at = rng.below(names.len());
                out.push(names.remove(at).to_owned());
            }
            out
        };
        let ordered = rng.coin();
        s.enums.push(EnumDef { name: format!("{}{i}", if ordered { "Lvl" } else { "Kind" }), values, ordered });
    }
    let entity_count = 2 + rng.below(3);
    // A catalogue of attribute types by name, so that types share
    // attributes (and unions of them can read them).
    let mut catalogue: Vec<(String, Ty)> = Vec::new();
    // Record aliases.
    let alias_count = rng.weighted(&[3, 4, 2]);
    for i in 0..alias_count {
        let n = 1 + rng.below(3);
        let fields = record_fields(rng, &s, entity_count, n, i > 0);
        s.records.push(RecordDef { alias: Some(format!("Rec{i}")), fields });
    }
    for name in NAMES {
        let ty = scalar_or_set(rng, &s, entity_count, true);
        catalogue.push(((*name).to_owned(), ty));
    }
    let mut names: Vec<&str> = ENTITY_NAMES.to_vec();
    for _ in 0..entity_count {
        let at = rng.below(names.len());
        s.entities.push(EntityDef { name: names.remove(at).to_owned(), parents: Vec::new(), attrs: Vec::new() });
    }
    for t in 0..entity_count {
        let mut parents = Vec::new();
        for p in 0..entity_count {
            let chance = if p == t {
                15
            } else if p < t {
                35
            } else {
                12
            };
            if rng.percent(chance) {
                parents.push(p);
            }
        }
        s.entities[t].parents = parents;
        let n = rng.below(6);
        let mut attrs: Vec<Attr> = Vec::new();
        for _ in 0..n {
            let (name, base) = rng.pick(&catalogue).clone();
            if attrs.iter().any(|a| a.name == name) {
                continue;
            }
            let ty = if rng.percent(8) {
                scalar_or_set(rng, &s, entity_count, true)
            } else {
                vary(rng, &base, entity_count)
            };
            attrs.push(Attr { name, ty, optional: rng.percent(35) });
        }
        s.entities[t].attrs = attrs;
    }
    // Actions.
    let action_count = 1 + rng.below(3);
    let mut names: Vec<&str> = ACTION_NAMES.to_vec();
    for _ in 0..action_count {
        let at = rng.below(names.len());
        let principals = subset(rng, entity_count);
        let resources = subset(rng, entity_count);
        s.actions.push(ActionDef { name: names.remove(at).to_owned(), principals, resources });
    }
    // Context.
    if rng.percent(75) {
        let n = 1 + rng.below(6);
        let mut attrs: Vec<Attr> = Vec::new();
        for _ in 0..n {
            let (name, base) = rng.pick(&catalogue).clone();
            if attrs.iter().any(|a| a.name == name) {
                continue;
            }
            let ty = if rng.percent(10) {
                let n = 1 + rng.below(3);
                let fields = record_fields(rng, &s, entity_count, n, true);
                s.records.push(RecordDef { alias: None, fields });
                Ty::Record(s.records.len() - 1)
            } else {
                vary(rng, &base, entity_count)
            };
            attrs.push(Attr { name, ty, optional: rng.percent(35) });
        }
        s.context = Some(attrs);
    }
    // Obligations.
    let obligation_count = rng.below(4);
    for i in 0..obligation_count {
        let n = rng.below(4);
        let mut params = Vec::new();
        for k in 0..n {
            let name =
                if rng.percent(20) { ["for", "level", "type", "field"][k % 4].to_owned() } else { format!("p{k}") };
            if params.iter().any(|(p, _): &(String, Ty)| *p == name) {
                continue;
            }
            params.push((name, scalar_or_set(rng, &s, entity_count, false)));
        }
        s.obligations.push(ObligationDef { name: format!("ob{i}"), params });
    }
    s
}

fn subset(rng: &mut Rng, n: usize) -> Vec<usize> {
    let mut out: Vec<usize> = (0..n).filter(|_| rng.percent(45)).collect();
    if out.is_empty() {
        out.push(rng.below(n));
    }
    out
}

fn record_fields(rng: &mut Rng, s: &Schema, entity_count: usize, n: usize, nested: bool) -> Vec<Attr> {
    let mut fields: Vec<Attr> = Vec::new();
    for _ in 0..n {
        let name = (*rng.pick(NAMES)).to_owned();
        if fields.iter().any(|f| f.name == name) {
            continue;
        }
        let ty = if nested && !s.records.is_empty() && rng.percent(25) {
            Ty::Record(rng.below(s.records.len()))
        } else {
            scalar_or_set(rng, s, entity_count, false)
        };
        fields.push(Attr { name, ty, optional: rng.percent(40) });
    }
    fields
}

/// A random attribute type: scalars, sets, and (when `records`) aliases.
fn scalar_or_set(rng: &mut Rng, s: &Schema, entity_count: usize, records: bool) -> Ty {
    let aliases: Vec<usize> = s.records.iter().enumerate().filter(|(_, r)| r.alias.is_some()).map(|(i, _)| i).collect();
    let choice = rng.weighted(&[6, 8, 7, 4, 4, 3, 3, 2, 5, 4, 6, if records && !aliases.is_empty() { 4 } else { 0 }]);
    match choice {
        0 => Ty::Bool,
        1 => int_type(rng),
        2 => Ty::Str,
        3 => Ty::Duration,
        4 => Ty::Timestamp,
        5 => Ty::TimeOfDay,
        6 => Ty::Ip,
        7 => Ty::Cidr,
        8 => Ty::Enum(rng.below(s.enums.len())),
        9 => Ty::Entity(vec![rng.below(entity_count)]),
        10 => {
            let element = match rng.weighted(&[5, 3, 2, 3, 2]) {
                0 => Ty::Str,
                1 => int_type(rng),
                2 => Ty::Duration,
                3 => Ty::Enum(rng.below(s.enums.len())),
                _ => Ty::Entity(vec![rng.below(entity_count)]),
            };
            Ty::Set(Box::new(element))
        }
        _ => Ty::Record(*rng.pick(&aliases)),
    }
}

fn int_type(rng: &mut Rng) -> Ty {
    match rng.weighted(&[6, 2, 1, 1, 1]) {
        0 => INT,
        1 => Ty::Int { min: Some(0), max: Some(rng.range(0, 1000)) },
        2 => Ty::Int { min: Some(rng.range(-100, 100)), max: None },
        3 => Ty::Int { min: None, max: Some(rng.range(-100, 100)) },
        _ => Ty::Int { min: Some(i64::MIN), max: Some(i64::MAX) },
    }
}

/// A variation of a catalogue type that still unifies with it.
fn vary(rng: &mut Rng, base: &Ty, entity_count: usize) -> Ty {
    match base {
        Ty::Int { .. } if rng.percent(40) => int_type(rng),
        Ty::Entity(_) if rng.percent(40) => Ty::Entity(vec![rng.below(entity_count)]),
        Ty::Set(element) => match element.as_ref() {
            Ty::Int { .. } if rng.percent(30) => Ty::Set(Box::new(int_type(rng))),
            _ => base.clone(),
        },
        _ => base.clone(),
    }
}

/// Where an attribute path starts, as the checker keys facts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Root {
    Principal,
    Resource,
    Context,
    Var(u32),
}

type Path = (Root, Vec<String>);
type Facts = BTreeSet<Path>;
/// A `has` test a read needs: base text, attribute, the fact it gives.
type Guard = (String, String, Path);
/// A `has` test that can be written: base text, attribute, fact, the guards
/// its base needs, and whether the attribute is optional in every type.
type HasTest = (String, String, Path, Vec<Guard>, bool);

/// A generated expression: its text (always atomic: compound forms are
/// parenthesized), its type, and the checker's facts.
#[derive(Debug, Clone)]
struct Gen {
    text: String,
    ty: Ty,
    /// Present paths when true.
    t: Facts,
    /// Present paths when false.
    f: Facts,
    /// The attribute path it reads, if it is one (for `let` aliases).
    path: Option<Path>,
    /// The value of an `Int` or `Duration` literal.
    lit: Option<i64>,
    /// May be a set built by a set literal at run time.
    dynamic: bool,
}

impl Gen {
    fn plain(text: String, ty: Ty) -> Gen {
        Gen { text, ty, t: Facts::new(), f: Facts::new(), path: None, lit: None, dynamic: false }
    }

    fn bool(text: String) -> Gen {
        Gen::plain(text, Ty::Bool)
    }
}

#[derive(Debug, Clone)]
struct Var {
    name: String,
    ty: Ty,
    /// The canonical path of the value, for records (aliases included).
    path: Option<Path>,
    /// Bound to a set built by a set literal at run time.
    dynamic: bool,
}

/// What an expression may refer to.
#[derive(Debug, Clone)]
struct Scope {
    principal: Option<Vec<usize>>,
    resource: Option<Vec<usize>>,
    context: bool,
    vars: Vec<Var>,
    /// `def`s callable: the first `defs` of the program.
    defs: usize,
}

impl Scope {
    /// Variables that are not shadowed.
    fn visible(&self) -> Vec<&Var> {
        let mut out: Vec<&Var> = Vec::new();
        for (i, v) in self.vars.iter().enumerate() {
            if !self.vars[i + 1..].iter().any(|w| w.name == v.name) {
                out.push(v);
            }
        }
        out
    }
}

/// An attribute read: the text, the type, and the `has` tests it needs.
#[derive(Debug, Clone)]
struct Read {
    text: String,
    ty: Ty,
    path: Path,
    /// Guards still needed, outermost first: (base text, attribute, fact).
    guards: Vec<Guard>,
}

struct Builder<'a> {
    rng: Rng,
    schema: &'a Schema,
    defs: Vec<DefSig>,
    pools: &'a mut Pools,
    next_var: u32,
    /// Which shapes of known disagreements to generate too.
    knobs: Knobs,
    /// Variables just bound (by `let` or a quantifier), which leaves prefer.
    focus: Vec<String>,
}

/// Kinds of value the generator asks for when it needs "some type".
fn some_types(s: &Schema, sc: &Scope) -> Vec<(Ty, u32)> {
    let all_entities: Vec<usize> = (0..s.entities.len()).collect();
    let mut out = vec![
        (Ty::Bool, 3),
        (INT, 8),
        (Ty::Str, 8),
        (Ty::Duration, 4),
        (Ty::Timestamp, 3),
        (Ty::TimeOfDay, 2),
        (Ty::Ip, 2),
        (Ty::Cidr, 1),
        (Ty::Entity(all_entities.clone()), 6),
        (Ty::Set(Box::new(Ty::Str)), 5),
        (Ty::Set(Box::new(INT)), 4),
        (Ty::Set(Box::new(Ty::Duration)), 1),
        (Ty::Set(Box::new(Ty::Entity(all_entities))), 3),
    ];
    for e in 0..s.enums.len() {
        out.push((Ty::Enum(e), 3));
        out.push((Ty::Set(Box::new(Ty::Enum(e))), 1));
    }
    let _ = sc;
    out
}

impl Builder<'_> {
    fn fresh(&mut self, prefix: &str) -> String {
        self.next_var += 1;
        format!("{prefix}{}", self.next_var)
    }

    // ------------------------------------------------------------ schema text

    fn schema_text(&mut self, out: &mut String) {
        let s = self.schema;
        for e in &s.enums {
            if e.ordered {
                let _ = writeln!(out, "level {} = {}", e.name, e.values.join(" < "));
            } else {
                let _ = writeln!(out, "enum {} {{ {} }}", e.name, e.values.join(", "));
            }
        }
        for r in &s.records {
            if let Some(alias) = &r.alias {
                let _ = writeln!(out, "type {alias} = {}", s.show_fields(&r.fields));
            }
        }
        for (i, e) in s.entities.iter().enumerate() {
            let parents: Vec<&str> = e.parents.iter().map(|p| s.entities[*p].name.as_str()).collect();
            let in_part = match parents.len() {
                0 => String::new(),
                1 if self.rng.coin() => format!(" in {}", parents[0]),
                _ => format!(" in [{}]", parents.join(", ")),
            };
            if e.attrs.is_empty() && self.rng.coin() {
                let _ = writeln!(out, "entity {}{in_part}", e.name);
            } else {
                let _ = writeln!(out, "entity {}{in_part} {}", e.name, s.show_fields(&e.attrs));
            }
            let _ = i;
        }
        let names = |list: &[usize]| -> String {
            let names: Vec<&str> = list.iter().map(|t| s.entities[*t].name.as_str()).collect();
            if names.len() == 1 { names[0].to_owned() } else { format!("[{}]", names.join(", ")) }
        };
        for a in &s.actions {
            let _ = writeln!(
                out,
                "action {} {{ principal: {}, resource: {} }}",
                a.name,
                names(&a.principals),
                names(&a.resources)
            );
        }
        if let Some(context) = &s.context {
            let _ = writeln!(out, "context {}", s.show_fields(context));
        }
        for o in &s.obligations {
            if o.params.is_empty() {
                let _ = writeln!(out, "obligation {}", o.name);
            } else {
                let params: Vec<String> = o.params.iter().map(|(n, t)| format!("{n}: {}", s.show(t))).collect();
                let _ = writeln!(out, "obligation {}({})", o.name, params.join(", "));
            }
        }
        out.push('\n');
    }

    // ------------------------------------------------------------ literals

    fn string_lit(&mut self) -> String {
        let s = if !self.pools.strings.is_empty() && self.rng.percent(70) {
            let all: Vec<&String> = self.pools.strings.iter().collect();
            (*self.rng.pick(&all)).clone()
        } else {
            let s = random_string(&mut self.rng);
            self.pools.strings.insert(s.clone());
            s
        };
        self.pools.strings.insert(s.clone());
        s
    }

    fn int_lit(&mut self) -> i64 {
        let n = match self.rng.weighted(&[6, 3, 3]) {
            0 => self.rng.range(-5, 120),
            1 if !self.pools.ints.is_empty() => {
                let all: Vec<i64> = self.pools.ints.iter().copied().collect();
                *self.rng.pick(&all)
            }
            _ => *self.rng.pick(EDGE_INTS),
        };
        self.pools.ints.insert(n);
        n
    }

    fn duration_lit(&mut self) -> i64 {
        let ms = match self.rng.weighted(&[6, 2, 2, 2]) {
            0 => *self.rng.pick(&[0, 500, 1_000, 60_000, 900_000, 3_600_000, 5_400_000, DAY, 90_061_001]),
            1 if !self.pools.durations.is_empty() => {
                let all: Vec<i64> = self.pools.durations.iter().copied().collect();
                *self.rng.pick(&all)
            }
            2 => *self.rng.pick(&[MAX_DAYS, -MAX_DAYS, i64::MAX, i64::MIN, MAX_DAYS / 2]),
            _ => self.rng.range(-10, 10) * 60_000,
        };
        self.pools.durations.insert(ms);
        ms
    }

    fn timestamp_lit(&mut self) -> i64 {
        let ms = match self.rng.weighted(&[5, 2, 2]) {
            0 => 1_769_851_800_000 + self.rng.range(-3, 3) * 3_600_000,
            1 if !self.pools.timestamps.is_empty() => {
                let all: Vec<i64> = self.pools.timestamps.iter().copied().collect();
                *self.rng.pick(&all)
            }
            _ => *self.rng.pick(&[0, -1_000, -86_400_001, 253_402_300_799_999, -62_135_596_800_000, 951_782_400_500]),
        };
        self.pools.timestamps.insert(ms);
        ms
    }

    fn time_lit(&mut self) -> i64 {
        let ms = if !self.pools.times.is_empty() && self.rng.percent(30) {
            let all: Vec<i64> = self.pools.times.iter().copied().collect();
            *self.rng.pick(&all)
        } else {
            (self.rng.range(0, 23) * 3_600
                + self.rng.range(0, 59) * 60
                + if self.rng.percent(20) { self.rng.range(0, 59) } else { 0 })
                * 1_000
        };
        self.pools.times.insert(ms);
        ms
    }

    fn ip_lit(&mut self) -> IpAddr {
        let ip = if !self.pools.ips.is_empty() && self.rng.percent(30) {
            let all: Vec<IpAddr> = self.pools.ips.iter().copied().collect();
            *self.rng.pick(&all)
        } else if !self.pools.cidrs.is_empty() && self.rng.percent(30) {
            let all: Vec<Cidr> = self.pools.cidrs.iter().copied().collect();
            let c = *self.rng.pick(&all);
            ip_in(&mut self.rng, &c)
        } else {
            random_ip(&mut self.rng)
        };
        self.pools.ips.insert(ip);
        ip
    }

    fn cidr_lit(&mut self) -> (String, Cidr) {
        let ip = if !self.pools.ips.is_empty() && self.rng.percent(40) {
            let all: Vec<IpAddr> = self.pools.ips.iter().copied().collect();
            *self.rng.pick(&all)
        } else {
            random_ip(&mut self.rng)
        };
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = match self.rng.weighted(&[2, 2, 5, 1]) {
            0 => 0,
            1 => max,
            2 => *self.rng.pick(&[8, 16, 24, 31, 33, 63, 64, 65, 96, 127]) % (max + 1),
            _ => self.rng.below(max as usize + 1) as u8,
        };
        let text = format!("{ip}/{prefix}");
        let cidr = values::parse_cidr(&text).unwrap_or(Cidr { network: ip, prefix: 0 });
        self.pools.cidrs.insert(cidr);
        (text, cidr)
    }

    fn entity_lit(&mut self, t: usize) -> String {
        let id = if self.rng.percent(75) { (*self.rng.pick(IDS)).to_owned() } else { self.string_lit() };
        self.pools.entities.insert((t, id.clone()));
        self.pools.strings.insert(id.clone());
        format!("{}::{}", self.schema.entities[t].name, quote(&id))
    }

    fn enum_lit(&mut self, e: usize) -> String {
        let def = &self.schema.enums[e];
        format!("{}.{}", def.name, self.rng.pick(&def.values))
    }

    /// A constant of the type, as an obligation argument accepts it.
    fn constant(&mut self, ty: &Ty) -> String {
        match ty {
            Ty::Bool => self.rng.coin().to_string(),
            Ty::Int { min, max } => {
                let lo = min.unwrap_or(i64::MIN);
                let hi = max.unwrap_or(i64::MAX);
                let n = self.int_lit();
                let n = if n < lo || n > hi { if self.rng.coin() { lo } else { hi } } else { n };
                int_text(n)
            }
            Ty::Str => quote(&self.string_lit()),
            Ty::Duration => duration_text(self.duration_lit()),
            Ty::Timestamp => {
                let ms = self.timestamp_lit();
                format!("timestamp({})", quote(&timestamp_text(&mut self.rng, ms)))
            }
            Ty::TimeOfDay => format!("time({})", quote(&values::format_time_of_day(self.time_lit()))),
            Ty::Ip => format!("ip({})", quote(&ip_text(&self.ip_lit()))),
            Ty::Cidr => format!("cidr({})", quote(&self.cidr_lit().0)),
            Ty::Enum(e) => self.enum_lit(*e),
            Ty::Entity(ts) => {
                let t = *self.rng.pick(ts);
                self.entity_lit(t)
            }
            Ty::Set(element) => {
                let n = 1 + self.rng.below(3);
                let items: Vec<String> = (0..n).map(|_| self.constant(element)).collect();
                format!("[{}]", items.join(", "))
            }
            Ty::Record(_) => "true".into(),
        }
    }

    // ------------------------------------------------------------ reads

    /// Every attribute read reachable from the scope's bases, up to three
    /// attributes deep, with the guards the facts do not yet provide.
    fn reads(&self, sc: &Scope, facts: &Facts) -> Vec<Read> {
        let s = self.schema;
        let mut bases: Vec<(String, Ty, Path)> = Vec::new();
        if let Some(p) = &sc.principal {
            bases.push(("principal".into(), Ty::Entity(p.clone()), (Root::Principal, Vec::new())));
        }
        if let Some(r) = &sc.resource {
            bases.push(("resource".into(), Ty::Entity(r.clone()), (Root::Resource, Vec::new())));
        }
        if sc.context && s.context.is_some() {
            bases.push(("context".into(), Ty::Record(usize::MAX), (Root::Context, Vec::new())));
        }
        for v in sc.visible() {
            if let (Ty::Record(_), Some(path)) = (&v.ty, &v.path) {
                bases.push((v.name.clone(), v.ty.clone(), path.clone()));
            }
        }
        let mut out = Vec::new();
        for (text, ty, path) in bases {
            self.reads_from(&text, &ty, &path, &Vec::new(), facts, 0, &mut out);
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn reads_from(
        &self,
        text: &str,
        ty: &Ty,
        path: &Path,
        guards: &[Guard],
        facts: &Facts,
        depth: usize,
        out: &mut Vec<Read>,
    ) {
        if depth >= 3 {
            return;
        }
        let fields = match ty {
            Ty::Record(usize::MAX) => self.schema.context.clone().unwrap_or_default(),
            _ => self.schema.fields_of(ty),
        };
        for f in fields {
            let mut p = path.clone();
            p.1.push(f.name.clone());
            let mut g = guards.to_vec();
            if f.optional && !facts.contains(&p) {
                if !self.knobs.required_has && self.schema.mixed(ty, &f.name) {
                    // Known bug: `has` on an attribute required in some of
                    // the possible types reads the value as the flag.
                    continue;
                }
                g.push((text.to_owned(), f.name.clone(), p.clone()));
            }
            let t = format!("{text}.{}", f.name);
            if let Ty::Record(_) = f.ty {
                self.reads_from(&t, &f.ty, &p, &g, facts, depth + 1, out);
            }
            out.push(Read { text: t, ty: f.ty.clone(), path: p, guards: g });
        }
    }

    /// `has` tests that can be written: on optional attributes (and, rarely,
    /// on required ones, which the checker warns about).
    fn has_tests(&self, sc: &Scope, facts: &Facts) -> Vec<HasTest> {
        let mut out = Vec::new();
        let s = self.schema;
        let mut bases: Vec<(String, Ty, Path, Vec<Guard>)> = Vec::new();
        if let Some(p) = &sc.principal {
            bases.push(("principal".into(), Ty::Entity(p.clone()), (Root::Principal, Vec::new()), Vec::new()));
        }
        if let Some(r) = &sc.resource {
            bases.push(("resource".into(), Ty::Entity(r.clone()), (Root::Resource, Vec::new()), Vec::new()));
        }
        if sc.context && s.context.is_some() {
            bases.push(("context".into(), Ty::Record(usize::MAX), (Root::Context, Vec::new()), Vec::new()));
        }
        for v in sc.visible() {
            if let (Ty::Record(_), Some(path)) = (&v.ty, &v.path) {
                bases.push((v.name.clone(), v.ty.clone(), path.clone(), Vec::new()));
            }
        }
        for r in self.reads(sc, facts) {
            if let Ty::Record(_) = r.ty {
                bases.push((r.text.clone(), r.ty.clone(), r.path.clone(), r.guards.clone()));
            }
        }
        for (text, ty, path, guards) in bases {
            let fields = match ty {
                Ty::Record(usize::MAX) => s.context.clone().unwrap_or_default(),
                _ => s.fields_of(&ty),
            };
            for f in fields {
                if !self.knobs.required_has && (!f.optional || s.mixed(&ty, &f.name)) {
                    // Known bug: `has` on a required attribute reads the value.
                    continue;
                }
                let mut p = path.clone();
                p.1.push(f.name.clone());
                out.push((text.clone(), f.name.clone(), p, guards.clone(), f.optional && !s.mixed(&ty, &f.name)));
            }
        }
        out
    }

    // ------------------------------------------------------------ combinators

    fn and(a: Gen, b: Gen) -> Gen {
        let t = a.t.union(&b.t).cloned().collect();
        let f = a.f.intersection(&b.f).cloned().collect();
        Gen { text: format!("({} && {})", a.text, b.text), ty: Ty::Bool, t, f, path: None, lit: None, dynamic: false }
    }

    fn or(a: Gen, b: Gen) -> Gen {
        let t = a.t.intersection(&b.t).cloned().collect();
        let f = a.f.union(&b.f).cloned().collect();
        Gen { text: format!("({} || {})", a.text, b.text), ty: Ty::Bool, t, f, path: None, lit: None, dynamic: false }
    }

    fn not(a: Gen) -> Gen {
        Gen { text: format!("(!{})", a.text), ty: Ty::Bool, t: a.f, f: a.t, path: None, lit: None, dynamic: false }
    }

    fn if_(c: Gen, a: Gen, b: Gen) -> Gen {
        let on = |x: &Facts, y: &Facts| -> Facts { x.union(y).cloned().collect() };
        let t = on(&c.t, &a.t).intersection(&on(&c.f, &b.t)).cloned().collect();
        let f = on(&c.t, &a.f).intersection(&on(&c.f, &b.f)).cloned().collect();
        let ty = unify(&a.ty, &b.ty).unwrap_or(a.ty.clone());
        let dynamic = a.dynamic || b.dynamic;
        Gen {
            text: format!("(if {} then {} else {})", c.text, a.text, b.text),
            ty,
            t,
            f,
            path: None,
            lit: None,
            dynamic,
        }
    }

    fn has(text: &str, name: &str, path: Path) -> Gen {
        let mut t = Facts::new();
        t.insert(path);
        Gen {
            text: format!("({text} has {name})"),
            ty: Ty::Bool,
            t,
            f: Facts::new(),
            path: None,
            lit: None,
            dynamic: false,
        }
    }

    /// The conjunction of the guards, with their facts.
    fn guards(guards: &[Guard]) -> Option<Gen> {
        let mut acc: Option<Gen> = None;
        for (text, name, path) in guards {
            let g = Builder::has(text, name, path.clone());
            acc = Some(match acc {
                None => g,
                Some(a) => Builder::and(a, g),
            });
        }
        acc
    }

    // ------------------------------------------------------------ expressions

    /// An expression of a type that fits `want`.
    fn expr(&mut self, sc: &mut Scope, facts: &Facts, want: &Ty, depth: u32) -> Gen {
        if let Ty::Record(_) = want {
            let candidates = self.records(sc, facts, want);
            return match candidates.is_empty() {
                false => self.rng.pick(&candidates).clone(),
                // Callers check first; this keeps the type visible if not.
                true => Gen::plain("RECORD_UNAVAILABLE".into(), want.clone()),
            };
        }
        let leaf = depth == 0 || self.rng.percent(25);
        if leaf {
            return self.leaf(sc, facts, want);
        }
        if *want == Ty::Bool {
            return self.boolean(sc, facts, depth);
        }
        // Forms common to every type.
        let callable = (0..sc.defs).any(|d| fits(&self.defs[d].ret, want));
        let common = self.rng.weighted(&[10, 2, 2, if callable { 4 } else { 0 }]);
        match common {
            1 => return self.if_expr(sc, facts, want, depth),
            2 => return self.let_expr(sc, facts, want, depth),
            3 => {
                if let Some(g) = self.call(sc, facts, want, depth) {
                    return g;
                }
            }
            _ => {}
        }
        match want {
            Ty::Int { .. } => self.int_expr(sc, facts, depth),
            Ty::Duration => match self.rng.weighted(&[3, 2, 1]) {
                0 => self.arith(sc, facts, &Ty::Duration, &Ty::Duration, &["+", "-"], depth),
                1 => self.arith(sc, facts, &Ty::Timestamp, &Ty::Timestamp, &["-"], depth),
                _ => self.neg(sc, facts, &Ty::Duration, depth),
            },
            Ty::Timestamp => self.arith(sc, facts, &Ty::Timestamp, &Ty::Duration, &["+", "-"], depth),
            Ty::TimeOfDay => {
                let ts = self.expr(sc, facts, &Ty::Timestamp, depth - 1);
                Gen::plain(format!("{}.time_of_day()", ts.text), Ty::TimeOfDay)
            }
            Ty::Set(element) => self.set_literal(sc, facts, element, depth, false),
            _ => self.leaf(sc, facts, want),
        }
    }

    fn int_expr(&mut self, sc: &mut Scope, facts: &Facts, depth: u32) -> Gen {
        match self.rng.weighted(&[6, 2, 2]) {
            0 => self.arith(sc, facts, &INT, &INT, &["+", "-", "*"], depth),
            1 => self.neg(sc, facts, &INT, depth),
            _ => {
                let element = self.set_element_type(sc);
                let set = self.expr(sc, facts, &Ty::Set(Box::new(element)), depth - 1);
                Gen::plain(format!("{}.size()", set.text), INT)
            }
        }
    }

    fn arith(&mut self, sc: &mut Scope, facts: &Facts, left: &Ty, right: &Ty, ops: &[&str], depth: u32) -> Gen {
        let a = self.expr(sc, facts, left, depth - 1);
        let b = self.expr(sc, facts, right, depth - 1);
        let op = *self.rng.pick(ops);
        let ty = match (left, right) {
            (Ty::Timestamp, Ty::Timestamp) => Ty::Duration,
            (Ty::Int { .. }, _) => INT,
            _ => left.clone(),
        };
        Gen::plain(format!("({} {op} {})", a.text, b.text), ty)
    }

    fn neg(&mut self, sc: &mut Scope, facts: &Facts, ty: &Ty, depth: u32) -> Gen {
        let a = self.expr(sc, facts, ty, depth - 1);
        // The parser folds `-` into a literal operand; `-(i64::MIN)` would
        // then not fit.
        if a.lit == Some(i64::MIN) {
            return a;
        }
        let ty = if matches!(ty, Ty::Int { .. }) { INT } else { ty.clone() };
        let mut g = Gen::plain(format!("(-{})", a.text), ty);
        g.lit = a.lit.map(|n| -n);
        g
    }

    fn if_expr(&mut self, sc: &mut Scope, facts: &Facts, want: &Ty, depth: u32) -> Gen {
        let c = self.boolean(sc, facts, depth - 1);
        let mut then_facts = facts.clone();
        then_facts.extend(c.t.iter().cloned());
        let mut else_facts = facts.clone();
        else_facts.extend(c.f.iter().cloned());
        let a = self.expr(sc, &then_facts, want, depth - 1);
        let b = self.expr(sc, &else_facts, want, depth - 1);
        Builder::if_(c, a, b)
    }

    fn let_expr(&mut self, sc: &mut Scope, facts: &Facts, want: &Ty, depth: u32) -> Gen {
        // The value: a record read now and then (for aliases), else any type.
        let records: Vec<Read> = self
            .reads(sc, facts)
            .into_iter()
            .filter(|r| matches!(r.ty, Ty::Record(_)) && r.guards.is_empty())
            .collect();
        let value = if !records.is_empty() && self.rng.percent(25) {
            let r = self.rng.pick(&records).clone();
            Gen {
                text: r.text,
                ty: r.ty,
                t: Facts::new(),
                f: Facts::new(),
                path: Some(r.path),
                lit: None,
                dynamic: false,
            }
        } else {
            let types = some_types(self.schema, sc);
            let weights: Vec<u32> = types.iter().map(|(_, w)| *w).collect();
            let ty = types[self.rng.weighted(&weights)].0.clone();
            self.expr(sc, facts, &ty, depth - 1)
        };
        // Shadow a visible variable now and then.
        let visible: Vec<String> = sc.visible().iter().map(|v| v.name.clone()).collect();
        let name =
            if !visible.is_empty() && self.rng.percent(15) { self.rng.pick(&visible).clone() } else { self.fresh("v") };
        let id = self.next_var + 1000;
        self.next_var += 1;
        let path = match (&value.ty, &value.path) {
            (Ty::Record(_), Some(p)) => Some(p.clone()),
            (Ty::Record(_), None) => Some((Root::Var(id), Vec::new())),
            _ => value.path.clone(),
        };
        sc.vars.push(Var { name: name.clone(), ty: value.ty.clone(), path, dynamic: value.dynamic });
        self.focus.push(name.clone());
        let body = self.expr(sc, facts, want, depth - 1);
        self.focus.pop();
        sc.vars.pop();
        let dynamic = body.dynamic;
        Gen {
            text: format!("(let {name} = {}; {})", value.text, body.text),
            ty: body.ty,
            t: body.t,
            f: body.f,
            path: None,
            lit: None,
            dynamic,
        }
    }

    /// Record values that need no guard: variables and attribute reads.
    fn records(&self, sc: &Scope, facts: &Facts, want: &Ty) -> Vec<Gen> {
        let mut out: Vec<Gen> = sc
            .visible()
            .into_iter()
            .filter(|v| v.ty == *want)
            .map(|v| {
                let mut g = Gen::plain(v.name.clone(), v.ty.clone());
                g.path = v.path.clone();
                g
            })
            .collect();
        for r in self.reads(sc, facts) {
            if r.ty == *want && r.guards.is_empty() {
                let mut g = Gen::plain(r.text, r.ty);
                g.path = Some(r.path);
                out.push(g);
            }
        }
        out
    }

    fn call(&mut self, sc: &mut Scope, facts: &Facts, want: &Ty, depth: u32) -> Option<Gen> {
        let candidates: Vec<usize> = (0..sc.defs)
            .filter(|d| fits(&self.defs[*d].ret, want))
            .filter(|d| {
                self.defs[*d]
                    .params
                    .iter()
                    .all(|(_, ty)| !matches!(ty, Ty::Record(_)) || !self.records(sc, facts, ty).is_empty())
            })
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let d = self.defs[*self.rng.pick(&candidates)].clone();
        let mut args = Vec::new();
        for (_, ty) in &d.params {
            let param = match ty {
                Ty::Int { .. } => INT,
                other => other.clone(),
            };
            args.push(self.expr(sc, facts, &param, depth.saturating_sub(1)).text);
        }
        let mut g = Gen::plain(format!("{}({})", d.name, args.join(", ")), d.ret.clone());
        g.dynamic = d.dynamic;
        Some(g)
    }

    fn set_element_type(&mut self, sc: &Scope) -> Ty {
        let s = self.schema;
        let all: Vec<usize> = (0..s.entities.len()).collect();
        let _ = sc;
        match self.rng.weighted(&[5, 4, 2, 3, 3]) {
            0 => Ty::Str,
            1 => INT,
            2 => Ty::Duration,
            3 => Ty::Enum(self.rng.below(s.enums.len())),
            _ => Ty::Entity(all),
        }
    }

    /// A set literal; constant elements only, or some computed ones.
    fn set_literal(&mut self, sc: &mut Scope, facts: &Facts, element: &Ty, depth: u32, constant: bool) -> Gen {
        let n = 1 + self.rng.below(4);
        let mut items = Vec::new();
        let mut ty: Option<Ty> = None;
        let mut dynamic = false;
        for _ in 0..n {
            let g = if constant || self.rng.percent(40) {
                self.literal(element)
            } else {
                dynamic = true;
                self.expr(sc, facts, element, depth.saturating_sub(1))
            };
            ty = Some(match ty {
                None => g.ty.clone(),
                Some(t) => unify(&t, &g.ty).unwrap_or(t),
            });
            items.push(g.text);
        }
        if items.len() > 1 && self.rng.percent(15) {
            let again = items[0].clone();
            items.push(again);
        }
        let mut g = Gen::plain(format!("[{}]", items.join(", ")), Ty::Set(Box::new(ty.unwrap_or(element.clone()))));
        g.dynamic = dynamic;
        g
    }

    /// A literal of a type (a set literal for sets).
    fn literal(&mut self, want: &Ty) -> Gen {
        match want {
            Ty::Bool => Gen::bool(self.rng.coin().to_string()),
            Ty::Int { .. } => {
                let n = self.int_lit();
                let mut g = Gen::plain(int_text(n), INT);
                g.lit = Some(n);
                g
            }
            Ty::Str => Gen::plain(quote(&self.string_lit()), Ty::Str),
            Ty::Duration => {
                let ms = self.duration_lit();
                let mut g = Gen::plain(duration_text(ms), Ty::Duration);
                g.lit = Some(ms);
                g
            }
            Ty::Timestamp => {
                let ms = self.timestamp_lit();
                Gen::plain(format!("timestamp({})", quote(&timestamp_text(&mut self.rng, ms))), Ty::Timestamp)
            }
            Ty::TimeOfDay => {
                Gen::plain(format!("time({})", quote(&values::format_time_of_day(self.time_lit()))), Ty::TimeOfDay)
            }
            Ty::Ip => Gen::plain(format!("ip({})", quote(&ip_text(&self.ip_lit()))), Ty::Ip),
            Ty::Cidr => Gen::plain(format!("cidr({})", quote(&self.cidr_lit().0)), Ty::Cidr),
            Ty::Enum(e) => Gen::plain(self.enum_lit(*e), Ty::Enum(*e)),
            Ty::Entity(ts) => {
                let t = *self.rng.pick(ts);
                Gen::plain(self.entity_lit(t), Ty::Entity(vec![t]))
            }
            Ty::Set(element) => {
                let mut sc = Scope { principal: None, resource: None, context: false, vars: Vec::new(), defs: 0 };
                self.set_literal(&mut sc, &Facts::new(), element, 0, true)
            }
            Ty::Record(_) => Gen::bool("true".into()),
        }
    }

    /// A leaf: a variable, an attribute read (guarded if need be), or a literal.
    fn leaf(&mut self, sc: &mut Scope, facts: &Facts, want: &Ty) -> Gen {
        let vars: Vec<Var> = sc.visible().into_iter().filter(|v| fits(&v.ty, want)).cloned().collect();
        if let Some(focus) = self.focus.last()
            && let Some(v) = vars.iter().find(|v| v.name == *focus)
            && self.rng.percent(50)
        {
            let mut g = Gen::plain(v.name.clone(), v.ty.clone());
            g.path = v.path.clone();
            g.dynamic = v.dynamic;
            return g;
        }
        let reads: Vec<Read> = self.reads(sc, facts).into_iter().filter(|r| fits(&r.ty, want)).collect();
        let mut specials: Vec<Gen> = Vec::new();
        if let Ty::Entity(w) = want {
            for (root, types) in [("principal", &sc.principal), ("resource", &sc.resource)] {
                if let Some(types) = types
                    && types.iter().all(|t| w.contains(t))
                {
                    let mut g = Gen::plain(root.to_owned(), Ty::Entity(types.clone()));
                    g.path = Some((if root == "principal" { Root::Principal } else { Root::Resource }, Vec::new()));
                    specials.push(g);
                }
            }
        }
        if *want == Ty::Bool
            && self.rng.percent(30)
            && let Some(g) = self.has_leaf(sc, facts)
        {
            return g;
        }
        let choice = self.rng.weighted(&[
            if vars.is_empty() { 0 } else { 4 },
            if reads.is_empty() { 0 } else { 9 },
            if specials.is_empty() { 0 } else { 3 },
            4,
        ]);
        match choice {
            0 => {
                let v = self.rng.pick(&vars).clone();
                let mut g = Gen::plain(v.name.clone(), v.ty.clone());
                g.path = v.path.clone();
                g.dynamic = v.dynamic;
                g
            }
            1 => {
                let r = self.rng.pick(&reads).clone();
                self.guarded_read(sc, facts, want, r)
            }
            2 => self.rng.pick(&specials).clone(),
            _ => self.literal(want),
        }
    }

    /// An attribute read, under the `has` tests it needs.
    fn guarded_read(&mut self, sc: &mut Scope, facts: &Facts, want: &Ty, r: Read) -> Gen {
        let value = Gen {
            text: r.text.clone(),
            ty: r.ty.clone(),
            t: Facts::new(),
            f: Facts::new(),
            path: Some(r.path.clone()),
            lit: None,
            dynamic: false,
        };
        let Some(guard) = Builder::guards(&r.guards) else {
            return value;
        };
        if *want == Ty::Bool {
            match self.rng.below(3) {
                0 => return Builder::and(guard, value),
                1 => return Builder::or(Builder::not(guard), value),
                _ => {}
            }
        }
        let other = self.leaf_without_guards(sc, facts, want);
        Builder::if_(guard, value, other)
    }

    /// A leaf that needs no guard: a literal or a variable.
    fn leaf_without_guards(&mut self, sc: &mut Scope, facts: &Facts, want: &Ty) -> Gen {
        let _ = facts;
        let vars: Vec<Var> = sc.visible().into_iter().filter(|v| fits(&v.ty, want)).cloned().collect();
        if !vars.is_empty() && self.rng.percent(30) {
            let v = self.rng.pick(&vars).clone();
            let mut g = Gen::plain(v.name, v.ty);
            g.dynamic = v.dynamic;
            return g;
        }
        self.literal(want)
    }

    /// `x has a`, under the guards its base needs.
    fn has_leaf(&mut self, sc: &mut Scope, facts: &Facts) -> Option<Gen> {
        let tests = self.has_tests(sc, facts);
        let optional: Vec<_> = tests.iter().filter(|t| t.4).cloned().collect();
        let pool = if !optional.is_empty() && self.rng.percent(85) { optional } else { tests };
        if pool.is_empty() {
            return None;
        }
        let (text, name, path, guards, _) = self.rng.pick(&pool).clone();
        let has = Builder::has(&text, &name, path);
        Some(match Builder::guards(&guards) {
            None => has,
            Some(g) => Builder::and(g, has),
        })
    }

    /// A boolean expression.
    fn boolean(&mut self, sc: &mut Scope, facts: &Facts, depth: u32) -> Gen {
        if depth == 0 {
            return self.leaf(sc, facts, &Ty::Bool);
        }
        match self.rng.weighted(&[14, 2, 4, 3, 2, 2, 2, 3]) {
            0 => self.consume(sc, facts, depth),
            1 => {
                let a = self.boolean(sc, facts, depth - 1);
                Builder::not(a)
            }
            2 => {
                // Often a guard on the left, whose fact the right uses.
                let a = if self.rng.percent(40) {
                    self.has_leaf(sc, facts).unwrap_or_else(|| Gen::bool("true".into()))
                } else {
                    self.boolean(sc, facts, depth - 1)
                };
                let mut inner = facts.clone();
                inner.extend(a.t.iter().cloned());
                let b = self.boolean(sc, &inner, depth - 1);
                Builder::and(a, b)
            }
            3 => {
                let a = if self.rng.percent(30) {
                    match self.has_leaf(sc, facts) {
                        Some(h) => Builder::not(h),
                        None => self.boolean(sc, facts, depth - 1),
                    }
                } else {
                    self.boolean(sc, facts, depth - 1)
                };
                let mut inner = facts.clone();
                inner.extend(a.f.iter().cloned());
                let b = self.boolean(sc, &inner, depth - 1);
                Builder::or(a, b)
            }
            4 => self.if_expr(sc, facts, &Ty::Bool, depth),
            5 => self.let_expr(sc, facts, &Ty::Bool, depth),
            6 => match self.call(sc, facts, &Ty::Bool, depth) {
                Some(g) => g,
                None => self.consume(sc, facts, depth),
            },
            _ => self.leaf(sc, facts, &Ty::Bool),
        }
    }

    /// The types of the variables and attributes in scope, as `consume`
    /// asks for them (plain `Int`, any entity).
    fn available_types(&self, sc: &Scope, facts: &Facts) -> Vec<Ty> {
        let all: Vec<usize> = (0..self.schema.entities.len()).collect();
        let general = |ty: &Ty| -> Option<Ty> {
            Some(match ty {
                Ty::Record(_) => return None,
                Ty::Int { .. } => INT,
                Ty::Entity(_) => Ty::Entity(all.clone()),
                Ty::Set(element) => Ty::Set(Box::new(match element.as_ref() {
                    Ty::Int { .. } => INT,
                    Ty::Entity(_) => Ty::Entity(all.clone()),
                    other => other.clone(),
                })),
                other => other.clone(),
            })
        };
        let mut out: Vec<Ty> = sc.visible().iter().filter_map(|v| general(&v.ty)).collect();
        out.extend(self.reads(sc, facts).iter().filter_map(|r| general(&r.ty)));
        out
    }

    /// A boolean test on a value of some type: every operator.
    fn consume(&mut self, sc: &mut Scope, facts: &Facts, depth: u32) -> Gen {
        // Mostly a type the request carries, so that attributes get tested.
        let available = self.available_types(sc, facts);
        let results: Vec<Ty> = (0..sc.defs).map(|d| self.defs[d].ret.clone()).filter(|t| *t != Ty::Bool).collect();
        let ty = if !results.is_empty() && self.rng.percent(12) {
            // What a function computes.
            self.rng.pick(&results).clone()
        } else if !available.is_empty() && self.rng.percent(65) {
            self.rng.pick(&available).clone()
        } else {
            let types = some_types(self.schema, sc);
            let weights: Vec<u32> = types.iter().map(|(_, w)| *w).collect();
            types[self.rng.weighted(&weights)].0.clone()
        };
        self.consume_type(sc, facts, &ty, depth)
    }

    /// A boolean test on a value of type `ty`.
    fn consume_type(&mut self, sc: &mut Scope, facts: &Facts, ty: &Ty, depth: u32) -> Gen {
        let ty = ty.clone();
        let d = depth - 1;
        let cmp = ["==", "!=", "<", "<=", ">", ">="];
        match &ty {
            Ty::Bool => {
                let a = self.expr(sc, facts, &ty, d);
                let b = self.expr(sc, facts, &ty, d);
                Gen::bool(format!("({} {} {})", a.text, self.rng.pick(&["==", "!="]), b.text))
            }
            Ty::Int { .. } | Ty::Duration | Ty::Timestamp | Ty::TimeOfDay => {
                if matches!(ty, Ty::Int { .. } | Ty::Duration) && self.rng.percent(15) {
                    return self.membership(sc, facts, &ty, d);
                }
                let a = self.expr(sc, facts, &ty, d);
                let b = self.expr(sc, facts, &ty, d);
                Gen::bool(format!("({} {} {})", a.text, self.rng.pick(&cmp), b.text))
            }
            Ty::Enum(e) => {
                if self.rng.percent(20) {
                    return self.membership(sc, facts, &ty, d);
                }
                let a = self.expr(sc, facts, &ty, d);
                let b = self.expr(sc, facts, &ty, d);
                let ops: &[&str] = if self.schema.enums[*e].ordered { &cmp } else { &["==", "!="] };
                Gen::bool(format!("({} {} {})", a.text, self.rng.pick(ops), b.text))
            }
            Ty::Str => {
                let a = self.expr(sc, facts, &ty, d);
                match self.rng.weighted(&[4, 4, 3, 2]) {
                    0 => {
                        let b = self.expr(sc, facts, &ty, d);
                        Gen::bool(format!("({} {} {})", a.text, self.rng.pick(&["==", "!="]), b.text))
                    }
                    1 => {
                        let p = self.pattern();
                        Gen::bool(format!("({} like {})", a.text, quote_pattern(&p)))
                    }
                    2 => {
                        let b = self.expr(sc, facts, &ty, d);
                        Gen::bool(format!(
                            "{}.{}({})",
                            a.text,
                            self.rng.pick(&["starts_with", "ends_with", "contains"]),
                            b.text
                        ))
                    }
                    _ => {
                        let set = self.expr(sc, facts, &Ty::Set(Box::new(Ty::Str)), d);
                        Gen::bool(format!("({} in {})", a.text, set.text))
                    }
                }
            }
            Ty::Ip => {
                let a = self.expr(sc, facts, &ty, d);
                if self.rng.percent(70) {
                    let b = self.expr(sc, facts, &Ty::Cidr, d);
                    Gen::bool(format!("({} in {})", a.text, b.text))
                } else {
                    let b = self.expr(sc, facts, &ty, d);
                    Gen::bool(format!("({} {} {})", a.text, self.rng.pick(&["==", "!="]), b.text))
                }
            }
            Ty::Cidr => {
                let a = self.expr(sc, facts, &ty, d);
                let b = self.expr(sc, facts, &ty, d);
                Gen::bool(format!("({} {} {})", a.text, self.rng.pick(&["==", "!="]), b.text))
            }
            Ty::Entity(_) => {
                if sc.principal.is_some() && self.rng.percent(40) {
                    return self.hierarchy(sc, facts, d);
                }
                if self.rng.percent(15) {
                    return self.membership(sc, facts, &ty, d);
                }
                let a = self.expr(sc, facts, &ty, d);
                let b = self.expr(sc, facts, &ty, d);
                Gen::bool(format!("({} {} {})", a.text, self.rng.pick(&["==", "!="]), b.text))
            }
            Ty::Set(element) => self.set_test(sc, facts, element, d),
            Ty::Record(_) => Gen::bool("true".into()),
        }
    }

    /// `e in S` or `S.contains(e)`.
    fn membership(&mut self, sc: &mut Scope, facts: &Facts, element: &Ty, d: u32) -> Gen {
        let e = self.expr(sc, facts, element, d);
        let set = self.expr(sc, facts, &Ty::Set(Box::new(element.clone())), d);
        // `principal in S` is a hierarchy test, which must be able to hold.
        let hierarchy = e.text == "principal" || e.text == "resource";
        if self.rng.coin() || hierarchy {
            let reachable = match (&e.ty, &set.ty) {
                (Ty::Entity(children), Ty::Set(el)) => match el.as_ref() {
                    Ty::Entity(targets) => self.reachable(children, targets),
                    _ => true,
                },
                _ => true,
            };
            if !hierarchy || reachable {
                return Gen::bool(format!("({} in {})", e.text, set.text));
            }
        }
        Gen::bool(format!("{}.contains({})", set.text, e.text))
    }

    fn reachable(&self, children: &[usize], targets: &[usize]) -> bool {
        children.is_empty() || children.iter().any(|c| targets.iter().any(|t| c == t || self.schema.can_be_in(*c, *t)))
    }

    /// `principal in X` or `resource in X`.
    fn hierarchy(&mut self, sc: &mut Scope, facts: &Facts, d: u32) -> Gen {
        let (text, types) = if self.rng.coin() {
            ("principal", sc.principal.clone().unwrap_or_default())
        } else {
            ("resource", sc.resource.clone().unwrap_or_default())
        };
        let s = self.schema;
        let targets: Vec<usize> =
            (0..s.entities.len()).filter(|t| types.iter().any(|c| c == t || s.can_be_in(*c, *t))).collect();
        if targets.is_empty() {
            return Gen::bool(format!("({text} == {text})"));
        }
        let rhs = match self.rng.weighted(&[4, 4, 2, 1]) {
            0 => {
                let t = *self.rng.pick(&targets);
                self.entity_lit(t)
            }
            1 => {
                let n = 1 + self.rng.below(3);
                let mut items = Vec::new();
                let t = *self.rng.pick(&targets);
                items.push(self.entity_lit(t));
                for _ in 1..n {
                    let t = self.rng.below(s.entities.len());
                    items.push(self.entity_lit(t));
                }
                format!("[{}]", items.join(", "))
            }
            2 => {
                let t = *self.rng.pick(&targets);
                let lit = self.entity_lit(t);
                let all: Vec<usize> = (0..s.entities.len()).collect();
                let other = self.expr(sc, facts, &Ty::Entity(all), d);
                if self.rng.coin() { format!("[{lit}, {}]", other.text) } else { format!("[{}, {lit}]", other.text) }
            }
            _ => text.to_owned(),
        };
        Gen::bool(format!("({text} in {rhs})"))
    }

    /// Two sets to compare: often two calls of one function.
    fn set_pair(&mut self, sc: &mut Scope, facts: &Facts, set_ty: &Ty, d: u32) -> (Gen, Gen) {
        if self.rng.percent(40)
            && let Some(a) = self.call(sc, facts, set_ty, d)
        {
            let name = a.text.split('(').next().unwrap_or_default().to_owned();
            for _ in 0..4 {
                if let Some(b) = self.call(sc, facts, set_ty, d)
                    && b.text.starts_with(&format!("{name}("))
                {
                    return (a, b);
                }
            }
            let b = self.expr(sc, facts, set_ty, d);
            return (a, b);
        }
        (self.expr(sc, facts, set_ty, d), self.expr(sc, facts, set_ty, d))
    }

    /// Tests on a set.
    fn set_test(&mut self, sc: &mut Scope, facts: &Facts, element: &Ty, d: u32) -> Gen {
        let set_ty = Ty::Set(Box::new(element.clone()));
        match self.rng.weighted(&[4, 3, 3, 2, 2, 4, 3]) {
            0 => self.membership(sc, facts, element, d),
            1 => {
                let (a, b) = self.set_pair(sc, facts, &set_ty, d);
                Gen::bool(format!("{}.{}({})", a.text, self.rng.pick(&["contains_all", "contains_any"]), b.text))
            }
            2 => {
                let (a, b) = self.set_pair(sc, facts, &set_ty, d);
                Gen::bool(format!("({} {} {})", a.text, self.rng.pick(&["==", "!="]), b.text))
            }
            3 => {
                let a = self.expr(sc, facts, &set_ty, d);
                Gen::bool(format!("{}.is_empty()", a.text))
            }
            4 => {
                let a = self.expr(sc, facts, &set_ty, d);
                let n = self.expr(sc, facts, &INT, d);
                Gen::bool(format!(
                    "({}.size() {} {})",
                    a.text,
                    self.rng.pick(&["==", "!=", "<", "<=", ">", ">="]),
                    n.text
                ))
            }
            _ => {
                let mut a = if self.rng.percent(30) {
                    // A set built here from the request.
                    self.set_literal(sc, facts, element, d, false)
                } else {
                    self.expr(sc, facts, &set_ty, d)
                };
                if a.dynamic && !self.knobs.literal_set_order {
                    // Known bug: the module visits a set built at run time in
                    // the order written, not ascending, so which element
                    // overflows first differs.
                    a = self.literal(&set_ty);
                }
                let var = self.fresh("x");
                let elem_ty = match &a.ty {
                    Ty::Set(e) => e.as_ref().clone(),
                    _ => element.clone(),
                };
                sc.vars.push(Var { name: var.clone(), ty: elem_ty, path: None, dynamic: false });
                self.focus.push(var.clone());
                let body = if self.rng.percent(50) {
                    // A test of the element itself.
                    let elem_ty = match &a.ty {
                        Ty::Set(e) => e.as_ref().clone(),
                        _ => element.clone(),
                    };
                    self.consume_type(sc, facts, &elem_ty, d.max(1))
                } else {
                    self.boolean(sc, facts, d.max(1))
                };
                self.focus.pop();
                sc.vars.pop();
                Gen::bool(format!("{}.{}({var} => {})", a.text, self.rng.pick(&["any", "all"]), body.text))
            }
        }
    }

    fn pattern(&mut self) -> Pattern {
        let n = 1 + self.rng.below(4);
        let mut parts: Pattern = Vec::new();
        for _ in 0..n {
            let part = if self.rng.percent(45) {
                None
            } else {
                let base = self.string_lit();
                let chars: Vec<char> = base.chars().collect();
                let text: String = if chars.is_empty() || self.rng.percent(30) {
                    random_string(&mut self.rng)
                } else {
                    let a = self.rng.below(chars.len());
                    let b = a + 1 + self.rng.below(chars.len() - a);
                    chars[a..b].iter().collect()
                };
                if text.is_empty() { None } else { Some(text) }
            };
            // Adjacent wildcards collapse and adjacent literals join, as the parser does.
            match (parts.last_mut(), part) {
                (Some(None), None) => {}
                (Some(Some(prev)), Some(text)) => prev.push_str(&text),
                (_, part) => parts.push(part),
            }
        }
        self.pools.patterns.push(parts.clone());
        parts
    }

    // ------------------------------------------------------------ defs

    fn def(&mut self, index: usize) -> String {
        let s = self.schema;
        let aliases: Vec<usize> =
            s.records.iter().enumerate().filter(|(_, r)| r.alias.is_some()).map(|(i, _)| i).collect();
        let param_type = |b: &mut Builder<'_>| -> Ty {
            match b.rng.weighted(&[3, 4, 4, 2, 2, 1, 1, 1, 2, 2, 3, if aliases.is_empty() { 0 } else { 2 }]) {
                0 => Ty::Bool,
                1 => int_type(&mut b.rng),
                2 => Ty::Str,
                3 => Ty::Duration,
                4 => Ty::Timestamp,
                5 => Ty::TimeOfDay,
                6 => Ty::Ip,
                7 => Ty::Cidr,
                8 => Ty::Enum(b.rng.below(s.enums.len())),
                9 => Ty::Entity(vec![b.rng.below(s.entities.len())]),
                10 => Ty::Set(Box::new(match b.rng.below(4) {
                    0 => INT,
                    1 => Ty::Enum(b.rng.below(s.enums.len())),
                    2 => Ty::Duration,
                    _ => Ty::Str,
                })),
                _ => Ty::Record(*b.rng.pick(&aliases)),
            }
        };
        let n = self.rng.below(4);
        let mut params = Vec::new();
        for k in 0..n {
            params.push((format!("p{index}_{k}"), param_type(self)));
        }
        let ret = match self.rng.weighted(&[6, 3, 1, 1, 1, 3]) {
            0 => Ty::Bool,
            1 => INT,
            2 => Ty::Str,
            3 => Ty::Duration,
            4 => Ty::Entity(vec![self.rng.below(s.entities.len())]),
            _ => Ty::Set(Box::new(if self.rng.coin() { Ty::Str } else { INT })),
        };
        let mut sc = Scope {
            principal: None,
            resource: None,
            context: false,
            vars: params
                .iter()
                .enumerate()
                .map(|(k, (name, ty))| Var {
                    name: name.clone(),
                    ty: ty.clone(),
                    path: matches!(ty, Ty::Record(_)).then(|| (Root::Var(10_000 + k as u32), Vec::new())),
                    dynamic: false,
                })
                .collect(),
            defs: index,
        };
        let depth = 1 + self.rng.below(3) as u32;
        if let Some((name, _)) = (!params.is_empty()).then(|| self.rng.pick(&params).clone()) {
            self.focus.push(name);
        }
        let mut body = match &ret {
            // Sets built from the parameters, so that calls build them at run time.
            Ty::Set(element) if self.rng.percent(70) => self.set_literal(&mut sc, &Facts::new(), element, depth, false),
            _ => self.expr(&mut sc, &Facts::new(), &ret, depth),
        };
        self.focus.clear();
        if body.dynamic && !self.knobs.shared_def_sets {
            // Known bug: two live results of one such function share memory.
            body = self.literal(&ret);
        }
        let name = format!("f{index}");
        let shown: Vec<String> = params.iter().map(|(n, t)| format!("{n}: {}", s.show(t))).collect();
        let text = format!("def {name}({}) -> {} = {};", shown.join(", "), s.show(&ret), body.text);
        self.defs.push(DefSig { name, params, ret, dynamic: body.dynamic });
        text
    }

    // ------------------------------------------------------------ rules

    /// String and enum attribute paths without optional segments, for
    /// literal-equality dispatch.
    fn key_paths(&mut self) -> Vec<(String, Ty, Vec<usize>, Vec<usize>)> {
        let s = self.schema;
        let mut out = Vec::new();
        for (ai, a) in s.actions.iter().enumerate() {
            let _ = ai;
            let sc = Scope {
                principal: Some(a.principals.clone()),
                resource: Some(a.resources.clone()),
                context: true,
                vars: Vec::new(),
                defs: 0,
            };
            for r in self.reads(&sc, &Facts::new()) {
                if r.guards.is_empty() && matches!(r.ty, Ty::Str | Ty::Enum(_)) {
                    out.push((r.text, r.ty, a.principals.clone(), a.resources.clone()));
                }
            }
        }
        out
    }

    fn rule(
        &mut self,
        index: usize,
        heavy: bool,
        key_paths: &[(String, Ty, Vec<usize>, Vec<usize>)],
        used_ids: &mut BTreeSet<String>,
    ) -> String {
        let s = self.schema;
        let mut out = String::new();
        // Annotations.
        if self.rng.percent(95) {
            let id = if self.rng.percent(10) { format!("R{}", self.rng.below(3) + 100) } else { format!("R{index}") };
            let id = if used_ids.contains(&id) { format!("R{index}") } else { id };
            used_ids.insert(id.clone());
            let _ = write!(out, "@id({}) ", quote(&id));
        }
        if self.rng.percent(40) {
            let reason: &&str = self.rng.pick(REASONS);
            let _ = write!(out, "@reason({}) ", quote(reason));
        }
        if self.rng.percent(5) {
            out.push_str("@owner(\"team\") ");
        }
        let effect = if self.rng.percent(55) { "permit" } else { "forbid" };
        // Actions.
        let actions: Option<Vec<usize>> = match self.rng.weighted(&[4, 3, 2, 1]) {
            0 => None,
            1 | 2 => Some(vec![self.rng.below(s.actions.len())]),
            _ => {
                let mut list: Vec<usize> = (0..s.actions.len()).filter(|_| self.rng.coin()).collect();
                if list.is_empty() {
                    list.push(self.rng.below(s.actions.len()));
                }
                Some(list)
            }
        };
        let action_text = match &actions {
            None => "action".to_owned(),
            Some(list) if list.len() == 1 && self.rng.percent(70) => {
                format!("action {} {}", self.rng.pick(&["==", ":"]), s.actions[list[0]].name)
                    .replace("action :", "action:")
            }
            Some(list) => {
                let mut names: Vec<&str> = list.iter().map(|a| s.actions[*a].name.as_str()).collect();
                if names.len() > 1 && self.rng.percent(10) {
                    names.push(names[0]);
                }
                format!("action in [{}]", names.join(", "))
            }
        };
        let action_ids: Vec<usize> = actions.clone().unwrap_or_else(|| (0..s.actions.len()).collect());
        let (principal_text, principal_types) = self.entity_scope("principal", &actions, &action_ids, true);
        let (resource_text, resource_types) = self.entity_scope("resource", &actions, &action_ids, false);
        let _ = write!(out, "{effect} ({principal_text}, {action_text}, {resource_text})");
        // Conditions.
        let mut sc = Scope {
            principal: Some(principal_types.clone()),
            resource: Some(resource_types.clone()),
            context: true,
            vars: Vec::new(),
            defs: self.defs.len(),
        };
        let mut facts = Facts::new();
        let clauses = if heavy { self.rng.below(3) } else { self.rng.weighted(&[2, 5, 4, 2, 1]) };
        // A leading literal equality that dispatch can index.
        let usable: Vec<&(String, Ty, Vec<usize>, Vec<usize>)> = key_paths
            .iter()
            .filter(|(text, _, p, r)| {
                (text.starts_with("context")
                    || (text.starts_with("principal") && principal_types.iter().all(|t| p.contains(t)))
                    || (text.starts_with("resource") && resource_types.iter().all(|t| r.contains(t))))
                    && self.reads(&sc, &facts).iter().any(|read| read.text == *text && read.guards.is_empty())
            })
            .collect();
        if !usable.is_empty() && self.rng.percent(if heavy { 85 } else { 25 }) {
            // Heavy programs key most rules on the first usable path, with
            // many distinct values, so that dispatch builds wide switches.
            let key = usable.iter().find(|(text, ..)| text == "context.key");
            let (text, ty, _, _) = match key {
                Some(key) if heavy && self.rng.percent(75) => (*key).clone(),
                _ => (*self.rng.pick(&usable)).clone(),
            };
            let lit = match &ty {
                Ty::Enum(e) => self.enum_lit(*e),
                _ if heavy && self.rng.percent(60) => {
                    let s = format!("key{}", self.rng.below(14));
                    self.pools.strings.insert(s.clone());
                    quote(&s)
                }
                _ => quote(&self.string_lit()),
            };
            let rest = if self.rng.coin() {
                let depth = 1 + self.rng.below(2) as u32;
                let g = self.boolean(&mut sc, &facts, depth);
                format!(" && {}", g.text)
            } else {
                String::new()
            };
            let _ = write!(out, "\n  when {text} == {lit}{rest}");
        }
        for _ in 0..clauses {
            let when = self.rng.percent(70);
            // Now and then a clause that only establishes a fact.
            let g = if self.rng.percent(20) {
                match self.has_leaf(&mut sc, &facts) {
                    Some(h) if when => h,
                    Some(h) => Builder::not(h),
                    None => self.boolean(&mut sc, &facts, 2),
                }
            } else {
                let depth = 1 + self.rng.below(4) as u32;
                self.boolean(&mut sc, &facts, depth)
            };
            facts.extend(if when { g.t.iter().cloned() } else { g.f.iter().cloned() }.collect::<Vec<_>>());
            let _ = write!(out, "\n  {} {}", if when { "when" } else { "unless" }, g.text);
        }
        // Obligations.
        if !s.obligations.is_empty() && self.rng.percent(45) {
            let n = 1 + self.rng.below(3);
            let mut uses = Vec::new();
            for _ in 0..n {
                let o = self.rng.pick(&s.obligations).clone();
                if o.params.is_empty() {
                    uses.push(if self.rng.coin() { o.name.clone() } else { format!("{}()", o.name) });
                    continue;
                }
                let mut args: Vec<String> =
                    o.params.iter().map(|(n, t)| format!("{n}: {}", self.constant(t))).collect();
                if self.rng.coin() {
                    args.reverse();
                }
                uses.push(format!("{}({})", o.name, args.join(", ")));
            }
            let _ = write!(out, "\n  obligate {}", uses.join(", "));
        }
        out.push(';');
        out
    }

    /// A scope slot and the types the checker will give `principal` or
    /// `resource` in the rule.
    fn entity_scope(
        &mut self,
        role: &str,
        actions: &Option<Vec<usize>>,
        action_ids: &[usize],
        principal: bool,
    ) -> (String, Vec<usize>) {
        let s = self.schema;
        let applies =
            |a: usize| -> &Vec<usize> { if principal { &s.actions[a].principals } else { &s.actions[a].resources } };
        let mut candidates: Vec<usize> = action_ids.iter().flat_map(|a| applies(*a).clone()).collect();
        candidates.sort_unstable();
        candidates.dedup();
        // A named type must apply to every listed action.
        let nameable: Vec<usize> = match actions {
            Some(list) => candidates.iter().copied().filter(|t| list.iter().all(|a| applies(*a).contains(t))).collect(),
            None => candidates.clone(),
        };
        let form = self.rng.weighted(&[
            6,
            if nameable.is_empty() { 0 } else { 4 },
            if nameable.is_empty() { 0 } else { 2 },
            3,
            if nameable.is_empty() { 0 } else { 1 },
            if nameable.is_empty() { 0 } else { 1 },
        ]);
        match form {
            1 => {
                let t = *self.rng.pick(&nameable);
                (format!("{role}: {}", s.entities[t].name), vec![t])
            }
            2 => {
                let t = *self.rng.pick(&nameable);
                let lit = self.entity_lit(t);
                (format!("{role} == {lit}"), vec![t])
            }
            3 | 5 => {
                // `in`: targets reachable from some candidate.
                let base: Vec<usize> = if form == 5 { vec![*self.rng.pick(&nameable)] } else { candidates.clone() };
                let targets: Vec<usize> =
                    (0..s.entities.len()).filter(|t| base.iter().any(|c| c == t || s.can_be_in(*c, *t))).collect();
                if targets.is_empty() {
                    return (role.to_owned(), candidates);
                }
                let n = 1 + self.rng.below(3);
                let mut lits = Vec::new();
                let mut lit_types = Vec::new();
                for k in 0..n {
                    let t = if k == 0 || self.rng.percent(70) {
                        *self.rng.pick(&targets)
                    } else {
                        self.rng.below(s.entities.len())
                    };
                    lit_types.push(t);
                    lits.push(self.entity_lit(t));
                }
                let target_text =
                    if n == 1 && self.rng.coin() { lits[0].clone() } else { format!("[{}]", lits.join(", ")) };
                if form == 5 {
                    (format!("{role}: {} in {target_text}", s.entities[base[0]].name), base)
                } else {
                    let reachable: Vec<usize> = base
                        .iter()
                        .copied()
                        .filter(|c| lit_types.iter().any(|t| c == t || s.can_be_in(*c, *t)))
                        .collect();
                    (format!("{role} in {target_text}"), reachable)
                }
            }
            4 => {
                let t = *self.rng.pick(&nameable);
                let lit = self.entity_lit(t);
                (format!("{role}: {} == {lit}", s.entities[t].name), vec![t])
            }
            _ => (role.to_owned(), candidates),
        }
    }
}

fn random_string(rng: &mut Rng) -> String {
    const CHARS: &[char] = &['a', 'b', 'c', '-', '_', '*', 'é', '日', ' ', 'A', '1', '"', '\\', '.'];
    let n = rng.below(6);
    (0..n).map(|_| *rng.pick(CHARS)).collect()
}

/// Timestamp text for milliseconds: UTC, or with an offset, or a fraction.
pub fn timestamp_text(rng: &mut Rng, ms: i64) -> String {
    let utc = values::format_timestamp(ms);
    if rng.percent(70) || utc.starts_with('-') || !(0..=253_402_300_799_999).contains(&ms) {
        return utc;
    }
    // The same instant with an offset: shift the clock reading.
    let offset_minutes = *rng.pick(&[60i64, -300, 330, 0]);
    let local = values::format_timestamp(ms + offset_minutes * 60_000);
    let Some(base) = local.strip_suffix('Z') else {
        return utc;
    };
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let m = offset_minutes.abs();
    let text = format!("{base}{sign}{:02}:{:02}", m / 60, m % 60);
    match values::parse_timestamp(&text) {
        Some(parsed) if parsed == ms => text,
        _ => utc,
    }
}

/// A random address: IPv4 mostly, IPv6 sometimes, mapped now and then.
pub fn random_ip(rng: &mut Rng) -> IpAddr {
    match rng.weighted(&[6, 3, 1]) {
        0 => {
            let a = *rng.pick(&[10u8, 192, 172, 8, 127, 0, 255]);
            IpAddr::V4(Ipv4Addr::new(a, rng.below(3) as u8, rng.below(256) as u8, rng.below(256) as u8))
        }
        1 => {
            let hi = *rng.pick(&[0x2001_0db8u32, 0xfe80_0000, 0, 0xffff_ffff]);
            let bits = (u128::from(hi) << 96)
                | (u128::from(rng.next_u64()) & if rng.coin() { 0xffff } else { u128::from(u64::MAX) });
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        _ => IpAddr::V6(Ipv4Addr::new(10, 0, 0, rng.below(4) as u8).to_ipv6_mapped()),
    }
}

/// An address inside a range (host bits random), or just outside it.
pub fn ip_in(rng: &mut Rng, c: &Cidr) -> IpAddr {
    match c.network {
        IpAddr::V4(net) => {
            let host_bits = 32 - u32::from(c.prefix);
            let mask: u32 = if host_bits >= 32 { u32::MAX } else { (1u32 << host_bits) - 1 };
            let mut a = u32::from(net) | (rng.next_u64() as u32 & mask);
            if rng.percent(20) && c.prefix > 0 {
                a ^= 1 << (32 - u32::from(c.prefix));
            }
            IpAddr::V4(Ipv4Addr::from(a))
        }
        IpAddr::V6(net) => {
            let host_bits = 128 - u32::from(c.prefix);
            let mask: u128 = if host_bits >= 128 { u128::MAX } else { (1u128 << host_bits) - 1 };
            let r = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
            let mut a = u128::from(net) | (r & mask);
            if rng.percent(20) && c.prefix > 0 {
                a ^= 1 << (128 - u32::from(c.prefix));
            }
            IpAddr::V6(Ipv6Addr::from(a))
        }
    }
}
