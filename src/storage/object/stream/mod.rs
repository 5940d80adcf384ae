//! A stream: an append-only log of entries (an ID and field-value pairs) with consumer groups, stored as
//! Redis 7.0 stores it.
//!
//! Entries live in listpack nodes in Redis's exact stream node layout (see [`node`]), in an ordered index
//! keyed by each node's master ID (the ID of the entry that created it; Redis's rax key is the same ID as
//! 16 big-endian bytes, which sorts the same way), so a later RDB writer can save the nodes as they are.
//! A new entry goes into the last node unless that node holds `stream-node-max-entries` entries (live
//! and deleted) or would reach `stream-node-max-bytes`; a new node takes the entry's fields as its master
//! fields. Deleting an entry flags it in place; a node whose live count drops to zero is removed.
//! Trimming removes whole nodes from the front and, when exact, flags entries inside the first node
//! left.
//!
//! The metadata is Redis 7.0's: length, last ID (the top ever used, which may be past the last entry),
//! the first entry's ID, the largest deleted ID, the count of entries ever added, and the groups.
//!
//! Invariants: nodes are in ID order and every entry of a node is greater than its master ID and smaller
//! than the next node's master ID; `length` is the sum of the nodes' live counts; no node has zero live
//! entries; every entry ID is at most `last_id`.

pub mod group;
pub mod node;

use std::collections::{BTreeMap, VecDeque};

pub use group::{Consumer, ConsumerGroup, Nack, INVALID_ENTRIES_READ};
use node::{Fields, Master, RawEntry};

use super::listpack::{FrozenListpack, Listpack, Lp, LpItem};

/// A stream entry ID: milliseconds and a sequence number, ordered as a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The next ID, or `None` after the largest.
    pub fn incr(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId::new(self.ms, self.seq + 1))
        } else if self.ms < u64::MAX {
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            None
        }
    }

    /// The previous ID, or `None` before the smallest.
    pub fn decr(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId::new(self.ms, self.seq - 1))
        } else if self.ms > 0 {
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            None
        }
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    /// `<ms>-<seq>`, the form replies use.
    pub fn to_bytes(self) -> Vec<u8> {
        let mut b = itoa::Buffer::new();
        let mut out = Vec::with_capacity(42);
        out.extend_from_slice(b.format(self.ms).as_bytes());
        out.push(b'-');
        out.extend_from_slice(b.format(self.seq).as_bytes());
        out
    }

    /// The 16-byte big-endian form (Redis's rax key; RDB files store it).
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut k = [0u8; 16];
        k[..8].copy_from_slice(&self.ms.to_be_bytes());
        k[8..].copy_from_slice(&self.seq.to_be_bytes());
        k
    }

    /// Read the 16-byte big-endian form.
    pub fn from_be_bytes(k: [u8; 16]) -> StreamId {
        let (ms, seq) = k.split_at(8);
        let mut a = [0u8; 8];
        let mut b = [0u8; 8];
        a.copy_from_slice(ms);
        b.copy_from_slice(seq);
        StreamId::new(u64::from_be_bytes(a), u64::from_be_bytes(b))
    }
}

/// How an ID argument is read (Redis's `streamGenericParseIDOrReply`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdSyntax {
    /// The sequence an ID without one gets (`0` for a start, `u64::MAX` for an end).
    pub missing_seq: u64,
    /// `-` and `+` are refused.
    pub strict: bool,
    /// `<ms>-*` is accepted (XADD).
    pub seq_star: bool,
}

/// A parsed ID argument: the ID, and whether its sequence was given (false for `<ms>-*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedId {
    pub id: StreamId,
    pub seq_given: bool,
}

/// Redis's `string2ull`: a strict decimal `long long` that is not negative, or else whatever C's
/// `strtoull` accepts whole (leading blanks, a sign, leading zeros; a `-` wraps around, as in C).
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = crate::storage::object::listpack::parse_canonical_int(s) {
        return u64::try_from(v).ok();
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        i += 1;
    }
    let mut negative = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        negative = s[i] == b'-';
        i += 1;
    }
    if i == s.len() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in &s[i..] {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(if negative { v.wrapping_neg() } else { v })
}

impl StreamId {
    /// Parse an ID argument: `<ms>-<seq>`, `<ms>` (the sequence from `syntax`), `-`, `+`, or `<ms>-*`.
    /// The text is read up to its first NUL byte and must be shorter than 128 bytes, as in Redis.
    pub fn parse(arg: &[u8], syntax: IdSyntax) -> Option<ParsedId> {
        if arg.len() > 127 {
            return None;
        }
        let text = match arg.iter().position(|&b| b == 0) {
            Some(n) => &arg[..n],
            None => arg,
        };
        if text == b"-" || text == b"+" {
            if syntax.strict {
                return None;
            }
            let id = if text == b"-" { StreamId::MIN } else { StreamId::MAX };
            return Some(ParsedId { id, seq_given: true });
        }
        match text.iter().position(|&b| b == b'-') {
            Some(dash) => {
                let ms = string2ull(&text[..dash])?;
                let rest = &text[dash + 1..];
                if syntax.seq_star && rest == b"*" {
                    return Some(ParsedId {
                        id: StreamId::new(ms, 0),
                        seq_given: false,
                    });
                }
                Some(ParsedId {
                    id: StreamId::new(ms, string2ull(rest)?),
                    seq_given: true,
                })
            }
            None => Some(ParsedId {
                id: StreamId::new(string2ull(text)?, syntax.missing_seq),
                seq_given: true,
            }),
        }
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// `stream-node-max-bytes` and `stream-node-max-entries` (0: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeLimits {
    pub max_bytes: u64,
    pub max_entries: u64,
}

/// Redis caps a node at 1 GiB whatever the configuration says (`STREAM_LISTPACK_MAX_SIZE`).
pub const NODE_MAX_SIZE: u64 = 1 << 30;

impl Default for NodeLimits {
    fn default() -> Self {
        NodeLimits {
            max_bytes: 4096,
            max_entries: 100,
        }
    }
}

/// What a trim keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrimBy {
    /// At most this many entries.
    MaxLen(u64),
    /// No entry below this ID.
    MinId(StreamId),
}

/// How a trim runs: `approx` removes whole nodes only; `limit` (0: none) caps the entries removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trim {
    pub by: TrimBy,
    pub approx: bool,
    pub limit: u64,
}

/// One live entry, borrowed from its node.
#[derive(Clone, Copy)]
pub struct Entry<'a> {
    pub id: StreamId,
    lp: &'a Lp,
    master: Master,
    raw: RawEntry,
}

impl<'a> Entry<'a> {
    pub fn len(&self) -> usize {
        self.raw.nfields
    }

    pub fn is_empty(&self) -> bool {
        self.raw.nfields == 0
    }

    /// The field-value pairs, in order.
    pub fn fields(&self) -> Fields<'a> {
        Fields::new(self.lp, &self.master, &self.raw)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Stream {
    /// The nodes by master ID, in order. A deque rather than a tree: streams grow at the back and are
    /// trimmed at the front, lookups are binary searches, and three words per node (the ID and a thin
    /// pointer) are less than a tree's half-empty leaves cost (memory per entry is a target beside
    /// Redis's radix tree). The last node is frozen too: listpacks grow to the exact size anyway, so
    /// thawing it for an append moves no bytes.
    nodes: VecDeque<(StreamId, FrozenListpack)>,
    length: u64,
    pub last_id: StreamId,
    pub first_id: StreamId,
    pub max_deleted_entry_id: StreamId,
    pub entries_added: u64,
    pub groups: BTreeMap<Vec<u8>, ConsumerGroup>,
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    /// A stream made of nodes read from a file: each is checked against the node layout, and together
    /// against this module's invariants (nodes in order, each entry below the next node's master ID,
    /// `length` the sum of the live counts, no entry above `last_id`, no node without live entries).
    /// The caller sets the rest of the metadata and the groups.
    pub fn from_nodes(
        nodes: Vec<(StreamId, Listpack)>,
        length: u64,
        last_id: StreamId,
    ) -> Result<Stream, &'static str> {
        let mut s = Stream {
            last_id,
            ..Stream::default()
        };
        let mut live = 0u64;
        let mut prev_last: Option<StreamId> = None;
        s.nodes.reserve_exact(nodes.len());
        for (master_id, lp) in nodes {
            let sum = node::validate(&lp, master_id)?;
            if prev_last.is_some_and(|p| master_id <= p) {
                return Err("stream nodes out of order");
            }
            if sum.live == 0 {
                return Err("a stream node without live entries");
            }
            if sum.last > last_id {
                return Err("a stream entry above the stream's last ID");
            }
            live += sum.live;
            prev_last = Some(sum.last);
            s.nodes.push_back((master_id, lp.freeze()));
        }
        if live != length {
            return Err("a stream length that does not match its nodes");
        }
        s.length = length;
        Ok(s)
    }

    /// Live entries.
    pub fn len(&self) -> u64 {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    pub fn encoding(&self) -> &'static str {
        "stream"
    }

    /// Listpack nodes (XINFO's `radix-tree-keys`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The nodes, in order, as (master ID, listpack): what an RDB file stores.
    pub fn nodes(&self) -> impl Iterator<Item = (&StreamId, &Lp)> {
        self.nodes.iter().map(|(k, lp)| (k, &**lp))
    }

    /// How many nodes have a master ID at or below `id`.
    fn nodes_upto(&self, id: StreamId) -> usize {
        self.nodes.partition_point(|(k, _)| *k <= id)
    }

    /// Append an entry with `fields` (name, value, name, value...). The caller has checked that `id` is
    /// above `last_id` and that the pairs are complete.
    pub fn append(&mut self, id: StreamId, fields: &[&[u8]], limits: NodeLimits) {
        debug_assert!(id > self.last_id || (self.last_id.is_zero() && self.nodes.is_empty() && !id.is_zero()));
        let total: u64 = fields.iter().map(|f| f.len() as u64).sum();
        let max_bytes = match limits.max_bytes {
            0 => NODE_MAX_SIZE,
            b => b.min(NODE_MAX_SIZE),
        };
        let mut appended = false;
        if let Some((master_id, lp)) = self.nodes.back_mut() {
            let master_id = *master_id;
            let m = node::master(lp);
            let full = lp.total_bytes() as u64 + total >= max_bytes
                || (limits.max_entries > 0 && (m.count + m.deleted) as u64 >= limits.max_entries);
            if !full {
                let same = node::same_as_master(lp, &m, fields);
                lp.edit(|lp| {
                    node::set_counts(lp, m.count + 1, m.deleted);
                    node::append_entry(lp, id, master_id, fields, same);
                });
                appended = true;
            }
        }
        if !appended {
            if self.nodes.len() == self.nodes.capacity() {
                // Grow by a quarter, not double: the index of a long stream would otherwise hold up to
                // half of its slots empty (still amortized O(1) per node).
                self.nodes.reserve_exact((self.nodes.len() / 4).max(4));
            }
            self.nodes.push_back((id, node::new_node(id, id, fields).freeze()));
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
    }

    /// Live entries with `start <= id <= end`, ascending (`rev`: descending).
    pub fn range(&self, start: StreamId, end: StreamId, rev: bool) -> Range<'_> {
        let nodes = if start > end {
            self.nodes.range(0..0)
        } else {
            let hi = self.nodes_upto(end);
            // Forward, the walk starts in the node holding `start` (the last one whose master ID is at
            // or below it).
            let lo = if rev {
                0
            } else {
                self.nodes_upto(start).saturating_sub(1).min(hi)
            };
            self.nodes.range(lo..hi)
        };
        Range {
            nodes,
            rev,
            start,
            end,
            cur: None,
            done: start > end,
        }
    }

    /// Every live entry, ascending.
    pub fn iter(&self) -> Range<'_> {
        self.range(StreamId::MIN, StreamId::MAX, false)
    }

    /// The live entry with this ID.
    pub fn get(&self, id: StreamId) -> Option<Entry<'_>> {
        self.range(id, id, false).next()
    }

    pub fn contains(&self, id: StreamId) -> bool {
        self.get(id).is_some()
    }

    /// The first live entry's ID (Redis's `streamGetEdgeID(first, skip tombstones)`).
    pub fn first_live_id(&self) -> Option<StreamId> {
        self.iter().next().map(|e| e.id)
    }

    /// The last live entry's ID (`streamLastValidID`).
    pub fn last_live_id(&self) -> Option<StreamId> {
        self.range(StreamId::MIN, StreamId::MAX, true).next().map(|e| e.id)
    }

    /// The first entry's ID, deleted ones included: `MAX` when there are no nodes (Redis's
    /// `streamGetEdgeID(first, no skip)`, what XADD/XTRIM write as the effective MINID).
    pub fn first_raw_id(&self) -> StreamId {
        self.nodes
            .front()
            .and_then(|(k, lp)| node::edge_ids(lp, *k))
            .map_or(StreamId::MAX, |(first, _)| first)
    }

    /// Flag one live entry deleted; a node left without live entries goes. Does not touch the
    /// metadata beyond the length (see [`Stream::delete_ids`]).
    pub fn delete_entry(&mut self, id: StreamId) -> bool {
        let Some(i) = self.nodes_upto(id).checked_sub(1) else {
            return false;
        };
        let (key, lp) = &mut self.nodes[i];
        let key = *key;
        let m = node::master(lp);
        let mut pos = m.first_entry;
        while let Some(p) = pos {
            let e = node::read_entry(lp, key, &m, p);
            if e.id > id {
                return false;
            }
            if e.id == id {
                if e.deleted() {
                    return false;
                }
                if m.count <= 1 {
                    self.nodes.remove(i);
                } else {
                    lp.edit(|lp| {
                        node::mark_deleted(lp, &e);
                        node::set_counts(lp, m.count - 1, m.deleted + 1);
                    });
                }
                self.length -= 1;
                return true;
            }
            pos = node::next_entry(lp, &e);
        }
        false
    }

    /// XDEL: delete these entries, keeping the first ID and the largest deleted ID up to date. Returns
    /// how many were deleted.
    pub fn delete_ids(&mut self, ids: &[StreamId]) -> u64 {
        let mut deleted = 0;
        let mut first_gone = false;
        for &id in ids {
            if self.delete_entry(id) {
                if id == self.first_id {
                    first_gone = true;
                }
                if id > self.max_deleted_entry_id {
                    self.max_deleted_entry_id = id;
                }
                deleted += 1;
            }
        }
        if deleted > 0 {
            if self.length == 0 {
                self.first_id = StreamId::MIN;
            } else if first_gone {
                self.first_id = self.first_live_id().unwrap_or(StreamId::MIN);
            }
        }
        deleted
    }

    /// Trim as Redis 7.0's `streamTrim`: whole nodes from the front while they can go entirely, then
    /// (unless approximate) entries flagged inside the first node left. Returns the entries removed.
    pub fn trim(&mut self, t: Trim) -> u64 {
        let mut deleted: u64 = 0;
        loop {
            if let TrimBy::MaxLen(max) = t.by {
                if self.length <= max {
                    break;
                }
            }
            let Some((master_id, lp)) = self.nodes.front_mut() else {
                break;
            };
            let master_id = *master_id;
            let m = node::master(lp);
            let entries = m.count.max(0) as u64;
            if t.limit > 0 && deleted + entries > t.limit {
                break;
            }
            let remove_node = match t.by {
                TrimBy::MaxLen(max) => self.length - entries >= max,
                TrimBy::MinId(min) => node::edge_ids(lp, master_id).is_some_and(|(_, last)| last < min),
            };
            if remove_node {
                self.nodes.pop_front();
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if t.approx {
                break;
            }
            // Flag entries inside this node until the condition holds.
            let length = &mut self.length;
            let removed_here = lp.edit(|lp| {
                let mut removed = 0i64;
                let mut pos = m.first_entry;
                while let Some(p) = pos {
                    let e = node::read_entry(lp, master_id, &m, p);
                    let stop = match t.by {
                        TrimBy::MaxLen(max) => *length <= max,
                        TrimBy::MinId(min) => e.id >= min,
                    };
                    if stop {
                        break;
                    }
                    pos = node::next_entry(lp, &e);
                    if !e.deleted() {
                        node::mark_deleted(lp, &e);
                        removed += 1;
                        *length -= 1;
                    }
                }
                node::set_counts(lp, m.count - removed, m.deleted + removed);
                removed
            });
            deleted += removed_here as u64;
            // A node is never left with zero live entries (Redis only reaches this with entries to keep).
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else {
            self.first_id = self.first_live_id().unwrap_or(StreamId::MIN);
        }
        deleted
    }

    /// Whether `[start, end]` may hold a deleted entry, judged as Redis does from the largest deleted ID
    /// alone (`streamRangeHasTombstones`).
    pub fn range_has_tombstones(&self, start: Option<StreamId>, end: Option<StreamId>) -> bool {
        if self.length == 0 || self.max_deleted_entry_id.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted_entry_id {
            return false;
        }
        let start = start.unwrap_or(StreamId::MIN);
        let end = end.unwrap_or(StreamId::MAX);
        start <= self.max_deleted_entry_id && self.max_deleted_entry_id <= end
    }

    /// The logical read counter of `id` (its distance from the first entry ever added) when it can be
    /// known, as Redis's `streamEstimateDistanceFromFirstEverEntry`; else [`INVALID_ENTRIES_READ`].
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        let added = self.entries_added as i64;
        if self.length == 0 && id <= self.last_id {
            return added;
        }
        if id == self.last_id {
            return added;
        }
        if id > self.last_id {
            return INVALID_ENTRIES_READ;
        }
        if self.max_deleted_entry_id.is_zero() || self.max_deleted_entry_id < self.first_id {
            if id < self.first_id {
                return added - self.length as i64;
            }
            if id == self.first_id {
                return added - self.length as i64 + 1;
            }
        }
        INVALID_ENTRIES_READ
    }

    /// A group's lag (entries added but not read yet), when it can be known (Redis's `streamCGLag`).
    pub fn group_lag(&self, g: &ConsumerGroup) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != INVALID_ENTRIES_READ && !self.range_has_tombstones(Some(g.last_id), None) {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        match self.estimate_distance(g.last_id) {
            INVALID_ENTRIES_READ => None,
            read => Some(self.entries_added as i64 - read),
        }
    }

    /// A delivery of `id` past the group's last ID moves it and keeps the read counter as Redis does.
    pub fn advance_group(&mut self, group: &[u8], id: StreamId) {
        let Some(g) = self.groups.get(group) else { return };
        if id <= g.last_id {
            return;
        }
        let entries_read = if g.entries_read != INVALID_ENTRIES_READ && !self.range_has_tombstones(Some(id), None) {
            g.entries_read + 1
        } else if self.entries_added > 0 {
            self.estimate_distance(id)
        } else {
            g.entries_read
        };
        if let Some(g) = self.groups.get_mut(group) {
            g.entries_read = entries_read;
            g.last_id = id;
        }
    }

    /// The node count of Redis's radix tree over the nodes' 16-byte keys (XINFO's `radix-tree-nodes`),
    /// computed for the tree's compressed form: the root, every branching point, every child of a
    /// branching point, and every key.
    pub fn rax_nodes(&self) -> u64 {
        let keys: Vec<[u8; 16]> = self.nodes.iter().map(|(k, _)| k.to_be_bytes()).collect();
        rax_node_count(&keys)
    }

    /// Redis's lazy-free effort: the radix tree's nodes plus the groups' allocations, estimated from the
    /// first group's PEL as Redis does.
    pub fn free_effort(&self) -> usize {
        let nodes = if self.nodes.len() > 64 {
            self.nodes.len()
        } else {
            self.rax_nodes() as usize
        };
        let groups = self
            .groups
            .values()
            .next()
            .map_or(0, |g| self.groups.len() * (1 + g.pel.len()));
        nodes + groups
    }

    /// Bytes allocated beyond the `Stream` header (MEMORY USAGE).
    pub fn mem_usage(&self) -> usize {
        let per_node = std::mem::size_of::<(StreamId, FrozenListpack)>();
        let mut n = std::mem::size_of::<Stream>();
        for (_, lp) in &self.nodes {
            n += per_node + lp.alloc_size();
        }
        for (name, g) in &self.groups {
            n += name.len() + std::mem::size_of::<ConsumerGroup>() + 32 + g.mem_usage();
        }
        n
    }
}

/// Nodes of a compressed radix tree over equal-length sorted keys (see [`Stream::rax_nodes`]).
fn rax_node_count(keys: &[[u8; 16]]) -> u64 {
    if keys.is_empty() {
        return 1;
    }
    // lcp[i]: common prefix length of keys i and i+1.
    let lcp: Vec<usize> = keys
        .windows(2)
        .map(|w| w[0].iter().zip(&w[1]).take_while(|(a, b)| a == b).count())
        .collect();
    // A trie node at depth d is a run of keys sharing their first d bytes. It is a rax node when it is
    // the root, a leaf (d = 16), branching (a boundary inside it at depth d), or a child of a branching
    // node (its parent run at depth d-1 has an internal boundary at d-1).
    let mut count = 0u64;
    for d in 0..=16usize {
        let mut i = 0;
        while i < keys.len() {
            let mut j = i;
            while j + 1 < keys.len() && lcp[j] >= d {
                j += 1;
            }
            // Run [i, j] at depth d.
            let branching = d < 16 && (i..j).any(|k| lcp[k] == d);
            // A child of a branching parent is a run that does not cover its whole parent: one of its
            // edges is a boundary at exactly depth d-1.
            let parent_branching = d > 0 && ((i > 0 && lcp[i - 1] == d - 1) || (j + 1 < keys.len() && lcp[j] == d - 1));
            if d == 0 || d == 16 || branching || parent_branching {
                count += 1;
            }
            i = j + 1;
        }
    }
    count
}

/// Iterator over live entries in an ID interval (see [`Stream::range`]).
pub struct Range<'a> {
    nodes: std::collections::vec_deque::Iter<'a, (StreamId, FrozenListpack)>,
    rev: bool,
    start: StreamId,
    end: StreamId,
    /// The node being walked: master ID, listpack, master entry, next entry position.
    cur: Option<(StreamId, &'a Lp, Master, Option<usize>)>,
    done: bool,
}

impl<'a> Iterator for Range<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        while !self.done {
            let Some((master_id, lp, m, pos)) = self.cur else {
                let next = if self.rev {
                    self.nodes.next_back()
                } else {
                    self.nodes.next()
                };
                let Some((k, lp)) = next else {
                    self.done = true;
                    return None;
                };
                let m = node::master(lp);
                let first = if self.rev {
                    node::prev_entry(lp, None)
                } else {
                    m.first_entry
                };
                self.cur = Some((*k, lp, m, first));
                continue;
            };
            let Some(p) = pos else {
                self.cur = None;
                continue;
            };
            let e = node::read_entry(lp, master_id, &m, p);
            let next = if self.rev {
                node::prev_entry(lp, Some(p))
            } else {
                node::next_entry(lp, &e)
            };
            self.cur = Some((master_id, lp, m, next));
            if e.deleted() {
                continue;
            }
            if self.rev {
                if e.id > self.end {
                    continue;
                }
                if e.id < self.start {
                    self.done = true;
                    return None;
                }
            } else {
                if e.id < self.start {
                    continue;
                }
                if e.id > self.end {
                    self.done = true;
                    return None;
                }
            }
            return Some(Entry {
                id: e.id,
                lp,
                master: m,
                raw: e,
            });
        }
        None
    }
}

/// An element as bytes (integers in decimal), for replies and comparisons.
pub fn item_bytes<'s>(item: &'s LpItem<'_>, scratch: &'s mut itoa::Buffer) -> &'s [u8] {
    item.as_bytes(scratch)
}

#[cfg(test)]
mod tests;
