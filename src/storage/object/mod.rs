//! Values other than strings, and their encodings.
//!
//! Each collection type lives in its own module and chooses among encodings the way Redis 7.0 does,
//! promoting at Redis's thresholds (`hash-max-listpack-*`, `set-max-intset-entries`,
//! `zset-max-listpack-*`, `list-max-listpack-size`), and reports Redis's `OBJECT ENCODING` name. The
//! compact encodings keep Redis's byte formats exactly (listpack, intset), so RDB files hold them as
//! copies.
//!
//! Every variant must stay `Send + Sync` (entry.rs asserts it) so values can be freed or serialized off
//! the shard thread.
//!
//! What every type provides, for the generic commands (TYPE, OBJECT, COPY, lazy freeing, MEMORY USAGE,
//! DEBUG DIGEST): `type_name`, `encoding`, `len`, `free_effort`, `mem_usage`, and `Clone`.

pub mod hash;
pub mod intset;
pub mod list;
pub mod listpack;
pub mod set;
pub mod stream;
pub mod zset;

/// A collection value.
#[derive(Debug, Clone)]
pub enum Object {
    /// Boxed: the quicklist header is the largest variant, and boxing it keeps every `Object` (which
    /// lives inside its key's entry) small. A list already owns several allocations.
    List(Box<list::List>),
    Hash(hash::Hash),
    Set(set::Set),
    ZSet(zset::ZSet),
    /// Boxed for the same reason as lists: the stream header (metadata, nodes, groups) is large.
    Stream(Box<stream::Stream>),
}

impl Object {
    /// The name `TYPE` reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Object::List(_) => "list",
            Object::Hash(_) => "hash",
            Object::Set(_) => "set",
            Object::ZSet(_) => "zset",
            Object::Stream(_) => "stream",
        }
    }

    /// The name `OBJECT ENCODING` reports (Redis 7.0's).
    pub fn encoding(&self) -> &'static str {
        match self {
            Object::List(l) => l.encoding(),
            Object::Hash(h) => h.encoding(),
            Object::Set(s) => s.encoding(),
            Object::ZSet(z) => z.encoding(),
            Object::Stream(s) => s.encoding(),
        }
    }

    /// Number of elements (fields for a hash, entries for a stream).
    pub fn len(&self) -> usize {
        match self {
            Object::List(l) => l.len(),
            Object::Hash(h) => h.len(),
            Object::Set(s) => s.len(),
            Object::ZSet(z) => z.len(),
            Object::Stream(s) => s.len() as usize,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Redis's lazy-free "effort": roughly the number of allocations freeing the value costs. Values
    /// above 64 are freed on the background thread.
    pub fn free_effort(&self) -> usize {
        match self {
            Object::List(l) => l.free_effort(),
            Object::Hash(h) => h.free_effort(),
            Object::Set(s) => s.free_effort(),
            Object::ZSet(z) => z.free_effort(),
            Object::Stream(s) => s.free_effort(),
        }
    }

    /// Bytes the value allocates beyond its own `size_of::<Object>()` bytes, which live inside its
    /// key's entry (MEMORY USAGE adds the entry's allocation).
    pub fn mem_usage(&self) -> usize {
        match self {
            Object::List(l) => l.mem_usage(),
            Object::Hash(h) => h.mem_usage(),
            Object::Set(s) => s.mem_usage(),
            Object::ZSet(z) => z.mem_usage(),
            Object::Stream(s) => s.mem_usage(),
        }
    }
}

// An `Object` lives inside its key's entry (storage/entry.rs), so its size is paid by every
// collection key: keep it at 32 bytes (a small hash or intset then costs less than in Redis).
const _: () = assert!(std::mem::size_of::<Object>() <= 32);
