//! Ferrite: a Redis-compatible in-memory data store.
