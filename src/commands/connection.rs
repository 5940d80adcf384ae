//! Connection commands: PING, ECHO, QUIT, SELECT, HELLO, AUTH, RESET, CLIENT.

use resp::ReplyBuf;

use super::{Args, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::server::client::cflags;

/// PING [message]
pub fn ping(_ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    match args.len() {
        1 => out.simple(b"PONG"),
        2 => out.bulk(args.get(1)),
        _ => return Err(CmdError::err("wrong number of arguments for 'ping' command")),
    }
    Ok(())
}

/// ECHO message
pub fn echo(_ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    out.bulk(args.get(1));
    Ok(())
}

/// QUIT: reply OK, then close once the reply is written.
pub fn quit(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    out.ok();
    ctx.client.flags |= cflags::CLOSE_AFTER_REPLY;
    Ok(())
}

/// SELECT index
pub fn select(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let idx = args.int32(1)?;
    if idx < 0 || idx as usize >= ctx.core.dbs.len() {
        return Err(CmdError::err(crate::error::DB_INDEX));
    }
    ctx.client.db = idx as usize;
    out.ok();
    Ok(())
}
