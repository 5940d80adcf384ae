//! Serving clients: read what a socket has, parse and execute every complete request, queue the replies,
//! and serve the clients blocked on keys that a command made ready.
//!
//! These paths need both halves of the shard at once, so they live on [`Shard`], the two borrowed
//! together. The event loop builds one for each iteration's work; a busy script builds one through
//! `Host::serve_while_busy` to serve what arrives meanwhile. Both go through the same `dispatch::execute`
//! and its gates, which are what answer `-BUSY` while a script holds the keyspace; the only differences
//! while busy are that clients blocked on keys are not served and suspended clients stay suspended
//! (as in Redis, where the busy hook only processes file events).

use std::io::ErrorKind;

use resp::{Frame, Limits, Parsed, ReplyBuf, RequestParser};

use super::blocking::{self, WaitType};
use super::client::{cflags, BlockReason, Client, ReplyMode};
use super::core::Core;
use super::net::{Event, Net, CLIENT_BASE, LISTENER_TOKENS, READ_CHUNK, SIGNAL_TOKEN};
use crate::commands::dispatch::{self, Outcome};
use crate::commands::Args;
use crate::storage::ValueRef;

/// The two halves of a shard, borrowed together.
pub(crate) struct Shard<'a> {
    pub core: &'a mut Core,
    pub net: &'a mut Net,
}

impl Shard<'_> {
    /// Handle one poll event: accept on a listener, or serve a client socket.
    pub fn serve_event(&mut self, ev: Event) {
        let Event {
            token,
            readable,
            writable,
        } = ev;
        if token == SIGNAL_TOKEN {
            // Signals are collected by the event loop (`usize::MAX` in the pending queue says so).
            self.net.pending.push_back(usize::MAX);
        } else if token.0 < LISTENER_TOKENS {
            self.net.accept_all(token.0, self.core.now_ms);
        } else {
            self.serve(token.0 - CLIENT_BASE, readable, writable);
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

    /// Serve clients whose input must be processed without a new event. Returns true if a signal
    /// arrived meanwhile (the event loop collects it).
    pub fn serve_pending(&mut self) -> bool {
        let mut signalled = false;
        let mut rounds = self.net.pending.len();
        while rounds > 0 {
            rounds -= 1;
            let Some(slot) = self.net.pending.pop_front() else {
                break;
            };
            if slot == usize::MAX {
                signalled = true;
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
        signalled
    }

    /// Queue the client's output for the end of the loop iteration, then put it back (or close it).
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
            super::net::log_output_limit(&c, self.core.now_ms);
            self.core.stats.client_output_buffer_limit_disconnections += 1;
            c.flags |= cflags::CLOSE_ASAP;
        }
        if c.pending_output() > 0 && !c.has(cflags::CLOSE_ASAP) && self.net.write(&mut c).is_err() {
            c.flags |= cflags::CLOSE_ASAP;
        }
        self.net.restore(c);
    }

    /// Flush the output queued during this iteration (replies, MONITOR feeds, woken clients).
    pub fn flush_pending_writes(&mut self) {
        let slots = std::mem::take(&mut self.net.pending_writes);
        for slot in slots {
            if let Some(c) = self.net.take(slot) {
                self.write_now(c);
            }
        }
    }

    /// Whether the client must not run anything more now: it is closing, or the server is.
    fn stop_processing(&self, c: &Client) -> bool {
        c.has(cflags::CLOSE_ASAP | cflags::CLOSE_AFTER_REPLY) || self.core.shutdown.is_some()
    }

    /// Read everything the socket has, executing complete requests as they arrive.
    fn read_and_process(&mut self, c: &mut Client) {
        loop {
            if self.stop_processing(c) {
                return;
            }
            let n = if c.qbuf.is_empty() && c.blocked.is_none() {
                // Common case: read into the shared buffer and execute from there.
                let mut rbuf = std::mem::take(&mut self.net.rbuf);
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
                self.net.rbuf = rbuf;
                r
            } else {
                // A partial request (or a blocked client's queue) is pending: append to it. A blocked
                // client's requests stay queued behind the one that blocked it.
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
        c.qbuf = qbuf;
        if c.qbuf.is_empty() && c.qbuf.capacity() > 32 * 1024 {
            c.qbuf = Vec::new();
        }
    }

    /// Parse and execute complete requests from `buf`; returns how many bytes were consumed.
    fn process_input(&mut self, c: &mut Client, buf: &[u8]) -> usize {
        let mut pos = 0;
        let mut frame = std::mem::take(&mut c.frame);
        let mut out = lend_output(c);
        while pos < buf.len() || c.parser.in_request() {
            if c.blocked.is_some() || self.stop_processing(c) {
                break;
            }
            let limits = Limits {
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
                    dispatch::reply_error(self.core, &mut out, &line);
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
        if self.core.blocking.has_ready() || !self.net.closed.is_empty() {
            self.after_command();
        }
        self.deliver_pushes();
        if !self.core.tracking.pending.is_empty() {
            self.deliver_invalidations(Some((c, out)));
        }
        outcome
    }

    /// Write the invalidations client tracking owes (after the reply of the command that caused them,
    /// as Redis 7.0 orders them): to the tracking client, or to the client it redirects to. `executing`
    /// is the client whose command just ran, with its output (it is not in the client table).
    pub fn deliver_invalidations(&mut self, mut executing: Option<(&mut Client, &mut ReplyBuf)>) {
        for inv in std::mem::take(&mut self.core.tracking.pending) {
            let Some(st) = self.core.tracking.state(inv.client) else {
                continue;
            };
            let (source_slot, redirect, redirect_slot) = (st.slot, st.redirect, st.redirect_slot);
            let (target, slot) = match redirect {
                0 => (inv.client, source_slot),
                r => (r, redirect_slot),
            };
            let delivered = with_client(self.net, &mut executing, target, slot, |c, out| {
                let as_message = !out.is_resp3();
                // RESP2 has no pushes: only a subscriber that another client redirects to gets a message.
                if as_message && (redirect == 0 || !c.is_subscriber()) {
                    return;
                }
                write_invalidation(out, inv.keys.as_deref(), as_message);
            });
            if delivered || redirect == 0 {
                continue;
            }
            // The redirection's target is gone: the tracking client is told (in RESP3 only), each time.
            if let Some(st) = self.core.tracking.state_mut(inv.client) {
                st.broken_redirect = true;
            }
            with_client(self.net, &mut executing, inv.client, source_slot, |_, out| {
                if out.is_resp3() {
                    out.push(2);
                    out.bulk(b"tracking-redir-broken");
                    out.int(redirect as i64);
                }
            });
        }
    }

    /// Before the loop sleeps: BCAST invalidations collected during the iteration, and whatever the
    /// expiry cycle and the cron published or invalidated.
    pub fn deliver_before_sleep(&mut self) {
        if self.core.tracking.has_broadcasts() {
            let b = self.core.tracking.take_broadcasts();
            self.core.tracking.pending.extend(b);
        }
        self.deliver_pushes();
        if !self.core.tracking.pending.is_empty() {
            self.deliver_invalidations(None);
        }
        self.flush_pending_writes();
    }

    /// Write the messages published since the last delivery into their receivers' output.
    #[inline]
    pub fn deliver_pushes(&mut self) {
        if !self.core.pubsub.outbox.is_empty() {
            let outbox = self.core.pubsub.outbox.take();
            let closed = self.net.deliver(outbox, self.core.now_ms);
            self.core.stats.client_output_buffer_limit_disconnections += closed;
        }
    }

    /// Execute one request, applying the client's reply mode (a skipped reply stays skipped until the
    /// command completes, even if it blocks first).
    fn execute_one(&mut self, c: &mut Client, args: &Args<'_>, out: &mut ReplyBuf) -> Outcome {
        if c.reply_mode == ReplyMode::SkipNext {
            c.reply_mode = ReplyMode::Skip;
        }
        let before = out.len();
        let outcome = dispatch::execute(self.core, Some(&mut *self.net), c, args, out);
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

    // ---- clients blocked on keys (see `blocking.rs` for the table and the rules) ----

    /// After each command: forget clients that disconnected (their waits and watched keys), then serve
    /// every key the command made ready (serving may make more keys ready: BLMOVE pushes; the loop runs
    /// until none). While a script is busy nobody is served: the keys stay ready until it ends.
    pub fn after_command(&mut self) {
        for gone in self.net.closed.drain(..) {
            if let Some(spec) = gone.blocked_on {
                self.core.blocking.remove(gone.who, &spec);
            }
            if let Some(subs) = gone.subs {
                self.core.pubsub.remove_client(gone.who, *subs);
            }
            self.core.tracking.disable(gone.who.id);
            self.core.watches.forget(gone.who.id);
        }
        if self.core.busy() {
            return;
        }
        while let Some((db, key)) = self.core.blocking.pop_ready() {
            self.serve_key(db, &key);
        }
        self.deliver_pushes();
        if !self.core.tracking.pending.is_empty() {
            self.deliver_invalidations(None);
        }
    }

    /// Serve the clients waiting on `key`, oldest first, while the key holds the type they want.
    fn serve_key(&mut self, db: usize, key: &[u8]) {
        for w in self.core.blocking.waiters(db, key) {
            let wanted = match self.net.clients.get(w.slot).and_then(|c| c.as_deref()) {
                Some(c) if c.id == w.id => match c.blocked.as_ref().and_then(|b| b.on_keys()) {
                    Some(spec) => spec.wait,
                    None => continue,
                },
                // Executing, gone, or a reused slot: not this waiter.
                _ => continue,
            };
            let now = self.core.now_ms;
            let held = match self.core.dbs[db].get(key) {
                Some(e) if e.expire_at().is_some_and(|t| t <= now) => None,
                Some(e) => match e.value() {
                    ValueRef::Obj(o) => Some(o.type_name()),
                    _ => Some("string"),
                },
                None => None,
            };
            match held {
                // A stream reader is also woken when its stream goes away: XREADGROUP then answers
                // that it is gone, XREAD waits on (Redis 7.0's signalDeletedKeyAsReady).
                _ if wanted == WaitType::Stream && held != Some("stream") => {}
                // Emptied (or deleted) by the waiters served before: the rest keep waiting.
                None => break,
                // A waiter for another type (BZPOPMIN behind a list) is passed over, as Redis 7.0 does;
                // those behind it may still be served.
                Some(t) if t != wanted.type_name() => continue,
                Some(_) => {}
            }
            let Some(mut c) = self.net.take(w.slot) else { continue };
            c.serving_key = Some(key.to_vec());
            let served = self.rerun_blocked(&mut c);
            c.serving_key = None;
            if served {
                blocking::release(&mut self.core.blocking, &mut self.net.pending, &mut c);
            }
            self.finish(c);
        }
    }

    /// Run a blocked client's request again (as its first run resolved it, if it says so). True if it
    /// was served (it did not block again).
    fn rerun_blocked(&mut self, c: &mut Client) -> bool {
        let qbuf = std::mem::take(&mut c.qbuf);
        let limits = Limits {
            max_bulk_len: self.core.config.proto_max_bulk_len,
            authenticated: c.authenticated,
            trusted: false,
        };
        let mut frame = Frame::new();
        let n = match RequestParser::new().parse(&qbuf, &limits, &mut frame) {
            Ok(Parsed::Complete(n)) if !frame.is_empty() => n,
            _ => {
                // Cannot happen: the request was complete when it blocked. Give up on it safely.
                c.qbuf = qbuf;
                return false;
            }
        };
        let resume = c
            .blocked
            .as_ref()
            .and_then(|b| b.on_keys())
            .and_then(|s| s.resume.clone());
        let mut out = lend_output(c);
        let outcome = match &resume {
            Some(resolved) => self.execute_one(c, &resolved.view(), &mut out),
            None => {
                let req = &qbuf[..n];
                let args = Args::new(frame.source(req), frame.spans());
                self.execute_one(c, &args, &mut out)
            }
        };
        c.out = out;
        let mut qbuf = qbuf;
        if outcome == Outcome::Done {
            qbuf.drain(..n);
        }
        c.qbuf = qbuf;
        outcome == Outcome::Done
    }

    /// Answer every wait whose deadline passed, as Redis does: the command's timeout reply.
    pub fn expire_blocked(&mut self) {
        let now = self.core.now_ms;
        if self.core.blocking.next_deadline().is_none_or(|d| d > now) {
            return;
        }
        for w in self.core.blocking.expired(now) {
            let Some(mut c) = self.net.take(w.slot) else {
                // Not there (executing or closed): a closed client's entry is removed via `closed`.
                continue;
            };
            let spec = match c.blocked.as_ref().map(|b| &b.reason) {
                Some(BlockReason::Keys { spec, cmd_idx }) if c.id == w.id => {
                    let s = spec.clone();
                    self.core.cmdstats[*cmd_idx].calls += 1;
                    s
                }
                _ => {
                    self.net.restore(c);
                    continue;
                }
            };
            blocking::write_timeout_reply(&mut c, spec.on_timeout);
            let max = self.core.config.proto_max_bulk_len;
            blocking::release_unserved(&mut self.core.blocking, &mut self.net.pending, &mut c, max);
            self.finish(c);
        }
    }
}

/// Run `f` on the client `id` (at `slot`) and its output: the executing one, or one in the table
/// (whose write is then scheduled). False if it is not there.
fn with_client(
    net: &mut Net,
    executing: &mut Option<(&mut Client, &mut ReplyBuf)>,
    id: u64,
    slot: usize,
    f: impl FnOnce(&Client, &mut ReplyBuf),
) -> bool {
    if let Some((c, out)) = executing.as_mut() {
        if c.id == id {
            f(c, out);
            return true;
        }
    }
    let Some(Some(c)) = net.clients.get_mut(slot) else {
        return false;
    };
    if c.id != id {
        return false;
    }
    let mut out = std::mem::take(&mut c.out);
    f(c, &mut out);
    c.out = out;
    net.queue_write_slot(slot);
    true
}

/// An invalidation: a RESP3 `invalidate` push, or a `__redis__:invalidate` message for a RESP2
/// subscriber; the keys as an array, or null for "everything" (a flush).
fn write_invalidation(out: &mut ReplyBuf, keys: Option<&[Vec<u8>]>, as_message: bool) {
    if as_message {
        out.push(3);
        out.bulk(b"message");
        out.bulk(b"__redis__:invalidate");
    } else {
        out.push(2);
        out.bulk(b"invalidate");
    }
    match keys {
        Some(keys) => {
            out.array(keys.len());
            for k in keys {
                out.bulk(k);
            }
        }
        None => out.null(),
    }
}

/// Take a client's output buffer to execute it; the placeholder left keeps the protocol, which the
/// client's own state lines (CLIENT INFO's `resp=`) read meanwhile.
fn lend_output(c: &mut Client) -> ReplyBuf {
    let proto = c.out.proto;
    std::mem::replace(&mut c.out, ReplyBuf::new(proto))
}
