//! Insert latency while the keyspace grows from empty to 10M keys: `storage::Db` against
//! `std::collections::HashMap<Vec<u8>, Vec<u8>>`, each insert timed in thread CPU time (so time
//! the thread spends descheduled on a shared machine does not count). Then bytes per key from
//! jemalloc's `stats.allocated`. jemalloc's background purging thread is on, as in Redis.
//!
//! `cargo bench --bench table_growth`; `FERRITE_BENCH_KEYS=1000000` for a shorter run.
//! `FERRITE_BENCH_FAULTS=1` also counts the page faults taken inside each `Db` insert
//! (getrusage(RUSAGE_THREAD) around it, which adds its own cost to every figure) and says how many of
//! the slow inserts took one: attribution, not a latency run.

use std::collections::HashMap;
use std::hint::black_box;
use std::io::Write;

use ferrite::storage::{Db, NewValue};
use tikv_jemalloc_ctl::{epoch, stats};

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid timespec to write to.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Page faults (minor + major) this thread has taken so far.
fn thread_faults() -> u64 {
    // SAFETY: an all-zero rusage is a valid value for getrusage to overwrite.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid rusage to write to.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) };
    assert_eq!(rc, 0, "getrusage(RUSAGE_THREAD)");
    (ru.ru_minflt + ru.ru_majflt) as u64
}

fn allocated() -> usize {
    epoch::advance().expect("jemalloc epoch");
    stats::allocated::read().expect("jemalloc stats.allocated")
}

/// The headline key and value: `key:%012d` → `v%015d` (16 bytes each).
fn key_value(i: usize, key: &mut Vec<u8>, value: &mut Vec<u8>) {
    key.clear();
    value.clear();
    write!(key, "key:{i:012}").expect("write to Vec");
    write!(value, "v{i:015}").expect("write to Vec");
}

struct Latencies(Vec<u32>);

impl Latencies {
    /// How many of the `top` slowest inserts were within 2 inserts of one of `events`.
    fn slowest_near(&self, top: usize, events: &[usize]) -> usize {
        let mut idx: Vec<usize> = (0..self.0.len()).collect();
        idx.sort_unstable_by_key(|&i| std::cmp::Reverse(self.0[i]));
        idx[..top.min(idx.len())]
            .iter()
            .filter(|&&i| events.iter().any(|&e| e.abs_diff(i) <= 2))
            .count()
    }

    fn report(mut self, name: &str) {
        let slowest: Vec<(u32, usize)> = {
            let mut idx: Vec<(u32, usize)> = self.0.iter().enumerate().map(|(i, &ns)| (ns, i)).collect();
            idx.sort_unstable_by(|a, b| b.cmp(a));
            idx.truncate(5);
            idx
        };
        self.0.sort_unstable();
        let n = self.0.len();
        let at = |q: f64| self.0[((n as f64 * q) as usize).min(n - 1)];
        let total: u64 = self.0.iter().map(|&ns| u64::from(ns)).sum();
        println!(
            "{name:<8} inserts={n} mean={:.0}ns p50={}ns p99={}ns p99.99={}ns max={:.3}ms",
            total as f64 / n as f64,
            at(0.50),
            at(0.99),
            at(0.9999),
            f64::from(self.0[n - 1]) / 1e6,
        );
        let over = |ns: u32| self.0.len() - self.0.partition_point(|&x| x <= ns);
        println!(
            "{name:<8} over 100us: {}, over 500us: {}, over 1ms: {}",
            over(100_000),
            over(500_000),
            over(1_000_000)
        );
        let slow: Vec<String> = slowest
            .iter()
            .map(|(ns, i)| format!("#{i}:{:.3}ms", f64::from(*ns) / 1e6))
            .collect();
        println!("{name:<8} slowest: {}", slow.join(" "));
    }
}

/// Also returns the inserts at which a resize started or finished, to tell structural costs
/// from the machine's noise, and with `count_faults` the page faults taken inside each insert.
fn time_db(n: usize, count_faults: bool) -> (Latencies, Vec<usize>, Vec<u32>) {
    let mut db = Db::new();
    let (mut k, mut v) = (Vec::new(), Vec::new());
    let mut lat = Vec::with_capacity(n);
    let mut faults = Vec::with_capacity(if count_faults { n } else { 0 });
    let mut transitions = Vec::new();
    let mut rehashing = false;
    for i in 0..n {
        key_value(i, &mut k, &mut v);
        let f0 = if count_faults { thread_faults() } else { 0 };
        let t0 = thread_cpu_ns();
        black_box(db.put(&k, NewValue::Str(&v), None, 0));
        let t1 = thread_cpu_ns();
        if count_faults {
            faults.push((thread_faults() - f0) as u32);
        }
        lat.push((t1 - t0) as u32);
        if db.is_rehashing() != rehashing {
            rehashing = !rehashing;
            transitions.push(i);
        }
    }
    assert_eq!(db.len(), n);
    (Latencies(lat), transitions, faults)
}

/// For inserts slower than each threshold: how many, and how many of them took a page fault.
fn report_faults(name: &str, lat: &Latencies, faults: &[u32]) {
    for (label, ns) in [("100us", 100_000), ("500us", 500_000), ("1ms", 1_000_000)] {
        let slow: Vec<usize> = (0..lat.0.len()).filter(|&i| lat.0[i] > ns).collect();
        let faulted = slow.iter().filter(|&&i| faults[i] > 0).count();
        println!(
            "{name:<8} inserts over {label}: {}, of which took a page fault: {faulted}",
            slow.len()
        );
    }
    let all = faults.iter().filter(|&&f| f > 0).count();
    println!("{name:<8} inserts that took a page fault: {all} of {}", faults.len());
}

/// The harness alone: two clock reads with nothing between them.
fn time_nothing(n: usize) -> Latencies {
    Latencies(
        (0..n)
            .map(|_| {
                let t0 = thread_cpu_ns();
                let t1 = thread_cpu_ns();
                (t1 - t0) as u32
            })
            .collect(),
    )
}

fn time_hashmap(n: usize) -> Latencies {
    let mut map: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
    let (mut k, mut v) = (Vec::new(), Vec::new());
    let mut lat = Vec::with_capacity(n);
    for i in 0..n {
        key_value(i, &mut k, &mut v);
        let t0 = thread_cpu_ns();
        black_box(map.insert(k.clone(), v.clone()));
        let t1 = thread_cpu_ns();
        lat.push((t1 - t0) as u32);
    }
    assert_eq!(map.len(), n);
    Latencies(lat)
}

/// Bytes allocated per key for `n` headline keys, with or without a TTL.
fn bytes_per_key_db(n: usize, ttl: bool) -> f64 {
    let (mut k, mut v) = (Vec::new(), Vec::new());
    let before = allocated();
    let mut db = Db::new();
    for i in 0..n {
        key_value(i, &mut k, &mut v);
        db.put(&k, NewValue::Str(&v), ttl.then_some(i64::MAX), 0);
    }
    while db.rehash_steps(1000) {}
    let after = allocated();
    drop(black_box(db));
    (after - before) as f64 / n as f64
}

fn bytes_per_key_hashmap(n: usize) -> f64 {
    let (mut k, mut v) = (Vec::new(), Vec::new());
    let before = allocated();
    let mut map: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
    for i in 0..n {
        key_value(i, &mut k, &mut v);
        map.insert(k.clone(), v.clone());
    }
    let after = allocated();
    drop(black_box(map));
    (after - before) as f64 / n as f64
}

fn main() {
    let n: usize = std::env::var("FERRITE_BENCH_KEYS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    // As Redis does by default (jemalloc-bg-thread yes), and as the server will: purging freed
    // memory back to the kernel then happens on jemalloc's thread, not inside an insert.
    tikv_jemalloc_ctl::background_thread::write(true).expect("jemalloc background_thread");
    let m = 1_000_000;
    println!("bytes/key, {m} keys key:%012d -> v%015d (jemalloc stats.allocated):");
    println!("  Db                 {:.1}", bytes_per_key_db(m, false));
    println!("  Db, all with TTL   {:.1}", bytes_per_key_db(m, true));
    println!("  HashMap<Vec,Vec>   {:.1}", bytes_per_key_hashmap(m));
    println!("insert latency, thread CPU time, {n} keys from empty:");
    time_nothing(n).report("clock");
    // The second run reuses memory the first one freed; the first pays for first touches.
    let count_faults = std::env::var("FERRITE_BENCH_FAULTS").is_ok_and(|v| v == "1");
    for name in ["Db", "Db-warm"] {
        let (lat, transitions, faults) = time_db(n, count_faults);
        println!(
            "{name:<8} of the 100 slowest inserts, {} were within 2 of a resize start or end",
            lat.slowest_near(100, &transitions)
        );
        if count_faults {
            report_faults(name, &lat, &faults);
        }
        lat.report(name);
    }
    time_hashmap(n).report("HashMap");
}
