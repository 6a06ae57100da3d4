//! A generator of requests for a generated program's schema: mostly valid,
//! with values chosen from the literals the program uses (so that equalities,
//! patterns, ranges, address ranges and hierarchy tests go both ways), and
//! sometimes malformed, one class of violation at a time.

use serde_json::{Map, Value as Json, json};
use ward_types::values::{self, Cidr};

use crate::policy::{self, Attr, Policy, Schema, Ty};
use crate::rng::Rng;

/// Where a value sits in a request, for mutations.
#[derive(Debug, Clone)]
struct Site {
    /// JSON pointer to the value (or to where an absent optional one goes).
    pointer: String,
    /// Its declared type.
    ty: Ty,
    /// An optional attribute.
    optional: bool,
    /// Present in the request.
    present: bool,
    /// A set element rather than an attribute.
    element: bool,
}

/// The classes of malformed request.
pub const MALFORMED: &[&str] = &[
    "unknown principal type",
    "unknown resource type",
    "unknown action",
    "action not applicable",
    "unknown ancestor type",
    "invalid ancestor",
    "missing required attribute",
    "null attribute",
    "null set element",
    "wrong JSON type",
    "fractional number",
    "integer beyond 64 bits",
    "out of declared range",
    "unknown enum value",
    "unparseable text",
    "bad entity reference",
    "malformed document",
];

/// Requests for one program.
#[derive(Debug)]
pub struct Requests<'a> {
    policy: &'a Policy,
    rng: Rng,
}

/// A generated request: what it is meant to be, and its bytes.
#[derive(Debug, Clone)]
pub struct Generated {
    /// `valid` or the malformed class.
    pub label: String,
    /// The request document.
    pub text: String,
}

impl<'a> Requests<'a> {
    /// A request generator for this program.
    pub fn new(policy: &'a Policy, seed: u64) -> Requests<'a> {
        Requests { policy, rng: Rng::new(seed) }
    }

    fn schema(&self) -> &'a Schema {
        &self.policy.schema
    }

    /// The next request: valid four times out of five.
    pub fn next_request(&mut self) -> Generated {
        let (request, sites) = self.valid();
        if self.rng.percent(80) {
            return Generated { label: "valid".into(), text: shuffled_text(&request) };
        }
        for _ in 0..8 {
            let class = *self.rng.pick(MALFORMED);
            if let Some(text) = self.malformed(class, request.clone(), &sites) {
                return Generated { label: format!("malformed: {class}"), text };
            }
        }
        Generated { label: "valid".into(), text: request.to_string() }
    }

    /// A request that conforms to the schema, and its value sites.
    fn valid(&mut self) -> (Json, Vec<Site>) {
        let s = self.schema();
        let action = self.rng.below(s.actions.len());
        let a = &s.actions[action];
        let principal_ty = *self.rng.pick(&a.principals);
        let resource_ty = *self.rng.pick(&a.resources);
        let mut sites = Vec::new();
        let principal = self.entity(principal_ty, "/principal", &mut sites);
        let resource = self.entity(resource_ty, "/resource", &mut sites);
        let mut request = json!({"principal": principal, "action": a.name, "resource": resource});
        match &s.context {
            Some(fields) => {
                let context = self.record(fields, "/context", &mut sites);
                let empty = context.as_object().is_some_and(Map::is_empty);
                if !empty || self.rng.coin() {
                    request["context"] = context;
                } else {
                    sites.retain(|site| !site.pointer.starts_with("/context/"));
                }
            }
            None => {
                if self.rng.percent(30) {
                    request["context"] = json!({"undeclared": 1});
                }
            }
        }
        (request, sites)
    }

    fn entity_id(&mut self, t: usize) -> String {
        let known: Vec<&String> =
            self.policy.pools.entities.iter().filter(|(ty, _)| *ty == t).map(|(_, id)| id).collect();
        if !known.is_empty() && self.rng.percent(60) {
            return (*self.rng.pick(&known)).clone();
        }
        (*self.rng.pick(&["alice", "bob", "ml", "admins", "m1", "", "zed"])).to_owned()
    }

    fn entity(&mut self, t: usize, pointer: &str, sites: &mut Vec<Site>) -> Json {
        let s = self.schema();
        let id = self.entity_id(t);
        let mut out = json!({"type": s.entities[t].name, "id": id});
        let attrs = s.entity_attrs(t);
        if !attrs.is_empty() || self.rng.percent(30) {
            out["attributes"] = self.record(attrs, &format!("{pointer}/attributes"), sites);
            if self.rng.percent(10) {
                out["attributes"]["not_declared"] = json!(null);
            }
        }
        let ancestor_types = s.ancestor_types(t);
        let mut ancestors = Vec::new();
        for (ty, id) in &self.policy.pools.entities {
            if ancestor_types.contains(ty) && self.rng.coin() {
                ancestors.push(json!({"type": s.entities[*ty].name, "id": id}));
            }
        }
        if !ancestor_types.is_empty() && self.rng.percent(30) {
            let ty = *self.rng.pick(&ancestor_types);
            let id = self.entity_id(ty);
            ancestors.push(json!({"type": s.entities[ty].name, "id": id}));
        }
        if ancestors.len() > 1 && self.rng.percent(10) {
            let again = ancestors[0].clone();
            ancestors.push(again);
        }
        shuffle(&mut self.rng, &mut ancestors);
        if !ancestors.is_empty() || self.rng.percent(20) {
            out["ancestors"] = Json::Array(ancestors);
        }
        out
    }

    fn record(&mut self, fields: &[Attr], pointer: &str, sites: &mut Vec<Site>) -> Json {
        let mut out = Map::new();
        for f in fields {
            let at = format!("{pointer}/{}", f.name);
            if f.optional && self.rng.percent(40) {
                sites.push(Site { pointer: at, ty: f.ty.clone(), optional: true, present: false, element: false });
                continue;
            }
            let value = self.value(&f.ty, &at, sites);
            sites.push(Site { pointer: at, ty: f.ty.clone(), optional: f.optional, present: true, element: false });
            out.insert(f.name.clone(), value);
        }
        Json::Object(out)
    }

    fn value(&mut self, ty: &Ty, pointer: &str, sites: &mut Vec<Site>) -> Json {
        let s = self.schema();
        let pools = &self.policy.pools;
        match ty {
            Ty::Bool => json!(self.rng.coin()),
            Ty::Int { min, max } => json!(self.int(*min, *max)),
            Ty::Str if self.rng.percent(1) => {
                // Larger than the module's initial memory.
                let base = self.string();
                json!(format!("{base}{}", "ü*".repeat(40_000 + self.rng.below(40_000))))
            }
            Ty::Str => json!(self.string()),
            Ty::Duration => {
                let ms = match self.rng.weighted(&[5, 2, 2, 1]) {
                    0 if !pools.durations.is_empty() => pick_set(&mut self.rng, &pools.durations),
                    1 if !pools.durations.is_empty() => {
                        let step = self.rng.range(-1, 1) * *self.rng.pick(&[1, 60_000]);
                        pick_set(&mut self.rng, &pools.durations).saturating_add(step)
                    }
                    2 => *self.rng.pick(&[i64::MAX, i64::MIN, 106_751_991_167 * 86_400_000, -1, 0]),
                    _ => self.rng.range(-120, 120) * 60_000,
                };
                // `i64::MIN` milliseconds has no duration text that parses.
                json!(duration_text(&mut self.rng, ms.max(-i64::MAX)))
            }
            Ty::Timestamp => {
                let ms = match self.rng.weighted(&[5, 3, 1]) {
                    0 if !pools.timestamps.is_empty() => pick_set(&mut self.rng, &pools.timestamps),
                    1 if !pools.timestamps.is_empty() => {
                        let step = self.rng.range(-2, 2) * *self.rng.pick(&[1, 1_000, 3_600_000, 86_400_000]);
                        pick_set(&mut self.rng, &pools.timestamps).saturating_add(step)
                    }
                    _ => *self.rng.pick(&[
                        0,
                        -1,
                        -86_400_001,
                        1_769_851_800_000,
                        253_402_300_799_999,
                        -62_135_596_800_000,
                    ]),
                };
                let ms = ms.clamp(-62_135_596_800_000, 253_402_300_799_999);
                json!(policy::timestamp_text(&mut self.rng, ms))
            }
            Ty::TimeOfDay => {
                let ms = if !pools.times.is_empty() && self.rng.percent(60) {
                    (pick_set(&mut self.rng, &pools.times) + self.rng.range(-1, 1) * 60_000).clamp(0, 86_399_000)
                } else {
                    self.rng.range(0, 86_399) * 1_000
                };
                json!(values::format_time_of_day(ms))
            }
            Ty::Ip => {
                let ip = match self.rng.weighted(&[3, 4, 2]) {
                    0 if !pools.ips.is_empty() => pick_set(&mut self.rng, &pools.ips),
                    1 if !pools.cidrs.is_empty() => {
                        let c = pick_set(&mut self.rng, &pools.cidrs);
                        policy::ip_in(&mut self.rng, &c)
                    }
                    _ => policy::random_ip(&mut self.rng),
                };
                json!(ip.to_string())
            }
            Ty::Cidr => {
                let c: Cidr = if !pools.cidrs.is_empty() && self.rng.percent(60) {
                    pick_set(&mut self.rng, &pools.cidrs)
                } else {
                    let ip = policy::random_ip(&mut self.rng);
                    let max = if ip.is_ipv4() { 32 } else { 128 };
                    let prefix = self.rng.below(max + 1);
                    values::parse_cidr(&format!("{ip}/{prefix}")).unwrap_or(Cidr { network: ip, prefix: 0 })
                };
                json!(c.to_string())
            }
            Ty::Enum(e) => json!(self.rng.pick(&s.enums[*e].values)),
            Ty::Entity(types) => {
                let t = *self.rng.pick(types);
                json!({"type": s.entities[t].name, "id": self.entity_id(t)})
            }
            Ty::Set(element) => {
                let n =
                    if self.rng.percent(1) { 200 + self.rng.below(2_000) } else { self.rng.weighted(&[3, 4, 3, 2, 1]) };
                let mut items = Vec::new();
                for i in 0..n {
                    let at = format!("{pointer}/{i}");
                    items.push(self.value(element, &at, sites));
                    sites.push(Site {
                        pointer: at,
                        ty: element.as_ref().clone(),
                        optional: false,
                        present: true,
                        element: true,
                    });
                }
                if !items.is_empty() && self.rng.percent(20) {
                    let again = items[self.rng.below(items.len())].clone();
                    items.push(again);
                }
                Json::Array(items)
            }
            Ty::Record(r) => self.record(&s.records[*r].fields.clone(), pointer, sites),
        }
    }

    fn int(&mut self, min: Option<i64>, max: Option<i64>) -> i64 {
        let lo = min.unwrap_or(i64::MIN);
        let hi = max.unwrap_or(i64::MAX);
        let pools = &self.policy.pools;
        let candidate = match self.rng.weighted(&[5, 3, 2, 3]) {
            0 if !pools.ints.is_empty() => pick_set(&mut self.rng, &pools.ints),
            1 if !pools.ints.is_empty() => pick_set(&mut self.rng, &pools.ints).saturating_add(self.rng.range(-1, 1)),
            2 => *self.rng.pick(&[lo, hi, 0, 1, -1, i64::MAX, i64::MIN, 3_037_000_500, 4_611_686_018_427_387_904]),
            _ => self.rng.range(-20, 200),
        };
        if (lo..=hi).contains(&candidate) {
            candidate
        } else {
            self.rng.range(lo.max(-1_000), hi.min(1_000).max(lo.max(-1_000)))
        }
    }

    fn string(&mut self) -> String {
        let pools = &self.policy.pools;
        match self.rng.weighted(&[5, 2, 2, 1]) {
            0 if !pools.strings.is_empty() => pick_set(&mut self.rng, &pools.strings),
            1 if !pools.patterns.is_empty() => {
                let p = self.rng.pick(&pools.patterns).clone();
                let mut out = String::new();
                for part in p {
                    match part {
                        Some(text) => out.push_str(&text),
                        None => {
                            let filler = pick_str(&mut self.rng, &["", "x", "-", "*", "é", "gpt"]);
                            out.push_str(filler);
                        }
                    }
                }
                out
            }
            2 if !pools.strings.is_empty() => {
                let base = pick_set(&mut self.rng, &pools.strings);
                let chars: Vec<char> = base.chars().collect();
                match self.rng.below(3) {
                    0 => chars[..self.rng.below(chars.len() + 1)].iter().collect(),
                    1 => chars[self.rng.below(chars.len() + 1)..].iter().collect(),
                    _ => format!("{base}{}", self.rng.pick(&["x", "-", "*", ""])),
                }
            }
            _ => (*self.rng.pick(&["", "alice", "GPT-4", "gpt", "*", "a*b", "日本", "zz"])).to_owned(),
        }
    }

    // ------------------------------------------------------------ malformed

    fn malformed(&mut self, class: &str, mut r: Json, sites: &[Site]) -> Option<String> {
        let s = self.schema();
        let pick_site = |rng: &mut Rng, f: &dyn Fn(&Site) -> bool| -> Option<Site> {
            let matching: Vec<&Site> = sites.iter().filter(|site| f(site)).collect();
            (!matching.is_empty()).then(|| (*rng.pick(&matching)).clone())
        };
        match class {
            "unknown principal type" => r["principal"]["type"] = json!("Nobody"),
            "unknown resource type" => r["resource"]["type"] = json!(self.rng.pick(&["Nobody", "user", ""])),
            "unknown action" => r["action"] = json!(self.rng.pick(&["nope", "READ", ""])),
            "action not applicable" => {
                let principal = s.entities.iter().position(|e| r["principal"]["type"] == json!(e.name))?;
                let resource = s.entities.iter().position(|e| r["resource"]["type"] == json!(e.name))?;
                let other: Vec<usize> = (0..s.actions.len())
                    .filter(|a| {
                        !s.actions[*a].principals.contains(&principal) || !s.actions[*a].resources.contains(&resource)
                    })
                    .collect();
                if other.is_empty() {
                    return None;
                }
                let a = *self.rng.pick(&other);
                r["action"] = json!(s.actions[a].name);
            }
            "unknown ancestor type" => {
                let role = if self.rng.coin() { "principal" } else { "resource" };
                push_ancestor(&mut r[role], json!({"type": "Nobody", "id": "x"}));
            }
            "invalid ancestor" => {
                let role = if self.rng.coin() { "principal" } else { "resource" };
                let t = s.entities.iter().position(|e| r[role]["type"] == json!(e.name))?;
                let bad: Vec<usize> = (0..s.entities.len()).filter(|a| !s.can_be_in(t, *a)).collect();
                if bad.is_empty() {
                    return None;
                }
                let a = *self.rng.pick(&bad);
                push_ancestor(&mut r[role], json!({"type": s.entities[a].name, "id": "x"}));
            }
            "missing required attribute" => {
                let site = pick_site(&mut self.rng, &|site| !site.optional && !site.element && site.present)?;
                remove(&mut r, &site.pointer);
            }
            "null attribute" => {
                let site = pick_site(&mut self.rng, &|site| !site.element)?;
                set(&mut r, &site.pointer, Json::Null)?;
            }
            "null set element" => {
                let site = pick_site(&mut self.rng, &|site| site.element)?;
                set(&mut r, &site.pointer, Json::Null)?;
            }
            "wrong JSON type" => {
                let site = pick_site(&mut self.rng, &|site| site.present)?;
                let wrong = match &site.ty {
                    Ty::Bool => json!(self.rng.pick(&["true", "1"])),
                    Ty::Int { .. } => json!(self.rng.pick(&["5", "true"])),
                    Ty::Set(_) => json!("x"),
                    Ty::Record(_) => json!([true]),
                    Ty::Entity(_) => match self.rng.below(3) {
                        0 => json!("bob"),
                        1 => json!({"type": "User"}),
                        _ => json!({"type": "User", "id": 5}),
                    },
                    _ => match self.rng.below(3) {
                        0 => json!(300),
                        1 => json!(false),
                        _ => json!({"text": "x"}),
                    },
                };
                set(&mut r, &site.pointer, wrong)?;
            }
            "fractional number" => {
                let site = pick_site(&mut self.rng, &|site| matches!(site.ty, Ty::Int { .. }))?;
                let value: Json =
                    serde_json::from_str::<Json>(pick_str(&mut self.rng, &["1.5", "100.0", "-0.5", "1e3", "2.5e-3"]))
                        .ok()?;
                set(&mut r, &site.pointer, value)?;
            }
            "integer beyond 64 bits" => {
                let site = pick_site(&mut self.rng, &|site| matches!(site.ty, Ty::Int { .. }))?;
                let text = *self.rng.pick(&[
                    "9223372036854775808",
                    "18446744073709551615",
                    "18446744073709551616",
                    "1e20",
                    "-1e20",
                    "-9223372036854775809",
                    "-99999999999999999999",
                ]);
                let value: Json = serde_json::from_str(text).ok()?;
                set(&mut r, &site.pointer, value)?;
            }
            "out of declared range" => {
                let site = pick_site(
                    &mut self.rng,
                    &|site| matches!(site.ty, Ty::Int { min, max } if min.is_some_and(|m| m > i64::MIN) || max.is_some_and(|m| m < i64::MAX)),
                )?;
                let Ty::Int { min, max } = site.ty else {
                    return None;
                };
                let below = min.filter(|m| *m > i64::MIN).map(|m| m - 1);
                let above = max.filter(|m| *m < i64::MAX).map(|m| m + 1);
                let value = match (below, above) {
                    (Some(b), Some(a)) => {
                        if self.rng.coin() {
                            b
                        } else {
                            a
                        }
                    }
                    (Some(b), None) => b,
                    (None, Some(a)) => a,
                    (None, None) => return None,
                };
                set(&mut r, &site.pointer, json!(value))?;
            }
            "unknown enum value" => {
                let site = pick_site(&mut self.rng, &|site| matches!(site.ty, Ty::Enum(_)))?;
                set(&mut r, &site.pointer, json!(self.rng.pick(&["nope", "LOW", "", "k99"])))?;
            }
            "unparseable text" => {
                let site = pick_site(&mut self.rng, &|site| {
                    matches!(site.ty, Ty::Duration | Ty::Timestamp | Ty::TimeOfDay | Ty::Ip | Ty::Cidr)
                })?;
                let bad: &[&str] = match site.ty {
                    Ty::Duration => &["5 minutes", "", "1.5h", "15", "m", "--1s", "99999999999999999999d"],
                    Ty::Timestamp => {
                        &["2026-01-31 09:30", "2026-02-30T00:00:00Z", "2026-01-31T09:30:00", "yesterday", ""]
                    }
                    Ty::TimeOfDay => &["9:30", "24:00", "12:60", "noon", ""],
                    Ty::Ip => &["10.0.0.300", "::g", "10.0.0", "", "10.0.0.1/8"],
                    _ => &["10.0.0.0/40", "10.0.0.0", "::/129", "x/8", "10.0.0.0/+8"],
                };
                set(&mut r, &site.pointer, json!(self.rng.pick(bad)))?;
            }
            "bad entity reference" => {
                let site = pick_site(&mut self.rng, &|site| matches!(site.ty, Ty::Entity(_)))?;
                let Ty::Entity(allowed) = &site.ty else {
                    return None;
                };
                let others: Vec<usize> = (0..s.entities.len()).filter(|t| !allowed.contains(t)).collect();
                let value = match self.rng.below(3) {
                    0 => json!({"type": "Nobody", "id": "x"}),
                    1 if !others.is_empty() => {
                        json!({"type": s.entities[*self.rng.pick(&others)].name, "id": "x"})
                    }
                    _ => json!({"type": s.entities[allowed[0]].name, "id": "x", "extra": 1}),
                };
                set(&mut r, &site.pointer, value)?;
            }
            "malformed document" => {
                return Some(match self.rng.below(6) {
                    0 => {
                        r["tenant"] = json!("acme");
                        r.to_string()
                    }
                    1 => {
                        r.as_object_mut()?.remove("action");
                        r.to_string()
                    }
                    2 => {
                        push_ancestor(&mut r["principal"], json!({"type": "X", "id": "x", "name": "y"}));
                        r.to_string()
                    }
                    3 => {
                        r["principal"]["attributes"] = json!([1]);
                        r.to_string()
                    }
                    4 => "not json".to_owned(),
                    _ => "[]".to_owned(),
                });
            }
            _ => return None,
        }
        Some(r.to_string())
    }
}

fn push_ancestor(entity: &mut Json, ancestor: Json) {
    match entity.get_mut("ancestors").and_then(Json::as_array_mut) {
        Some(list) => list.push(ancestor),
        None => entity["ancestors"] = json!([ancestor]),
    }
}

/// Sets the value at a pointer, inserting an absent object member.
fn set(r: &mut Json, pointer: &str, value: Json) -> Option<()> {
    let (parent, key) = pointer.rsplit_once('/')?;
    match r.pointer_mut(parent)? {
        Json::Object(map) => {
            map.insert(key.to_owned(), value);
        }
        Json::Array(items) => *items.get_mut(key.parse::<usize>().ok()?)? = value,
        _ => return None,
    }
    Some(())
}

fn remove(r: &mut Json, pointer: &str) {
    if let Some((parent, key)) = pointer.rsplit_once('/')
        && let Some(Json::Object(map)) = r.pointer_mut(parent)
    {
        map.remove(key);
    }
}

fn pick_set<T: Clone>(rng: &mut Rng, set: &std::collections::BTreeSet<T>) -> T {
    let n = rng.below(set.len());
    set.iter().nth(n).cloned().unwrap_or_else(|| set.iter().next().cloned().expect("non-empty"))
}

fn pick_str<'a>(rng: &mut Rng, items: &[&'a str]) -> &'a str {
    items[rng.below(items.len())]
}

fn shuffle<T>(rng: &mut Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i + 1);
        items.swap(i, j);
    }
}

/// Duration text: canonical, or the same value spelled otherwise.
fn duration_text(rng: &mut Rng, ms: i64) -> String {
    if ms > 0 && rng.percent(15) {
        return format!("{ms}ms");
    }
    if ms > 0 && ms % 60_000 == 0 && rng.percent(15) {
        return format!("{}m", ms / 60_000);
    }
    values::format_duration(ms)
}

/// The document as JSON text with the keys of every object in an arbitrary
/// order and whitespace here and there: what a request's reader must take
/// alike. (`Json`'s own text has its keys sorted, or in the order inserted,
/// and no whitespace.) The order is drawn from the text itself, so that the
/// generator's random stream is left as it was.
pub fn shuffled_text(value: &Json) -> String {
    let compact = value.to_string();
    let seed = compact.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let mut out = String::with_capacity(compact.len() * 2);
    write_shuffled(&mut Rng::new(seed), value, &mut out);
    out
}

fn write_shuffled(rng: &mut Rng, value: &Json, out: &mut String) {
    fn space(rng: &mut Rng, out: &mut String) {
        if rng.percent(15) {
            out.push_str(*rng.pick(&[" ", "\n", "\t ", "\r\n  "]));
        }
    }
    let (open, close, items): (char, char, Vec<(Option<&String>, &Json)>) = match value {
        Json::Object(map) => {
            let mut entries: Vec<_> = map.iter().map(|(k, v)| (Some(k), v)).collect();
            for i in (1..entries.len()).rev() {
                entries.swap(i, rng.below(i + 1));
            }
            ('{', '}', entries)
        }
        Json::Array(items) => ('[', ']', items.iter().map(|v| (None, v)).collect()),
        scalar => {
            out.push_str(&scalar.to_string());
            return;
        }
    };
    out.push(open);
    for (i, (key, item)) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        space(rng, out);
        if let Some(key) = key {
            out.push_str(&Json::String(key.clone()).to_string());
            space(rng, out);
            out.push(':');
            space(rng, out);
        }
        write_shuffled(rng, item, out);
        space(rng, out);
    }
    out.push(close);
}
