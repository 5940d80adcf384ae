//! Client-side caching (CLIENT TRACKING): which clients may hold which keys, and the invalidations
//! owed to them.
//!
//! Two modes, as in Redis 7.0:
//! - **Default**: a tracking client's read-only commands remember their keys in the invalidation table
//!   (key → client ids; the key name alone, whatever the database, as Redis does). The first change to
//!   a remembered key queues one invalidation per client holding it and forgets the key (a client that
//!   reads it again is remembered again). OPTIN/OPTOUT with CLIENT CACHING choose which reads count;
//!   NOLOOP skips the client's own changes. The table is bounded by `tracking-table-max-keys`: past
//!   it, the cron invalidates keys early (`limit_keys`).
//! - **BCAST**: nothing is remembered; a changed key matching a registered prefix is collected per
//!   prefix and sent, batched and in key order, to every client of the prefix once per event-loop
//!   iteration (`take_broadcasts`).
//!
//! FLUSHDB/FLUSHALL send every tracking client a null invalidation and clear the table.
//!
//! Changes are reported from the same place that tells WATCH (`DbView`'s modified-key signal, the
//! expiry paths). This module only decides who is owed what: an [`Invalidation`] names the tracking
//! client and the keys; the network side resolves its redirection (REDIRECT to another connection, a
//! broken redirection) and the wire format (a RESP3 `invalidate` push, a `__redis__:invalidate`
//! message to a RESP2 subscriber, nothing to a plain RESP2 connection), after the reply of the command
//! that caused it, as Redis 7.0 orders them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One tracking client's settings (CLIENT TRACKING ON and its options).
#[derive(Debug, Clone, Default)]
pub struct TrackingState {
    /// The client's slot in the network layer's table (with the id, finds it without a search).
    pub slot: usize,
    /// The client id invalidations go to instead of this client (0: itself), and its slot.
    pub redirect: u64,
    pub redirect_slot: usize,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// CLIENT CACHING was given for the next command (YES under OPTIN, NO under OPTOUT).
    pub caching: bool,
    /// The redirection target was gone when an invalidation was due.
    pub broken_redirect: bool,
    /// BCAST prefixes, in order.
    pub prefixes: BTreeSet<Vec<u8>>,
}

impl TrackingState {
    /// CLIENT TRACKINGINFO's flags, in Redis's order.
    pub fn flag_names(&self) -> Vec<&'static str> {
        let mut f = vec!["on"];
        if self.bcast {
            f.push("bcast");
        }
        if self.optin {
            f.push("optin");
            if self.caching {
                f.push("caching-yes");
            }
        }
        if self.optout {
            f.push("optout");
            if self.caching {
                f.push("caching-no");
            }
        }
        if self.noloop {
            f.push("noloop");
        }
        if self.broken_redirect {
            f.push("broken_redirect");
        }
        f
    }

    /// Whether the keys of a read are remembered for this client now.
    fn remembers_reads(&self) -> bool {
        // OPTIN reads count only after CLIENT CACHING YES; OPTOUT reads unless after CLIENT CACHING NO.
        let opted_out = if self.optin || self.optout {
            self.optin != self.caching
        } else {
            false
        };
        !self.bcast && !opted_out
    }
}

/// An invalidation owed to a tracking client: these keys, or every key (`None`, after a flush).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalidation {
    pub client: u64,
    pub keys: Option<Vec<Vec<u8>>>,
}

/// A BCAST prefix: its clients, and the keys changed since the last broadcast with the client that
/// changed each (`None` when several did, so NOLOOP clients get it too).
#[derive(Debug, Default)]
struct Prefix {
    clients: BTreeSet<u64>,
    changed: BTreeMap<Vec<u8>, Option<u64>>,
}

#[derive(Debug, Default)]
pub struct Tracking {
    clients: HashMap<u64, TrackingState>,
    /// The invalidation table: key → ids of the clients that may cache it.
    table: HashMap<Vec<u8>, Vec<u64>, ahash::RandomState>,
    items: usize,
    prefixes: BTreeMap<Vec<u8>, Prefix>,
    /// Invalidations not delivered yet.
    pub pending: Vec<Invalidation>,
    /// The client whose command is running (NOLOOP), 0 outside commands.
    pub current_client: u64,
}

impl Tracking {
    /// The state of a tracking client.
    pub fn state(&self, id: u64) -> Option<&TrackingState> {
        self.clients.get(&id)
    }

    pub fn state_mut(&mut self, id: u64) -> Option<&mut TrackingState> {
        self.clients.get_mut(&id)
    }

    /// Whether anyone tracks anything (the cheap test every change makes first).
    #[inline]
    pub fn active(&self) -> bool {
        !self.clients.is_empty()
    }

    /// Turn tracking on for `id` (or change its options): Redis's enableTracking. Options (with the
    /// client's and the redirection's slots) are checked by the caller. BCAST prefixes add to the ones the client has (all keys when it has none).
    pub fn enable(&mut self, id: u64, redirect: u64, opts: TrackingState, prefixes: Vec<Vec<u8>>) {
        let st = self.clients.entry(id).or_default();
        st.slot = opts.slot;
        st.redirect = redirect;
        st.redirect_slot = opts.redirect_slot;
        st.broken_redirect = false;
        st.bcast = opts.bcast;
        st.optin = opts.optin;
        st.optout = opts.optout;
        st.noloop = opts.noloop;
        if opts.bcast {
            let prefixes = if prefixes.is_empty() && st.prefixes.is_empty() {
                vec![vec![]]
            } else {
                prefixes
            };
            for p in prefixes {
                st.prefixes.insert(p.clone());
                self.prefixes.entry(p).or_default().clients.insert(id);
            }
        }
    }

    /// Turn tracking off for `id` (CLIENT TRACKING OFF, RESET, a closed connection). Its entries in
    /// the invalidation table are dropped lazily, when their keys change.
    pub fn disable(&mut self, id: u64) {
        let Some(st) = self.clients.remove(&id) else { return };
        for p in st.prefixes {
            if let Some(prefix) = self.prefixes.get_mut(&p) {
                prefix.clients.remove(&id);
                if prefix.clients.is_empty() {
                    self.prefixes.remove(&p);
                }
            }
        }
    }

    /// After a command completes outside MULTI: CLIENT CACHING applies to one command only (a CLIENT
    /// subcommand keeps it, as in Redis).
    pub fn command_done(&mut self, id: u64) {
        if let Some(st) = self.clients.get_mut(&id) {
            st.caching = false;
        }
    }

    /// Remember that `id` may now cache these keys (a read-only command it ran).
    pub fn remember<'k>(&mut self, id: u64, keys: impl IntoIterator<Item = &'k [u8]>) {
        if !self.clients.get(&id).is_some_and(TrackingState::remembers_reads) {
            return;
        }
        for k in keys {
            let ids = self.table.entry(k.to_vec()).or_default();
            if !ids.contains(&id) {
                ids.push(id);
                self.items += 1;
            }
        }
    }

    /// `key` changed (Redis's trackingInvalidateKey): queue its invalidation for every client that may
    /// cache it (but a NOLOOP client that changed it itself), forget it, and collect it for the BCAST
    /// prefixes it matches.
    pub fn invalidate(&mut self, key: &[u8]) {
        if self.clients.is_empty() {
            return;
        }
        let modifier = self.current_client;
        for (p, prefix) in self
            .prefixes
            .range_mut::<[u8], _>((std::ops::Bound::Unbounded, std::ops::Bound::Included(key)))
        {
            if key.starts_with(p) {
                prefix
                    .changed
                    .entry(key.to_vec())
                    .and_modify(|m| {
                        if *m != Some(modifier) {
                            *m = None
                        }
                    })
                    .or_insert((modifier != 0).then_some(modifier));
            }
        }
        let Some(ids) = self.table.remove(key) else { return };
        self.items -= ids.len();
        for id in ids {
            let Some(st) = self.clients.get(&id) else { continue };
            if st.bcast || (st.noloop && id == modifier) {
                continue;
            }
            self.pending.push(Invalidation {
                client: id,
                keys: Some(vec![key.to_vec()]),
            });
        }
    }

    /// A database was flushed: every tracking client is told to drop everything, and the table is
    /// cleared (Redis 7.0 does both for FLUSHDB as well as FLUSHALL).
    pub fn flush(&mut self) {
        let mut ids: Vec<u64> = self.clients.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            self.pending.push(Invalidation { client: id, keys: None });
        }
        self.table.clear();
        self.items = 0;
    }

    /// The BCAST invalidations collected since the last call, one per client and prefix with changes
    /// (keys in order; a NOLOOP client does not get the keys only it changed).
    pub fn take_broadcasts(&mut self) -> Vec<Invalidation> {
        let mut out = vec![];
        for prefix in self.prefixes.values_mut() {
            if prefix.changed.is_empty() {
                continue;
            }
            let changed = std::mem::take(&mut prefix.changed);
            for &id in &prefix.clients {
                let noloop = self.clients.get(&id).is_some_and(|s| s.noloop);
                let keys: Vec<Vec<u8>> = changed
                    .iter()
                    .filter(|(_, m)| !(noloop && **m == Some(id)))
                    .map(|(k, _)| k.clone())
                    .collect();
                if !keys.is_empty() {
                    out.push(Invalidation {
                        client: id,
                        keys: Some(keys),
                    });
                }
            }
        }
        out
    }

    /// Whether a BCAST prefix has changes waiting.
    pub fn has_broadcasts(&self) -> bool {
        self.prefixes.values().any(|p| !p.changed.is_empty())
    }

    /// Keep the table within `max` keys (`tracking-table-max-keys`; 0: no limit) by invalidating keys
    /// early, at most `budget` of them per call (the cron calls it every tick).
    pub fn limit_keys(&mut self, max: usize, budget: usize) {
        if max == 0 {
            return;
        }
        let saved = std::mem::replace(&mut self.current_client, 0);
        for _ in 0..budget {
            if self.table.len() <= max {
                break;
            }
            let Some(key) = self.table.keys().next().cloned() else {
                break;
            };
            self.invalidate(&key);
        }
        self.current_client = saved;
    }

    /// Tracking clients (INFO `tracking_clients`).
    pub fn clients(&self) -> usize {
        self.clients.len()
    }

    /// INFO `tracking_total_keys`, `tracking_total_items`, `tracking_total_prefixes`.
    pub fn totals(&self) -> (usize, usize, usize) {
        (self.table.len(), self.items, self.prefixes.len())
    }

    /// Whether `prefix` overlaps one of `existing` (one is a prefix of the other): the overlapping
    /// one, for Redis's error.
    pub fn overlapping<'a>(prefix: &[u8], existing: impl IntoIterator<Item = &'a [u8]>) -> Option<&'a [u8]> {
        existing
            .into_iter()
            .find(|e| e.starts_with(prefix) || prefix.starts_with(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(inv: &Invalidation) -> Vec<String> {
        inv.keys
            .iter()
            .flatten()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .collect()
    }

    #[test]
    fn default_mode_invalidates_once_per_read() {
        let mut t = Tracking::default();
        t.enable(1, 0, TrackingState::default(), vec![]);
        t.enable(2, 0, TrackingState::default(), vec![]);
        t.remember(1, [&b"k"[..], b"j"]);
        t.remember(2, [&b"k"[..]]);
        assert_eq!(t.totals(), (2, 3, 0));
        t.invalidate(b"k");
        assert_eq!(t.pending.len(), 2);
        t.pending.clear();
        t.invalidate(b"k");
        assert!(t.pending.is_empty(), "one invalidation per read");
        t.disable(1);
        t.invalidate(b"j");
        assert!(t.pending.is_empty(), "a client that stopped tracking is skipped");
        assert_eq!(t.totals(), (0, 0, 0));
    }

    #[test]
    fn optin_optout_and_noloop() {
        let mut t = Tracking::default();
        let optin = TrackingState {
            optin: true,
            ..Default::default()
        };
        t.enable(1, 0, optin, vec![]);
        t.remember(1, [&b"a"[..]]);
        assert_eq!(t.totals().0, 0);
        t.state_mut(1).unwrap().caching = true;
        t.remember(1, [&b"a"[..]]);
        assert_eq!(t.totals().0, 1);
        let noloop = TrackingState {
            noloop: true,
            ..Default::default()
        };
        t.enable(2, 0, noloop, vec![]);
        t.remember(2, [&b"a"[..]]);
        t.current_client = 2;
        t.invalidate(b"a");
        assert_eq!(t.pending.iter().map(|i| i.client).collect::<Vec<_>>(), vec![1]);
    }

    #[test]
    fn bcast_batches_by_prefix_in_key_order() {
        let mut t = Tracking::default();
        let bcast = TrackingState {
            bcast: true,
            ..Default::default()
        };
        t.enable(1, 0, bcast.clone(), vec![b"user:".to_vec()]);
        t.enable(
            2,
            0,
            TrackingState {
                noloop: true,
                ..bcast.clone()
            },
            vec![],
        );
        t.current_client = 2;
        t.invalidate(b"user:2");
        t.current_client = 3;
        t.invalidate(b"user:1");
        t.invalidate(b"other");
        let out = t.take_broadcasts();
        let mut got: Vec<(u64, Vec<String>)> = out.iter().map(|i| (i.client, keys(i))).collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                (1, vec!["user:1".to_string(), "user:2".to_string()]),
                (2, vec!["other".to_string(), "user:1".to_string()]),
            ]
        );
        assert!(t.take_broadcasts().is_empty());
        assert_eq!(t.totals().2, 2);
    }

    #[test]
    fn table_limit_evicts_keys_with_invalidations() {
        let mut t = Tracking::default();
        t.enable(1, 0, TrackingState::default(), vec![]);
        let ks: Vec<Vec<u8>> = (0..10).map(|i| format!("k{i}").into_bytes()).collect();
        t.remember(1, ks.iter().map(|k| k.as_slice()));
        t.limit_keys(4, 100);
        assert_eq!(t.totals().0, 4);
        assert_eq!(t.pending.len(), 6);
    }
}
