//! The journal: one ordered stream of write effects, as RESP commands (DESIGN §5).
//!
//! Every write command's effect passes through here: by default the command as received, or what the
//! handler says it did instead (relative expiries become absolute `PXAT`/`PEXPIREAT`, lazily expired keys
//! become `DEL`, random commands become what they chose). The effects of one command are committed
//! together: several are wrapped in `MULTI`/`EXEC`, and a `SELECT` is emitted whenever the database
//! differs from the stream's last one. The stream's length is the replication offset.
//!
//! Commands run commands (EXEC, scripts, replay): the effects of every call under one outermost call
//! accumulate in order and are committed once, when the outermost call returns (`dispatch::call` brackets
//! each call with `enter_call`/`leave_call`, and the outermost with `begin`/`commit`). Whether a handler
//! replaced its default effect is tracked per call.
//!
//! Consumers (the AOF writer, later the replication backlog and replicas, tests) each read the stream
//! from a position of their own (`attach`, `unread`, `consume`); bytes every consumer has read are
//! dropped. A consumer that starts mid-stream learns the database selected at its start point from
//! `selected_db` (the stream only says SELECT when the database changes).
//!
//! Invariant: when nobody consumes the journal (no AOF, no replica, no test tap), nothing is recorded or
//! serialized; recording calls return at the first branch.

use crate::commands::Args;

/// The pending effects of a call set aside (`Journal::suspend`).
#[derive(Debug)]
pub struct Suspended {
    pending: Vec<(usize, Vec<Vec<u8>>)>,
    overridden: bool,
    unwrapped: bool,
}

/// A consumer of the journal's stream (`Journal::attach`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsumerId(usize);

/// The effects of the command being executed, committed when it completes.
#[derive(Debug, Default)]
pub struct Journal {
    /// Each consumer's position in the stream (an offset), `None` for a free slot.
    positions: Vec<Option<u64>>,
    consumers: usize,
    /// Effects of the current command: (database, arguments).
    pending: Vec<(usize, Vec<Vec<u8>>)>,
    /// The running call's handler replaced its default effect (the command as received).
    overridden: bool,
    /// The command's effects are committed one by one, not as a transaction (commands that touch
    /// arbitrary keys, like SCAN deleting the expired keys it meets).
    unwrapped: bool,
    /// Serialized stream not yet read by every consumer; `stream[0]` is at offset `stream_base`.
    stream: Vec<u8>,
    stream_base: u64,
    /// Bytes ever appended (the replication offset).
    offset: u64,
    /// Effects are being recorded (a script's `redis.set_repl(redis.REPL_NONE)` turns this off for the
    /// commands it runs).
    muted: bool,
    selected_db: Option<usize>,
}

impl Journal {
    /// Whether anything consumes the journal and effects are being recorded; recording is skipped
    /// otherwise.
    #[inline]
    pub fn active(&self) -> bool {
        self.consumers > 0 && !self.muted
    }

    /// Whether effects are recorded (not muted by a script's `redis.set_repl`).
    pub fn replicating(&self) -> bool {
        !self.muted
    }

    /// Record effects or not (a script's `redis.set_repl`, around the commands it runs).
    pub fn set_replicating(&mut self, on: bool) {
        self.muted = !on;
    }

    /// Register a consumer (AOF, replication, tests): it reads from the stream's current end.
    pub fn attach(&mut self) -> ConsumerId {
        self.consumers += 1;
        let at = Some(self.offset);
        match self.positions.iter().position(Option::is_none) {
            Some(i) => {
                self.positions[i] = at;
                ConsumerId(i)
            }
            None => {
                self.positions.push(at);
                ConsumerId(self.positions.len() - 1)
            }
        }
    }

    pub fn detach(&mut self, id: ConsumerId) {
        if let Some(slot @ Some(_)) = self.positions.get_mut(id.0) {
            *slot = None;
            self.consumers -= 1;
        }
        if self.consumers == 0 {
            self.stream.clear();
            self.stream_base = self.offset;
            // The next consumer starts a stream of its own, which must say its database again.
            self.selected_db = None;
        } else {
            self.compact();
        }
    }

    /// The stream this consumer has not read yet.
    pub fn unread(&self, id: ConsumerId) -> &[u8] {
        match self.positions.get(id.0).copied().flatten() {
            Some(at) => &self.stream[(at - self.stream_base) as usize..],
            None => &[],
        }
    }

    /// The consumer has read `n` more bytes of the stream.
    pub fn consume(&mut self, id: ConsumerId, n: usize) {
        if let Some(Some(at)) = self.positions.get_mut(id.0) {
            *at = (*at + n as u64).min(self.offset);
            self.compact();
        }
    }

    /// Drop what every consumer has read (all of it at once when everyone is at the end, the common
    /// case; otherwise once the read part is at least half the buffer, so moving bytes stays amortized).
    fn compact(&mut self) {
        let Some(low) = self.positions.iter().flatten().min().copied() else {
            return;
        };
        let read = (low - self.stream_base) as usize;
        if read == self.stream.len() {
            self.stream.clear();
        } else if read > 0 && read * 2 >= self.stream.len() {
            self.stream.drain(..read);
        } else {
            return;
        }
        self.stream_base = low;
    }

    /// The database the stream has selected at its end (`None` before its first SELECT).
    pub fn selected_db(&self) -> Option<usize> {
        self.selected_db
    }

    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Start recording the effects of an outermost call.
    #[inline]
    pub fn begin(&mut self) {
        if self.active() {
            self.pending.clear();
            self.overridden = false;
            self.unwrapped = false;
        }
    }

    /// A call starts (at any depth): its handler has not replaced its default effect yet. Returns the
    /// enclosing call's state, for `leave_call`.
    #[inline]
    pub fn enter_call(&mut self) -> bool {
        std::mem::replace(&mut self.overridden, false)
    }

    /// A call ends: record its default effect (the command as received) if it wrote and its handler did
    /// not say otherwise, then restore the enclosing call's state.
    #[inline]
    pub fn leave_call(&mut self, db: usize, args: &Args<'_>, dirty: bool, enclosing: bool) {
        if self.active() && dirty && !self.overridden {
            self.pending.push((db, args.to_vec()));
        }
        self.overridden = enclosing;
    }

    /// Set the outermost call's pending effects aside while the busy path runs other clients' commands
    /// as outermost calls of their own; `resume` puts them back.
    pub fn suspend(&mut self) -> Suspended {
        Suspended {
            pending: std::mem::take(&mut self.pending),
            overridden: std::mem::replace(&mut self.overridden, false),
            unwrapped: std::mem::replace(&mut self.unwrapped, false),
        }
    }

    pub fn resume(&mut self, s: Suspended) {
        self.pending = s.pending;
        self.overridden = s.overridden;
        self.unwrapped = s.unwrapped;
    }

    /// Commit this command's effects without `MULTI`/`EXEC` around them (Redis does so for commands
    /// flagged as touching arbitrary keys, whose effects are independent `DEL`s).
    pub fn unwrap_effects(&mut self) {
        if self.active() {
            self.unwrapped = true;
        }
    }

    /// Record an effect in addition to the command's own (e.g. the `DEL` of a lazily expired key).
    pub fn also(&mut self, db: usize, args: &[&[u8]]) {
        if self.active() {
            self.pending.push((db, args.iter().map(|a| a.to_vec()).collect()));
        }
    }

    /// Replace the command's default effect with this one (may be called several times to record
    /// several effects, e.g. one per key).
    pub fn replace(&mut self, db: usize, args: &[&[u8]]) {
        if self.active() {
            self.overridden = true;
            self.pending.push((db, args.iter().map(|a| a.to_vec()).collect()));
        }
    }

    /// The command has no effect to propagate even though it changed data.
    pub fn suppress(&mut self) {
        if self.active() {
            self.overridden = true;
        }
    }

    /// Append a standalone effect now, outside any command (the active expiry cycle's `DEL`s).
    pub fn record(&mut self, db: usize, args: &[&[u8]]) {
        if !self.active() {
            return;
        }
        self.select(db);
        self.emit_raw(args);
    }

    /// The outermost call is done: append the effects of everything that ran under it to the stream.
    pub fn commit(&mut self) {
        if !self.active() || self.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        let wrap = pending.len() > 1 && !self.unwrapped;
        if wrap {
            // Redis propagates MULTI in the first effect's database, so a SELECT comes before it.
            self.select(pending[0].0);
            self.emit_raw(&[b"MULTI"]);
        }
        for (db, effect) in &pending {
            self.select(*db);
            let refs: Vec<&[u8]> = effect.iter().map(|a| a.as_slice()).collect();
            self.emit_raw(&refs);
        }
        if wrap {
            self.emit_raw(&[b"EXEC"]);
        }
        self.pending = pending;
        self.pending.clear();
    }

    fn select(&mut self, db: usize) {
        if self.selected_db != Some(db) {
            self.emit_raw(&[b"SELECT", itoa::Buffer::new().format(db).as_bytes()]);
            self.selected_db = Some(db);
        }
    }

    fn emit_raw(&mut self, args: &[&[u8]]) {
        let start = self.stream.len();
        crate::persistence::aof::command(&mut self.stream, args);
        self.offset += (self.stream.len() - start) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::OwnedArgs;

    /// Everything the consumer has not read, marked read.
    fn take(j: &mut Journal, id: ConsumerId) -> Vec<u8> {
        let bytes = j.unread(id).to_vec();
        j.consume(id, bytes.len());
        bytes
    }

    #[test]
    fn nothing_recorded_without_consumers() {
        let mut j = Journal::default();
        let id = j.attach();
        j.detach(id);
        let a = OwnedArgs::from_slices([&b"SET"[..], b"k", b"v"]);
        j.begin();
        let outer = j.enter_call();
        j.also(0, &[b"DEL", b"x"]);
        j.leave_call(0, &a.view(), true, outer);
        j.commit();
        assert!(j.unread(id).is_empty());
        assert_eq!(j.offset(), 0);
    }

    #[test]
    fn select_and_multi_wrapping() {
        let mut j = Journal::default();
        let id = j.attach();
        let a = OwnedArgs::from_slices([&b"SET"[..], b"k", b"v"]);
        j.begin();
        let outer = j.enter_call();
        j.leave_call(0, &a.view(), true, outer);
        j.commit();
        j.begin();
        let outer = j.enter_call();
        j.also(1, &[b"DEL", b"old"]);
        j.leave_call(1, &a.view(), true, outer);
        j.commit();
        let s = String::from_utf8(take(&mut j, id)).unwrap();
        assert_eq!(
            s,
            "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n\
             *2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n*1\r\n$5\r\nMULTI\r\n*2\r\n$3\r\nDEL\r\n$3\r\nold\r\n\
             *3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*1\r\n$4\r\nEXEC\r\n"
        );
        assert_eq!(j.offset() as usize, s.len());
    }

    #[test]
    fn consumers_read_from_their_own_positions() {
        let mut j = Journal::default();
        let first = j.attach();
        j.record(0, &[b"DEL", b"a"]);
        let second = j.attach();
        assert_eq!(j.selected_db(), Some(0));
        j.record(0, &[b"DEL", b"b"]);
        let b = b"*2\r\n$3\r\nDEL\r\n$1\r\nb\r\n";
        assert_eq!(j.unread(second), b);
        assert!(j.unread(first).ends_with(b));
        let all = take(&mut j, first);
        assert!(all.starts_with(b"*2\r\n$6\r\nSELECT"));
        // Half read by the slower consumer: it still sees the rest, in pieces.
        j.consume(second, 3);
        assert_eq!(j.unread(second), &b[3..]);
        assert_eq!(take(&mut j, second), &b[3..]);
        assert!(j.unread(first).is_empty());
        j.detach(first);
        j.record(1, &[b"DEL", b"c"]);
        assert!(j.unread(second).starts_with(b"*2\r\n$6\r\nSELECT\r\n$1\r\n1"));
        assert_eq!(j.offset() as usize, all.len() + j.unread(second).len());
    }
}
