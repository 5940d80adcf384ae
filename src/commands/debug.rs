//! DEBUG and its subcommands (gated by `enable-debug-command` in dispatch).
//!
//! Each subcommand is accepted only with the argument count Redis 7.0 accepts; anything else, like an
//! unknown subcommand, gets `unknown subcommand or wrong number of arguments for '<sub>'. Try DEBUG
//! HELP.` Arguments are parsed the way Redis parses them here, which is leniently: `SLEEP` reads a
//! number prefix (`x` sleeps 0 s) and `SET-ACTIVE-EXPIRE` an integer prefix (anything but 0 turns
//! active expiry on).
//!
//! `DEBUG OBJECT` prints Redis's line with our values: the address of the value, a reference count
//! of 1 (values are never shared), the encoding, the value's size in an RDB file (without LZF
//! compression, which the RDB writer adds for strings over 20 bytes when it shrinks them), the
//! access clock and the seconds since the last access.

pub mod digest;

use std::time::Duration;

use resp::ReplyBuf;

use super::introspection::{reply_help, subcommand_syntax_error};
use super::keyspace::{Report, Touch};
use super::{Args, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::server::core::LRU_CLOCK_MAX;
use crate::server::persist;
use crate::storage::{NewValue, Object, ValueRef};

/// DEBUG subcommand [args...]
pub fn debug(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let argc = args.len();
    let sub = args.get(1).to_ascii_lowercase();
    match (sub.as_slice(), argc) {
        (b"help", 2) => help(out),
        (b"sleep", 3) => {
            debug_sleep(c_atof(args.get(2)));
            out.ok();
        }
        (b"set-active-expire", 3) => {
            ctx.core.active_expire_enabled = c_atoi(args.get(2)) != 0;
            out.ok();
        }
        (b"object", 3) => object(ctx, args.get(2), out)?,
        (b"populate", 3..=5) => populate(ctx, args, out)?,
        (b"digest", 2) => {
            let d = digest::dataset_digest(&ctx.core.dbs);
            out.simple(d.hex().as_bytes());
        }
        (b"digest-value", _) => {
            let db = &ctx.core.dbs[ctx.client.db];
            out.array(argc - 2);
            for key in args.rest(2) {
                let mut d = digest::Digest::default();
                if let Some(e) = db.get(key) {
                    digest::value_digest(&mut d, e.value(), e.expire_at().is_some());
                }
                out.simple(d.hex().as_bytes());
            }
        }
        (b"log", 3) => {
            let msg = until_nul(args.get(2));
            crate::log_warning!("DEBUG LOG: {}", String::from_utf8_lossy(msg));
            out.ok();
        }
        (b"protocol", 3) => protocol(args.get(2), out)?,
        (b"error", 3) => {
            // The argument itself is the error line (no `ERR` prefix), newlines turned into spaces.
            // Redis writes it as raw protocol, so it does not count in the error statistics.
            let mut line = Vec::with_capacity(args.get(2).len() + 3);
            line.push(b'-');
            line.extend(
                args.get(2)
                    .iter()
                    .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
            );
            line.extend_from_slice(b"\r\n");
            out.raw(&line);
        }
        (b"reload", _) => reload(ctx, args, out)?,
        (b"pause-cron", 3) => {
            ctx.core.cron_paused = c_atoi(args.get(2)) != 0;
            out.ok();
        }
        (b"change-repl-id", 2) => {
            ctx.core.replid = crate::server::core::random_hex40(&mut ctx.core.rng);
            out.ok();
        }
        (b"stringmatch-test", 2) => {
            stringmatch_fuzz(ctx);
            out.simple(b"Apparently Redis did not crash: test passed");
        }
        _ => return Err(subcommand_syntax_error(args)),
    }
    Ok(())
}

fn help(out: &mut ReplyBuf) {
    reply_help(
        out,
        "debug",
        &[
            "CHANGE-REPL-ID",
            "    Give the server a new random replication ID.",
            "DIGEST",
            "    Print a 40 hex digit signature of the whole dataset (same data, same signature,",
            "    here and on Redis).",
            "DIGEST-VALUE <key> [<key> ...]",
            "    Print the signature of each key's value (zeros for a missing key).",
            "ERROR <string>",
            "    Reply with <string> as an error line.",
            "LOG <message>",
            "    Write <message> to the server log.",
            "OBJECT <key>",
            "    Show how the value of <key> is stored.",
            "PAUSE-CRON <0|1>",
            "    Stop (1) or resume (0) the periodic jobs: active expiry, statistics, timeouts.",
            "POPULATE <count> [<prefix>] [<size>]",
            "    Create string keys <prefix>:0 .. <prefix>:<count-1> ('key' by default) holding",
            "    value:<n>, padded with zero bytes or cut to <size> bytes if given. Existing keys are",
            "    left alone, and nothing is propagated.",
            "RELOAD [MERGE] [NOFLUSH] [NOSAVE]",
            "    Save the RDB file, empty the dataset and load the file back. NOSAVE loads the file",
            "    as it is, NOFLUSH keeps the dataset, and MERGE lets the file's keys replace those",
            "    present instead of failing on them.",
            "PROTOCOL <type>",
            "    Reply with a sample of a RESP type: string, integer, double, bignum, null, array,",
            "    set, map, attrib, push, verbatim, true or false.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Stop (0) or resume (1) deleting expired keys in the background; reads still",
            "    delete the expired keys they meet.",
            "SLEEP <seconds>",
            "    Hold the server for <seconds> (decimals allowed) as a slow command would.",
            "STRINGMATCH-TEST",
            "    Run the glob matcher on random patterns and strings, to show it never fails.",
        ],
    );
}

/// DEBUG SLEEP: hold the server for `secs`, as a slow command would. Like Redis, the server is deaf
/// meanwhile: other clients' commands wait in their sockets and are served once it returns.
fn debug_sleep(secs: f64) {
    let secs = if secs.is_finite() { secs.clamp(0.0, 1e9) } else { 0.0 };
    std::thread::sleep(Duration::from_secs_f64(secs));
}

/// DEBUG OBJECT key (also sees a key whose TTL passed but that was not deleted yet, as Redis does).
fn object(ctx: &mut Ctx<'_>, key: &[u8], out: &mut ReplyBuf) -> CmdResult {
    let (lru_clock, compress) = (ctx.core.lru_clock, ctx.core.config.rdbcompression);
    let Some(e) = ctx.core.dbs[ctx.client.db].get(key) else {
        return Err(CmdError::err(crate::error::NO_SUCH_KEY));
    };
    let (addr, encoding) = match e.value() {
        ValueRef::Int(_) => (e.key().as_ptr(), "int"),
        ValueRef::Str(s, enc) => (s.as_ptr(), enc.name()),
        ValueRef::Obj(o) => (o as *const _ as *const u8, o.encoding()),
    };
    let lru = e.lru();
    let idle = if lru_clock >= lru {
        lru_clock - lru
    } else {
        lru_clock + (LRU_CLOCK_MAX - lru)
    };
    let mut line = format!(
        "Value at:{addr:p} refcount:1 encoding:{encoding} serializedlength:{} lru:{lru} lru_seconds_idle:{idle}",
        serialized_len(e.value(), compress)
    );
    if let ValueRef::Obj(Object::List(l)) = e.value() {
        // Redis adds the quicklist's shape.
        let nodes = l.node_count();
        let avg = if nodes == 0 { 0.0 } else { l.len() as f64 / nodes as f64 };
        line.push_str(&format!(
            " ql_nodes:{nodes} ql_avg_node:{avg:.2} ql_listpack_max:{} ql_compressed:{} ql_uncompressed_size:{}",
            l.fill(),
            (l.compress_depth() != 0) as u8,
            l.encoded_bytes()
        ));
    }
    out.simple(line.as_bytes());
    Ok(())
}

/// A value's size in an RDB file (its bytes after the type, compressed as `rdbcompression` says).
fn serialized_len(v: ValueRef<'_>, compress: bool) -> usize {
    let mut buf = Vec::new();
    crate::persistence::rdb::value::write_value(&mut buf, v, compress);
    buf.len()
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]
fn reload(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (mut merge, mut flush, mut save) = (false, true, true);
    for i in 2..args.len() {
        if args.is(i, "merge") {
            merge = true;
        } else if args.is(i, "noflush") {
            flush = false;
        } else if args.is(i, "nosave") {
            save = false;
        } else {
            return Err(CmdError::err(
                "DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
            ));
        }
    }
    // DEBUG is flagged `loading`, but a reload cannot start while another load fills the tables.
    if ctx.core.load_job.is_some() {
        return Err(CmdError::Loading);
    }
    persist::abort_bgsave(ctx.core);
    if save && persist::save(ctx.core).is_err() {
        return Err(CmdError::Coded("ERR".into()));
    }
    if flush {
        for index in 0..ctx.core.dbs.len() {
            crate::commands::keys::db::empty_db(ctx.core, index, false);
        }
        ctx.core.tracking.flush();
        ctx.core.functions.flush();
    }
    let path = persist::rdb_path(ctx.core);
    match persist::load(ctx.core, &path, merge) {
        Ok(Some(_)) => {}
        Ok(None) => {
            crate::log_warning!("Fatal error loading the DB: No such file or directory.");
            return Err(CmdError::err("Error trying to load the RDB dump, check server logs."));
        }
        Err(e) => {
            crate::log_warning!("{e}");
            return Err(CmdError::err("Error trying to load the RDB dump, check server logs."));
        }
    }
    crate::log_warning!("DB reloaded by DEBUG RELOAD");
    out.ok();
    Ok(())
}

/// DEBUG POPULATE count [prefix] [size]
fn populate(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let positive = |i: usize| match resp::request::parse_i64_strict(args.get(i)) {
        Some(n) if n >= 0 => Ok(n as u64),
        _ => Err(CmdError::err("value is out of range, must be positive")),
    };
    let count = positive(2)?;
    let size = if args.len() == 5 { positive(4)? as usize } else { 0 };
    let prefix: &[u8] = if args.len() >= 4 {
        until_nul(args.get(3))
    } else {
        b"key"
    };
    let lru = ctx.core.lru_clock;
    let mut db = ctx.db();
    for j in 0..count {
        let mut key = prefix.to_vec();
        key.extend_from_slice(format!(":{j}").as_bytes());
        // Redis formats the name into a 128-byte buffer.
        key.truncate(127);
        // A read that expires the key if its TTL passed, so an expired key is replaced.
        if db.lookup_read_flags(&key, Touch::No, Report::Nothing).is_some() {
            continue;
        }
        let mut value = format!("value:{j}").into_bytes();
        if size > 0 {
            value.resize(size, 0);
        }
        // Not a client write: no dirty count, no propagation (as in Redis).
        db.db.insert(&key, NewValue::Str(&value), None, lru);
    }
    out.ok();
    Ok(())
}

/// DEBUG PROTOCOL type: a sample reply of each RESP type (RESP3 clients' type tests).
fn protocol(name: &[u8], out: &mut ReplyBuf) -> CmdResult {
    match name.to_ascii_lowercase().as_slice() {
        b"string" => out.bulk(b"Hello World"),
        b"integer" => out.int(12345),
        // Redis's sample value (not an approximation of pi).
        #[allow(clippy::approx_constant)]
        b"double" => out.double(3.141),
        b"bignum" => out.big_number(b"1234567999999999999999999999999999999"),
        b"null" => out.null(),
        b"array" => {
            out.array(3);
            (0..3).for_each(|j| out.int(j));
        }
        b"set" => {
            out.set(3);
            (0..3).for_each(|j| out.int(j));
        }
        b"map" => {
            out.map(3);
            for j in 0..3 {
                out.int(j);
                out.boolean(j == 1);
            }
        }
        b"attrib" => {
            if out.is_resp3() {
                out.attribute(1);
                out.bulk(b"key-popularity");
                out.array(2);
                out.bulk(b"key:123");
                out.int(90);
            }
            out.bulk(b"Some real reply following the attribute");
        }
        b"push" => {
            if !out.is_resp3() {
                return Err(CmdError::err("RESP2 is not supported by this command"));
            }
            out.push(2);
            out.bulk(b"server-cpu-usage");
            out.int(42);
            out.bulk(b"Some real reply following the push reply");
        }
        b"true" => out.boolean(true),
        b"false" => out.boolean(false),
        b"verbatim" => out.verbatim(b"txt", b"This is a verbatim\nstring"),
        _ => {
            return Err(CmdError::err(
                "Wrong protocol type name. Please use one of the following: \
                 string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
            ))
        }
    }
    Ok(())
}

/// DEBUG STRINGMATCH-TEST: a million random patterns against random strings; the matcher must never
/// panic (it cannot hang: it runs in O(pattern × string)).
fn stringmatch_fuzz(ctx: &mut Ctx<'_>) {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ab*?[]^-\\\x00\xff";
    let rng = &mut ctx.core.rng;
    let mut pat = Vec::with_capacity(32);
    let mut s = Vec::with_capacity(32);
    for _ in 0..1_000_000 {
        pat.clear();
        s.clear();
        for _ in 0..rng.gen_range(0..32) {
            pat.push(ALPHABET[rng.gen_range(0..ALPHABET.len())]);
        }
        for _ in 0..rng.gen_range(0..32) {
            s.push(ALPHABET[rng.gen_range(0..ALPHABET.len())]);
        }
        std::hint::black_box(crate::util::glob::glob_match(&pat, &s, rng.gen()));
    }
}

/// C's `%s` ends at a NUL byte.
fn until_nul(a: &[u8]) -> &[u8] {
    match a.iter().position(|&b| b == 0) {
        Some(n) => &a[..n],
        None => a,
    }
}

/// C's `strtod` on the longest numeric prefix (0 if there is none), as DEBUG SLEEP reads it.
fn c_atof(a: &[u8]) -> f64 {
    let z = c_string(a);
    // SAFETY: `z` is NUL-terminated and outlives the call; a null end pointer is allowed.
    unsafe { libc::strtod(z.as_ptr() as *const libc::c_char, std::ptr::null_mut()) }
}

/// C's `atoi` (through `strtol`, which saturates): optional blanks and sign, then digits; 0 if none.
fn c_atoi(a: &[u8]) -> i64 {
    let z = c_string(a);
    // SAFETY: as above.
    unsafe { libc::strtol(z.as_ptr() as *const libc::c_char, std::ptr::null_mut(), 10) }
}

/// The argument as C sees it: up to its first NUL, NUL-terminated.
fn c_string(a: &[u8]) -> Vec<u8> {
    let mut z = until_nul(a).to_vec();
    z.push(0);
    z
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::StrEncoding;

    #[test]
    fn lenient_number_parsing() {
        assert_eq!(c_atof(b"0.25"), 0.25);
        assert_eq!(c_atof(b"1.5x"), 1.5);
        assert_eq!(c_atof(b"x"), 0.0);
        assert_eq!(c_atoi(b"2"), 2);
        assert_eq!(c_atoi(b" -3z"), -3);
        assert_eq!(c_atoi(b"x"), 0);
    }

    #[test]
    fn rdb_sizes() {
        // Figures from DEBUG OBJECT on redis-server 7.0 (strings too short for LZF).
        assert_eq!(serialized_len(ValueRef::Str(b"hello", StrEncoding::Embstr), true), 6);
        assert_eq!(serialized_len(ValueRef::Int(12345), true), 3);
        assert_eq!(serialized_len(ValueRef::Int(1), true), 2);
        assert_eq!(serialized_len(ValueRef::Str(b"123", StrEncoding::Embstr), true), 2);
        assert_eq!(serialized_len(ValueRef::Str(b"0123", StrEncoding::Embstr), true), 5);
        assert_eq!(serialized_len(ValueRef::Int(i64::MAX), true), 20);
        assert_eq!(serialized_len(ValueRef::Str(&[b'a'; 64], StrEncoding::Raw), false), 66);
    }
}
