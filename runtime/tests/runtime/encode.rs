//! Byte-exact request encoding.

use crate::common::{manage, policy, read, request};

/// A little-endian writer over an expected buffer.
struct Expect(Vec<u8>);

impl Expect {
    fn bytes(&mut self, at: usize, bytes: &[u8]) {
        if self.0.len() < at + bytes.len() {
            self.0.resize(at + bytes.len(), 0);
        }
        self.0[at..at + bytes.len()].copy_from_slice(bytes);
    }
    fn i32(&mut self, at: usize, v: i32) {
        self.bytes(at, &v.to_le_bytes());
    }
    fn i64(&mut self, at: usize, v: i64) {
        self.bytes(at, &v.to_le_bytes());
    }
    fn u64(&mut self, at: usize, v: u64) {
        self.bytes(at, &v.to_le_bytes());
    }
    /// A string slot at `at` whose bytes are at `offset`.
    fn string(&mut self, at: usize, id: i32, offset: usize, text: &str) {
        self.i32(at, id);
        self.i32(at + 4, offset as i32);
        self.i32(at + 8, text.len() as i32);
        self.bytes(offset, text.as_bytes());
    }
}

#[test]
fn a_full_request_is_encoded_byte_for_byte() {
    let encoded = policy().encode(&request(&read())).unwrap();
    let mut e = Expect(vec![0; 240]);
    // Action `read`.
    e.i32(0, 0);
    // Principal block at 8: User "alice" (interned: id 2).
    e.i32(8, 0);
    e.string(12, 2, 240, "alice");
    // Ancestors: Group "b" twice and Group "admins", sorted by id bytes and
    // distinct, 8-byte aligned after "alice" (245 → 248).
    e.i32(24, 248);
    e.i32(28, 2);
    e.i32(248, 1);
    e.string(252, 1, 280, "admins");
    e.i32(264, 1);
    e.string(268, 0, 286, "b");
    // admin, level, nick (present, interned "x": id 3).
    e.i32(32, 1);
    e.i64(40, 7);
    e.string(48, 3, 287, "x");
    e.i32(60, 1);
    // Resource block at 64: Doc "d1", no ancestors (offset 0, count 0).
    e.i32(64, 2);
    e.string(68, 0, 288, "d1");
    // Attributes in the order the request gives them (by name): owner
    // User "bob", its id's bytes at 290.
    e.i32(96, 0);
    e.string(100, 0, 290, "bob");
    // class: secret = 2.
    e.i32(112, 2);
    // addr 10.1.2.3, present.
    e.i32(116, 1);
    e.i32(120, 4);
    e.u64(128, 0);
    e.u64(136, 0x0a01_0203);
    // net 2001:db8::1/32 → 2001:db8::/32.
    e.i32(144, 6);
    e.i32(148, 32);
    e.u64(152, 0x2001_0db8_0000_0000);
    e.u64(160, 0);
    // scores [50, 3, 50, 0] → 0, 3, 50 at 296 (aligned from 293).
    e.i32(168, 296);
    e.i32(172, 3);
    e.i64(296, 0);
    e.i64(304, 3);
    e.i64(312, 50);
    // tags: "a", "admins" (id 1), "z": elements at 320, their bytes after them.
    e.i32(88, 320);
    e.i32(92, 3);
    e.string(320, 0, 356, "a");
    e.string(332, 1, 357, "admins");
    e.string(344, 0, 363, "z");
    // meta {a: true}, b absent: flag and value zero.
    e.i32(176, 1);
    // Context at 192: mtls false, zone absent, when = 1 s, at 09:30 present.
    e.i32(192, 0);
    e.i64(200, 1_000);
    e.i64(208, 34_200_000);
    e.i32(216, 1);
    // groups: [Group "g"] at 368, present.
    e.i32(224, 368);
    e.i32(228, 1);
    e.i32(232, 1);
    e.i32(368, 1);
    e.string(372, 0, 384, "g");
    assert_eq!(encoded.as_bytes().len(), 385);
    assert_eq!(encoded.as_bytes(), e.0.as_slice());
}

#[test]
fn encoding_is_deterministic_and_independent_of_set_order_and_duplicates() {
    let module = policy();
    let mut shuffled = read();
    shuffled["resource"]["attributes"]["tags"] = serde_json::json!(["a", "z", "admins", "a"]);
    shuffled["resource"]["attributes"]["scores"] = serde_json::json!([3, 0, 50]);
    shuffled["principal"]["ancestors"] =
        serde_json::json!([{"type": "Group", "id": "admins"}, {"type": "Group", "id": "b"}]);
    assert_eq!(module.encode(&request(&read())).unwrap(), module.encode(&request(&shuffled)).unwrap());
}

#[test]
fn a_small_request_fills_only_what_it_has() {
    let encoded = policy().encode(&request(&manage(false, serde_json::json!(-3)))).unwrap();
    let mut e = Expect(vec![0; 240]);
    e.i32(0, 1);
    e.i32(8, 0);
    e.string(12, 2, 240, "alice");
    e.i64(40, -3);
    e.i32(64, 1);
    e.string(68, 1, 245, "admins");
    e.i32(192, 1);
    e.i64(200, 1_769_851_800_000);
    assert_eq!(encoded.as_bytes(), e.0.as_slice());
}

#[test]
fn ipv4_and_ipv6_slots() {
    let module = policy();
    let with = |addr: &str, net: &str| {
        let mut value = read();
        value["resource"]["attributes"]["addr"] = serde_json::json!(addr);
        value["resource"]["attributes"]["net"] = serde_json::json!(net);
        module.encode(&request(&value)).unwrap().as_bytes()[120..168].to_vec()
    };
    let mut e = Expect(vec![0; 48]);
    e.i32(0, 6);
    e.u64(8, 0xfe80_0000_0000_0000);
    e.u64(16, 0x0000_0000_0000_0001);
    e.i32(24, 4);
    e.i32(28, 8);
    e.u64(40, 0x0a00_0000);
    assert_eq!(with("fe80::1", "10.1.2.3/8"), e.0);
    let mut e = Expect(vec![0; 48]);
    e.i32(0, 4);
    e.u64(16, 0xffff_ffff);
    e.i32(24, 6);
    e.i32(28, 0);
    assert_eq!(with("255.255.255.255", "::/0"), e.0);
}
