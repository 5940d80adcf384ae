//! Active expiry: the sampling loop of Redis 7.0's `activeExpireCycle`, for one database.
//!
//! A key whose deadline has passed (`now_ms > expire_at`) is logically gone; the commands layer
//! hides or deletes it when it is touched. This cycle only bounds the memory held by expired keys
//! nobody touches. Each loop looks at `keys_per_loop` volatile keys (20 at effort 1) and repeats
//! while more than `acceptable_stale` percent (10% at effort 1) of them had expired, asking the
//! caller every 16 loops whether its time budget is spent. Keys are looked at in volatile index
//! order from a cursor kept in the `Db`, not at random, so successive cycles cover every volatile
//! key (a key moved by a concurrent removal may wait one extra pass). The caller's cron decides
//! between slow and fast cycles and their budgets (`ExpireParams` carries Redis's numbers).

#![forbid(unsafe_code)]

use super::db::{Db, Probe};
use super::entry::OwnedValue;

const KEYS_PER_LOOP: usize = 20;
const FAST_DURATION_US: u64 = 1000;
const SLOW_TIME_PERCENT: u64 = 25;
const ACCEPTABLE_STALE_PERCENT: u64 = 10;
/// Loops between two questions to the caller about the time budget (a power of two).
const LOOPS_PER_TIME_CHECK: u64 = 16;

/// Redis's active-expire numbers for one `active-expire-effort` (1..=10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpireParams {
    pub keys_per_loop: usize,
    /// A loop repeats while more than this percentage of its sample had expired.
    pub acceptable_stale_percent: u64,
    /// Budget of a fast cycle, µs.
    pub fast_cycle_micros: u64,
    /// Share of the CPU a slow cycle may use per cron period, percent.
    pub slow_cycle_percent: u64,
}

impl ExpireParams {
    /// Parameters for `active-expire-effort` `effort`, clamped to 1..=10.
    pub fn with_effort(effort: u32) -> ExpireParams {
        let extra = u64::from(effort.clamp(1, 10) - 1);
        ExpireParams {
            keys_per_loop: KEYS_PER_LOOP + KEYS_PER_LOOP / 4 * extra as usize,
            acceptable_stale_percent: ACCEPTABLE_STALE_PERCENT - extra,
            fast_cycle_micros: FAST_DURATION_US + FAST_DURATION_US / 4 * extra,
            slow_cycle_percent: SLOW_TIME_PERCENT + 2 * extra,
        }
    }
}

impl Default for ExpireParams {
    fn default() -> Self {
        ExpireParams::with_effort(1)
    }
}

/// What one call of `expire_cycle` did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CycleStats {
    /// Volatile keys looked at.
    pub sampled: u64,
    /// Of which expired and removed.
    pub expired: u64,
    /// The cycle stopped because `time_up` said so (Redis's `expired_time_cap_reached_count`).
    pub time_limit_hit: bool,
    /// The database's running average TTL estimate afterwards, ms (INFO `avg_ttl`).
    pub avg_ttl: i64,
}

/// Runs the active expiry loop on `db`. `time_up` is asked every 16 loops whether the budget is
/// spent; `on_expired` receives each removed key and its value (to propagate a DEL, notify, and
/// free the value wherever suits).
pub fn expire_cycle(
    db: &mut Db,
    now_ms: i64,
    params: &ExpireParams,
    mut time_up: impl FnMut() -> bool,
    mut on_expired: impl FnMut(&[u8], OwnedValue),
) -> CycleStats {
    let mut stats = CycleStats::default();
    let mut loops = 0u64;
    loop {
        let num = db.volatile_len().min(params.keys_per_loop);
        if num == 0 {
            *db.avg_ttl_mut() = 0;
            break;
        }
        loops += 1;
        let (mut sampled, mut expired, mut ttl_sum, mut ttl_samples) = (0u64, 0u64, 0i64, 0i64);
        for _ in 0..num {
            match db.probe_volatile(now_ms, &mut on_expired) {
                None => break,
                Some(Probe::Expired) => expired += 1,
                Some(Probe::Alive { ttl }) if ttl > 0 => {
                    ttl_sum = ttl_sum.saturating_add(ttl);
                    ttl_samples += 1;
                }
                Some(Probe::Alive { .. }) => {}
            }
            sampled += 1;
        }
        stats.sampled += sampled;
        stats.expired += expired;
        if ttl_samples > 0 {
            // Redis's moving average: the new sample weighs 2%.
            let avg = ttl_sum / ttl_samples;
            let cur = db.avg_ttl_mut();
            *cur = if *cur == 0 { avg } else { *cur / 50 * 49 + avg / 50 };
        }
        if loops & (LOOPS_PER_TIME_CHECK - 1) == 0 && time_up() {
            stats.time_limit_hit = true;
            break;
        }
        if expired * 100 / sampled <= params.acceptable_stale_percent {
            break;
        }
    }
    stats.avg_ttl = db.avg_ttl();
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::entry::NewValue;

    fn fill(db: &mut Db, n: i64, deadline: impl Fn(i64) -> Option<i64>) {
        for i in 0..n {
            db.insert(format!("k{i}").as_bytes(), NewValue::Int(i), deadline(i), 0);
        }
    }

    #[test]
    fn params_follow_effort() {
        let p = ExpireParams::with_effort(1);
        assert_eq!(
            (
                p.keys_per_loop,
                p.acceptable_stale_percent,
                p.fast_cycle_micros,
                p.slow_cycle_percent
            ),
            (20, 10, 1000, 25)
        );
        let p = ExpireParams::with_effort(10);
        assert_eq!(
            (
                p.keys_per_loop,
                p.acceptable_stale_percent,
                p.fast_cycle_micros,
                p.slow_cycle_percent
            ),
            (65, 1, 3250, 43)
        );
        assert_eq!(ExpireParams::with_effort(0), ExpireParams::default());
    }

    #[test]
    fn expires_everything_when_all_stale() {
        let mut db = Db::new();
        fill(&mut db, 500, Some);
        db.insert(b"persistent", NewValue::Int(0), None, 0);
        let mut gone = Vec::new();
        let stats = expire_cycle(
            &mut db,
            10_000,
            &ExpireParams::default(),
            || false,
            |k, _| gone.push(k.to_vec()),
        );
        assert_eq!((stats.sampled, stats.expired, stats.time_limit_hit), (500, 500, false));
        assert_eq!((db.len(), db.volatile_len(), gone.len()), (1, 0, 500));
        db.check();
    }

    #[test]
    fn stops_when_few_keys_are_stale_and_reports_avg_ttl() {
        let mut db = Db::new();
        // 1 in 20 expired: one loop of 20 finds at most a few, under the 10% threshold.
        fill(&mut db, 1000, |i| Some(if i % 20 == 0 { 0 } else { 1000 + 1000 }));
        let stats = expire_cycle(&mut db, 1000, &ExpireParams::default(), || false, |_, _| {});
        assert!(stats.sampled >= 20 && stats.sampled < 200, "{stats:?}");
        assert!(stats.avg_ttl > 0 && stats.avg_ttl <= 1000);
        assert_eq!(db.avg_ttl(), stats.avg_ttl);
        db.check();
    }

    #[test]
    fn deadline_equal_to_now_is_not_expired() {
        let mut db = Db::new();
        fill(&mut db, 10, |_| Some(50));
        let stats = expire_cycle(&mut db, 50, &ExpireParams::default(), || false, |_, _| {});
        assert_eq!((stats.expired, db.len()), (0, 10));
    }

    #[test]
    fn time_budget_is_checked_every_16_loops() {
        let mut db = Db::new();
        fill(&mut db, 2000, |_| Some(0));
        let mut asked = 0;
        let stats = expire_cycle(
            &mut db,
            1,
            &ExpireParams::default(),
            || {
                asked += 1;
                true
            },
            |_, _| {},
        );
        assert!(stats.time_limit_hit);
        assert_eq!((asked, stats.sampled, stats.expired), (1, 16 * 20, 16 * 20));
        db.check();
    }

    #[test]
    fn successive_cycles_visit_every_volatile_key() {
        let mut db = Db::new();
        // Few stale keys, so each cycle stops after one loop; the cursor must still get round.
        fill(&mut db, 400, |i| Some(if i == 399 || i == 7 { 0 } else { 1_000_000 }));
        let mut gone = Vec::new();
        for _ in 0..40 {
            expire_cycle(
                &mut db,
                10,
                &ExpireParams::default(),
                || false,
                |k, _| gone.push(k.to_vec()),
            );
        }
        gone.sort();
        assert_eq!(gone, vec![b"k399".to_vec(), b"k7".to_vec()]);
        db.check();
    }

    #[test]
    fn empty_db_resets_avg_ttl() {
        let mut db = Db::new();
        *db.avg_ttl_mut() = 5;
        let stats = expire_cycle(&mut db, 0, &ExpireParams::default(), || false, |_, _| {});
        assert_eq!(stats, CycleStats::default());
    }
}
