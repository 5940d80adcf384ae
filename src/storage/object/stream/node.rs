//! One stream node: a listpack in Redis's exact stream layout, keyed (outside) by its master ID.
//!
//! ```text
//! master entry: count | deleted | num-fields | field-1 ... field-N | 0
//! each entry:   flags | ms-diff | seq-diff | [num-fields | field-1 | value-1 ... ] or [value-1 ...] | lp-count
//! ```
//! `count` and `deleted` are the live and the deleted (flagged, still present) entries; the IDs are the
//! differences from the master ID (the node's key); an entry flagged SAMEFIELDS has the master's field
//! names and stores only its values; `lp-count` is the number of elements before it in the entry, so the
//! entries can be walked backwards. The master's trailing `0` plays the part of an `lp-count` of zero.
//!
//! Invariant: every node written here follows that layout (nodes read from files later must be checked
//! against it before they are trusted, as Redis's `streamValidateListpackIntegrity` does).

use super::StreamId;
use crate::storage::object::listpack::{Listpack, Lp, LpItem};

pub const FLAG_DELETED: i64 = 1;
pub const FLAG_SAMEFIELDS: i64 = 2;

/// The integer at `pos` (stream nodes store every number as a listpack integer).
#[inline]
pub fn int_at(lp: &Lp, pos: usize) -> i64 {
    match lp.get(pos) {
        LpItem::Int(i) => i,
        LpItem::Str(s) => crate::storage::object::listpack::parse_canonical_int(s).unwrap_or(0),
    }
}

#[inline]
fn step(lp: &Lp, pos: Option<usize>) -> Option<usize> {
    pos.and_then(|p| lp.next(p))
}

/// The master entry, decoded.
#[derive(Debug, Clone, Copy)]
pub struct Master {
    pub count: i64,
    pub deleted: i64,
    pub nfields: usize,
    /// Position of the first master field name.
    pub first_field: Option<usize>,
    /// Position of the first entry's flags.
    pub first_entry: Option<usize>,
}

pub fn master(lp: &Lp) -> Master {
    let count_pos = lp.first();
    let count = count_pos.map_or(0, |p| int_at(lp, p));
    let deleted_pos = step(lp, count_pos);
    let deleted = deleted_pos.map_or(0, |p| int_at(lp, p));
    let nf_pos = step(lp, deleted_pos);
    let nfields = nf_pos.map_or(0, |p| int_at(lp, p)).max(0) as usize;
    let first_field = step(lp, nf_pos);
    let mut p = nf_pos;
    for _ in 0..nfields {
        p = step(lp, p);
    }
    // Past the last field: the zero terminator, then the first entry.
    let first_entry = step(lp, step(lp, p));
    Master {
        count,
        deleted,
        nfields,
        first_field,
        first_entry,
    }
}

/// One entry (deleted or not) as laid out in a node.
#[derive(Debug, Clone, Copy)]
pub struct RawEntry {
    /// Position of the flags element.
    pub start: usize,
    pub flags: i64,
    pub id: StreamId,
    pub nfields: usize,
    /// Position of the first element after the ID (num-fields, or the first value of a SAMEFIELDS entry).
    pub data: Option<usize>,
}

impl RawEntry {
    pub fn deleted(&self) -> bool {
        self.flags & FLAG_DELETED != 0
    }

    pub fn same_fields(&self) -> bool {
        self.flags & FLAG_SAMEFIELDS != 0
    }
}

/// Read the entry whose flags are at `pos`.
pub fn read_entry(lp: &Lp, master_id: StreamId, m: &Master, pos: usize) -> RawEntry {
    let flags = int_at(lp, pos);
    let ms_pos = lp.next(pos);
    let ms = ms_pos.map_or(0, |p| int_at(lp, p));
    let seq_pos = step(lp, ms_pos);
    let seq = seq_pos.map_or(0, |p| int_at(lp, p));
    let data = step(lp, seq_pos);
    let nfields = if flags & FLAG_SAMEFIELDS != 0 {
        m.nfields
    } else {
        data.map_or(0, |p| int_at(lp, p)).max(0) as usize
    };
    RawEntry {
        start: pos,
        flags,
        id: StreamId {
            ms: master_id.ms.wrapping_add(ms as u64),
            seq: master_id.seq.wrapping_add(seq as u64),
        },
        nfields,
        data,
    }
}

/// The position of the entry after `e` (of its flags), if any.
pub fn next_entry(lp: &Lp, e: &RawEntry) -> Option<usize> {
    let elements = if e.same_fields() { e.nfields } else { 1 + 2 * e.nfields };
    let mut p = e.data;
    // Skip the fields/values, then the lp-count.
    for _ in 0..elements {
        p = step(lp, p);
    }
    step(lp, p)
}

/// The position of the entry before the one at `pos` (`None`: from the end of the node), if any.
pub fn prev_entry(lp: &Lp, pos: Option<usize>) -> Option<usize> {
    let back = match pos {
        Some(p) => lp.prev(p)?,
        None => lp.last()?,
    };
    let lp_count = int_at(lp, back);
    if lp_count <= 0 {
        // The master entry's terminator: no entry before.
        return None;
    }
    let mut p = back;
    for _ in 0..lp_count {
        p = lp.prev(p)?;
    }
    Some(p)
}

/// The first and last entries' IDs of a node, deleted ones included (Redis's `lpGetEdgeStreamID`).
pub fn edge_ids(lp: &Lp, master_id: StreamId) -> Option<(StreamId, StreamId)> {
    let m = master(lp);
    let first = read_entry(lp, master_id, &m, m.first_entry?).id;
    let last = read_entry(lp, master_id, &m, prev_entry(lp, None)?).id;
    Some((first, last))
}

/// An entry's field-value pairs.
pub struct Fields<'a> {
    lp: &'a Lp,
    /// The next master field name (SAMEFIELDS entries).
    master_field: Option<usize>,
    same: bool,
    pos: Option<usize>,
    left: usize,
}

impl<'a> Fields<'a> {
    pub fn new(lp: &'a Lp, m: &Master, e: &RawEntry) -> Fields<'a> {
        let same = e.same_fields();
        Fields {
            lp,
            master_field: if same { m.first_field } else { None },
            same,
            // A full entry starts with its num-fields.
            pos: if same { e.data } else { step(lp, e.data) },
            left: e.nfields,
        }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = (LpItem<'a>, LpItem<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let lp = self.lp;
        if self.same {
            let (f, v) = (self.master_field?, self.pos?);
            self.master_field = lp.next(f);
            self.pos = lp.next(v);
            Some((lp.get(f), lp.get(v)))
        } else {
            let f = self.pos?;
            let v = lp.next(f)?;
            self.pos = lp.next(v);
            Some((lp.get(f), lp.get(v)))
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// A new node holding one entry, with `fields` (name, value, name, value...) as the master fields.
pub fn new_node(id: StreamId, master_id: StreamId, fields: &[&[u8]]) -> Listpack {
    let mut lp = Listpack::new();
    let n = fields.len() / 2;
    let master = [LpItem::Int(1), LpItem::Int(0), LpItem::Int(n as i64)]
        .into_iter()
        .chain(fields.iter().step_by(2).map(|f| LpItem::Str(f)))
        .chain([LpItem::Int(0)]);
    lp.extend_back(master);
    append_entry(&mut lp, id, master_id, fields, true);
    lp
}

/// Whether `fields`' names are the master's, in order.
pub fn same_as_master(lp: &Lp, m: &Master, fields: &[&[u8]]) -> bool {
    if fields.len() / 2 != m.nfields {
        return false;
    }
    let mut p = m.first_field;
    for f in fields.iter().step_by(2) {
        match p {
            Some(pos) if lp.get(pos).eq_bytes(f) => p = lp.next(pos),
            _ => return false,
        }
    }
    true
}

/// Append one entry's elements (the master's count is the caller's).
pub fn append_entry(lp: &mut Listpack, id: StreamId, master_id: StreamId, fields: &[&[u8]], same: bool) {
    let n = fields.len() / 2;
    let flags = if same { FLAG_SAMEFIELDS } else { 0 };
    let lp_count = if same { n + 3 } else { 2 * n + 4 };
    let head = [
        LpItem::Int(flags),
        LpItem::Int(id.ms.wrapping_sub(master_id.ms) as i64),
        LpItem::Int(id.seq.wrapping_sub(master_id.seq) as i64),
    ];
    let nf = (!same).then_some(LpItem::Int(n as i64));
    let body = fields
        .iter()
        .enumerate()
        .filter(|(i, _)| !same || i % 2 == 1)
        .map(|(_, f)| LpItem::Str(f));
    lp.extend_back(
        head.into_iter()
            .chain(nf)
            .chain(body)
            .chain([LpItem::Int(lp_count as i64)]),
    );
}

/// Set the master's live and deleted counts.
pub fn set_counts(lp: &mut Listpack, count: i64, deleted: i64) {
    if let Some(p) = lp.first() {
        lp.replace(p, LpItem::Int(count));
        if let Some(d) = lp.next(p) {
            lp.replace(d, LpItem::Int(deleted));
        }
    }
}

/// Flag the entry at `pos` deleted (the flags element keeps its one-byte size, so no position moves).
pub fn mark_deleted(lp: &mut Listpack, e: &RawEntry) {
    lp.replace(e.start, LpItem::Int(e.flags | FLAG_DELETED));
}

/// What [`validate`] learnt about a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub live: u64,
    pub deleted: u64,
    /// The first and last entries' IDs, deleted ones included.
    pub first: StreamId,
    pub last: StreamId,
}

/// Check an untrusted node (a well-formed listpack from a file) against the stream node layout, as
/// Redis's `streamValidateListpackIntegrity` does, plus what this module's readers rely on: every
/// number where the layout puts one, field counts that fit in the node, each entry's `lp-count`,
/// entry IDs at or above the master ID and strictly increasing, and master counts that match the
/// entries' flags. After this, the readers above never walk past the node's end.
pub fn validate(lp: &Lp, master_id: StreamId) -> Result<Summary, &'static str> {
    const BAD: &str = "a stream node that does not follow the stream layout";
    let mut pos = lp.first();
    let next_int = |pos: &mut Option<usize>| -> Result<i64, &'static str> {
        let p = pos.ok_or(BAD)?;
        let v = match lp.get(p) {
            LpItem::Int(i) => i,
            LpItem::Str(s) => crate::storage::object::listpack::parse_canonical_int(s).ok_or(BAD)?,
        };
        *pos = lp.next(p);
        Ok(v)
    };
    let skip = |pos: &mut Option<usize>, n: u64| -> Result<(), &'static str> {
        for _ in 0..n {
            *pos = lp.next(pos.ok_or(BAD)?);
        }
        Ok(())
    };
    let elements = lp.len() as u64;
    let count = next_int(&mut pos)?;
    let deleted = next_int(&mut pos)?;
    let nfields = next_int(&mut pos)?;
    if count < 0 || deleted < 0 || nfields < 0 || nfields as u64 > elements {
        return Err(BAD);
    }
    let nfields = nfields as u64;
    skip(&mut pos, nfields)?;
    if next_int(&mut pos)? != 0 {
        return Err(BAD);
    }
    let mut summary = Summary {
        live: 0,
        deleted: 0,
        first: master_id,
        last: master_id,
    };
    let mut prev: Option<StreamId> = None;
    while pos.is_some() {
        let flags = next_int(&mut pos)?;
        let ms = next_int(&mut pos)?;
        let seq = next_int(&mut pos)?;
        let id = StreamId::new(
            master_id.ms.wrapping_add(ms as u64),
            master_id.seq.wrapping_add(seq as u64),
        );
        if id < master_id || prev.is_some_and(|p| id <= p) {
            return Err("stream node entries out of order");
        }
        let in_entry = if flags & FLAG_SAMEFIELDS != 0 {
            skip(&mut pos, nfields)?;
            3 + nfields
        } else {
            let n = next_int(&mut pos)?;
            if n < 0 || n as u64 > elements {
                return Err(BAD);
            }
            skip(&mut pos, 2 * n as u64)?;
            4 + 2 * n as u64
        };
        if next_int(&mut pos)? != in_entry as i64 {
            return Err(BAD);
        }
        if flags & FLAG_DELETED != 0 {
            summary.deleted += 1;
        } else {
            summary.live += 1;
        }
        if prev.is_none() {
            summary.first = id;
        }
        summary.last = id;
        prev = Some(id);
    }
    if prev.is_none() {
        return Err("an empty listpack inside a stream");
    }
    if summary.live != count as u64 || summary.deleted != deleted as u64 {
        return Err("stream node counts that do not match its entries");
    }
    Ok(summary)
}
