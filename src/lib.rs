//! Ferrite: a Redis-compatible in-memory data store.

pub mod storage;
