//! BITFIELD and BITFIELD_RO: signed and unsigned integers of 1 to 64 bits (unsigned up to 63) at any
//! bit offset of a string, read, written or incremented, with WRAP, SAT or FAIL on overflow.
//!
//! Every operation is parsed and checked before the key is touched, so a bad one leaves nothing
//! half-done. A write grows the string (zero-padded, `raw`) to the farthest bit any write reaches, even
//! if the writes then fail with `OVERFLOW FAIL`. The command is propagated when some write changed a
//! value or the string was created or grown (Redis 7.0 forgets the last case, see the module docs of
//! `string`).

use resp::ReplyBuf;

use super::bits::bit_offset;
use super::{max_string_len, StrBytes};
use crate::commands::keyspace::Ttl;
use crate::commands::{Args, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::server::notify::class;
use crate::storage::NewValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpKind {
    Get,
    Set(i64),
    IncrBy(i64),
}

/// One parsed operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Op {
    kind: OpKind,
    signed: bool,
    bits: u32,
    offset: u64,
    overflow: Overflow,
}

const TYPE_ERR: &str = "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/// `i1`..`i64` or `u1`..`u63` (lowercase only, as Redis 7.0 accepts them).
fn parse_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let err = || CmdError::err(TYPE_ERR);
    let (signed, digits) = match arg {
        [b'i', rest @ ..] => (true, rest),
        [b'u', rest @ ..] => (false, rest),
        _ => return Err(err()),
    };
    let bits = resp::request::parse_i64_strict(digits).ok_or_else(err)?;
    let max = if signed { 64 } else { 63 };
    if !(1..=max).contains(&bits) {
        return Err(err());
    }
    Ok((signed, bits as u32))
}

/// Parse every operation, in Redis's order: the subcommand word (with enough arguments after it),
/// then its type, offset and value. `OVERFLOW` applies to the operations after it.
fn parse_ops(args: &Args<'_>, max: u64) -> Result<Vec<Op>, CmdError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let word = args.get(j);
        let is = |w: &str| word.eq_ignore_ascii_case(w.as_bytes());
        let takes_value = if is("get") && left >= 2 {
            false
        } else if (is("set") || is("incrby")) && left >= 3 {
            true
        } else if is("overflow") && left >= 1 {
            let mode = args.get(j + 1);
            overflow = if mode.eq_ignore_ascii_case(b"wrap") {
                Overflow::Wrap
            } else if mode.eq_ignore_ascii_case(b"sat") {
                Overflow::Sat
            } else if mode.eq_ignore_ascii_case(b"fail") {
                Overflow::Fail
            } else {
                return Err(CmdError::err("Invalid OVERFLOW type specified"));
            };
            j += 2;
            continue;
        } else {
            return Err(CmdError::syntax());
        };
        let (signed, bits) = parse_type(args.get(j + 1))?;
        let offset = bit_offset(args.get(j + 2), true, bits, max)?;
        let kind = if !takes_value {
            OpKind::Get
        } else if is("set") {
            OpKind::Set(args.int(j + 3)?)
        } else {
            OpKind::IncrBy(args.int(j + 3)?)
        };
        ops.push(Op {
            kind,
            signed,
            bits,
            offset,
            overflow,
        });
        j += if takes_value { 4 } else { 3 };
    }
    Ok(ops)
}

/// Read `bits` bits at bit `offset`, most significant first; bits past the end read as zero.
fn read_bits(s: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for i in 0..u64::from(bits) {
        let at = offset + i;
        let bit = s.get((at >> 3) as usize).map_or(0, |b| (b >> (7 - (at & 7))) & 1);
        v = (v << 1) | u64::from(bit);
    }
    v
}

/// Write the low `bits` bits of `v` at bit `offset` (the string is long enough).
fn write_bits(s: &mut [u8], offset: u64, bits: u32, v: u64) {
    for i in 0..u64::from(bits) {
        let at = offset + i;
        let mask = 1u8 << (7 - (at & 7));
        let byte = &mut s[(at >> 3) as usize];
        if (v >> (u64::from(bits) - 1 - i)) & 1 == 1 {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
    }
}

/// Sign-extend the low `bits` bits of `v`.
fn sign_extend(v: u64, bits: u32) -> i64 {
    if bits == 64 {
        v as i64
    } else {
        let shift = 64 - bits;
        ((v << shift) as i64) >> shift
    }
}

/// The value a field reads as.
fn read_field(s: &[u8], op: &Op) -> i64 {
    let raw = read_bits(s, op.offset, op.bits);
    if op.signed {
        sign_extend(raw, op.bits)
    } else {
        raw as i64
    }
}

/// `old + incr` for a field, or `None` when it overflows under FAIL. The range is the field's
/// (`-2^(b-1)..2^(b-1)-1` or `0..2^b-1`); WRAP keeps the low bits of the two's complement sum,
/// SAT clamps. An unsigned SET of a negative number is a huge unsigned value (it overflows upwards),
/// as in Redis, which reads it as `uint64_t`.
fn apply(op: &Op, old: i64, incr: i64) -> Option<i64> {
    let (min, max): (i128, i128) = if op.signed {
        (-(1i128 << (op.bits - 1)), (1i128 << (op.bits - 1)) - 1)
    } else {
        (0, (1i128 << op.bits) - 1)
    };
    let (base, add) = match op.kind {
        OpKind::Set(v) if !op.signed => (i128::from(v as u64), 0),
        OpKind::Set(v) => (i128::from(v), 0),
        _ => (i128::from(old), i128::from(incr)),
    };
    let sum = base + add;
    if (min..=max).contains(&sum) {
        return Some(sum as i64);
    }
    match op.overflow {
        Overflow::Fail => None,
        Overflow::Sat => Some(if sum > max { max } else { min } as i64),
        Overflow::Wrap => {
            let low = (sum as u64) & (u64::MAX >> (64 - op.bits));
            Some(if op.signed {
                sign_extend(low, op.bits)
            } else {
                low as i64
            })
        }
    }
}

/// BITFIELD key [GET type offset | SET type offset value | INCRBY type offset increment |
/// OVERFLOW WRAP|SAT|FAIL] ...
pub fn bitfield(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    bitfield_generic(ctx, args, false, out)
}

/// BITFIELD_RO key [GET type offset ...]
pub fn bitfield_ro(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    bitfield_generic(ctx, args, true, out)
}

fn bitfield_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, read_only: bool, out: &mut ReplyBuf) -> CmdResult {
    let ops = parse_ops(args, max_string_len(ctx))?;
    let key = args.get(1);
    let highest = ops
        .iter()
        .filter(|op| op.kind != OpKind::Get)
        .map(|op| op.offset + u64::from(op.bits) - 1)
        .max();
    let mut db = ctx.db();
    let Some(highest) = highest else {
        // Only reads: a missing key is all zeros.
        let value = match db.lookup_read(key) {
            Some(e) => Some(StrBytes::of(e.value())?),
            None => None,
        };
        let s = value.as_ref().map_or(&b""[..], |v| v.as_bytes());
        out.array(ops.len());
        for op in &ops {
            out.int(read_field(s, op));
        }
        return Ok(());
    };
    if read_only {
        return Err(CmdError::err("BITFIELD_RO only supports the GET subcommand"));
    }
    let need = (highest >> 3) as usize + 1;
    let mut replies: Vec<Option<i64>> = Vec::with_capacity(ops.len());
    // Whether the string changed (what is counted and journaled), and how many fields changed value
    // (Redis reports `setbit` when any did: not for a write of the value already there, nor for a
    // string only grown by writes that all failed).
    let mut run = |s: &mut Vec<u8>| -> (bool, u64) {
        let mut changed = false;
        let mut fields = 0;
        if s.len() < need {
            s.resize(need, 0);
            changed = true;
        }
        for op in &ops {
            let old = read_field(s, op);
            let new = match op.kind {
                OpKind::Get => {
                    replies.push(Some(old));
                    continue;
                }
                OpKind::Set(_) => apply(op, old, 0),
                OpKind::IncrBy(by) => apply(op, old, by),
            };
            let Some(new) = new else {
                replies.push(None);
                continue;
            };
            replies.push(Some(if matches!(op.kind, OpKind::Set(_)) { old } else { new }));
            write_bits(s, op.offset, op.bits, new as u64);
            if new != old {
                changed = true;
                fields += 1;
            }
        }
        (changed, fields)
    };
    let existing = match db.lookup_write(key) {
        Some(mut e) => {
            let s = e.string_mut().ok_or(CmdError::WrongType)?;
            Some(run(s))
        }
        None => None,
    };
    match existing {
        Some((changed, fields)) => {
            db.mark_dirty(key, u64::from(changed));
            if fields > 0 {
                db.notify(class::STRING, "setbit", key);
            }
        }
        None => {
            let mut s = Vec::new();
            let (_, fields) = run(&mut s);
            db.set(key, NewValue::Raw(s), Ttl::Clear);
            if fields > 0 {
                db.notify(class::STRING, "setbit", key);
            }
        }
    }
    out.array(replies.len());
    for r in replies {
        match r {
            Some(v) => out.int(v),
            None => out.null(),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(kind: OpKind, signed: bool, bits: u32, overflow: Overflow) -> Op {
        Op {
            kind,
            signed,
            bits,
            offset: 0,
            overflow,
        }
    }

    #[test]
    fn types() {
        assert_eq!(parse_type(b"i64"), Ok((true, 64)));
        assert_eq!(parse_type(b"u63"), Ok((false, 63)));
        for bad in [
            &b"u64"[..],
            b"U8",
            b"I8",
            b"i65",
            b"i0",
            b"x8",
            b"",
            b"i",
            b"i+8",
            b"i08",
        ] {
            assert!(parse_type(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bits_round_trip() {
        let mut s = vec![0u8; 3];
        write_bits(&mut s, 5, 11, 0x5a5);
        assert_eq!(read_bits(&s, 5, 11), 0x5a5);
        assert_eq!(read_bits(b"foobar", 0, 8), b'f' as u64);
        assert_eq!(read_bits(b"\xff", 4, 8), 0xf0);
        assert_eq!(sign_extend(0xff, 8), -1);
        assert_eq!(sign_extend(0x7f, 8), 127);
    }

    #[test]
    fn overflow_rules() {
        use OpKind::*;
        use Overflow::*;
        // Unsigned SET of -1 overflows upwards: WRAP keeps the low bits, SAT gives the maximum.
        assert_eq!(apply(&op(Set(-1), false, 8, Wrap), 0, 0), Some(255));
        assert_eq!(apply(&op(Set(-1), false, 8, Sat), 0, 0), Some(255));
        assert_eq!(apply(&op(Set(-1), false, 8, Fail), 0, 0), None);
        assert_eq!(apply(&op(Set(200), true, 8, Wrap), 0, 0), Some(-56));
        assert_eq!(apply(&op(IncrBy(100), true, 8, Wrap), -1, 100), Some(99));
        assert_eq!(apply(&op(IncrBy(-300), true, 8, Sat), -1, -300), Some(-128));
        assert_eq!(apply(&op(IncrBy(-300), false, 8, Sat), 0, -300), Some(0));
        assert_eq!(apply(&op(IncrBy(i64::MAX), true, 64, Sat), 1, i64::MAX), Some(i64::MAX));
        assert_eq!(
            apply(&op(IncrBy(i64::MAX), true, 64, Wrap), 1, i64::MAX),
            Some(i64::MIN)
        );
        assert_eq!(apply(&op(IncrBy(1), false, 63, Wrap), i64::MAX, 1), Some(0));
    }
}
