//! The network half of the server: the poller, the listening sockets and the client table.
//!
//! `Net` never touches the keyspace. That split is what lets a long-running handler (which holds the
//! keyspace) keep the server from going deaf: it calls [`Net::serve_while_busy`], which polls, accepts,
//! reads and answers with only `&mut Net` (see docs/architecture.md, "Never deaf").
//!
//! Sockets are registered edge-triggered, so a readable event must be followed by reads until the socket
//! is drained (a short read proves it is). Events that arrive for a client that is executing (taken out of
//! the table) are remembered in `pending` and served when it is put back.

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Write};
use std::net::SocketAddr;
use std::time::Duration;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use resp::{Frame, Limits, Parsed, RequestParser};

use super::blocking::{BlockSpec, Waiter};
use super::client::{cflags, Client};
use crate::commands::{table, Lookup};

/// Tokens below this are listeners.
pub const LISTENER_TOKENS: usize = 16;
pub const SIGNAL_TOKEN: Token = Token(LISTENER_TOKENS);
/// Client slot `i` has token `CLIENT_BASE + i`.
pub const CLIENT_BASE: usize = LISTENER_TOKENS + 1;

/// Size of one read from a client socket (Redis's PROTO_IOBUF_LEN).
pub const READ_CHUNK: usize = 16 * 1024;

/// What a busy server is doing, which decides how it answers meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusyMode {
    /// `DEBUG SLEEP`: Redis is deaf, so commands stay queued; only `SHUTDOWN NOSAVE` gets through.
    Sleep,
    /// A long script: `-BUSY`, except commands flagged `allow_busy`.
    Script,
    /// Loading a dataset: `-LOADING`, except commands flagged `allow_busy`.
    Loading,
}

/// A shutdown asked for while the keyspace was busy, or by a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// A plain request (signals, tests).
    pub fn plain() -> ShutdownRequest {
        ShutdownRequest {
            nosave: false,
            save: false,
            now: false,
            force: false,
            signal: None,
            announced: false,
        }
    }

    /// Parse SHUTDOWN's arguments (after the command name): `None` for an unknown word or a contradiction
    /// (NOSAVE with SAVE, ABORT with anything else), which Redis answers with a syntax error.
    pub fn parse<'a>(args: impl IntoIterator<Item = &'a [u8]>) -> Option<ShutdownArgs> {
        let mut out = ShutdownArgs {
            request: ShutdownRequest::plain(),
            abort: false,
        };
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

impl Default for ShutdownRequest {
    fn default() -> Self {
        ShutdownRequest::plain()
    }
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
    /// `client-output-buffer-limit` of the normal class.
    pub obuf_normal: crate::config::ObufLimit,
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
        }
    }
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
    /// Clients closed while blocked on keys, for the loop to remove from the blocking table.
    pub closed_blocked: Vec<(Waiter, BlockSpec)>,
    pub settings: NetSettings,
    pub shutdown: Option<ShutdownRequest>,
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
            closed_blocked: vec![],
            settings,
            shutdown: None,
            monitors: 0,
            rejected_connections: 0,
            total_connections: 0,
            net_input_bytes: 0,
            net_output_bytes: 0,
            total_reads: 0,
            total_writes: 0,
        })
    }

    /// Replace the listeners (CONFIG SET `port`/`bind`). On error the old listeners stay in place.
    pub fn rebind(&mut self, bind: &[String], port: u16) -> io::Result<()> {
        let mut fresh = open_listeners(bind, port)?;
        for l in &mut self.listeners {
            let _ = self.poll.registry().deregister(l);
        }
        for (i, l) in fresh.iter_mut().enumerate() {
            self.poll.registry().register(l, Token(i), Interest::READABLE)?;
        }
        self.listeners = fresh;
        Ok(())
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

    /// Whether `c` went over its `client-output-buffer-limit` (Redis's checkClientOutputBufferLimits):
    /// the hard limit at once, the soft one once it has been exceeded for longer than its seconds.
    pub fn over_output_limit(&self, c: &mut Client, now_ms: i64) -> bool {
        let limit = self.settings.obuf_normal;
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
}

/// Open the listening sockets for `bind` on `port` (none when `port` is 0, as Redis: no TCP).
fn open_listeners(bind: &[String], port: u16) -> io::Result<Vec<TcpListener>> {
    let mut listeners = vec![];
    if port == 0 {
        return Ok(listeners);
    }
    for b in bind {
        let (optional, addr) = match b.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, b.as_str()),
        };
        let ip = match addr {
            "*" => "0.0.0.0".to_string(),
            "::*" => "::".to_string(),
            a => a.to_string(),
        };
        let sock: SocketAddr = match ip.parse::<std::net::IpAddr>() {
            Ok(ip) => SocketAddr::new(ip, port),
            Err(_) => {
                if optional {
                    continue;
                }
                return Err(io::Error::new(
                    ErrorKind::InvalidInput,
                    format!("Invalid bind address '{addr}'"),
                ));
            }
        };
        match bind_listener(sock) {
            Ok(l) => listeners.push(l),
            Err(e) if optional && matches!(e.raw_os_error(), Some(libc::EADDRNOTAVAIL | libc::EAFNOSUPPORT)) => {
                continue
            }
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("Could not create server TCP listening socket {addr}:{port}: {e}"),
                ))
            }
        }
    }
    if listeners.len() > LISTENER_TOKENS {
        return Err(io::Error::new(
            ErrorKind::InvalidInput,
            "Too many bind addresses specified.",
        ));
    }
    Ok(listeners)
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
        if let Some(spec) = c.blocked.as_ref().and_then(|b| b.on_keys()) {
            self.closed_blocked
                .push((Waiter { id: c.id, slot: c.slot }, spec.clone()));
        }
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

    /// Serve the network while the keyspace is busy, for at most `timeout`. Returns when something
    /// happened or the time passed; callers loop until their work is done or `self.shutdown` is set.
    pub fn serve_while_busy(&mut self, mode: BusyMode, timeout: Duration, now_ms: i64) {
        let mut events = std::mem::replace(&mut self.busy_events, Events::with_capacity(0));
        if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
            if e.kind() != ErrorKind::Interrupted {
                crate::log_warning!("poll failed while busy: {e}");
            }
        }
        for ev in events.iter() {
            let t = ev.token().0;
            if t < LISTENER_TOKENS {
                self.accept_all(t, now_ms);
            } else if ev.token() == SIGNAL_TOKEN {
                // Signals are collected by the main loop when it resumes.
                self.pending.push_back(usize::MAX);
            } else {
                let slot = t - CLIENT_BASE;
                if let Some(mut c) = self.take(slot) {
                    if ev.is_writable() {
                        if let Err(_e) = self.write(&mut c) {
                            self.close(c);
                            continue;
                        }
                    }
                    if ev.is_readable() {
                        self.busy_read(&mut c, mode);
                    }
                    // Whatever stays queued is processed once the server is free again.
                    if !c.qbuf.is_empty() {
                        self.pending.push_back(slot);
                    }
                    self.restore(c);
                }
            }
        }
        self.busy_events = events;
    }

    fn busy_read(&mut self, c: &mut Client, mode: BusyMode) {
        let mut qbuf = std::mem::take(&mut c.qbuf);
        loop {
            match self.read_into(c, &mut qbuf, READ_CHUNK) {
                Ok((0, _)) => {
                    c.flags |= cflags::CLOSE_ASAP;
                    break;
                }
                Ok((_, false)) => break,
                Ok(_) if qbuf.len() as u64 > self.settings.client_query_buffer_limit => break,
                Ok(_) => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => {
                    c.flags |= cflags::CLOSE_ASAP;
                    break;
                }
            }
        }
        // Look at the queued requests without consuming them unless this mode answers them now.
        let mut parser = RequestParser::new();
        let mut frame = Frame::new();
        let limits = Limits {
            max_bulk_len: self.settings.proto_max_bulk_len,
            authenticated: c.authenticated,
            trusted: false,
        };
        let mut pos = 0;
        while pos < qbuf.len() && !c.has(cflags::CLOSE_AFTER_REPLY | cflags::CLOSE_ASAP) {
            let n = match parser.parse(&qbuf[pos..], &limits, &mut frame) {
                Ok(Parsed::Complete(n)) => n,
                // Partial or malformed: leave it for the normal path, which reports errors exactly.
                _ => break,
            };
            if frame.is_empty() {
                pos += n;
                continue;
            }
            let req = &qbuf[pos..pos + n];
            let args: Vec<&[u8]> = (0..frame.len()).map(|i| frame.arg(req, i)).collect();
            let verdict = busy_verdict(&args, c.authenticated, mode);
            match verdict {
                BusyVerdict::Queue => break,
                BusyVerdict::Shutdown(req) => {
                    self.shutdown = Some(req);
                    pos += n;
                    break;
                }
                BusyVerdict::Reply(err) => {
                    c.out.error(&err);
                    pos += n;
                }
            }
        }
        qbuf.drain(..pos);
        c.qbuf = qbuf;
        if c.pending_output() > 0 && self.write(c).is_err() {
            c.flags |= cflags::CLOSE_ASAP;
        }
    }
}

enum BusyVerdict {
    Queue,
    Reply(String),
    Shutdown(ShutdownRequest),
}

/// How a command that arrives while the keyspace is busy is answered, following Redis's gate order
/// (unknown command, arity, authentication, then the busy/loading refusal unless `allow_busy`).
fn busy_verdict(args: &[&[u8]], authenticated: bool, mode: BusyMode) -> BusyVerdict {
    let cmd = match table::lookup(args) {
        Lookup::Found(cmd, _) => cmd,
        // Unknown commands and arity errors are reported by the normal path once the server is free;
        // in sleep mode everything waits.
        _ if mode == BusyMode::Sleep => return BusyVerdict::Queue,
        Lookup::Unknown | Lookup::UnknownSub(_) => {
            return BusyVerdict::Reply(crate::commands::dispatch::unknown_command_error(args))
        }
    };
    if !cmd.arity_ok(args.len()) {
        if mode == BusyMode::Sleep {
            return BusyVerdict::Queue;
        }
        return BusyVerdict::Reply(format!("ERR wrong number of arguments for '{}' command", cmd.full_name));
    }
    if !authenticated && !cmd.has(crate::commands::spec::flags::NO_AUTH) {
        if mode == BusyMode::Sleep {
            return BusyVerdict::Queue;
        }
        return BusyVerdict::Reply("NOAUTH Authentication required.".into());
    }
    if cmd.name == "shutdown" {
        match ShutdownRequest::parse(args[1..].iter().copied()) {
            Some(s) if s.request.nosave => return BusyVerdict::Shutdown(s.request),
            // Anything else (a malformed one included) is answered by the normal path later.
            _ if mode == BusyMode::Sleep => return BusyVerdict::Queue,
            _ => {}
        }
    }
    match mode {
        BusyMode::Sleep => BusyVerdict::Queue,
        BusyMode::Script => BusyVerdict::Reply(crate::error::CmdError::Busy.to_string()),
        BusyMode::Loading => BusyVerdict::Reply(crate::error::CmdError::Loading.to_string()),
    }
}

fn bind_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    use std::os::fd::FromRawFd;
    let domain = if addr.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    // SAFETY: plain socket syscalls on a descriptor we own; on error it is closed.
    unsafe {
        let fd = libc::socket(domain, libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let guard = std::net::TcpListener::from_raw_fd(fd);
        let one: libc::c_int = 1;
        let setopt = |opt| {
            libc::setsockopt(
                fd,
                if opt == libc::IPV6_V6ONLY {
                    libc::IPPROTO_IPV6
                } else {
                    libc::SOL_SOCKET
                },
                opt,
                &one as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        setopt(libc::SO_REUSEADDR);
        if addr.is_ipv6() {
            // As Redis does: an IPv6 listener never also takes IPv4 (that is `*`'s job).
            setopt(libc::IPV6_V6ONLY);
        }
        let (sa, len) = socket_addr_to_raw(&addr);
        if libc::bind(fd, &sa as *const _ as *const libc::sockaddr, len) != 0 {
            return Err(io::Error::last_os_error());
        }
        if libc::listen(fd, 511) != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(TcpListener::from_std(guard))
    }
}

fn socket_addr_to_raw(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain data; zeroed is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_in fits in sockaddr_storage.
            unsafe { std::ptr::write(&mut storage as *mut _ as *mut libc::sockaddr_in, sin) };
            (storage, std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t)
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_in6 fits in sockaddr_storage.
            unsafe { std::ptr::write(&mut storage as *mut _ as *mut libc::sockaddr_in6, sin6) };
            (storage, std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t)
        }
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
