//! Listing keys: KEYS and SCAN.
//!
//! Neither ever returns a key past its deadline. KEYS only skips such keys (it walks the whole database
//! and deletes nothing); SCAN deletes the ones it meets, journaling each `DEL` on its own. Both match
//! with Redis's glob (`util::glob`, bounded time), where the pattern `*` alone also matches the empty
//! key, which a glob `*` does not.

use resp::{Aggregate, ReplyBuf};

use super::super::keyspace::{Report, Touch};
use super::super::{Args, Ctx};
use super::type_name;
use crate::error::{CmdError, CmdResult};
use crate::util::glob::glob_match;

/// KEYS pattern
pub fn keys(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let pattern = args.get(1);
    let all = pattern == b"*";
    let db = ctx.db();
    let header = out.defer();
    let mut n = 0;
    db.db.for_each(|e| {
        if (all || glob_match(pattern, e.key(), false)) && !db.is_expired(e.expire_at()) {
            out.bulk(e.key());
            n += 1;
        }
    });
    out.set_deferred(header, Aggregate::Array, n);
    Ok(())
}

/// A SCAN cursor as C's `strtoul` reads it in base 10, with Redis's extra checks: no leading blank,
/// nothing after the number (a NUL byte ends the text), no overflow. A sign is accepted (`-1` wraps to
/// the largest cursor) and an empty string is cursor 0.
pub fn parse_cursor(s: &[u8]) -> Option<u64> {
    // C's isspace in the "C" locale.
    if s.first().is_some_and(|&b| b == b' ' || (b'\t'..=b'\r').contains(&b)) {
        return None;
    }
    let s = s.split(|&b| b == 0).next().unwrap_or_default();
    let (negative, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        // No conversion: strtoul points back at the start, which is acceptable only if it is the end.
        return s.is_empty().then_some(0);
    }
    let mut v: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(if negative { v.wrapping_neg() } else { v })
}

/// The options of the SCAN family (SCAN, HSCAN, SSCAN, ZSCAN).
pub struct ScanOptions<'a> {
    /// COUNT: a positive integer, 10 by default.
    pub count: i64,
    /// MATCH, unless the pattern is `*` alone (which then also matches an empty name).
    pub pattern: Option<&'a [u8]>,
    /// TYPE (SCAN only), compared as a C string.
    pub type_filter: Option<&'a [u8]>,
}

/// Parse SCAN-family options from argument `from` on, with Redis's rules: each option takes a value,
/// COUNT must be at least 1, and anything else (TYPE too, unless `with_type`) is a syntax error.
pub fn parse_scan_options<'a>(args: &Args<'a>, from: usize, with_type: bool) -> Result<ScanOptions<'a>, CmdError> {
    let mut o = ScanOptions {
        count: 10,
        pattern: None,
        type_filter: None,
    };
    let mut i = from;
    while i < args.len() {
        let has_value = i + 1 < args.len();
        if args.is(i, "count") && has_value {
            o.count = args.int(i + 1)?;
            if o.count < 1 {
                return Err(CmdError::syntax());
            }
        } else if args.is(i, "match") && has_value {
            let p = args.get(i + 1);
            o.pattern = (p != b"*").then_some(p);
        } else if with_type && args.is(i, "type") && has_value {
            o.type_filter = args.get(i + 1).split(|&b| b == 0).next();
        } else {
            return Err(CmdError::syntax());
        }
        i += 2;
    }
    Ok(o)
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
///
/// Walks the table from `cursor` until about COUNT keys are gathered (at most ten times COUNT steps, so
/// a sparse table cannot hold the server), then filters them: pattern, type, expiry, in Redis's order.
/// The TYPE filter looks the key up first, which deletes it if it expired; such a key then has type
/// `none` and is no longer there to be filtered as expired, so `TYPE none` returns it (Redis 7.0 does).
pub fn scan(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut cursor = parse_cursor(args.get(1)).ok_or_else(|| CmdError::err("invalid cursor"))?;
    let ScanOptions {
        count,
        pattern,
        type_filter,
    } = parse_scan_options(args, 2, true)?;

    let mut db = ctx.db();
    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut steps_left = count.saturating_mul(10);
    loop {
        cursor = db.db.scan(cursor, |e| found.push(e.key().to_vec()));
        if cursor == 0 || steps_left == 0 || found.len() as i64 >= count {
            break;
        }
        steps_left -= 1;
    }

    let header_cursor = cursor.to_string();
    out.array(2);
    out.bulk(header_cursor.as_bytes());
    let header = out.defer();
    let mut n = 0;
    for key in &found {
        if pattern.is_some_and(|p| !glob_match(p, key, false)) {
            continue;
        }
        if let Some(wanted) = type_filter {
            let name = db
                .lookup_read_flags(key, Touch::No, Report::All)
                .map_or("none", |e| type_name(e.value()));
            if !wanted.eq_ignore_ascii_case(name.as_bytes()) {
                continue;
            }
        }
        if db.expire_if_needed(key) {
            continue;
        }
        out.bulk(key);
        n += 1;
    }
    out.set_deferred(header, Aggregate::Array, n);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_cursor;

    #[test]
    fn cursors_parse_like_strtoul() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b"17"), Some(17));
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"+5"), Some(5));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
        assert_eq!(parse_cursor(b"007"), Some(7));
        assert_eq!(parse_cursor(b"5\0junk"), Some(5));
        assert_eq!(parse_cursor(b" 1"), None);
        assert_eq!(parse_cursor(b"\t1"), None);
        assert_eq!(parse_cursor(b"1 "), None);
        assert_eq!(parse_cursor(b"+"), None);
        assert_eq!(parse_cursor(b"-"), None);
        assert_eq!(parse_cursor(b"0x10"), None);
        assert_eq!(parse_cursor(b"abc"), None);
    }
}
