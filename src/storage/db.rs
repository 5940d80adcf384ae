//! INTERIM `Db` (see the module docs).

use std::collections::HashMap;

pub use super::object::Object;

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

pub enum NewValue<'a> {
    Int(i64),
    Str(&'a [u8]),
    Raw(Vec<u8>),
    Obj(Box<Object>),
}

#[derive(Debug, Clone, Copy)]
pub enum ValueRef<'a> {
    Int(i64),
    Str(&'a [u8], StrEncoding),
    Obj(&'a Object),
}

#[derive(Debug, Clone)]
pub enum OwnedValue {
    Int(i64),
    Str(Vec<u8>, StrEncoding),
    Obj(Box<Object>),
}

impl<'a> From<OwnedValue> for NewValue<'a> {
    fn from(v: OwnedValue) -> Self {
        match v {
            OwnedValue::Int(i) => NewValue::Int(i),
            OwnedValue::Str(s, StrEncoding::Raw) => NewValue::Raw(s),
            OwnedValue::Str(s, _) => NewValue::Raw(s), // interim: loses embstr
            OwnedValue::Obj(o) => NewValue::Obj(o),
        }
    }
}

#[derive(Debug, Clone)]
struct Stored {
    value: OwnedValue,
    expire: Option<i64>,
    lru: u32,
}

fn own(v: NewValue<'_>) -> OwnedValue {
    match v {
        NewValue::Int(i) => OwnedValue::Int(i),
        NewValue::Str(s) if s.len() <= 44 => OwnedValue::Str(s.to_vec(), StrEncoding::Embstr),
        NewValue::Str(s) => OwnedValue::Str(s.to_vec(), StrEncoding::Raw),
        NewValue::Raw(s) => OwnedValue::Str(s, StrEncoding::Raw),
        NewValue::Obj(o) => OwnedValue::Obj(o),
    }
}

#[derive(Default)]
pub struct Db {
    map: HashMap<Vec<u8>, Stored>,
}

pub struct DbContents(#[allow(dead_code)] HashMap<Vec<u8>, Stored>);

pub struct EntryRef<'a> {
    key: &'a [u8],
    s: &'a Stored,
}

impl<'a> EntryRef<'a> {
    pub fn key(&self) -> &'a [u8] {
        self.key
    }
    pub fn value(&self) -> ValueRef<'a> {
        match &self.s.value {
            OwnedValue::Int(i) => ValueRef::Int(*i),
            OwnedValue::Str(s, e) => ValueRef::Str(s, *e),
            OwnedValue::Obj(o) => ValueRef::Obj(o),
        }
    }
    pub fn expire_at(&self) -> Option<i64> {
        self.s.expire
    }
    pub fn lru(&self) -> u32 {
        self.s.lru
    }
    /// Bytes of the entry's own allocation, not counting a heap string or collection it owns (MEMORY
    /// USAGE adds those). INTERIM: the map slot, the key's buffer and an inline string's buffer.
    pub fn alloc_size(&self) -> usize {
        let inline = match &self.s.value {
            OwnedValue::Str(v, StrEncoding::Embstr) => v.len(),
            _ => 0,
        };
        std::mem::size_of::<(Vec<u8>, Stored)>() + self.key.len() + inline
    }
}

pub struct EntryMut<'a> {
    db: &'a mut Db,
    key: Vec<u8>,
}

impl EntryMut<'_> {
    fn s(&self) -> &Stored {
        self.db.map.get(&self.key).expect("entry exists")
    }
    fn s_mut(&mut self) -> &mut Stored {
        self.db.map.get_mut(&self.key).expect("entry exists")
    }
    pub fn key(&self) -> &[u8] {
        &self.key
    }
    pub fn value(&self) -> ValueRef<'_> {
        match &self.s().value {
            OwnedValue::Int(i) => ValueRef::Int(*i),
            OwnedValue::Str(s, e) => ValueRef::Str(s, *e),
            OwnedValue::Obj(o) => ValueRef::Obj(o),
        }
    }
    pub fn expire_at(&self) -> Option<i64> {
        self.s().expire
    }
    pub fn lru(&self) -> u32 {
        self.s().lru
    }
    pub fn set_value(&mut self, v: NewValue<'_>) {
        self.s_mut().value = own(v);
    }
    pub fn set_expire(&mut self, at: Option<i64>) {
        self.s_mut().expire = at;
    }
    pub fn set_lru(&mut self, lru: u32) {
        self.s_mut().lru = lru;
    }
    pub fn obj_mut(&mut self) -> Option<&mut Object> {
        match &mut self.s_mut().value {
            OwnedValue::Obj(o) => Some(o),
            _ => None,
        }
    }
    pub fn string_mut(&mut self) -> Option<&mut Vec<u8>> {
        let s = self.s_mut();
        match &mut s.value {
            OwnedValue::Int(i) => {
                s.value = OwnedValue::Str(i.to_string().into_bytes(), StrEncoding::Raw);
            }
            OwnedValue::Str(_, e) => *e = StrEncoding::Raw,
            OwnedValue::Obj(_) => return None,
        }
        match &mut s.value {
            OwnedValue::Str(v, _) => Some(v),
            _ => None,
        }
    }
    pub fn remove(self) -> (OwnedValue, Option<i64>) {
        let s = self.db.map.remove(&self.key).expect("entry exists");
        (s.value, s.expire)
    }
}

impl Db {
    pub fn new() -> Db {
        Db::default()
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    pub fn volatile_len(&self) -> usize {
        self.map.values().filter(|s| s.expire.is_some()).count()
    }
    pub fn get(&self, key: &[u8]) -> Option<EntryRef<'_>> {
        self.map.get_key_value(key).map(|(k, s)| EntryRef { key: k, s })
    }
    pub fn get_mut(&mut self, key: &[u8]) -> Option<EntryMut<'_>> {
        if self.map.contains_key(key) {
            Some(EntryMut {
                db: self,
                key: key.to_vec(),
            })
        } else {
            None
        }
    }
    pub fn insert(&mut self, key: &[u8], value: NewValue<'_>, expire_at: Option<i64>, lru: u32) -> Option<OwnedValue> {
        self.map
            .insert(
                key.to_vec(),
                Stored {
                    value: own(value),
                    expire: expire_at,
                    lru,
                },
            )
            .map(|s| s.value)
    }
    pub fn remove(&mut self, key: &[u8]) -> Option<(OwnedValue, Option<i64>)> {
        self.map.remove(key).map(|s| (s.value, s.expire))
    }
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(EntryRef<'_>)) -> u64 {
        let mut keys: Vec<&Vec<u8>> = self.map.keys().collect();
        keys.sort();
        let start = cursor as usize;
        let end = start.saturating_add(10).min(keys.len());
        for k in &keys[start.min(keys.len())..end] {
            f(self.get(k).expect("present"));
        }
        if end >= keys.len() {
            0
        } else {
            end as u64
        }
    }
    pub fn for_each(&self, mut f: impl FnMut(EntryRef<'_>)) {
        for (k, s) in &self.map {
            f(EntryRef { key: k, s });
        }
    }
    pub fn random_entry(&self, rng: &mut impl rand::Rng) -> Option<EntryRef<'_>> {
        if self.map.is_empty() {
            return None;
        }
        let n = rng.gen_range(0..self.map.len());
        self.map.iter().nth(n).map(|(k, s)| EntryRef { key: k, s })
    }
    pub fn clear(&mut self) -> DbContents {
        DbContents(std::mem::take(&mut self.map))
    }
    pub fn rehash_for(&mut self, _micros: u64) -> bool {
        false
    }
    pub fn try_shrink(&mut self) {}
}
