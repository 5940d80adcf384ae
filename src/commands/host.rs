//! What a handler may ask of the server beyond the keyspace and its own client.
//!
//! Handlers never do I/O. The same handler runs for a connection, inside EXEC, inside a script, during
//! AOF replay and for a replica applying its master's stream, so it sees only its client's state and the
//! keyspace. Two things reach further:
//! - Reading other connections' state (CLIENT LIST, INFO clients/stats, MEMORY STATS) goes through
//!   [`Host`], which a handler has only when its command comes from a connection (`Ctx::host`).
//! - What needs the network (closing other connections, releasing paused clients, installing new
//!   listeners) is a [`Request`] the handler queues with `Ctx::request`; the dispatcher
//!   hands it to the host right after the handler returns (`dispatch::call`), so a request made inside
//!   EXEC is carried out before the transaction's next command, as Redis would have done it inline.
//!   Without a host (AOF replay, a test harness) requests are dropped: nothing there has a network.
//!
//! The host also lends the network to a long-running handler: a script past `busy-reply-threshold`
//! calls [`Host::serve_while_busy`] so that other clients get `-BUSY` instead of silence.

use std::time::Duration;

use crate::server::client::Client;
use crate::server::core::Core;

/// Something a handler asks the server to do once it returns.
#[derive(Debug)]
pub enum Request {
    /// Close these connections (CLIENT KILL), by client id.
    Kill(Vec<u64>),
    /// End the wait of a client blocked on keys (CLIENT UNBLOCK): its timeout reply, or an
    /// `UNBLOCKED` error.
    Unblock { id: u64, error: bool },
    /// Re-run the clients suspended by CLIENT PAUSE (the pause changed or ended).
    ReleasePaused,
    /// Replace the listening sockets (CONFIG SET port/bind); they were opened by the handler, which
    /// could then report a failure as its reply.
    Listen(Vec<mio::net::TcpListener>),
    /// The configuration changed: refresh the network layer's copy of its settings.
    Reconfigure,
    /// Zero the network counters (CONFIG RESETSTAT).
    ResetStats,
    /// The executing client entered (true) or left (false) MONITOR mode.
    Monitor(bool),
}

/// A shutdown asked for by SHUTDOWN or a signal (`Core::shutdown`; the event loop, and a busy
/// script's hook, act on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShutdownRequest {
    pub nosave: bool,
    pub save: bool,
    pub now: bool,
    pub force: bool,
    pub signal: Option<i32>,
    /// "User requested shutdown..." was already logged (by a SHUTDOWN that tried to save first).
    pub announced: bool,
}

/// SHUTDOWN's options, as parsed from its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShutdownArgs {
    pub request: ShutdownRequest,
    pub abort: bool,
}

impl ShutdownRequest {
    /// Parse SHUTDOWN's arguments (after the command name): `None` for an unknown word or a contradiction
    /// (NOSAVE with SAVE, ABORT with anything else), which Redis answers with a syntax error.
    pub fn parse<'a>(args: impl IntoIterator<Item = &'a [u8]>) -> Option<ShutdownArgs> {
        let mut out = ShutdownArgs::default();
        let r = &mut out.request;
        for a in args {
            match a.to_ascii_lowercase().as_slice() {
                b"nosave" => r.nosave = true,
                b"save" => r.save = true,
                b"now" => r.now = true,
                b"force" => r.force = true,
                b"abort" => out.abort = true,
                _ => return None,
            }
        }
        let r = out.request;
        if (r.nosave && r.save) || (out.abort && (r.nosave || r.save || r.now || r.force)) {
            return None;
        }
        Some(out)
    }
}

/// The network counters INFO reports.
#[derive(Debug, Clone, Copy, Default)]
pub struct NetStats {
    pub connected: usize,
    pub total_connections: u64,
    pub rejected_connections: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub total_reads: u64,
    pub total_writes: u64,
    /// The port the first listener is bound to (differs from the config's when it was 0).
    pub tcp_port: Option<u16>,
}

/// The host as handlers hold it (the network layer lives as long as the server).
pub type DynHost = dyn Host + 'static;

/// The server as a handler sees it (implemented by the network layer).
pub trait Host {
    /// Every connected client not executing right now (the executing one is the handler's own).
    fn clients(&self) -> Box<dyn Iterator<Item = &Client> + '_>;

    fn stats(&self) -> NetStats;

    /// Carry out a handler's request.
    fn carry_out(&mut self, core: &mut Core, request: Request);

    /// Whether any client is in MONITOR mode (feeding is skipped otherwise).
    fn has_monitors(&self) -> bool;

    /// Send one MONITOR line to every monitor but the client `except` (the executing one, fed by the
    /// caller so that it sees the line after its own reply).
    fn feed_monitors(&mut self, line: &[u8], except: u64);

    /// Poll the network once, for at most `timeout`, and serve what arrived while the keyspace is busy:
    /// every request goes through the same gates as always, which answer `-BUSY` (or `-LOADING`) to
    /// all but the commands allowed then.
    fn serve_while_busy(&mut self, core: &mut Core, timeout: Duration);
}
