//! Server commands: SHUTDOWN, SAVE, TIME, LASTSAVE, MONITOR (and the MONITOR feed).

use resp::ReplyBuf;

use super::host::{Request, ShutdownRequest};
use super::spec::Command;
use super::{Args, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::server::client::cflags;
use crate::server::persist;

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
///
/// SAVE (or `save` points without NOSAVE) writes the RDB file first; when that fails, the server keeps
/// running and answers `ERR Errors trying to SHUTDOWN. Check logs.`, unless FORCE makes it log the
/// failure and exit anyway. There are no replicas to wait for, so NOW changes nothing and ABORT never
/// finds a shutdown in progress.
pub fn shutdown(ctx: &mut Ctx<'_>, args: &Args<'_>, _out: &mut ReplyBuf) -> CmdResult {
    let parsed = ShutdownRequest::parse(args.rest(1)).ok_or_else(CmdError::syntax)?;
    let mut req = parsed.request;
    if parsed.abort {
        return Err(CmdError::err("No shutdown in progress."));
    }
    // While a script holds the server, only a shutdown that does not save may end it.
    if !req.nosave {
        if let Some(busy) = ctx.core.busy_error() {
            return Err(busy);
        }
    }
    let saves = req.save || (!req.nosave && !ctx.core.config.save.is_empty());
    if saves && !ctx.core.loading {
        // As Redis kills its saving child: the final save is a foreground one.
        persist::abort_bgsave(ctx.core);
        crate::log_warning!("User requested shutdown...");
        crate::log_notice!("Saving the final RDB snapshot before exiting.");
        if persist::save(ctx.core).is_err() {
            if !req.force {
                crate::log_warning!("Error trying to save the DB, can't exit.");
                crate::log_warning!("Errors trying to shut down the server. Check the logs for more information.");
                return Err(CmdError::err("Errors trying to SHUTDOWN. Check logs."));
            }
            crate::log_warning!("Error trying to save the DB. Exit anyway.");
        }
        // Saved (or given up on): the exit path must not save again.
        req.save = false;
        req.nosave = true;
        req.announced = true;
    }
    ctx.core.shutdown = Some(req);
    Ok(())
}

/// SAVE: write the RDB file now, answering nothing else meanwhile. A failure answers a bare `ERR`
/// (the reason is in the log), as Redis does.
pub fn save(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if ctx.core.bgsave.is_some() {
        return Err(CmdError::err("Background save already in progress"));
    }
    persist::save(ctx.core).map_err(|_| CmdError::Coded("ERR".into()))?;
    out.ok();
    Ok(())
}

/// BGSAVE [SCHEDULE]: start a background save (see `server::persist`). Inside a transaction it is
/// scheduled for when the transaction is over, as Redis does.
pub fn bgsave(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    match args.len() {
        1 => {}
        2 if args.is(1, "schedule") => {}
        _ => return Err(CmdError::syntax()),
    }
    if ctx.core.bgsave.as_ref().is_some_and(|b| b.is_rdb()) {
        return Err(CmdError::err("Background save already in progress"));
    }
    let in_exec = ctx.core.exec.caller() == crate::commands::dispatch::Caller::Exec;
    if ctx.core.bgsave.is_some() || in_exec {
        // An AOF rewrite's snapshot is walking: one background job at a time, as Redis's one child.
        if args.len() == 2 || in_exec {
            ctx.core.persist.bgsave_scheduled = true;
            out.simple(b"Background saving scheduled");
            return Ok(());
        }
        return Err(CmdError::err(
            "Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to \
             schedule a BGSAVE whenever possible.",
        ));
    }
    persist::start_bgsave(ctx.core).map_err(|_| CmdError::Coded("ERR".into()))?;
    out.simple(b"Background saving started");
    Ok(())
}

/// BGREWRITEAOF: rewrite the AOF from a snapshot in the background (see `server::aof`); scheduled
/// while another background job runs or inside a transaction, as Redis does.
pub fn bgrewriteaof(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    match crate::server::aof::start_rewrite(ctx.core) {
        Ok(crate::server::aof::RewriteStart::Started) => out.simple(b"Background append only file rewriting started"),
        Ok(crate::server::aof::RewriteStart::Scheduled) => {
            out.simple(b"Background append only file rewriting scheduled")
        }
        Err(line) => return Err(CmdError::Coded(line.into())),
    }
    Ok(())
}

/// TIME: seconds and microseconds, as bulk strings.
pub fn time(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let us = ctx.core.clock_now_us();
    out.array(2);
    out.bulk(us.div_euclid(1_000_000).to_string().as_bytes());
    out.bulk(us.rem_euclid(1_000_000).to_string().as_bytes());
    Ok(())
}

/// LASTSAVE: the time of the last successful save (the start time before the first one, as in Redis).
pub fn lastsave(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    out.int(ctx.core.lastsave_s);
    Ok(())
}

/// MONITOR: from now on the client receives every command the server executes. A second MONITOR
/// gets no reply at all, as in Redis.
pub fn monitor(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if ctx.client.has(cflags::MONITOR) {
        return Ok(());
    }
    if ctx.host.is_none() || !ctx.can_block() {
        return Err(CmdError::err("MONITOR isn't allowed for DENY BLOCKING client"));
    }
    ctx.client.flags |= cflags::MONITOR;
    ctx.request(Request::Monitor(true));
    out.ok();
    Ok(())
}

/// Arguments Redis shows as `(redacted)`: passwords.
fn redacted(cmd: &Command, args: &Args<'_>, i: usize) -> bool {
    match cmd.name {
        "auth" => i >= 1,
        "hello" => {
            // Only the option words HELLO really parses: AUTH user pass, SETNAME name.
            let mut j = 2;
            while j < args.len() {
                let more = args.len() - 1 - j;
                if args.is(j, "auth") && more >= 2 {
                    if i == j + 1 || i == j + 2 {
                        return true;
                    }
                    j += 3;
                } else if args.is(j, "setname") && more >= 1 {
                    j += 2;
                } else {
                    break;
                }
            }
            false
        }
        _ => false,
    }
}

/// One MONITOR line: `+<sec>.<usec> [<db> <addr>] "arg" ...` with Redis's escaping.
pub fn monitor_line(now_us: i64, db: usize, addr: &str, cmd: &Command, args: &Args<'_>) -> Vec<u8> {
    let mut line = format!(
        "+{}.{:06} [{} {}]",
        now_us.div_euclid(1_000_000),
        now_us.rem_euclid(1_000_000),
        db,
        addr
    );
    for (i, a) in args.iter().enumerate() {
        line.push(' ');
        if redacted(cmd, args, i) {
            line.push_str("\"(redacted)\"");
        } else {
            line.push_str(&crate::config::parse::repr(a));
        }
    }
    line.push_str("\r\n");
    line.into_bytes()
}

/// A HELP reply in Redis's layout: a header line, each entry's usage and indented description, and
/// HELP itself last.
pub fn help_reply(out: &mut ReplyBuf, command: &str, entries: &[(&str, &str)]) {
    out.array(2 + entries.len() * 2 + 1);
    out.simple(format!("{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:").as_bytes());
    for (usage, what) in entries {
        out.simple(usage.as_bytes());
        out.simple(format!("    {what}").as_bytes());
    }
    out.simple(b"HELP");
    out.simple(b"    Print this help.");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::{table, OwnedArgs};

    fn line(args: &[&[u8]]) -> String {
        let owned = OwnedArgs::from_slices(args.iter().copied());
        let view = owned.view();
        let table::Lookup::Found(cmd, _) = table::lookup_args(&view) else {
            panic!("unknown command {args:?}")
        };
        String::from_utf8(monitor_line(1_700_000_000_000_042, 3, "127.0.0.1:5000", cmd, &view)).expect("utf8")
    }

    #[test]
    fn monitor_lines_escape_like_sdscatrepr() {
        assert_eq!(
            line(&[b"ECHO", b"a\"b\\c\n\x01\xff "]),
            "+1700000000.000042 [3 127.0.0.1:5000] \"ECHO\" \"a\\\"b\\\\c\\n\\x01\\xff \"\r\n"
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            line(&[b"AUTH", b"pw"]),
            "+1700000000.000042 [3 127.0.0.1:5000] \"AUTH\" \"(redacted)\"\r\n"
        );
        assert_eq!(
            line(&[b"HELLO", b"3", b"SETNAME", b"auth", b"AUTH", b"u", b"p"]),
            "+1700000000.000042 [3 127.0.0.1:5000] \"HELLO\" \"3\" \"SETNAME\" \"auth\" \"AUTH\" \"(redacted)\" \
             \"(redacted)\"\r\n"
        );
    }
}
