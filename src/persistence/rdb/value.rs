//! One value in RDB form: what a key's entry in an RDB file and a DUMP payload hold after the type byte.
//!
//! Writing follows Redis 7.0 exactly (so `redis-check-rdb` and a real Redis accept the bytes): strings
//! as RDB strings; lists as quicklist 2 (each node a packed listpack); intsets, hash and sorted-set
//! listpacks as copies of their bytes; sets, hashes and sorted sets in their table forms as counted
//! elements (sorted sets from the highest member down, with binary scores); streams as listpacks 2.
//!
//! Reading takes every type Redis 7.0 reads (versions 6 to 10), validates every compact encoding
//! before it is trusted (listpack, intset, ziplist, zipmap, the stream node layout, stream metadata
//! against the nodes), refuses duplicates, and converts encodings at the configured thresholds as
//! Redis does on load. Nothing here panics or allocates more than the input justifies: counts are
//! checked against the bytes left before anything is reserved.

use std::borrow::Cow;
use std::sync::Arc;

use super::super::legacy;
use super::super::payload::{write_len, write_string, PayloadError, Reader};
use crate::storage::object::hash::Hash;
use crate::storage::object::intset::Intset;
use crate::storage::object::list::List;
use crate::storage::object::listpack::{Limits, Listpack, LpItem};
use crate::storage::object::set::{Member, Set};
use crate::storage::object::stream::{ConsumerGroup, Nack, Stream, StreamId, INVALID_ENTRIES_READ};
use crate::storage::object::zset::ZSet;
use crate::storage::{NewValue, Object, ValueRef};

/// Value types (the byte before a key).
pub mod types {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE_PRE_GA: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
}

/// Whether `t` names a value type (anything else after a key's opcodes is corruption or a newer
/// format).
pub fn is_value_type(t: u8) -> bool {
    matches!(t, 0..=7 | 9..=19)
}

/// Quicklist node containers.
const CONTAINER_PLAIN: u64 = 1;
const CONTAINER_PACKED: u64 = 2;

/// Encoding thresholds that decide what a loaded value becomes (from the configuration).
#[derive(Debug, Clone, Copy)]
pub struct LoadLimits {
    pub list_fill: i32,
    pub list_compress: i32,
    pub hash: Limits,
    pub zset: Limits,
    pub set_max_intset: usize,
    /// The longest string accepted (`proto-max-bulk-len`).
    pub max_string: u64,
}

impl LoadLimits {
    pub fn from_config(c: &crate::config::Config) -> LoadLimits {
        LoadLimits {
            list_fill: c.list_max_listpack_size,
            list_compress: c.list_compress_depth.min(i32::MAX as u32) as i32,
            hash: Limits::from_config(c.hash_max_listpack_entries, c.hash_max_listpack_value),
            zset: Limits::from_config(c.zset_max_listpack_entries, c.zset_max_listpack_value),
            set_max_intset: c.set_max_intset_entries.min(usize::MAX as u64) as usize,
            max_string: c.proto_max_bulk_len.max(512 << 20),
        }
    }
}

// ---- writing ----

/// Append `value` in RDB form; returns its type byte (written by the caller before the key).
pub fn write_value(out: &mut Vec<u8>, value: ValueRef<'_>, compress: bool) -> u8 {
    match value {
        ValueRef::Int(i) => {
            write_string(out, itoa::Buffer::new().format(i).as_bytes(), compress);
            types::STRING
        }
        ValueRef::Str(s, _) => {
            write_string(out, s, compress);
            types::STRING
        }
        ValueRef::Obj(o) => write_object(out, o, compress),
    }
}

fn write_object(out: &mut Vec<u8>, o: &Object, compress: bool) -> u8 {
    match o {
        Object::List(l) => {
            write_len(out, l.node_count() as u64);
            for node in l.nodes() {
                write_len(out, CONTAINER_PACKED);
                write_string(out, node.as_bytes(), compress);
            }
            types::LIST_QUICKLIST_2
        }
        Object::Set(s) => match s.intset_bytes() {
            Some(bytes) => {
                write_string(out, &bytes, compress);
                types::SET_INTSET
            }
            None => {
                write_len(out, s.len() as u64);
                for m in s.iter() {
                    write_string(out, &m.bytes(), compress);
                }
                types::SET
            }
        },
        Object::ZSet(z) => match z.as_listpack() {
            Some(lp) => {
                write_string(out, lp.as_bytes(), compress);
                types::ZSET_LISTPACK
            }
            None => {
                write_len(out, z.len() as u64);
                // Highest first, as Redis writes it (loading then inserts at the head).
                z.visit(0..z.len(), true, |m, score| {
                    write_string(out, m, compress);
                    out.extend_from_slice(&score.to_le_bytes());
                    true
                });
                types::ZSET_2
            }
        },
        Object::Hash(h) => match h {
            Hash::Listpack(lp) => {
                write_string(out, lp.as_bytes(), compress);
                types::HASH_LISTPACK
            }
            Hash::Table(t) => {
                write_len(out, t.len() as u64);
                for (f, v) in t.iter() {
                    write_string(out, f, compress);
                    write_string(out, v, compress);
                }
                types::HASH
            }
        },
        Object::Stream(s) => {
            write_stream(out, s, compress);
            types::STREAM_LISTPACKS_2
        }
    }
}

fn write_id(out: &mut Vec<u8>, id: StreamId) {
    write_len(out, id.ms);
    write_len(out, id.seq);
}

fn write_stream(out: &mut Vec<u8>, s: &Stream, compress: bool) {
    write_len(out, s.node_count() as u64);
    for (master, lp) in s.nodes() {
        write_string(out, &master.to_be_bytes(), false);
        write_string(out, lp.as_bytes(), compress);
    }
    write_len(out, s.len());
    write_id(out, s.last_id);
    write_id(out, s.first_id);
    write_id(out, s.max_deleted_entry_id);
    write_len(out, s.entries_added);
    write_len(out, s.groups.len() as u64);
    for (name, g) in &s.groups {
        write_string(out, name, compress);
        write_id(out, g.last_id);
        // Redis writes the signed counter as an unsigned length (-1 becomes 2^64 - 1).
        write_len(out, g.entries_read as u64);
        write_len(out, g.pel.len() as u64);
        for (id, nack) in &g.pel {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(&nack.delivery_time.to_le_bytes());
            write_len(out, nack.delivery_count);
        }
        write_len(out, g.consumers.len() as u64);
        for (name, c) in &g.consumers {
            write_string(out, name, compress);
            out.extend_from_slice(&c.seen_time.to_le_bytes());
            write_len(out, c.pel.len() as u64);
            for id in &c.pel {
                out.extend_from_slice(&id.to_be_bytes());
            }
        }
    }
}

// ---- reading ----

/// Why a value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("{0}")]
    Corrupt(&'static str),
    #[error("the value is a module type, and Ferrite loads no modules")]
    Module,
    #[error("unknown value type {0}")]
    UnknownType(u8),
    /// An empty collection (Redis skips such keys when loading).
    #[error("empty key")]
    Empty,
}

impl From<PayloadError> for ValueError {
    fn from(_: PayloadError) -> Self {
        ValueError::Corrupt("truncated or malformed data")
    }
}

/// A count read from the input, checked against the bytes left (every element takes at least
/// `min_bytes`), so a corrupt count cannot reserve memory or spin.
fn count(r: &mut Reader<'_>, min_bytes: usize) -> Result<usize, ValueError> {
    let n = r.length()?;
    if n > (r.remaining() / min_bytes.max(1)) as u64 {
        r.mark_short();
        return Err(ValueError::Corrupt("a count larger than the data"));
    }
    Ok(n as usize)
}

/// A string value, in the encoding Redis gives it on load (`tryObjectEncoding`). A plain string
/// stays borrowed from the input: the keyspace copies it once, into the entry.
fn string_value(s: Cow<'_, [u8]>) -> NewValue<'_> {
    if s.len() <= 20 {
        if let Some(i) = resp::request::parse_i64_strict(&s) {
            return NewValue::Int(i);
        }
    }
    match s {
        Cow::Borrowed(b) => NewValue::Str(b),
        Cow::Owned(v) => NewValue::StrOwned(v),
    }
}

/// Read a value of type `t` (a string may borrow from the reader's input).
pub fn read_value<'a>(r: &mut Reader<'a>, t: u8, lim: &LoadLimits) -> Result<NewValue<'a>, ValueError> {
    let max = lim.max_string;
    let obj = match t {
        types::STRING => return Ok(string_value(r.string_ref(max)?)),
        types::LIST => {
            let n = count(r, 1)?;
            let mut l = List::new(lim.list_fill, lim.list_compress);
            for _ in 0..n {
                l.push_back(&r.string(max)?);
            }
            Object::List(Box::new(l))
        }
        types::LIST_ZIPLIST => {
            let lp = listpack_from_ziplist(r, max)?;
            let mut l = List::new(lim.list_fill, lim.list_compress);
            for item in lp.iter() {
                l.push_back(&item.to_vec());
            }
            Object::List(Box::new(l))
        }
        types::LIST_QUICKLIST | types::LIST_QUICKLIST_2 => {
            let n = count(r, 2)?;
            let mut nodes = Vec::with_capacity(n);
            for _ in 0..n {
                if t == types::LIST_QUICKLIST {
                    nodes.push(listpack_from_ziplist(r, max)?);
                    continue;
                }
                match r.length()? {
                    CONTAINER_PLAIN => {
                        let mut lp = Listpack::new();
                        lp.push_back(LpItem::Str(&r.string(max)?));
                        nodes.push(lp);
                    }
                    CONTAINER_PACKED => nodes.push(listpack(r, max)?),
                    _ => return Err(ValueError::Corrupt("unknown quicklist node container")),
                }
            }
            Object::List(Box::new(List::from_nodes(nodes, lim.list_fill, lim.list_compress)))
        }
        types::SET => {
            let n = count(r, 1)?;
            let mut members = Vec::with_capacity(n);
            for _ in 0..n {
                members.push(r.string(max)?);
            }
            let s = Set::from_members(members.iter().map(|m| Member::of(m)), lim.set_max_intset);
            if s.len() != n {
                return Err(ValueError::Corrupt("a set member twice"));
            }
            Object::Set(s)
        }
        types::SET_INTSET => {
            let bytes = r.string(max)?;
            let i = Intset::from_bytes(bytes).map_err(|e| ValueError::Corrupt(e.0))?;
            let mut s = Set::from_intset(i);
            if s.len() > lim.set_max_intset {
                // As Redis: an intset longer than `set-max-intset-entries` becomes a table.
                let members: Vec<Vec<u8>> = s.iter().map(|m| m.to_vec()).collect();
                s = Set::from_members(members.iter().map(|m| Member::of(m)), 0);
            }
            Object::Set(s)
        }
        types::ZSET | types::ZSET_2 => {
            let n = count(r, 2)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                let m = r.string(max)?;
                let score = if t == types::ZSET_2 {
                    f64::from_le_bytes(r.fixed()?)
                } else {
                    r.ascii_double()?
                };
                if score.is_nan() {
                    return Err(ValueError::Corrupt("a sorted-set score that is not a number"));
                }
                items.push((m, score));
            }
            items.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
            if has_duplicates(items.iter().map(|(m, _)| m)) {
                return Err(ValueError::Corrupt("a sorted-set member twice"));
            }
            Object::ZSet(ZSet::from_sorted(&items, lim.zset))
        }
        types::ZSET_ZIPLIST | types::ZSET_LISTPACK => {
            let lp = if t == types::ZSET_ZIPLIST {
                listpack_from_ziplist(r, max)?
            } else {
                listpack(r, max)?
            };
            let mut z = ZSet::from_listpack(lp).map_err(ValueError::Corrupt)?;
            if z.len() > lim.zset.entries {
                z.convert_to_large();
            }
            Object::ZSet(z)
        }
        types::HASH => {
            let n = count(r, 2)?;
            let mut h = Hash::new();
            if n > lim.hash.entries {
                h.convert();
            }
            for _ in 0..n {
                let f = r.string(max)?;
                let v = r.string(max)?;
                if !h.set(&f, &v, lim.hash) {
                    return Err(ValueError::Corrupt("a hash field twice"));
                }
            }
            Object::Hash(h)
        }
        types::HASH_ZIPMAP => {
            let bytes = r.string(max)?;
            let pairs = legacy::zipmap_pairs(&bytes).map_err(|e| ValueError::Corrupt(e.0))?;
            let mut h = Hash::new();
            for (f, v) in &pairs {
                if !h.set(f, v, lim.hash) {
                    return Err(ValueError::Corrupt("a hash field twice"));
                }
            }
            Object::Hash(h)
        }
        types::HASH_ZIPLIST | types::HASH_LISTPACK => {
            let lp = if t == types::HASH_ZIPLIST {
                listpack_from_ziplist(r, max)?
            } else {
                listpack(r, max)?
            };
            let mut h = Hash::from_listpack(lp).map_err(ValueError::Corrupt)?;
            if h.len() > lim.hash.entries || h.longest_item() > lim.hash.value {
                h.convert();
            }
            Object::Hash(h)
        }
        types::STREAM_LISTPACKS | types::STREAM_LISTPACKS_2 => {
            Object::Stream(Box::new(read_stream(r, t == types::STREAM_LISTPACKS_2, max)?))
        }
        types::MODULE_PRE_GA | types::MODULE_2 => return Err(ValueError::Module),
        other => return Err(ValueError::UnknownType(other)),
    };
    if obj.is_empty() {
        return Err(ValueError::Empty);
    }
    Ok(NewValue::Obj(obj))
}

fn has_duplicates<'a>(members: impl Iterator<Item = &'a Vec<u8>>) -> bool {
    let mut seen = std::collections::HashSet::new();
    members.into_iter().any(|m| !seen.insert(m.as_slice()))
}

/// A listpack string, validated.
fn listpack(r: &mut Reader<'_>, max: u64) -> Result<Listpack, ValueError> {
    Listpack::from_bytes(r.string(max)?).map_err(|e| ValueError::Corrupt(e.0))
}

/// A ziplist string, validated and turned into a listpack.
fn listpack_from_ziplist(r: &mut Reader<'_>, max: u64) -> Result<Listpack, ValueError> {
    legacy::ziplist_to_listpack(&r.string(max)?).map_err(|e| ValueError::Corrupt(e.0))
}

fn read_id(r: &mut Reader<'_>) -> Result<StreamId, ValueError> {
    Ok(StreamId::new(r.length()?, r.length()?))
}

fn raw_id(r: &mut Reader<'_>) -> Result<StreamId, ValueError> {
    Ok(StreamId::from_be_bytes(r.fixed()?))
}

fn read_stream(r: &mut Reader<'_>, v2: bool, max: u64) -> Result<Stream, ValueError> {
    let n = count(r, 2)?;
    let mut nodes = Vec::with_capacity(n);
    for _ in 0..n {
        let key = r.string(max)?;
        let master: [u8; 16] = key
            .as_slice()
            .try_into()
            .map_err(|_| ValueError::Corrupt("a stream node key that is not 16 bytes"))?;
        let lp = listpack(r, max)?;
        if lp.is_empty() {
            return Err(ValueError::Corrupt("an empty listpack inside a stream"));
        }
        nodes.push((StreamId::from_be_bytes(master), lp));
    }
    let length = r.length()?;
    let last_id = read_id(r)?;
    let (first_id, max_deleted, entries_added) = if v2 {
        (read_id(r)?, read_id(r)?, r.length()?)
    } else {
        (StreamId::MIN, StreamId::MIN, length)
    };
    let mut s = Stream::from_nodes(nodes, length, last_id).map_err(ValueError::Corrupt)?;
    if v2 {
        s.first_id = first_id;
        s.max_deleted_entry_id = max_deleted;
        s.entries_added = entries_added;
    } else {
        s.first_id = s.first_live_id().unwrap_or(StreamId::MIN);
        s.entries_added = length;
    }
    let groups = count(r, 1)?;
    for _ in 0..groups {
        let name = r.string(max)?;
        let last = read_id(r)?;
        let entries_read = if v2 {
            r.length()? as i64
        } else {
            s.estimate_distance(last)
        };
        let mut g = ConsumerGroup::new(last, entries_read.max(INVALID_ENTRIES_READ));
        let pel = count(r, 25)?;
        for _ in 0..pel {
            let id = raw_id(r)?;
            let delivery_time = i64::from_le_bytes(r.fixed()?);
            let delivery_count = r.length()?;
            let nack = Nack {
                delivery_time,
                delivery_count,
                consumer: Arc::from(&b""[..]),
            };
            if g.pel.insert(id, nack).is_some() {
                return Err(ValueError::Corrupt("a stream PEL entry twice"));
            }
        }
        let consumers = count(r, 10)?;
        for _ in 0..consumers {
            let cname = r.string(max)?;
            let seen = i64::from_le_bytes(r.fixed()?);
            let (key, created) = g.consumer_or_create(&cname, seen);
            if !created {
                return Err(ValueError::Corrupt("a stream consumer twice"));
            }
            let owned = count(r, 16)?;
            for _ in 0..owned {
                let id = raw_id(r)?;
                let nack = g.pel.get_mut(&id).ok_or(ValueError::Corrupt(
                    "a consumer's pending entry is not in its group's PEL",
                ))?;
                if !nack.consumer.is_empty() {
                    return Err(ValueError::Corrupt("a pending entry owned by two consumers"));
                }
                nack.consumer = key.clone();
                if let Some(c) = g.consumers.get_mut(&key) {
                    c.pel.insert(id);
                }
            }
        }
        if g.pel.values().any(|n| n.consumer.is_empty()) {
            return Err(ValueError::Corrupt("a group's pending entry without a consumer"));
        }
        if s.groups.insert(name, g).is_some() {
            return Err(ValueError::Corrupt("a consumer group twice"));
        }
    }
    Ok(s)
}
