//! The Node.js host under `tests/node/`, written from `spec/abi.md` alone,
//! must reach the runtime's decisions: same outcome, rule ids, reasons and
//! obligations, and the same errors (kind, path, rule) on every request. It
//! must also refuse the modules the runtime refuses.
//!
//! Requests come from the policies' own examples (when there are any) and
//! from a generator driven by each module's manifest: valid requests, noisy
//! ones with a few bad values, probes of every value text format, numbers
//! in raw JSON text, and malformed documents.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Map, Value, json};
use ward_runtime::{DecisionModule, MANIFEST_SECTION, Manifest, Request, Runtime};
use ward_tests::compile_both;
use ward_types::manifest::{FieldLayout, TypeLayout};

const SKETCH: &str = include_str!("../corpus/check/sketch-ok.ward");
const ZOO: &str = include_str!("../node/policies/zoo.ward");
const ZOO_RULES: &str = include_str!("../node/policies/zoo-rules.ward");
const ZOO_REQUESTS: &str = include_str!("../node/policies/zoo-requests.json");

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("ward-node-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        if std::env::var_os("WARD_NODE_KEEP").is_some() {
            eprintln!("keeping {}", dir.display());
        }
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::env::var_os("WARD_NODE_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn tests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether `node` runs. Without it the test passes with a notice on a
/// developer machine, and fails in CI (`CI` set).
fn node_available() -> bool {
    let found = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        assert!(!ci, "`node` is required in CI to check the Node.js host");
        eprintln!("notice: `node` not found; skipping the Node.js host conformance test");
    }
    found
}

/// Runs `node check.mjs` with `args`; returns whether it succeeded and its output.
fn node_check(args: &[&Path]) -> (bool, String) {
    let script = tests_dir().join("node").join("check.mjs");
    let output = Command::new("node").arg(script).args(args).output().expect("run node");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const EXTRA_STRINGS: &[&str] = &[
    "",
    "alice",
    "bob",
    "mallory",
    "Zoë",
    "x",
    "gpt-4",
    "gpt-4o-mini",
    "llama",
    "ml-ops",
    "ml-admins",
    "lead",
    "ops",
    "corp",
    "public",
    "acme",
    "red",
    "blue",
    "linux-6.1",
    "abc",
    "a*b*c",
    "😀",
    "😀 grin",
    "～",
    "\u{ff5e}~",
    "\u{e000}",
    "é\"q",
    "*",
];
const INTS: &[i64] = &[
    0,
    1,
    -1,
    2,
    3,
    5,
    7,
    -3,
    10,
    11,
    17,
    18,
    42,
    91,
    99,
    100,
    101,
    149,
    150,
    600,
    601,
    1000,
    1001,
    1 << 40,
    i64::MAX,
    i64::MIN,
];
const DURATIONS: &[&str] = &[
    "0s",
    "1ms",
    "500ms",
    "5m",
    "15m",
    "16m",
    "29m",
    "1h",
    "1h30m",
    "2d",
    "-2d",
    "1d1h1m1s1ms",
    "7000d",
    "106751991167d7h12m55s807ms",
];
const TIMESTAMPS: &[&str] = &[
    "1970-01-01T00:00:00Z",
    "2026-01-31T09:30:00Z",
    "2026-01-31T10:30:00.250+01:00",
    "2026-01-31T17:59:59.999Z",
    "2026-01-31T18:00:30-00:00",
    "1999-12-31T23:59:59.999Z",
    "2030-06-15T18:00:00-05:00",
    "2000-02-29T07:00:00Z",
    "0001-01-01T00:00:00Z",
    "1969-12-31T23:59:59Z",
];
const TIMES: &[&str] =
    &["00:00", "07:59:59", "08:00", "09:30", "09:30:15", "17:59:59", "18:00:30", "18:00:31", "23:59:59"];
const IPS: &[&str] = &[
    "10.0.0.1",
    "10.255.255.255",
    "11.0.0.1",
    "192.168.1.1",
    "127.0.0.1",
    "0.0.0.0",
    "255.255.255.255",
    "::1",
    "::",
    "2001:db8::1",
    "2001:db8:ffff::1",
    "2001:db9::1",
    "::ffff:10.0.0.1",
    "fe80::1:2:3:4",
    "1:2:3:4:5:6:7:8",
    "2001:DB8::A",
];
const CIDRS: &[&str] = &[
    "10.0.0.0/8",
    "10.1.2.3/8",
    "192.168.0.0/16",
    "0.0.0.0/0",
    "10.0.0.1/32",
    "2001:db8::/32",
    "::/0",
    "2001:db8::1/128",
    "::ffff:10.0.0.0/104",
    "11.0.0.0/8",
];

/// Text probes for each value format: valid and invalid, with edge cases of
/// the parsers.
fn text_probes(kind: &str) -> &'static [&'static str] {
    match kind {
        "duration" => &[
            "15m",
            "1h30m",
            "500ms",
            "-2d",
            "0s",
            "0ms",
            "000s",
            "1m1h",
            "1d1d",
            "-0s",
            "9223372036854775807ms",
            "-9223372036854775807ms",
            "9223372036854775808ms",
            "106751991167d7h12m55s808ms",
            "",
            "-",
            "15",
            "m",
            "15x",
            "1.5h",
            "--1s",
            "1h 30m",
            " 1h",
            "1msms",
            "1s1",
            "+5m",
            "1H",
            "1M",
            "99999999999999999999d",
            "١m",
        ],
        "timestamp" => &[
            "2024-02-29T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2026-01-31t09:30:00z",
            "2026-01-31T09:30:00.123456789Z",
            "2026-01-31T09:30:00.1234567890Z",
            "2026-01-31T09:30:00.Z",
            "2026-01-31T09:30:00.5Z",
            "2026-01-31T09:30:00+24:00",
            "2026-01-31T09:30:00+23:59",
            "2026-01-31T09:30:00-23:59",
            "2026-01-31T09:30:60Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999-23:59",
            "2026-1-31T09:30:00Z",
            "2026-01-31T09:30:00+0100",
            "2026-01-31 09:30:00Z",
            "2026-01-31T09:30:00",
            "2026-13-01T00:00:00Z",
            "2026-01-31T24:00:00Z",
            "x",
            "２026-01-31T09:30:00Z",
            "2026-01-31T09:30:00ZZ",
            "2026-04-31T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2000-02-29T00:00:00Z",
            "2026-01-31T09:30:00.999999+00:00",
            "2026-01-31T10:30:00+01:00",
            "2026-01-31T04:00:00-05:30",
            "2026-01-30T23:30:00.2509-10:00",
            "2026-01-31T09:30:00.25Z",
        ],
        "time_of_day" => &[
            "00:00", "23:59:59", "24:00", "9:30", "09:30:5", "09:60", "09:30:60", "０9:30", "09:30:00", "09-30",
            " 9:30", "09:30 ",
        ],
        "ip" => &[
            "::",
            "::1",
            "1::",
            "::ffff:10.0.0.1",
            "::ffff:1.2.3.4",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::",
            "::1:2:3:4:5:6:7",
            "::1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8::",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2:3:4:5::1.2.3.4",
            "1.2.3.4::",
            "A:B::C",
            "0001:db8::1",
            "00001:db8::1",
            "1::2::3",
            ":::",
            ":1::",
            "1:",
            "10.0.0.1",
            "010.0.0.1",
            "10.0.0.01",
            "0.0.0.0",
            "255.255.255.255",
            "256.0.0.1",
            "1.2.3",
            "1.2.3.4.5",
            "::1%eth0",
            "[::1]",
            "1:2:3:4:5:6:7:8:9",
            "::ffff:1.2.3.4:5",
            "::ffff:1.2.3",
            "1.2.3.4/32",
            " 1.2.3.4",
            "",
            "::FFFF:1.2.3.4",
            "fe80::",
            "2001:db8::g",
            "1.2.3.-4",
            "+1.2.3.4",
        ],
        "cidr" => &[
            "10.1.2.3/8",
            "0.0.0.0/0",
            "10.0.0.0/008",
            "10.0.0.0/0008",
            "::/0",
            "2001:db8::1/64",
            "::ffff:10.0.0.0/104",
            "10.0.0.0/33",
            "10.0.0.0/-1",
            "10.0.0.0/ 8",
            "/8",
            "10.0.0.0/8/8",
            "2001:db8::/129",
            "01.0.0.0/8",
            "10.0.0.0",
            "10.0.0.0/",
            "x/8",
            "10.0.0.0/+8",
            "10.0.0.0/256",
            "2001:db8::/128",
            "10.255.255.255/31",
            "::1/1",
        ],
        _ => &[],
    }
}

/// Raw JSON number texts for integer attributes, with the documented
/// disagreements between the runtime and `spec/abi.md`.
const NUMBER_TEXTS: &[(&str, Option<&str>)] = &[
    ("0", None),
    ("-0", Some("the runtime reads -0 as the float -0.0 and reports not_an_integer; the spec makes it the integer 0")),
    ("7", None),
    ("1.0", None),
    ("1.5", None),
    ("1e3", None),
    ("1E3", None),
    ("-1e-3", None),
    ("100", None),
    ("101", None),
    ("-1", None),
    ("9223372036854775807", None),
    ("-9223372036854775808", None),
    ("9223372036854775808", None),
    ("-9223372036854775809", None),
    ("18446744073709551615", None),
    ("18446744073709551616", None),
    (
        "1e400",
        Some(
            "the runtime reports malformed_request (its JSON parser refuses the number); the spec says not_an_integer",
        ),
    ),
    ("-0.0", None),
    ("123456789012345678901234567890", None),
];

/// Requests generated from a manifest.
struct Generator<'a> {
    manifest: &'a Manifest,
    rng: Rng,
    strings: Vec<String>,
    /// One in `noise` values is replaced by a bad one (0: none).
    noise: usize,
}

impl<'a> Generator<'a> {
    fn new(manifest: &'a Manifest, seed: u64) -> Generator<'a> {
        let mut strings: Vec<String> = manifest.strings.clone();
        strings.extend(EXTRA_STRINGS.iter().map(|s| (*s).to_owned()));
        Generator { manifest, rng: Rng(seed | 1), strings, noise: 0 }
    }

    fn string(&mut self) -> String {
        self.rng.pick(&self.strings).clone()
    }

    fn request(&mut self) -> Value {
        let schema = &self.manifest.schema;
        let action = self.rng.pick(&schema.actions).clone();
        let principal = *self.rng.pick(&action.principals);
        let resource = *self.rng.pick(&action.resources);
        let mut request = json!({
            "principal": self.entity(principal),
            "action": action.name,
            "resource": self.entity(resource),
        });
        if !schema.context.is_empty() || !self.rng.chance(3) {
            request["context"] = Value::Object(self.fields(&schema.context));
        }
        request
    }

    fn entity(&mut self, ty: u32) -> Value {
        let info = self.manifest.schema.entity_types[ty as usize].clone();
        let mut ancestors = Vec::new();
        if !info.ancestor_types.is_empty() {
            for _ in 0..self.rng.below(5) {
                let t = *self.rng.pick(&info.ancestor_types);
                let name = self.manifest.schema.entity_types[t as usize].name.clone();
                ancestors.push(json!({"type": name, "id": self.string()}));
            }
        }
        if self.noise > 0 && self.rng.chance(self.noise * 4) {
            let wrong = self.rng.pick(&self.manifest.schema.entity_types).name.clone();
            let name = if self.rng.chance(2) { wrong } else { "Nope".to_owned() };
            ancestors.push(json!({"type": name, "id": "x"}));
        }
        let mut entity = json!({"type": info.name, "id": self.string()});
        if !info.fields.is_empty() || self.rng.chance(2) {
            entity["attributes"] = Value::Object(self.fields(&info.fields));
        }
        if !ancestors.is_empty() || self.rng.chance(2) {
            entity["ancestors"] = Value::Array(ancestors);
        }
        entity
    }

    fn fields(&mut self, fields: &[FieldLayout]) -> Map<String, Value> {
        let mut map = Map::new();
        for f in fields {
            if f.present_offset.is_some() && self.rng.chance(3) {
                continue;
            }
            if self.noise > 0 && self.rng.chance(self.noise * 3) {
                continue; // a required attribute may go missing
            }
            let value = self.value(&f.ty);
            map.insert(f.name.clone(), value);
        }
        if self.rng.chance(4) {
            map.insert("undeclared_extra".into(), json!({"ignored": [1, null]}));
        }
        map
    }

    fn value(&mut self, ty: &TypeLayout) -> Value {
        if self.noise > 0 && self.rng.chance(self.noise) {
            return self.bad_value(ty);
        }
        match ty {
            TypeLayout::Bool => json!(self.rng.chance(2)),
            TypeLayout::Int { min, max } => {
                let inside: Vec<i64> = INTS
                    .iter()
                    .copied()
                    .chain(min.iter().copied())
                    .chain(max.iter().copied())
                    .filter(|v| min.is_none_or(|m| *v >= m) && max.is_none_or(|m| *v <= m))
                    .collect();
                json!(*self.rng.pick(&inside))
            }
            TypeLayout::String => json!(self.string()),
            TypeLayout::Duration => json!(self.rng.pick(DURATIONS)),
            TypeLayout::Timestamp => json!(self.rng.pick(TIMESTAMPS)),
            TypeLayout::TimeOfDay => json!(self.rng.pick(TIMES)),
            TypeLayout::Ip => json!(self.rng.pick(IPS)),
            TypeLayout::Cidr => json!(self.rng.pick(CIDRS)),
            TypeLayout::Enum { id } => json!(self.rng.pick(&self.manifest.schema.enums[*id as usize].values)),
            TypeLayout::Entity { types } => {
                let t = *self.rng.pick(types);
                json!({"type": self.manifest.schema.entity_types[t as usize].name, "id": self.string()})
            }
            TypeLayout::Set { element } => {
                let mut items: Vec<Value> = (0..self.rng.below(6)).map(|_| self.value(element)).collect();
                if !items.is_empty() && self.rng.chance(3) {
                    let again = items[self.rng.below(items.len())].clone();
                    items.push(again); // duplicates are encoded once
                }
                Value::Array(items)
            }
            TypeLayout::Record { fields, .. } => Value::Object(self.fields(fields)),
        }
    }

    fn bad_value(&mut self, ty: &TypeLayout) -> Value {
        let common = [Value::Null, json!(true), json!("x"), json!(1.5), json!([]), json!({})];
        let specific: Vec<Value> = match ty {
            TypeLayout::Bool => vec![json!("true"), json!(1)],
            TypeLayout::Int { min, max } => {
                let mut v =
                    vec![json!(1.5), json!(1000.0), json!(9_223_372_036_854_775_808u64), json!(u64::MAX), json!("7")];
                v.extend(min.and_then(|m| m.checked_sub(1)).map(|m| json!(m)));
                v.extend(max.and_then(|m| m.checked_add(1)).map(|m| json!(m)));
                v
            }
            TypeLayout::String => vec![json!(5), json!(["a"])],
            TypeLayout::Enum { .. } => vec![json!("nope"), json!(1), json!("Public")],
            TypeLayout::Entity { .. } => vec![
                json!({"type": "Nope", "id": "x"}),
                json!({"type": self.rng.pick(&self.manifest.schema.entity_types).name, "id": "x"}),
                json!({"type": "Person"}),
                json!({"type": "Person", "id": 1}),
                json!({"type": "Person", "id": "x", "extra": 1}),
                json!("Person::\"x\""),
            ],
            TypeLayout::Set { element } => {
                vec![json!("notaset"), json!([null]), json!({}), json!([self.bad_value(element)])]
            }
            TypeLayout::Record { .. } => vec![json!([]), json!("x")],
            TypeLayout::Duration
            | TypeLayout::Timestamp
            | TypeLayout::TimeOfDay
            | TypeLayout::Ip
            | TypeLayout::Cidr => {
                let kind = kind_name(ty);
                let probes = text_probes(kind);
                vec![json!(self.rng.pick(probes)), json!(5)]
            }
        };
        if self.rng.chance(3) { self.rng.pick(&common).clone() } else { self.rng.pick(&specific).clone() }
    }
}

fn kind_name(ty: &TypeLayout) -> &'static str {
    match ty {
        TypeLayout::Bool => "bool",
        TypeLayout::Int { .. } => "int",
        TypeLayout::String => "string",
        TypeLayout::Duration => "duration",
        TypeLayout::Timestamp => "timestamp",
        TypeLayout::TimeOfDay => "time_of_day",
        TypeLayout::Ip => "ip",
        TypeLayout::Cidr => "cidr",
        TypeLayout::Enum { .. } => "enum",
        TypeLayout::Entity { .. } => "entity",
        TypeLayout::Set { .. } => "set",
        TypeLayout::Record { .. } => "record",
    }
}

/// Every attribute position in a request (JSON keys from the root), through
/// records, with its type.
fn leaf_positions(fields: &[FieldLayout], prefix: &[String], out: &mut Vec<(Vec<String>, TypeLayout)>) {
    for f in fields {
        let mut path = prefix.to_vec();
        path.push(f.name.clone());
        match &f.ty {
            TypeLayout::Record { fields, .. } => {
                out.push((path.clone(), f.ty.clone()));
                leaf_positions(fields, &path, out);
            }
            ty => out.push((path, ty.clone())),
        }
    }
}

/// Sets the value at `path`, creating objects on the way.
fn set_at(root: &mut Value, path: &[String], value: Value) {
    let mut at = root;
    for key in &path[..path.len() - 1] {
        if !at.get(key).is_some_and(Value::is_object) {
            at[key.as_str()] = json!({});
        }
        at = &mut at[key.as_str()];
    }
    at[path[path.len() - 1].as_str()] = value;
}

/// A request to decide: a JSON value, or raw text, or raw text on which the
/// runtime is known to depart from the spec (and why).
enum Case {
    Value(Value),
    Text(String),
    Known(String, &'static str),
}

impl Case {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Case::Value(v) => serde_json::to_vec(v).expect("json"),
            Case::Text(t) | Case::Known(t, _) => t.clone().into_bytes(),
        }
    }
}

/// Values to try at a position of type `ty`: valid ones, edge cases of the
/// text formats, and wrong ones.
fn probes(manifest: &Manifest, ty: &TypeLayout) -> Vec<Value> {
    let types = &manifest.schema.entity_types;
    let mut out: Vec<Value> = text_probes(kind_name(ty)).iter().map(|t| json!(t)).collect();
    match ty {
        TypeLayout::Bool => out.extend([json!(true), json!(false), json!("true"), json!(0)]),
        TypeLayout::Int { min, max } => {
            out.extend([json!(0), json!(-1), json!(1), json!(i64::MAX), json!(i64::MIN), json!(1.5), json!("1")]);
            out.extend(min.iter().flat_map(|m| [json!(m), json!(m.checked_sub(1))]));
            out.extend(max.iter().flat_map(|m| [json!(m), json!(m.checked_add(1))]));
        }
        TypeLayout::String => out.extend(EXTRA_STRINGS.iter().map(|s| json!(s)).chain([json!(5), json!(["a"])])),
        TypeLayout::Enum { id } => {
            out.extend(manifest.schema.enums[*id as usize].values.iter().map(|v| json!(v)));
            out.extend([json!("nope"), json!(""), json!(0)]);
            out.extend(manifest.schema.enums[*id as usize].values.iter().map(|v| json!(v.to_uppercase())));
        }
        TypeLayout::Entity { .. } => {
            out.extend(
                types
                    .iter()
                    .flat_map(|t| [json!({"type": t.name, "id": "alice"}), json!({"type": t.name, "id": "bob"})]),
            );
            let name = &types[0].name;
            out.extend([
                json!({"type": "Nope", "id": "x"}),
                json!({"type": name}),
                json!({"id": "x"}),
                json!({"type": name, "id": 1}),
                json!({"type": 1, "id": "x"}),
                json!({"type": name, "id": "x", "extra": 1}),
                json!({"type": name, "id": null}),
                json!(format!("{name}::\"x\"")),
                json!([name, "x"]),
            ]);
        }
        TypeLayout::Set { element } => {
            out.extend([json!([]), json!("x"), json!({}), json!([null])]);
            if matches!(element.as_ref(), TypeLayout::String) {
                // Orders differ between UTF-8 bytes and UTF-16 code units.
                for set in [
                    json!(["z", "～", "😀", "ops"]),
                    json!(["😀", "～", "z", "ops", "😀"]),
                    json!(["\u{e000}", "😀", "～", "\u{ffff}", "\u{10000}"]),
                    json!(["a", "A", "é", "e\u{301}", ""]),
                ] {
                    out.push(set);
                }
            }
            let mut generator = Generator::new(manifest, 7);
            for _ in 0..4 {
                let items: Vec<Value> = (0..6).map(|_| generator.value(element)).collect();
                let mut twice = items.clone();
                twice.extend(items.iter().rev().cloned());
                out.push(Value::Array(twice));
            }
            out.extend(probes(manifest, element).into_iter().map(|v| json!([v])));
        }
        TypeLayout::Record { .. } => out.extend([json!([]), json!("x"), json!({})]),
        _ => out.extend([json!(5), json!(null), json!(["10.0.0.1"])]),
    }
    out.push(Value::Null);
    out
}

/// A request with the value at `path` replaced.
fn replaced(request: &Value, path: &[String], value: Value) -> Value {
    let mut r = request.clone();
    set_at(&mut r, path, value);
    r
}

/// Requests for a module: `bases` (hand-written requests), requests
/// generated from the manifest, probes at every position of the bases, raw
/// number texts, big requests and malformed documents. `allows` tells
/// whether the runtime allows a request, to pick interesting bases.
fn cases_for(manifest: &Manifest, bases: Vec<Value>, seed: u64, allows: &dyn Fn(&Value) -> bool) -> Vec<Case> {
    let schema = &manifest.schema;

    // Valid requests, then noisy ones.
    let mut generator = Generator::new(manifest, seed);
    let valid: Vec<Value> = (0..300).map(|_| generator.request()).collect();
    generator.noise = 12;
    let noisy: Vec<Value> = (0..150).map(|_| generator.request()).collect();

    // Probe bases: the hand-written requests, and for each action an allowed
    // generated request if there is one.
    let mut probe_bases = bases.clone();
    for action in &schema.actions {
        let mine: Vec<&Value> = valid.iter().filter(|r| r["action"] == json!(action.name)).collect();
        if let Some(r) = mine.iter().find(|r| allows(r)).or(mine.first()) {
            probe_bases.push((*r).clone());
        }
    }
    let mut probed = Vec::new();
    let mut texts: Vec<(String, Option<&str>)> = Vec::new();
    for (b, base) in probe_bases.iter().enumerate() {
        let mut positions = Vec::new();
        for role in ["principal", "resource"] {
            if let Some(ty) = schema.entity_types.iter().find(|t| json!(t.name) == base[role]["type"]) {
                leaf_positions(&ty.fields, &[role.to_owned(), "attributes".to_owned()], &mut positions);
            }
        }
        leaf_positions(&schema.context, &["context".to_owned()], &mut positions);
        for (path, ty) in positions {
            for probe in probes(manifest, &ty) {
                probed.push(replaced(base, &path, probe));
            }
            if matches!(ty, TypeLayout::Int { .. }) && b == 0 {
                // Known differences once, at the first integer position.
                let first = !texts.iter().any(|(_, known)| known.is_some());
                for (number, known) in NUMBER_TEXTS.iter().filter(|(_, known)| first || known.is_none()) {
                    let marked = replaced(base, &path, json!("\u{1}NUMBER\u{1}"));
                    let text =
                        serde_json::to_string(&marked).expect("json").replace("\"\\u0001NUMBER\\u0001\"", number);
                    texts.push((text, *known));
                }
            }
        }
        // Ancestors: every declared type, duplicates, unknown types.
        for role in ["principal", "resource"] {
            let mut ancestors: Vec<Value> =
                schema.entity_types.iter().map(|t| json!({"type": t.name, "id": "acme"})).collect();
            ancestors.push(json!({"type": "Nope", "id": "x"}));
            for a in &ancestors {
                probed.push(replaced(base, &[role.to_owned(), "ancestors".to_owned()], json!([a, a])));
            }
        }
    }

    // A unit that is not ASCII (`1µs`): once, at the first duration position.
    let mut odd_units = Vec::new();
    if let Some(base) = probe_bases.first() {
        let mut positions = Vec::new();
        for role in ["principal", "resource"] {
            if let Some(ty) = schema.entity_types.iter().find(|t| json!(t.name) == base[role]["type"]) {
                leaf_positions(&ty.fields, &[role.to_owned(), "attributes".to_owned()], &mut positions);
            }
        }
        leaf_positions(&schema.context, &["context".to_owned()], &mut positions);
        if let Some((path, _)) = positions.iter().find(|(_, ty)| matches!(ty, TypeLayout::Duration)) {
            odd_units.push(replaced(base, path, json!("1µs")));
        }
    }

    // Deeply nested values in a context attribute the schema ignores (the
    // request itself is 2 levels deep there).
    if let Some(base) = probe_bases.first() {
        let mut marked = base.clone();
        marked["context"]["deep"] = json!("\u{1}DEEP\u{1}");
        let text = serde_json::to_string(&marked).expect("json");
        for depth in [100, 125, 126, 127, 128, 200, 5000] {
            let nested = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
            texts.push((text.replace("\"\\u0001DEEP\\u0001\"", &nested), None));
        }
    }

    // Big requests: memory growth in `ward_input`.
    let mut big = Vec::new();
    for base in probe_bases.iter().take(2) {
        let mut r = base.clone();
        r["context"]["big"] = json!("x".repeat(1 << 20));
        if let Some(attrs) = r["principal"]["attributes"].as_object_mut() {
            for (name, v) in attrs.iter_mut() {
                if v.is_array() {
                    *v = json!((0..3000).map(|k| format!("{name}-{}", 3000 - k)).collect::<Vec<_>>());
                }
            }
        }
        big.push(r);
        let mut r = base.clone();
        r["principal"]["id"] = json!("é".repeat(300_000));
        big.push(r);
    }

    let mut cases: Vec<Case> = Vec::new();
    cases.extend(bases.into_iter().map(Case::Value));
    cases.extend(valid.into_iter().map(Case::Value));
    cases.extend(noisy.into_iter().map(Case::Value));
    cases.extend(probed.into_iter().map(Case::Value));
    cases.extend(big.into_iter().map(Case::Value));
    cases.extend(odd_units.into_iter().map(Case::Value));
    cases.extend(texts.into_iter().map(|(t, known)| match known {
        Some(why) => Case::Known(t, why),
        None => Case::Text(t),
    }));
    cases.extend(malformed(manifest));
    cases
}

/// Documents that are not requests, and requests that name the wrong things.
fn malformed(manifest: &Manifest) -> Vec<Case> {
    let schema = &manifest.schema;
    let action = &schema.actions[0];
    let principal = &schema.entity_types[action.principals[0] as usize].name;
    let resource = &schema.entity_types[action.resources[0] as usize].name;
    let ok = json!({"principal": {"type": principal, "id": "p"}, "action": action.name, "resource": {"type": resource, "id": "r"}});
    let with = |pointer: &str, value: Value| {
        let mut r = ok.clone();
        *r.pointer_mut(pointer).expect("pointer") = value;
        Case::Value(r)
    };
    let mut cases = vec![
        Case::Value(json!([])),
        Case::Value(json!(1)),
        Case::Value(json!("request")),
        Case::Value(Value::Null),
        Case::Value(json!({})),
        Case::Value(json!({"principal": ok["principal"], "action": action.name})),
        Case::Value(json!({"action": action.name, "resource": ok["resource"]})),
        Case::Value(json!({"principal": ok["principal"], "resource": ok["resource"]})),
        Case::Value(ok.clone()),
        with("/action", json!(1)),
        with("/action", json!("no_such_action")),
        with("/principal", json!("p")),
        with("/principal/id", json!(1)),
        with("/principal/type", json!(null)),
        with("/principal/type", json!("Nope")),
        with("/resource/type", json!("Nope")),
        with("/principal/type", json!(resource)),
        with("/resource/type", json!(principal)),
        with("/resource/id", json!("")),
    ];
    for (field, value) in [
        ("attributes", json!([])),
        ("attributes", Value::Null),
        ("ancestors", json!({})),
        ("ancestors", Value::Null),
        ("ancestors", json!([{"type": principal}])),
        ("ancestors", json!([{"type": principal, "id": "a", "x": 1}])),
        ("ancestors", json!([{"type": "Nope", "id": "a"}])),
        ("ancestors", json!([{"type": resource, "id": "a"}])),
        ("ancestors", json!(["a"])),
        ("extra", json!(1)),
    ] {
        let mut r = ok.clone();
        r["principal"][field] = value;
        cases.push(Case::Value(r));
    }
    for (field, value) in
        [("context", json!([])), ("context", Value::Null), ("context", json!("c")), ("extra", json!({}))]
    {
        let mut r = ok.clone();
        r[field] = value;
        cases.push(Case::Value(r));
    }
    let text = serde_json::to_string(&ok).expect("json");
    for t in [
        String::new(),
        "not json".to_owned(),
        "{".to_owned(),
        format!("{text} x"),
        format!("{text}{text}"),
        format!(" \n{text}\t "),
        text.replacen("\"p\"", "\"\\ud800\"", 1),
        text.replacen("\"p\"", "\"\\ud83d\\ude00\"", 1),
        text.replacen("\"p\"", "\"\\u0000\"", 1),
        text.replacen("\"p\"", "\"a\\qb\"", 1),
        text.replacen("\"p\"", "\"tab\there\"", 1),
        text.replacen("{", &format!("{{\"action\":\"{}\",", action.name), 1),
        text.replacen("\"id\":\"p\"", "\"id\":\"p\",\"id\":\"q\"", 1),
        text.replacen("\"resource\"", "\"context\":{},\"context\":{},\"resource\"", 1),
    ] {
        cases.push(Case::Text(t));
    }
    cases
}

/// Example requests shipped with a policy: files holding a request, an
/// array of requests, or `{"request": …}` objects.
fn example_requests(dir: &Path) -> Vec<Value> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir.join("requests")) else {
        return out;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for path in paths.into_iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        let text = std::fs::read_to_string(&path).expect("read request");
        let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let items = match value {
            Value::Array(items) => items,
            v => vec![v],
        };
        out.extend(items.into_iter().map(|v| match v.get("request") {
            Some(r) => r.clone(),
            None => v,
        }));
    }
    out
}

/// A policy to check: its name, its source files, and hand-written requests.
type Policy = (String, Vec<(String, String)>, Vec<Value>);

/// Policies: the sketch, the zoo, and each example's policy folder.
fn policies() -> Vec<Policy> {
    let mut out = vec![
        ("sketch".to_owned(), vec![("sketch-ok.ward".to_owned(), SKETCH.to_owned())], Vec::new()),
        (
            "zoo".to_owned(),
            vec![("zoo.ward".to_owned(), ZOO.to_owned()), ("zoo-rules.ward".to_owned(), ZOO_RULES.to_owned())],
            serde_json::from_str(ZOO_REQUESTS).expect("zoo requests"),
        ),
    ];
    let examples = tests_dir().join("..").join("examples");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&examples)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.join("policy").is_dir()).collect())
        .unwrap_or_default();
    dirs.sort();
    for dir in dirs {
        let mut files: Vec<(String, String)> = std::fs::read_dir(dir.join("policy"))
            .expect("policy folder")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "ward"))
            .map(|p| {
                let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                (name, std::fs::read_to_string(&p).expect("read policy"))
            })
            .collect();
        files.sort();
        if files.is_empty() {
            continue;
        }
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        out.push((format!("example-{name}"), files, example_requests(&dir)));
    }
    out
}

/// The runtime's encoding of a valid request of reasonable size, in hexadecimal.
fn runtime_encoding(module: &DecisionModule, case: &Case) -> Option<String> {
    let bytes = case.bytes();
    if bytes.len() > 64 * 1024 {
        return None;
    }
    let request = Request::from_json(&bytes).ok()?;
    let encoded = module.encode(&request).ok()?;
    Some(encoded.as_bytes().iter().map(|b| format!("{b:02x}")).collect())
}

/// The runtime's decision, as JSON; or, when the runtime panics, the panic's
/// message (a known difference: the Node.js host denies).
fn expected(module: &DecisionModule, case: &Case) -> Result<Value, String> {
    let bytes = case.bytes();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| module.decide_json(&bytes)))
        .map(|decision| serde_json::to_value(decision).expect("decision json"))
        .map_err(|payload| {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            format!("the runtime panics instead of deciding: {message}")
        })
}

#[test]
fn node_host_decides_like_the_runtime() {
    if !node_available() {
        return;
    }
    let runtime = Runtime::new().expect("runtime");
    let scratch = Scratch::new("decide");
    let mut total = 0;
    let mut failures = Vec::new();
    for (k, (name, files, examples)) in policies().into_iter().enumerate() {
        let compiled = compile_both(&runtime, files);
        let module_path = scratch.0.join(format!("{name}.wasm"));
        std::fs::write(&module_path, &compiled.wasm).expect("write module");
        let allows = |r: &Value| compiled.module.decide_json(&serde_json::to_vec(r).expect("json")).is_allow();
        let cases = cases_for(compiled.module.manifest(), examples, 0x9e37_79b9_7f4a_7c15 ^ (k as u64 + 1), &allows);
        let (mut allows, mut with_obligations, mut overflows, mut invalid) = (0, 0, 0, 0);
        let documents: Vec<Value> = cases
            .iter()
            .enumerate()
            .map(|(i, case)| {
                let (decision, panicked) = match expected(&compiled.module, case) {
                    Ok(decision) => (decision, None),
                    Err(why) => {
                        let deny = json!({"decision": "deny", "rules": [], "reasons": [], "obligations": [], "errors": [{"kind": "panic", "message": why}]});
                        (deny, Some(why))
                    }
                };
                allows += usize::from(decision["decision"] == "allow");
                with_obligations += usize::from(decision["obligations"].as_array().is_some_and(|o| !o.is_empty()));
                let errors = decision["errors"].as_array().cloned().unwrap_or_default();
                overflows += usize::from(errors.iter().any(|e| e["kind"] == "overflow"));
                invalid += usize::from(errors.iter().any(|e| e["kind"] != "overflow"));
                let mut doc = json!({"name": format!("{name} #{i}"), "expected": decision});
                if let Some(why) = panicked {
                    doc["known_difference"] = json!(why);
                } else if let Some(bytes) = runtime_encoding(&compiled.module, case) {
                    doc["runtime_encoding"] = json!(bytes);
                }
                match case {
                    Case::Value(v) => doc["request"] = v.clone(),
                    Case::Text(t) => doc["request_text"] = json!(t),
                    Case::Known(t, why) => {
                        doc["request_text"] = json!(t);
                        doc["known_difference"] = json!(why);
                    }
                }
                doc
            })
            .collect();
        let cases_path = scratch.0.join(format!("{name}.cases.json"));
        std::fs::write(&cases_path, serde_json::to_vec(&documents).expect("json")).expect("write cases");
        let (ok, output) = node_check(&[Path::new("--errors=exact"), &module_path, &cases_path]);
        eprintln!(
            "{name}: {} requests ({allows} allows, {with_obligations} with obligations, {overflows} overflows, {invalid} invalid): {}",
            documents.len(),
            output.lines().last().unwrap_or("no output")
        );
        for line in output.lines().filter(|l| l.starts_with("KNOWN")) {
            eprintln!("  {}", line.chars().take(600).collect::<String>());
        }
        assert!(allows > 0 && allows < documents.len(), "{name}: the requests exercise both outcomes");
        assert!(invalid > 0, "{name}: the requests include invalid ones");
        if !ok {
            failures.push(format!("{name} ({}):\n{output}", cases_path.display()));
        }
        total += documents.len();
    }
    assert!(total >= 500, "hundreds of requests ({total})");
    assert!(
        failures.is_empty(),
        "the Node.js host disagrees with the runtime (set WARD_NODE_KEEP=1 to keep the files):\n{}",
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------
// Modules both hosts must refuse
// ---------------------------------------------------------------------------

fn read_u32(bytes: &[u8], pos: &mut usize) -> usize {
    let mut result = 0usize;
    let mut shift = 0;
    loop {
        let byte = bytes[*pos];
        *pos += 1;
        result |= usize::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            return result;
        }
    }
}

fn write_u32(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The module's sections as (id, payload).
fn sections(wasm: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pos = 8;
    while pos < wasm.len() {
        let id = wasm[pos];
        pos += 1;
        let size = read_u32(wasm, &mut pos);
        out.push((id, wasm[pos..pos + size].to_vec()));
        pos += size;
    }
    out
}

fn assemble(sections: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = vec![0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    for (id, payload) in sections {
        out.push(*id);
        write_u32(&mut out, payload.len());
        out.extend_from_slice(payload);
    }
    out
}

fn custom_name(payload: &[u8]) -> (String, usize) {
    let mut pos = 0;
    let len = read_u32(payload, &mut pos);
    (String::from_utf8_lossy(&payload[pos..pos + len]).into_owned(), pos + len)
}

/// The module with its manifest replaced by `payload` (or removed).
fn with_manifest(wasm: &[u8], payload: Option<&[u8]>) -> Vec<u8> {
    let kept: Vec<(u8, Vec<u8>)> =
        sections(wasm).into_iter().filter(|(id, p)| *id != 0 || custom_name(p).0 != MANIFEST_SECTION).collect();
    let mut out = assemble(&kept);
    if let Some(payload) = payload {
        ward_runtime::append_custom_section(&mut out, MANIFEST_SECTION, payload);
    }
    out
}

/// The module with the export `from` renamed `to` (same length).
fn rename_export(wasm: &[u8], from: &str, to: &str) -> Vec<u8> {
    let mut all = sections(wasm);
    for (id, payload) in &mut all {
        if *id == 7 {
            let at = payload.windows(from.len()).position(|w| w == from.as_bytes()).expect("export name");
            payload[at..at + to.len()].copy_from_slice(to.as_bytes());
        }
    }
    assemble(&all)
}

/// The index of the function exported as `name`.
fn exported_function(wasm: &[u8], name: &str) -> usize {
    let all = sections(wasm);
    let (_, exports) = all.iter().find(|(id, _)| *id == 7).expect("export section");
    let mut pos = 0;
    for _ in 0..read_u32(exports, &mut pos) {
        let len = read_u32(exports, &mut pos);
        let export = &exports[pos..pos + len];
        pos += len;
        let kind = exports[pos];
        pos += 1;
        let index = read_u32(exports, &mut pos);
        if kind == 0 && export == name.as_bytes() {
            return index;
        }
    }
    panic!("no exported function `{name}`")
}

/// The module with the body (locals and code) of the function exported as
/// `name` replaced.
fn replace_body(wasm: &[u8], name: &str, body: &[u8]) -> Vec<u8> {
    let index = exported_function(wasm, name);
    let mut all = sections(wasm);
    for (id, payload) in &mut all {
        if *id != 10 {
            continue;
        }
        let mut pos = 0;
        let count = read_u32(payload, &mut pos);
        let mut code = Vec::new();
        write_u32(&mut code, count);
        for k in 0..count {
            let size = read_u32(payload, &mut pos);
            let old = &payload[pos..pos + size];
            pos += size;
            let new = if k == index { body } else { old };
            write_u32(&mut code, new.len());
            code.extend_from_slice(new);
        }
        *payload = code;
    }
    assemble(&all)
}

/// A module that imports a function and carries a copy of a valid manifest.
fn importing_module(manifest: &[u8]) -> Vec<u8> {
    let mut import = vec![1];
    for name in ["env", "clock"] {
        write_u32(&mut import, name.len());
        import.extend_from_slice(name.as_bytes());
    }
    import.extend_from_slice(&[0x00, 0x00]);
    let mut out = assemble(&[(1, vec![1, 0x60, 0, 1, 0x7f]), (2, import)]);
    ward_runtime::append_custom_section(&mut out, MANIFEST_SECTION, manifest);
    out
}

/// Modules that load but misbehave: each answer must be a deny, from both
/// hosts alike.
#[test]
fn node_host_denies_when_the_module_misbehaves() {
    if !node_available() {
        return;
    }
    let runtime = Runtime::new().expect("runtime");
    let compiled = compile_both(&runtime, vec![("sketch-ok.ward".into(), SKETCH.into())]);
    let mut generator = Generator::new(compiled.module.manifest(), 99);
    let requests: Vec<Value> = (0..40).map(|_| generator.request()).collect();
    let broken: Vec<(&str, Vec<u8>)> = vec![
        ("ward_evaluate traps", replace_body(&compiled.wasm, "ward_evaluate", &[0x00, 0x00, 0x0b])),
        ("ward_input traps", replace_body(&compiled.wasm, "ward_input", &[0x00, 0x00, 0x0b])),
        ("ward_output traps", replace_body(&compiled.wasm, "ward_output", &[0x00, 0x00, 0x0b])),
        ("ward_input returns 0", replace_body(&compiled.wasm, "ward_input", &[0x00, 0x41, 0x00, 0x0b])),
        ("ward_evaluate returns status 4", replace_body(&compiled.wasm, "ward_evaluate", &[0x00, 0x41, 0x04, 0x0b])),
        ("ward_evaluate returns status 7", replace_body(&compiled.wasm, "ward_evaluate", &[0x00, 0x41, 0x07, 0x0b])),
        ("ward_evaluate returns status -1", replace_body(&compiled.wasm, "ward_evaluate", &[0x00, 0x41, 0x7f, 0x0b])),
        ("ward_output points outside memory", replace_body(&compiled.wasm, "ward_output", &[0x00, 0x41, 0x7f, 0x0b])),
        (
            "ward_evaluate returns status 0 with no rules",
            replace_body(&compiled.wasm, "ward_evaluate", &[0x00, 0x41, 0x00, 0x0b]),
        ),
        (
            "ward_evaluate returns status 3 with no rules",
            replace_body(&compiled.wasm, "ward_evaluate", &[0x00, 0x41, 0x03, 0x0b]),
        ),
    ];
    let scratch = Scratch::new("broken");
    let mut failures = Vec::new();
    for (k, (what, wasm)) in broken.iter().enumerate() {
        let module = runtime.load(wasm).unwrap_or_else(|e| panic!("{what}: the runtime refuses the module: {e}"));
        let documents: Vec<Value> = requests
            .iter()
            .map(|r| {
                let decision = module.decide_json(&serde_json::to_vec(r).expect("json"));
                assert!(!decision.is_allow(), "{what}: the runtime allows {r}");
                json!({"name": what, "request": r, "expected": decision})
            })
            .collect();
        let module_path = scratch.0.join(format!("broken-{k}.wasm"));
        let cases_path = scratch.0.join(format!("broken-{k}.cases.json"));
        std::fs::write(&module_path, wasm).expect("write module");
        std::fs::write(&cases_path, serde_json::to_vec(&documents).expect("json")).expect("write cases");
        let (ok, output) = node_check(&[Path::new("--errors=kinds"), &module_path, &cases_path]);
        eprintln!("{what}: {}", output.lines().last().unwrap_or("no output"));
        if !ok {
            failures.push(format!("{what}:\n{output}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn node_host_refuses_what_the_runtime_refuses() {
    if !node_available() {
        return;
    }
    let runtime = Runtime::new().expect("runtime");
    let compiled = compile_both(&runtime, vec![("sketch-ok.ward".into(), SKETCH.into())]);
    let manifest = serde_json::to_value(compiled.module.manifest()).expect("manifest");
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut m = manifest.clone();
        f(&mut m);
        with_manifest(&compiled.wasm, Some(&serde_json::to_vec(&m).expect("json")))
    };
    let manifest_bytes = serde_json::to_vec(&manifest).expect("json");
    let bad: Vec<(&str, Vec<u8>)> = vec![
        ("not a module", b"\0asm not really".to_vec()),
        ("no manifest", with_manifest(&compiled.wasm, None)),
        ("manifest not JSON", with_manifest(&compiled.wasm, Some(b"{not json"))),
        ("manifest not UTF-8", with_manifest(&compiled.wasm, Some(b"{\"abi_version\": \"\xff\"}"))),
        ("manifest of another shape", with_manifest(&compiled.wasm, Some(b"{\"abi_version\": 1}"))),
        ("ABI version 1 in the manifest", edit(&|m| m["abi_version"] = json!(1))),
        ("ABI version 3 in the manifest", edit(&|m| m["abi_version"] = json!(3))),
        ("enum index out of range", edit(&|m| m["schema"]["entity_types"][1]["fields"][0]["type"]["enum"] = json!(9))),
        ("ancestor type out of range", edit(&|m| m["schema"]["entity_types"][1]["ancestor_types"] = json!([7]))),
        ("action principal out of range", edit(&|m| m["schema"]["actions"][0]["principals"] = json!([3]))),
        ("field outside fixed_size", edit(&|m| m["schema"]["context"][5]["offset"] = json!(4000))),
        ("fixed_size too small", edit(&|m| m["schema"]["fixed_size"] = json!(100))),
        ("overlapping fields", edit(&|m| m["schema"]["context"][1]["offset"] = json!(0))),
        ("field in the entity header", edit(&|m| m["schema"]["entity_types"][1]["fields"][0]["offset"] = json!(16))),
        (
            "record field outside its record",
            edit(&|m| m["schema"]["entity_types"][1]["fields"][4]["type"]["fields"][1]["offset"] = json!(12)),
        ),
        ("undeclared rule obligation", edit(&|m| m["rules"][3]["obligations"][0]["name"] = json!("nope"))),
        ("unknown type kind", edit(&|m| m["schema"]["context"][0]["type"] = json!({"kind": "float"}))),
        ("rule without effect", edit(&|m| m["rules"][0]["effect"] = json!("maybe"))),
        ("negative offset", edit(&|m| m["schema"]["context"][0]["offset"] = json!(-4))),
        ("an import", importing_module(&manifest_bytes)),
        ("no ward_output export", rename_export(&compiled.wasm, "ward_output", "ward_outpux")),
        ("no memory export", rename_export(&compiled.wasm, "memory", "memorx")),
        (
            "ward_abi_version() 3, manifest 2",
            replace_body(&compiled.wasm, "ward_abi_version", &[0x00, 0x41, 0x03, 0x0b]),
        ),
    ];
    let scratch = Scratch::new("refuse");
    let mut failures = Vec::new();
    for (k, (what, wasm)) in bad.iter().enumerate() {
        let runtime_refuses = runtime.load(wasm).is_err();
        let path = scratch.0.join(format!("bad-{k}.wasm"));
        std::fs::write(&path, wasm).expect("write module");
        let (node_refuses, output) = node_check(&[Path::new("--refuse"), &path]);
        eprintln!("{what}: runtime refuses: {runtime_refuses}; node: {}", output.trim());
        if !runtime_refuses || !node_refuses {
            failures.push(format!(
                "{what}: runtime refuses {runtime_refuses}, node refuses {node_refuses}: {}",
                output.trim()
            ));
        }
    }
    // The untouched module, and one with its manifest rewritten unchanged, load.
    for (what, wasm) in [
        ("the module", compiled.wasm.clone()),
        ("the re-attached manifest", with_manifest(&compiled.wasm, Some(&manifest_bytes))),
    ] {
        let path = scratch.0.join("good.wasm");
        std::fs::write(&path, &wasm).expect("write module");
        let (refused, output) = node_check(&[Path::new("--refuse"), &path]);
        assert!(runtime.load(&wasm).is_ok(), "the runtime loads {what}");
        if refused {
            failures.push(format!("node refuses {what}: {}", output.trim()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
