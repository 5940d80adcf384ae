use std::collections::HashSet;

use proptest::prelude::*;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::table::Table;
use super::*;

fn members(s: &Set) -> HashSet<Vec<u8>> {
    s.iter().map(|m| m.to_vec()).collect()
}

fn check(s: &Set) {
    if let Set::Table(t) = s {
        t.check();
    }
    assert_eq!(s.iter().count(), s.len());
}

#[test]
fn members_are_classified_like_redis_string2ll() {
    assert_eq!(Member::of(b"12"), Member::Int(12));
    assert_eq!(Member::of(b"-9223372036854775808"), Member::Int(i64::MIN));
    for s in [
        &b"012"[..],
        b"+1",
        b"-0",
        b"1 ",
        b"",
        b"9223372036854775808",
        b"1.0",
        b"0x1",
    ] {
        assert_eq!(Member::of(s), Member::Str(s), "{:?}", String::from_utf8_lossy(s));
    }
    assert_eq!(&*Member::Int(-45).bytes(), b"-45");
}

#[test]
fn encodings_follow_redis_7_0() {
    // Created from the first member.
    assert_eq!(Set::for_first(b"1").encoding(), "intset");
    assert_eq!(Set::for_first(b"a").encoding(), "hashtable");
    // A non-integer converts; removing it does not convert back.
    let mut s = Set::for_first(b"1");
    s.add(b"1", 512);
    s.add(b"2", 512);
    assert_eq!(s.encoding(), "intset");
    s.add(b"x", 512);
    assert_eq!(s.encoding(), "hashtable");
    s.remove(b"x");
    assert_eq!(s.encoding(), "hashtable");
    assert_eq!(members(&s), [b"1".to_vec(), b"2".to_vec()].into_iter().collect());
    // The limit: exactly `max` integers stay an intset.
    let mut s = Set::new();
    for i in 0..4 {
        s.add(i.to_string().as_bytes(), 4);
    }
    assert_eq!(s.encoding(), "intset");
    assert!(!s.add(b"3", 4), "a duplicate does not count");
    assert_eq!(s.encoding(), "intset");
    s.add(b"4", 4);
    assert_eq!(s.encoding(), "hashtable");
    assert_eq!(s.len(), 5);
    // With a limit of 0 even one integer is too many.
    let mut s = Set::for_first(b"7");
    s.add(b"7", 0);
    assert_eq!(s.encoding(), "hashtable");
    // Result sets start as intsets and take the encoding of their content.
    let s = Set::from_members([Member::Int(1), Member::Int(2)], 512);
    assert_eq!(s.encoding(), "intset");
    let s = Set::from_members([Member::Int(1), Member::Str(b"a")], 512);
    assert_eq!(s.encoding(), "hashtable");
}

#[test]
fn table_holds_every_kind_of_member() {
    let long = vec![b'x'; 1000];
    let kinds: Vec<&[u8]> = vec![
        b"",
        b"a",
        b"exactly14bytes",
        b"fifteen bytes!!",
        &long,
        b"0",
        b"-1",
        b"9223372036854775807",
        b"-9223372036854775808",
        b"01",
        b"\x00\xff",
    ];
    let mut t = Table::default();
    for k in &kinds {
        assert!(t.insert(Member::of(k)));
        t.check();
    }
    for k in &kinds {
        assert!(!t.insert(Member::of(k)));
        assert!(t.contains(Member::of(k)), "{k:?}");
    }
    assert!(!t.contains(Member::of(b"exactly14byteS")));
    assert!(!t.contains(Member::Str(&long[..999])));
    let copy = t.clone();
    for k in &kinds {
        assert!(t.remove(Member::of(k)));
        t.check();
    }
    assert!(t.is_empty());
    // The clone owns its own copies.
    assert_eq!(copy.len(), kinds.len());
    for k in &kinds {
        assert!(copy.contains(Member::of(k)));
    }
    let got: HashSet<Vec<u8>> = copy.iter().map(|m| m.to_vec()).collect();
    assert_eq!(got, kinds.iter().map(|k| k.to_vec()).collect());
}

#[test]
fn tables_grow_and_shrink() {
    // Smaller under Miri, which checks the slot unions and heap strings through resizes.
    let mut t = Table::default();
    let n = if cfg!(miri) { 300 } else { 30_000 };
    for i in 0..n {
        t.insert(Member::Str(format!("member:{i}").as_bytes()));
        if i % 97 == 0 {
            t.insert(Member::Str(
                format!("a longer member, kept on the heap: {i}").as_bytes(),
            ));
        }
    }
    t.check();
    // Long probe runs must not make it grow early: it is as small as 7/8 full allows.
    let mut expect = 4;
    while expect * 7 / 8 < t.len() {
        expect *= 2;
    }
    assert_eq!(t.slot_count(), expect);
    for i in 0..n - 10 {
        assert!(t.remove(Member::Str(format!("member:{i}").as_bytes())));
    }
    t.check();
    assert!(t.slot_count() <= 2048, "shrank to {}", t.slot_count());
    assert_eq!(t.len(), 10 + (n - 1) / 97 + 1);
}

#[test]
#[cfg_attr(miri, ignore)]
fn random_picks_are_uniform_enough() {
    let mut rng = SmallRng::seed_from_u64(7);
    let mut s = Set::for_first(b"a");
    for m in [&b"a"[..], b"b", b"c", b"d", b"e"] {
        s.add(m, 512);
    }
    let mut counts = std::collections::HashMap::new();
    for _ in 0..50_000 {
        *counts.entry(s.random(&mut rng).map(|m| m.to_vec())).or_insert(0) += 1;
    }
    assert_eq!(counts.len(), 5);
    for (m, n) in counts {
        assert!((8_000..12_000).contains(&n), "{m:?} drawn {n} times");
    }
    let mut ints = Set::new();
    ints.add(b"5", 512);
    assert_eq!(ints.random(&mut rng), Some(Member::Int(5)));
    assert_eq!(ints.pop_random(&mut rng), Some(b"5".to_vec()));
    assert_eq!(ints.random(&mut rng), None);
    assert_eq!(ints.pop_random(&mut rng), None);
}

/// Redis's SCAN guarantee: whatever happens between calls (growth, shrinking, other members coming
/// and going), a member present from the start to the end of a scan is returned at least once.
#[test]
#[cfg_attr(miri, ignore)]
fn scan_returns_every_member_present_throughout() {
    let mut rng = SmallRng::seed_from_u64(11);
    for round in 0..20u32 {
        let mut s = Set::for_first(b"x");
        let stable: Vec<Vec<u8>> = (0..(round * 7 + 5)).map(|i| format!("s{i}").into_bytes()).collect();
        for m in &stable {
            s.add(m, 512);
        }
        let mut seen = HashSet::new();
        let mut transient: Vec<Vec<u8>> = vec![];
        let mut cursor = 0u64;
        let mut step = 0u32;
        loop {
            cursor = s.scan(cursor, |m| {
                seen.insert(m.to_vec());
            });
            step += 1;
            // Churn: grow a lot, then shrink, with members that come and go.
            let grow = (step / 3) & 1 == 0;
            for j in 0..rng.gen_range(0..200) {
                if grow {
                    let m = format!("t{round}.{step}.{j}").into_bytes();
                    s.add(&m, 512);
                    transient.push(m);
                } else if let Some(m) = transient.pop() {
                    s.remove(&m);
                }
            }
            if cursor == 0 {
                break;
            }
            assert!(step < 1_000_000);
        }
        for m in &stable {
            assert!(
                seen.contains(m),
                "round {round}: {:?} missed",
                String::from_utf8_lossy(m)
            );
        }
        check(&s);
    }
}

#[test]
fn an_intset_scans_in_one_step() {
    let s = Set::from_members((0..10).map(Member::Int), 512);
    let mut got = vec![];
    assert_eq!(s.scan(0, |m| got.push(m)), 0);
    assert_eq!(got.len(), 10);
}

#[derive(Debug, Clone)]
enum Op {
    Add(Vec<u8>),
    Remove(Vec<u8>),
    Pop,
}

fn member() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (-20i64..20).prop_map(|i| i.to_string().into_bytes()),
        any::<i64>().prop_map(|i| i.to_string().into_bytes()),
        "[a-d]{0,3}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..40),
        Just(b"007".to_vec()),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => member().prop_map(Op::Add),
        2 => member().prop_map(Op::Remove),
        1 => Just(Op::Pop),
    ]
}

proptest! {
    /// The small inline intset gives the bytes an allocated intset would hold after the same
    /// changes (Redis's width rule included), and moves to an allocated one when it must.
    #[test]
    #[cfg_attr(miri, ignore)]
    fn intset_bytes_match_redis_s_format(ops in prop::collection::vec((any::<bool>(), prop_oneof![
        -50i64..50, any::<i16>().prop_map(i64::from), any::<i32>().prop_map(i64::from), any::<i64>()]), 0..40)) {
        let mut s = Set::new();
        let mut reference = Intset::new();
        for (add, v) in ops {
            let m = v.to_string();
            if add {
                prop_assert_eq!(s.add(m.as_bytes(), 512), reference.insert(v));
            } else {
                prop_assert_eq!(s.remove(m.as_bytes()), reference.remove(v));
            }
            let bytes = s.intset_bytes().map(|b| b.into_owned());
            prop_assert_eq!(bytes.as_deref(), Some(reference.as_bytes()));
        }
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn behaves_like_a_hashset(ops in prop::collection::vec(op(), 0..300), max in 0usize..40, seed: u64) {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut s = Set::new();
        let mut model: HashSet<Vec<u8>> = HashSet::new();
        // Whether the model has ever held a non-integer or too many integers: then the set is a table.
        let mut table = false;
        for op in ops {
            match op {
                Op::Add(m) => {
                    prop_assert_eq!(s.add(&m, max), model.insert(m.clone()));
                    table |= parse_canonical_int(&m).is_none() || model.len() > max;
                }
                Op::Remove(m) => prop_assert_eq!(s.remove(&m), model.remove(&m)),
                Op::Pop => match s.pop_random(&mut rng) {
                    Some(m) => prop_assert!(model.remove(&m)),
                    None => prop_assert!(model.is_empty()),
                },
            }
            prop_assert_eq!(s.len(), model.len());
            prop_assert_eq!(s.encoding(), if table { "hashtable" } else { "intset" });
        }
        check(&s);
        prop_assert_eq!(members(&s), model.clone());
        for m in &model {
            prop_assert!(s.contains(m));
        }
        if let Some(m) = s.random(&mut rng) {
            prop_assert!(model.contains(&m.to_vec()));
        }
        // A full scan without changes returns each member exactly once.
        let mut scanned = vec![];
        let mut cursor = 0;
        loop {
            cursor = s.scan(cursor, |m| scanned.push(m.to_vec()));
            if cursor == 0 {
                break;
            }
        }
        prop_assert_eq!(scanned.len(), model.len());
        prop_assert_eq!(scanned.into_iter().collect::<HashSet<_>>(), model);
    }
}
