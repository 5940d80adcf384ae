//! The measurement behind the choice of ordered index (`docs/zsets.md`): the same large sorted set built
//! over the B+tree and over a skiplist, same member nodes and hash table, timed operation by operation,
//! with the allocator's byte count before and after. Run with `cargo run --release --example zset_index`.

use std::time::Instant;

use super::btree::BTree;
use super::skiplist::SkipList;
use super::{Index, Sorted};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// redis-benchmark's member shape: `element:` and 12 digits.
fn member(k: u64) -> Vec<u8> {
    format!("element:{k:012}").into_bytes()
}

struct Row {
    name: &'static str,
    ns: [f64; 2],
}

fn time<R>(ops: usize, f: impl FnOnce() -> R) -> (f64, R) {
    let t = Instant::now();
    let r = f();
    (t.elapsed().as_nanos() as f64 / ops.max(1) as f64, r)
}

/// Run every workload on `Sorted<I>`; returns (ns per op per workload, bytes per member random, bytes per
/// member sequential).
fn run<I: Index>(n: usize, used: fn() -> u64) -> (Vec<(&'static str, f64)>, f64, f64) {
    let mut out = vec![];
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let keys: Vec<u64> = (0..n).map(|_| rng.next() % (n as u64 * 4)).collect();
    let members: Vec<Vec<u8>> = keys.iter().map(|&k| member(k)).collect();

    let before = used();
    let mut s: Sorted<I> = Sorted::default();
    let (ns, _) = time(n, || {
        for (i, m) in members.iter().enumerate() {
            let score = (keys[i] % 1000) as f64;
            if s.score(m).is_none() {
                s.insert(m, score);
            }
        }
    });
    out.push(("insert random (ZADD new)", ns));
    let mem_random = (used() - before) as f64 / s.len() as f64;

    let (ns, _) = time(n, || {
        let mut acc = 0.0;
        for m in &members {
            acc += s.score(m).unwrap_or(0.0);
        }
        acc
    });
    out.push(("score lookup (ZSCORE)", ns));

    let probes = n.min(200_000);
    let (ns, _) = time(probes, || {
        let mut acc = 0;
        for m in members.iter().take(probes) {
            acc += s.rank(m).map_or(0, |r| r.0);
        }
        acc
    });
    out.push(("rank (ZRANK)", ns));

    let (ns, _) = time(probes, || {
        let mut acc = 0.0;
        for _ in 0..probes {
            let r = (rng.next() % s.len() as u64) as usize;
            acc += s.get(r).map_or(0.0, |e| e.1);
        }
        acc
    });
    out.push(("entry at rank", ns));

    let (ns, _) = time(probes, || {
        let mut acc = 0usize;
        for _ in 0..probes {
            let lo = (rng.next() % 1000) as f64;
            acc += s.partition_point(|sc, _| sc < lo);
        }
        acc
    });
    out.push(("score interval start (ZCOUNT half)", ns));

    let walks = probes / 10;
    let (ns, _) = time(walks * 10, || {
        let mut acc = 0.0;
        for _ in 0..walks {
            let r = (rng.next() % s.len() as u64) as usize;
            s.visit(r..r + 10, false, |_, sc| {
                acc += sc;
                true
            });
        }
        acc
    });
    out.push(("walk 10 from a rank (per entry)", ns));

    let (ns, _) = time(probes, || {
        for m in members.iter().take(probes) {
            if let Some(sc) = s.score(m) {
                s.set_score(m, sc + 1.0);
            }
        }
    });
    out.push(("score change (ZINCRBY)", ns));

    let len = s.len();
    let half = len / 2;
    let (ns, _) = time(half, || {
        for _ in 0..half {
            s.remove_ranks(0..1);
        }
    });
    out.push(("pop the minimum (ZPOPMIN)", ns));

    let (ns, _) = time(members.len(), || {
        for m in &members {
            s.remove(m);
        }
    });
    out.push(("remove by member (ZREM)", ns));
    drop(s);

    let before = used();
    let mut s: Sorted<I> = Sorted::default();
    let (ns, _) = time(n, || {
        for i in 0..n as u64 {
            s.insert(&member(i), i as f64);
        }
    });
    out.push(("insert ascending scores", ns));
    let mem_seq = (used() - before) as f64 / s.len() as f64;
    (out, mem_random, mem_seq)
}

/// Compare the two indexes on `n` members; a plain-text table.
pub fn compare_indexes(n: usize, used: fn() -> u64) -> String {
    // Two alternating rounds, keeping each figure's best, so that a burst of load on the machine or a
    // warm-up favours neither side.
    let best = |a: (Vec<(&'static str, f64)>, f64, f64), b: (Vec<(&'static str, f64)>, f64, f64)| {
        let rows =
            a.0.iter()
                .zip(&b.0)
                .map(|(x, y)| (x.0, x.1.min(y.1)))
                .collect::<Vec<_>>();
        (rows, a.1.min(b.1), a.2.min(b.2))
    };
    let bt1 = run::<BTree>(n, used);
    let sl1 = run::<SkipList>(n, used);
    let sl2 = run::<SkipList>(n, used);
    let bt2 = run::<BTree>(n, used);
    let (bt, bt_mem, bt_seq) = best(bt1, bt2);
    let (sl, sl_mem, sl_seq) = best(sl1, sl2);
    let rows: Vec<Row> = bt
        .iter()
        .zip(&sl)
        .map(|(a, b)| Row {
            name: a.0,
            ns: [a.1, b.1],
        })
        .collect();
    let mut s = format!(
        "{n} members of 20 bytes\n{:<36} {:>10} {:>10} {:>7}\n",
        "ns/op", "btree", "skiplist", "bt/sl"
    );
    for r in rows {
        s += &format!(
            "{:<36} {:>10.1} {:>10.1} {:>7.2}\n",
            r.name,
            r.ns[0],
            r.ns[1],
            r.ns[0] / r.ns[1]
        );
    }
    s += &format!(
        "{:<36} {:>10.1} {:>10.1} {:>7.2}\n",
        "bytes/member, random inserts",
        bt_mem,
        sl_mem,
        bt_mem / sl_mem
    );
    s += &format!(
        "{:<36} {:>10.1} {:>10.1} {:>7.2}\n",
        "bytes/member, ascending inserts",
        bt_seq,
        sl_seq,
        bt_seq / sl_seq
    );
    s
}
