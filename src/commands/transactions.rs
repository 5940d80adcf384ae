//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH, and the watched-key table.
//!
//! Inside MULTI, every command that passes the gates is queued (`dispatch::execute`); a gate refusal
//! marks the transaction failed, so EXEC answers `EXECABORT`. EXEC runs the queue through
//! `dispatch::call` one level down, so each queued command is counted, slow-logged and shown to MONITOR
//! as itself, and all their effects are committed to the journal as one unit (wrapped in MULTI/EXEC when
//! there are several). A command that fails at run time does not undo the others, as in Redis.
//!
//! WATCH is optimistic locking: [`Watches`] maps each watched key to its watchers, and every change to a
//! key (reported by the keyspace view on each write, by FLUSHDB/FLUSHALL/SWAPDB for whole databases)
//! marks them. Redis 7.0's expiry rules are kept: a key that expires while watched counts as changed
//! (EXEC checks the deadlines it did not see pass), while one already logically expired when WATCH ran
//! may be deleted by its expiry without counting as a change.

use std::collections::{HashMap, HashSet};

use resp::ReplyBuf;

use super::dispatch::{self, Caller};
use super::keyspace::is_expired;
use super::spec::Command;
use super::{Args, Ctx, OwnedArgs};
use crate::error::{CmdError, CmdResult};
use crate::server::client::Client;
use crate::server::core::Core;
use crate::storage::Db;

/// A client's open transaction.
#[derive(Default)]
pub struct MultiState {
    queued: Vec<Queued>,
    /// The queued commands' arguments, one after the other (one buffer, not one per command).
    args: OwnedArgs,
    /// The union of the queued commands' flags (the gates judge EXEC by them).
    flags: u64,
    /// A queued command was refused: EXEC will answer EXECABORT.
    failed: bool,
    /// Redis's `multi-mem` (CLIENT LIST): argument bytes plus a pointer per argument.
    mem: usize,
    /// While EXEC runs the queue (taken out to run it), how long it was: the client is still in its
    /// transaction until EXEC returns, as CLIENT LIST shows it.
    running: usize,
}

struct Queued {
    cmd: &'static Command,
    idx: usize,
    /// Its arguments in `MultiState::args`.
    at: std::ops::Range<usize>,
}

impl MultiState {
    /// Queue a command that passed the gates; `flags` are the request's (`dispatch::request_flags`).
    pub fn queue(&mut self, flags: u64, cmd: &'static Command, idx: usize, args: &Args<'_>) {
        self.flags |= flags;
        let bytes = self.args.mem();
        let at = self.args.extend(args);
        self.mem += self.args.mem() - bytes + at.len() * std::mem::size_of::<usize>();
        self.queued.push(Queued { cmd, idx, at });
    }

    /// A command was refused while the transaction was open.
    pub fn mark_failed(&mut self) {
        self.failed = true;
    }

    pub fn flags(&self) -> u64 {
        self.flags
    }

    /// How many commands are queued (CLIENT LIST's `multi=`).
    pub fn len(&self) -> usize {
        self.queued.len().max(self.running)
    }

    pub fn is_empty(&self) -> bool {
        self.queued.is_empty()
    }

    /// CLIENT LIST's `multi-mem`.
    pub fn mem(&self) -> usize {
        self.mem
    }
}

/// One key a client watches.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Watched {
    db: usize,
    key: Vec<u8>,
    /// The key was present but logically expired when watched: its deletion is no change.
    expired: bool,
}

/// Who watches which key, and which watchers saw a change (Redis's `CLIENT_DIRTY_CAS`).
#[derive(Debug, Default)]
pub struct Watches {
    by_key: HashMap<(usize, Vec<u8>), Vec<u64>>,
    by_client: HashMap<u64, Vec<Watched>>,
    dirty: HashSet<u64>,
}

impl Watches {
    /// Whether anybody watches anything (the cheap check every write makes first).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Start watching `key` in `db` (again: no effect).
    fn watch(&mut self, client: u64, db: usize, key: &[u8], expired: bool) {
        let mine = self.by_client.entry(client).or_default();
        if mine.iter().any(|w| w.db == db && w.key == key) {
            return;
        }
        mine.push(Watched {
            db,
            key: key.to_vec(),
            expired,
        });
        self.by_key.entry((db, key.to_vec())).or_default().push(client);
    }

    /// Stop watching everything, and forget whether anything changed.
    pub fn unwatch(&mut self, client: u64) {
        self.dirty.remove(&client);
        let Some(mine) = self.by_client.remove(&client) else {
            return;
        };
        for w in mine {
            let k = (w.db, w.key);
            if let Some(v) = self.by_key.get_mut(&k) {
                v.retain(|&c| c != client);
                if v.is_empty() {
                    self.by_key.remove(&k);
                }
            }
        }
    }

    /// A client went away.
    pub fn forget(&mut self, client: u64) {
        if !self.by_client.is_empty() {
            self.unwatch(client);
        }
    }

    /// Whether a watched key of `client` changed.
    pub fn is_dirty(&self, client: u64) -> bool {
        self.dirty.contains(&client)
    }

    /// How many keys `client` watches.
    pub fn count(&self, client: u64) -> usize {
        self.by_client.get(&client).map_or(0, Vec::len)
    }

    /// `key` in `db` changed; `exists` says whether it is still in the table. Its watchers are marked,
    /// except where the change is the deletion of a key that was already expired when watched.
    pub fn touch(&mut self, db: usize, key: &[u8], exists: bool) {
        if self.by_key.is_empty() {
            return;
        }
        let Some(watchers) = self.by_key.get(&(db, key.to_vec())) else {
            return;
        };
        for &c in watchers {
            if let Some(w) = self
                .by_client
                .get_mut(&c)
                .and_then(|v| v.iter_mut().find(|w| w.db == db && w.key == key))
            {
                if w.expired && !exists {
                    // Logically it was gone already; now it is gone for real. Later changes count.
                    w.expired = false;
                    continue;
                }
            }
            self.dirty.insert(c);
        }
    }

    /// Every key of database `db` is about to be removed (FLUSHDB, FLUSHALL) or replaced by those of
    /// `replaced_with` (SWAPDB): watchers of a key present on either side are marked, with the same
    /// expiry exemption as `touch`.
    pub fn touch_db(&mut self, db: usize, emptied: &Db, replaced_with: Option<&Db>, now_ms: i64) {
        if self.by_key.is_empty() {
            return;
        }
        let keys: Vec<(usize, Vec<u8>)> = self.by_key.keys().filter(|(d, _)| *d == db).cloned().collect();
        for (d, key) in keys {
            let before = emptied.get(&key).is_some();
            let after = replaced_with
                .and_then(|r| r.get(&key))
                .map(|e| is_expired(e.expire_at(), now_ms));
            match after {
                // Replaced by a logically expired key: as if it were not there, but watched as expired.
                Some(true) if !before => self.mark_expired(d, &key),
                Some(_) => self.touch(d, &key, true),
                None if before => self.touch(d, &key, false),
                None => {}
            }
        }
    }

    fn mark_expired(&mut self, db: usize, key: &[u8]) {
        let Some(watchers) = self.by_key.get(&(db, key.to_vec())) else {
            return;
        };
        for c in watchers {
            if let Some(w) = self
                .by_client
                .get_mut(c)
                .and_then(|v| v.iter_mut().find(|w| w.db == db && w.key == key))
            {
                w.expired = true;
            }
        }
    }

    /// Whether a key `client` watched while it was live has since passed its deadline (EXEC fails then,
    /// even if nobody deleted it yet).
    fn expired_since_watch(&self, client: u64, dbs: &[Db], now_ms: i64) -> bool {
        self.by_client.get(&client).is_some_and(|mine| {
            mine.iter().any(|w| {
                !w.expired
                    && dbs
                        .get(w.db)
                        .and_then(|db| db.get(&w.key))
                        .is_some_and(|e| is_expired(e.expire_at(), now_ms))
            })
        })
    }
}

/// End a client's transaction and its watches (DISCARD, a refused EXEC, RESET).
pub fn discard_transaction(core: &mut Core, client: &mut Client) {
    client.multi = None;
    core.watches.unwatch(client.id);
}

/// MULTI
pub fn multi(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err(CmdError::err("MULTI calls can not be nested"));
    }
    ctx.client.multi = Some(Box::default());
    out.ok();
    Ok(())
}

/// DISCARD
pub fn discard(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if ctx.client.multi.is_none() {
        return Err(CmdError::err("DISCARD without MULTI"));
    }
    discard_transaction(ctx.core, ctx.client);
    out.ok();
    Ok(())
}

/// EXEC: run the queued commands, unless the transaction failed while queueing (`EXECABORT`) or a
/// watched key changed (a null reply).
pub fn exec(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let Some(multi) = ctx.client.multi.as_deref_mut() else {
        return Err(CmdError::err("EXEC without MULTI"));
    };
    let (failed, queued, queued_args) = (
        multi.failed,
        std::mem::take(&mut multi.queued),
        std::mem::take(&mut multi.args),
    );
    multi.running = queued.len();
    let id = ctx.client.id;
    let changed =
        ctx.core.watches.is_dirty(id) || ctx.core.watches.expired_since_watch(id, &ctx.core.dbs, ctx.core.now_ms);
    ctx.core.watches.unwatch(id);
    if failed || changed {
        ctx.client.multi = None;
        if failed {
            return Err(CmdError::ExecAbort);
        }
        out.null_array();
        return Ok(());
    }
    out.array(queued.len());
    for q in &queued {
        dispatch::call(
            ctx.core,
            ctx.host.as_deref_mut(),
            ctx.client,
            q.cmd,
            q.idx,
            &queued_args.range(q.at.clone()),
            out,
            Caller::Exec,
        );
    }
    ctx.client.multi = None;
    Ok(())
}

/// WATCH key [key ...]
pub fn watch(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err(CmdError::err("WATCH inside MULTI is not allowed"));
    }
    let (id, index, now) = (ctx.client.id, ctx.client.db, ctx.core.now_ms);
    for key in args.rest(1) {
        let expired = ctx.core.dbs[index]
            .get(key)
            .is_some_and(|e| is_expired(e.expire_at(), now));
        ctx.core.watches.watch(id, index, key, expired);
    }
    out.ok();
    Ok(())
}

/// UNWATCH
pub fn unwatch(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    ctx.core.watches.unwatch(ctx.client.id);
    out.ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::dispatch::Outcome;
    use crate::testing::{bulk, ok, Harness};
    use resp::Value;

    #[test]
    fn exec_commits_its_writes_as_one_unit() {
        let mut h = Harness::new();
        h.tap_journal();
        h.run(&["MULTI"]);
        h.run(&["SET", "a", "1"]);
        h.run(&["SET", "b", "2", "EX", "100"]);
        h.run(&["GET", "a"]);
        assert!(h.effects().is_empty(), "nothing runs before EXEC");
        assert_eq!(h.run(&["EXEC"]), Value::Array(vec![ok(), ok(), bulk("1")]));
        let deadline = h.core.now_ms + 100_000;
        assert_eq!(
            h.effects(),
            [
                "SELECT 0".to_string(),
                "MULTI".into(),
                "SET a 1".into(),
                format!("SET b 2 PXAT {deadline}"),
                "EXEC".into()
            ]
        );
        // One write alone needs no wrapping; reads alone propagate nothing.
        h.run(&["MULTI"]);
        h.run(&["INCR", "a"]);
        h.run(&["GET", "a"]);
        h.run(&["EXEC"]);
        h.run(&["MULTI"]);
        h.run(&["GET", "a"]);
        h.run(&["EXEC"]);
        assert_eq!(h.effects(), ["INCR a"]);
    }

    #[test]
    fn exec_wraps_effects_in_several_databases() {
        let mut h = Harness::new();
        h.tap_journal();
        h.run(&["SELECT", "2"]);
        h.run(&["MULTI"]);
        h.run(&["SET", "j", "1"]);
        h.run(&["SELECT", "3"]);
        h.run(&["SET", "k", "1"]);
        h.run(&["EXEC"]);
        assert_eq!(
            h.effects(),
            ["SELECT 2", "MULTI", "SET j 1", "SELECT 3", "SET k 1", "EXEC"]
        );
    }

    #[test]
    fn a_blocking_pop_on_an_expired_key_still_journals_its_deletion() {
        let mut h = Harness::new();
        h.tap_journal();
        h.run(&["RPUSH", "l", "a"]);
        h.run(&["PEXPIRE", "l", "10"]);
        h.advance_ms(50);
        h.effects();
        let owned = crate::commands::OwnedArgs::from_slices([&b"BLPOP"[..], b"l", b"0"]);
        let mut out = resp::ReplyBuf::new(h.client.out.proto);
        let outcome = dispatch::execute(&mut h.core, None, &mut h.client, &owned.view(), &mut out);
        assert_eq!(outcome, Outcome::Blocked);
        assert_eq!(h.core.stats.expired_keys, 1);
        assert_eq!(h.effects(), ["DEL l"]);
    }

    #[test]
    fn a_new_journal_consumer_is_told_the_database_again() {
        let mut h = Harness::new();
        h.tap_journal();
        h.run(&["SET", "a", "1"]);
        assert_eq!(h.effects(), ["SELECT 0", "SET a 1"]);
        h.untap_journal();
        h.run(&["SET", "b", "1"]);
        h.tap_journal();
        h.run(&["SET", "c", "1"]);
        assert_eq!(h.effects(), ["SELECT 0", "SET c 1"]);
    }

    #[test]
    fn the_transaction_state_is_the_clients_until_exec() {
        let mut h = Harness::new();
        h.run(&["WATCH", "k"]);
        assert_eq!(h.core.watches.count(h.client.id), 1);
        h.run(&["MULTI"]);
        h.run(&["SET", "k", "1"]);
        assert_eq!(h.client.multi.as_ref().map(|m| m.len()), Some(1));
        h.run(&["DISCARD"]);
        assert!(h.client.multi.is_none());
        assert_eq!(h.core.watches.count(h.client.id), 0, "DISCARD unwatches");
        h.run(&["WATCH", "k"]);
        h.run(&["RESET"]);
        assert_eq!(h.core.watches.count(h.client.id), 0, "RESET unwatches");
    }

    #[test]
    fn touch_marks_every_watcher_once_and_unwatch_forgets() {
        let mut w = Watches::default();
        w.watch(1, 0, b"k", false);
        w.watch(1, 0, b"k", false);
        w.watch(2, 0, b"k", false);
        w.watch(2, 1, b"other", false);
        assert_eq!(w.count(1), 1);
        w.touch(1, b"k", true);
        assert!(!w.is_dirty(1) && !w.is_dirty(2), "another database's key");
        w.touch(0, b"k", true);
        assert!(w.is_dirty(1) && w.is_dirty(2));
        w.unwatch(1);
        assert!(!w.is_dirty(1));
        assert_eq!(w.count(1), 0);
        w.unwatch(2);
        assert!(w.is_empty());
    }

    #[test]
    fn deleting_a_key_expired_when_watched_is_no_change() {
        let mut w = Watches::default();
        w.watch(1, 0, b"k", true);
        w.touch(0, b"k", false);
        assert!(!w.is_dirty(1));
        // Once gone for real, any later change counts.
        w.touch(0, b"k", true);
        assert!(w.is_dirty(1));
        let mut w = Watches::default();
        w.watch(1, 0, b"k", true);
        w.touch(0, b"k", true);
        assert!(w.is_dirty(1), "overwriting an expired key is a change");
    }
}
