//! Commands: the table, dispatch, and the handlers.
//!
//! A handler is `fn(&mut Ctx, &Args, &mut ReplyBuf) -> CmdResult`. It parses and validates every argument
//! before touching data, so an error leaves nothing half-done, and writes its reply into `out` (nothing is
//! written when it returns an error: the dispatcher writes the error line). Handlers never do I/O; data is
//! reached through `ctx`, whose keyspace view applies lazy expiry, counts hits and misses, bumps the dirty
//! counter and feeds the journal.

pub mod args;
pub mod dispatch;
pub mod getkeys;
pub mod host;
pub mod keyspace;
pub mod spec;
pub mod table;

pub mod client;
pub mod config_cmd;
pub mod connection;
pub mod debug;
pub mod dump;
pub mod functions;
pub mod hash;
pub mod hll;
pub mod info;
pub mod introspection;
pub mod keys;
pub mod list;
pub mod locks;
pub mod pubsub;
pub mod scripting;
pub mod server;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
pub mod transactions;
pub mod zset;

use resp::ReplyBuf;

pub use args::{Args, OwnedArgs};
pub use keyspace::DbView;
pub use spec::Command;
pub use table::Lookup;

use crate::error::CmdResult;
use crate::server::blocking::BlockSpec;
use crate::server::client::Client;
use crate::server::core::Core;
use dispatch::Caller;
use host::{DynHost, Request};

/// A command handler.
pub type Handler = fn(&mut Ctx<'_>, &Args<'_>, &mut ReplyBuf) -> CmdResult;

/// What a handler can reach: the shard's data (`core`), the client running the command, and, when the
/// command comes from a connection, the server as a [`host::Host`] (other clients' state, the network lent to a
/// busy script). A handler never does I/O itself: see `host.rs`.
pub struct Ctx<'a> {
    pub core: &'a mut Core,
    pub client: &'a mut Client,
    pub host: Option<&'a mut DynHost>,
    pub cmd: &'static Command,
}

impl<'a> Ctx<'a> {
    /// The client's selected database, with Redis's access policy (lazy expiry, stats, journal).
    pub fn db(&mut self) -> DbView<'_> {
        let index = self.client.db;
        self.core.db_view(index)
    }

    /// Another database, by index (MOVE, SWAPDB, COPY ... DB).
    pub fn db_at(&mut self, index: usize) -> DbView<'_> {
        self.core.db_view(index)
    }

    #[inline]
    pub fn now_ms(&self) -> i64 {
        self.core.now_ms
    }

    /// Suspend the client until one of `spec.keys` holds `spec.wait`'s type, or the deadline passes. The
    /// handler writes no reply; the request runs again when a key is ready (see `server::blocking`). A
    /// client that is already blocked (this is a re-run that found nothing) keeps its place in line and
    /// its deadline.
    pub fn block_on_keys(&mut self, spec: BlockSpec) {
        self.client.block_request = Some(spec);
    }

    /// Whether the command may block: only when a connection calls it directly. Inside MULTI, a script or
    /// a replay Redis answers as if the wait had timed out at once.
    pub fn can_block(&self) -> bool {
        self.core.exec.caller() == Caller::Client
    }

    /// Ask the server for something that needs the network; it is carried out when the handler returns.
    pub fn request(&mut self, r: Request) {
        self.core.requests.push(r);
    }

    /// Every client connected to the server (the executing one included), sorted by id, i.e. by
    /// connection order. Without a host (a test harness, a replay) only the executing client.
    pub fn all_clients(&self) -> Vec<&Client> {
        let mut v: Vec<&Client> = vec![&*self.client];
        if let Some(h) = self.host.as_deref() {
            v.extend(h.clients());
        }
        v.sort_by_key(|c| c.id);
        v
    }

    /// A blocking command's timeout argument as an absolute deadline (`None`: wait forever). It counts
    /// from the clock read now, as Redis reads `mstime()`: the loop's cached time can be a whole
    /// iteration old, which would end the wait early.
    pub fn block_deadline(&self, arg: &[u8]) -> Result<Option<i64>, crate::error::CmdError> {
        crate::server::blocking::parse_timeout(arg, self.core.clock_now_us() / 1000)
    }

    /// During a re-run for a blocked client: the key that became ready (Redis 7.0 serves from that key).
    pub fn serving_key(&self) -> Option<&[u8]> {
        self.client.serving_key.as_deref()
    }
}
