//! Pub/Sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH and PUBSUB.
//!
//! The subscription table and message delivery are `server::pubsub`'s. A subscription's reply is one
//! array (a push in RESP3) per name: the verb, the name, and the client's subscription count after it.
//! A RESP2 client with any subscription is in subscriber mode, where the gates let through only the
//! commands flagged `SUBSCRIBER_OK` (dispatch).

use resp::ReplyBuf;

use super::{Args, CmdResult, Ctx};
use crate::error::CmdError;
use crate::server::blocking::Waiter;
use crate::server::client::Client;
use crate::server::pubsub::{PubSub, Scope, Subscriptions};

fn waiter(c: &Client) -> Waiter {
    Waiter { id: c.id, slot: c.slot }
}

fn subscribe_reply(out: &mut ReplyBuf, verb: &[u8], name: Option<&[u8]>, count: usize) {
    out.push(3);
    out.bulk(verb);
    match name {
        Some(n) => out.bulk(n),
        None => out.null(),
    }
    out.int(count as i64);
}

fn subscribe_to(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf, scope: Scope) -> CmdResult {
    let who = waiter(ctx.client);
    let subs = ctx.client.subs.get_or_insert_with(Default::default);
    for name in args.iter().skip(1) {
        ctx.core.pubsub.subscribe(scope, who, subs, name);
        subscribe_reply(out, scope.subscribe_verb(), Some(name), subs.reply_count(scope));
    }
    Ok(())
}

/// Unsubscribe from the names given, or from every name of the scope when none is; with nothing to
/// unsubscribe from, one reply with a null name.
fn unsubscribe_from(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf, scope: Scope) -> CmdResult {
    let who = waiter(ctx.client);
    let mut subs = ctx.client.subs.take().unwrap_or_default();
    let names: Vec<Vec<u8>> = if args.len() > 1 {
        args.iter().skip(1).map(<[u8]>::to_vec).collect()
    } else {
        subs.list(scope)
    };
    for name in &names {
        ctx.core.pubsub.unsubscribe(scope, who, &mut subs, name);
        subscribe_reply(out, scope.unsubscribe_verb(), Some(name), subs.reply_count(scope));
    }
    if names.is_empty() {
        subscribe_reply(out, scope.unsubscribe_verb(), None, subs.reply_count(scope));
    }
    if subs.total() > 0 {
        ctx.client.subs = Some(subs);
    }
    Ok(())
}

/// Drop every subscription of a client (RESET), without replies.
pub fn unsubscribe_all(pubsub: &mut PubSub, client: &mut Client) {
    if let Some(subs) = client.subs.take() {
        pubsub.remove_client(waiter(client), *subs);
    }
}

/// SUBSCRIBE channel [channel ...]
pub fn subscribe(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    subscribe_to(ctx, args, out, Scope::Channel)
}

/// PSUBSCRIBE pattern [pattern ...]
pub fn psubscribe(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    subscribe_to(ctx, args, out, Scope::Pattern)
}

/// SSUBSCRIBE shardchannel [shardchannel ...]. Unlike SUBSCRIBE, refused inside MULTI (Redis 7.0
/// refuses it to every client that may not block).
pub fn ssubscribe(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    if !ctx.can_block() {
        return Err(CmdError::err("SSUBSCRIBE isn't allowed for a DENY BLOCKING client"));
    }
    subscribe_to(ctx, args, out, Scope::Shard)
}

/// UNSUBSCRIBE [channel ...]
pub fn unsubscribe(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    unsubscribe_from(ctx, args, out, Scope::Channel)
}

/// PUNSUBSCRIBE [pattern ...]
pub fn punsubscribe(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    unsubscribe_from(ctx, args, out, Scope::Pattern)
}

/// SUNSUBSCRIBE [shardchannel ...]
pub fn sunsubscribe(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    unsubscribe_from(ctx, args, out, Scope::Shard)
}

/// PUBLISH channel message: the number of deliveries (pattern matches count once each).
pub fn publish(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let n = ctx.core.pubsub.publish(Scope::Channel, args.get(1), args.get(2));
    out.int(n as i64);
    Ok(())
}

/// SPUBLISH shardchannel message
pub fn spublish(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    let n = ctx.core.pubsub.publish(Scope::Shard, args.get(1), args.get(2));
    out.int(n as i64);
    Ok(())
}

fn active_names(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf, scope: Scope) -> CmdResult {
    if args.len() > 3 {
        return Err(super::introspection::subcommand_syntax_error(args));
    }
    let pattern = (args.len() == 3).then(|| args.get(2));
    let names = ctx.core.pubsub.active(scope, pattern);
    out.array(names.len());
    for n in names {
        out.bulk(n);
    }
    Ok(())
}

fn subscriber_counts(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf, scope: Scope) -> CmdResult {
    out.array((args.len() - 2) * 2);
    for name in args.iter().skip(2) {
        out.bulk(name);
        out.int(ctx.core.pubsub.subscribers(scope, name) as i64);
    }
    Ok(())
}

/// PUBSUB CHANNELS [pattern]
pub fn channels(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    active_names(ctx, args, out, Scope::Channel)
}

/// PUBSUB SHARDCHANNELS [pattern]
pub fn shardchannels(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    active_names(ctx, args, out, Scope::Shard)
}

/// PUBSUB NUMSUB [channel ...]
pub fn numsub(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    subscriber_counts(ctx, args, out, Scope::Channel)
}

/// PUBSUB SHARDNUMSUB [shardchannel ...]
pub fn shardnumsub(ctx: &mut Ctx<'_>, args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    subscriber_counts(ctx, args, out, Scope::Shard)
}

/// PUBSUB NUMPAT: distinct patterns with subscribers.
pub fn numpat(ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    out.int(ctx.core.pubsub.count(Scope::Pattern) as i64);
    Ok(())
}

/// PUBSUB HELP (our own wording, Redis's layout).
pub fn help(_ctx: &mut Ctx<'_>, _args: &Args<'_>, out: &mut ReplyBuf) -> CmdResult {
    super::server::help_reply(
        out,
        "PUBSUB",
        &[
            (
                "CHANNELS [<pattern>]",
                "Channels with at least one subscriber, matching <pattern> if given.",
            ),
            ("NUMPAT", "How many distinct patterns have subscribers."),
            (
                "NUMSUB [<channel> ...]",
                "Each channel and its number of subscribers (patterns not counted).",
            ),
            (
                "SHARDCHANNELS [<pattern>]",
                "Shard channels with at least one subscriber, matching <pattern>.",
            ),
            (
                "SHARDNUMSUB [<shardchannel> ...]",
                "Each shard channel and its number of subscribers.",
            ),
        ],
    );
    Ok(())
}

/// Whether a client holds any subscription (subscriber mode in RESP2, type `pubsub`).
pub fn is_subscriber(subs: &Option<Box<Subscriptions>>) -> bool {
    subs.as_ref().is_some_and(|s| s.total() > 0)
}
