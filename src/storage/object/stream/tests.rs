use super::node::{self, FLAG_DELETED, FLAG_SAMEFIELDS};
use super::*;
use proptest::prelude::*;

fn id(ms: u64, seq: u64) -> StreamId {
    StreamId::new(ms, seq)
}

fn small() -> NodeLimits {
    NodeLimits {
        max_bytes: 4096,
        max_entries: 3,
    }
}

fn fields_of(e: &Entry<'_>) -> Vec<Vec<u8>> {
    e.fields().flat_map(|(f, v)| [f.to_vec(), v.to_vec()]).collect()
}

fn ids(s: &Stream, start: StreamId, end: StreamId, rev: bool) -> Vec<StreamId> {
    s.range(start, end, rev).map(|e| e.id).collect()
}

/// Every element of every node, as integers or strings, for layout checks.
fn elements(lp: &Lp) -> Vec<String> {
    lp.iter()
        .map(|i| match i {
            LpItem::Int(n) => n.to_string(),
            LpItem::Str(s) => String::from_utf8_lossy(s).into_owned(),
        })
        .collect()
}

#[test]
fn node_layout_is_redis_s() {
    let mut s = Stream::new();
    s.append(id(100, 0), &[b"f", b"v"], NodeLimits::default());
    s.append(id(105, 2), &[b"f", b"w"], NodeLimits::default());
    s.append(id(105, 3), &[b"a", b"1", b"b", b"2"], NodeLimits::default());
    let (k, lp) = s.nodes().next().unwrap();
    assert_eq!(*k, id(100, 0));
    // count deleted num-fields field 0 | flags ms seq value lp-count | ... | flags ms seq nf f v f v lp-count
    assert_eq!(
        elements(lp),
        [
            "3", "0", "1", "f", "0", // master
            "2", "0", "0", "v", "4", // SAMEFIELDS entry: 3 + 1 value
            "2", "5", "2", "w", "4", // same fields, ms/seq as differences
            "0", "5", "3", "2", "a", "1", "b", "2", "8", // full entry: 3 + 2 values + 2 fields + 1
        ]
    );
    crate::storage::object::listpack::validate(lp.as_bytes()).unwrap();
    assert_eq!(s.len(), 3);
    assert_eq!(s.first_id, id(100, 0));
    assert_eq!(s.last_id, id(105, 3));
    assert_eq!(s.entries_added, 3);
}

#[test]
fn append_splits_nodes_by_entries_and_bytes() {
    let mut s = Stream::new();
    for i in 1..=7 {
        s.append(id(i, 0), &[b"f", b"v"], small());
    }
    let keys: Vec<StreamId> = s.nodes().map(|(k, _)| *k).collect();
    assert_eq!(keys, [id(1, 0), id(4, 0), id(7, 0)]);
    // Bytes: a node that would reach max_bytes with the new entry's data closes.
    let mut s = Stream::new();
    let big = vec![b'x'; 100];
    let limits = NodeLimits {
        max_bytes: 300,
        max_entries: 0,
    };
    for i in 1..=6 {
        s.append(id(i, 0), &[b"f", &big], limits);
    }
    assert!(s.node_count() >= 2);
    for (_, lp) in s.nodes() {
        assert!(lp.total_bytes() < 300 + 120, "{}", lp.total_bytes());
    }
    assert_eq!(ids(&s, StreamId::MIN, StreamId::MAX, false).len(), 6);
}

#[test]
fn ranges_both_ways_across_nodes() {
    let mut s = Stream::new();
    for i in 1..=10 {
        let v = i.to_string();
        s.append(id(i, i), &[b"k", v.as_bytes()], small());
    }
    let all: Vec<StreamId> = (1..=10).map(|i| id(i, i)).collect();
    assert_eq!(ids(&s, StreamId::MIN, StreamId::MAX, false), all);
    let mut rev = all.clone();
    rev.reverse();
    assert_eq!(ids(&s, StreamId::MIN, StreamId::MAX, true), rev);
    assert_eq!(ids(&s, id(3, 0), id(5, 5), false), [id(3, 3), id(4, 4), id(5, 5)]);
    assert_eq!(ids(&s, id(3, 4), id(5, 4), true), [id(4, 4)]);
    assert!(ids(&s, id(6, 0), id(5, 0), false).is_empty());
    let e = s.get(id(7, 7)).unwrap();
    assert_eq!(fields_of(&e), [b"k".to_vec(), b"7".to_vec()]);
    assert!(s.get(id(7, 6)).is_none());
}

#[test]
fn delete_flags_entries_and_drops_empty_nodes() {
    let mut s = Stream::new();
    for i in 1..=6 {
        s.append(id(i, 0), &[b"f", b"v"], small());
    }
    assert!(s.delete_entry(id(2, 0)));
    assert!(!s.delete_entry(id(2, 0)), "already deleted");
    assert!(!s.delete_entry(id(9, 0)));
    let (_, lp) = s.nodes().next().unwrap();
    let m = node::master(lp);
    assert_eq!((m.count, m.deleted), (2, 1));
    let e = node::read_entry(
        lp,
        id(1, 0),
        &m,
        node::next_entry(lp, &node::read_entry(lp, id(1, 0), &m, m.first_entry.unwrap())).unwrap(),
    );
    assert_eq!(e.flags, FLAG_SAMEFIELDS | FLAG_DELETED);
    assert_eq!(
        ids(&s, StreamId::MIN, StreamId::MAX, false),
        [id(1, 0), id(3, 0), id(4, 0), id(5, 0), id(6, 0)]
    );
    assert_eq!(
        ids(&s, StreamId::MIN, StreamId::MAX, true),
        [id(6, 0), id(5, 0), id(4, 0), id(3, 0), id(1, 0)]
    );
    // The last live entry of a node takes the node with it.
    assert_eq!(s.delete_ids(&[id(1, 0), id(3, 0)]), 2);
    assert_eq!(s.node_count(), 1);
    assert_eq!(s.first_id, id(4, 0));
    assert_eq!(s.max_deleted_entry_id, id(3, 0));
    assert_eq!(s.len(), 3);
    assert_eq!(s.delete_ids(&[id(4, 0), id(5, 0), id(6, 0)]), 3);
    assert_eq!((s.len(), s.node_count(), s.first_id), (0, 0, StreamId::MIN));
    assert_eq!(s.last_id, id(6, 0));
}

#[test]
fn trimming_exact_and_approximate_at_node_boundaries() {
    let build = || {
        let mut s = Stream::new();
        for i in 1..=10 {
            s.append(id(i, 0), &[b"f", b"v"], small());
        }
        s
    };
    // Approximate: only whole nodes ([1..3] [4..6] [7..9] [10]).
    let mut s = build();
    let t = |by, approx| Trim { by, approx, limit: 0 };
    assert_eq!(s.trim(t(TrimBy::MaxLen(5), true)), 3);
    assert_eq!(s.len(), 7);
    assert_eq!(s.first_id, id(4, 0));
    assert_eq!(s.trim(t(TrimBy::MaxLen(5), true)), 0);
    // Exact: whole nodes, then flags inside the next one.
    let mut s = build();
    assert_eq!(s.trim(t(TrimBy::MaxLen(5), false)), 5);
    assert_eq!(
        ids(&s, StreamId::MIN, StreamId::MAX, false),
        (6..=10).map(|i| id(i, 0)).collect::<Vec<_>>()
    );
    assert_eq!(s.first_id, id(6, 0));
    let (k, lp) = s.nodes().next().unwrap();
    assert_eq!(*k, id(4, 0));
    let m = node::master(lp);
    assert_eq!((m.count, m.deleted), (1, 2));
    // MINID: nodes whose last entry is below the ID go whole; exact trims inside.
    let mut s = build();
    assert_eq!(s.trim(t(TrimBy::MinId(id(5, 0)), true)), 3);
    assert_eq!(s.trim(t(TrimBy::MinId(id(5, 0)), false)), 1);
    assert_eq!(s.first_id, id(5, 0));
    // LIMIT stops before a node that would exceed it.
    let mut s = build();
    let limited = Trim {
        by: TrimBy::MaxLen(0),
        approx: true,
        limit: 5,
    };
    assert_eq!(s.trim(limited), 3);
    // Trim everything.
    let mut s = build();
    assert_eq!(s.trim(t(TrimBy::MaxLen(0), false)), 10);
    assert_eq!((s.len(), s.node_count(), s.first_id), (0, 0, StreamId::MIN));
}

#[test]
fn ids_parse_like_redis() {
    let plain = IdSyntax {
        missing_seq: 0,
        strict: false,
        seq_star: false,
    };
    let p = |s: &str, syn| StreamId::parse(s.as_bytes(), syn).map(|p| p.id);
    assert_eq!(p("1-2", plain), Some(id(1, 2)));
    assert_eq!(p("5", plain), Some(id(5, 0)));
    assert_eq!(
        p(
            "5",
            IdSyntax {
                missing_seq: u64::MAX,
                ..plain
            }
        ),
        Some(id(5, u64::MAX))
    );
    assert_eq!(p("-", plain), Some(StreamId::MIN));
    assert_eq!(p("+", plain), Some(StreamId::MAX));
    assert_eq!(p("-", IdSyntax { strict: true, ..plain }), None);
    // strtoull's leniency, as Redis falls back to it.
    assert_eq!(p(" 5", plain), Some(id(5, 0)));
    assert_eq!(p("+6", plain), Some(id(6, 0)));
    assert_eq!(p("007-1", plain), Some(id(7, 1)));
    assert_eq!(p("10- -1", plain), Some(id(10, u64::MAX)));
    assert_eq!(p("9--0", plain), Some(id(9, 0)));
    assert_eq!(p("9--1", plain), None);
    assert_eq!(
        p("18446744073709551615-18446744073709551615", plain),
        Some(StreamId::MAX)
    );
    assert_eq!(p("18446744073709551616", plain), None);
    for bad in ["", "x", "1-x", "1-2-3", "5 ", "-5", "1-", "(1"] {
        assert_eq!(p(bad, plain), None, "{bad}");
    }
    assert_eq!(p("1-*", plain), None);
    let star = StreamId::parse(
        b"7-*",
        IdSyntax {
            seq_star: true,
            ..plain
        },
    )
    .unwrap();
    assert_eq!((star.id, star.seq_given), (id(7, 0), false));
    assert_eq!(p(&"1".repeat(128), plain), None);
    assert_eq!(StreamId::parse(b"5\0junk", plain).map(|p| p.id), Some(id(5, 0)));
}

#[test]
fn rax_node_counts() {
    let mut s = Stream::new();
    assert_eq!(s.rax_nodes(), 1);
    s.append(id(1, 1), &[b"f", b"v"], small());
    assert_eq!(s.rax_nodes(), 2);
    for i in 2..=4 {
        s.append(
            id(i, 0),
            &[b"f", b"v"],
            NodeLimits {
                max_bytes: 0,
                max_entries: 1,
            },
        );
    }
    // Keys differ only in byte 7: root (compressed), one branching node, four children, four leaves.
    assert_eq!(s.rax_nodes(), 10);
}

#[derive(Debug, Clone)]
enum Op {
    Add(u8, bool),
    Del(usize),
    Trim(u8, bool),
    MinId(usize, bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..4, any::<bool>()).prop_map(|(n, same)| Op::Add(n, same)),
        2 => any::<usize>().prop_map(Op::Del),
        1 => (0u8..20, any::<bool>()).prop_map(|(n, a)| Op::Trim(n, a)),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(n, a)| Op::MinId(n, a)),
    ]
}

proptest! {
    /// Appends, deletes and trims against a `BTreeMap` model: contents, both directions, metadata.
    #[test]
    fn behaves_like_an_ordered_map(ops in prop::collection::vec(op(), 1..120), entries in 1u64..6) {
        let limits = NodeLimits { max_bytes: 200, max_entries: entries };
        let mut s = Stream::new();
        let mut model: BTreeMap<StreamId, Vec<Vec<u8>>> = BTreeMap::new();
        let mut next = 1u64;
        for op in ops {
            match op {
                Op::Add(n, same) => {
                    let fields: Vec<Vec<u8>> = (0..n.max(1))
                        .flat_map(|i| {
                            let f = if same { format!("f{i}") } else { format!("g{next}{i}") };
                            [f.into_bytes(), format!("{}", next * 10 + i as u64).into_bytes()]
                        })
                        .collect();
                    let refs: Vec<&[u8]> = fields.iter().map(|f| &f[..]).collect();
                    let i = id(next / 3, next % 3);
                    next += 1;
                    s.append(i, &refs, limits);
                    model.insert(i, fields);
                }
                Op::Del(k) if !model.is_empty() => {
                    let victim = *model.keys().nth(k % model.len()).unwrap();
                    prop_assert_eq!(s.delete_ids(&[victim]), 1);
                    model.remove(&victim);
                }
                Op::Trim(n, approx) => {
                    let before = s.len();
                    let removed = s.trim(Trim { by: TrimBy::MaxLen(n as u64), approx, limit: 0 });
                    prop_assert_eq!(before - removed, s.len());
                    if !approx {
                        prop_assert!(s.len() <= n as u64);
                    }
                    while model.len() as u64 > s.len() {
                        let k = *model.keys().next().unwrap();
                        model.remove(&k);
                    }
                }
                Op::MinId(k, approx) if !model.is_empty() => {
                    let min = *model.keys().nth(k % model.len()).unwrap();
                    s.trim(Trim { by: TrimBy::MinId(min), approx, limit: 0 });
                    if !approx {
                        model.retain(|k, _| *k >= min);
                    } else {
                        while model.len() as u64 > s.len() {
                            let k = *model.keys().next().unwrap();
                            model.remove(&k);
                        }
                    }
                }
                _ => {}
            }
            prop_assert_eq!(s.len(), model.len() as u64);
            let got: Vec<(StreamId, Vec<Vec<u8>>)> = s.iter().map(|e| (e.id, fields_of(&e))).collect();
            let want: Vec<(StreamId, Vec<Vec<u8>>)> = model.iter().map(|(k, v)| (*k, v.clone())).collect();
            prop_assert_eq!(&got, &want);
            let back: Vec<StreamId> = ids(&s, StreamId::MIN, StreamId::MAX, true);
            let mut want_back: Vec<StreamId> = model.keys().copied().collect();
            want_back.reverse();
            prop_assert_eq!(back, want_back);
            prop_assert_eq!(s.first_id, model.keys().next().copied().unwrap_or(StreamId::MIN));
            let live: i64 = s.nodes().map(|(_, lp)| node::master(lp).count).sum();
            prop_assert_eq!(live as u64, s.len());
            for (_, lp) in s.nodes() {
                prop_assert!(node::master(lp).count > 0);
                prop_assert!(crate::storage::object::listpack::validate(lp.as_bytes()).is_ok());
            }
        }
    }
}
