//! One key and its value packed into a single heap allocation, and the arrays of chain heads
//! that bucket arrays are made of.
//!
//! Every `unsafe` block of the keyspace table lives in this file; `buckets`, `table`, `volatile`,
//! `db` and `expire` `forbid(unsafe_code)` and use the safe API below. (The collection encodings under
//! `object` have `unsafe` of their own, documented where it is.)
//!
//! Layout of an entry (byte offsets; the allocation is 8-byte aligned):
//!
//! ```text
//!  0          8        12                       12 or 24
//!  +----------+--------+------------+----------+---------+-----------+---------------+
//!  | next     | meta   | expire_at  | slot     | key len | key bytes | value         |
//!  | Option<  | u32    | i64, unal. | u32      | varint  |           | (by kind)     |
//!  |  Entry>  |        | only if HAS_EXPIRE    |         |           |               |
//!  +----------+--------+------------+----------+---------+-----------+---------------+
//!
//!  meta:  bits 0..24 LRU/LFU clock | bit 24 HAS_EXPIRE | bits 25..27 value kind | bit 27 UNSHARED
//!  value: int     i64, unaligned                                   8 bytes
//!         inline  u8 length + bytes (length <= EMBSTR_MAX)         1 + len
//!         raw     padding to 8, then a Vec<u8> (ptr, cap, len)     pad + 24
//!         obj     padding to 8, then the Object itself             pad + size_of::<Object>()
//! ```
//!
//! A 16-byte key with a 16-byte value takes 8 + 4 + 1 + 16 + 1 + 16 = 46 bytes, jemalloc's
//! 48-byte class; with a TTL, 58 bytes (64-byte class).
//!
//! Invariants:
//! - the allocation size is a pure function of the contents (`alloc_size`): header, key length,
//!   kind, inline length; it is recomputed, never stored, and every (re)allocation and the final
//!   free use exactly `Layout::from_size_align(alloc_size, 8)`;
//! - an `Entry` uniquely owns its allocation, its value (the heap string or object) and the rest
//!   of its chain (`next`); dropping it frees all three, the chain iteratively;
//! - the handle *is* the chain link: a `&mut Entry` is a bucket slot or a predecessor's `next`,
//!   so an entry can reallocate itself through `&mut self` and the link follows;
//! - `Slots` is `[Option<Entry>]` allocated zeroed: all-zero is `None` (null-pointer
//!   optimisation, guaranteed for `Option` of a `repr(transparent)` `NonNull`).

use std::alloc::{self, Layout};
use std::mem::{self, ManuallyDrop};
use std::ops::{Deref, DerefMut};
use std::ptr::{self, NonNull};
use std::slice;

use super::object::Object;

/// Longest string stored inline ("embstr"); longer ones are heap ("raw") strings, as in Redis.
pub const EMBSTR_MAX: usize = 44;

/// The LRU/LFU clock is 24 bits wide, like Redis's `robj.lru`.
pub const LRU_MASK: u32 = (1 << 24) - 1;

const ALIGN: usize = 8;
const META_OFF: usize = 8;
const EXPIRE_OFF: usize = 12;
const SLOT_OFF: usize = 20;
const KEY_OFF_PLAIN: usize = 12;
const KEY_OFF_VOLATILE: usize = 24;

const HAS_EXPIRE: u32 = 1 << 24;
const KIND_SHIFT: u32 = 25;
const KIND_MASK: u32 = 0b11 << KIND_SHIFT;
/// An integer value Redis would hold in an object of its own rather than a shared one (COPY's
/// duplicate): only `OBJECT REFCOUNT` reads it. Survives TTL changes, cleared by any value change.
const UNSHARED: u32 = 1 << 27;

const _: () = assert!(mem::size_of::<Option<Entry>>() == 8);
const _: () = assert!(mem::size_of::<Vec<u8>>() == 24 && mem::align_of::<Vec<u8>>() <= ALIGN);
// Entries (and the values they own) are freed on other threads (FLUSHALL ASYNC, lazyfree).
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Object>();
};

/// How a string value is stored, with the names `OBJECT ENCODING` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrEncoding {
    Int,
    Embstr,
    Raw,
}

impl StrEncoding {
    pub fn name(self) -> &'static str {
        match self {
            StrEncoding::Int => "int",
            StrEncoding::Embstr => "embstr",
            StrEncoding::Raw => "raw",
        }
    }
}

/// A value to store.
#[derive(Debug)]
pub enum NewValue<'a> {
    /// A string in the "int" encoding.
    Int(i64),
    /// A string: up to `EMBSTR_MAX` bytes inline (embstr), longer ones copied to the heap (raw).
    Str(&'a [u8]),
    /// Like `Str`, but a long string keeps this buffer instead of being copied. It is what an
    /// embstr `OwnedValue` turns back into, so RENAME/MOVE preserve the encoding.
    StrOwned(Vec<u8>),
    /// Always a heap ("raw") string, whatever its length; the buffer is kept as is.
    Raw(Vec<u8>),
    /// A collection.
    Obj(Object),
}

/// A borrowed view of a stored value.
#[derive(Debug, Clone, Copy)]
pub enum ValueRef<'a> {
    Int(i64),
    /// Never `StrEncoding::Int`: those are `ValueRef::Int`.
    Str(&'a [u8], StrEncoding),
    Obj(&'a Object),
}

/// A value taken out of the keyspace. It owns everything it refers to, so it can be stored again
/// (`NewValue::from`) with its encoding, or dropped on another thread.
#[derive(Debug)]
pub enum OwnedValue {
    Int(i64),
    /// Never `StrEncoding::Int`: those are `OwnedValue::Int`.
    Str(Vec<u8>, StrEncoding),
    Obj(Object),
}

impl From<OwnedValue> for NewValue<'static> {
    fn from(v: OwnedValue) -> Self {
        match v {
            OwnedValue::Int(i) => NewValue::Int(i),
            OwnedValue::Str(s, StrEncoding::Raw) => NewValue::Raw(s),
            OwnedValue::Str(s, _) => NewValue::StrOwned(s),
            OwnedValue::Obj(o) => NewValue::Obj(o),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Int = 0,
    Inline = 1,
    Raw = 2,
    Obj = 3,
}

impl Kind {
    fn from_meta(meta: u32) -> Kind {
        match (meta & KIND_MASK) >> KIND_SHIFT {
            0 => Kind::Int,
            1 => Kind::Inline,
            2 => Kind::Raw,
            _ => Kind::Obj,
        }
    }
}

/// A value on its way into an entry, in storage terms.
enum Val<'a> {
    Int(i64),
    Inline(&'a [u8]),
    Raw(Vec<u8>),
    Obj(Object),
}

impl Val<'_> {
    fn kind(&self) -> Kind {
        match self {
            Val::Int(_) => Kind::Int,
            Val::Inline(_) => Kind::Inline,
            Val::Raw(_) => Kind::Raw,
            Val::Obj(_) => Kind::Obj,
        }
    }

    /// Bytes the value occupies when it starts at offset `off`.
    fn stored_size(&self, off: usize) -> usize {
        match self {
            Val::Int(_) => 8,
            Val::Inline(s) => 1 + s.len(),
            Val::Raw(_) => raw_off(off) - off + mem::size_of::<Vec<u8>>(),
            Val::Obj(_) => raw_off(off) - off + mem::size_of::<Object>(),
        }
    }
}

/// Converts a `NewValue` (whose `StrOwned` may need to outlive the borrow) and hands it to `f`.
/// Conversion happens before `f` runs, so anything that can fail (allocating a raw copy) fails
/// before an entry is touched.
fn with_val<R>(value: NewValue<'_>, f: impl FnOnce(Val<'_>) -> R) -> R {
    match value {
        NewValue::Int(i) => f(Val::Int(i)),
        NewValue::Str(s) if s.len() <= EMBSTR_MAX => f(Val::Inline(s)),
        NewValue::Str(s) => f(Val::Raw(s.to_vec())),
        NewValue::StrOwned(v) if v.len() <= EMBSTR_MAX => f(Val::Inline(&v)),
        NewValue::StrOwned(v) | NewValue::Raw(v) => f(Val::Raw(v)),
        NewValue::Obj(o) => f(Val::Obj(o)),
    }
}

fn raw_off(off: usize) -> usize {
    off.next_multiple_of(ALIGN)
}

fn key_off(has_expire: bool) -> usize {
    if has_expire {
        KEY_OFF_VOLATILE
    } else {
        KEY_OFF_PLAIN
    }
}

fn varint_len(mut v: usize) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, ALIGN).expect("entry size fits isize")
}

/// Writes `v` as LEB128 at `p`; returns the bytes written.
///
/// # Safety
/// `p` must be valid for `varint_len(v)` bytes of writes.
unsafe fn write_varint(p: *mut u8, mut v: usize) -> usize {
    let mut i = 0;
    while v >= 0x80 {
        p.add(i).write((v as u8) | 0x80);
        v >>= 7;
        i += 1;
    }
    p.add(i).write(v as u8);
    i + 1
}

/// Reads a LEB128 value at `p`; returns (value, bytes read).
///
/// # Safety
/// `p` must point at a varint written by `write_varint`.
unsafe fn read_varint(p: *const u8) -> (usize, usize) {
    let mut v = 0usize;
    let mut shift = 0;
    let mut i = 0;
    loop {
        let b = p.add(i).read();
        v |= ((b & 0x7f) as usize) << shift;
        i += 1;
        if b < 0x80 {
            return (v, i);
        }
        shift += 7;
    }
}

/// Writes `val` at offset `off` of the allocation at `p`.
///
/// # Safety
/// `p` must be an entry allocation with at least `off + val.stored_size(off)` bytes.
unsafe fn write_value(p: *mut u8, off: usize, val: Val<'_>) {
    match val {
        Val::Int(i) => p.add(off).cast::<i64>().write_unaligned(i),
        Val::Inline(s) => {
            debug_assert!(s.len() <= EMBSTR_MAX);
            p.add(off).write(s.len() as u8);
            ptr::copy_nonoverlapping(s.as_ptr(), p.add(off + 1), s.len());
        }
        // `raw_off` is 8-aligned within an 8-aligned allocation, so the Vec and the Object are
        // properly aligned and can be handed out as `&mut Vec<u8>` / `&mut Object`.
        Val::Raw(v) => p.add(raw_off(off)).cast::<Vec<u8>>().write(v),
        Val::Obj(o) => p.add(raw_off(off)).cast::<Object>().write(o),
    }
}

/// An owning handle to one entry allocation (see the module docs for the layout).
#[repr(transparent)]
pub(crate) struct Entry(NonNull<u8>);

// SAFETY: an Entry uniquely owns its allocation, its value and its chain, all of which are Send
// and Sync (asserted above for Object); it has no interior mutability.
unsafe impl Send for Entry {}
unsafe impl Sync for Entry {}

impl Entry {
    /// A new detached entry (`next` is `None`). `expire` is the deadline and the entry's slot in
    /// the volatile index.
    pub(crate) fn new(key: &[u8], value: NewValue<'_>, expire: Option<(i64, u32)>, lru: u32) -> Entry {
        with_val(value, |val| {
            let key_at = key_off(expire.is_some());
            let val_at = key_at + varint_len(key.len()) + key.len();
            let layout = layout(val_at + val.stored_size(val_at));
            let meta =
                (lru & LRU_MASK) | if expire.is_some() { HAS_EXPIRE } else { 0 } | (val.kind() as u32) << KIND_SHIFT;
            // SAFETY: the layout has room for every field written: it was computed from them.
            // Nothing below can unwind, so no half-written entry is ever dropped.
            unsafe {
                let p = alloc::alloc(layout);
                if p.is_null() {
                    alloc::handle_alloc_error(layout);
                }
                p.cast::<Option<Entry>>().write(None);
                p.add(META_OFF).cast::<u32>().write(meta);
                if let Some((at, slot)) = expire {
                    p.add(EXPIRE_OFF).cast::<i64>().write_unaligned(at);
                    p.add(SLOT_OFF).cast::<u32>().write(slot);
                }
                let n = write_varint(p.add(key_at), key.len());
                ptr::copy_nonoverlapping(key.as_ptr(), p.add(key_at + n), key.len());
                write_value(p, val_at, val);
                Entry(NonNull::new_unchecked(p))
            }
        })
    }

    fn base(&self) -> *mut u8 {
        self.0.as_ptr()
    }

    fn meta(&self) -> u32 {
        // SAFETY: the meta word is always initialised, at a 4-aligned offset.
        unsafe { self.base().add(META_OFF).cast::<u32>().read() }
    }

    fn set_meta(&mut self, meta: u32) {
        // SAFETY: as in `meta`; `&mut self` means nobody else reads it.
        unsafe { self.base().add(META_OFF).cast::<u32>().write(meta) }
    }

    fn kind(&self) -> Kind {
        Kind::from_meta(self.meta())
    }

    fn has_expire(&self) -> bool {
        self.meta() & HAS_EXPIRE != 0
    }

    /// (offset of the key's length varint, key length, length of the varint).
    fn key_field(&self) -> (usize, usize, usize) {
        let at = key_off(self.has_expire());
        // SAFETY: the key length varint is always initialised at `at`.
        let (len, n) = unsafe { read_varint(self.base().add(at)) };
        (at, len, n)
    }

    fn val_off(&self) -> usize {
        let (at, len, n) = self.key_field();
        at + n + len
    }

    /// Bytes the current value occupies at offset `off`.
    fn value_size(&self, off: usize) -> usize {
        match self.kind() {
            Kind::Int => 8,
            // SAFETY: an inline value starts with its initialised length byte.
            Kind::Inline => 1 + unsafe { self.base().add(off).read() } as usize,
            Kind::Raw => raw_off(off) - off + mem::size_of::<Vec<u8>>(),
            Kind::Obj => raw_off(off) - off + mem::size_of::<Object>(),
        }
    }

    /// Size of this entry's allocation (not counting a heap string or object it owns).
    pub(crate) fn alloc_size(&self) -> usize {
        let off = self.val_off();
        off + self.value_size(off)
    }

    pub(crate) fn key(&self) -> &[u8] {
        let (at, len, n) = self.key_field();
        // SAFETY: `len` initialised key bytes follow the varint; they live as long as `&self`.
        unsafe { slice::from_raw_parts(self.base().add(at + n), len) }
    }

    pub(crate) fn value(&self) -> ValueRef<'_> {
        let off = self.val_off();
        let p = self.base();
        // SAFETY: the value at `off` is initialised and of the kind recorded in meta; the raw Vec
        // and the object are 8-aligned.
        unsafe {
            match self.kind() {
                Kind::Int => ValueRef::Int(p.add(off).cast::<i64>().read_unaligned()),
                Kind::Inline => {
                    let len = p.add(off).read() as usize;
                    let s = slice::from_raw_parts(p.add(off + 1), len);
                    ValueRef::Str(s, StrEncoding::Embstr)
                }
                Kind::Raw => {
                    let v = &*p.add(raw_off(off)).cast::<Vec<u8>>();
                    ValueRef::Str(v.as_slice(), StrEncoding::Raw)
                }
                Kind::Obj => ValueRef::Obj(&*p.add(raw_off(off)).cast::<Object>()),
            }
        }
    }

    pub(crate) fn lru(&self) -> u32 {
        self.meta() & LRU_MASK
    }

    pub(crate) fn unshared(&self) -> bool {
        self.meta() & UNSHARED != 0
    }

    pub(crate) fn set_unshared(&mut self, on: bool) {
        let meta = if on {
            self.meta() | UNSHARED
        } else {
            self.meta() & !UNSHARED
        };
        self.set_meta(meta);
    }

    pub(crate) fn set_lru(&mut self, lru: u32) {
        let meta = (self.meta() & !LRU_MASK) | (lru & LRU_MASK);
        self.set_meta(meta);
    }

    pub(crate) fn expire_at(&self) -> Option<i64> {
        // SAFETY: with HAS_EXPIRE set, the deadline is initialised at EXPIRE_OFF.
        self.has_expire()
            .then(|| unsafe { self.base().add(EXPIRE_OFF).cast::<i64>().read_unaligned() })
    }

    /// This entry's position in the volatile index, if it has a TTL.
    pub(crate) fn volatile_slot(&self) -> Option<u32> {
        // SAFETY: with HAS_EXPIRE set, the slot is initialised at the 4-aligned SLOT_OFF.
        self.has_expire()
            .then(|| unsafe { self.base().add(SLOT_OFF).cast::<u32>().read() })
    }

    /// Moves this entry's volatile index slot. Panics if the entry has no TTL.
    pub(crate) fn set_volatile_slot(&mut self, slot: u32) {
        assert!(self.has_expire(), "only a volatile entry has a slot");
        // SAFETY: as in `volatile_slot`.
        unsafe { self.base().add(SLOT_OFF).cast::<u32>().write(slot) }
    }

    /// Sets or clears the TTL (deadline, volatile index slot). Adding or removing a TTL moves the
    /// key and value by 12 bytes and reallocates.
    pub(crate) fn set_expire(&mut self, expire: Option<(i64, u32)>) {
        match expire {
            Some((at, slot)) if self.has_expire() => {
                // SAFETY: the fields exist because HAS_EXPIRE is set.
                unsafe {
                    self.base().add(EXPIRE_OFF).cast::<i64>().write_unaligned(at);
                    self.base().add(SLOT_OFF).cast::<u32>().write(slot);
                }
            }
            None if !self.has_expire() => {}
            _ => {
                let mut buf = [0u8; EMBSTR_MAX];
                // SAFETY: the value is taken out and immediately written back by `relayout`;
                // nothing in between can unwind.
                unsafe {
                    let val = self.take_val(&mut buf);
                    self.relayout(expire, val);
                }
            }
        }
    }

    /// Replaces the value, dropping the old one here.
    pub(crate) fn set_value(&mut self, value: NewValue<'_>) {
        drop(self.reset(value, self.expire_parts(), false));
    }

    /// Replaces the value and returns the old one.
    pub(crate) fn replace_value(&mut self, value: NewValue<'_>) -> OwnedValue {
        self.reset(value, self.expire_parts(), true)
    }

    /// Replaces the value and the TTL in one reallocation. With `keep_old` false the returned
    /// value is a placeholder (an inline string is not copied out just to be dropped).
    pub(crate) fn reset(&mut self, value: NewValue<'_>, expire: Option<(i64, u32)>, keep_old: bool) -> OwnedValue {
        let old = with_val(value, |val| {
            // SAFETY: the old value is moved out and the slot rewritten by `relayout` right away;
            // neither step can unwind once `take_value` has returned.
            unsafe {
                let old = self.take_value(keep_old);
                self.relayout(expire, val);
                old
            }
        });
        self.set_unshared(false);
        old
    }

    fn expire_parts(&self) -> Option<(i64, u32)> {
        self.expire_at().zip(self.volatile_slot())
    }

    /// The string value as a growable heap buffer: an int or embstr is first converted to a raw
    /// string (Redis does the same before APPEND, SETRANGE, SETBIT...). `None` for a collection.
    pub(crate) fn string_mut(&mut self) -> Option<&mut Vec<u8>> {
        let converted = match self.value() {
            ValueRef::Obj(_) => return None,
            ValueRef::Int(i) => Some(i.to_string().into_bytes()),
            ValueRef::Str(s, StrEncoding::Embstr | StrEncoding::Int) => Some(s.to_vec()),
            ValueRef::Str(_, StrEncoding::Raw) => None,
        };
        if let Some(bytes) = converted {
            self.set_value(NewValue::Raw(bytes));
        }
        let off = raw_off(self.val_off());
        // SAFETY: the value is now a raw string: an initialised, 8-aligned Vec owned by this
        // entry, borrowed for as long as `&mut self`.
        Some(unsafe { &mut *self.base().add(off).cast::<Vec<u8>>() })
    }

    pub(crate) fn obj_mut(&mut self) -> Option<&mut Object> {
        if self.kind() != Kind::Obj {
            return None;
        }
        let off = self.val_off();
        // SAFETY: the value is an initialised, 8-aligned Object owned by this entry, borrowed for as
        // long as `&mut self`.
        Some(unsafe { &mut *self.base().add(raw_off(off)).cast::<Object>() })
    }

    pub(crate) fn next(&self) -> Option<&Entry> {
        // SAFETY: offset 0 always holds an initialised, aligned `Option<Entry>`.
        unsafe { (*self.base().cast::<Option<Entry>>()).as_ref() }
    }

    pub(crate) fn next_mut(&mut self) -> &mut Option<Entry> {
        // SAFETY: as in `next`, borrowed uniquely through `&mut self`.
        unsafe { &mut *self.base().cast::<Option<Entry>>() }
    }

    /// Consumes a detached entry, giving its key, value and deadline to `f`; the allocation is
    /// freed afterwards (also if `f` unwinds).
    pub(crate) fn into_parts_with<R>(self, f: impl FnOnce(&[u8], OwnedValue, Option<i64>) -> R) -> R {
        assert!(self.next().is_none(), "entry still linked to a chain");
        struct FreeOnDrop(NonNull<u8>, Layout);
        impl Drop for FreeOnDrop {
            fn drop(&mut self) {
                // SAFETY: the allocation was made with this layout and its value moved out.
                unsafe { alloc::dealloc(self.0.as_ptr(), self.1) }
            }
        }
        let mut this = ManuallyDrop::new(self);
        let _free = FreeOnDrop(this.0, layout(this.alloc_size()));
        // SAFETY: the value is moved out once; `_free` frees the allocation without dropping it.
        let value = unsafe { this.take_value(true) };
        f(this.key(), value, this.expire_at())
    }

    /// Consumes a detached entry into its value and deadline.
    pub(crate) fn into_parts(self) -> (OwnedValue, Option<i64>) {
        self.into_parts_with(|_, v, at| (v, at))
    }

    /// Moves the value out, leaving its bytes in place but logically uninitialised. An inline
    /// string is copied out only with `copy_inline` (else an empty placeholder is returned).
    ///
    /// # Safety
    /// Afterwards the caller must write a new value (`relayout`) or free the allocation without
    /// dropping the value again.
    unsafe fn take_value(&mut self, copy_inline: bool) -> OwnedValue {
        let off = self.val_off();
        let p = self.base();
        match self.kind() {
            Kind::Int => OwnedValue::Int(p.add(off).cast::<i64>().read_unaligned()),
            Kind::Inline => {
                let s = if copy_inline {
                    let len = p.add(off).read() as usize;
                    slice::from_raw_parts(p.add(off + 1), len).to_vec()
                } else {
                    Vec::new()
                };
                OwnedValue::Str(s, StrEncoding::Embstr)
            }
            Kind::Raw => OwnedValue::Str(p.add(raw_off(off)).cast::<Vec<u8>>().read(), StrEncoding::Raw),
            Kind::Obj => OwnedValue::Obj(p.add(raw_off(off)).cast::<Object>().read()),
        }
    }

    /// Like `take_value`, for writing the same value back: an inline string is copied to `buf`.
    ///
    /// # Safety
    /// As for `take_value`.
    unsafe fn take_val<'b>(&mut self, buf: &'b mut [u8; EMBSTR_MAX]) -> Val<'b> {
        if let ValueRef::Str(s, StrEncoding::Embstr) = self.value() {
            buf[..s.len()].copy_from_slice(s);
            return Val::Inline(&buf[..s.len()]);
        }
        match self.take_value(false) {
            OwnedValue::Int(i) => Val::Int(i),
            OwnedValue::Str(v, _) => Val::Raw(v),
            OwnedValue::Obj(o) => Val::Obj(o),
        }
    }

    /// Rewrites the header and value of an entry whose value has been taken out: moves the key
    /// when the TTL fields appear or disappear, reallocates to the new exact size (in place when
    /// jemalloc's size class does not change), and writes `val`.
    ///
    /// # Safety
    /// The current value must have been moved out (`take_value`/`take_val`).
    unsafe fn relayout(&mut self, expire: Option<(i64, u32)>, val: Val<'_>) {
        let old_size = self.alloc_size();
        let (old_at, key_len, n) = self.key_field();
        let key_area = n + key_len;
        let new_at = key_off(expire.is_some());
        let val_at = new_at + key_area;
        let new_size = val_at + val.stored_size(val_at);
        let mut p = self.base();
        // Move the key down before shrinking, or up after growing, so it is never cut off.
        if new_at < old_at {
            ptr::copy(p.add(old_at), p.add(new_at), key_area);
        }
        if new_size != old_size {
            p = alloc::realloc(p, layout(old_size), new_size);
            if p.is_null() {
                alloc::handle_alloc_error(layout(new_size));
            }
            self.0 = NonNull::new_unchecked(p);
        }
        if new_at > old_at {
            ptr::copy(p.add(old_at), p.add(new_at), key_area);
        }
        let meta = (self.meta() & (LRU_MASK | UNSHARED))
            | if expire.is_some() { HAS_EXPIRE } else { 0 }
            | (val.kind() as u32) << KIND_SHIFT;
        self.set_meta(meta);
        if let Some((at, slot)) = expire {
            p.add(EXPIRE_OFF).cast::<i64>().write_unaligned(at);
            p.add(SLOT_OFF).cast::<u32>().write(slot);
        }
        write_value(p, val_at, val);
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        // Free the rest of the chain iteratively: a recursive drop's depth would be the chain's
        // length.
        let mut next = self.next_mut().take();
        while let Some(mut e) = next {
            next = e.next_mut().take();
        }
        let size = self.alloc_size();
        // SAFETY: the value is dropped once and the allocation freed with the layout it has.
        unsafe {
            drop(self.take_value(false));
            alloc::dealloc(self.base(), layout(size));
        }
    }
}

/// An array of chain heads (one segment of a bucket array), allocated zeroed: fresh memory
/// costs the kernel's lazy zero pages, not a pass over it.
pub(crate) struct Slots {
    ptr: NonNull<Option<Entry>>,
    len: usize,
}

// SAFETY: Slots owns its array and the chains in it, like a Box<[Option<Entry>]>.
unsafe impl Send for Slots {}
unsafe impl Sync for Slots {}

impl Slots {
    pub(crate) fn empty() -> Slots {
        Slots {
            ptr: NonNull::dangling(),
            len: 0,
        }
    }

    pub(crate) fn zeroed(len: usize) -> Slots {
        if len == 0 {
            return Slots::empty();
        }
        let layout = Layout::array::<Option<Entry>>(len).expect("bucket array fits isize");
        // SAFETY: the layout is non-zero-sized; all-zero bytes are a valid `None` (module docs).
        let p = unsafe { alloc::alloc_zeroed(layout) };
        let Some(ptr) = NonNull::new(p.cast::<Option<Entry>>()) else {
            alloc::handle_alloc_error(layout)
        };
        Slots { ptr, len }
    }

    /// Frees an array known to be empty without visiting its slots (a rehash has just emptied
    /// it). A chain left behind would leak, which is a bug but not unsafe.
    pub(crate) fn free_empty(self) {
        debug_assert!(self.iter().all(Option::is_none));
        let this = ManuallyDrop::new(self);
        if this.len > 0 {
            let layout = Layout::array::<Option<Entry>>(this.len).expect("was allocated");
            // SAFETY: allocated in `zeroed` with this layout; the slots need no drop.
            unsafe { alloc::dealloc(this.ptr.as_ptr().cast(), layout) }
        }
    }
}

impl Default for Slots {
    fn default() -> Self {
        Slots::empty()
    }
}

impl Deref for Slots {
    type Target = [Option<Entry>];
    fn deref(&self) -> &[Option<Entry>] {
        // SAFETY: `len` initialised slots (or a dangling pointer with length 0).
        unsafe { slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl DerefMut for Slots {
    fn deref_mut(&mut self) -> &mut [Option<Entry>] {
        // SAFETY: as in `deref`, borrowed uniquely.
        unsafe { slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Slots {
    fn drop(&mut self) {
        for slot in self.iter_mut() {
            // Reads every slot but writes only the occupied ones.
            if slot.is_some() {
                drop(slot.take());
            }
        }
        let this = mem::take(self);
        this.free_empty();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn str_of(v: ValueRef<'_>) -> (Vec<u8>, StrEncoding) {
        match v {
            ValueRef::Int(i) => (i.to_string().into_bytes(), StrEncoding::Int),
            ValueRef::Str(s, enc) => (s.to_vec(), enc),
            ValueRef::Obj(_) => unreachable!("these tests store no collections"),
        }
    }

    #[test]
    fn headline_entry_fits_48_bytes() {
        let e = Entry::new(b"key:000000000001", NewValue::Str(b"v000000000000001"), None, 7);
        assert_eq!(e.alloc_size(), 46);
        let v = Entry::new(b"key:000000000001", NewValue::Str(b"v000000000000001"), Some((1, 0)), 7);
        assert_eq!(v.alloc_size(), 58);
    }

    #[test]
    fn fields_round_trip() {
        let long_key = vec![b'k'; 300];
        for key in [&b""[..], b"a", &long_key[..]] {
            let e = Entry::new(key, NewValue::Int(-5), Some((1234, 9)), 0xFFFF_FFFF);
            assert_eq!(e.key(), key);
            assert!(matches!(e.value(), ValueRef::Int(-5)));
            assert_eq!(e.expire_at(), Some(1234));
            assert_eq!(e.volatile_slot(), Some(9));
            assert_eq!(e.lru(), LRU_MASK);
            assert!(e.next().is_none());
        }
    }

    #[test]
    fn string_encodings_follow_length() {
        let s44 = vec![b'x'; EMBSTR_MAX];
        let s45 = vec![b'y'; EMBSTR_MAX + 1];
        let e = Entry::new(b"k", NewValue::Str(&s44), None, 0);
        assert_eq!(str_of(e.value()), (s44.clone(), StrEncoding::Embstr));
        let e = Entry::new(b"k", NewValue::Str(&s45), None, 0);
        assert_eq!(str_of(e.value()), (s45.clone(), StrEncoding::Raw));
        let e = Entry::new(b"k", NewValue::Raw(b"ab".to_vec()), None, 0);
        assert_eq!(str_of(e.value()), (b"ab".to_vec(), StrEncoding::Raw));
        let e = Entry::new(b"k", NewValue::StrOwned(s45.clone()), None, 0);
        assert_eq!(str_of(e.value()), (s45, StrEncoding::Raw));
    }

    #[test]
    fn every_value_transition_keeps_key_ttl_and_lru() {
        fn make(i: usize) -> NewValue<'static> {
            match i {
                0 => NewValue::Int(i64::MIN),
                1 => NewValue::Str(b""),
                2 => NewValue::Str(b"hello"),
                3 => NewValue::Str(&[b'z'; 100]),
                _ => NewValue::Raw(b"r".to_vec()),
            }
        }
        for key_len in [0usize, 1, 7, 130] {
            let key = vec![b'q'; key_len];
            for expire in [None, Some((99i64, 3u32))] {
                for from in 0..5 {
                    for to in 0..5 {
                        let mut e = Entry::new(&key, make(from), expire, 42);
                        let want = str_of(Entry::new(b"", make(to), None, 0).value());
                        let old = e.replace_value(make(to));
                        let want_old = str_of(Entry::new(b"", make(from), None, 0).value());
                        let got_old = match old {
                            OwnedValue::Int(i) => (i.to_string().into_bytes(), StrEncoding::Int),
                            OwnedValue::Str(s, enc) => (s, enc),
                            OwnedValue::Obj(_) => unreachable!("these tests store no collections"),
                        };
                        assert_eq!(got_old, want_old);
                        assert_eq!(str_of(e.value()), want);
                        assert_eq!(e.key(), &key[..]);
                        assert_eq!(e.expire_parts(), expire);
                        assert_eq!(e.lru(), 42);
                    }
                }
            }
        }
    }

    #[test]
    fn adding_and_removing_ttl_moves_key_and_value() {
        let big = vec![b'b'; 64];
        for value in [
            NewValue::Int(77),
            NewValue::Str(b"short"),
            NewValue::Str(&big),
            NewValue::Raw(b"x".to_vec()),
        ] {
            for key_len in [0usize, 3, 5, 200] {
                let key = vec![b'k'; key_len];
                let mut e = Entry::new(&key, NewValue::Int(0), None, 5);
                e.set_value(value_clone(&value));
                let want = str_of(e.value());
                e.set_expire(Some((10, 1)));
                assert_eq!((e.key(), str_of(e.value())), (&key[..], want.clone()));
                assert_eq!(e.expire_parts(), Some((10, 1)));
                e.set_expire(Some((11, 2)));
                e.set_volatile_slot(4);
                assert_eq!(e.expire_parts(), Some((11, 4)));
                e.set_expire(None);
                assert_eq!((e.key(), str_of(e.value())), (&key[..], want));
                assert_eq!((e.expire_at(), e.volatile_slot(), e.lru()), (None, None, 5));
            }
        }
    }

    fn value_clone<'a>(v: &NewValue<'a>) -> NewValue<'a> {
        match v {
            NewValue::Int(i) => NewValue::Int(*i),
            NewValue::Str(s) => NewValue::Str(s),
            NewValue::StrOwned(s) => NewValue::StrOwned(s.clone()),
            NewValue::Raw(s) => NewValue::Raw(s.clone()),
            NewValue::Obj(_) => unreachable!("these tests store no collections"),
        }
    }

    #[test]
    fn string_mut_converts_to_raw_and_grows() {
        let mut e = Entry::new(b"n", NewValue::Int(-12), Some((5, 0)), 0);
        e.string_mut().expect("a string").extend_from_slice(b"ab");
        assert_eq!(str_of(e.value()), (b"-12ab".to_vec(), StrEncoding::Raw));
        let mut e = Entry::new(b"s", NewValue::Str(b"abc"), None, 0);
        for _ in 0..100 {
            e.string_mut().expect("a string").push(b'!');
        }
        let (s, enc) = str_of(e.value());
        assert_eq!((s.len(), enc), (103, StrEncoding::Raw));
        assert_eq!(e.key(), b"s");
        assert!(e.obj_mut().is_none());
    }

    #[test]
    fn owned_values_round_trip_with_encoding() {
        let long = vec![b'L'; 50];
        for v in [
            NewValue::Int(3),
            NewValue::Str(b"emb"),
            NewValue::Str(&long),
            NewValue::Raw(b"tiny raw".to_vec()),
        ] {
            let e = Entry::new(b"k", v, Some((8, 0)), 0);
            let want = str_of(e.value());
            let (owned, at) = e.into_parts();
            assert_eq!(at, Some(8));
            let again = Entry::new(b"k2", NewValue::from(owned), None, 0);
            assert_eq!(str_of(again.value()), want);
        }
    }

    #[test]
    fn objects_live_inside_the_entry_through_ttl_changes_and_replacement() {
        use crate::storage::object::list::List;
        use crate::storage::object::set::Set;
        let members = |e: &Entry| match e.value() {
            ValueRef::Obj(Object::Set(s)) => s.len(),
            other => panic!("not a set: {other:?}"),
        };
        let mut s = Set::new();
        for m in [&b"1"[..], b"2", b"three"] {
            s.add(m, 512);
        }
        // A key length that leaves the object needing padding to its 8-byte alignment.
        let mut e = Entry::new(b"five5", NewValue::Obj(Object::Set(s)), None, 0);
        assert_ne!(e.val_off() % ALIGN, 0);
        assert_eq!(members(&e), 3);
        // Adding and removing a TTL moves the key and the object.
        e.set_expire(Some((77, 4)));
        assert_eq!((members(&e), e.expire_at(), e.key()), (3, Some(77), &b"five5"[..]));
        if let Some(Object::Set(s)) = e.obj_mut() {
            s.add(b"four", 512);
        }
        e.set_expire(None);
        assert_eq!((members(&e), e.expire_at()), (4, None));
        // Replacing by a string and back drops and returns the right values.
        let old = e.replace_value(NewValue::Str(b"now a string"));
        assert!(matches!(old, OwnedValue::Obj(Object::Set(ref s)) if s.len() == 4));
        assert!(e.obj_mut().is_none());
        let mut l = List::new(-2, 0);
        l.push_back(b"x");
        e.set_value(NewValue::Obj(Object::List(Box::new(l))));
        let list_len = |e: &Entry| match e.value() {
            ValueRef::Obj(o @ Object::List(_)) => o.len(),
            other => panic!("not a list: {other:?}"),
        };
        assert_eq!(list_len(&e), 1);
        // Taken out whole, then stored again.
        let (owned, _) = e.into_parts();
        let again = Entry::new(b"k", NewValue::from(owned), Some((1, 0)), 0);
        assert_eq!(list_len(&again), 1);
        drop(NewValue::from(OwnedValue::Obj(Object::Set(Set::new()))));
    }

    #[test]
    fn into_parts_with_lends_the_key() {
        let e = Entry::new(b"the-key", NewValue::Str(b"v"), None, 0);
        let got = e.into_parts_with(|k, v, at| (k.to_vec(), matches!(v, OwnedValue::Str(..)), at));
        assert_eq!(got, (b"the-key".to_vec(), true, None));
    }

    #[test]
    fn dropping_a_long_chain_is_iterative() {
        let n = if cfg!(miri) { 200 } else { 200_000 };
        let mut head: Option<Entry> = None;
        for i in 0..n {
            let mut e = Entry::new(&i.to_string().into_bytes(), NewValue::Int(i), None, 0);
            *e.next_mut() = head.take();
            head = Some(e);
        }
        let mut count = 0;
        let mut cur = head.as_ref();
        while let Some(e) = cur {
            count += 1;
            cur = e.next();
        }
        assert_eq!(count, n);
        drop(head);
    }

    #[test]
    fn slots_start_empty_and_drop_their_chains() {
        let mut b = Slots::zeroed(8);
        assert!(b.iter().all(Option::is_none));
        b[3] = Some(Entry::new(b"a", NewValue::Raw(vec![1; 10]), None, 0));
        let mut e = Entry::new(b"b", NewValue::Str(b"x"), None, 0);
        *e.next_mut() = b[5].take();
        b[5] = Some(e);
        drop(b);
        Slots::zeroed(4).free_empty();
        Slots::empty().free_empty();
        drop(Slots::zeroed(0));
    }

    #[test]
    fn varints_round_trip() {
        let mut buf = [0u8; 10];
        for v in [0usize, 1, 127, 128, 16_383, 16_384, usize::MAX >> 1] {
            // SAFETY: 10 bytes hold any usize varint.
            let (w, (r, n)) = unsafe {
                let w = write_varint(buf.as_mut_ptr(), v);
                (w, read_varint(buf.as_ptr()))
            };
            assert_eq!((w, r, n), (varint_len(v), v, w));
        }
    }
}
