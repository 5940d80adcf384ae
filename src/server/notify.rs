//! Keyspace notifications: the events of the write record, published over Pub/Sub.
//!
//! A write reports what it did to a key as an event with Redis's name (`set`, `lpush`, `expired`,
//! `rename_from`, `new` ...) and class (DESIGN §5); names follow the command, not the journal's effect
//! (EXPIRE's event is `expire` although the journal holds PEXPIREAT). Where the class is enabled by
//! `notify-keyspace-events`, the event goes out at once (as Redis's notifyKeyspaceEvent does, so a
//! subscriber sees the events of a transaction in order) on `__keyspace@<db>__:<key>` (message: the
//! event) and/or `__keyevent@<db>__:<event>` (message: the key).
//!
//! Writes report through `DbView` (`notify`, `changed`), the expiry paths through [`notify`] directly:
//! with notifications off, each report costs one test of the class mask.

use super::pubsub::{PubSub, Scope};

/// Event classes, as the `notify-keyspace-events` letters name them (the bit values are Redis's).
pub mod class {
    /// `K`: publish on `__keyspace@<db>__:<key>`.
    pub const KEYSPACE: u32 = 1;
    /// `E`: publish on `__keyevent@<db>__:<event>`.
    pub const KEYEVENT: u32 = 1 << 1;
    /// `g`: DEL, EXPIRE, RENAME ... (type-independent commands).
    pub const GENERIC: u32 = 1 << 2;
    /// `$`
    pub const STRING: u32 = 1 << 3;
    /// `l`
    pub const LIST: u32 = 1 << 4;
    /// `s`
    pub const SET: u32 = 1 << 5;
    /// `h`
    pub const HASH: u32 = 1 << 6;
    /// `z`
    pub const ZSET: u32 = 1 << 7;
    /// `x`: a key deleted because its deadline passed.
    pub const EXPIRED: u32 = 1 << 8;
    /// `e`: a key evicted by `maxmemory`.
    pub const EVICTED: u32 = 1 << 9;
    /// `t`
    pub const STREAM: u32 = 1 << 10;
    /// `m`: a read found no key (not part of `A`).
    pub const KEY_MISS: u32 = 1 << 11;
    /// `d`: module events (Ferrite has no modules; accepted for compatibility).
    pub const MODULE: u32 = 1 << 12;
    /// `n`: a key was created (not part of `A`).
    pub const NEW: u32 = 1 << 13;
    /// `A`: every class but `m` and `n`.
    pub const ALL: u32 = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

/// Publish one event about `key` in database `db`, if `flags` (the configured mask) enables its class
/// and at least one of the two channel families.
#[inline]
pub fn notify(pubsub: &mut PubSub, flags: u32, class: u32, event: &str, key: &[u8], db: usize) {
    if flags & class == 0 || flags & (class::KEYSPACE | class::KEYEVENT) == 0 {
        return;
    }
    publish(pubsub, flags, event, key, db);
}

#[cold]
fn publish(pubsub: &mut PubSub, flags: u32, event: &str, key: &[u8], db: usize) {
    let mut db_text = itoa::Buffer::new();
    let db_text = db_text.format(db).as_bytes();
    if flags & class::KEYSPACE != 0 {
        let channel = [b"__keyspace@", db_text, b"__:", key].concat();
        pubsub.publish(Scope::Channel, &channel, event.as_bytes());
    }
    if flags & class::KEYEVENT != 0 {
        let channel = [b"__keyevent@", db_text, b"__:", event.as_bytes()].concat();
        pubsub.publish(Scope::Channel, &channel, key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::blocking::Waiter;
    use crate::server::pubsub::Subscriptions;

    #[test]
    fn channels_and_payloads_follow_redis_naming() {
        let mut ps = PubSub::default();
        let mut subs = Subscriptions::default();
        let w = Waiter { id: 1, slot: 1 };
        ps.subscribe(Scope::Pattern, w, &mut subs, b"__key*__:*");
        let flags = class::KEYSPACE | class::KEYEVENT | class::STRING;
        notify(&mut ps, flags, class::LIST, "lpush", b"k", 3);
        assert!(ps.outbox.is_empty(), "a disabled class publishes nothing");
        notify(&mut ps, class::STRING, class::STRING, "set", b"k", 3);
        assert!(ps.outbox.is_empty(), "a class without K or E publishes nothing");
        notify(&mut ps, flags, class::STRING, "set", b"k", 3);
        let out = ps.outbox.take();
        assert_eq!(out.deliveries.len(), 2);
        let text: Vec<String> = out
            .pushes
            .iter()
            .map(|p| String::from_utf8_lossy(&p.body).into_owned())
            .collect();
        assert!(text[0].contains("__keyspace@3__:k\r\n$3\r\nset\r\n"), "{}", text[0]);
        assert!(text[1].contains("__keyevent@3__:set\r\n$1\r\nk\r\n"), "{}", text[1]);
    }
}
