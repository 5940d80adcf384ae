//! String commands: GET/SET and friends, counters, ranges, LCS, bitmaps and bit fields.
//!
//! Values are stored as Redis 7.0 would encode them, because `OBJECT ENCODING` reports it: a value set
//! from a client's argument goes through [`encode`] (Redis's `tryObjectEncoding`: `int` when it is at
//! most 20 bytes and parses strictly as an i64, otherwise `embstr` up to 44 bytes, else `raw`); a value
//! edited in place (APPEND to an existing key, SETRANGE, SETBIT, BITFIELD) or built by BITOP is `raw`;
//! counters store `int`; INCRBYFLOAT stores its printed result like a client argument.
//!
//! Every handler parses and validates its arguments before it touches data, in Redis's order (which
//! decides which error wins when several apply: e.g. BITCOUNT looks the key up before it parses its
//! range, so a missing key answers 0 whatever the range says).
//!
//! Known differences from Redis 7.0, kept on purpose:
//! - Option keywords are compared as whole byte strings. Redis compares C strings, so there `NX\0junk`
//!   is `NX` and `i8\0junk` is a valid bit field type; nothing legitimate depends on that.
//! - BITFIELD that grows or creates the string is propagated even when every write in it failed with
//!   `OVERFLOW FAIL`. Redis 7.0 keeps the grown string but propagates nothing, so its replicas and AOF
//!   miss the key; here the journal always agrees with the data.

mod bitfield;
mod bits;
mod counter;
mod lcs;
mod range;

pub use bitfield::{bitfield, bitfield_ro};
pub use bits::{bitcount, bitop, bitpos, getbit, setbit};
pub use counter::{decr, decrby, incr, incrby, incrbyfloat};
pub use lcs::lcs;
pub use range::{append, getrange, setrange, strlen, substr};

use resp::ReplyBuf;

use super::args::parse_int;
use super::keyspace::{delete_verb, Ttl};
use super::{Args, Ctx};
use crate::error::{CmdError, CmdResult, INVALID_EXPIRE, STRING_TOO_LONG};
use crate::server::notify::class;
use crate::storage::{NewValue, ValueRef};
pub use crate::util::int_text::IntText;

/// Redis's `tryObjectEncoding` for a value that came from a client: `int` when it is at most 20 bytes
/// and parses strictly as an i64, otherwise a string (`embstr` up to 44 bytes, `raw` beyond, decided
/// by the storage layer).
pub fn encode(v: &[u8]) -> NewValue<'_> {
    if v.len() <= 20 {
        if let Some(i) = resp::request::parse_i64_strict(v) {
            return NewValue::Int(i);
        }
    }
    NewValue::Str(v)
}

/// A string value's bytes, whatever its encoding.
pub enum StrBytes<'a> {
    Slice(&'a [u8]),
    Int(IntText),
}

impl<'a> StrBytes<'a> {
    /// The bytes of a string value, or WRONGTYPE for any other type.
    pub fn of(v: ValueRef<'a>) -> Result<StrBytes<'a>, CmdError> {
        match v {
            ValueRef::Int(i) => Ok(StrBytes::Int(IntText::new(i))),
            ValueRef::Str(s, _) => Ok(StrBytes::Slice(s)),
            ValueRef::Obj(_) => Err(CmdError::WrongType),
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            StrBytes::Slice(s) => s,
            StrBytes::Int(t) => t.as_bytes(),
        }
    }
}

/// The length of a string value (STRLEN, APPEND, SETRANGE), or WRONGTYPE.
fn str_len(v: ValueRef<'_>) -> Result<usize, CmdError> {
    Ok(StrBytes::of(v)?.as_bytes().len())
}

/// Reply with a string value as a bulk string, or fail with WRONGTYPE.
fn reply_string(out: &mut ReplyBuf, v: ValueRef<'_>) -> CmdResult {
    match v {
        ValueRef::Int(i) => out.bulk_i64(i),
        ValueRef::Str(s, _) => out.bulk(s),
        ValueRef::Obj(_) => return Err(CmdError::WrongType),
    }
    Ok(())
}

/// Redis's `checkStringLength`: a string may not grow past `proto-max-bulk-len`.
fn check_string_length(current: u64, added: u64, max: u64) -> CmdResult {
    match current.checked_add(added) {
        Some(total) if total <= max => Ok(()),
        _ => Err(CmdError::err(STRING_TOO_LONG)),
    }
}

/// `proto-max-bulk-len`, the bound on any string a command builds.
fn max_string_len(ctx: &Ctx<'_>) -> u64 {
    ctx.core.config.proto_max_bulk_len
}

// ---- GET, SET and their variants ----

/// GET key
pub fn get(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    match db.lookup_read(args.get(1)) {
        None => out.null(),
        Some(e) => reply_string(out, e.value())?,
    }
    Ok(())
}

/// How an expiry argument is read: a relative or absolute time, in seconds or milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expiry {
    Ex,
    Px,
    ExAt,
    PxAt,
}

impl Expiry {
    fn from_word(w: &[u8]) -> Option<Expiry> {
        [
            ("ex", Expiry::Ex),
            ("px", Expiry::Px),
            ("exat", Expiry::ExAt),
            ("pxat", Expiry::PxAt),
        ]
        .into_iter()
        .find(|(name, _)| w.eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, e)| e)
    }

    fn in_seconds(self) -> bool {
        matches!(self, Expiry::Ex | Expiry::ExAt)
    }

    fn relative(self) -> bool {
        matches!(self, Expiry::Ex | Expiry::Px)
    }
}

/// The options of SET (and, with `for_set` false, of GETEX).
#[derive(Debug, Default)]
struct SetOptions<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    expire: Option<(Expiry, &'a [u8])>,
}

/// Parse SET/GETEX options from argument `from` on, with Redis's compatibility rules: NX and XX exclude
/// each other, KEEPTTL/PERSIST exclude any expiry, two different expiry kinds exclude each other, but
/// repeating the same option is allowed (the last expiry value wins). Any other word, an option of the
/// other command, or an expiry without its value is a syntax error. The expiry value itself is checked
/// later ([`expire_deadline`]), where Redis checks it.
fn parse_set_options<'a>(args: &Args<'a>, from: usize, for_set: bool) -> Result<SetOptions<'a>, CmdError> {
    let mut o = SetOptions::default();
    let mut j = from;
    while j < args.len() {
        let word = args.get(j);
        let is = |w: &str| word.eq_ignore_ascii_case(w.as_bytes());
        let expire_kind = o.expire.map(|(k, _)| k);
        if for_set && is("nx") && !o.xx {
            o.nx = true;
        } else if for_set && is("xx") && !o.nx {
            o.xx = true;
        } else if for_set && is("get") {
            o.get = true;
        } else if for_set && is("keepttl") && expire_kind.is_none() {
            o.keepttl = true;
        } else if !for_set && is("persist") && expire_kind.is_none() {
            o.persist = true;
        } else {
            match Expiry::from_word(word) {
                Some(k) if !o.keepttl && !o.persist && expire_kind.is_none_or(|e| e == k) && j + 1 < args.len() => {
                    o.expire = Some((k, args.get(j + 1)));
                    j += 1;
                }
                _ => return Err(CmdError::syntax()),
            }
        }
        j += 1;
    }
    Ok(o)
}

/// Redis's `getExpireMillisecondsOrReply`: the absolute deadline in milliseconds. The value must be a
/// positive integer (seconds small enough to convert), and the deadline, computed with wrapping
/// arithmetic as Redis's C does, must be positive; otherwise `invalid expire time in '<cmd>' command`.
fn expire_deadline(raw: &[u8], kind: Expiry, now_ms: i64, cmd: &str) -> Result<i64, CmdError> {
    let v = parse_int(raw)?;
    let invalid = || CmdError::err(INVALID_EXPIRE.replace("%s", cmd));
    if v <= 0 || (kind.in_seconds() && v > i64::MAX / 1000) {
        return Err(invalid());
    }
    let mut ms = if kind.in_seconds() { v * 1000 } else { v };
    if kind.relative() {
        ms = ms.wrapping_add(now_ms);
    }
    if ms <= 0 {
        return Err(invalid());
    }
    Ok(ms)
}

/// What SET-like commands answer on success and when NX/XX stops them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetReply {
    /// `+OK`, or a null when NX/XX stops the write (SET, SETEX, PSETEX).
    Ok,
    /// `:1`, or `:0` when NX stops the write (SETNX).
    Flag,
}

/// Redis's `setGenericCommand`, shared by SET, SETNX, SETEX and PSETEX.
fn set_generic(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    key: &[u8],
    value: &[u8],
    opts: &SetOptions<'_>,
    reply: SetReply,
    out: &mut ReplyBuf,
) -> CmdResult {
    let deadline = match opts.expire {
        Some((kind, raw)) => Some(expire_deadline(raw, kind, ctx.now_ms(), ctx.cmd.full_name)?),
        None => None,
    };
    let mut db = ctx.db();
    if opts.get {
        // The old value is the reply; once the type is checked nothing can fail, so it is written now.
        match db.lookup_read(key) {
            None => out.null(),
            Some(e) => reply_string(out, e.value())?,
        }
    }
    // Only NX and XX need to know whether the key exists (`set` handles an expired one itself).
    let stopped = (opts.nx || opts.xx) && {
        let found = db.lookup_write(key).is_some();
        (opts.nx && found) || (opts.xx && !found)
    };
    if stopped {
        if !opts.get {
            match reply {
                SetReply::Ok => out.null(),
                SetReply::Flag => out.int(0),
            }
        }
        return Ok(());
    }
    let ttl = match deadline {
        Some(at) => Ttl::At(at),
        None if opts.keepttl => Ttl::Keep,
        None => Ttl::Clear,
    };
    db.set(key, encode(value), ttl);
    db.notify(class::STRING, "set", key);
    if deadline.is_some() {
        db.notify(class::GENERIC, "expire", key);
    }
    if db.journal.active() {
        if let Some(at) = deadline {
            // A relative or absolute expiry travels as an absolute one; NX/XX/GET are dropped since the
            // write did happen.
            let at = IntText::new(at);
            db.journal
                .replace(db.index, &[b"SET", key, value, b"PXAT", at.as_bytes()]);
        } else if opts.get {
            // Without its GET words the command is a plain write; they are options only from index 3.
            let kept: Vec<&[u8]> = args
                .iter()
                .enumerate()
                .filter(|&(i, a)| i < 3 || !a.eq_ignore_ascii_case(b"get"))
                .map(|(_, a)| a)
                .collect();
            db.journal.replace(db.index, &kept);
        }
    }
    if !opts.get {
        match reply {
            SetReply::Ok => out.ok(),
            SetReply::Flag => out.int(1),
        }
    }
    Ok(())
}

/// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ts-ms|KEEPTTL]
///
/// `SET key value NX PX ms` is the lock primitive clients build on: the existence check and the write
/// happen in one handler call on the shard that owns the key, so it is atomic.
pub fn set(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let opts = parse_set_options(args, 3, true)?;
    set_generic(ctx, args, args.get(1), args.get(2), &opts, SetReply::Ok, out)
}

/// SETNX key value
pub fn setnx(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let opts = SetOptions {
        nx: true,
        ..SetOptions::default()
    };
    set_generic(ctx, args, args.get(1), args.get(2), &opts, SetReply::Flag, out)
}

/// SETEX key seconds value
pub fn setex(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    set_with_expiry(ctx, args, Expiry::Ex, out)
}

/// PSETEX key milliseconds value
pub fn psetex(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    set_with_expiry(ctx, args, Expiry::Px, out)
}

fn set_with_expiry(ctx: &mut Ctx<'_>, args: &Args<'_>, kind: Expiry, out: &mut ReplyBuf) -> CmdResult {
    let opts = SetOptions {
        expire: Some((kind, args.get(2))),
        ..SetOptions::default()
    };
    set_generic(ctx, args, args.get(1), args.get(3), &opts, SetReply::Ok, out)
}

/// GETEX key [EX s|PX ms|EXAT ts|PXAT ts-ms|PERSIST]
///
/// A missing key answers null before the expiry value is even looked at (Redis's order). The effect is
/// never the command itself: `PEXPIREAT` with the absolute deadline, `PERSIST`, or `DEL`/`UNLINK` when an
/// absolute deadline has already passed (then the key is deleted at once, as Redis does).
pub fn getex(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let opts = parse_set_options(args, 2, false)?;
    let key = args.get(1);
    let now = ctx.now_ms();
    let deadline = opts
        .expire
        .map(|(kind, raw)| (kind, expire_deadline(raw, kind, now, ctx.cmd.full_name)));
    // Redis's checkAlreadyExpired: never while loading or on a replica, which follow their source.
    let may_delete = !ctx.core.loading && !ctx.core.is_replica;
    let mut db = ctx.db();
    let had_ttl = match db.lookup_read(key) {
        None => {
            out.null();
            return Ok(());
        }
        Some(e) => {
            let value = StrBytes::of(e.value())?;
            if let Some((_, Err(err))) = &deadline {
                return Err(err.clone());
            }
            out.bulk(value.as_bytes());
            e.expire_at().is_some()
        }
    };
    match deadline {
        Some((kind, Ok(at))) if !kind.relative() && at <= now && may_delete => {
            db.delete_past_deadline(key);
        }
        Some((_, Ok(at))) => {
            db.set_expire(key, Some(at));
            db.notify(class::GENERIC, "expire", key);
            if db.journal.active() {
                db.journal
                    .replace(db.index, &[b"PEXPIREAT", key, IntText::new(at).as_bytes()]);
            }
        }
        Some((_, Err(_))) => {} // answered above
        None if opts.persist && had_ttl => {
            db.set_expire(key, None);
            db.notify(class::GENERIC, "persist", key);
            db.journal.replace(db.index, &[b"PERSIST", key]);
        }
        None => {}
    }
    Ok(())
}

/// GETDEL key
pub fn getdel(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let key = args.get(1);
    let unlink = ctx.core.config.lazyfree_lazy_user_del;
    let mut db = ctx.db();
    match db.lookup_read(key) {
        None => {
            out.null();
            return Ok(());
        }
        Some(e) => reply_string(out, e.value())?,
    }
    db.delete(key);
    let verb = delete_verb(unlink);
    db.journal.replace(db.index, &[verb, key]);
    Ok(())
}

/// GETSET key value (propagated as SET; the TTL is cleared like SET's).
pub fn getset(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (key, value) = (args.get(1), args.get(2));
    let mut db = ctx.db();
    match db.lookup_read(key) {
        None => out.null(),
        Some(e) => reply_string(out, e.value())?,
    }
    db.set(key, encode(value), Ttl::Clear);
    db.notify(class::STRING, "set", key);
    db.journal.replace(db.index, &[b"SET", key, value]);
    Ok(())
}

/// MGET key [key ...]: a key that is missing or not a string answers null.
pub fn mget(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    out.array(args.len() - 1);
    for key in args.rest(1) {
        match db.lookup_read(key).map(|e| e.value()) {
            Some(ValueRef::Int(i)) => out.bulk_i64(i),
            Some(ValueRef::Str(s, _)) => out.bulk(s),
            Some(ValueRef::Obj(_)) | None => out.null(),
        }
    }
    Ok(())
}

/// MSET/MSETNX take key-value pairs; an odd count is Redis's arity error.
fn check_pairs(ctx: &Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(CmdError::err(format!(
            "wrong number of arguments for '{}' command",
            ctx.cmd.full_name
        )));
    }
    Ok(())
}

fn set_pairs(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let mut db = ctx.db();
    for i in (1..args.len()).step_by(2) {
        db.set(args.get(i), encode(args.get(i + 1)), Ttl::Clear);
        db.notify(class::STRING, "set", args.get(i));
    }
}

/// MSET key value [key value ...]
pub fn mset(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    check_pairs(ctx, args)?;
    set_pairs(ctx, args);
    out.ok();
    Ok(())
}

/// MSETNX key value [key value ...]: all or nothing. A key repeated in the arguments is set twice
/// (the last value wins), as in Redis.
pub fn msetnx(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    check_pairs(ctx, args)?;
    let mut db = ctx.db();
    if (1..args.len())
        .step_by(2)
        .any(|i| db.lookup_write(args.get(i)).is_some())
    {
        out.int(0);
        return Ok(());
    }
    set_pairs(ctx, args);
    out.int(1);
    Ok(())
}

#[cfg(test)]
mod tests;
