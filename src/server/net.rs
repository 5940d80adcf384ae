//! The network half of the server: the poller, the listening sockets and the client table.
//!
//! `Net` holds no keyspace. That split is what lets a long-running handler (which holds the keyspace)
//! keep the server from going deaf: through the [`Host`] interface it lends `Net` the keyspace back for a
//! moment ([`Host::serve_while_busy`]), and `Net` serves the clients whose requests arrived, through the
//! same gates as always (see docs/architecture.md, "Never deaf").
//!
//! Sockets are registered edge-triggered, so a readable event must be followed by reads until the socket
//! is drained (a short read proves it is). Events that arrive for a client that is executing (taken out of
//! the table) are remembered in `pending` and served when it is put back.

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Write};
use std::time::Duration;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

use super::blocking::{self, BlockSpec, Waiter};
use super::client::{cflags, Client, ClientType, ReplyMode};
use super::core::Core;
use super::listen::open_listeners;
use super::shard::Shard;
use crate::commands::host::{Host, NetStats, Request};

/// Tokens below this are listeners.
pub const LISTENER_TOKENS: usize = 16;
pub const SIGNAL_TOKEN: Token = Token(LISTENER_TOKENS);
/// Client slot `i` has token `CLIENT_BASE + i`.
pub const CLIENT_BASE: usize = LISTENER_TOKENS + 1;

/// Size of one read from a client socket (Redis's PROTO_IOBUF_LEN).
pub const READ_CHUNK: usize = 16 * 1024;

/// A polled event, kept until it is served.
#[derive(Debug, Clone, Copy)]
pub struct Event {
    pub token: Token,
    pub readable: bool,
    pub writable: bool,
}

/// The few settings the network layer enforces on its own (copied from the config when it changes).
#[derive(Debug, Clone)]
pub struct NetSettings {
    pub maxclients: usize,
    pub protected_mode: bool,
    pub requirepass_set: bool,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    pub tcp_keepalive: u64,
    /// `client-output-buffer-limit` of the normal and pub/sub classes.
    pub obuf_normal: crate::config::ObufLimit,
    pub obuf_pubsub: crate::config::ObufLimit,
}

impl NetSettings {
    /// The network layer's copy of its settings.
    pub fn from_config(config: &crate::config::Config) -> NetSettings {
        NetSettings {
            maxclients: config.maxclients as usize,
            protected_mode: config.protected_mode,
            requirepass_set: !config.requirepass.is_empty(),
            proto_max_bulk_len: config.proto_max_bulk_len,
            client_query_buffer_limit: config.client_query_buffer_limit,
            tcp_keepalive: config.tcp_keepalive as u64,
            obuf_normal: config.client_output_buffer_limit.normal,
            obuf_pubsub: config.client_output_buffer_limit.pubsub,
        }
    }

    /// The output-buffer limit of a client class.
    pub fn obuf_limit(&self, kind: ClientType) -> crate::config::ObufLimit {
        match kind {
            ClientType::Pubsub => self.obuf_pubsub,
            _ => self.obuf_normal,
        }
    }
}

/// What a closed client leaves behind in the core's tables.
pub struct Closed {
    pub who: Waiter,
    pub blocked_on: Option<BlockSpec>,
    pub subs: Option<Box<crate::server::pubsub::Subscriptions>>,
}

pub struct Net {
    pub poll: Poll,
    busy_events: Events,
    pub listeners: Vec<TcpListener>,
    pub clients: Vec<Option<Box<Client>>>,
    free: Vec<usize>,
    /// Slots taken out for execution (at most a few: the running client, and clients served by the busy
    /// hook meanwhile).
    executing: Vec<usize>,
    pub connected: usize,
    next_id: u64,
    /// Slots whose input must be (re)processed without waiting for a new readable event: events missed
    /// while the client was executing, input queued while the server slept, clients released from a block.
    pub pending: VecDeque<usize>,
    /// Slots with output produced on their behalf by another client's command (flushed before sleeping).
    pub pending_writes: Vec<usize>,
    /// Clients closed since the loop last looked, with what they were blocked on and subscribed to: the
    /// loop removes them from the blocking and subscription tables and forgets the keys they watched.
    pub closed: Vec<Closed>,
    pub settings: NetSettings,
    /// Shared read buffer: complete requests are executed straight from it.
    pub rbuf: Vec<u8>,
    /// Events polled and not served yet, in order (the event loop's batch, which a busy script's
    /// hook serves the rest of).
    pub ready: VecDeque<Event>,
    /// Clients in MONITOR mode (feeding is skipped when zero).
    pub monitors: usize,
    pub rejected_connections: u64,
    pub total_connections: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub total_reads: u64,
    pub total_writes: u64,
}

impl Net {
    /// Bind the listeners. `bind` entries are Redis's: `*` (all IPv4), `::*` (all IPv6), addresses, and a
    /// leading `-` marks an address that may be unavailable.
    pub fn bind(bind: &[String], port: u16, settings: NetSettings) -> io::Result<Net> {
        let poll = Poll::new()?;
        let mut listeners = open_listeners(bind, port)?;
        for (i, l) in listeners.iter_mut().enumerate() {
            poll.registry().register(l, Token(i), Interest::READABLE)?;
        }
        Ok(Net {
            poll,
            busy_events: Events::with_capacity(256),
            listeners,
            clients: vec![],
            free: vec![],
            executing: vec![],
            connected: 0,
            next_id: 1,
            pending: VecDeque::new(),
            pending_writes: vec![],
            closed: vec![],
            settings,
            rbuf: vec![0; READ_CHUNK],
            ready: VecDeque::new(),
            monitors: 0,
            rejected_connections: 0,
            total_connections: 0,
            net_input_bytes: 0,
            net_output_bytes: 0,
            total_reads: 0,
            total_writes: 0,
        })
    }

    /// Queue a polled batch of events for serving.
    pub fn queue_events(&mut self, events: &Events) {
        self.ready.extend(events.iter().map(|e| Event {
            token: e.token(),
            readable: e.is_readable() || e.is_read_closed(),
            writable: e.is_writable(),
        }));
    }

    /// Replace the listeners with freshly opened ones (CONFIG SET `port`/`bind`).
    pub fn install_listeners(&mut self, mut fresh: Vec<TcpListener>) {
        for l in &mut self.listeners {
            let _ = self.poll.registry().deregister(l);
        }
        fresh.truncate(LISTENER_TOKENS);
        for (i, l) in fresh.iter_mut().enumerate() {
            if let Err(e) = self.poll.registry().register(l, Token(i), Interest::READABLE) {
                crate::log_warning!("Registering a listening socket: {e}");
            }
        }
        self.listeners = fresh;
    }

    /// Queue every client suspended by CLIENT PAUSE for re-processing, oldest first. Those whose command
    /// is still paused block again when it runs.
    pub fn release_paused(&mut self) {
        let mut slots: Vec<(u64, usize)> = self
            .iter()
            .filter(|c| matches!(c.blocked, Some(ref b) if b.reason == super::client::BlockReason::Pause))
            .map(|c| (c.id, c.slot))
            .collect();
        slots.sort_unstable();
        for (_, slot) in slots {
            if let Some(Some(c)) = self.clients.get_mut(slot) {
                c.blocked = None;
                c.flags |= cflags::PENDING_REPROCESS;
                self.pending.push_back(slot);
            }
        }
    }

    /// Zero the counters INFO reports (CONFIG RESETSTAT).
    pub fn reset_stats(&mut self) {
        self.rejected_connections = 0;
        self.total_connections = 0;
        self.net_input_bytes = 0;
        self.net_output_bytes = 0;
        self.total_reads = 0;
        self.total_writes = 0;
    }

    /// Close a client that is not executing (CLIENT KILL of another connection, idle timeout).
    pub fn kill(&mut self, slot: usize) {
        if let Some(c) = self.take(slot) {
            self.close(c);
        }
    }

    /// Schedule a client's output for the end of the loop iteration (once, however often it is asked).
    pub fn queue_write(&mut self, c: &mut Client) {
        queue_write_to(&mut self.pending_writes, c);
    }

    /// Schedule the output of the client in `slot` (see `queue_write`).
    pub fn queue_write_slot(&mut self, slot: usize) {
        if let Some(Some(c)) = self.clients.get_mut(slot) {
            queue_write_to(&mut self.pending_writes, c);
        }
    }

    /// Append `bytes` to the output of every MONITOR client but `except` (the executing client, which
    /// the caller feeds itself) and schedule their writes.
    pub fn feed_monitors(&mut self, bytes: &[u8], except: u64) {
        for c in self.clients.iter_mut().flatten() {
            if c.has(cflags::MONITOR) && c.id != except && c.reply_mode == super::client::ReplyMode::On {
                c.out.raw(bytes);
                queue_write_to(&mut self.pending_writes, c);
            }
        }
    }

    /// Write queued pub/sub messages into their receivers' output. A receiver that goes over its
    /// output-buffer limit is marked to be closed at once and gets nothing more (a slow subscriber
    /// cannot make the server hold an unbounded backlog for it). Receivers no longer here (closed, or
    /// executing in the busy path) are skipped.
    pub fn deliver(&mut self, outbox: crate::server::pubsub::Outbox, now_ms: i64) -> u64 {
        let mut disconnected = 0;
        for (w, i) in outbox.deliveries {
            let Some(Some(c)) = self.clients.get_mut(w.slot) else {
                continue;
            };
            if c.id != w.id || c.has(cflags::CLOSE_ASAP) {
                continue;
            }
            outbox.pushes[i].write_to(&mut c.out);
            queue_write_to(&mut self.pending_writes, c);
            let limit = self.settings.obuf_limit(c.kind());
            if over_limit(limit, c, now_ms) {
                log_output_limit(c, now_ms);
                c.flags |= cflags::CLOSE_ASAP;
                disconnected += 1;
            }
        }
        disconnected
    }

    /// Whether `c` went over its `client-output-buffer-limit` (Redis's checkClientOutputBufferLimits):
    /// the hard limit at once, the soft one once it has been exceeded for longer than its seconds.
    pub fn over_output_limit(&self, c: &mut Client, now_ms: i64) -> bool {
        over_limit(self.settings.obuf_limit(c.kind()), c, now_ms)
    }
}

/// The warning Redis logs when it closes a client for its output buffer.
pub fn log_output_limit(c: &Client, now_ms: i64) {
    crate::log_warning!(
        "Client {} scheduled to be closed ASAP for overcoming of output buffer limits.",
        c.info_line(now_ms, 0, false, None)
    );
}

/// Whether `c` is over `limit`; tracks how long it has been over the soft limit.
fn over_limit(limit: crate::config::ObufLimit, c: &mut Client, now_ms: i64) -> bool {
    let used = c.reply_list_bytes() as u64;
    let hard = limit.hard_bytes > 0 && used >= limit.hard_bytes;
    let mut soft = limit.soft_bytes > 0 && used >= limit.soft_bytes;
    if soft {
        if c.obuf_soft_since_ms == 0 {
            c.obuf_soft_since_ms = now_ms;
            soft = false;
        } else if (now_ms - c.obuf_soft_since_ms) / 1000 <= limit.soft_seconds {
            soft = false;
        }
    } else {
        c.obuf_soft_since_ms = 0;
    }
    hard || soft
}

impl Net {
    /// Accept every waiting connection on listener `idx`.
    pub fn accept_all(&mut self, idx: usize, now_ms: i64) {
        loop {
            let (mut stream, peer) = match self.listeners[idx].accept() {
                Ok(x) => x,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    crate::log_warning!("Accepting client connection: {e}");
                    return;
                }
            };
            self.total_connections += 1;
            let _ = stream.set_nodelay(true);
            if self.settings.tcp_keepalive > 0 {
                set_keepalive(&stream, self.settings.tcp_keepalive);
            }
            if self.connected >= self.settings.maxclients {
                let _ = stream.write(b"-ERR max number of clients reached\r\n");
                self.rejected_connections += 1;
                crate::log_verbose!("Error registering fd event for the new client: max number of clients reached");
                continue;
            }
            if self.settings.protected_mode && !self.settings.requirepass_set && !peer.ip().is_loopback() {
                let _ = stream.write(PROTECTED_MODE_DENIED);
                self.rejected_connections += 1;
                continue;
            }
            let slot = match self.free.pop() {
                Some(s) => s,
                None => {
                    self.clients.push(None);
                    self.clients.len() - 1
                }
            };
            if let Err(e) = self
                .poll
                .registry()
                .register(&mut stream, Token(CLIENT_BASE + slot), Interest::READABLE)
            {
                crate::log_warning!("Error registering fd event for the new client: {e}");
                self.free.push(slot);
                continue;
            }
            let id = self.next_id;
            self.next_id += 1;
            let mut c = Box::new(Client::new(id, slot, Some(stream), now_ms));
            c.authenticated = !self.settings.requirepass_set;
            crate::log_verbose!("Accepted {}", c.addr);
            self.clients[slot] = Some(c);
            self.connected += 1;
        }
    }

    /// Take a client out of the table to execute it. `None` if the slot is empty or the client is already
    /// executing (then the event is remembered).
    pub fn take(&mut self, slot: usize) -> Option<Box<Client>> {
        match self.clients.get_mut(slot) {
            Some(entry @ Some(_)) => {
                self.executing.push(slot);
                entry.take()
            }
            Some(None) if self.executing.contains(&slot) => {
                self.pending.push_back(slot);
                None
            }
            _ => None,
        }
    }

    /// Put an executing client back (or close it if it asked to be closed and nothing remains to write).
    pub fn restore(&mut self, c: Box<Client>) {
        let slot = c.slot;
        if let Some(i) = self.executing.iter().rposition(|&s| s == slot) {
            self.executing.swap_remove(i);
        }
        if c.has(cflags::CLOSE_ASAP) || (c.has(cflags::CLOSE_AFTER_REPLY) && c.pending_output() == 0) {
            self.close(c);
            return;
        }
        self.clients[slot] = Some(c);
    }

    /// Close a client's connection and free its slot.
    pub fn close(&mut self, mut c: Box<Client>) {
        self.closed.push(Closed {
            who: Waiter { id: c.id, slot: c.slot },
            blocked_on: c.blocked.as_ref().and_then(|b| b.on_keys()).cloned(),
            subs: c.subs.take(),
        });
        if let Some(i) = self.executing.iter().rposition(|&s| s == c.slot) {
            self.executing.swap_remove(i);
        }
        if let Some(mut s) = c.stream.take() {
            let _ = self.poll.registry().deregister(&mut s);
        }
        if c.has(cflags::MONITOR) {
            self.monitors = self.monitors.saturating_sub(1);
        }
        crate::log_verbose!("Client closed connection id={} addr={}", c.id, c.addr);
        self.clients[c.slot] = None;
        self.free.push(c.slot);
        self.connected -= 1;
    }

    /// Read what the socket has into `dst`, appending. Returns the bytes read (`0` at EOF) and whether the
    /// read filled all the room it had (if not, the socket is drained).
    pub fn read_into(&mut self, c: &mut Client, dst: &mut Vec<u8>, want: usize) -> io::Result<(usize, bool)> {
        let Some(stream) = c.stream.as_ref() else {
            return Ok((0, false));
        };
        dst.reserve(want);
        let spare = dst.spare_capacity_mut();
        let n = loop {
            use std::os::fd::AsRawFd;
            // SAFETY: read(2) writes at most `spare.len()` bytes into the vector's spare capacity, which
            // we own; only the bytes it reports are then marked initialised.
            let r = unsafe { libc::read(stream.as_raw_fd(), spare.as_mut_ptr() as *mut libc::c_void, spare.len()) };
            if r >= 0 {
                break r as usize;
            }
            let e = io::Error::last_os_error();
            if e.kind() != ErrorKind::Interrupted {
                return Err(e);
            }
        };
        let room = spare.len();
        // SAFETY: the kernel initialised `n` bytes after the current length.
        unsafe { dst.set_len(dst.len() + n) };
        self.total_reads += 1;
        self.net_input_bytes += n as u64;
        c.net_in += n as u64;
        Ok((n, n == room))
    }

    /// Write as much pending output as the socket takes. `Err` means the connection is broken.
    pub fn write(&mut self, c: &mut Client) -> io::Result<()> {
        let Some(stream) = c.stream.as_mut() else {
            c.out.buf.clear();
            c.sent = 0;
            return Ok(());
        };
        while c.sent < c.out.buf.len() {
            match stream.write(&c.out.buf[c.sent..]) {
                Ok(0) => return Err(io::Error::new(ErrorKind::WriteZero, "write returned 0")),
                Ok(n) => {
                    c.sent += n;
                    self.net_output_bytes += n as u64;
                    c.net_out += n as u64;
                    self.total_writes += 1;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if !c.write_registered {
                        self.poll.registry().reregister(
                            stream,
                            Token(CLIENT_BASE + c.slot),
                            Interest::READABLE | Interest::WRITABLE,
                        )?;
                        c.write_registered = true;
                    }
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
        c.out.buf.clear();
        c.sent = 0;
        // Do not keep a large buffer around for an idle client.
        if c.out.buf.capacity() > 64 * 1024 {
            c.out.buf = Vec::new();
        }
        if c.write_registered {
            self.poll
                .registry()
                .reregister(stream, Token(CLIENT_BASE + c.slot), Interest::READABLE)?;
            c.write_registered = false;
        }
        Ok(())
    }

    /// Iterate over every connected client not currently executing.
    pub fn iter(&self) -> impl Iterator<Item = &Client> {
        self.clients.iter().filter_map(|c| c.as_deref())
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Client> {
        self.clients.iter_mut().filter_map(|c| c.as_deref_mut())
    }

    /// The slot of a connected client that is not executing, by id.
    fn slot_of(&self, id: u64) -> Option<usize> {
        self.iter().find(|c| c.id == id).map(|c| c.slot)
    }

    /// End a blocked client's wait without serving it (CLIENT UNBLOCK): its command's timeout reply, or
    /// the `UNBLOCKED` error.
    fn unblock(&mut self, core: &mut Core, id: u64, error: bool) {
        let Some(mut c) = self.slot_of(id).and_then(|s| self.take(s)) else {
            return;
        };
        let Some(on_timeout) = c.blocked.as_ref().and_then(|b| b.on_keys()).map(|s| s.on_timeout) else {
            self.restore(c);
            return;
        };
        if error {
            if c.reply_mode == ReplyMode::On {
                c.out.error(crate::error::UNBLOCKED);
            }
            core.count_error(crate::error::UNBLOCKED);
        } else {
            blocking::write_timeout_reply(&mut c, on_timeout);
        }
        let max_bulk = core.config.proto_max_bulk_len;
        blocking::release_unserved(&mut core.blocking, &mut self.pending, &mut c, max_bulk);
        self.queue_write(&mut c);
        self.restore(c);
    }
}

impl Host for Net {
    fn clients(&self) -> Box<dyn Iterator<Item = &Client> + '_> {
        Box::new(self.iter())
    }

    fn stats(&self) -> NetStats {
        NetStats {
            connected: self.connected,
            total_connections: self.total_connections,
            rejected_connections: self.rejected_connections,
            net_input_bytes: self.net_input_bytes,
            net_output_bytes: self.net_output_bytes,
            total_reads: self.total_reads,
            total_writes: self.total_writes,
            tcp_port: self
                .listeners
                .first()
                .and_then(|l| l.local_addr().ok())
                .map(|a| a.port()),
        }
    }

    fn carry_out(&mut self, core: &mut Core, request: Request) {
        match request {
            Request::Kill(ids) => {
                for id in ids {
                    if let Some(slot) = self.slot_of(id) {
                        self.kill(slot);
                    }
                }
            }
            Request::Unblock { id, error } => self.unblock(core, id, error),
            Request::ReleasePaused => self.release_paused(),
            Request::Listen(listeners) => self.install_listeners(listeners),
            Request::Reconfigure => self.settings = NetSettings::from_config(&core.config),
            Request::ResetStats => self.reset_stats(),
            Request::Monitor(true) => self.monitors += 1,
            Request::Monitor(false) => self.monitors = self.monitors.saturating_sub(1),
        }
    }

    fn has_monitors(&self) -> bool {
        self.monitors > 0
    }

    fn feed_monitors(&mut self, line: &[u8], except: u64) {
        Net::feed_monitors(self, line, except);
    }

    fn serve_while_busy(&mut self, core: &mut Core, timeout: Duration) {
        let mut events = std::mem::replace(&mut self.busy_events, Events::with_capacity(0));
        // What the event loop polled before the script started, first; then what arrived since.
        let wait = if self.ready.is_empty() { timeout } else { Duration::ZERO };
        if let Err(e) = self.poll.poll(&mut events, Some(wait)) {
            if e.kind() != ErrorKind::Interrupted {
                crate::log_warning!("poll failed while busy: {e}");
            }
        }
        self.queue_events(&events);
        self.busy_events = events;
        core.update_time();
        // The running command is set aside: what is served now runs as outermost calls of its own.
        let exec = core.exec.suspend();
        let effects = core.journal.suspend();
        let mut shard = Shard { core, net: self };
        while let Some(ev) = shard.net.ready.pop_front() {
            shard.serve_event(ev);
        }
        shard.flush_pending_writes();
        core.journal.resume(effects);
        core.exec.resume(exec);
    }
}

fn set_keepalive(stream: &TcpStream, interval: u64) {
    use std::os::fd::AsRawFd;
    let fd = stream.as_raw_fd();
    let set = |level, opt, val: libc::c_int| {
        // SAFETY: setsockopt on a descriptor we own with a properly sized int.
        unsafe {
            libc::setsockopt(
                fd,
                level,
                opt,
                &val as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
    };
    // Redis's anetKeepAlive: probe after `interval` idle seconds, then every interval/3, 3 probes.
    let interval = interval.min(i32::MAX as u64) as libc::c_int;
    set(libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1);
    set(libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, interval);
    set(libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, (interval / 3).max(1));
    set(libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 3);
}

const PROTECTED_MODE_DENIED: &[u8] = b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// `Net::queue_write` for callers that hold the client list borrowed.
fn queue_write_to(pending_writes: &mut Vec<usize>, c: &mut Client) {
    if !c.has(cflags::WRITE_QUEUED) {
        c.flags |= cflags::WRITE_QUEUED;
        pending_writes.push(c.slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, ObufLimit};

    fn net_with_limit(limit: ObufLimit) -> Net {
        let mut settings = NetSettings::from_config(&Config::default());
        settings.obuf_normal = limit;
        Net::bind(&[], 0, settings).expect("poller")
    }

    fn client_with_output(bytes: usize) -> Client {
        let mut c = Client::new(1, 0, None, 0);
        c.out.raw(&vec![b'x'; bytes]);
        c
    }

    #[test]
    fn hard_limit_counts_only_the_reply_list() {
        let net = net_with_limit(ObufLimit {
            hard_bytes: 1000,
            soft_bytes: 0,
            soft_seconds: 0,
        });
        // Output that fits the fixed reply buffer is not counted, as in Redis.
        assert!(!net.over_output_limit(&mut client_with_output(16 * 1024), 0));
        assert!(!net.over_output_limit(&mut client_with_output(16 * 1024 + 999), 0));
        assert!(net.over_output_limit(&mut client_with_output(16 * 1024 + 1000), 0));
    }

    #[test]
    fn soft_limit_needs_to_last_longer_than_its_seconds() {
        let net = net_with_limit(ObufLimit {
            hard_bytes: 0,
            soft_bytes: 100,
            soft_seconds: 2,
        });
        let mut c = client_with_output(16 * 1024 + 200);
        assert!(
            !net.over_output_limit(&mut c, 10_000),
            "first time over: the clock starts"
        );
        assert!(
            !net.over_output_limit(&mut c, 12_000),
            "two seconds is not more than two"
        );
        assert!(net.over_output_limit(&mut c, 13_000));
        // Going back under the limit resets the clock.
        let mut c = client_with_output(16 * 1024 + 200);
        assert!(!net.over_output_limit(&mut c, 10_000));
        c.out.buf.truncate(10);
        assert!(!net.over_output_limit(&mut c, 11_000));
        c.out.raw(&vec![b'x'; 16 * 1024 + 200]);
        assert!(!net.over_output_limit(&mut c, 14_000));
    }
}
