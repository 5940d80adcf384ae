//! Model tests: the sorted set (both encodings, promotion, both ordered indexes) against a model made of
//! two `BTreeMap`s, member → score and (score, member) in Redis's order.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;
use crate::storage::object::listpack::validate;

/// A score ordered as Redis orders them (no NaN; `-0 == 0`).
#[derive(Debug, Clone, Copy)]
struct Score(f64);

impl PartialEq for Score {
    fn eq(&self, o: &Self) -> bool {
        self.0 == o.0
    }
}
impl Eq for Score {}
impl PartialOrd for Score {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Score {
    fn cmp(&self, o: &Self) -> Ordering {
        self.0.partial_cmp(&o.0).unwrap_or(Ordering::Equal)
    }
}

/// The model.
#[derive(Default, Debug)]
struct Model {
    scores: BTreeMap<Vec<u8>, f64>,
    order: BTreeSet<(Score, Vec<u8>)>,
}

impl Model {
    fn len(&self) -> usize {
        self.scores.len()
    }
    /// Every entry in order.
    fn entries(&self) -> Vec<(Vec<u8>, f64)> {
        self.order.iter().map(|(s, m)| (m.clone(), s.0)).collect()
    }
    fn rank(&self, m: &[u8]) -> Option<(usize, f64)> {
        let s = *self.scores.get(m)?;
        Some((self.order.range(..(Score(s), m.to_vec())).count(), s))
    }
    fn set(&mut self, m: &[u8], s: f64) {
        self.remove(m);
        self.scores.insert(m.to_vec(), s);
        self.order.insert((Score(s), m.to_vec()));
    }
    fn remove(&mut self, m: &[u8]) -> Option<f64> {
        let s = self.scores.remove(m)?;
        self.order.remove(&(Score(s), m.to_vec()));
        Some(s)
    }
    fn remove_ranks(&mut self, a: usize, n: usize) {
        let doomed: Vec<Vec<u8>> = self.order.iter().skip(a).take(n).map(|(_, m)| m.clone()).collect();
        for m in doomed {
            self.remove(&m);
        }
    }
}

fn contents(z: &ZSet) -> Vec<(Vec<u8>, f64)> {
    z.to_vec()
}

/// Scores as a listpack reads them back: `-0` is stored as the integer 0.
fn same_scores(a: &[(Vec<u8>, f64)], b: &[(Vec<u8>, f64)]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.0 == y.0 && x.1 == y.1)
}

#[derive(Debug, Clone)]
enum Op {
    Set(Vec<u8>, f64),
    Remove(Vec<u8>),
    RemoveRanks(usize, usize),
    ScoreRange(f64, f64, bool, bool),
    LexRange(u8, u8, bool, bool),
    Visit(usize, usize, bool),
    Rank(Vec<u8>),
}

fn member() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (0u32..60).prop_map(|i| format!("m{i}").into_bytes()),
        (-20i64..20).prop_map(|i| i.to_string().into_bytes()),
        prop::collection::vec(b'a'..b'e', 0..4),
        prop::collection::vec(any::<u8>(), 6..12),
    ]
}

fn score() -> impl Strategy<Value = f64> {
    prop_oneof![
        (-5i32..5).prop_map(|i| i as f64),
        (-50i32..50).prop_map(|i| i as f64 / 4.0),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        Just(4611686018427387904.0),
        Just(4611686018427388928.0),
        any::<f64>().prop_filter("not NaN", |f| !f.is_nan()),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (member(), score()).prop_map(|(m, s)| Op::Set(m, s)),
        2 => member().prop_map(Op::Remove),
        1 => (0usize..40, 0usize..8).prop_map(|(a, n)| Op::RemoveRanks(a, n)),
        1 => (score(), score(), any::<bool>(), any::<bool>()).prop_map(|(a, b, x, y)| Op::ScoreRange(a, b, x, y)),
        1 => (b'`'..b'g', b'`'..b'g', any::<bool>(), any::<bool>()).prop_map(|(a, b, x, y)| Op::LexRange(a, b, x, y)),
        1 => (0usize..50, 0usize..50, any::<bool>()).prop_map(|(a, n, r)| Op::Visit(a, n, r)),
        1 => member().prop_map(Op::Rank),
    ]
}

fn lex_bound(c: u8, excl: bool) -> LexBound {
    match c {
        b'`' => LexBound::Min,
        b'g' => LexBound::Max,
        _ if excl => LexBound::Excl(vec![c]),
        _ => LexBound::Incl(vec![c]),
    }
}

fn run(ops: Vec<Op>, lim: Limits) -> Result<(), TestCaseError> {
    let mut z = ZSet::for_new_key(0, lim);
    let mut model = Model::default();
    let mut was_large = z.encoding() == "skiplist";
    for op in ops {
        match op {
            Op::Set(m, s) => {
                // (-0 and 0 compare equal, so a listpack storing -0 as 0 agrees with the model.)
                match z.score(&m) {
                    Some(_) => z.set_score(&m, s),
                    None => z.insert(&m, s, lim),
                }
                model.set(&m, s);
                // Promotion happens exactly when Redis's would.
                let too_long = model.scores.keys().any(|x| x.len() > lim.value);
                if !was_large {
                    prop_assert_eq!(
                        z.encoding() == "skiplist",
                        model.len() > lim.entries || too_long,
                        "promotion rule"
                    );
                }
            }
            Op::Remove(m) => {
                prop_assert_eq!(z.remove(&m), model.remove(&m));
            }
            Op::RemoveRanks(a, n) => {
                z.remove_ranks(a..a + n);
                model.remove_ranks(a, n);
            }
            Op::ScoreRange(a, b, x, y) => {
                let r = ScoreRange {
                    min: a,
                    max: b,
                    minex: x,
                    maxex: y,
                };
                let got = z.score_ranks(&r);
                let all = model.entries();
                let want: Vec<usize> = (0..all.len())
                    .filter(|&i| !r.is_void() && r.gte_min(all[i].1) && r.lte_max(all[i].1))
                    .collect();
                match (want.first(), want.last()) {
                    (Some(&f), Some(&l)) => prop_assert_eq!(got, f..l + 1),
                    _ => prop_assert!(got.is_empty()),
                }
            }
            Op::LexRange(a, b, x, y) => {
                // Lex ranges are meaningful over equal scores: test them on a copy with every score 0.
                let mut flat = ZSet::default();
                let members: Vec<Vec<u8>> = model.scores.keys().cloned().collect();
                for m in &members {
                    flat.insert(
                        m,
                        0.0,
                        Limits {
                            entries: lim.entries,
                            value: lim.value,
                        },
                    );
                }
                let r = LexRange {
                    min: lex_bound(a, x),
                    max: lex_bound(b, y),
                };
                let got = flat.lex_ranks(&r);
                let want: Vec<usize> = (0..members.len())
                    .filter(|&i| !r.is_void() && r.gte_min(&members[i]) && r.lte_max(&members[i]))
                    .collect();
                match (want.first(), want.last()) {
                    (Some(&f), Some(&l)) => prop_assert_eq!(got, f..l + 1),
                    _ => prop_assert!(got.is_empty(), "{:?} {:?}", got, r),
                }
            }
            Op::Visit(a, n, rev) => {
                let mut got = vec![];
                z.visit(a..a + n, rev, |m, s| {
                    got.push((m.to_vec(), s));
                    true
                });
                let mut want: Vec<(Vec<u8>, f64)> = model.entries().into_iter().skip(a).take(n).collect();
                if rev {
                    want.reverse();
                }
                prop_assert!(same_scores(&got, &want), "{:?} vs {:?}", got, want);
            }
            Op::Rank(m) => {
                prop_assert_eq!(z.rank(&m), model.rank(&m));
            }
        }
        was_large = z.encoding() == "skiplist";
        prop_assert_eq!(z.len(), model.len());
        match &z {
            ZSet::Listpack(lp) => prop_assert!(validate(lp.as_bytes()).is_ok()),
            ZSet::Large(l) => l.0.index.check(),
        }
    }
    prop_assert!(same_scores(&contents(&z), &model.entries()));
    // Iteration (digest order does not matter) and scans see every member once.
    let mut it: Vec<(Vec<u8>, f64)> = z.iter().map(|(m, s)| (m.as_ref().to_vec(), s)).collect();
    it.sort_by(|a, b| a.0.cmp(&b.0));
    let want: Vec<(Vec<u8>, f64)> = model.scores.iter().map(|(m, s)| (m.clone(), *s)).collect();
    prop_assert!(same_scores(&it, &want));
    let mut scanned = vec![];
    let mut cursor = 0;
    loop {
        cursor = z.scan(cursor, |m, s| scanned.push((m.to_vec(), s)));
        if cursor == 0 {
            break;
        }
    }
    scanned.sort_by(|a, b| a.0.cmp(&b.0));
    prop_assert!(same_scores(&scanned, &want));
    // The running byte count of the member nodes is exact.
    if let ZSet::Large(l) = &z {
        let sum: usize = l.0.dict.nodes().map(|n| size_class(n.alloc_size())).sum();
        prop_assert_eq!(l.0.node_bytes, sum);
    }
    // A copy is equal and independent.
    let c = z.clone();
    prop_assert!(same_scores(&contents(&c), &model.entries()));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn behaves_like_the_model_small_limits(ops in prop::collection::vec(op(), 0..200)) {
        run(ops, Limits { entries: 8, value: 6 })?;
    }

    #[test]
    fn behaves_like_the_model_default_limits(ops in prop::collection::vec(op(), 0..300)) {
        run(ops, DEFAULT_LIMITS)?;
    }

    #[test]
    fn behaves_like_the_model_large_from_the_start(ops in prop::collection::vec(op(), 0..300)) {
        run(ops, Limits { entries: 0, value: 64 })?;
    }
}

/// The ordered index, driven directly with many entries and range removals.
fn index_ops(seed: u64) {
    let mut rng = seed | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut s = Sorted::default();
    let mut model = Model::default();
    for round in 0..3000 {
        let k = next() % 400;
        let m = format!("k{k}").into_bytes();
        let score = (next() % 50) as f64;
        match next() % 10 {
            0..=5 => {
                if s.score(&m).is_some() {
                    s.set_score(&m, score);
                } else {
                    s.insert(&m, score);
                }
                model.set(&m, score);
            }
            6 | 7 => {
                assert_eq!(s.remove(&m), model.remove(&m));
            }
            8 => {
                let a = (next() % (model.len() as u64 + 1)) as usize;
                let n = (next() % 40) as usize;
                s.remove_ranks(a..a + n);
                model.remove_ranks(a, n);
            }
            _ => {
                let r = (next() % (model.len() as u64 + 1)) as usize;
                let all = model.entries();
                let want = all.get(r).map(|(m, s)| (m.as_slice(), *s));
                assert_eq!(s.get(r), want);
            }
        }
        assert_eq!(s.len(), model.len(), "round {round}");
    }
    let mut got = vec![];
    s.visit(0..s.len(), false, |m, sc| {
        got.push((m.to_vec(), sc));
        true
    });
    assert_eq!(got, model.entries());
    for (i, (m, sc)) in model.entries().iter().enumerate() {
        assert_eq!(s.rank(m), Some((i, *sc)));
    }
}

#[test]
fn btree_index_against_the_model() {
    for seed in 1..6 {
        index_ops(seed);
    }
}

#[test]
fn btree_stays_valid_under_sequential_patterns() {
    let mut s = Sorted::default();
    for i in 0..500 {
        s.insert(format!("{i:05}").as_bytes(), i as f64);
        s.index.check();
    }
    for i in (500..1000).rev() {
        s.insert(format!("{i:05}").as_bytes(), -(i as f64));
        s.index.check();
    }
    for r in [0..10, 100..300, 400..990, 0..1] {
        s.remove_ranks(r);
        s.index.check();
    }
    while !s.is_empty() {
        let (m, _) = s.get(s.len() / 2).map(|(m, s)| (m.to_vec(), s)).expect("present");
        s.remove(&m);
        s.index.check();
    }
}

#[test]
fn listpack_scores_use_redis_bytes() {
    // Bytes taken from DUMP of the same ZADD on redis-server 7.0 (rdbcompression off): integral scores
    // within ±2^62 are integers (-0 included), others are their %.17g text.
    let mut z = ZSet::default();
    let lim = DEFAULT_LIMITS;
    for (m, s) in [
        ("b", -4611686018427387904.0),
        ("a", 4611686018427387904.0),
        ("c", 4611686018427388928.0),
        ("m", -0.0),
        ("q", 0.5),
        ("i", f64::INFINITY),
        ("j", f64::NEG_INFINITY),
    ] {
        z.insert(m.as_bytes(), s, lim);
    }
    let lp = z.as_listpack().expect("small");
    let items: Vec<String> = lp
        .iter()
        .map(|i| match i {
            LpItem::Int(v) => format!("#{v}"),
            LpItem::Str(s) => String::from_utf8_lossy(s).into_owned(),
        })
        .collect();
    assert_eq!(
        items,
        [
            "j",
            "-inf",
            "b",
            "#-4611686018427387904",
            "m",
            "#0",
            "q",
            "0.5",
            "a",
            "#4611686018427387904",
            "c",
            "4.6116860184273889e+18",
            "i",
            "inf"
        ]
    );
    assert_eq!(z.score(b"m").map(|s| s.is_sign_negative()), Some(false));
}

#[test]
fn promotion_thresholds() {
    let lim = Limits { entries: 3, value: 4 };
    assert_eq!(ZSet::for_new_key(4, lim).encoding(), "listpack");
    assert_eq!(ZSet::for_new_key(5, lim).encoding(), "skiplist");
    assert_eq!(
        ZSet::for_new_key(1, Limits { entries: 0, value: 4 }).encoding(),
        "skiplist"
    );
    let mut z = ZSet::for_new_key(1, lim);
    for m in ["a", "b", "c"] {
        z.insert(m.as_bytes(), 1.0, lim);
    }
    assert_eq!(z.encoding(), "listpack");
    z.insert(b"d", 1.0, lim);
    assert_eq!(z.encoding(), "skiplist");
    let mut z = ZSet::for_new_key(1, lim);
    z.insert(b"abcd", 1.0, lim);
    assert_eq!(z.encoding(), "listpack");
    z.insert(b"abcde", 1.0, lim);
    assert_eq!(z.encoding(), "skiplist");
    let items = [("a", 1.0), ("b", 2.0), ("c", 3.0)];
    assert_eq!(ZSet::from_sorted(&items, lim).encoding(), "listpack");
    assert_eq!(
        ZSet::from_sorted(&items[..2], Limits { entries: 1, value: 4 }).encoding(),
        "skiplist"
    );
    assert_eq!(ZSet::from_sorted(&[("abcde", 1.0)], lim).encoding(), "skiplist");
}

#[test]
fn stores_build_like_redis() {
    let lim = Limits { entries: 3, value: 4 };
    // Entries inserted while the result is still a listpack lose the sign of -0.
    let items = [("a", -0.0), ("bbbbb", 1.0), ("c", -0.0)];
    let z = ZSet::build_in_order(&items, items.len(), lim);
    assert_eq!(z.encoding(), "skiplist");
    assert!(!z.score(b"a").expect("a").is_sign_negative());
    assert!(z.score(b"c").expect("c").is_sign_negative());
    // Created large up front (the size is known and too big): every sign is kept.
    let z = ZSet::build_in_order(&items, 10, lim);
    assert!(z.score(b"a").expect("a").is_sign_negative());
    // A result sized at the end: large keeps -0, listpack drops it.
    assert!(ZSet::from_sorted(&items, lim)
        .score(b"a")
        .expect("a")
        .is_sign_negative());
    let small = [("a", -0.0)];
    assert!(!ZSet::from_sorted(&small, lim)
        .score(b"a")
        .expect("a")
        .is_sign_negative());
}

#[test]
fn listpacks_from_files_are_checked() {
    let ok = Listpack::from_items([
        LpItem::Str(b"a"),
        LpItem::Int(1),
        LpItem::Str(b"b"),
        LpItem::Str(b"2.5"),
    ]);
    assert_eq!(ZSet::from_listpack(ok).map(|z| z.len()), Ok(2));
    let odd = Listpack::from_items([LpItem::Str(b"a"), LpItem::Int(1), LpItem::Str(b"b")]);
    assert!(ZSet::from_listpack(odd).is_err());
    let nan = Listpack::from_items([LpItem::Str(b"a"), LpItem::Str(b"nan")]);
    assert!(ZSet::from_listpack(nan).is_err());
    let text = Listpack::from_items([LpItem::Str(b"a"), LpItem::Str(b"x")]);
    assert!(ZSet::from_listpack(text).is_err());
    let twice = Listpack::from_items([LpItem::Str(b"a"), LpItem::Int(1), LpItem::Str(b"a"), LpItem::Int(2)]);
    assert!(ZSet::from_listpack(twice).is_err());
}
