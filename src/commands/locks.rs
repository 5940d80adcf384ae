//! Locks with fencing tokens, a Ferrite extension (docs/locks.md): LOCK.ACQUIRE, LOCK.RENEW,
//! LOCK.RELEASE, LOCK.INFO, LOCK.FENCED, and LOCK.SET/LOCK.DEL, the forms the journal carries.
//!
//! Invariants the table keeps:
//! - A token `(epoch, counter)` is issued once: the counter is the server's and grows with every
//!   acquisition of any lock, and a token decided elsewhere (LOCK.SET from a master or a replay) raises
//!   the epoch and counter to at least its own, so tokens issued later are larger.
//! - A lease is a deadline on the monotonic clock (`Clock::monotonic_us`); wall-clock steps do not move it.
//!   An expired lock is free: every access treats it as absent, and the cron sweeps them away.
//! - A lock change is journaled as its decided effect (LOCK.SET with the token and the lease, LOCK.DEL),
//!   never as the request, so a replica or a replay reproduces the same tokens.
//!
//! Lock names are keys in the command table (cluster routing, ACL key patterns) but live here, not in
//! the keyspace.

use std::collections::HashMap;

use resp::ReplyBuf;

use super::dispatch::{self, Caller};
use super::spec::flags;
use super::table::{self, Lookup};
use super::{Args, Ctx};
use crate::error::{CmdError, CmdResult};

/// A fencing token: ordered by epoch, then counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Token {
    pub epoch: u64,
    pub counter: u64,
}

#[derive(Debug, Clone)]
struct Held {
    owner: Vec<u8>,
    token: Token,
    /// When the lease ends, on the monotonic clock (µs).
    until_us: i64,
}

/// The server's locks.
#[derive(Debug)]
pub struct Locks {
    epoch: u64,
    counter: u64,
    held: HashMap<Vec<u8>, Held>,
}

/// The largest epoch or counter: tokens are replied as RESP integers (signed 64-bit).
pub const TOKEN_MAX: u64 = i64::MAX as u64;

/// No token is left to issue (the epoch and the counter are both at `TOKEN_MAX`; only a forged
/// LOCK.SET can bring a server there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted;

/// Why LOCK.FENCED refused to run its command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stale {
    /// Nobody holds the lock (released, or the lease ran out).
    NotHeld,
    /// The lock is held under another token.
    OtherToken,
}

impl Locks {
    /// A table starting a new epoch: the wall-clock time in milliseconds (so a restarted server's
    /// tokens are larger than those it issued before, as long as its clock did not go back).
    pub fn new(now_wall_ms: i64) -> Locks {
        Locks {
            epoch: now_wall_ms.max(1) as u64,
            counter: 0,
            held: HashMap::new(),
        }
    }

    /// The lock's holder, if its lease is live.
    fn live(&self, name: &[u8], now_us: i64) -> Option<&Held> {
        self.held.get(name).filter(|h| h.until_us > now_us)
    }

    /// Acquire for `owner`: a new token, or the same one when `owner` holds it already (its lease is
    /// renewed). `Ok(None)` while another owner holds it.
    pub fn acquire(
        &mut self,
        name: &[u8],
        owner: &[u8],
        lease_us: i64,
        now_us: i64,
    ) -> Result<Option<Token>, Exhausted> {
        if let Some(h) = self.live(name, now_us) {
            if h.owner != owner {
                return Ok(None);
            }
            let token = h.token;
            self.set(name, owner, token, lease_us, now_us);
            return Ok(Some(token));
        }
        let token = self.next_token()?;
        self.set(name, owner, token, lease_us, now_us);
        Ok(Some(token))
    }

    /// The next token: the counter's next value, or the next epoch's first when the counter is at
    /// `TOKEN_MAX` (tokens stay within what a RESP integer carries).
    fn next_token(&mut self) -> Result<Token, Exhausted> {
        if self.counter >= TOKEN_MAX {
            if self.epoch >= TOKEN_MAX {
                return Err(Exhausted);
            }
            self.epoch += 1;
            self.counter = 0;
        }
        self.counter += 1;
        Ok(Token {
            epoch: self.epoch,
            counter: self.counter,
        })
    }

    /// Extend `owner`'s lease. Returns its token, or `None` when `owner` does not hold the lock.
    pub fn renew(&mut self, name: &[u8], owner: &[u8], lease_us: i64, now_us: i64) -> Result<Option<Token>, Exhausted> {
        let Some(token) = self.live(name, now_us).filter(|h| h.owner == owner).map(|h| h.token) else {
            return Ok(None);
        };
        self.set(name, owner, token, lease_us, now_us);
        Ok(Some(token))
    }

    /// Release `owner`'s lock. Returns whether it held it.
    pub fn release(&mut self, name: &[u8], owner: &[u8], now_us: i64) -> bool {
        if self.live(name, now_us).is_some_and(|h| h.owner == owner) {
            self.held.remove(name);
            return true;
        }
        false
    }

    /// The holder, its token and the lease left (µs).
    pub fn info(&self, name: &[u8], now_us: i64) -> Option<(&[u8], Token, i64)> {
        self.live(name, now_us)
            .map(|h| (h.owner.as_slice(), h.token, h.until_us - now_us))
    }

    /// Whether `token` is the live holder's.
    pub fn check(&self, name: &[u8], token: Token, now_us: i64) -> Result<(), Stale> {
        match self.live(name, now_us) {
            None => Err(Stale::NotHeld),
            Some(h) if h.token != token => Err(Stale::OtherToken),
            Some(_) => Ok(()),
        }
    }

    /// Install a decided holder (LOCK.SET, and the commands above); tokens issued from now on stay
    /// above it.
    pub fn set(&mut self, name: &[u8], owner: &[u8], token: Token, lease_us: i64, now_us: i64) {
        if token.epoch > self.epoch {
            self.epoch = token.epoch;
            self.counter = token.counter;
        } else if token.epoch == self.epoch {
            self.counter = self.counter.max(token.counter);
        }
        self.held.insert(
            name.to_vec(),
            Held {
                owner: owner.to_vec(),
                token,
                until_us: now_us.saturating_add(lease_us),
            },
        );
    }

    /// Forget a lock (LOCK.DEL).
    pub fn delete(&mut self, name: &[u8]) -> bool {
        self.held.remove(name).is_some()
    }

    /// Drop the expired locks (the cron).
    pub fn sweep(&mut self, now_us: i64) {
        if !self.held.is_empty() {
            self.held.retain(|_, h| h.until_us > now_us);
        }
    }

    /// How many locks are held.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}

/// A lease argument: whole milliseconds, at least 1.
fn lease_arg(args: &Args<'_>, i: usize) -> Result<i64, CmdError> {
    match args.int(i) {
        Ok(ms) if ms > 0 && ms <= i64::MAX / 1000 => Ok(ms * 1000),
        _ => Err(CmdError::err(format!(
            "invalid lease time in '{}' command",
            String::from_utf8_lossy(args.get(0)).to_ascii_lowercase()
        ))),
    }
}

/// A token from two arguments (epoch, counter), each from 0 to `TOKEN_MAX`.
fn token_arg(args: &Args<'_>, i: usize) -> Result<Token, CmdError> {
    let part = |j: usize| {
        resp::request::parse_i64_strict(args.get(j))
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| CmdError::err("invalid fencing token"))
    };
    Ok(Token {
        epoch: part(i)?,
        counter: part(i + 1)?,
    })
}

fn reply_token(out: &mut ReplyBuf, t: Token) {
    out.array(2);
    out.int(t.epoch as i64);
    out.int(t.counter as i64);
}

/// Journal a lock's new holder as LOCK.SET (the decided token and the lease, in ms).
fn journal_set(ctx: &mut Ctx<'_>, name: &[u8], owner: &[u8], t: Token, lease_us: i64) {
    if ctx.core.journal.active() {
        let (e, c, l) = (
            t.epoch.to_string(),
            t.counter.to_string(),
            (lease_us / 1000).to_string(),
        );
        let db = ctx.client.db;
        ctx.core.journal.replace(
            db,
            &[b"LOCK.SET", name, owner, e.as_bytes(), c.as_bytes(), l.as_bytes()],
        );
    }
}

/// Acquire or renew (`op` decides): a granted lease is counted as a change and journaled as LOCK.SET.
type LeaseOp = fn(&mut Locks, &[u8], &[u8], i64, i64) -> Result<Option<Token>, Exhausted>;

fn grant(ctx: &mut Ctx<'_>, args: &Args<'_>, op: LeaseOp) -> Result<Option<Token>, CmdError> {
    let lease = lease_arg(args, 3)?;
    let (name, owner) = (args.get(1), args.get(2));
    let now = ctx.core.monotonic_us();
    let granted = op(&mut ctx.core.locks, name, owner, lease, now)
        .map_err(|Exhausted| CmdError::err("no fencing token is left to issue"))?;
    if let Some(t) = granted {
        ctx.core.stats.dirty += 1;
        journal_set(ctx, name, owner, t, lease);
    }
    Ok(granted)
}

/// LOCK.ACQUIRE name owner lease-ms: the fencing token, or null while another owner holds it.
pub fn acquire(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    match grant(ctx, args, Locks::acquire)? {
        Some(t) => reply_token(out, t),
        None => out.null_array(),
    }
    Ok(())
}

/// LOCK.RENEW name owner lease-ms: 1 when renewed, 0 when `owner` does not hold the lock.
pub fn renew(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    out.int(grant(ctx, args, Locks::renew)?.is_some() as i64);
    Ok(())
}

/// LOCK.RELEASE name owner: 1 when released, 0 when `owner` did not hold it.
pub fn release(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (name, owner) = (args.get(1), args.get(2));
    let now = ctx.core.monotonic_us();
    let released = ctx.core.locks.release(name, owner, now);
    if released {
        ctx.core.stats.dirty += 1;
        let db = ctx.client.db;
        ctx.core.journal.replace(db, &[b"LOCK.DEL", name]);
    }
    out.int(released as i64);
    Ok(())
}

/// LOCK.INFO name: null when free, else [owner, epoch, counter, lease left in ms].
pub fn info(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let now = ctx.core.monotonic_us();
    match ctx.core.locks.info(args.get(1), now) {
        Some((owner, t, left_us)) => {
            out.array(4);
            out.bulk(owner);
            out.int(t.epoch as i64);
            out.int(t.counter as i64);
            out.int((left_us + 999) / 1000);
        }
        None => out.null_array(),
    }
    Ok(())
}

/// LOCK.SET name owner epoch counter lease-ms: install a decided holder (what the journal carries).
pub fn set(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let token = token_arg(args, 3)?;
    let lease = lease_arg(args, 5)?;
    let now = ctx.core.monotonic_us();
    ctx.core.locks.set(args.get(1), args.get(2), token, lease, now);
    ctx.core.stats.dirty += 1;
    out.ok();
    Ok(())
}

/// LOCK.DEL name: forget a lock (what the journal carries for a release).
pub fn del(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let deleted = ctx.core.locks.delete(args.get(1));
    if deleted {
        ctx.core.stats.dirty += 1;
    }
    out.int(deleted as i64);
    Ok(())
}

/// Where LOCK.FENCED's command begins in its arguments.
pub const FENCED_COMMAND_AT: usize = 4;

/// The command a LOCK.FENCED request runs, if its arguments name one (the gates judge the request by
/// its flags too).
pub fn fenced_command(args: &Args<'_>) -> Option<&'static super::spec::Command> {
    if args.len() <= FENCED_COMMAND_AT {
        return None;
    }
    match table::lookup_from(args, FENCED_COMMAND_AT) {
        Lookup::Found(cmd, _) => Some(cmd),
        _ => None,
    }
}

/// LOCK.FENCED name epoch counter command [arg ...]: run `command` only while `name` is held under
/// exactly this token. The check and the command are one step (nothing runs between them); the
/// command runs one level down as this client's, and only its effect is journaled.
pub fn fenced(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let token = token_arg(args, 2)?;
    let inner_args: Vec<&[u8]> = args.rest(FENCED_COMMAND_AT).collect();
    let owned = super::OwnedArgs::from_slices(inner_args.iter().copied());
    let inner = owned.view();
    let (cmd, idx) = match table::lookup_args(&inner) {
        Lookup::Found(cmd, idx) => (cmd, idx),
        _ => return Err(CmdError::Coded(dispatch::unknown_command_error(&inner_args).into())),
    };
    if !cmd.arity_ok(inner.len()) {
        return Err(CmdError::Coded(dispatch::arity_error(cmd).into()));
    }
    // What a script may not run (blocking commands, transactions, scripts, admin), LOCK.FENCED may
    // not either.
    if cmd.has(flags::NOSCRIPT) {
        return Err(CmdError::err("This command is not allowed in LOCK.FENCED"));
    }
    let now = ctx.core.monotonic_us();
    if let Err(stale) = ctx.core.locks.check(args.get(1), token, now) {
        let name = String::from_utf8_lossy(args.get(1));
        return Err(CmdError::Coded(
            match stale {
                Stale::NotHeld => format!("STALE lock '{name}' is not held"),
                Stale::OtherToken => format!("STALE lock '{name}' is held under another fencing token"),
            }
            .into(),
        ));
    }
    // The command's own effect is journaled, not LOCK.FENCED (a replica applies the write; the fence
    // was decided here).
    ctx.core.journal.suppress();
    let caller = match ctx.core.exec.caller() {
        Caller::Client => Caller::Exec,
        other => other,
    };
    dispatch::call(
        ctx.core,
        ctx.host.as_deref_mut(),
        ctx.client,
        cmd,
        idx,
        &inner,
        out,
        caller,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{bulk, ok, Harness};
    use resp::Value;

    fn token(v: &Value) -> Token {
        match v {
            Value::Array(x) => match (&x[0], &x[1]) {
                (Value::Int(e), Value::Int(c)) => Token {
                    epoch: *e as u64,
                    counter: *c as u64,
                },
                _ => panic!("token {v:?}"),
            },
            other => panic!("not a token: {other:?}"),
        }
    }

    #[test]
    fn tokens_grow_and_never_repeat() {
        let tok = |epoch, counter| Token { epoch, counter };
        let mut l = Locks::new(1_000);
        let a = l.acquire(b"x", b"o1", 1_000, 0).unwrap().expect("free");
        assert_eq!(l.acquire(b"x", b"o2", 1_000, 10), Ok(None), "held by o1");
        assert_eq!(l.acquire(b"x", b"o1", 1_000, 20), Ok(Some(a)), "the holder again");
        assert!(l.release(b"x", b"o1", 30));
        let b = l.acquire(b"x", b"o2", 1_000, 40).unwrap().expect("free again");
        assert!(b > a);
        let c = l.acquire(b"y", b"o1", 1_000, 40).unwrap().expect("another lock");
        assert!(c > b, "the counter is the server's");
        // A token decided elsewhere keeps later ones above it.
        l.set(b"z", b"o", tok(5_000, 7), 1_000, 50);
        assert_eq!(l.acquire(b"w", b"o", 1_000, 50), Ok(Some(tok(5_000, 8))));
        // At the counter's end the next epoch begins; past the last epoch there is no token.
        l.set(b"z", b"o", tok(5_000, TOKEN_MAX), 1_000, 60);
        assert_eq!(l.acquire(b"v", b"o", 1_000, 60), Ok(Some(tok(5_001, 1))));
        l.set(b"z", b"o", tok(TOKEN_MAX, TOKEN_MAX), 1_000, 70);
        assert_eq!(l.acquire(b"u", b"o", 1_000, 70), Err(Exhausted));
        assert_eq!(l.acquire(b"z", b"o", 1_000, 70), Ok(Some(tok(TOKEN_MAX, TOKEN_MAX))));
    }

    #[test]
    fn leases_end_on_the_monotonic_clock() {
        let mut l = Locks::new(1);
        let t = l.acquire(b"x", b"o", 100, 0).unwrap().expect("free");
        assert_eq!(l.check(b"x", t, 99), Ok(()));
        assert_eq!(l.check(b"x", t, 100), Err(Stale::NotHeld));
        assert_eq!(l.renew(b"x", b"o", 100, 100), Ok(None), "too late to renew");
        let u = l.acquire(b"x", b"p", 100, 100).unwrap().expect("free after the lease");
        assert_eq!(l.check(b"x", t, 150), Err(Stale::OtherToken));
        assert_eq!(l.check(b"x", u, 150), Ok(()));
        l.sweep(1_000);
        assert!(l.is_empty());
    }

    #[test]
    fn a_wall_clock_step_neither_shortens_nor_extends_a_lease() {
        let mut h = Harness::new();
        let t = token(&h.run(&["LOCK.ACQUIRE", "res", "me", "10000"]));
        h.run(&["SET", "ttl", "v", "PX", "10000"]);
        // The wall clock jumps an hour ahead: the key's TTL is gone, the lease is not.
        let wall = h.core.clock_now_us();
        h.clock.set_us(wall + 3_600_000_000);
        h.core.update_time();
        assert_eq!(h.run(&["GET", "ttl"]), Value::NullBulk);
        assert_eq!(
            h.run(&[
                "LOCK.FENCED",
                "res",
                &t.epoch.to_string(),
                &t.counter.to_string(),
                "SET",
                "a",
                "1"
            ]),
            ok()
        );
        // Back an hour: the lease does not get longer either; it ends 10 s after it began.
        h.clock.set_us(wall - 3_600_000_000);
        h.advance_ms(10_001);
        assert_eq!(h.run(&["LOCK.INFO", "res"]), Value::NullArray);
        assert!(matches!(
            h.run(&["LOCK.FENCED", "res", &t.epoch.to_string(), &t.counter.to_string(), "SET", "a", "2"]),
            Value::Error(e) if e.starts_with(b"STALE")
        ));
        assert_eq!(h.run(&["GET", "a"]), bulk("1"));
    }

    #[test]
    fn fenced_names_its_lock_and_the_keys_of_its_command() {
        let mut h = Harness::new();
        assert_eq!(
            h.run(&[
                "COMMAND",
                "GETKEYS",
                "LOCK.FENCED",
                "res",
                "1",
                "2",
                "MSET",
                "a",
                "1",
                "b",
                "2"
            ]),
            Value::Array(vec![bulk("res"), bulk("a"), bulk("b")])
        );
        assert_eq!(
            h.run(&["COMMAND", "GETKEYS", "LOCK.FENCED", "res", "1", "2", "PING"]),
            Value::Array(vec![bulk("res")])
        );
    }

    #[test]
    fn lock_changes_are_journaled_as_their_decisions() {
        let mut h = Harness::new();
        h.tap_journal();
        let t = token(&h.run(&["LOCK.ACQUIRE", "res", "me", "5000"]));
        assert_eq!(h.run(&["LOCK.ACQUIRE", "res", "you", "5000"]), Value::NullArray);
        let (e, c) = (t.epoch.to_string(), t.counter.to_string());
        h.run(&["LOCK.RENEW", "res", "me", "7000"]);
        h.run(&["LOCK.FENCED", "res", &e, &c, "INCR", "n"]);
        h.run(&["LOCK.RELEASE", "res", "me"]);
        assert_eq!(
            h.effects(),
            [
                "SELECT 0".to_string(),
                format!("LOCK.SET res me {e} {c} 5000"),
                format!("LOCK.SET res me {e} {c} 7000"),
                "INCR n".into(),
                "LOCK.DEL res".into(),
            ]
        );
        // What the journal carries reproduces the same holder and token.
        let mut r = Harness::new();
        r.run(&["LOCK.SET", "res", "me", &e, &c, "5000"]);
        assert_eq!(token(&r.run(&["LOCK.ACQUIRE", "res", "me", "5000"])), t);
        assert!(token(&r.run(&["LOCK.ACQUIRE", "other", "me", "5000"])) > t);
    }
}
