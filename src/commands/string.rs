//! String commands.

use resp::ReplyBuf;

use super::keyspace::Ttl;
use super::{Args, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::storage::{NewValue, ValueRef};

/// GET key
pub fn get(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut db = ctx.db();
    match db.lookup_read(args.get(1)).map(|e| e.value()) {
        None => out.null(),
        Some(ValueRef::Int(i)) => out.bulk_i64(i),
        Some(ValueRef::Str(s, _)) => out.bulk(s),
        Some(ValueRef::Obj(_)) => return Err(CmdError::WrongType),
    }
    Ok(())
}

/// SET key value (options come with the strings milestone)
pub fn set(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if args.len() != 3 {
        return Err(CmdError::syntax());
    }
    let v = args.get(2);
    let value = match resp::request::parse_i64_strict(v) {
        Some(i) if v.len() <= 20 => NewValue::Int(i),
        _ => NewValue::Str(v),
    };
    ctx.db().set(args.get(1), value, Ttl::Clear);
    out.ok();
    Ok(())
}
