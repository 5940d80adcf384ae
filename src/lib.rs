//! Ferrite: a Redis-compatible in-memory data store.
//!
//! The request path, for one shard:
//! 1. `server::Server::run` polls the sockets (`server::net`), reads what a client sent into a shared
//!    buffer and parses every complete request (`resp::request`).
//! 2. `commands::dispatch::execute` looks the command up in the one table (`commands::table`), applies
//!    the gates in Redis 7.0's order and calls the handler.
//! 3. The handler reaches the data through `commands::Ctx`, whose `DbView` applies lazy expiry and counts
//!    hits, misses and changes, over the purpose-built table in `storage`.
//! 4. The handler writes its reply into the client's `resp::ReplyBuf`; the journal records the effect of
//!    a write when something consumes it (`journal`).
//! 5. The loop writes the client's replies with one `write`, then runs the cron (active expiry, rehash,
//!    timeouts) when due.

pub mod clock;
pub mod commands;
pub mod config;
pub mod error;
pub mod journal;
pub mod memory;
pub mod persistence;
pub mod scripting;
pub mod server;
pub mod storage;
#[doc(hidden)]
pub mod testing;
pub mod util;
