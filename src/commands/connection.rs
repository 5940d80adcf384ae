//! Connection commands: PING, ECHO, QUIT, SELECT, HELLO, AUTH, RESET.
//!
//! Authentication follows Redis 7.0 without ACL users: there is one user, `default`. Without
//! `requirepass` it has no password (`nopass`: any password authenticates it, and `AUTH <password>`
//! alone is refused as a configuration mistake); with `requirepass` that is its only password.

use super::host::Request;
use resp::{Protocol, ReplyBuf};

use super::{Args, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::server::client::{cflags, Client, ReplyMode};

/// The only user there is until ACLs land.
pub const DEFAULT_USER: &str = "default";

const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

/// PING [message]
pub fn ping(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if args.len() > 2 {
        return Err(CmdError::err("wrong number of arguments for 'ping' command"));
    }
    // A RESP2 subscriber's replies are arrays, so they cannot be confused with messages.
    if ctx.client.is_subscriber() && !out.is_resp3() {
        out.array(2);
        out.bulk(b"pong");
        out.bulk(if args.len() == 2 { args.get(1) } else { b"" });
        return Ok(());
    }
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

/// Check a user/password pair against the default user (Redis's ACLAuthenticateUser without ACLs).
pub fn check_credentials(requirepass: &str, user: &[u8], pass: &[u8]) -> bool {
    user == DEFAULT_USER.as_bytes() && (requirepass.is_empty() || constant_time_eq(requirepass.as_bytes(), pass))
}

/// Compare secrets without an early exit that would leak the length of the common prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, &x) in a.iter().enumerate() {
        diff |= (x ^ b.get(i).copied().unwrap_or(0)) as usize;
    }
    diff == 0
}

/// AUTH [username] password
pub fn auth(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::syntax());
    }
    let requirepass = &ctx.core.config.requirepass;
    let (user, pass) = if args.len() == 2 {
        if requirepass.is_empty() {
            return Err(CmdError::err(
                "AUTH <password> called without any password configured for the default user. Are you sure \
                 your configuration is correct?",
            ));
        }
        (DEFAULT_USER.as_bytes(), args.get(1))
    } else {
        (args.get(1), args.get(2))
    };
    // A failed AUTH leaves an authenticated connection authenticated, as in Redis.
    if !check_credentials(requirepass, user, pass) {
        return Err(CmdError::Coded(WRONGPASS.into()));
    }
    ctx.client.authenticated = true;
    out.ok();
    Ok(())
}

/// Redis's client-name rule: printable ASCII without blanks (`!` to `~`).
pub fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

pub const BAD_CLIENT_NAME: &str = "Client names cannot contain spaces, newlines or special characters.";

/// Set (or with an empty name clear) the client's name.
pub fn set_client_name(client: &mut Client, name: &[u8]) -> CmdResult {
    if !valid_client_name(name) {
        return Err(CmdError::err(BAD_CLIENT_NAME));
    }
    client.name = (!name.is_empty()).then(|| name.to_vec());
    Ok(())
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
///
/// As in Redis 7.0 the options take effect one by one as they are read: an AUTH that succeeds
/// stays in effect even if a later option fails, and a SETNAME is applied before the check that
/// the connection is authenticated.
pub fn hello(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let mut proto = None;
    if args.len() >= 2 {
        let v = args
            .int(1)
            .map_err(|_| CmdError::err("Protocol version is not an integer or out of range"))?;
        proto = Some(match v {
            2 => Protocol::Resp2,
            3 => Protocol::Resp3,
            _ => return Err(CmdError::Coded("NOPROTO unsupported protocol version".into())),
        });
    }
    let mut j = 2;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if args.is(j, "auth") && more >= 2 {
            if !check_credentials(&ctx.core.config.requirepass, args.get(j + 1), args.get(j + 2)) {
                return Err(CmdError::Coded(WRONGPASS.into()));
            }
            ctx.client.authenticated = true;
            j += 3;
        } else if args.is(j, "setname") && more >= 1 {
            set_client_name(ctx.client, args.get(j + 1))?;
            j += 2;
        } else {
            return Err(CmdError::err(format!(
                "Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(args.get(j))
            )));
        }
    }
    if !ctx.client.authenticated {
        return Err(CmdError::Coded(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> \
             <pass> option can be used to authenticate the client and select the RESP protocol version at the \
             same time"
                .into(),
        ));
    }
    if let Some(p) = proto {
        out.proto = p;
    }
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(crate::config::REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(if out.is_resp3() { 3 } else { 2 });
    out.bulk(b"id");
    out.int(ctx.client.id as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(if ctx.core.is_replica { b"replica" } else { b"master" });
    out.bulk(b"modules");
    out.array(0);
    Ok(())
}

/// RESET: the connection state a new connection has, except its id, name-independent flags such as
/// `no-evict`, and its statistics (what Redis 7.0's clearClientConnectionState resets).
pub fn reset(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if ctx.client.has(cflags::MONITOR) {
        ctx.client.flags &= !cflags::MONITOR;
        ctx.request(Request::Monitor(false));
    }
    super::transactions::discard_transaction(ctx.core, ctx.client);
    let c = &mut *ctx.client;
    c.db = 0;
    c.name = None;
    c.reply_mode = ReplyMode::On;
    c.authenticated = ctx.core.config.requirepass.is_empty();
    super::pubsub::unsubscribe_all(&mut ctx.core.pubsub, c);
    ctx.core.tracking.disable(c.id);
    // Later milestones reset here too: READONLY and ASKING.
    out.proto = Protocol::Resp2;
    out.simple(b"RESET");
    Ok(())
}
