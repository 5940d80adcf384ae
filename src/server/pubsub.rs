//! Pub/Sub: who listens to what, and the out-of-band messages on their way to clients.
//!
//! Three namespaces, as in Redis 7.0: channels (SUBSCRIBE), patterns (PSUBSCRIBE, glob-matched against
//! every published channel) and shard channels (SSUBSCRIBE/SPUBLISH, a namespace of their own that
//! Cluster will route by hash slot). The server-side table maps each name to its subscribers in the
//! order they subscribed (delivery follows it); each client keeps the names it holds
//! ([`Subscriptions`]), for UNSUBSCRIBE without arguments, CLIENT LIST and its own removal.
//!
//! Handlers never touch the network: publishing (PUBLISH, keyspace notifications, tracking
//! invalidations later) counts the receivers and queues one [`Push`] plus one delivery per receiver in
//! the [`Outbox`]. The network side empties it after each command (`Shard::deliver_pushes`), writing
//! into each receiver's output buffer; the executing client's own pushes go before its reply, where
//! Redis writes them.
//!
//! Invariant: a waiter appears in a name's subscriber list exactly when that name is in its client's
//! `Subscriptions` (both change together here), and a closed client is removed through `Net::closed`
//! before anything else runs.

use std::collections::HashMap;

use indexmap::IndexSet;

use super::blocking::Waiter;
use crate::util::glob::glob_match;

type Map<V> = HashMap<Vec<u8>, V, ahash::RandomState>;

/// A subscription namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Channel,
    Pattern,
    Shard,
}

impl Scope {
    /// The first element of a subscription reply.
    pub fn subscribe_verb(self) -> &'static [u8] {
        match self {
            Scope::Channel => b"subscribe",
            Scope::Pattern => b"psubscribe",
            Scope::Shard => b"ssubscribe",
        }
    }

    /// The first element of an unsubscription reply.
    pub fn unsubscribe_verb(self) -> &'static [u8] {
        match self {
            Scope::Channel => b"unsubscribe",
            Scope::Pattern => b"punsubscribe",
            Scope::Shard => b"sunsubscribe",
        }
    }
}

/// What one client is subscribed to.
#[derive(Debug, Default, Clone)]
pub struct Subscriptions {
    pub channels: IndexSet<Vec<u8>, ahash::RandomState>,
    pub patterns: IndexSet<Vec<u8>, ahash::RandomState>,
    pub shard: IndexSet<Vec<u8>, ahash::RandomState>,
}

impl Subscriptions {
    fn names(&self, scope: Scope) -> &IndexSet<Vec<u8>, ahash::RandomState> {
        match scope {
            Scope::Channel => &self.channels,
            Scope::Pattern => &self.patterns,
            Scope::Shard => &self.shard,
        }
    }

    fn names_mut(&mut self, scope: Scope) -> &mut IndexSet<Vec<u8>, ahash::RandomState> {
        match scope {
            Scope::Channel => &mut self.channels,
            Scope::Pattern => &mut self.patterns,
            Scope::Shard => &mut self.shard,
        }
    }

    /// The count a (un)subscription reply carries: channels and patterns together, shard channels
    /// apart (Redis 7.0's clientSubscriptionsCount / clientShardSubscriptionsCount).
    pub fn reply_count(&self, scope: Scope) -> usize {
        match scope {
            Scope::Channel | Scope::Pattern => self.channels.len() + self.patterns.len(),
            Scope::Shard => self.shard.len(),
        }
    }

    /// Subscriptions of every kind: a client with any is in subscriber mode.
    pub fn total(&self) -> usize {
        self.channels.len() + self.patterns.len() + self.shard.len()
    }

    /// The names held in one namespace, in the order they were subscribed (swap-removal may reorder).
    pub fn list(&self, scope: Scope) -> Vec<Vec<u8>> {
        self.names(scope).iter().cloned().collect()
    }
}

/// One out-of-band message, encoded once for all its receivers: the element count and the elements,
/// which are the same bytes in RESP2 and RESP3 (only the header differs: `*` or `>`).
#[derive(Debug)]
pub struct Push {
    pub len: usize,
    pub body: Vec<u8>,
}

impl Push {
    /// A push whose elements are all bulk strings (pub/sub messages).
    pub fn of_bulks(parts: &[&[u8]]) -> Push {
        let size = parts.iter().map(|p| p.len() + 16).sum();
        let mut body = Vec::with_capacity(size);
        for p in parts {
            body.push(b'$');
            let mut n = itoa::Buffer::new();
            body.extend_from_slice(n.format(p.len()).as_bytes());
            body.extend_from_slice(b"\r\n");
            body.extend_from_slice(p);
            body.extend_from_slice(b"\r\n");
        }
        Push { len: parts.len(), body }
    }

    /// Write the push into a client's output in the client's protocol.
    pub fn write_to(&self, out: &mut resp::ReplyBuf) {
        out.push(self.len);
        out.raw(&self.body);
    }
}

/// Messages waiting to be written to their receivers.
#[derive(Debug, Default)]
pub struct Outbox {
    pub pushes: Vec<Push>,
    /// (receiver, index into `pushes`), in delivery order.
    pub deliveries: Vec<(Waiter, usize)>,
}

impl Outbox {
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.deliveries.is_empty()
    }

    /// Queue one push for several receivers.
    pub fn send(&mut self, push: Push, to: impl IntoIterator<Item = Waiter>) {
        let i = self.pushes.len();
        let before = self.deliveries.len();
        self.deliveries.extend(to.into_iter().map(|w| (w, i)));
        if self.deliveries.len() > before {
            self.pushes.push(push);
        }
    }

    /// Take everything queued (the caller writes it out).
    pub fn take(&mut self) -> Outbox {
        std::mem::take(self)
    }
}

/// The server's subscription table.
#[derive(Debug, Default)]
pub struct PubSub {
    channels: Map<Vec<Waiter>>,
    patterns: Map<Vec<Waiter>>,
    shard: Map<Vec<Waiter>>,
    pub outbox: Outbox,
}

impl PubSub {
    fn table(&self, scope: Scope) -> &Map<Vec<Waiter>> {
        match scope {
            Scope::Channel => &self.channels,
            Scope::Pattern => &self.patterns,
            Scope::Shard => &self.shard,
        }
    }

    fn table_mut(&mut self, scope: Scope) -> &mut Map<Vec<Waiter>> {
        match scope {
            Scope::Channel => &mut self.channels,
            Scope::Pattern => &mut self.patterns,
            Scope::Shard => &mut self.shard,
        }
    }

    /// Subscribe `who` to `name`. False if it already was.
    pub fn subscribe(&mut self, scope: Scope, who: Waiter, subs: &mut Subscriptions, name: &[u8]) -> bool {
        if !subs.names_mut(scope).insert(name.to_vec()) {
            return false;
        }
        self.table_mut(scope).entry(name.to_vec()).or_default().push(who);
        true
    }

    /// Unsubscribe `who` from `name`. False if it was not subscribed.
    pub fn unsubscribe(&mut self, scope: Scope, who: Waiter, subs: &mut Subscriptions, name: &[u8]) -> bool {
        if !subs.names_mut(scope).swap_remove(name) {
            return false;
        }
        let table = self.table_mut(scope);
        if let Some(list) = table.get_mut(name) {
            list.retain(|w| w.id != who.id);
            if list.is_empty() {
                table.remove(name);
            }
        }
        true
    }

    /// Remove every subscription of a client that is gone.
    pub fn remove_client(&mut self, who: Waiter, mut subs: Subscriptions) {
        for scope in [Scope::Channel, Scope::Pattern, Scope::Shard] {
            for name in subs.list(scope) {
                self.unsubscribe(scope, who, &mut subs, &name);
            }
        }
    }

    /// Publish `payload` on a channel (or shard channel): queue it for every subscriber of the channel,
    /// then (channels only) for every subscriber of each matching pattern. Returns how many deliveries
    /// were queued (PUBLISH's reply).
    pub fn publish(&mut self, scope: Scope, channel: &[u8], payload: &[u8]) -> usize {
        let mut count = 0;
        let direct = match scope {
            Scope::Shard => &self.shard,
            _ => &self.channels,
        };
        if let Some(list) = direct.get(channel) {
            let kind: &[u8] = if scope == Scope::Shard { b"smessage" } else { b"message" };
            count += list.len();
            self.outbox
                .send(Push::of_bulks(&[kind, channel, payload]), list.iter().copied());
        }
        if scope == Scope::Shard || self.patterns.is_empty() {
            return count;
        }
        for (pattern, list) in &self.patterns {
            if glob_match(pattern, channel, false) {
                count += list.len();
                self.outbox.send(
                    Push::of_bulks(&[b"pmessage", pattern, channel, payload]),
                    list.iter().copied(),
                );
            }
        }
        count
    }

    /// Subscribers of a name (PUBSUB NUMSUB / SHARDNUMSUB).
    pub fn subscribers(&self, scope: Scope, name: &[u8]) -> usize {
        self.table(scope).get(name).map_or(0, |l| l.len())
    }

    /// Names with at least one subscriber matching an optional glob pattern (PUBSUB CHANNELS).
    pub fn active(&self, scope: Scope, pattern: Option<&[u8]>) -> Vec<&[u8]> {
        self.table(scope)
            .keys()
            .filter(|k| pattern.is_none_or(|p| glob_match(p, k, false)))
            .map(|k| k.as_slice())
            .collect()
    }

    /// How many distinct names have subscribers (INFO `pubsub_channels`, `pubsub_patterns`,
    /// `pubsubshard_channels`; PUBSUB NUMPAT).
    pub fn count(&self, scope: Scope) -> usize {
        self.table(scope).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(id: u64) -> Waiter {
        Waiter { id, slot: id as usize }
    }

    #[test]
    fn publish_reaches_channel_then_pattern_subscribers_in_order() {
        let mut ps = PubSub::default();
        let (mut s1, mut s2, mut s3) = Default::default();
        assert!(ps.subscribe(Scope::Channel, w(1), &mut s1, b"news"));
        assert!(!ps.subscribe(Scope::Channel, w(1), &mut s1, b"news"));
        assert!(ps.subscribe(Scope::Channel, w(2), &mut s2, b"news"));
        assert!(ps.subscribe(Scope::Pattern, w(3), &mut s3, b"n*"));
        assert!(ps.subscribe(Scope::Shard, w(3), &mut s3, b"news"));
        assert_eq!(s3.reply_count(Scope::Pattern), 1);
        assert_eq!(s3.reply_count(Scope::Shard), 1);
        assert_eq!(ps.publish(Scope::Channel, b"news", b"hi"), 3);
        let out = ps.outbox.take();
        let to: Vec<u64> = out.deliveries.iter().map(|(w, _)| w.id).collect();
        assert_eq!(to, vec![1, 2, 3]);
        assert_eq!(out.pushes.len(), 2);
        assert_eq!(out.pushes[1].len, 4);
        assert_eq!(ps.publish(Scope::Shard, b"news", b"x"), 1);
        assert_eq!(ps.publish(Scope::Channel, b"other", b"x"), 0);
        assert_eq!(ps.outbox.take().deliveries.len(), 1);
    }

    #[test]
    fn unsubscribing_and_removal_keep_both_sides_in_step() {
        let mut ps = PubSub::default();
        let mut s1 = Subscriptions::default();
        let mut s2 = Subscriptions::default();
        ps.subscribe(Scope::Channel, w(1), &mut s1, b"a");
        ps.subscribe(Scope::Channel, w(2), &mut s2, b"a");
        ps.subscribe(Scope::Pattern, w(1), &mut s1, b"*");
        assert_eq!(ps.count(Scope::Channel), 1);
        assert!(ps.unsubscribe(Scope::Channel, w(1), &mut s1, b"a"));
        assert!(!ps.unsubscribe(Scope::Channel, w(1), &mut s1, b"a"));
        assert_eq!(ps.subscribers(Scope::Channel, b"a"), 1);
        ps.remove_client(w(2), s2);
        assert_eq!(ps.count(Scope::Channel), 0);
        assert_eq!(ps.count(Scope::Pattern), 1);
        ps.remove_client(w(1), s1);
        assert_eq!(ps.count(Scope::Pattern), 0);
        assert!(ps.active(Scope::Channel, None).is_empty());
    }

    #[test]
    fn push_encoding_follows_the_protocol() {
        let p = Push::of_bulks(&[b"message", b"c", b"hello"]);
        let mut out = resp::ReplyBuf::new(resp::Protocol::Resp2);
        p.write_to(&mut out);
        assert_eq!(out.buf, b"*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$5\r\nhello\r\n");
        let mut out = resp::ReplyBuf::new(resp::Protocol::Resp3);
        p.write_to(&mut out);
        assert!(out.buf.starts_with(b">3\r\n$7\r\n"));
    }
}
