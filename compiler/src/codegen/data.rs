//! Constant data: string, entity, set, address and range slots, laid out as
//! the request encoding lays them out, so that code treats constants and
//! request values alike. Offsets inside slots are relative to where requests
//! start, which is only known once all data is placed: they are recorded as
//! fix-ups and written by [`Data::finish`].

use std::collections::HashMap;
use std::net::IpAddr;

use crate::program::Const;

/// The data segment being built.
#[derive(Debug, Default)]
pub struct Data {
    start: u32,
    bytes: Vec<u8>,
    /// (position in `bytes`, absolute address it must point to)
    fixups: Vec<(usize, u32)>,
    strings: Vec<String>,
    string_ids: HashMap<String, u32>,
    slots: HashMap<Const, u32>,
    raw: HashMap<Vec<u8>, u32>,
    scratch: HashMap<(usize, u32), (u32, u32)>,
}

impl Data {
    /// Data placed from address `start`.
    pub fn new(start: u32) -> Data {
        Data { start, ..Data::default() }
    }

    /// The address after the last byte placed.
    pub fn end(&self) -> u32 {
        self.start + self.bytes.len() as u32
    }

    /// The interned strings, in id order (id = position + 1).
    pub fn strings(&self) -> &[String] {
        &self.strings
    }

    /// The interned id of a string, assigning one on first use.
    pub fn string_id(&mut self, s: &str) -> u32 {
        if let Some(id) = self.string_ids.get(s) {
            return *id;
        }
        self.strings.push(s.to_owned());
        let id = self.strings.len() as u32;
        self.string_ids.insert(s.to_owned(), id);
        id
    }

    fn alloc(&mut self, size: u32, align: u32) -> u32 {
        while !self.bytes.len().is_multiple_of(align as usize) {
            self.bytes.push(0);
        }
        let at = self.end();
        self.bytes.resize(self.bytes.len() + size as usize, 0);
        at
    }

    fn put32(&mut self, at: u32, v: u32) {
        let i = (at - self.start) as usize;
        self.bytes[i..i + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn put64(&mut self, at: u32, v: u64) {
        let i = (at - self.start) as usize;
        self.bytes[i..i + 8].copy_from_slice(&v.to_le_bytes());
    }

    fn fixup(&mut self, at: u32, target: u32) {
        self.fixups.push(((at - self.start) as usize, target));
    }

    /// The address of raw bytes (deduplicated).
    pub fn bytes(&mut self, b: &[u8]) -> u32 {
        if let Some(at) = self.raw.get(b) {
            return *at;
        }
        let at = self.alloc(b.len() as u32, 1);
        let i = (at - self.start) as usize;
        self.bytes[i..i + b.len()].copy_from_slice(b);
        self.raw.insert(b.to_vec(), at);
        at
    }

    /// A scratch area for a set built at run time: its slot and its elements.
    pub fn scratch(&mut self, site: (usize, u32), count: u32, size: u32) -> (u32, u32) {
        if let Some(found) = self.scratch.get(&site) {
            return *found;
        }
        let slot = self.alloc(8, 8);
        let elements = self.alloc(count.max(1) * size, 8);
        self.scratch.insert(site, (slot, elements));
        (slot, elements)
    }

    /// Writes a string slot at `at`.
    fn string_at(&mut self, at: u32, s: &str) {
        let id = self.string_id(s);
        let bytes = self.bytes(s.as_bytes());
        self.put32(at, id);
        self.fixup(at + 4, bytes);
        self.put32(at + 8, s.len() as u32);
    }

    fn ip_words(ip: &IpAddr) -> (u32, u64, u64) {
        match ip {
            IpAddr::V4(a) => (4, 0, u64::from(u32::from(*a))),
            IpAddr::V6(a) => {
                let n = u128::from(*a);
                (6, (n >> 64) as u64, n as u64)
            }
        }
    }

    /// Writes one set element of constant `c` at `at`.
    fn element_at(&mut self, at: u32, c: &Const) {
        match c {
            Const::Int(n) | Const::Duration(n) | Const::Timestamp(n) | Const::TimeOfDay(n) => self.put64(at, *n as u64),
            Const::Enum(_, index) => self.put32(at, *index),
            Const::Bool(b) => self.put32(at, u32::from(*b)),
            Const::Str(s) => self.string_at(at, s),
            Const::Entity(lit) => {
                self.put32(at, lit.ty.0);
                self.string_at(at + 4, &lit.id);
            }
            Const::Ip(_) | Const::Cidr(_) | Const::Set(_) => {}
        }
    }

    /// The address of the slot of a constant that is passed by address.
    pub fn constant(&mut self, c: &Const) -> u32 {
        if let Some(at) = self.slots.get(c) {
            return *at;
        }
        let at = match c {
            Const::Str(s) => {
                let at = self.alloc(12, 4);
                self.string_at(at, s);
                at
            }
            Const::Entity(_) => {
                let at = self.alloc(16, 4);
                self.element_at(at, c);
                at
            }
            Const::Ip(ip) => {
                let at = self.alloc(24, 8);
                let (kind, hi, lo) = Data::ip_words(ip);
                self.put32(at, kind);
                self.put64(at + 8, hi);
                self.put64(at + 16, lo);
                at
            }
            Const::Cidr(range) => {
                let at = self.alloc(24, 8);
                let (kind, hi, lo) = Data::ip_words(&range.network);
                self.put32(at, kind);
                self.put32(at + 4, u32::from(range.prefix));
                self.put64(at + 8, hi);
                self.put64(at + 16, lo);
                at
            }
            Const::Set(items) => {
                let size = match items.first() {
                    Some(Const::Int(_) | Const::Duration(_) | Const::Timestamp(_) | Const::TimeOfDay(_)) => 8,
                    Some(Const::Str(_)) => 12,
                    Some(Const::Entity(_)) => 16,
                    _ => 4,
                };
                let elements = self.alloc((items.len() as u32).max(1) * size, 8);
                for (n, item) in items.iter().enumerate() {
                    self.element_at(elements + n as u32 * size, item);
                }
                let at = self.alloc(8, 8);
                self.fixup(at, elements);
                self.put32(at + 4, items.len() as u32);
                at
            }
            // Scalars are immediates, never slots.
            Const::Bool(_)
            | Const::Int(_)
            | Const::Duration(_)
            | Const::Timestamp(_)
            | Const::TimeOfDay(_)
            | Const::Enum(..) => 0,
        };
        self.slots.insert(c.clone(), at);
        at
    }

    /// The data bytes, with every relative offset written for requests
    /// starting at `base`.
    pub fn finish(&self, base: u32) -> Vec<u8> {
        let mut bytes = self.bytes.clone();
        for (i, target) in &self.fixups {
            let rel = target.wrapping_sub(base);
            bytes[*i..*i + 4].copy_from_slice(&rel.to_le_bytes());
        }
        bytes
    }
}
