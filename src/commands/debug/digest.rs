//! Redis's dataset digest (`DEBUG DIGEST`, `DEBUG DIGEST-VALUE`), reproduced exactly so that a
//! Ferrite dataset and a Redis dataset with the same content give the same 40 hex digits — the
//! cheapest proof that a replica, an AOF reload or an RDB load rebuilt the same data.
//!
//! Two operations on a 20-byte state, both built on SHA-1:
//! - `xor_in(x)`: state ^= SHA1(x). Order-free: used where Redis's order is not defined (keys of a
//!   database, set members, hash fields, sorted-set members);
//! - `mix_in(x)`: state = SHA1(state ^ SHA1(x)). Order-sensitive: used along a sequence (a key then
//!   its value, list elements, stream entries).
//!
//! The dataset digest starts at zero; for each non-empty database, `mix_in` its index (4 bytes,
//! big-endian); for each key, a fresh state gets `mix_in(key)` then the value's digest (below), and
//! is folded into the dataset with `xor_in`. An empty dataset is all zeros.
//!
//! A value's digest: `mix_in` of its type code (4 bytes, big-endian: string 0, list 1, set 2, zset 3,
//! hash 4, stream 6), then its content by type, then, if the key has a TTL, `xor_in("!!expire!!")`
//! (the deadline itself is not part of the digest):
//! - string: `mix_in(bytes)` (an integer as its decimal text);
//! - list: `mix_in` of each element, head to tail ([`list`]);
//! - set: `xor_in` of each member ([`set`]);
//! - sorted set: per member, a fresh state gets `mix_in(member)` then `mix_in(score as %.17g)`, and
//!   is `xor_in`ed ([`zset`]);
//! - hash: per field, a fresh state gets `mix_in(field)` then `mix_in(value)`, `xor_in`ed ([`hash`]);
//! - stream: per entry in ID order, `mix_in("<ms>.<seq>")` (a dot, not the dash of the ID's usual
//!   form) then `mix_in` of each field and value
//!   ([`stream_entry`]).
//!
//! Collections plug in at [`value_digest`]'s `ValueRef::Obj` arm with these helpers; the rules are
//! checked against a real Redis in `tests/debug.rs`.

use sha1::{Digest as _, Sha1};

use crate::storage::{Db, Object, ValueRef};

/// Type codes, as Redis numbers its object types.
pub mod type_code {
    pub const STRING: u32 = 0;
    pub const LIST: u32 = 1;
    pub const SET: u32 = 2;
    pub const ZSET: u32 = 3;
    pub const HASH: u32 = 4;
    pub const STREAM: u32 = 6;
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Digest(pub [u8; 20]);

fn sha1(data: &[u8]) -> [u8; 20] {
    Sha1::digest(data).into()
}

impl Digest {
    /// state ^= SHA1(data)
    pub fn xor_in(&mut self, data: &[u8]) {
        for (d, h) in self.0.iter_mut().zip(sha1(data)) {
            *d ^= h;
        }
    }

    /// state = SHA1(state ^ SHA1(data))
    pub fn mix_in(&mut self, data: &[u8]) {
        self.xor_in(data);
        self.0 = sha1(&self.0);
    }

    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A list's elements, head to tail (as bytes: integer entries printed in decimal).
pub fn list<E: AsRef<[u8]>>(d: &mut Digest, elements: impl IntoIterator<Item = E>) {
    for e in elements {
        d.mix_in(e.as_ref());
    }
}

/// A set's members, in any order.
pub fn set<M: AsRef<[u8]>>(d: &mut Digest, members: impl IntoIterator<Item = M>) {
    for m in members {
        d.xor_in(m.as_ref());
    }
}

/// A hash's fields and values, in any order.
pub fn hash<'a>(d: &mut Digest, pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>) {
    for (f, v) in pairs {
        let mut e = Digest::default();
        e.mix_in(f);
        e.mix_in(v);
        d.xor_in(&e.0);
    }
}

/// A sorted set's members and scores, in any order.
pub fn zset<M: AsRef<[u8]>>(d: &mut Digest, members: impl IntoIterator<Item = (M, f64)>) {
    for (m, score) in members {
        let mut e = Digest::default();
        e.mix_in(m.as_ref());
        let mut text = Vec::with_capacity(24);
        resp::num::format_double(&mut text, score);
        e.mix_in(&text);
        d.xor_in(&e.0);
    }
}

/// One stream entry; call it for every entry in ID order.
pub fn stream_entry<'a>(d: &mut Digest, ms: u64, seq: u64, fields: impl IntoIterator<Item = (&'a [u8], &'a [u8])>) {
    d.mix_in(format!("{ms}.{seq}").as_bytes());
    for (f, v) in fields {
        d.mix_in(f);
        d.mix_in(v);
    }
}

/// Fold a value (and whether its key has a TTL) into `d`: what `DEBUG DIGEST-VALUE` reports when `d`
/// starts at zero.
pub fn value_digest(d: &mut Digest, value: ValueRef<'_>, has_expire: bool) {
    match value {
        ValueRef::Int(i) => {
            d.mix_in(&type_code::STRING.to_be_bytes());
            d.mix_in(i.to_string().as_bytes());
        }
        ValueRef::Str(s, _) => {
            d.mix_in(&type_code::STRING.to_be_bytes());
            d.mix_in(s);
        }
        ValueRef::Obj(o) => object_digest(d, o),
    }
    if has_expire {
        d.xor_in(b"!!expire!!");
    }
}

/// A collection's contribution: its type code, then its elements by the type's rule.
fn object_digest(d: &mut Digest, o: &Object) {
    match o {
        Object::List(l) => {
            d.mix_in(&type_code::LIST.to_be_bytes());
            list(d, l.iter());
        }
        Object::Set(s) => {
            d.mix_in(&type_code::SET.to_be_bytes());
            set(d, s.iter().map(|m| m.bytes()));
        }
        Object::ZSet(z) => {
            d.mix_in(&type_code::ZSET.to_be_bytes());
            zset(d, z.iter());
        }
        Object::Hash(h) => {
            d.mix_in(&type_code::HASH.to_be_bytes());
            // A listpack keeps integers as integers: each pair is folded in as text.
            let (mut fb, mut vb) = (itoa::Buffer::new(), itoa::Buffer::new());
            for (f, v) in h.iter() {
                hash(d, [(f.as_bytes(&mut fb), v.as_bytes(&mut vb))]);
            }
        }
        Object::Stream(s) => {
            d.mix_in(&type_code::STREAM.to_be_bytes());
            let (mut fb, mut vb) = (itoa::Buffer::new(), itoa::Buffer::new());
            for e in s.iter() {
                let pairs: Vec<(Vec<u8>, Vec<u8>)> = e
                    .fields()
                    .map(|(f, v)| (f.as_bytes(&mut fb).to_vec(), v.as_bytes(&mut vb).to_vec()))
                    .collect();
                stream_entry(d, e.id.ms, e.id.seq, pairs.iter().map(|(f, v)| (&f[..], &v[..])));
            }
        }
    }
}

/// The digest of every database (`DEBUG DIGEST`). Keys are read as stored: a key whose TTL passed
/// but that was not deleted yet still counts, as in Redis.
pub fn dataset_digest(dbs: &[Db]) -> Digest {
    let mut all = Digest::default();
    for (i, db) in dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        all.mix_in(&(i as u32).to_be_bytes());
        db.for_each(|e| {
            let mut kd = Digest::default();
            kd.mix_in(e.key());
            value_digest(&mut kd, e.value(), e.expire_at().is_some());
            all.xor_in(&kd.0);
        });
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_is_ordered_and_xor_is_not() {
        let (mut a, mut b) = (Digest::default(), Digest::default());
        list(&mut a, [&b"x"[..], b"y"]);
        list(&mut b, [&b"y"[..], b"x"]);
        assert_ne!(a, b);
        let (mut a, mut b) = (Digest::default(), Digest::default());
        set(&mut a, [&b"x"[..], b"y"]);
        set(&mut b, [&b"y"[..], b"x"]);
        assert_eq!(a, b);
        assert_eq!(Digest::default().hex(), "0".repeat(40));
    }

    #[test]
    fn a_string_value_matches_redis() {
        // DEBUG DIGEST-VALUE of SET k hello / SET n 12345 on redis-server 7.0.
        let mut d = Digest::default();
        value_digest(
            &mut d,
            ValueRef::Str(b"hello", crate::storage::StrEncoding::Embstr),
            false,
        );
        assert_eq!(d.hex(), "36b23a1456b2dce2c3ed252c456761301dba8060");
        let mut d = Digest::default();
        value_digest(&mut d, ValueRef::Int(12345), false);
        assert_eq!(d.hex(), "e1cf90774e995ae03de66e8109dc5cb9d9c2dc83");
    }
}
