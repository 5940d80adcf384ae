//! The Redis serialization protocol (RESP2 and RESP3), as Redis 7.0 speaks it.
//!
//! - [`request`]: parsing what clients send (multibulk and inline commands), with Redis's limits and
//!   protocol error texts;
//! - [`reply`]: encoding replies for a client's protocol version;
//! - [`value`]: parsing any RESP2/RESP3 value (what a server sends), for clients, tests and tools;
//! - [`num`]: number formatting with C's exact output.
//!
//! This crate knows nothing of keys, commands or the server.

pub mod num;
pub mod reply;
pub mod request;
pub mod value;

pub use reply::{Aggregate, Protocol, ReplyBuf};
pub use request::{Frame, Limits, Parsed, ProtocolError, RequestParser};
pub use value::Value;
