//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.
//!
//! A HyperLogLog is a string value in Redis's exact representation (`sketch`), so GET/SET move it
//! between Ferrite and Redis unchanged. Any string is accepted where a HyperLogLog is expected as long
//! as its header is plausible (`WRONGTYPE Key is not a valid HyperLogLog string value.` otherwise; an
//! `int`-encoded string never is); sparse opcodes are checked when they are used, at the points Redis
//! checks them (`INVALIDOBJ Corrupted HLL object detected`), so a corrupt value gets the same answer
//! from both servers.
//!
//! Like Redis, every command that may write the value first makes it a private `raw` string (Redis's
//! `dbUnshareStringValue`), so `OBJECT ENCODING` reports `raw` after PFADD, PFCOUNT or PFDEBUG even when
//! nothing changed. PFCOUNT of one key stores the estimate it computed in the header and is then
//! propagated (as Redis does, so replicas keep byte-identical values).

pub mod sketch;

use resp::ReplyBuf;

use super::keyspace::Ttl;
use super::{Args, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::server::notify::class;
use crate::storage::{NewValue, ValueRef};

const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

fn corrupt(_: sketch::Corrupt) -> CmdError {
    CmdError::Coded(CORRUPT.into())
}

/// Redis's `isHLLObjectOrReply`: the bytes of a plausible HyperLogLog.
fn hll_bytes(v: ValueRef<'_>) -> Result<&[u8], CmdError> {
    match v {
        ValueRef::Obj(_) => Err(CmdError::WrongType),
        ValueRef::Str(s, _) if sketch::looks_valid(s) => Ok(s),
        ValueRef::Int(_) | ValueRef::Str(..) => Err(CmdError::Coded(NOT_HLL.into())),
    }
}

/// PFADD key [element ...]: 1 when a register changed or the key was created, else 0.
pub fn pfadd(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let sparse_max = sparse_max(ctx);
    let key = args.get(1);
    let mut db = ctx.db();
    let mut changed = 0u64;
    let existed = match db.lookup_write(key) {
        Some(mut e) => {
            hll_bytes(e.value())?;
            let s = e.string_mut().expect("checked: a string");
            for element in args.rest(2) {
                // A corrupt value may be left partly updated, its cache untouched: Redis's behaviour.
                changed += u64::from(sketch::add(s, element, sparse_max).map_err(corrupt)?);
            }
            if changed > 0 {
                sketch::invalidate_cache(s);
            }
            true
        }
        None => false,
    };
    if !existed {
        let mut s = sketch::new_sparse();
        for element in args.rest(2) {
            changed += u64::from(sketch::add(&mut s, element, sparse_max).map_err(corrupt)?);
        }
        sketch::invalidate_cache(&mut s);
        db.set(key, NewValue::Raw(s), Ttl::Clear);
        // Creating the key is a change in itself, reported even without elements.
        db.notify(class::STRING, "pfadd", key);
        db.mark_dirty(key, changed);
    } else {
        db.changed(key, changed, class::STRING, "pfadd");
    }
    out.int(i64::from(changed > 0 || !existed));
    Ok(())
}

fn sparse_max(ctx: &Ctx<'_>) -> usize {
    usize::try_from(ctx.core.config.hll_sparse_max_bytes).unwrap_or(usize::MAX)
}

/// PFCOUNT key [key ...]
///
/// One key: the cached estimate, or a fresh one that is then cached (a write, counted dirty and
/// propagated). Several keys: the estimate of their union, computed on the side; nothing is written.
/// A missing key counts as an empty HyperLogLog. Redis replies with the estimate as a signed integer.
pub fn pfcount(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    if args.len() > 2 {
        let mut max = vec![0u8; sketch::REGISTERS];
        for key in args.rest(1) {
            if let Some(e) = db.lookup_read(key) {
                sketch::merge_into(&mut max, hll_bytes(e.value())?).map_err(corrupt)?;
            }
        }
        out.int(sketch::count_registers(&max) as i64);
        return Ok(());
    }
    let key = args.get(1);
    match db.lookup_read(key) {
        None => {
            out.int(0);
            return Ok(());
        }
        Some(e) => {
            hll_bytes(e.value())?;
        }
    }
    let (card, computed) = {
        let Some(mut e) = db.lookup_write(key) else {
            out.int(0);
            return Ok(());
        };
        let s = e.string_mut().expect("checked: a string");
        match sketch::cached(s) {
            Some(card) => (card, false),
            None => {
                let card = sketch::count(s).map_err(corrupt)?;
                sketch::set_cache(s, card);
                (card, true)
            }
        }
    };
    if computed {
        db.mark_dirty(key, 1);
        let argv: Vec<&[u8]> = args.iter().collect();
        db.journal.replace(db.index, &argv);
    }
    out.int(card as i64);
    Ok(())
}

/// PFMERGE destkey [sourcekey ...]: the union of the sources and of the destination itself, stored in
/// the destination (dense if any input was dense, else sparse as long as it fits).
pub fn pfmerge(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let sparse_max = sparse_max(ctx);
    let dest = args.get(1);
    let mut db = ctx.db();
    let mut max = vec![0u8; sketch::REGISTERS];
    let mut dense = false;
    for key in args.rest(1) {
        if let Some(e) = db.lookup_read(key) {
            let s = hll_bytes(e.value())?;
            dense |= sketch::is_dense(s);
            sketch::merge_into(&mut max, s).map_err(corrupt)?;
        }
    }
    let write = |s: &mut Vec<u8>| -> CmdResult {
        if dense {
            sketch::to_dense(s).map_err(corrupt)?;
        }
        for (i, &m) in max.iter().enumerate() {
            if m != 0 {
                // The destination was checked as a source: its opcodes cover every register.
                let _ = sketch::set_register(s, i, m, sparse_max);
            }
        }
        sketch::invalidate_cache(s);
        Ok(())
    };
    let existed = match db.lookup_write(dest) {
        Some(mut e) => {
            write(e.string_mut().expect("checked as a source: a string"))?;
            true
        }
        None => false,
    };
    // Reported as `pfadd`, even when nothing changed (Redis's name for both).
    if existed {
        db.changed(dest, 1, class::STRING, "pfadd");
    } else {
        let mut s = sketch::new_sparse();
        write(&mut s)?;
        db.set(dest, NewValue::Raw(s), Ttl::Clear);
        db.stored(dest, 1, class::STRING, "pfadd");
    }
    out.ok();
    Ok(())
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key
///
/// The key is looked up and checked before the subcommand is: a missing key is reported whatever the
/// subcommand. GETREG and TODENSE convert a sparse value to dense (a write, propagated).
pub fn pfdebug(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let (sub, key) = (args.get(1), args.get(2));
    let mut db = ctx.db();
    let Some(mut e) = db.lookup_write(key) else {
        return Err(CmdError::err("The specified key does not exist"));
    };
    hll_bytes(e.value())?;
    let s = e.string_mut().expect("checked: a string");
    let is = |w: &str| sub.eq_ignore_ascii_case(w.as_bytes());
    let mut converted = false;
    if is("getreg") || is("todense") {
        if !sketch::is_dense(s) {
            sketch::to_dense(s).map_err(corrupt)?;
            converted = true;
        }
        if is("getreg") {
            let regs = sketch::registers(s);
            out.array(regs.len());
            for r in regs {
                out.int(i64::from(r));
            }
        } else {
            out.int(i64::from(converted));
        }
    } else if is("decode") {
        if sketch::is_dense(s) {
            return Err(CmdError::err("HLL encoding is not sparse"));
        }
        out.bulk(sketch::decode(s).as_bytes());
    } else if is("encoding") {
        out.simple(if sketch::is_dense(s) { b"dense" } else { b"sparse" });
    } else {
        let name = sub.split(|&b| b == 0).next().unwrap_or_default();
        return Err(CmdError::err(format!(
            "Unknown PFDEBUG subcommand '{}'",
            String::from_utf8_lossy(name)
        )));
    }
    if converted {
        db.mark_dirty(key, 1);
    }
    Ok(())
}

/// PFSELFTEST: checks the register packing and that both encodings agree and estimate within bounds.
pub fn pfselftest(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let seed = rand::Rng::gen(&mut ctx.core.rng);
    sketch::self_test(seed).map_err(CmdError::err)?;
    out.ok();
    Ok(())
}
