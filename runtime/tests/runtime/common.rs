//! Hand-written decision modules (WAT) and manifests for the tests.

use serde_json::{Value, json};
use ward_runtime::{DecisionModule, Limits, MANIFEST_SECTION, Runtime, append_custom_section};

/// The test schema and rules. Layout (offsets in the request buffer):
///
/// - action at 0; principal block at 8 (User: admin @24, level @32, nick? @40 flag @52);
/// - resource block at 64 (Doc: tags @24, owner @32, class @48, addr? @56 flag @52,
///   net @80, scores @104, meta @112 = {a @0, b? @8 flag @4}; Group: no fields);
/// - context at 192 (mtls @0, zone? @4 flag @28, when @8, at? @16 flag @24,
///   groups? @32 flag @40); fixed size 240.
pub fn manifest() -> Value {
    json!({
        "abi_version": 2,
        "packages": ["test"],
        "source_hash": "00",
        "schema": {
            "entity_types": [
                {"name": "User", "ancestor_types": [1], "fields": [
                    {"name": "admin", "type": {"kind": "bool"}, "offset": 24},
                    {"name": "level", "type": {"kind": "int"}, "offset": 32},
                    {"name": "nick", "type": {"kind": "string"}, "offset": 40, "present_offset": 52}
                ]},
                {"name": "Group", "ancestor_types": [], "fields": []},
                {"name": "Doc", "ancestor_types": [1], "fields": [
                    {"name": "tags", "type": {"kind": "set", "element": {"kind": "string"}}, "offset": 24},
                    {"name": "owner", "type": {"kind": "entity", "types": [0]}, "offset": 32},
                    {"name": "class", "type": {"kind": "enum", "enum": 0}, "offset": 48},
                    {"name": "addr", "type": {"kind": "ip"}, "offset": 56, "present_offset": 52},
                    {"name": "net", "type": {"kind": "cidr"}, "offset": 80},
                    {"name": "scores", "type": {"kind": "set", "element": {"kind": "int", "min": 0, "max": 100}}, "offset": 104},
                    {"name": "meta", "type": {"kind": "record", "size": 16, "fields": [
                        {"name": "a", "type": {"kind": "bool"}, "offset": 0},
                        {"name": "b", "type": {"kind": "duration"}, "offset": 8, "present_offset": 4}
                    ]}, "offset": 112}
                ]}
            ],
            "enums": [{"name": "Class", "values": ["public", "internal", "secret"]}],
            "actions": [
                {"name": "read", "principals": [0], "resources": [2]},
                {"name": "manage", "principals": [0], "resources": [1]}
            ],
            "principal_offset": 8,
            "resource_offset": 64,
            "context_offset": 192,
            "context": [
                {"name": "mtls", "type": {"kind": "bool"}, "offset": 0},
                {"name": "zone", "type": {"kind": "enum", "enum": 0}, "offset": 4, "present_offset": 28},
                {"name": "when", "type": {"kind": "timestamp"}, "offset": 8},
                {"name": "at", "type": {"kind": "time_of_day"}, "offset": 16, "present_offset": 24},
                {"name": "groups", "type": {"kind": "set", "element": {"kind": "entity", "types": [1]}}, "offset": 32, "present_offset": 40}
            ],
            "fixed_size": 240
        },
        "strings": ["admins", "alice", "x"],
        "obligations": [
            {"name": "log", "params": ["level"]},
            {"name": "notify", "params": []},
            {"name": "quarantine", "params": ["for"]}
        ],
        "rules": [
            {"id": "P-admin", "effect": "permit", "reason": "admins may",
             "obligations": [{"name": "log", "args": {"level": "info"}}]},
            {"id": "F-level", "effect": "forbid", "reason": "level too high",
             "obligations": [{"name": "quarantine", "args": {"for": "15m"}}]},
            {"id": "E-overflow", "effect": "forbid", "obligations": []},
            {"id": "A-overflow", "effect": "permit", "obligations": []},
            {"id": "A-admin-too", "effect": "permit", "obligations": [
                {"name": "notify", "args": {}},
                {"name": "log", "args": {"level": "info"}},
                {"name": "log", "args": {"level": "debug"}}
            ]},
            {"id": "F-level", "effect": "forbid", "reason": "duplicate id", "obligations": [
                {"name": "quarantine", "args": {"for": "15m"}},
                {"name": "notify", "args": {}}
            ]}
        ]
    })
}

/// `ward_input`: a buffer at 4096, growing memory as needed.
const INPUT_FN: &str = r#"
  (func (export "ward_input") (param $len i32) (result i32)
    (local $need i32)
    (local.set $need
      (i32.shr_u (i32.add (i32.add (local.get $len) (i32.const 4096)) (i32.const 65535)) (i32.const 16)))
    (if (i32.gt_u (local.get $need) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $need) (memory.size))) (i32.const -1))
          (then (return (i32.const 0))))))
    (i32.const 4096))"#;

/// The policy of the test manifest, reading the principal's `admin` (at
/// 4096 + 8 + 24) and `level` (at 4096 + 8 + 32):
///
/// - level ≥ 2^62: status 3, rules 3 and 2 (overflow);
/// - level > 10: status 1, rules 5 and 1;
/// - admin: status 0, rules 0 and 4;
/// - otherwise status 2.
///
/// Levels 90–99 misbehave, to test the host's defences.
const EVALUATE_FN: &str = r#"
  (func $answer (param $status i32) (param $count i32) (param $a i32) (param $b i32) (result i32)
    (i32.store (i32.const 1024) (local.get $count))
    (i32.store (i32.const 1028) (local.get $a))
    (i32.store (i32.const 1032) (local.get $b))
    (local.get $status))
  (func (export "ward_evaluate") (param $len i32) (result i32)
    (local $admin i32) (local $level i64)
    (i32.store (i32.const 1016) (i32.const 1024))
    (local.set $admin (i32.load (i32.const 4128)))
    (local.set $level (i64.load (i32.const 4136)))
    (if (i64.eq (local.get $level) (i64.const 99)) (then (loop $forever (br $forever))))
    (if (i64.eq (local.get $level) (i64.const 98))
      (then (if (i32.eq (memory.grow (i32.const 2000)) (i32.const -1)) (then unreachable))))
    (if (i64.eq (local.get $level) (i64.const 97)) (then unreachable))
    (if (i64.eq (local.get $level) (i64.const 96)) (then (return (i32.const 7))))
    (if (i64.eq (local.get $level) (i64.const 95)) (then (return (i32.const 4))))
    (if (i64.eq (local.get $level) (i64.const 94))
      (then (return (call $answer (i32.const 0) (i32.const 1) (i32.const 1) (i32.const 0)))))
    (if (i64.eq (local.get $level) (i64.const 93))
      (then (return (call $answer (i32.const 0) (i32.const 1) (i32.const 42) (i32.const 0)))))
    (if (i64.eq (local.get $level) (i64.const 92))
      (then (return (call $answer (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0)))))
    (if (i64.eq (local.get $level) (i64.const 91))
      (then
        (i32.store (i32.const 1016) (i32.const 0x7ffffff0))
        (return (call $answer (i32.const 1) (i32.const 1) (i32.const 1) (i32.const 0)))))
    (if (i64.eq (local.get $level) (i64.const 90))
      (then (return (call $answer (i32.const 1) (i32.const 1000000000) (i32.const 1) (i32.const 0)))))
    (if (i64.eq (local.get $level) (i64.const 89))
      (then (return (call $answer (i32.const 1) (i32.const -1) (i32.const 1) (i32.const 0)))))
    (if (i64.ge_s (local.get $level) (i64.const 4611686018427387904))
      (then (return (call $answer (i32.const 3) (i32.const 2) (i32.const 3) (i32.const 2)))))
    (if (i64.gt_s (local.get $level) (i64.const 10))
      (then (return (call $answer (i32.const 1) (i32.const 2) (i32.const 5) (i32.const 1)))))
    (if (local.get $admin)
      (then (return (call $answer (i32.const 0) (i32.const 2) (i32.const 0) (i32.const 4)))))
    (i32.const 2))
  (func (export "ward_output") (result i32) (i32.const 1016))"#;

/// A module's WAT text: `extra` goes first (imports), then memory, the
/// version export returning `abi`, and `body` (the other exports).
pub fn wat(extra: &str, abi: i32, body: &str) -> String {
    format!(
        r#"(module {extra}
  (memory (export "memory") 1)
  (func (export "ward_abi_version") (result i32) (i32.const {abi}))
  {body})"#
    )
}

/// The standard test policy's WAT.
pub fn policy_wat() -> String {
    wat("", 2, &format!("{INPUT_FN}\n{EVALUATE_FN}"))
}

/// Assembles WAT and appends a manifest section (when given).
pub fn module_bytes(text: &str, manifest: Option<&Value>) -> Vec<u8> {
    let mut bytes = wat::parse_str(text).expect("test WAT assembles");
    if let Some(m) = manifest {
        append_custom_section(&mut bytes, MANIFEST_SECTION, m.to_string().as_bytes());
    }
    bytes
}

/// The test policy's module bytes.
pub fn policy_bytes() -> Vec<u8> {
    module_bytes(&policy_wat(), Some(&manifest()))
}

/// The test policy, loaded with the given limits.
pub fn policy_with(limits: Limits) -> DecisionModule {
    Runtime::with_limits(limits).expect("runtime").load(&policy_bytes()).expect("the test policy loads")
}

/// The test policy, loaded with default limits.
pub fn policy() -> DecisionModule {
    policy_with(Limits::default())
}

/// A valid `manage` request (resource: a Group) with the principal's admin and level.
pub fn manage(admin: bool, level: Value) -> Value {
    json!({
        "principal": {"type": "User", "id": "alice", "attributes": {"admin": admin, "level": level}},
        "action": "manage",
        "resource": {"type": "Group", "id": "admins"},
        "context": {"mtls": true, "when": "2026-01-31T09:30:00Z"}
    })
}

/// A valid `read` request with every attribute of the schema.
pub fn read() -> Value {
    json!({
        "principal": {
            "type": "User", "id": "alice",
            "attributes": {"admin": true, "level": 7, "nick": "x", "ignored": [1, 2]},
            "ancestors": [{"type": "Group", "id": "b"}, {"type": "Group", "id": "admins"}, {"type": "Group", "id": "b"}]
        },
        "action": "read",
        "resource": {
            "type": "Doc", "id": "d1",
            // By name, so that a map keeping the order written (as
            // `serde_json` may be built to) orders them as a sorted one.
            "attributes": {
                "addr": "10.1.2.3",
                "class": "secret",
                "meta": {"a": true},
                "net": "2001:db8::1/32",
                "owner": {"type": "User", "id": "bob"},
                "scores": [50, 3, 50, 0],
                "tags": ["z", "admins", "z", "a"]
            }
        },
        "context": {
            "mtls": false,
            "when": "1970-01-01T00:00:01Z",
            "at": "09:30",
            "groups": [{"type": "Group", "id": "g"}]
        }
    })
}

/// Parses a request value.
pub fn request(value: &Value) -> ward_runtime::Request {
    ward_runtime::Request::from_value(value.clone()).expect("a request document")
}
