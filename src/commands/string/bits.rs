//! Bitmaps: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP. Bits are numbered from the most significant bit
//! of the first byte; bytes past the end of the string read as zero.

use resp::ReplyBuf;

use super::{max_string_len, StrBytes};
use crate::commands::keyspace::Ttl;
use crate::commands::{Args, Ctx};
use crate::error::{CmdError, CmdResult, BIT_OFFSET};
use crate::server::notify::class;
use crate::storage::{NewValue, ValueRef};

/// Redis's `getBitOffsetFromArgument`. With `hash`, a leading `#` multiplies the number by the field
/// width (BITFIELD's `#<n>`; Redis multiplies in wrapping C arithmetic, and so does this). The offset's
/// byte must stay below `proto-max-bulk-len`, so no command grows a string past it.
pub(super) fn bit_offset(arg: &[u8], hash: bool, bits: u32, max: u64) -> Result<u64, CmdError> {
    let err = || CmdError::err(BIT_OFFSET);
    let (digits, hashed) = match arg {
        [b'#', rest @ ..] if hash => (rest, true),
        _ => (arg, false),
    };
    let mut n = resp::request::parse_i64_strict(digits).ok_or_else(err)?;
    if hashed {
        n = n.wrapping_mul(bits as i64);
    }
    if n < 0 || (n as u64 >> 3) >= max {
        return Err(err());
    }
    Ok(n as u64)
}

/// The bit at `offset` (0 past the end).
fn bit_at(s: &[u8], offset: u64) -> u8 {
    s.get((offset >> 3) as usize)
        .map_or(0, |b| (b >> (7 - (offset & 7))) & 1)
}

/// SETBIT key offset value
///
/// The string grows (zero-padded) to hold the bit and becomes `raw`. Nothing is propagated when the
/// bit already had the value and the string did not grow (Redis 7.0 does the same).
pub fn setbit(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let key = args.get(1);
    let offset = bit_offset(args.get(2), false, 0, max_string_len(ctx))?;
    let bit_err = || CmdError::err("bit is not an integer or out of range");
    let on = resp::request::parse_i64_strict(args.get(3)).ok_or_else(bit_err)?;
    if on & !1 != 0 {
        return Err(bit_err());
    }
    let on = on as u8;
    let byte = (offset >> 3) as usize;
    let mask = 1u8 << (7 - (offset & 7));
    let mut db = ctx.db();
    let existing = match db.lookup_write(key) {
        Some(mut e) => {
            let s = e.string_mut().ok_or(CmdError::WrongType)?;
            let grew = s.len() <= byte;
            if grew {
                s.resize(byte + 1, 0);
            }
            let old = u8::from(s[byte] & mask != 0);
            if on == 1 {
                s[byte] |= mask;
            } else {
                s[byte] &= !mask;
            }
            Some((old, grew || old != on))
        }
        None => None,
    };
    let old = match existing {
        Some((old, changed)) => {
            db.changed(key, u64::from(changed), class::STRING, "setbit");
            old
        }
        None => {
            let mut s = vec![0u8; byte + 1];
            if on == 1 {
                s[byte] |= mask;
            }
            db.set(key, NewValue::Raw(s), Ttl::Clear);
            db.stored(key, 1, class::STRING, "setbit");
            0
        }
    };
    out.int(old as i64);
    Ok(())
}

/// GETBIT key offset
pub fn getbit(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let offset = bit_offset(args.get(2), false, 0, max_string_len(ctx))?;
    let mut db = ctx.db();
    let bit = match db.lookup_read(args.get(1)) {
        None => 0,
        Some(e) => bit_at(StrBytes::of(e.value())?.as_bytes(), offset),
    };
    out.int(bit as i64);
    Ok(())
}

/// `BYTE` or `BIT` (true for BIT), else a syntax error.
fn parse_unit(arg: &[u8]) -> Result<bool, CmdError> {
    if arg.eq_ignore_ascii_case(b"bit") {
        Ok(true)
    } else if arg.eq_ignore_ascii_case(b"byte") {
        Ok(false)
    } else {
        Err(CmdError::syntax())
    }
}

/// A range `[start, end]` (inclusive, in the given unit) clamped the way BITCOUNT and BITPOS do:
/// negatives count from the end of `total`, then both are clamped into `0..total`. May come out empty
/// (`start > end`).
fn clamp(start: i64, end: i64, total: i64) -> (i64, i64) {
    let start = if start < 0 { total + start } else { start }.max(0);
    let end = if end < 0 { total + end } else { end }.max(0);
    (start, end.min(total - 1))
}

/// The mask of the bits of byte `offset >> 3` from bit `offset & 7` on (most significant first).
fn from_bit(offset: i64) -> u8 {
    0xffu8 >> (offset & 7)
}

/// The mask of the bits of byte `offset >> 3` up to bit `offset & 7` included.
fn to_bit(offset: i64) -> u8 {
    0xffu8 << (7 - (offset & 7))
}

/// Set bits in the bit range `[first, last]` of `s` (inclusive, both within `s`).
fn count_bits(s: &[u8], first: i64, last: i64) -> i64 {
    let (a, b) = ((first >> 3) as usize, (last >> 3) as usize);
    if a == b {
        return (s[a] & from_bit(first) & to_bit(last)).count_ones() as i64;
    }
    let inner = popcount(&s[a + 1..b]);
    inner + (s[a] & from_bit(first)).count_ones() as i64 + (s[b] & to_bit(last)).count_ones() as i64
}

fn popcount(s: &[u8]) -> i64 {
    let mut chunks = s.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        n += u64::from_ne_bytes(w).count_ones() as u64;
    }
    n += chunks.remainder().iter().map(|b| b.count_ones() as u64).sum::<u64>();
    n as i64
}

/// BITCOUNT key [start end [BYTE|BIT]]
///
/// As in Redis 7.0 the key is looked up first: a missing key answers 0 before the range is parsed.
pub fn bitcount(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    let Some(e) = db.lookup_read(args.get(1)) else {
        out.int(0);
        return Ok(());
    };
    let value = StrBytes::of(e.value())?;
    let s = value.as_bytes();
    let len = s.len() as i64;
    let (first, last) = match args.len() {
        2 => (0, len * 8 - 1),
        4 | 5 => {
            let (start, end) = (args.int(2)?, args.int(3)?);
            // An inverted negative range answers 0 before the unit word is even looked at.
            if start < 0 && end < 0 && start > end {
                out.int(0);
                return Ok(());
            }
            let in_bits = args.len() == 5 && parse_unit(args.get(4))?;
            let (start, end) = clamp(start, end, if in_bits { len * 8 } else { len });
            if start > end {
                out.int(0);
                return Ok(());
            }
            if in_bits {
                (start, end)
            } else {
                (start * 8, end * 8 + 7)
            }
        }
        _ => return Err(CmdError::syntax()),
    };
    out.int(if first > last { 0 } else { count_bits(s, first, last) });
    Ok(())
}

/// The first bit equal to `bit` in the bit range `[first, last]` of `s` (inclusive, within `s`).
fn find_bit(s: &[u8], bit: u8, first: i64, last: i64) -> Option<i64> {
    let (a, b) = ((first >> 3) as usize, (last >> 3) as usize);
    // Look at the bits wanted as ones: flip the byte when searching for a zero.
    let flip = if bit == 1 { 0 } else { 0xff };
    let hit = |i: usize, mask: u8| {
        let v = (s[i] ^ flip) & mask;
        (v != 0).then(|| i as i64 * 8 + v.leading_zeros() as i64)
    };
    if a == b {
        return hit(a, from_bit(first) & to_bit(last));
    }
    if let Some(p) = hit(a, from_bit(first)) {
        return Some(p);
    }
    let skip = flip; // a byte with no wanted bit
    if let Some(i) = s[a + 1..b].iter().position(|&x| x != skip) {
        return hit(a + 1 + i, 0xff);
    }
    hit(b, to_bit(last))
}

/// BITPOS key bit [start [end [BYTE|BIT]]]
///
/// A missing key is an endless run of zeros: 0 for a clear bit, -1 for a set one. Looking for a clear
/// bit without an explicit end treats the string as zero-padded on the right, so "not found" is the
/// first bit past the end; with an explicit end it is -1.
pub fn bitpos(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let bit = args.int(2)?;
    if bit != 0 && bit != 1 {
        return Err(CmdError::err("The bit argument must be 1 or 0."));
    }
    let bit = bit as u8;
    let mut db = ctx.db();
    let Some(e) = db.lookup_read(args.get(1)) else {
        out.int(if bit == 1 { -1 } else { 0 });
        return Ok(());
    };
    let value = StrBytes::of(e.value())?;
    let s = value.as_bytes();
    let len = s.len() as i64;
    let (first, last, end_given) = match args.len() {
        3 => (0, len * 8 - 1, false),
        4..=6 => {
            let start = args.int(3)?;
            let in_bits = args.len() == 6 && parse_unit(args.get(5))?;
            let end = match args.len() {
                4 => None,
                _ => Some(args.int(4)?),
            };
            let total = if in_bits { len * 8 } else { len };
            let (start, end) = clamp(start, end.unwrap_or(total - 1), total);
            if start > end {
                out.int(-1);
                return Ok(());
            }
            if in_bits {
                (start, end, args.len() >= 5)
            } else {
                (start * 8, end * 8 + 7, args.len() >= 5)
            }
        }
        _ => return Err(CmdError::syntax()),
    };
    let pos = if first > last {
        -1
    } else {
        match find_bit(s, bit, first, last) {
            Some(p) => p,
            None if bit == 0 && !end_given => len * 8,
            None => -1,
        }
    };
    out.int(pos);
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...]
///
/// Missing keys are empty strings and shorter strings are zero-padded; the result is as long as the
/// longest source. An empty result deletes the destination, whatever its type. The result is `raw` and
/// has no TTL.
pub fn bitop(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let op = args.get(1);
    let op = if op.eq_ignore_ascii_case(b"and") {
        BitOp::And
    } else if op.eq_ignore_ascii_case(b"or") {
        BitOp::Or
    } else if op.eq_ignore_ascii_case(b"xor") {
        BitOp::Xor
    } else if op.eq_ignore_ascii_case(b"not") {
        BitOp::Not
    } else {
        return Err(CmdError::syntax());
    };
    if op == BitOp::Not && args.len() != 4 {
        return Err(CmdError::err("BITOP NOT must be called with a single source key."));
    }
    let dest = args.get(2);
    let mut db = ctx.db();
    // First pass through the access policy (expiry, statistics, types), then read the live values
    // together.
    for key in args.rest(3) {
        if let Some(e) = db.lookup_read(key) {
            if let ValueRef::Obj(_) = e.value() {
                return Err(CmdError::WrongType);
            }
        }
    }
    let result = {
        let store = &*db.db;
        let sources: Vec<StrBytes<'_>> = args
            .rest(3)
            .map(|k| match store.get(k) {
                Some(e) => StrBytes::of(e.value()),
                None => Ok(StrBytes::Slice(b"")),
            })
            .collect::<Result<_, _>>()?;
        combine(op, &sources)
    };
    let len = result.len();
    if len > 0 {
        db.set(dest, NewValue::Raw(result), Ttl::Clear);
        db.stored(dest, 1, class::STRING, "set");
    } else {
        db.delete(dest);
    }
    out.int(len as i64);
    Ok(())
}

fn combine(op: BitOp, sources: &[StrBytes<'_>]) -> Vec<u8> {
    let max = sources.iter().map(|s| s.as_bytes().len()).max().unwrap_or(0);
    if max == 0 {
        return Vec::new();
    }
    let first = sources[0].as_bytes();
    let mut res = vec![0u8; max];
    res[..first.len()].copy_from_slice(first);
    match op {
        BitOp::Not => res.iter_mut().for_each(|b| *b = !*b),
        BitOp::And => {
            for src in &sources[1..] {
                let s = src.as_bytes();
                res.iter_mut().zip(s).for_each(|(r, b)| *r &= b);
                res[s.len()..].fill(0);
            }
        }
        BitOp::Or => {
            for src in &sources[1..] {
                res.iter_mut().zip(src.as_bytes()).for_each(|(r, b)| *r |= b);
            }
        }
        BitOp::Xor => {
            for src in &sources[1..] {
                res.iter_mut().zip(src.as_bytes()).for_each(|(r, b)| *r ^= b);
            }
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        let max = 512 << 20;
        assert_eq!(bit_offset(b"7", false, 0, max), Ok(7));
        assert!(bit_offset(b"-1", false, 0, max).is_err());
        assert!(bit_offset(b"#2", false, 8, max).is_err());
        assert_eq!(bit_offset(b"#2", true, 8, max), Ok(16));
        assert_eq!(bit_offset(b"2", true, 8, max), Ok(2));
        assert!(bit_offset(b"#-1", true, 8, max).is_err());
        assert!(bit_offset(b"4294967296", false, 0, max).is_err());
        assert_eq!(bit_offset(b"4294967295", false, 0, max), Ok(4294967295));
        assert!(bit_offset(b"#", true, 8, max).is_err());
        assert!(bit_offset(b"", false, 8, max).is_err());
        // Wrapping multiplication, as in C: a huge #n can wrap to a small offset.
        assert_eq!(bit_offset(b"#4611686018427387904", true, 4, max), Ok(0));
    }

    #[test]
    fn counting_and_searching() {
        let s = b"foobar";
        assert_eq!(count_bits(s, 0, 47), 26);
        assert_eq!(count_bits(s, 5, 30), 17);
        assert_eq!(count_bits(s, 1, 2), 2);
        assert_eq!(find_bit(&[0xff, 0xf0, 0x00], 0, 0, 23), Some(12));
        assert_eq!(find_bit(&[0x00, 0x00, 0x01], 1, 0, 23), Some(23));
        assert_eq!(find_bit(&[0x00, 0x00, 0x01], 1, 0, 22), None);
        assert_eq!(find_bit(&[0xff], 0, 0, 7), None);
        assert_eq!(find_bit(&[0x40], 1, 1, 1), Some(1));
        assert_eq!(popcount(&[0xff; 17]), 136);
    }

    #[test]
    fn combining() {
        let a = StrBytes::Slice(b"\xff\x0f\xaa");
        let b = StrBytes::Slice(b"\x0f");
        assert_eq!(
            combine(
                BitOp::And,
                &[StrBytes::Slice(b"\xff\x0f\xaa"), StrBytes::Slice(b"\x0f")]
            ),
            b"\x0f\0\0"
        );
        assert_eq!(combine(BitOp::Or, &[b, a]), b"\xff\x0f\xaa");
        assert_eq!(combine(BitOp::Not, &[StrBytes::Slice(b"\x0f")]), b"\xf0");
        assert_eq!(combine(BitOp::Xor, &[StrBytes::Slice(b""), StrBytes::Slice(b"")]), b"");
    }
}
