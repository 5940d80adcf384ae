//! The keyspace of one shard: databases of entries with optional expiry.
//!
//! INTERIM: this module is a `HashMap`-backed stand-in exposing the agreed API of the purpose-built table
//! (docs/architecture.md), so the server and command layers can be built and tested while the real table
//! is written. It will be replaced wholesale; nothing here is tuned.

pub mod db;
pub mod expire;
pub mod object;

pub use db::{Db, DbContents, EntryMut, EntryRef, NewValue, Object, OwnedValue, StrEncoding, ValueRef};
