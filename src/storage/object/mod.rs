//! Collection values (lists, hashes, sets, sorted sets, streams) and their compact encodings.
//!
//! Empty for now: issue 3 adds the variants. Until then every `match` on an `Object` is empty,
//! and no `NewValue::Obj` can be built. Whatever is added must stay `Send + Sync` (entry.rs
//! asserts it) so that values can be freed or serialized off the shard thread.

/// A collection value.
#[derive(Debug)]
pub enum Object {}
