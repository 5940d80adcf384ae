//! Consumer groups: the last delivered ID, the logical read counter, the pending entries list (PEL) and
//! the consumers, as Redis 7.0 keeps them.
//!
//! Redis shares one NACK between the group's PEL and its consumer's PEL. Here the group's PEL owns the
//! NACK (delivery time, count and the consumer's name, shared as an `Arc`), and each consumer keeps the
//! set of IDs it owns. Invariant: an ID is in `consumers[c].pel` exactly when `pel[id].consumer == c`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::StreamId;

/// `entries_read` when the counter is unknown (Redis's `SCG_INVALID_ENTRIES_READ`).
pub const INVALID_ENTRIES_READ: i64 = -1;

/// A pending entry: delivered to `consumer`, not acknowledged yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nack {
    /// Unix time in ms of the last delivery.
    pub delivery_time: i64,
    pub delivery_count: u64,
    pub consumer: Arc<[u8]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    /// Unix time in ms of the consumer's last attempted interaction (XREADGROUP, XCLAIM, XAUTOCLAIM).
    pub seen_time: i64,
    pub pel: BTreeSet<StreamId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroup {
    pub last_id: StreamId,
    /// The logical read counter of `last_id`, or [`INVALID_ENTRIES_READ`].
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, Nack>,
    pub consumers: BTreeMap<Arc<[u8]>, Consumer>,
}

impl ConsumerGroup {
    pub fn new(last_id: StreamId, entries_read: i64) -> ConsumerGroup {
        ConsumerGroup {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// The consumer's name as shared by its NACKs, creating the consumer (seen now) when missing.
    /// Returns the name and whether it was created.
    pub fn consumer_or_create(&mut self, name: &[u8], now_ms: i64) -> (Arc<[u8]>, bool) {
        if let Some((k, _)) = self.consumers.get_key_value(name) {
            return (k.clone(), false);
        }
        let k: Arc<[u8]> = Arc::from(name);
        self.consumers.insert(
            k.clone(),
            Consumer {
                seen_time: now_ms,
                pel: BTreeSet::new(),
            },
        );
        (k, true)
    }

    /// Create a consumer; false when it exists.
    pub fn create_consumer(&mut self, name: &[u8], now_ms: i64) -> bool {
        self.consumer_or_create(name, now_ms).1
    }

    /// Delete a consumer and its pending entries; returns how many it had (None: no such consumer).
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len())
    }

    /// Record a delivery of `id` to `consumer` (XREADGROUP): a new NACK, or one that moves to this
    /// consumer with its count reset to 1. Returns the NACK.
    pub fn deliver(&mut self, id: StreamId, consumer: &Arc<[u8]>, now_ms: i64) -> &Nack {
        let nack = self.pel.entry(id).or_insert_with(|| Nack {
            delivery_time: now_ms,
            delivery_count: 1,
            consumer: consumer.clone(),
        });
        if nack.consumer != *consumer {
            if let Some(old) = self.consumers.get_mut(&nack.consumer) {
                old.pel.remove(&id);
            }
            nack.consumer = consumer.clone();
            nack.delivery_time = now_ms;
            nack.delivery_count = 1;
        } else {
            // Re-delivered to the same consumer (after XGROUP SETID moved back): as Redis, the entry
            // keeps its NACK but the delivery is recorded afresh.
            nack.delivery_time = now_ms;
            nack.delivery_count = 1;
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
        nack
    }

    /// Move (or give) the NACK of `id` to `consumer`; the caller sets time and count.
    pub fn assign(&mut self, id: StreamId, consumer: &Arc<[u8]>) -> Option<&mut Nack> {
        let nack = self.pel.get_mut(&id)?;
        if nack.consumer != *consumer {
            if let Some(old) = self.consumers.get_mut(&nack.consumer) {
                old.pel.remove(&id);
            }
            nack.consumer = consumer.clone();
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
        self.pel.get_mut(&id)
    }

    /// Remove the NACK of `id` from the group and its consumer; returns it.
    pub fn ack(&mut self, id: StreamId) -> Option<Nack> {
        let nack = self.pel.remove(&id)?;
        if let Some(c) = self.consumers.get_mut(&nack.consumer) {
            c.pel.remove(&id);
        }
        Some(nack)
    }

    /// Approximate bytes allocated (MEMORY USAGE).
    pub fn mem_usage(&self) -> usize {
        let nack = std::mem::size_of::<(StreamId, Nack)>() + 8;
        let mut n = self.pel.len() * nack;
        for (name, c) in &self.consumers {
            n += name.len() + 16 + std::mem::size_of::<Consumer>() + 16;
            n += c.pel.len() * (std::mem::size_of::<StreamId>() + 4);
        }
        n
    }
}
