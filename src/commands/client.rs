//! CLIENT subcommands: ID, INFO, LIST, KILL, SETNAME, GETNAME, REPLY, NO-EVICT, PAUSE, UNPAUSE,
//! GETREDIR, TRACKINGINFO, UNBLOCK, HELP.
//!
//! The executing client is out of the network layer's table while its command runs (see
//! `server::net`), so every subcommand that walks the clients looks at `ctx.client` as well.

use resp::ReplyBuf;

use super::connection::{set_client_name, DEFAULT_USER};
use super::host::Request;
use super::{Args, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::server::client::{cflags, Client, ClientType, ReplyMode};
use crate::server::core::Pause;
use crate::server::tracking::{Tracking, TrackingState};

/// Redis's subcommand syntax error, quoting the subcommand as the client typed it.
fn subcommand_syntax(args: &Args<'_>) -> CmdError {
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
        String::from_utf8_lossy(args.get(1))
    ))
}

/// The arguments' size, for the executing client's `argv-mem`.
fn args_mem(args: &Args<'_>) -> usize {
    args.iter().map(<[u8]>::len).sum()
}

/// The executing client's line (its `cmd` is the command it sent last: this one, or the EXEC running it).
fn own_line(ctx: &mut Ctx<'_>, args: &Args<'_>) -> String {
    ctx.client.info_line(
        ctx.core.now_ms,
        args_mem(args),
        ctx.core.watches.is_dirty(ctx.client.id),
        ctx.core.tracking.state(ctx.client.id),
    )
}

/// CLIENT ID
pub fn id(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    out.int(ctx.client.id as i64);
    Ok(())
}

/// CLIENT INFO
pub fn info(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut line = own_line(ctx, args);
    line.push('\n');
    out.verbatim(b"txt", line.as_bytes());
    Ok(())
}

/// CLIENT LIST [TYPE type | ID id [id ...]]
pub fn list(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut filter_type = None;
    let mut ids = None;
    if args.len() == 4 && args.is(2, "type") {
        filter_type = Some(unknown_type(args.get(3))?);
    } else if args.len() > 3 && args.is(2, "id") {
        let mut v = Vec::new();
        for a in args.rest(3) {
            v.push(super::args::parse_int(a).map_err(|_| CmdError::err("Invalid client ID"))?);
        }
        ids = Some(v);
    } else if args.len() != 2 {
        return Err(CmdError::syntax());
    }
    let own = own_line(ctx, args);
    let now = ctx.core.now_ms;
    let clients = ctx.all_clients();
    let watches = &ctx.core.watches;
    let tracking = &ctx.core.tracking;
    let line_of = |c: &Client| {
        if std::ptr::eq(c, &*ctx.client) {
            own.clone()
        } else {
            c.info_line(now, 0, watches.is_dirty(c.id), tracking.state(c.id))
        }
    };
    let mut text = String::new();
    match ids {
        Some(ids) => {
            for id in ids {
                if let Some(c) = clients.iter().find(|c| c.id as i64 == id) {
                    text.push_str(&line_of(c));
                    text.push('\n');
                }
            }
        }
        None => {
            for c in clients.iter().filter(|c| filter_type.is_none_or(|t| c.kind() == t)) {
                text.push_str(&line_of(c));
                text.push('\n');
            }
        }
    }
    out.verbatim(b"txt", text.as_bytes());
    Ok(())
}

fn unknown_type(name: &[u8]) -> Result<ClientType, CmdError> {
    ClientType::parse(name)
        .ok_or_else(|| CmdError::err(format!("Unknown client type '{}'", String::from_utf8_lossy(name))))
}

/// The filters of CLIENT KILL's new form.
#[derive(Default)]
struct KillFilter {
    id: Option<u64>,
    kind: Option<ClientType>,
    addr: Option<Vec<u8>>,
    laddr: Option<Vec<u8>>,
    skipme: bool,
}

impl KillFilter {
    fn matches(&self, c: &Client) -> bool {
        self.id.is_none_or(|id| c.id == id)
            && self.kind.is_none_or(|t| c.kind() == t)
            && self.addr.as_deref().is_none_or(|a| c.addr.as_bytes() == a)
            && self.laddr.as_deref().is_none_or(|a| c.laddr.as_bytes() == a)
    }
}

/// CLIENT KILL ip:port | CLIENT KILL [ID id] [TYPE type] [USER user] [ADDR ip:port] [LADDR ip:port]
/// [SKIPME yes|no]
pub fn kill(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let legacy = args.len() == 3;
    let mut f = KillFilter {
        skipme: !legacy,
        ..KillFilter::default()
    };
    if legacy {
        f.addr = Some(args.get(2).to_vec());
    } else {
        let mut i = 2;
        while i < args.len() {
            if i + 1 >= args.len() {
                return Err(CmdError::syntax());
            }
            let v = args.get(i + 1);
            if args.is(i, "id") {
                let id = super::args::parse_int(v)
                    .ok()
                    .filter(|&id| id >= 1)
                    .ok_or_else(|| CmdError::err("client-id should be greater than 0"))?;
                f.id = Some(id as u64);
            } else if args.is(i, "type") {
                f.kind = Some(unknown_type(v)?);
            } else if args.is(i, "addr") {
                f.addr = Some(v.to_vec());
            } else if args.is(i, "laddr") {
                f.laddr = Some(v.to_vec());
            } else if args.is(i, "user") {
                if v != DEFAULT_USER.as_bytes() {
                    return Err(CmdError::err(format!("No such user '{}'", String::from_utf8_lossy(v))));
                }
            } else if args.is(i, "skipme") {
                f.skipme = match v.to_ascii_lowercase().as_slice() {
                    b"yes" => true,
                    b"no" => false,
                    _ => return Err(CmdError::syntax()),
                };
            } else {
                return Err(CmdError::syntax());
            }
            i += 2;
        }
    }
    let victims: Vec<u64> = match ctx.host.as_deref() {
        Some(h) => h.clients().filter(|c| f.matches(c)).map(|c| c.id).collect(),
        None => Vec::new(),
    };
    let mut killed = victims.len() as i64;
    if !victims.is_empty() {
        ctx.request(Request::Kill(victims));
    }
    if !f.skipme && f.matches(ctx.client) {
        // Killing oneself: the reply still goes out, then the connection closes.
        ctx.client.flags |= cflags::CLOSE_AFTER_REPLY;
        killed += 1;
    }
    if legacy {
        if killed == 0 {
            return Err(CmdError::err("No such client"));
        }
        out.ok();
    } else {
        out.int(killed);
    }
    Ok(())
}

/// CLIENT SETNAME name
pub fn setname(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    set_client_name(ctx.client, args.get(2))?;
    out.ok();
    Ok(())
}

/// CLIENT GETNAME
pub fn getname(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    match &ctx.client.name {
        Some(n) => out.bulk(n),
        None => out.null(),
    }
    Ok(())
}

/// CLIENT REPLY ON|OFF|SKIP. Only ON is answered; the loop applies the mode to later replies.
pub fn reply(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let c = &mut *ctx.client;
    match args.get(2).to_ascii_lowercase().as_slice() {
        b"on" => {
            c.reply_mode = ReplyMode::On;
            out.ok();
        }
        b"off" => c.reply_mode = ReplyMode::Off,
        b"skip" => {
            if c.reply_mode != ReplyMode::Off {
                c.reply_mode = ReplyMode::SkipNext;
            }
        }
        _ => return Err(CmdError::syntax()),
    }
    Ok(())
}

/// CLIENT NO-EVICT ON|OFF
pub fn no_evict(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    match args.get(2).to_ascii_lowercase().as_slice() {
        b"on" => ctx.client.flags |= cflags::NO_EVICT,
        b"off" => ctx.client.flags &= !cflags::NO_EVICT,
        _ => return Err(CmdError::syntax()),
    }
    out.ok();
    Ok(())
}

/// CLIENT PAUSE timeout [WRITE|ALL]
///
/// As Redis 7.0 does, a new pause takes the new mode and keeps the later of the two end times; the
/// clients already suspended are re-run, so a downgrade from ALL to WRITE releases the readers.
pub fn pause(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if args.len() > 4 {
        return Err(subcommand_syntax(args));
    }
    let all = if args.len() == 4 {
        if args.is(3, "write") {
            false
        } else if args.is(3, "all") {
            true
        } else {
            return Err(CmdError::err("CLIENT PAUSE mode must be WRITE or ALL"));
        }
    } else {
        true
    };
    let ms = args
        .int(2)
        .map_err(|_| CmdError::err("timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    let mut end_ms = ctx.core.now_ms.saturating_add(ms);
    if let Some(p) = ctx.core.pause {
        end_ms = end_ms.max(p.end_ms);
    }
    ctx.core.pause = Some(Pause { all, end_ms });
    ctx.request(Request::ReleasePaused);
    out.ok();
    Ok(())
}

/// CLIENT UNPAUSE
pub fn unpause(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    ctx.core.pause = None;
    ctx.request(Request::ReleasePaused);
    out.ok();
    Ok(())
}

/// CLIENT GETREDIR: the client tracking redirects to (0: none), or -1 when it does not track.
pub fn getredir(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    out.int(ctx.core.tracking.state(ctx.client.id).map_or(-1, |s| s.redirect as i64));
    Ok(())
}

/// CLIENT TRACKINGINFO
pub fn trackinginfo(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let st = ctx.core.tracking.state(ctx.client.id);
    out.map(3);
    out.bulk(b"flags");
    let flags = st.map_or(vec!["off"], TrackingState::flag_names);
    out.set(flags.len());
    for f in flags {
        out.bulk(f.as_bytes());
    }
    out.bulk(b"redirect");
    out.int(st.map_or(-1, |s| s.redirect as i64));
    out.bulk(b"prefixes");
    let prefixes: Vec<&Vec<u8>> = st.map(|s| s.prefixes.iter().collect()).unwrap_or_default();
    out.array(prefixes.len());
    for p in prefixes {
        out.bulk(p);
    }
    Ok(())
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX prefix ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP], with
/// Redis 7.0's checks in its order.
pub fn tracking(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut opts = TrackingState {
        slot: ctx.client.slot,
        ..Default::default()
    };
    let mut redirect: Option<u64> = None;
    let mut prefixes: Vec<Vec<u8>> = vec![];
    let mut i = 3;
    while i < args.len() {
        let more = i + 1 < args.len();
        if args.is(i, "redirect") && more {
            i += 1;
            if redirect.is_some() {
                return Err(CmdError::err("A client can only redirect to a single other client"));
            }
            let id = super::args::parse_int(args.get(i))?;
            let target = ctx
                .all_clients()
                .into_iter()
                .find(|c| c.id as i64 == id)
                .map(|c| c.slot);
            let Some(slot) = target else {
                return Err(CmdError::err("The client ID you want redirect to does not exist"));
            };
            redirect = Some(id as u64);
            opts.redirect_slot = slot;
        } else if args.is(i, "bcast") {
            opts.bcast = true;
        } else if args.is(i, "optin") {
            opts.optin = true;
        } else if args.is(i, "optout") {
            opts.optout = true;
        } else if args.is(i, "noloop") {
            opts.noloop = true;
        } else if args.is(i, "prefix") && more {
            i += 1;
            prefixes.push(args.get(i).to_vec());
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    let id = ctx.client.id;
    if args.is(2, "off") {
        ctx.core.tracking.disable(id);
        out.ok();
        return Ok(());
    }
    if !args.is(2, "on") {
        return Err(CmdError::syntax());
    }
    if !opts.bcast && !prefixes.is_empty() {
        return Err(CmdError::err("PREFIX option requires BCAST mode to be enabled"));
    }
    let current = ctx.core.tracking.state(id);
    if current.is_some_and(|c| c.bcast != opts.bcast) {
        return Err(CmdError::err(
            "You can't switch BCAST mode on/off before disabling tracking for this client, and then \
             re-enabling it with a different mode.",
        ));
    }
    if opts.bcast && (opts.optin || opts.optout) {
        return Err(CmdError::err("OPTIN and OPTOUT are not compatible with BCAST"));
    }
    if opts.optin && opts.optout {
        return Err(CmdError::err("You can't specify both OPTIN mode and OPTOUT mode"));
    }
    if current.is_some_and(|c| (opts.optin && c.optout) || (opts.optout && c.optin)) {
        return Err(CmdError::err(
            "You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then \
             re-enabling it with a different mode.",
        ));
    }
    if opts.bcast {
        check_prefixes(current.map(|c| &c.prefixes), &prefixes)?;
    }
    ctx.core.tracking.enable(id, redirect.unwrap_or(0), opts, prefixes);
    out.ok();
    Ok(())
}

/// Redis's checkPrefixCollisionsOrReply: a client's prefixes may not overlap, among the new ones or
/// with the ones it has.
fn check_prefixes(existing: Option<&std::collections::BTreeSet<Vec<u8>>>, new: &[Vec<u8>]) -> CmdResult {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    for (i, p) in new.iter().enumerate() {
        if let Some(e) = existing.and_then(|e| Tracking::overlapping(p, e.iter().map(|x| x.as_slice()))) {
            return Err(CmdError::err(format!(
                "Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                text(p),
                text(e)
            )));
        }
        if let Some(o) = Tracking::overlapping(p, new[i + 1..].iter().map(|x| x.as_slice())) {
            return Err(CmdError::err(format!(
                "Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not \
                 overlap.",
                text(p),
                text(o)
            )));
        }
    }
    Ok(())
}

/// CLIENT CACHING YES|NO: whether the next command's reads are tracked (OPTIN / OPTOUT modes).
pub fn caching(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let Some(st) = ctx.core.tracking.state_mut(ctx.client.id) else {
        return Err(CmdError::err(
            "CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode \
             enabled",
        ));
    };
    if args.is(2, "yes") {
        if !st.optin {
            return Err(CmdError::err(
                "CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            ));
        }
    } else if args.is(2, "no") {
        if !st.optout {
            return Err(CmdError::err(
                "CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            ));
        }
    } else {
        return Err(CmdError::syntax());
    }
    st.caching = true;
    out.ok();
    Ok(())
}

/// CLIENT UNBLOCK client-id [TIMEOUT|ERROR]
///
/// Ends the wait of a client blocked on keys: it gets its command's timeout reply, or an `UNBLOCKED`
/// error. A client held by CLIENT PAUSE cannot be unblocked (as in Redis): the answer is 0.
pub fn unblock(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let id = args.int(2)?;
    if args.len() == 4 && !args.is(3, "timeout") && !args.is(3, "error") {
        return Err(CmdError::err("CLIENT UNBLOCK reason should be TIMEOUT or ERROR"));
    }
    if args.len() > 4 {
        return Err(subcommand_syntax(args));
    }
    let error = args.len() == 4 && args.is(3, "error");
    // A client held by CLIENT PAUSE is not blocked on keys, so it is not one to unblock.
    let found = ctx
        .host
        .as_deref()
        .is_some_and(|h| h.clients().any(|c| c.id as i64 == id && c.blocked_on_keys()));
    if found {
        ctx.request(Request::Unblock { id: id as u64, error });
    }
    out.int(found as i64);
    Ok(())
}

/// CLIENT HELP (our own wording, Redis's layout).
pub fn help(_ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    super::server::help_reply(
        out,
        "CLIENT",
        &[
            (
                "CACHING (YES|NO)",
                "Whether the next command's reads count for client-side caching (OPTIN/OPTOUT).",
            ),
            (
                "GETREDIR",
                "The client tracking redirects to (0: none), or -1 when tracking is off.",
            ),
            ("GETNAME", "The name of this connection, or null."),
            ("ID", "The unique id of this connection."),
            ("INFO", "One line describing this connection, in CLIENT LIST's format."),
            ("KILL <ip:port>", "Close the connection coming from <ip:port>."),
            (
                "KILL <filter> <value> [<filter> <value> ...]",
                "Close every connection matching all the filters:",
            ),
            ("    * ID <client-id>", "  the connection with this id;"),
            (
                "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
                "  connections of this class;",
            ),
            ("    * USER <username>", "  connections authenticated as this user;"),
            ("    * ADDR <ip:port>", "  the connection from this remote address;"),
            ("    * LADDR <ip:port>", "  connections to this local address;"),
            (
                "    * SKIPME (YES|NO)",
                "  whether to spare this connection (default YES).",
            ),
            (
                "LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <id> ...]",
                "One line per connection.",
            ),
            ("UNPAUSE", "End a pause started by CLIENT PAUSE."),
            (
                "PAUSE <timeout> [WRITE|ALL]",
                "Hold the commands (all, or writes only) of every client for <timeout> ms.",
            ),
            (
                "REPLY (ON|OFF|SKIP)",
                "Turn the replies to this connection on or off, or drop the next one.",
            ),
            ("SETNAME <name>", "Name this connection (an empty name removes it)."),
            (
                "UNBLOCK <clientid> [TIMEOUT|ERROR]",
                "Wake a client blocked on a command.",
            ),
            (
                "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> ...] [OPTIN] [OPTOUT] [NOLOOP]",
                "Turn client-side caching invalidations on or off for this connection.",
            ),
            (
                "TRACKINGINFO",
                "This connection's tracking state: flags, redirection and prefixes.",
            ),
            ("NO-EVICT (ON|OFF)", "Exempt this connection from client eviction."),
        ],
    );
    Ok(())
}
