//! The data half of a shard: databases, configuration, statistics, the journal and the clock.
//!
//! `Core` never sees a socket; see `net.rs` for the other half and docs/architecture.md for why the two
//! are kept apart.

use std::collections::HashMap;

use rand::rngs::SmallRng;
use rand::SeedableRng;

use crate::clock::{Clock, SystemClock};
use crate::commands::dispatch::Execution;
use crate::commands::host::{Request, ShutdownRequest};
use crate::commands::keyspace::{DbView, Lfu};
use crate::commands::table;
use crate::commands::transactions::Watches;
use crate::config::{Config, MaxmemoryPolicy};
use crate::journal::Journal;
use crate::scripting::functions::Functions;
use crate::scripting::{ScriptRun, Scripts, VmKind};
use crate::server::lazyfree::LazyFree;
use crate::storage::Db;

/// Server-wide counters reported by INFO.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Changes since the last save (`rdb_changes_since_last_save`); also decides propagation.
    pub dirty: u64,
    pub expired_keys: u64,
    pub expired_stale_perc: f64,
    pub expired_time_cap_reached_count: u64,
    pub expire_cycle_cpu_us: u64,
    pub evicted_keys: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub total_commands: u64,
    pub total_error_replies: u64,
    pub unexpected_error_replies: u64,
    pub client_query_buffer_limit_disconnections: u64,
    pub client_output_buffer_limit_disconnections: u64,
}

/// Per-command counters (`INFO commandstats`).
#[derive(Debug, Default, Clone, Copy)]
pub struct CmdStat {
    pub calls: u64,
    pub usec: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
}

/// Redis's instantaneous metrics: rates sampled every 100 ms, averaged over the last 16 samples.
#[derive(Debug, Default, Clone)]
pub struct Instantaneous {
    last_ms: i64,
    last: [u64; 3],
    samples: [[f64; 16]; 3],
    idx: usize,
}

impl Instantaneous {
    const OPS: usize = 0;
    const NET_IN: usize = 1;
    const NET_OUT: usize = 2;

    /// Record the counters' current values (commands, input bytes, output bytes) at `now_ms`.
    pub fn sample(&mut self, now_ms: i64, counters: [u64; 3]) {
        let dt = now_ms - self.last_ms;
        if self.last_ms > 0 && dt > 0 {
            for (k, &v) in counters.iter().enumerate() {
                let delta = v.saturating_sub(self.last[k]);
                self.samples[k][self.idx] = delta as f64 * 1000.0 / dt as f64;
            }
            self.idx = (self.idx + 1) % 16;
        }
        self.last_ms = now_ms;
        self.last = counters;
    }

    fn mean(&self, k: usize) -> f64 {
        self.samples[k].iter().sum::<f64>() / 16.0
    }

    pub fn ops_per_sec(&self) -> u64 {
        self.mean(Self::OPS) as u64
    }

    pub fn input_kbps(&self) -> f64 {
        self.mean(Self::NET_IN) / 1024.0
    }

    pub fn output_kbps(&self) -> f64 {
        self.mean(Self::NET_OUT) / 1024.0
    }
}

/// An active `CLIENT PAUSE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    /// `true` for `ALL`, `false` for `WRITE`.
    pub all: bool,
    pub end_ms: i64,
}

pub struct Core {
    pub config: Config,
    pub dbs: Vec<Db>,
    pub stats: Stats,
    pub cmdstats: Vec<CmdStat>,
    pub errorstats: HashMap<String, u64>,
    pub journal: Journal,
    clock: Box<dyn Clock>,
    /// Cached time, refreshed once per event-loop iteration.
    pub now_us: i64,
    pub now_ms: i64,
    /// Redis's 24-bit LRU clock (seconds), refreshed with the time.
    pub lru_clock: u32,
    pub start_ms: i64,
    /// Unix time of the last successful save (LASTSAVE); the start time until something saves.
    pub lastsave_s: i64,
    pub run_id: String,
    /// The replication id INFO reports (a master's, random at start).
    pub replid: String,
    pub rng: SmallRng,
    /// `used_memory` right after start-up, and its highest value seen (INFO memory).
    pub memory_startup: u64,
    pub peak_memory: u64,
    pub instantaneous: Instantaneous,
    pub pause: Option<Pause>,
    pub is_replica: bool,
    /// The dataset is being loaded: true while `load_job` exists, or while a synchronous load runs.
    pub loading: bool,
    /// The load in progress, stepped by the event loop (`server::load`).
    pub load_job: Option<crate::server::load::LoadJob>,
    pub active_expire_enabled: bool,
    /// `DEBUG PAUSE-CRON 1`: the periodic cron does nothing until resumed (Redis's `pause_cron`).
    pub cron_paused: bool,
    /// Slow log, latency monitor and latency histograms (`commands::introspection`).
    pub introspection: crate::commands::introspection::State,
    /// Clients blocked on keys, and the keys made ready by the command being executed.
    pub blocking: crate::server::blocking::Blocking,
    /// Keys watched by clients (WATCH), and which watchers saw a change.
    pub watches: Watches,
    /// Pub/Sub subscriptions, and the messages queued for delivery (`server::pubsub`).
    pub pubsub: crate::server::pubsub::PubSub,
    /// Client-side caching: tracking clients, the invalidation table, invalidations owed.
    pub tracking: crate::server::tracking::Tracking,
    /// How deep the running call is and who issued it (`dispatch`).
    pub exec: Execution,
    /// What the running handler asked of the server (`commands::host`), carried out when it returns.
    pub requests: Vec<Request>,
    /// A shutdown asked for by SHUTDOWN or a signal, carried out by the event loop.
    pub shutdown: Option<ShutdownRequest>,
    /// The script running now (EVAL or FCALL): what SCRIPT KILL, FUNCTION STATS and the BUSY gate see.
    pub script_run: Option<ScriptRun>,
    /// EVAL's scripts: their VM and cache.
    pub scripts: Scripts,
    /// The function libraries (FUNCTION LOAD, FCALL).
    pub functions: Functions,
    /// Locks with fencing tokens (LOCK.*, a Ferrite extension).
    pub locks: crate::commands::locks::Locks,
    /// `total_error_replies` when the last call's failure was judged (a call failed if errors were
    /// counted since; Redis's `prev_err_count`).
    pub err_checkpoint: u64,
    /// The running handler relayed an error another command already counted: its call failed.
    pub relayed_error: bool,
    /// Frees big values and whole databases off this thread (`lazyfree_*` INFO fields).
    pub lazyfree: LazyFree,
    /// Save and load figures (INFO persistence).
    pub persist: crate::server::persist::PersistStats,
    /// The background save in progress (BGSAVE, or an AOF rewrite's snapshot).
    pub bgsave: Option<crate::server::persist::Bgsave>,
    /// The append-only file, when on (`server::aof`).
    pub aof: Option<crate::server::aof::Aof>,
    pub aof_stats: crate::server::aof::AofStats,
}

/// Redis's LRU clock resolution is one second and it wraps at 24 bits.
pub const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;

impl Core {
    pub fn new(config: Config, clock: Box<dyn Clock>) -> Core {
        let now_us = clock.now_us();
        let dbs = (0..config.databases).map(|_| Db::new()).collect();
        let mut rng = SmallRng::from_entropy();
        let run_id = random_hex40(&mut rng);
        let replid = random_hex40(&mut rng);
        let scripts = Scripts::new();
        let functions = Functions::new(std::rc::Rc::clone(&scripts.rng));
        let mut core = Core {
            config,
            dbs,
            stats: Stats::default(),
            cmdstats: vec![CmdStat::default(); table::count_all()],
            errorstats: HashMap::new(),
            journal: Journal::default(),
            clock,
            now_us,
            now_ms: now_us / 1000,
            lru_clock: 0,
            start_ms: now_us / 1000,
            lastsave_s: now_us / 1_000_000,
            run_id,
            replid,
            rng,
            memory_startup: 0,
            peak_memory: 0,
            instantaneous: Instantaneous::default(),
            pause: None,
            is_replica: false,
            loading: false,
            load_job: None,
            active_expire_enabled: true,
            cron_paused: false,
            introspection: Default::default(),
            blocking: Default::default(),
            watches: Watches::default(),
            pubsub: Default::default(),
            tracking: Default::default(),
            exec: Execution::default(),
            requests: Vec::new(),
            shutdown: None,
            script_run: None,
            scripts,
            functions,
            locks: crate::commands::locks::Locks::new(now_us / 1000),
            err_checkpoint: 0,
            relayed_error: false,
            lazyfree: LazyFree::new(),
            persist: Default::default(),
            bgsave: None,
            aof: None,
            aof_stats: Default::default(),
        };
        core.update_time();
        core
    }

    /// A core with default settings and the system clock (tests).
    pub fn with_defaults() -> Core {
        Core::new(Config::default(), Box::new(SystemClock))
    }

    /// Refresh the cached clock (once per event-loop iteration).
    pub fn update_time(&mut self) {
        self.now_us = self.clock.now_us();
        self.now_ms = self.now_us / 1000;
        self.lru_clock = ((self.now_ms / 1000) as u64 & LRU_CLOCK_MAX as u64) as u32;
    }

    /// Read the clock now, bypassing the cached time (TIME).
    pub fn clock_now_us(&self) -> i64 {
        self.clock.now_us()
    }

    /// The monotonic counter now (lock leases).
    pub fn monotonic_us(&self) -> i64 {
        self.clock.monotonic_us()
    }

    /// Replace the clock (tests).
    pub fn set_clock(&mut self, clock: Box<dyn Clock>) {
        self.clock = clock;
        self.update_time();
    }

    /// A view of database `index` with Redis's access policy.
    pub fn db_view(&mut self, index: usize) -> DbView<'_> {
        let lfu = matches!(
            self.config.maxmemory_policy,
            MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu
        )
        .then(|| Lfu {
            log_factor: self.config.lfu_log_factor,
            decay_time: self.config.lfu_decay_time,
            minutes: ((self.now_ms / 60_000) & 0xffff) as u32,
        });
        // While clients are paused nothing expires: keys past their deadline are only hidden.
        let hide_only = self.is_replica || self.expiry_paused();
        DbView {
            db: &mut self.dbs[index],
            index,
            now_ms: self.now_ms,
            lru_clock: self.lru_clock,
            lfu,
            stats: &mut self.stats,
            journal: &mut self.journal,
            blocking: &mut self.blocking,
            watches: &mut self.watches,
            pubsub: &mut self.pubsub,
            tracking: &mut self.tracking,
            notify_flags: self.config.notify_keyspace_events,
            is_replica: hide_only,
            was_expired: false,
            lazyfree: &mut self.lazyfree,
            lazy_server_del: self.config.lazyfree_lazy_server_del,
            lazy_expire: self.config.lazyfree_lazy_expire,
        }
    }

    /// Whether a long script holds the keyspace (other clients are answered `-BUSY`).
    #[inline]
    pub fn busy(&self) -> bool {
        self.script_run.as_ref().is_some_and(|r| r.timed_out)
    }

    /// The `-BUSY` error while the keyspace is busy, naming the command that can stop what runs.
    pub fn busy_error(&self) -> Option<crate::error::CmdError> {
        let run = self.script_run.as_ref().filter(|r| r.timed_out)?;
        Some(crate::error::CmdError::Busy(match run.kind {
            VmKind::Eval => "SCRIPT",
            VmKind::Function => "FUNCTION",
        }))
    }

    /// Whether a `CLIENT PAUSE` (WRITE or ALL) is in force, which suspends expiry as Redis does.
    pub fn expiry_paused(&self) -> bool {
        self.pause.is_some_and(|p| p.end_ms >= self.now_ms)
    }

    /// Count an error reply by its code (`INFO errorstats`).
    pub fn count_error(&mut self, line: &str) {
        self.stats.total_error_replies += 1;
        // Redis reads the code up to a space within the reply's first 32 bytes (its leading `-`
        // included), and counts an error without one as ERR.
        let code = match line.as_bytes()[..line.len().min(31)].iter().position(|&b| b == b' ') {
            Some(end) => &line[..end],
            None => "ERR",
        };
        let known = self.errorstats.len();
        match self.errorstats.get_mut(code) {
            Some(n) => *n += 1,
            // Redis stops tracking new error codes past 128 distinct ones.
            None if known < 128 => {
                self.errorstats.insert(code.to_string(), 1);
            }
            None => {}
        }
    }

    /// Zero the statistics (CONFIG RESETSTAT): server counters, per-command and per-error counts.
    pub fn reset_stats(&mut self) {
        let dirty = self.stats.dirty;
        self.stats = Stats {
            dirty,
            ..Stats::default()
        };
        for s in &mut self.cmdstats {
            *s = CmdStat::default();
        }
        self.errorstats.clear();
        // Redis resets the per-command latency histograms with the command statistics.
        self.introspection.tracking.reset();
    }

    /// Raise the recorded peak of `used_memory`.
    pub fn update_peak_memory(&mut self, used: u64) {
        self.peak_memory = self.peak_memory.max(used);
    }

    /// Seconds since start.
    pub fn uptime_s(&self) -> i64 {
        (self.now_ms - self.start_ms) / 1000
    }
}

/// 40 random hex digits: a run id or a replication id.
pub fn random_hex40(rng: &mut impl rand::Rng) -> String {
    (0..40).map(|_| format!("{:x}", rng.gen_range(0..16u8))).collect()
}
