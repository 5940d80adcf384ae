//! Clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN, ... and later XREAD BLOCK).
//!
//! A blocking handler that finds nothing to serve calls [`crate::commands::Ctx::block_on_keys`]; the
//! dispatcher then suspends the client (its request stays unconsumed at the front of its query buffer)
//! and registers it here, at the back of each key's FIFO queue. Any write that creates a key somebody
//! waits for marks the key *ready*; right after the command that did it (as Redis 7.0 does, before the
//! writer's next command), the loop walks the ready keys and re-runs each waiter's request in FIFO order
//! while the key still holds the type the waiter wants. A re-run that serves the client unblocks it; one
//! that finds nothing keeps its place in line and its original deadline. Deadlines sit in an ordered set,
//! so an idle server with many blocked clients does no per-client work.
//!
//! The loop's side (serving ready keys, timing waits out) is in `shard.rs`. Clients that disconnect
//! while blocked are removed through `Net::closed`; any stale entry that
//! slips through is skipped (every entry carries the client id, checked against the slot's occupant).

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use resp::{Frame, Limits, Parsed, RequestParser};

use super::client::Client;
use crate::error::CmdError;

/// The type a blocked command waits for. Redis 7.0 serves a waiter only when the ready key holds it (a
/// key recreated with another type leaves its waiters blocked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitType {
    List,
    ZSet,
    Stream,
}

impl WaitType {
    /// The `TYPE` name of the waited-for type.
    pub fn type_name(self) -> &'static str {
        match self {
            WaitType::List => "list",
            WaitType::ZSet => "zset",
            WaitType::Stream => "stream",
        }
    }
}

/// What a client gets when its wait times out (or CLIENT UNBLOCK ... TIMEOUT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutReply {
    /// `*-1` in RESP2, `_` in RESP3 (BLPOP, BZPOPMIN, BLMPOP ...).
    NullArray,
    /// `$-1` in RESP2, `_` in RESP3 (BLMOVE, BRPOPLPUSH).
    NullBulk,
}

/// What a handler asks for when it blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockSpec {
    pub db: usize,
    pub keys: Vec<Vec<u8>>,
    pub wait: WaitType,
    /// Absolute deadline in ms, `None` to wait forever.
    pub deadline_ms: Option<i64>,
    pub on_timeout: TimeoutReply,
    /// What the handler resolved when it first blocked and needs again on its re-runs, one argument per
    /// key (XREAD's `$` becomes the stream's last ID at that moment); empty for the others. A stopgap
    /// until the wait carries the resolved request itself.
    pub resolved: Vec<Vec<u8>>,
}

/// A client to wake: its id and slot in the client table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Waiter {
    pub id: u64,
    pub slot: usize,
}

/// The shard's table of blocked clients.
#[derive(Debug, Default)]
pub struct Blocking {
    waiting: HashMap<(usize, Vec<u8>), VecDeque<Waiter>>,
    ready: VecDeque<(usize, Vec<u8>)>,
    ready_set: HashSet<(usize, Vec<u8>)>,
    deadlines: BTreeSet<(i64, Waiter)>,
}

impl Blocking {
    /// Whether any client waits on any key (the cheap check writes make before signalling).
    #[inline]
    pub fn anyone_waiting(&self) -> bool {
        !self.waiting.is_empty()
    }

    /// Register a client that just blocked.
    pub fn add(&mut self, who: Waiter, spec: &BlockSpec) {
        for k in &spec.keys {
            let q = self.waiting.entry((spec.db, k.clone())).or_default();
            if !q.contains(&who) {
                q.push_back(who);
            }
        }
        if let Some(d) = spec.deadline_ms {
            self.deadlines.insert((d, who));
        }
    }

    /// Forget a client (served, timed out, unblocked or disconnected).
    pub fn remove(&mut self, who: Waiter, spec: &BlockSpec) {
        for k in &spec.keys {
            let key = (spec.db, k.clone());
            if let Some(q) = self.waiting.get_mut(&key) {
                q.retain(|w| *w != who);
                if q.is_empty() {
                    self.waiting.remove(&key);
                }
            }
        }
        if let Some(d) = spec.deadline_ms {
            self.deadlines.remove(&(d, who));
        }
    }

    /// A write created or refilled `key` in `db`: if anybody waits on it, queue it for serving.
    #[inline]
    pub fn signal(&mut self, db: usize, key: &[u8]) {
        if self.waiting.is_empty() {
            return;
        }
        let k = (db, key.to_vec());
        if self.waiting.contains_key(&k) && self.ready_set.insert(k.clone()) {
            self.ready.push_back(k);
        }
    }

    /// Signal every waited-for key of `db` (SWAPDB and FLUSHALL change whole databases at once).
    pub fn signal_db(&mut self, db: usize) {
        let keys: Vec<Vec<u8>> = self
            .waiting
            .keys()
            .filter(|(d, _)| *d == db)
            .map(|(_, k)| k.clone())
            .collect();
        for k in keys {
            self.signal(db, &k);
        }
    }

    #[inline]
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// The next ready key, oldest first.
    pub fn pop_ready(&mut self) -> Option<(usize, Vec<u8>)> {
        let k = self.ready.pop_front()?;
        self.ready_set.remove(&k);
        Some(k)
    }

    /// The clients waiting on a key, in the order they blocked.
    pub fn waiters(&self, db: usize, key: &[u8]) -> Vec<Waiter> {
        self.waiting
            .get(&(db, key.to_vec()))
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The earliest deadline, for the event loop's poll timeout.
    pub fn next_deadline(&self) -> Option<i64> {
        self.deadlines.first().map(|(d, _)| *d)
    }

    /// Clients whose deadline is at or before `now_ms`, earliest first.
    pub fn expired(&self, now_ms: i64) -> Vec<Waiter> {
        self.deadlines
            .iter()
            .take_while(|(d, _)| *d <= now_ms)
            .map(|(_, w)| *w)
            .collect()
    }

    /// Clients in the deadline table (INFO `clients_in_timeout_table`).
    pub fn in_timeout_table(&self) -> usize {
        self.deadlines.len()
    }

    /// Keys with waiters (INFO `blocking_keys` is not a 7.0 field; kept for tests and MEMORY).
    pub fn waited_keys(&self) -> usize {
        self.waiting.len()
    }
}

/// Parse a blocking command's timeout argument (seconds, fractional allowed) into an absolute deadline:
/// `None` for 0 (wait forever). As Redis 7.0: the seconds are a `long double`, rounded up to whole
/// milliseconds (so `0.0001` waits 1 ms and `-0.0001` waits forever), and anything whose milliseconds do
/// not fit (`inf`, `1e30`) is reported as negative.
pub fn parse_timeout(arg: &[u8], now_ms: i64) -> Result<Option<i64>, CmdError> {
    let ms = crate::util::ldouble::seconds_to_ms(arg)
        .map_err(|_| CmdError::err("timeout is not a float or out of range"))?;
    if ms < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    if ms == 0 {
        return Ok(None);
    }
    Ok(Some(now_ms.saturating_add(ms)))
}

// ---- releasing blocked clients ----

/// The length of the request at the front of a blocked client's query buffer (the one that blocked).
fn front_request_len(c: &Client, max_bulk_len: u64) -> Option<usize> {
    let limits = Limits {
        max_bulk_len,
        authenticated: c.authenticated,
        trusted: false,
    };
    let mut frame = Frame::new();
    match RequestParser::new().parse(&c.qbuf, &limits, &mut frame) {
        Ok(Parsed::Complete(n)) => Some(n),
        _ => None,
    }
}

/// End a client's wait without running its request again (timeout, CLIENT UNBLOCK): the request is
/// dropped from its query buffer, it leaves the blocking table, and the rest of its pipeline is queued
/// for processing. The caller writes the reply first.
pub fn release_unserved(blocking: &mut Blocking, pending: &mut VecDeque<usize>, c: &mut Client, max_bulk_len: u64) {
    if let Some(n) = front_request_len(c, max_bulk_len) {
        c.qbuf.drain(..n);
    }
    release(blocking, pending, c);
}

/// Take a client out of the blocking table and queue the rest of its pipeline.
pub fn release(blocking: &mut Blocking, pending: &mut VecDeque<usize>, c: &mut Client) {
    if let Some(b) = c.blocked.take() {
        if let Some(spec) = b.on_keys() {
            blocking.remove(Waiter { id: c.id, slot: c.slot }, spec);
        }
    }
    pending.push_back(c.slot);
}

/// Write the reply a wait gets when it times out.
pub fn write_timeout_reply(c: &mut Client, on_timeout: TimeoutReply) {
    if c.reply_mode != super::client::ReplyMode::On {
        return;
    }
    match on_timeout {
        TimeoutReply::NullArray => c.out.null_array(),
        TimeoutReply::NullBulk => c.out.null(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(keys: &[&str], deadline: Option<i64>) -> BlockSpec {
        BlockSpec {
            db: 0,
            keys: keys.iter().map(|k| k.as_bytes().to_vec()).collect(),
            wait: WaitType::List,
            deadline_ms: deadline,
            on_timeout: TimeoutReply::NullArray,
            resolved: vec![],
        }
    }

    #[test]
    fn fifo_per_key_and_signal_dedup() {
        let mut b = Blocking::default();
        let (w1, w2) = (Waiter { id: 1, slot: 0 }, Waiter { id: 2, slot: 1 });
        b.add(w1, &spec(&["a", "b"], None));
        b.add(w2, &spec(&["a"], Some(500)));
        assert_eq!(b.waiters(0, b"a"), vec![w1, w2]);
        b.signal(0, b"a");
        b.signal(0, b"a");
        b.signal(0, b"zzz");
        assert_eq!(b.pop_ready(), Some((0, b"a".to_vec())));
        assert_eq!(b.pop_ready(), None);
        assert_eq!(b.expired(499), vec![]);
        assert_eq!(b.expired(500), vec![w2]);
        b.remove(w1, &spec(&["a", "b"], None));
        assert_eq!(b.waiters(0, b"a"), vec![w2]);
        assert!(b.waiters(0, b"b").is_empty());
        b.remove(w2, &spec(&["a"], Some(500)));
        assert!(!b.anyone_waiting());
        assert_eq!(b.next_deadline(), None);
    }

    #[test]
    fn timeouts_parse_like_redis() {
        assert_eq!(parse_timeout(b"0", 1000), Ok(None));
        assert_eq!(parse_timeout(b"1.5", 1000), Ok(Some(2500)));
        assert_eq!(parse_timeout(b"-1", 0), Err(CmdError::err("timeout is negative")));
        assert_eq!(
            parse_timeout(b"x", 0),
            Err(CmdError::err("timeout is not a float or out of range"))
        );
        assert_eq!(parse_timeout(b"inf", 0), Err(CmdError::err("timeout is negative")));
        assert_eq!(parse_timeout(b"1e30", 0), Err(CmdError::err("timeout is negative")));
        assert_eq!(parse_timeout(b"-0.0001", 7), Ok(None));
        // Rounded up to a whole millisecond, as Redis 7.0 does.
        assert_eq!(parse_timeout(b"0.001", 7), Ok(Some(8)));
        assert_eq!(parse_timeout(b"0.0001", 7), Ok(Some(8)));
        assert_eq!(parse_timeout(b"1e-10", 7), Ok(Some(8)));
        assert_eq!(parse_timeout(b"0.0015", 7), Ok(Some(9)));
        assert_eq!(parse_timeout(b"-0.001", 7), Ok(None));
        assert_eq!(parse_timeout(b"-0.0011", 7), Err(CmdError::err("timeout is negative")));
        assert_eq!(parse_timeout(b"0x10", 0), Ok(Some(16_000)));
        assert_eq!(
            parse_timeout(b" 1", 0),
            Err(CmdError::err("timeout is not a float or out of range"))
        );
        assert_eq!(
            parse_timeout(b"nan", 0),
            Err(CmdError::err("timeout is not a float or out of range"))
        );
    }
}
