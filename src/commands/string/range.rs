//! Byte ranges of a string: STRLEN, APPEND, GETRANGE (SUBSTR), SETRANGE.

use resp::ReplyBuf;

use super::{check_string_length, encode, max_string_len, str_len, StrBytes};
use crate::commands::keyspace::Ttl;
use crate::commands::{Args, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::server::notify::class;
use crate::storage::NewValue;

/// STRLEN key
pub fn strlen(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let n = match db.lookup_read(args.get(1)) {
        None => 0,
        Some(e) => str_len(e.value())?,
    };
    out.int(n as i64);
    Ok(())
}

/// APPEND key value
///
/// A new key stores the argument as SET would (so it may be `int` or `embstr`); appending to an
/// existing value makes it `raw`.
pub fn append(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (key, tail) = (args.get(1), args.get(2));
    let max = max_string_len(ctx);
    let mut db = ctx.db();
    let appended = match db.lookup_write(key) {
        Some(mut e) => {
            // Check before touching: a refused append must leave the value (and its encoding) alone.
            let len = str_len(e.value())?;
            check_string_length(len as u64, tail.len() as u64, max)?;
            let s = e.string_mut().ok_or(CmdError::WrongType)?;
            s.extend_from_slice(tail);
            Some(s.len())
        }
        None => None,
    };
    let len = match appended {
        Some(len) => {
            // Redis counts a change (and reports it) even for an empty tail.
            db.changed(key, 1, class::STRING, "append");
            len
        }
        None => {
            db.set(key, encode(tail), Ttl::Clear);
            db.stored(key, 1, class::STRING, "append");
            tail.len()
        }
    };
    out.int(len as i64);
    Ok(())
}

/// Redis's GETRANGE clamping: negative indexes count from the end, out-of-range bounds clamp, and an
/// empty result is `None`. Both ends are inclusive.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let len = len as i64;
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end }.max(0).min(len - 1);
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize))
}

/// GETRANGE key start end
pub fn getrange(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (start, end) = (args.int(2)?, args.int(3)?);
    let mut db = ctx.db();
    let Some(e) = db.lookup_read(args.get(1)) else {
        out.bulk(b"");
        return Ok(());
    };
    let value = StrBytes::of(e.value())?;
    let s = value.as_bytes();
    match clamp_range(start, end, s.len()) {
        Some((a, b)) => out.bulk(&s[a..=b]),
        None => out.bulk(b""),
    }
    Ok(())
}

/// SUBSTR key start end (GETRANGE's old name)
pub fn substr(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    getrange(ctx, args, out)
}

/// SETRANGE key offset value
///
/// An empty value changes nothing (not even a missing key, whatever the offset) and answers the
/// current length. Otherwise the string is zero-padded up to `offset` and the value written there;
/// the result may not exceed `proto-max-bulk-len`, checked before anything is allocated.
pub fn setrange(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let key = args.get(1);
    let offset = args.int(2)?;
    if offset < 0 {
        return Err(CmdError::err("offset is out of range"));
    }
    let value = args.get(3);
    let max = max_string_len(ctx);
    let mut db = ctx.db();
    let existing = match db.lookup_write(key) {
        Some(mut e) => {
            let len = str_len(e.value())?;
            if value.is_empty() {
                Some((len, false))
            } else {
                check_string_length(offset as u64, value.len() as u64, max)?;
                let s = e.string_mut().ok_or(CmdError::WrongType)?;
                Some((write_at(s, offset as usize, value), true))
            }
        }
        None => None,
    };
    let len = match existing {
        Some((len, changed)) => {
            db.changed(key, u64::from(changed), class::STRING, "setrange");
            len
        }
        None if value.is_empty() => 0,
        None => {
            check_string_length(offset as u64, value.len() as u64, max)?;
            let mut s = Vec::new();
            let len = write_at(&mut s, offset as usize, value);
            db.set(key, NewValue::Raw(s), Ttl::Clear);
            db.stored(key, 1, class::STRING, "setrange");
            len
        }
    };
    out.int(len as i64);
    Ok(())
}

/// Write `value` at `offset`, zero-padding the string as needed; returns the new length.
fn write_at(s: &mut Vec<u8>, offset: usize, value: &[u8]) -> usize {
    let end = offset + value.len();
    if s.len() < end {
        s.resize(end, 0);
    }
    s[offset..end].copy_from_slice(value);
    s.len()
}

#[cfg(test)]
mod tests {
    use super::clamp_range;

    #[test]
    fn getrange_clamping() {
        assert_eq!(clamp_range(0, -1, 6), Some((0, 5)));
        assert_eq!(clamp_range(-3, -1, 6), Some((3, 5)));
        assert_eq!(clamp_range(-1, -5, 6), None);
        assert_eq!(clamp_range(-100, 100, 3), Some((0, 2)));
        assert_eq!(clamp_range(5, 2, 6), None);
        assert_eq!(clamp_range(0, 0, 0), None);
        assert_eq!(clamp_range(i64::MIN, i64::MAX, 4), Some((0, 3)));
        assert_eq!(clamp_range(10, 20, 4), None);
        assert_eq!(clamp_range(-1, i64::MIN, 4), None);
    }
}
