//! Property tests of `Db` against a `HashMap` model, and of SCAN across resizes.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use proptest::test_runner::Config;
use rand::rngs::SmallRng;
use rand::SeedableRng;

use super::{expire_cycle, Db, ExpireParams, NewValue, OwnedValue, StrEncoding, ValueRef, EMBSTR_MAX};

type Key = Vec<u8>;
/// What the model stores for a key: string bytes, encoding, deadline.
type ModelVal = (Vec<u8>, StrEncoding, Option<i64>);

fn config() -> Config {
    if cfg!(miri) {
        Config {
            cases: 3,
            failure_persistence: None,
            ..Config::default()
        }
    } else {
        Config::default()
    }
}

#[derive(Debug, Clone)]
enum Val {
    Int(i64),
    Str(Vec<u8>),
    StrOwned(Vec<u8>),
    Raw(Vec<u8>),
}

impl Val {
    fn new_value(&self) -> NewValue<'_> {
        match self {
            Val::Int(i) => NewValue::Int(*i),
            Val::Str(s) => NewValue::Str(s),
            Val::StrOwned(s) => NewValue::StrOwned(s.clone()),
            Val::Raw(s) => NewValue::Raw(s.clone()),
        }
    }

    fn model(&self) -> (Vec<u8>, StrEncoding) {
        match self {
            Val::Int(i) => (i.to_string().into_bytes(), StrEncoding::Int),
            Val::Str(s) | Val::StrOwned(s) if s.len() <= EMBSTR_MAX => (s.clone(), StrEncoding::Embstr),
            Val::Str(s) | Val::StrOwned(s) | Val::Raw(s) => (s.clone(), StrEncoding::Raw),
        }
    }
}

fn val() -> impl Strategy<Value = Val> {
    let bytes = || prop::collection::vec(any::<u8>(), 0..100);
    prop_oneof![
        any::<i64>().prop_map(Val::Int),
        bytes().prop_map(Val::Str),
        bytes().prop_map(Val::StrOwned),
        prop::collection::vec(any::<u8>(), 0..60).prop_map(Val::Raw),
    ]
}

fn ttl() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![Just(None), (0i64..1000).prop_map(Some)]
}

#[derive(Debug, Clone)]
enum Op {
    Insert(usize, Val, Option<i64>),
    Put(usize, Val, Option<i64>),
    Remove(usize),
    Get(usize),
    SetExpire(usize, Option<i64>),
    SetValue(usize, Val),
    ReplaceValue(usize, Val),
    Append(usize, Vec<u8>),
    RemoveViaEntry(usize),
    /// Inserts `n` generated keys (forces growth).
    Bulk(u16, u8, Option<i64>),
    /// Removes every generated key (makes a shrink possible).
    DropBulk,
    TryShrink,
    Rehash(u8),
    ExpireCycle(i64),
    Clear,
}

fn op(pool: usize) -> impl Strategy<Value = Op> {
    let k = 0..pool;
    prop_oneof![
        6 => (k.clone(), val(), ttl()).prop_map(|(k, v, t)| Op::Insert(k, v, t)),
        2 => (k.clone(), val(), ttl()).prop_map(|(k, v, t)| Op::Put(k, v, t)),
        3 => k.clone().prop_map(Op::Remove),
        3 => k.clone().prop_map(Op::Get),
        3 => (k.clone(), ttl()).prop_map(|(k, t)| Op::SetExpire(k, t)),
        2 => (k.clone(), val()).prop_map(|(k, v)| Op::SetValue(k, v)),
        1 => (k.clone(), val()).prop_map(|(k, v)| Op::ReplaceValue(k, v)),
        2 => (k.clone(), prop::collection::vec(any::<u8>(), 0..30)).prop_map(|(k, b)| Op::Append(k, b)),
        1 => k.prop_map(Op::RemoveViaEntry),
        1 => (any::<u16>(), any::<u8>(), ttl()).prop_map(|(b, n, t)| Op::Bulk(b, n, t)),
        1 => Just(Op::DropBulk),
        1 => Just(Op::TryShrink),
        1 => any::<u8>().prop_map(Op::Rehash),
        1 => (0i64..1100).prop_map(Op::ExpireCycle),
        1 => Just(Op::Clear),
    ]
}

fn scenario() -> impl Strategy<Value = (Vec<Key>, Vec<Op>)> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..100), 1..40).prop_flat_map(|keys| {
        let n = keys.len();
        let ops = if cfg!(miri) { 1..40 } else { 1..300 };
        (Just(keys), prop::collection::vec(op(n), ops))
    })
}

fn as_model(v: ValueRef<'_>) -> (Vec<u8>, StrEncoding) {
    match v {
        ValueRef::Int(i) => (i.to_string().into_bytes(), StrEncoding::Int),
        ValueRef::Str(s, enc) => (s.to_vec(), enc),
        ValueRef::Obj(_) => unreachable!("these tests store no collections"),
    }
}

fn owned_model(v: OwnedValue) -> (Vec<u8>, StrEncoding) {
    match v {
        OwnedValue::Int(i) => (i.to_string().into_bytes(), StrEncoding::Int),
        OwnedValue::Str(s, enc) => (s, enc),
        OwnedValue::Obj(_) => unreachable!("these tests store no collections"),
    }
}

fn bulk_key(base: u16, i: u8) -> Key {
    format!("bulk:{base}:{i}").into_bytes()
}

/// Compares every key and the volatile index with the model.
fn compare(db: &Db, model: &HashMap<Key, ModelVal>) {
    db.check();
    assert_eq!(db.len(), model.len());
    for (k, (bytes, enc, at)) in model {
        let e = db.get(k).expect("model key present");
        assert_eq!(as_model(e.value()), (bytes.clone(), *enc));
        assert_eq!(e.expire_at(), *at);
    }
    let volatile: HashSet<&Key> = model.iter().filter(|(_, v)| v.2.is_some()).map(|(k, _)| k).collect();
    assert_eq!(db.volatile_len(), volatile.len());
    let mut with_ttl = 0;
    db.for_each(|e| {
        assert!(model.contains_key(e.key()));
        with_ttl += usize::from(e.expire_at().is_some());
    });
    assert_eq!(with_ttl, volatile.len());
}

fn apply(db: &mut Db, model: &mut HashMap<Key, ModelVal>, keys: &[Key], bulk: &mut Vec<Key>, op: &Op) {
    match op {
        Op::Insert(k, v, t) | Op::Put(k, v, t) => {
            let key = &keys[*k];
            let old = model.insert(key.clone(), {
                let (b, e) = v.model();
                (b, e, *t)
            });
            if let Op::Insert(..) = op {
                let got = db.insert(key, v.new_value(), *t, 7).map(owned_model);
                assert_eq!(got, old.map(|(b, e, _)| (b, e)));
            } else {
                assert_eq!(db.put(key, v.new_value(), *t, 7), old.is_some());
            }
            assert_eq!(db.get(key).map(|e| e.lru()), Some(7));
        }
        Op::Remove(k) => {
            let got = db.remove(&keys[*k]).map(|(v, at)| (owned_model(v), at));
            let want = model.remove(&keys[*k]).map(|(b, e, at)| ((b, e), at));
            assert_eq!(got, want);
        }
        Op::RemoveViaEntry(k) => {
            let got = db
                .get_mut(&keys[*k])
                .map(|e| e.remove())
                .map(|(v, at)| (owned_model(v), at));
            let want = model.remove(&keys[*k]).map(|(b, e, at)| ((b, e), at));
            assert_eq!(got, want);
        }
        Op::Get(k) => {
            let got = db.get(&keys[*k]).map(|e| (as_model(e.value()), e.expire_at()));
            let want = model.get(&keys[*k]).map(|(b, e, at)| ((b.clone(), *e), *at));
            assert_eq!(got, want);
        }
        Op::SetExpire(k, t) => {
            if let Some(mut e) = db.get_mut(&keys[*k]) {
                e.set_expire(*t);
                model.get_mut(&keys[*k]).expect("in model").2 = *t;
            } else {
                assert!(!model.contains_key(&keys[*k]));
            }
        }
        Op::SetValue(k, v) | Op::ReplaceValue(k, v) => {
            if let Some(mut e) = db.get_mut(&keys[*k]) {
                let m = model.get_mut(&keys[*k]).expect("in model");
                let (b, enc) = v.model();
                if let Op::ReplaceValue(..) = op {
                    assert_eq!(owned_model(e.replace_value(v.new_value())), (m.0.clone(), m.1));
                } else {
                    e.set_value(v.new_value());
                }
                (m.0, m.1) = (b, enc);
            } else {
                assert!(!model.contains_key(&keys[*k]));
            }
        }
        Op::Append(k, bytes) => {
            if let Some(mut e) = db.get_mut(&keys[*k]) {
                e.string_mut().expect("a string").extend_from_slice(bytes);
                let m = model.get_mut(&keys[*k]).expect("in model");
                m.0.extend_from_slice(bytes);
                m.1 = StrEncoding::Raw;
            }
        }
        Op::Bulk(base, n, t) => {
            for i in 0..*n {
                let key = bulk_key(*base, i);
                db.insert(&key, NewValue::Int(i64::from(i)), *t, 0);
                model.insert(key.clone(), (i.to_string().into_bytes(), StrEncoding::Int, *t));
                bulk.push(key);
            }
        }
        Op::DropBulk => {
            for key in bulk.drain(..) {
                let got = db.remove(&key).is_some();
                assert_eq!(got, model.remove(&key).is_some());
            }
        }
        Op::TryShrink => {
            db.try_shrink();
        }
        Op::Rehash(n) => {
            db.rehash_steps(usize::from(*n));
        }
        Op::ExpireCycle(now) => {
            let mut gone = Vec::new();
            let stats = expire_cycle(
                db,
                *now,
                &ExpireParams::default(),
                || false,
                |k, v| gone.push((k.to_vec(), owned_model(v))),
            );
            assert_eq!(stats.expired as usize, gone.len());
            for (k, v) in gone {
                let (b, e, at) = model.remove(&k).expect("expired key was in the model");
                assert!(at.is_some_and(|at| at < *now), "only past deadlines expire");
                assert_eq!(v, (b, e));
            }
        }
        Op::Clear => {
            let old = db.clear();
            assert_eq!(old.len(), model.len());
            model.clear();
            bulk.clear();
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn db_matches_hashmap_model((keys, ops) in scenario()) {
        let mut db = Db::new();
        let mut model = HashMap::new();
        let mut bulk = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            apply(&mut db, &mut model, &keys, &mut bulk, op);
            prop_assert_eq!(db.len(), model.len());
            if i % 8 == 0 {
                compare(&db, &model);
            }
        }
        compare(&db, &model);
    }

    #[test]
    fn scan_returns_every_stable_key_across_resizes(
        initial in 0usize..if cfg!(miri) { 40 } else { 300 },
        steps in prop::collection::vec(
            (0u8..6, 0usize..if cfg!(miri) { 60 } else { 400 }, any::<u8>()),
            1..if cfg!(miri) { 12 } else { 64 },
        ),
        seed in any::<u64>(),
    ) {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut db = Db::new();
        let mut next = 0usize;
        let mut live: Vec<usize> = Vec::new();
        let mut insert = |db: &mut Db, live: &mut Vec<usize>, ever: &mut HashSet<Key>| {
            let key = format!("key:{next}").into_bytes();
            db.insert(&key, NewValue::Int(next as i64), None, 0);
            ever.insert(key);
            live.push(next);
            next += 1;
        };
        let mut ever = HashSet::new();
        for _ in 0..initial {
            insert(&mut db, &mut live, &mut ever);
        }
        // Randomly half-way through a resize at the start, sometimes.
        db.rehash_steps(usize::from(steps[0].2 % 3));
        let at_start: HashSet<Key> = ever.clone();
        let mut removed = HashSet::new();
        let mut returned = HashSet::new();
        let mut cursor = 0;
        let mut calls = 0usize;
        loop {
            cursor = db.scan(cursor, |e| { returned.insert(e.key().to_vec()); });
            calls += 1;
            prop_assert!(calls < 1_000_000, "scan does not terminate");
            if cursor == 0 {
                break;
            }
            // Mutate during a bounded prefix of the scan: a table that grows faster than the
            // scan advances keeps adding buckets ahead of the cursor, and the scan never ends.
            if calls > 2 * steps.len() {
                continue;
            }
            let (kind, n, extra) = steps[calls % steps.len()];
            match kind {
                // Grow: add many keys.
                0 | 1 => for _ in 0..n { insert(&mut db, &mut live, &mut ever) },
                // Shrink: remove most keys, then try to shrink.
                2 => {
                    let keep = live.len() / (usize::from(extra % 8) + 2);
                    while live.len() > keep {
                        let i = live.swap_remove(rand::Rng::gen_range(&mut rng, 0..live.len()));
                        let key = format!("key:{i}").into_bytes();
                        prop_assert!(db.remove(&key).is_some());
                        removed.insert(key);
                    }
                    db.try_shrink();
                }
                3 => { db.try_shrink(); }
                4 => { db.rehash_steps(n % 50); }
                _ => {
                    for _ in 0..usize::from(extra % 4) {
                        insert(&mut db, &mut live, &mut ever);
                    }
                }
            }
        }
        for k in at_start.difference(&removed) {
            prop_assert!(returned.contains(k), "missed {:?}", String::from_utf8_lossy(k));
        }
        for k in &returned {
            prop_assert!(ever.contains(k), "returned a key that never existed");
        }
        db.check();
    }
}

/// A snapshot's image: each entry as `key=value` with a length prefix, so it can be parsed back.
fn image_writer() -> super::EntryWriter {
    Box::new(|e, out| {
        let v = match e.value() {
            ValueRef::Int(i) => i.to_string().into_bytes(),
            ValueRef::Str(s, _) => s.to_vec(),
            ValueRef::Obj(_) => b"obj".to_vec(),
        };
        let rec = [e.key(), b"=", &v].concat();
        out.extend_from_slice(&(rec.len() as u32).to_le_bytes());
        out.extend_from_slice(&rec);
    })
}

fn parse_image(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut recs = vec![];
    while bytes.len() >= 4 {
        let n = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        recs.push(bytes[4..4 + n].to_vec());
        bytes = &bytes[4 + n..];
    }
    recs
}

#[derive(Debug, Clone)]
enum SnapOp {
    Put(u16, u8),
    Remove(u16),
    Expire(u16),
    Walk(u8),
    Clear,
}

fn snap_op() -> impl Strategy<Value = SnapOp> {
    prop_oneof![
        4 => (0u16..400, any::<u8>()).prop_map(|(k, v)| SnapOp::Put(k, v)),
        2 => (0u16..400).prop_map(SnapOp::Remove),
        1 => (0u16..400).prop_map(SnapOp::Expire),
        3 => (1u8..8).prop_map(SnapOp::Walk),
        1 => Just(SnapOp::Clear),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Whatever writes run while a snapshot walks (inserts that would grow the table, overwrites,
    /// deletes, TTL changes, a flush), the image holds exactly the keys present at the cut, each once,
    /// with its value at the cut, also when a rehash was under way at the cut.
    #[test]
    fn a_snapshot_is_the_table_at_the_cut(
        initial in 0usize..300,
        rehash_steps in 0usize..40,
        ops in prop::collection::vec(snap_op(), 0..300),
    ) {
        let mut db = Db::new();
        for i in 0..initial {
            db.put(format!("k{i}").as_bytes(), NewValue::Str(format!("v{i}").as_bytes()), None, 0);
        }
        // Possibly cut in the middle of a rehash.
        db.rehash_steps(rehash_steps);
        let mut want: Vec<Vec<u8>> = db.iter().map(|e| {
            let v = match e.value() { ValueRef::Str(s, _) => s.to_vec(), _ => vec![] };
            [e.key(), b"=", &v].concat()
        }).collect();
        want.sort();
        let started = db.begin_snapshot(0, image_writer());
        prop_assert_eq!(started, initial > 0);
        let mut image = vec![];
        let mut walking = started;
        for op in ops {
            match op {
                SnapOp::Put(k, v) => {
                    db.put(format!("k{k}").as_bytes(), NewValue::Str(&[b'x', v]), None, 0);
                }
                SnapOp::Remove(k) => {
                    db.remove(format!("k{k}").as_bytes());
                }
                SnapOp::Expire(k) => {
                    if let Some(mut e) = db.get_mut(format!("k{k}").as_bytes()) {
                        e.set_expire(Some(5));
                    }
                }
                SnapOp::Walk(n) => {
                    if walking {
                        walking = db.snapshot_step(&mut image, usize::MAX, n as usize);
                    }
                }
                SnapOp::Clear => {
                    drop(db.clear());
                }
            }
            image.extend_from_slice(&db.take_snapshot_early());
        }
        while walking {
            walking = db.snapshot_step(&mut image, usize::MAX, 16);
        }
        image.extend_from_slice(&db.take_snapshot_early());
        db.end_snapshot();
        let mut got = parse_image(&image);
        got.sort();
        prop_assert_eq!(got, want);
    }
}
