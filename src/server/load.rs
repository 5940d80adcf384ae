//! Loading the dataset while the server answers (Redis's "loading" state).
//!
//! At start-up the server binds, starts a [`LoadJob`] and enters its event loop, as Redis listens
//! before it loads. Each iteration the loop calls [`step`], which advances the job by about
//! `loading-process-events-interval-bytes` (2 MB by default: Redis processes events at that
//! interval too), then serves whatever arrived. While a job exists:
//! - `Core::loading` is true, so the dispatch gate answers `-LOADING` to every command not flagged
//!   `loading` in the table (PING and GET included, as in Redis; INFO, CONFIG, CLIENT, SELECT answer);
//!   INFO persistence adds Redis's `loading_*` fields from [`LoadJob::progress`];
//! - nothing else touches the half-loaded dataset: the active expiry cycle, the cron's database
//!   work (rehash, shrink) and `save` points are off; SAVE, BGSAVE, FLUSHALL and every key command are
//!   refused by the gate; no client can block on keys (blocking commands are not flagged `loading`),
//!   so no wake-up can happen; SHUTDOWN and SIGTERM exit without saving (`prepare_shutdown`);
//! - the keys go straight into the tables (`Db::put`): no keyspace events, no journal.
//!
//! A job that fails at start-up ends the process with exit code 1 and Redis's log line, as before.
//! DEBUG RELOAD runs a job to its end synchronously ([`run_to_end`]): Redis's DEBUG RELOAD also
//! loads inside the command, but processes events meanwhile (other clients get `-LOADING`); here
//! they wait.
//!
//! Adding a kind of load (the AOF: an RDB base, then RESP command files replayed through dispatch):
//! 1. add a variant to [`LoadKind`] holding its state (e.g. `Aof(AofLoad)`, which may hold an
//!    `RdbLoad` for its base file or drive an `rdb::Loader` itself: `Loaded::end_offset` and
//!    `Loader::into_rest` give where an RDB preamble ended);
//! 2. handle it in [`LoadKind::step`] (advance by about `budget` bytes; return `Step::Done` when
//!    whole), [`LoadKind::progress`] (bytes done and total, for INFO) and [`LoadKind::finish`]
//!    (Redis's closing log lines and statistics for that kind);
//! 3. start it with [`begin`].
//!
//! The gate, INFO, the event loop and the start-up path read only `Core::loading`,
//! `LoadJob::progress` and [`step`]; they need no change.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::core::Core;
use crate::persistence::rdb::{value::LoadLimits, LoadError, Loaded, Loader, Step, Target};

/// Who asked for the load: what happens when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The load at start-up: "Ready to accept connections" when it ends, exit code 1 if it fails.
    Startup,
    /// A command that waits for the end (DEBUG RELOAD).
    Command,
}

/// A load in progress (module docs).
pub struct LoadJob {
    pub kind: LoadKind,
    origin: Origin,
    started: Instant,
    /// Unix time the load began (INFO `loading_start_time`).
    start_time_s: i64,
}

/// What is being loaded. (One job exists at a time, so the variants' sizes do not matter.)
#[allow(clippy::large_enum_variant)]
pub enum LoadKind {
    Rdb(RdbLoad),
    /// The AOF's base and incr files, replayed in order (`server::aof::AofLoad`); it logs its own
    /// failures with Redis's lines.
    Aof(super::aof::AofLoad),
}

/// An RDB file being loaded.
pub struct RdbLoad {
    path: PathBuf,
    loader: Loader<File>,
    /// Loaded keys replace those present (DEBUG RELOAD MERGE).
    merge: bool,
    /// Keys whose deadline passed are loaded too (an AOF's RDB base, as Redis loads a preamble).
    keep_expired: bool,
    /// Aux fields already logged.
    aux_logged: usize,
}

/// How far a load is (INFO's `loading_*` fields).
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    pub total_bytes: u64,
    pub loaded_bytes: u64,
    /// `used-mem` as the file recorded it (`loading_rdb_used_mem`), 0 until read.
    pub rdb_used_mem: u64,
    pub keys_loaded: u64,
}

impl LoadJob {
    pub fn progress(&self) -> Progress {
        self.kind.progress()
    }

    pub fn start_time_s(&self) -> i64 {
        self.start_time_s
    }
}

impl LoadKind {
    /// Advance by about `budget` bytes of input.
    pub(crate) fn step(&mut self, core: &mut Core, budget: u64) -> Result<Step, LoadError> {
        match self {
            LoadKind::Rdb(job) => {
                let step = rdb_step(core, job, budget);
                log_aux(core, job);
                step
            }
            LoadKind::Aof(job) => job.step(core, budget),
        }
    }

    pub(crate) fn progress(&self) -> Progress {
        match self {
            LoadKind::Aof(job) => job.progress(),
            LoadKind::Rdb(job) => {
                let loaded = job.loader.loaded();
                Progress {
                    total_bytes: job.loader.total().unwrap_or(0),
                    loaded_bytes: job.loader.consumed(),
                    rdb_used_mem: aux_number(loaded, b"used-mem").unwrap_or(0).max(0) as u64,
                    keys_loaded: loaded.keys,
                }
            }
        }
    }

    /// Redis's closing lines and statistics for a load that completed.
    pub(crate) fn finish(self, core: &mut Core, started: Instant) -> Result<Loaded, LoadError> {
        match self {
            LoadKind::Rdb(job) => {
                let (loaded, _, _) = job.loader.into_rest();
                log_rdb_done(&loaded, started);
                core.persist.last_load_keys_loaded = loaded.keys;
                core.persist.last_load_keys_expired = loaded.expired_skipped;
                Ok(loaded)
            }
            LoadKind::Aof(job) => job.finish(core, started),
        }
    }

    /// What names the input in a start-up failure's log line.
    fn describe(&self) -> String {
        match self {
            LoadKind::Rdb(job) => job.path.display().to_string(),
            LoadKind::Aof(job) => job.describe(),
        }
    }
}

/// Open the RDB file at `path` for loading. `Ok(None)` when there is no file.
pub fn open_rdb(path: &Path, merge: bool) -> Result<Option<LoadKind>, LoadError> {
    open(path, merge, false)
}

/// Open an AOF's RDB base file: as `open_rdb`, keeping keys already expired.
pub fn open_rdb_preamble(path: &Path) -> Result<Option<LoadKind>, LoadError> {
    open(path, false, true)
}

fn open(path: &Path, merge: bool, keep_expired: bool) -> Result<Option<LoadKind>, LoadError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fatal_io(&e)),
    };
    let total = file.metadata().map_err(|e| fatal_io(&e))?.len();
    Ok(Some(LoadKind::Rdb(RdbLoad {
        path: path.to_path_buf(),
        loader: Loader::new(file, Some(total)),
        merge,
        keep_expired,
        aux_logged: 0,
    })))
}

fn fatal_io(e: &std::io::Error) -> LoadError {
    LoadError {
        offset: 0,
        reason: format!(
            "Fatal error loading the DB: {}. Exiting.",
            super::persist::os_error_text(e)
        ),
    }
}

/// Start a load job: from now on the server is loading (module docs).
pub fn begin(core: &mut Core, kind: LoadKind, origin: Origin) {
    core.loading = true;
    core.persist.last_load_keys_loaded = 0;
    core.persist.last_load_keys_expired = 0;
    core.load_job = Some(LoadJob {
        kind,
        origin,
        started: Instant::now(),
        start_time_s: core.clock_now_us() / 1_000_000,
    });
}

/// Where [`step`] left the load.
#[derive(Debug)]
pub enum Outcome {
    /// No job, or it has more to do.
    Running,
    /// The job completed (the dataset is whole and the server is no longer loading).
    Done(Loaded),
    /// The job failed; the reason is logged. A start-up load must end the process.
    Failed { origin: Origin, error: LoadError },
}

/// Advance the load job by one budget (`loading-process-events-interval-bytes`), and end it when it
/// is done or has failed.
pub fn step(core: &mut Core) -> Outcome {
    let budget = u64::from(core.config.loading_process_events_interval_bytes.max(1));
    step_by(core, budget)
}

fn step_by(core: &mut Core, budget: u64) -> Outcome {
    let Some(mut job) = core.load_job.take() else {
        return Outcome::Running;
    };
    let result = job.kind.step(core, budget);
    core.persist.last_load_keys_loaded = job.kind.progress().keys_loaded;
    match result {
        Ok(Step::More) => {
            core.load_job = Some(job);
            Outcome::Running
        }
        Ok(Step::Done) => {
            core.loading = false;
            match job.kind.finish(core, job.started) {
                Ok(loaded) => {
                    if job.origin == Origin::Startup {
                        crate::log_notice!("Ready to accept connections");
                    }
                    Outcome::Done(loaded)
                }
                Err(error) => Outcome::Failed {
                    origin: job.origin,
                    error,
                },
            }
        }
        Err(error) => {
            core.loading = false;
            // The AOF logs its failures itself, with Redis's lines.
            if job.origin == Origin::Startup && !matches!(job.kind, LoadKind::Aof(_)) {
                crate::log_warning!(
                    "Fatal error loading the DB from {}: {error}. Exiting.",
                    job.kind.describe()
                );
            }
            Outcome::Failed {
                origin: job.origin,
                error,
            }
        }
    }
}

/// Load `kind` to its end here, without serving anyone (DEBUG RELOAD; the module docs say why).
pub fn run_to_end(core: &mut Core, kind: LoadKind) -> Result<Loaded, LoadError> {
    begin(core, kind, Origin::Command);
    loop {
        match step_by(core, u64::MAX) {
            Outcome::Running => {}
            Outcome::Done(loaded) => return Ok(loaded),
            Outcome::Failed { error, .. } => return Err(error),
        }
    }
}

/// One budget of an RDB load, into the core's databases and function libraries.
fn rdb_step(core: &mut Core, job: &mut RdbLoad, budget: u64) -> Result<Step, LoadError> {
    let limits = LoadLimits::from_config(&core.config);
    let (now_ms, lru_clock) = (core.clock_now_us() / 1000, core.lru_clock);
    let drop_expired = !core.is_replica && !job.keep_expired;
    let verify_checksum = core.config.rdbchecksum;
    let key_load_delay_us = core.config.key_load_delay;
    let merge = job.merge;
    let Core { dbs, functions, .. } = core;
    let mut on_function = |code: &[u8]| functions.load(code, merge).map(|_| ()).map_err(|e| e.to_string());
    job.loader.step(
        &mut Target {
            dbs,
            function: &mut on_function,
            limits,
            now_ms,
            drop_expired,
            lru_clock,
            verify_checksum,
            allow_duplicates: merge,
            key_load_delay_us,
        },
        budget,
    )
}

/// Redis's lines for the aux fields it reports, as they are read.
fn log_aux(core: &Core, job: &mut RdbLoad) {
    let aux = &job.loader.loaded().aux;
    for (name, value) in aux.iter().skip(job.aux_logged) {
        let text = String::from_utf8_lossy(value);
        match name.as_slice() {
            b"redis-ver" => crate::log_notice!("Loading RDB produced by version {text}"),
            b"ctime" => {
                let ctime = text.trim().parse::<i64>().unwrap_or(0);
                let age = (core.clock_now_us() / 1_000_000 - ctime).max(0);
                crate::log_notice!("RDB age {age} seconds");
            }
            b"used-mem" => {
                let used = text.trim().parse::<i64>().unwrap_or(0);
                crate::log_notice!(
                    "RDB memory usage when created {:.2} Mb",
                    used as f64 / (1024.0 * 1024.0)
                );
            }
            _ => {}
        }
    }
    job.aux_logged = aux.len();
}

fn aux_number(loaded: &Loaded, name: &[u8]) -> Option<i64> {
    let (_, v) = loaded.aux.iter().find(|(n, _)| n == name)?;
    std::str::from_utf8(v).ok()?.trim().parse().ok()
}

fn log_rdb_done(loaded: &Loaded, started: Instant) {
    if !loaded.checksum_checked && loaded.version >= 5 {
        crate::log_notice!("RDB file was saved with checksum disabled: no check performed.");
    }
    if loaded.empty_skipped > 0 {
        crate::log_notice!(
            "Done loading RDB, keys loaded: {}, keys expired: {}, empty keys skipped: {}.",
            loaded.keys,
            loaded.expired_skipped,
            loaded.empty_skipped
        );
    } else {
        crate::log_notice!(
            "Done loading RDB, keys loaded: {}, keys expired: {}.",
            loaded.keys,
            loaded.expired_skipped
        );
    }
    crate::log_notice!("DB loaded from disk: {:.3} seconds", started.elapsed().as_secs_f64());
}
