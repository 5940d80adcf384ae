//! The keyspace storage engine: a pure data structure layer. No sockets, no journal, no clock of
//! its own (calls that need the time take `now_ms`); expiry policy belongs to the caller.
//!
//! - `entry`: one key + value + metadata in one allocation (all of the keyspace table's `unsafe`;
//!   the collection encodings under `object` hold their own, each module stating its invariants);
//! - `buckets`: segmented bucket arrays (allocated on write, freed segment by segment);
//! - `table`: chained hash table with Redis's incremental rehash, reverse-binary SCAN, sampling;
//! - `volatile`: dense index of the keys that have a TTL;
//! - `db`: a database (table + volatile index) and the public entry handles;
//! - `expire`: the active expiry cycle;
//! - `object`: collection values.
//!
//! docs/storage.md has the design, the layout and the measured figures.

mod buckets;
mod db;
mod entry;
pub mod expire;
pub mod object;
mod table;
mod volatile;

#[cfg(test)]
mod model_tests;

pub use db::{Db, DbContents, EntryMut, EntryRef};
pub use entry::{NewValue, OwnedValue, StrEncoding, ValueRef, EMBSTR_MAX, LRU_MASK};
pub use expire::{expire_cycle, CycleStats, ExpireParams};
pub use object::Object;
pub use table::EntryWriter;
