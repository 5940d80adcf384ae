//! A dataset as commands: the base file of an AOF rewrite when `aof-use-rdb-preamble` is off, in the
//! commands Redis 7.0's `rewriteAppendOnlyFileRio` emits, so either server loads the other's file.
//!
//! Per key: SET for strings; RPUSH, SADD, ZADD and HMSET in batches of 64 elements; for a stream its
//! XADDs (or the `XADD key MAXLEN 0 0-1 x y` trick for an empty one), XSETID with the counters, then
//! per group XGROUP CREATE with its read counter, an XCLAIM ... JUSTID FORCE per pending entry and
//! XGROUP CREATECONSUMER for consumers with nothing pending; then PEXPIREAT for a key with a TTL.
//! Function libraries come first as FUNCTION LOAD. Keys already expired are not written.

use super::{array, bulk, command};
use crate::storage::object::list::ElemBytes;
use crate::storage::object::stream::{Stream, StreamId};
use crate::storage::object::Object;
use crate::storage::{EntryRef, ValueRef};

/// Elements per command for collections (Redis's `AOF_REWRITE_ITEMS_PER_CMD`).
const ITEMS_PER_CMD: usize = 64;

fn bulk_int(out: &mut Vec<u8>, i: i64) {
    bulk(out, itoa::Buffer::new().format(i).as_bytes());
}

fn bulk_id(out: &mut Vec<u8>, id: StreamId) {
    bulk(out, &id.to_bytes());
}

/// `SELECT index`.
pub fn write_select(out: &mut Vec<u8>, index: usize) {
    command(out, &[b"SELECT", itoa::Buffer::new().format(index).as_bytes()]);
}

/// `FUNCTION LOAD code` for one library.
pub fn write_function(out: &mut Vec<u8>, code: &[u8]) {
    command(out, &[b"FUNCTION", b"LOAD", code]);
}

/// The commands that rebuild one key (nothing for a key whose deadline is before `now_ms`).
pub fn write_entry(out: &mut Vec<u8>, e: EntryRef<'_>, now_ms: i64) {
    let expire_at = e.expire_at();
    if expire_at.is_some_and(|at| at < now_ms) {
        return;
    }
    let key = e.key();
    match e.value() {
        ValueRef::Int(i) => command(out, &[b"SET", key, itoa::Buffer::new().format(i).as_bytes()]),
        ValueRef::Str(s, _) => command(out, &[b"SET", key, s]),
        ValueRef::Obj(o) => write_object(out, key, o),
    }
    if let Some(at) = expire_at {
        command(out, &[b"PEXPIREAT", key, itoa::Buffer::new().format(at).as_bytes()]);
    }
}

/// Batches of at most 64 elements of `width` arguments each, after `verb key`.
struct Batches<'a> {
    out: &'a mut Vec<u8>,
    verb: &'static [u8],
    key: &'a [u8],
    width: usize,
    left: usize,
    in_batch: usize,
}

impl<'a> Batches<'a> {
    fn new(out: &'a mut Vec<u8>, verb: &'static [u8], key: &'a [u8], width: usize, total: usize) -> Batches<'a> {
        Batches {
            out,
            verb,
            key,
            width,
            left: total,
            in_batch: 0,
        }
    }

    /// Start an element: a new command when the batch is full.
    fn element(&mut self) -> &mut Vec<u8> {
        if self.in_batch == 0 {
            let n = self.left.min(ITEMS_PER_CMD);
            array(self.out, 2 + n * self.width);
            bulk(self.out, self.verb);
            bulk(self.out, self.key);
        }
        self.in_batch = (self.in_batch + 1) % ITEMS_PER_CMD;
        self.left = self.left.saturating_sub(1);
        self.out
    }
}

fn write_object(out: &mut Vec<u8>, key: &[u8], o: &Object) {
    match o {
        Object::List(l) => {
            let mut b = Batches::new(out, b"RPUSH", key, 1, l.len());
            for v in l.iter() {
                bulk(b.element(), v.as_ref());
            }
        }
        Object::Set(s) => {
            let mut b = Batches::new(out, b"SADD", key, 1, s.len());
            for m in s.iter() {
                bulk(b.element(), &m.bytes());
            }
        }
        Object::ZSet(z) => {
            let mut b = Batches::new(out, b"ZADD", key, 2, z.len());
            let mut text = Vec::with_capacity(32);
            z.visit(0..z.len(), false, |m, score| {
                text.clear();
                resp::num::format_double(&mut text, score);
                let o = b.element();
                bulk(o, &text);
                bulk(o, m);
                true
            });
        }
        Object::Hash(h) => {
            let mut b = Batches::new(out, b"HMSET", key, 2, h.len());
            for (f, v) in h.iter() {
                let o = b.element();
                bulk(o, ElemBytes::of(f).as_ref());
                bulk(o, ElemBytes::of(v).as_ref());
            }
        }
        Object::Stream(s) => write_stream(out, key, s),
    }
}

fn write_stream(out: &mut Vec<u8>, key: &[u8], s: &Stream) {
    if s.is_empty() {
        command(out, &[b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"]);
    } else {
        for e in s.iter() {
            array(out, 3 + 2 * e.len());
            bulk(out, b"XADD");
            bulk(out, key);
            bulk_id(out, e.id);
            for (f, v) in e.fields() {
                bulk(out, ElemBytes::of(f).as_ref());
                bulk(out, ElemBytes::of(v).as_ref());
            }
        }
    }
    array(out, 7);
    bulk(out, b"XSETID");
    bulk(out, key);
    bulk_id(out, s.last_id);
    bulk(out, b"ENTRIESADDED");
    bulk_int(out, s.entries_added as i64);
    bulk(out, b"MAXDELETEDID");
    bulk_id(out, s.max_deleted_entry_id);
    for (name, g) in &s.groups {
        array(out, 7);
        bulk(out, b"XGROUP");
        bulk(out, b"CREATE");
        bulk(out, key);
        bulk(out, name);
        bulk_id(out, g.last_id);
        bulk(out, b"ENTRIESREAD");
        bulk_int(out, g.entries_read);
        for (consumer, c) in &g.consumers {
            if c.pel.is_empty() {
                command(out, &[b"XGROUP", b"CREATECONSUMER", key, name, consumer]);
                continue;
            }
            for id in &c.pel {
                let Some(nack) = g.pel.get(id) else { continue };
                array(out, 12);
                for a in [&b"XCLAIM"[..], key, name, consumer, b"0"] {
                    bulk(out, a);
                }
                bulk_id(out, *id);
                bulk(out, b"TIME");
                bulk_int(out, nack.delivery_time);
                bulk(out, b"RETRYCOUNT");
                bulk_int(out, nack.delivery_count as i64);
                bulk(out, b"JUSTID");
                bulk(out, b"FORCE");
            }
        }
    }
}
