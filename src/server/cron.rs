//! Periodic work (`hz` times per second) and the active expiry cycle.

use super::core::Core;
use super::Server;
use crate::clock::monotonic_us;
use crate::storage::expire::{expire_cycle, ExpireParams};

/// Which active expiry cycle runs (Redis 7.0: slow from the cron, fast before sleeping).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CycleKind {
    Slow,
    Fast,
}

/// State the expiry cycle keeps between runs.
#[derive(Debug, Default, Clone, Copy)]
pub struct ExpireState {
    next_db: usize,
    timelimit_exit: bool,
    last_fast_cycle_us: i64,
}

/// Redis 7.0's activeExpireCycle driver: picks the databases to visit and the time budget; the sampling
/// loop per database lives in `storage::expire`.
pub fn active_expire(core: &mut Core, state: &mut ExpireState, kind: CycleKind) {
    // Replicas wait for the master's DELs; while clients are paused (WRITE or ALL) the dataset must stay
    // still, so nothing expires; nothing expires during loading either.
    if !core.active_expire_enabled || core.is_replica || core.loading || core.expiry_paused() {
        return;
    }
    let effort = core.config.active_expire_effort.clamp(1, 10) - 1;
    let fast_duration_us = 1000 + 1000 / 4 * effort as i64;
    let slow_time_perc = 25 + 2 * effort as i64;
    let acceptable_stale = 10 - effort as i64;
    let start = monotonic_us();
    if kind == CycleKind::Fast {
        // Redis 7.0 compares the stale *fraction* with a *percentage* here, so in practice a fast cycle
        // runs only after a cycle that hit its time limit. Kept as Redis does it.
        if !state.timelimit_exit && core.stats.expired_stale_perc < acceptable_stale as f64 {
            return;
        }
        if start < state.last_fast_cycle_us + fast_duration_us * 2 {
            return;
        }
        state.last_fast_cycle_us = start;
    }
    let hz = core.config.hz.clamp(1, 500) as i64;
    let timelimit_us = if kind == CycleKind::Fast {
        fast_duration_us
    } else {
        (slow_time_perc * 1_000_000 / hz / 100).max(1)
    };
    let ndbs = core.dbs.len();
    let dbs_per_call = if state.timelimit_exit { ndbs } else { ndbs.min(16) };
    state.timelimit_exit = false;
    let params = ExpireParams::with_effort(effort + 1);
    let (mut sampled, mut expired) = (0u64, 0u64);
    let now_ms = core.now_ms;
    for _ in 0..dbs_per_call {
        let index = state.next_db % ndbs;
        state.next_db = state.next_db.wrapping_add(1);
        let lazy = core.config.lazyfree_lazy_expire;
        let notify_flags = core.config.notify_keyspace_events;
        let Core {
            dbs,
            stats,
            journal,
            lazyfree,
            watches,
            tracking,
            pubsub,
            ..
        } = core;
        let st = expire_cycle(
            &mut dbs[index],
            now_ms,
            &params,
            || monotonic_us() - start > timelimit_us,
            |key, value| {
                stats.expired_keys += 1;
                journal.record(index, &[crate::commands::keyspace::delete_verb(lazy), key]);
                crate::server::notify::notify(
                    pubsub,
                    notify_flags,
                    crate::server::notify::class::EXPIRED,
                    "expired",
                    key,
                    index,
                );
                crate::commands::keyspace::modified(watches, tracking, index, key, false);
                lazyfree.free(value, lazy);
            },
        );
        sampled += st.sampled;
        expired += st.expired;
        if st.time_limit_hit {
            state.timelimit_exit = true;
            core.stats.expired_time_cap_reached_count += 1;
            break;
        }
    }
    let elapsed = (monotonic_us() - start).max(0) as u64;
    core.stats.expire_cycle_cpu_us += elapsed;
    let current_perc = if sampled > 0 {
        expired as f64 / sampled as f64
    } else {
        0.0
    };
    core.stats.expired_stale_perc = current_perc * 0.05 + core.stats.expired_stale_perc * 0.95;
}

/// Seconds before a `save` point retries after a failed background save (Redis's
/// CONFIG_BGSAVE_RETRY_DELAY).
const BGSAVE_RETRY_DELAY_S: i64 = 5;

/// Keys client tracking may invalidate early per cron tick when its table is over its limit (Redis
/// also works through an overshoot a bounded slice at a time).
const TRACKING_EVICTIONS_PER_TICK: usize = 1000;

impl Server {
    /// Redis's serverCron.
    pub(crate) fn cron(&mut self) {
        // DEBUG PAUSE-CRON: as Redis, skip the whole periodic job (the fast expiry cycle before
        // sleeping still runs).
        if self.core.cron_paused {
            return;
        }
        self.cron_loops += 1;
        if let Some(p) = self.core.pause {
            if p.end_ms <= self.core.now_ms {
                self.unpause();
            }
        }
        let counters = [
            self.core.stats.total_commands,
            self.net.net_input_bytes,
            self.net.net_output_bytes,
        ];
        self.core.instantaneous.sample(self.core.now_ms, counters);
        // Keep client tracking's invalidation table within tracking-table-max-keys, a slice at a time.
        let max_keys = self.core.config.tracking_table_max_keys as usize;
        self.core.tracking.limit_keys(max_keys, TRACKING_EVICTIONS_PER_TICK);
        self.core.update_peak_memory(crate::memory::used_memory());
        if self.cron_loops.is_multiple_of(10) {
            let now = self.core.monotonic_us();
            self.core.locks.sweep(now);
        }
        self.close_timed_out_clients();
        // A half-loaded dataset is left alone (as Redis, which runs no serverCron while loading):
        // a table sized for the whole file must not shrink, nothing expires, nothing is saved.
        if self.core.loading {
            return;
        }
        let mut st = self.expire_state;
        active_expire(&mut self.core, &mut st, CycleKind::Slow);
        self.expire_state = st;
        if self.core.config.activerehashing {
            for db in &mut self.core.dbs {
                if db.rehash_for(1000) {
                    break;
                }
            }
        }
        for db in &mut self.core.dbs {
            db.try_shrink();
        }
        self.start_scheduled_bgsave();
        super::aof::cron(&mut self.core);
    }

    /// Start a background save when one is due: asked for inside a transaction, or a `save` point
    /// reached (enough changes since the last save, and its seconds passed since then), as Redis's
    /// serverCron does, retrying a failed save only after `BGSAVE_RETRY_DELAY_S`.
    fn start_scheduled_bgsave(&mut self) {
        let core = &mut self.core;
        if core.bgsave.is_some() {
            return;
        }
        if core.persist.bgsave_scheduled {
            core.persist.bgsave_scheduled = false;
            let _ = crate::server::persist::start_bgsave(core);
            return;
        }
        let now_s = core.now_ms / 1000;
        let changes = core.stats.dirty - core.persist.dirty_at_last_save;
        let retry_ok =
            core.persist.last_save_ok || core.now_ms - core.persist.last_bgsave_try_ms > BGSAVE_RETRY_DELAY_S * 1000;
        let due = core
            .config
            .save
            .iter()
            .find(|p| changes >= p.changes.max(0) as u64 && now_s - core.lastsave_s > p.seconds && retry_ok);
        if let Some(p) = due {
            crate::log_notice!("{} changes in {} seconds. Saving...", p.changes, p.seconds);
            let _ = crate::server::persist::start_bgsave(core);
        }
    }

    fn close_timed_out_clients(&mut self) {
        let timeout = self.core.config.timeout as i64;
        if timeout == 0 {
            return;
        }
        let now = self.core.now_ms;
        // As Redis: MONITOR clients (replicas to Redis) and blocked clients are never idle.
        let idle: Vec<usize> = self
            .net
            .iter()
            .filter(|c| {
                c.blocked.is_none()
                    && !c.has(super::client::cflags::MONITOR)
                    && now - c.last_interaction_ms > timeout * 1000
            })
            .map(|c| c.slot)
            .collect();
        for slot in idle {
            crate::log_verbose!("Closing idle client");
            self.net.kill(slot);
        }
    }
}
