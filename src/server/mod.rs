//! The server: one shard's event loop (accept, read, parse, execute, write), its cron and shutdown.
//!
//! The loop per iteration: wait for events (or the next cron tick), refresh the cached clock, serve every
//! ready socket (read all it has, execute every complete request, write the replies with one `write`),
//! re-run clients released from a block, flush output produced for other clients, then run the cron when
//! due. See docs/architecture.md.

pub mod blocking;
pub mod client;
pub mod core;
pub mod cron;
pub mod lazyfree;
pub mod log;
pub mod net;

use std::io::{self, ErrorKind};
use std::time::Duration;

use mio::{Events, Interest};
use resp::{Parsed, ReplyBuf};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook_mio::v1_0::Signals;

use self::client::{cflags, Client, ReplyMode};
use self::core::Core;
use self::net::{Net, NetSettings, ShutdownRequest, CLIENT_BASE, LISTENER_TOKENS, READ_CHUNK, SIGNAL_TOKEN};
use crate::commands::dispatch::{self, Outcome};
use crate::commands::Args;
use crate::config::Config;

/// How long a busy loop polls without sleeping before it blocks in `epoll_wait`. A request that arrives
/// within this window is served without a sleep and a wake-up, which on these VMs costs far more than the
/// spin (a cross-CPU wake-up is tens of microseconds). Measured side by side with redis-server at
/// pipeline 1, 50 clients: 10 µs raised requests/s from ~0.95x to ~1.04x of Redis's while server CPU per
/// request stayed at parity (0.94-1.03x across runs; 20 µs and 50 µs spent clearly more than Redis).
const BUSY_SPIN_US: i64 = 10;

pub struct Server {
    pub core: Core,
    pub net: Net,
    signals: Signals,
    events: Events,
    /// Shared read buffer: complete requests are executed straight from it.
    rbuf: Vec<u8>,
    next_cron_ms: i64,
    pub cron_loops: u64,
    expire_state: cron::ExpireState,
    /// The last poll returned events: spin briefly before blocking (`BUSY_SPIN_US`).
    busy: bool,
}

/// Why the loop ended.
#[derive(Debug)]
pub enum Exit {
    Shutdown,
}

impl Server {
    pub fn new(config: Config) -> io::Result<Server> {
        let settings = NetSettings::from_config(&config);
        let net = Net::bind(&config.bind, config.port, settings)?;
        let mut core = Core::new(config, Box::new(crate::clock::SystemClock));
        core.memory_startup = crate::memory::used_memory();
        let mut signals = Signals::new([SIGTERM, SIGINT])?;
        net.poll
            .registry()
            .register(&mut signals, SIGNAL_TOKEN, Interest::READABLE)?;
        Ok(Server {
            core,
            net,
            signals,
            events: Events::with_capacity(1024),
            rbuf: vec![0; READ_CHUNK],
            next_cron_ms: 0,
            cron_loops: 0,
            expire_state: cron::ExpireState::default(),
            busy: false,
        })
    }

    /// Run until shutdown.
    pub fn run(&mut self) -> Exit {
        loop {
            let timeout = self.poll_timeout();
            if !(self.busy && !timeout.is_zero() && self.spin_for_events()) {
                if let Err(e) = self.net.poll.poll(&mut self.events, Some(timeout)) {
                    if e.kind() != ErrorKind::Interrupted {
                        crate::log_warning!("poll failed: {e}");
                    }
                }
            }
            self.core.update_time();
            // The events are borrowed from `self` while serving needs `&mut self`: swap the buffer out.
            self.busy = !self.events.is_empty();
            let events = std::mem::replace(&mut self.events, Events::with_capacity(0));
            for e in events.iter() {
                let token = e.token();
                if token == SIGNAL_TOKEN {
                    self.handle_signals();
                } else if token.0 < LISTENER_TOKENS {
                    self.net.accept_all(token.0, self.core.now_ms);
                } else {
                    self.serve(
                        token.0 - CLIENT_BASE,
                        e.is_readable() || e.is_read_closed(),
                        e.is_writable(),
                    );
                }
            }
            self.events = events;
            self.expire_blocked();
            if !self.net.closed_blocked.is_empty() {
                self.after_command();
            }
            self.serve_pending();
            self.flush_pending_writes();
            let mut st = self.expire_state;
            cron::active_expire(&mut self.core, &mut st, cron::CycleKind::Fast);
            self.expire_state = st;
            if self.core.now_ms >= self.next_cron_ms {
                self.cron();
                let hz = self.core.config.hz.clamp(1, 500) as i64;
                self.next_cron_ms = self.core.now_ms + 1000 / hz;
            }
            if let Some(req) = self.net.shutdown {
                if self.prepare_shutdown(req) {
                    return Exit::Shutdown;
                }
                self.net.shutdown = None;
            }
        }
    }

    /// Poll without sleeping for up to `BUSY_SPIN_US`; true if events arrived. Used only after an
    /// iteration that served events, so an idle server never spins (see docs/architecture.md).
    fn spin_for_events(&mut self) -> bool {
        let start = crate::clock::monotonic_us();
        loop {
            let _ = self.net.poll.poll(&mut self.events, Some(Duration::ZERO));
            if !self.events.is_empty() {
                return true;
            }
            if crate::clock::monotonic_us() - start >= BUSY_SPIN_US {
                return false;
            }
        }
    }

    fn poll_timeout(&self) -> Duration {
        if !self.net.pending.is_empty() {
            return Duration::ZERO;
        }
        let mut wake = self.next_cron_ms;
        if let Some(p) = self.core.pause {
            wake = wake.min(p.end_ms);
        }
        if let Some(d) = self.core.blocking.next_deadline() {
            wake = wake.min(d);
        }
        let ms = (wake - self.core.now_ms).clamp(0, 1000);
        Duration::from_millis(ms as u64)
    }

    fn handle_signals(&mut self) {
        for sig in self.signals.pending() {
            let name = if sig == SIGINT { "SIGINT" } else { "SIGTERM" };
            if self.net.shutdown.is_some() && sig == SIGINT {
                crate::log_warning!("You insist... exiting now.");
                std::process::exit(1);
            }
            crate::log_warning!("Received {name} scheduling shutdown...");
            self.net.shutdown = Some(ShutdownRequest {
                signal: Some(sig),
                ..ShutdownRequest::plain()
            });
        }
    }

    /// Serve one client socket event.
    fn serve(&mut self, slot: usize, readable: bool, writable: bool) {
        let Some(mut c) = self.net.take(slot) else { return };
        if writable && c.pending_output() > 0 && self.net.write(&mut c).is_err() {
            self.net.close(c);
            return;
        }
        if c.blocked.is_none() && !c.qbuf.is_empty() {
            self.process_queued(&mut c);
        }
        if readable {
            self.read_and_process(&mut c);
        }
        self.finish(c);
    }

    /// Serve clients whose input must be processed without a new event.
    fn serve_pending(&mut self) {
        let mut rounds = self.net.pending.len();
        while rounds > 0 {
            rounds -= 1;
            let Some(slot) = self.net.pending.pop_front() else {
                break;
            };
            if slot == usize::MAX {
                self.handle_signals();
                continue;
            }
            let Some(mut c) = self.net.take(slot) else { continue };
            c.flags &= !cflags::PENDING_REPROCESS;
            if c.blocked.is_none() {
                self.process_queued(&mut c);
                // A read that was deferred (events seen while executing) may still have data.
                self.read_and_process(&mut c);
            }
            self.finish(c);
        }
    }

    /// Write the client's output, then put it back (or close it).
    fn finish(&mut self, mut c: Box<Client>) {
        // Replies are written once per loop iteration, after every ready client has been served (as
        // Redis does before sleeping): the peers then wake once with all their replies rather than once
        // per reply, which on a machine where clients and server share the cores is measurably faster.
        if c.pending_output() > 0 && !c.has(cflags::CLOSE_ASAP) {
            self.net.queue_write(&mut c);
        }
        self.net.restore(c);
    }

    /// Write a client's output now (end of the loop iteration), then put it back (or close it).
    fn write_now(&mut self, mut c: Box<Client>) {
        c.flags &= !cflags::WRITE_QUEUED;
        c.out_peak = c.out_peak.max(c.pending_output());
        if c.pending_output() > 0 && !c.has(cflags::CLOSE_ASAP) && self.net.over_output_limit(&mut c, self.core.now_ms)
        {
            crate::log_warning!(
                "Client {} scheduled to be closed ASAP for overcoming of output buffer limits.",
                c.info_line(self.core.now_ms, 0)
            );
            c.flags |= cflags::CLOSE_ASAP;
        }
        if c.pending_output() > 0 && !c.has(cflags::CLOSE_ASAP) && self.net.write(&mut c).is_err() {
            c.flags |= cflags::CLOSE_ASAP;
        }
        self.net.restore(c);
    }

    /// Read everything the socket has, executing complete requests as they arrive.
    fn read_and_process(&mut self, c: &mut Client) {
        loop {
            if c.has(cflags::CLOSE_ASAP | cflags::CLOSE_AFTER_REPLY) {
                return;
            }
            let n = if c.qbuf.is_empty() && c.blocked.is_none() {
                // Common case: read into the shared buffer and execute from there.
                let mut rbuf = std::mem::take(&mut self.rbuf);
                rbuf.clear();
                let r = self.net.read_into(c, &mut rbuf, READ_CHUNK);
                if let Ok((n, _)) = r {
                    if n > 0 {
                        c.last_interaction_ms = self.core.now_ms;
                        let used = self.process_input(c, &rbuf);
                        if used < rbuf.len() {
                            c.qbuf.extend_from_slice(&rbuf[used..]);
                        }
                    }
                }
                self.rbuf = rbuf;
                r
            } else {
                // A partial request (or a blocked client's queue) is pending: append to it.
                let mut qbuf = std::mem::take(&mut c.qbuf);
                let want = READ_CHUNK.max(qbuf.len().min(1 << 20));
                let r = self.net.read_into(c, &mut qbuf, want);
                c.qbuf = qbuf;
                if let Ok((n, _)) = r {
                    if n > 0 {
                        c.last_interaction_ms = self.core.now_ms;
                        if c.blocked.is_none() {
                            self.process_queued(c);
                        }
                    }
                }
                r
            };
            match n {
                Ok((0, _)) => {
                    c.flags |= cflags::CLOSE_ASAP;
                    return;
                }
                Ok((_, filled)) => {
                    c.qbuf_peak = c.qbuf_peak.max(c.qbuf.len());
                    if c.qbuf.len() as u64 > self.core.config.client_query_buffer_limit {
                        crate::log_warning!(
                            "Closing client that reached max query buffer length: id={} addr={} (qbuf initial bytes: {:?})",
                            c.id,
                            c.addr,
                            String::from_utf8_lossy(&c.qbuf[..c.qbuf.len().min(64)])
                        );
                        self.core.stats.client_query_buffer_limit_disconnections += 1;
                        c.flags |= cflags::CLOSE_ASAP;
                        return;
                    }
                    if !filled {
                        // A short read drained the socket (edge-triggered: the next data raises an event).
                        return;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(_) => {
                    c.flags |= cflags::CLOSE_ASAP;
                    return;
                }
            }
        }
    }

    /// Process the client's own queued input.
    fn process_queued(&mut self, c: &mut Client) {
        let qbuf = std::mem::take(&mut c.qbuf);
        let used = self.process_input(c, &qbuf);
        let mut qbuf = qbuf;
        qbuf.drain(..used);
        // Keep the queue (new data may have been appended meanwhile by nobody: we own it here).
        c.qbuf = qbuf;
        if c.qbuf.is_empty() && c.qbuf.capacity() > 32 * 1024 {
            c.qbuf = Vec::new();
        }
    }

    /// Parse and execute complete requests from `buf`; returns how many bytes were consumed.
    fn process_input(&mut self, c: &mut Client, buf: &[u8]) -> usize {
        let mut pos = 0;
        let mut frame = std::mem::take(&mut c.frame);
        let mut out = std::mem::take(&mut c.out);
        while pos < buf.len() || c.parser.in_request() {
            if c.blocked.is_some() || c.has(cflags::CLOSE_AFTER_REPLY | cflags::CLOSE_ASAP) {
                break;
            }
            let limits = resp::Limits {
                max_bulk_len: self.core.config.proto_max_bulk_len,
                authenticated: c.authenticated,
                trusted: false,
            };
            match c.parser.parse(&buf[pos..], &limits, &mut frame) {
                Ok(Parsed::Complete(n)) => {
                    if frame.is_empty() {
                        pos += n;
                        continue;
                    }
                    let req = &buf[pos..pos + n];
                    let args = Args::new(frame.source(req), frame.spans());
                    if self.execute(c, &args, &mut out) == Outcome::Blocked {
                        // Leave the request queued: it runs again when the client is released.
                        c.parser.reset();
                        break;
                    }
                    pos += n;
                }
                Ok(Parsed::Incomplete { .. }) => break,
                Err(e) => {
                    let line = format!("ERR Protocol error: {e}");
                    crate::log_verbose!("Protocol error ({e}) from client: id={} addr={}", c.id, c.addr);
                    dispatch::reply_error(&mut self.core, &mut out, &line);
                    c.flags |= cflags::CLOSE_AFTER_REPLY;
                    pos = buf.len();
                    break;
                }
            }
        }
        c.frame = frame;
        c.out = out;
        pos
    }

    /// Execute one request, then serve the clients blocked on keys it made ready.
    fn execute(&mut self, c: &mut Client, args: &Args<'_>, out: &mut ReplyBuf) -> Outcome {
        let outcome = self.execute_one(c, args, out);
        if self.core.blocking.has_ready() || !self.net.closed_blocked.is_empty() {
            self.after_command();
        }
        outcome
    }

    /// Execute one request, applying the client's reply mode (a skipped reply stays skipped until the
    /// command completes, even if it blocks first).
    fn execute_one(&mut self, c: &mut Client, args: &Args<'_>, out: &mut ReplyBuf) -> Outcome {
        if c.reply_mode == ReplyMode::SkipNext {
            c.reply_mode = ReplyMode::Skip;
        }
        let before = out.len();
        let outcome = dispatch::execute(&mut self.core, Some(&mut self.net), c, args, out);
        match c.reply_mode {
            ReplyMode::Off => out.buf.truncate(before),
            ReplyMode::Skip if outcome == Outcome::Done => {
                out.buf.truncate(before);
                c.reply_mode = ReplyMode::On;
            }
            _ => {}
        }
        outcome
    }

    /// Flush output produced for clients other than the one executing (MONITOR, woken clients).
    fn flush_pending_writes(&mut self) {
        let slots = std::mem::take(&mut self.net.pending_writes);
        for slot in slots {
            if let Some(c) = self.net.take(slot) {
                self.write_now(c);
            }
        }
    }

    /// Release every client blocked by CLIENT PAUSE (in the order they blocked).
    pub fn unpause(&mut self) {
        self.core.pause = None;
        self.net.release_paused();
    }

    /// Decide whether to exit (Redis's prepareForShutdown). Returns false if the shutdown was refused.
    fn prepare_shutdown(&mut self, req: ShutdownRequest) -> bool {
        if !req.announced {
            crate::log_warning!("User requested shutdown...");
        }
        if !self.core.config.pidfile.is_empty() {
            crate::log_notice!("Removing the pid file.");
            let _ = std::fs::remove_file(&self.core.config.pidfile);
        }
        crate::log_warning!("Redis is now ready to exit, bye bye...");
        true
    }
}

/// Fds Redis keeps for itself beyond the clients (CONFIG_MIN_RESERVED_FDS).
pub const RESERVED_FDS: u64 = 32;

/// Redis's adjustOpenFilesLimit: raise the open-files limit to fit `maxclients` plus the reserved
/// descriptors. Returns the number of clients the limit allows (`maxclients` when it could be raised
/// far enough), with Redis's log lines when it could not.
pub fn adjust_open_files_limit(maxclients: u32) -> u32 {
    let want = maxclients as u64 + RESERVED_FDS;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        let e = io::Error::last_os_error();
        crate::log_warning!(
            "Unable to obtain the current NOFILE limit ({}), assuming 1024 and setting the max clients configuration \
             accordingly.",
            crate::config::io_strerror(&e)
        );
        return (1024 - RESERVED_FDS) as u32;
    }
    let old = lim.rlim_cur;
    if old >= want {
        return maxclients;
    }
    let try_set = |n: u64| {
        let l = libc::rlimit {
            rlim_cur: n,
            rlim_max: n.max(lim.rlim_max),
        };
        // SAFETY: setrlimit reads the struct we pass.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &l) } == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    };
    let mut error = None;
    let best = match try_set(want) {
        Ok(()) => want,
        Err(e) => {
            error = Some(e);
            // Redis steps down by 16 from `want`; find the highest such value that works by bisection.
            let steps = (want - old).div_ceil(16);
            let (mut lo, mut hi) = (1u64, steps);
            let mut found = old;
            while lo <= hi {
                let mid = lo + (hi - lo) / 2;
                let cand = want - 16 * mid;
                if cand > old && try_set(cand).is_ok() {
                    found = cand;
                    hi = mid - 1;
                } else {
                    lo = mid + 1;
                }
            }
            if found > old {
                let _ = try_set(found);
            }
            found
        }
    };
    if best < want {
        let reduced = best.saturating_sub(RESERVED_FDS) as u32;
        crate::log_warning!("You requested maxclients of {maxclients} requiring at least {want} max file descriptors.");
        if let Some(e) = error {
            crate::log_warning!(
                "Server can't set maximum open files to {want} because of OS error: {}.",
                crate::config::io_strerror(&e)
            );
        }
        crate::log_warning!(
            "Current maximum open files is {best}. maxclients has been reduced to {reduced} to compensate for low \
             ulimit. If you need higher maxclients increase 'ulimit -n'."
        );
        return reduced;
    }
    crate::log_notice!("Increased maximum number of open files to {want} (it was originally set to {old}).");
    maxclients
}
