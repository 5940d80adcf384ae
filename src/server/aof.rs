//! The append-only file, as Redis 7.0 keeps it: a directory (`appenddirname`) holding a base file,
//! incr files and a manifest naming them (`persistence::aof::manifest`).
//!
//! - **Writing.** The AOF is a journal consumer. Once per event-loop iteration, before any reply
//!   is written (`flush`), what the journal streamed since the last flush is written to the current
//!   incr file with one `write`. `appendfsync always` fsyncs it there too, so a write is on disk
//!   before its client hears of it; `everysec` hands an fsync to a background thread at most once a
//!   second, and delays a write by up to two seconds while that fsync still runs (Redis's rule:
//!   on Linux the write would block behind it anyway); `no` leaves it to the kernel.
//! - **Rewriting** (BGREWRITEAOF, the automatic rewrite, turning the AOF on at run time) cuts the
//!   dataset with the fork-less snapshot of `server::persist` while, at the same instant, the journal
//!   starts feeding a new incr file. The snapshot becomes the next base (RDB with
//!   `aof-use-rdb-preamble`, else commands); the manifest then names the new base and the incr files
//!   written since the cut, and what they replace becomes history, deleted in the background.
//! - **Loading** at start-up replays the base and the incr files in order through the dispatcher, as
//!   Redis's fake AOF client does, a budget per event-loop iteration (`AofLoad`, a kind of
//!   `server::load` job: clients get `-LOADING` meanwhile). A truncated last file is cut at its last
//!   whole command when `aof-load-truncated` allows (a transaction without its EXEC counts as
//!   truncated). The AOF is opened for writing when the load ends.
//!
//! Invariants: the manifest on disk always names files that exist and hold a loadable dataset (a new
//! incr file is created before the manifest names it; a new base is renamed into place before the
//! manifest names it; files are deleted only after the manifest stops naming them). Every byte the
//! journal held when a snapshot was cut belongs to the files before the new incr file.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use resp::ReplyBuf;

use super::client::Client;
use super::core::Core;
use super::load::{LoadKind, Progress};
use super::persist::{self, os_error_text, Bgsave, Format, Purpose, WalkJob};
use crate::commands::dispatch;
use crate::commands::OwnedArgs;
use crate::config::AppendFsync;
use crate::journal::ConsumerId;
use crate::persistence::aof::manifest::{FileType, Manifest, ManifestError};
use crate::persistence::aof::reader::{CommandReader, ReadError};
use crate::persistence::rdb::{LoadError, Loaded, Step};

/// A failure whose reason was already logged with Redis's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Logged;

/// Log a failure (a warning, Redis's text) and say so.
fn warn(msg: impl std::fmt::Display) -> Logged {
    crate::log_warning!("{msg}");
    Logged
}

/// Logging returns `()`: `map_err(|e| log_warning!(..))?` turns into `Logged`.
impl From<()> for Logged {
    fn from((): ()) -> Logged {
        Logged
    }
}

/// Whether the AOF is on, or waiting for the rewrite that turns it on (CONFIG SET appendonly yes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    On,
    WaitRewrite,
}

/// AOF figures for INFO persistence.
#[derive(Debug, Clone)]
pub struct AofStats {
    pub rewrites: u64,
    pub consecutive_failures: u64,
    pub last_rewrite_ok: bool,
    /// Seconds the last rewrite took (-1 before the first).
    pub last_rewrite_secs: i64,
    /// A rewrite waits for the background job in progress (or the transaction) to end.
    pub rewrite_scheduled: bool,
}

impl Default for AofStats {
    fn default() -> Self {
        AofStats {
            rewrites: 0,
            consecutive_failures: 0,
            last_rewrite_ok: true,
            last_rewrite_secs: -1,
            rewrite_scheduled: false,
        }
    }
}

/// The AOF being written.
pub struct Aof {
    pub state: State,
    manifest: Manifest,
    file: File,
    /// The incr file being written (its name in `appenddirname`).
    file_name: String,
    consumer: ConsumerId,
    /// Bytes to write before the journal's at the next flush (a new file's SELECT, a timestamp).
    prefix: Vec<u8>,
    /// `aof_current_size`: base and incr files together.
    pub current_size: u64,
    /// The size after the last rewrite (the base), for the automatic rewrite's growth.
    pub base_size: u64,
    /// Bytes written to the current incr file (a short write is cut back to this).
    last_incr_size: u64,
    /// `current_size` at the last fsync.
    fsync_offset: u64,
    last_fsync_s: i64,
    /// When a write was first postponed behind a running fsync (0: none).
    postponed_since_s: i64,
    pub delayed_fsync: u64,
    last_timestamp_s: i64,
    /// The last write failed with this reason (writes are refused with MISCONF meanwhile).
    pub write_error: Option<String>,
    background: Background,
}

impl Aof {
    /// The AOF writing `file` from the journal's current end.
    fn new(
        core: &mut Core,
        state: State,
        manifest: Manifest,
        (file, file_name): (File, String),
        sizes: (u64, u64, u64),
    ) -> Result<Aof, String> {
        let background = Background::start().map_err(|e| format!("Can't start the AOF thread: {e}"))?;
        let (current_size, base_size, last_incr_size) = sizes;
        Ok(Aof {
            state,
            manifest,
            file,
            file_name,
            consumer: core.journal.attach(),
            prefix: Vec::new(),
            current_size,
            base_size,
            last_incr_size,
            fsync_offset: current_size,
            last_fsync_s: core.now_ms / 1000,
            postponed_since_s: 0,
            delayed_fsync: 0,
            last_timestamp_s: 0,
            write_error: None,
            background,
        })
    }

    /// A write or an fsync failed: the reason, for MISCONF.
    pub fn error(&self) -> Option<String> {
        self.write_error.clone().or_else(|| self.background.fsync_error())
    }

    pub fn fsync_pending(&self) -> usize {
        self.background.syncs.load(Ordering::Acquire)
    }

    /// Bytes the journal holds that are not in the file yet.
    pub fn buffered(&self, core_journal: &crate::journal::Journal) -> usize {
        core_journal.unread(self.consumer).len() + self.prefix.len()
    }
}

// ---- the background thread: fsyncs, closes, unlinks ----

enum Job {
    /// Fsync the current incr file; the name and size it had are what becomes durable.
    Fsync(File, String, u64),
    /// Fsync then drop (the incr file a rewrite stopped writing).
    FsyncClose(File),
    Unlink(PathBuf),
}

/// Redis's bio thread for the AOF: fsync off the event loop, and file removals.
struct Background {
    tx: Sender<Job>,
    /// Fsyncs of the current file queued or running (`aof_pending_bio_fsync`).
    syncs: Arc<AtomicUsize>,
    error: Arc<Mutex<Option<String>>>,
}

impl Background {
    fn start() -> std::io::Result<Background> {
        let (tx, rx) = channel::<Job>();
        let syncs = Arc::new(AtomicUsize::new(0));
        let error = Arc::new(Mutex::new(None));
        let (s, e) = (Arc::clone(&syncs), Arc::clone(&error));
        std::thread::Builder::new().name("ferrite-aof".into()).spawn(move || {
            while let Ok(job) = rx.recv() {
                match job {
                    Job::Fsync(f, name, size) => {
                        let r = f.sync_data();
                        if r.is_ok() {
                            durable::record(&name, size);
                        }
                        if let Ok(mut slot) = e.lock() {
                            match r {
                                Ok(()) => *slot = None,
                                Err(err) => {
                                    crate::log_warning!("Fail to fsync the AOF file: {}", os_error_text(&err));
                                    *slot = Some(os_error_text(&err));
                                }
                            }
                        }
                        s.fetch_sub(1, Ordering::AcqRel);
                    }
                    Job::FsyncClose(f) => {
                        let _ = f.sync_data();
                    }
                    Job::Unlink(p) => {
                        let _ = std::fs::remove_file(p);
                    }
                }
            }
        })?;
        Ok(Background { tx, syncs, error })
    }

    fn fsync(&self, f: &File, name: &str, size: u64) {
        if let Ok(clone) = f.try_clone() {
            self.syncs.fetch_add(1, Ordering::AcqRel);
            if self.tx.send(Job::Fsync(clone, name.to_string(), size)).is_err() {
                self.syncs.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }

    fn in_progress(&self) -> bool {
        self.syncs.load(Ordering::Acquire) > 0
    }

    fn fsync_error(&self) -> Option<String> {
        self.error.lock().ok().and_then(|e| e.clone())
    }
}

/// `dir`/`appenddirname`.
pub fn aof_dir(core: &Core) -> PathBuf {
    core.config.dir.join(&core.config.appenddirname)
}

fn manifest_name(core: &Core) -> String {
    format!("{}.manifest", core.config.appendfilename)
}

/// Write the manifest: a temp file, fsync, rename, the directory's fsync. Errors are logged as Redis
/// logs them.
fn persist_manifest(core: &Core, dir: &Path, m: &Manifest) -> Result<(), Logged> {
    let name = manifest_name(core);
    let tmp_name = format!("temp-{name}");
    let tmp = dir.join(&tmp_name);
    let write = || -> Result<(), String> {
        let mut f = File::create(&tmp)
            .map_err(|e| format!("Can't open the AOF manifest file {tmp_name}: {}", os_error_text(&e)))?;
        f.write_all(m.to_text().as_bytes()).map_err(|e| {
            format!(
                "Error trying to write the temporary AOF manifest file {tmp_name}: {}",
                os_error_text(&e)
            )
        })?;
        f.sync_all()
            .map_err(|e| format!("Fail to fsync the temp AOF file {tmp_name}: {}.", os_error_text(&e)))?;
        std::fs::rename(&tmp, dir.join(&name)).map_err(|e| {
            format!(
                "Error trying to rename the temporary AOF manifest file {tmp_name} into {name}: {}",
                os_error_text(&e)
            )
        })?;
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| format!("Fail to fsync AOF directory {}: {}.", dir.display(), os_error_text(&e)))
    };
    write().map_err(warn)
}

// ---- start-up ----

/// What start-up found in `appenddirname`.
pub enum OnDisk {
    /// No AOF yet (nothing is loaded: the AOF wins over the RDB even when it is missing).
    Missing,
    Found(Manifest),
}

/// Read the manifest at start (a bad one is fatal, with Redis's log lines).
pub fn read_manifest(core: &Core) -> Result<OnDisk, Logged> {
    let path = aof_dir(core).join(manifest_name(core));
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(OnDisk::Missing),
        Err(e) => {
            crate::log_warning!(
                "Fatal error: can't open the AOF manifest file {} for reading: {}",
                path.display(),
                os_error_text(&e)
            );
            return Err(Logged);
        }
    };
    match Manifest::parse(&bytes) {
        Ok(m) => Ok(OnDisk::Found(m)),
        Err(ManifestError { line, reason }) => {
            crate::log_warning!("\n*** FATAL AOF MANIFEST FILE ERROR ***\n");
            if let Some((n, text)) = line {
                crate::log_warning!("Reading the manifest file, at line {n}\n");
                crate::log_warning!(">>> '{text}'\n");
            }
            crate::log_warning!("{reason}\n");
            Err(Logged)
        }
    }
}

/// The AOF being loaded at start-up, a kind of load job (`server::load`): the base file (an RDB,
/// stepped by the RDB loader, or commands) and the incr files, replayed in order a budget at a time,
/// then the AOF is opened for writing (`open_on_start`).
pub struct AofLoad {
    dir: PathBuf,
    /// (name, is the base) in load order, and their sizes.
    files: Vec<(String, bool, u64)>,
    /// The file being loaded (an index into `files`).
    index: usize,
    part: Option<Part>,
    /// Bytes of the files already loaded.
    done_bytes: u64,
    /// Keys the base RDB held (`rdb_last_load_keys_loaded`).
    base_keys: u64,
    /// Commands replayed so far (for `key-load-delay`).
    replayed: u64,
    file_started: Instant,
    client: Box<Client>,
    args: OwnedArgs,
    out: ReplyBuf,
    /// What the manifest said, for opening the AOF once loaded.
    found: Option<OnDisk>,
}

/// The file being loaded.
enum Part {
    Rdb(Box<LoadKind>),
    Commands {
        reader: CommandReader<BufReader<File>>,
        valid_up_to: u64,
        valid_before_multi: u64,
    },
}

/// Prepare the load at start-up. `Ok(None)` when there is nothing to load (no manifest, or files
/// that are all empty): the caller opens the AOF at once. `Err` is fatal; the reason was logged.
pub fn begin_load(core: &mut Core) -> Result<Option<AofLoad>, Logged> {
    let found = read_manifest(core)?;
    let dir = aof_dir(core);
    let mut files = vec![];
    if let OnDisk::Found(m) = &found {
        for f in m.data_files() {
            match std::fs::metadata(dir.join(&f.name)) {
                Ok(md) => files.push((f.name.clone(), f.kind == FileType::Base, md.len())),
                Err(e) => {
                    return Err(warn(format!(
                        "Fatal error: can't open the append log file {} for reading: {}",
                        f.name,
                        os_error_text(&e)
                    )))
                }
            }
        }
    }
    if files.iter().all(|f| f.2 == 0) {
        open_on_start(core, found)?;
        return Ok(None);
    }
    let mut client = Box::new(Client::new(u64::MAX, usize::MAX, None, core.now_ms));
    client.authenticated = true;
    Ok(Some(AofLoad {
        dir,
        files,
        index: 0,
        part: None,
        done_bytes: 0,
        base_keys: 0,
        replayed: 0,
        file_started: Instant::now(),
        client,
        args: OwnedArgs::default(),
        out: ReplyBuf::new(resp::Protocol::Resp2),
        found: Some(found),
    }))
}

/// A load failure whose Redis lines were logged already.
fn failed(reason: &str) -> LoadError {
    LoadError {
        offset: 0,
        reason: reason.to_string(),
    }
}

impl AofLoad {
    /// Advance by about `budget` bytes.
    pub fn step(&mut self, core: &mut Core, budget: u64) -> Result<Step, LoadError> {
        let mut left = budget;
        loop {
            if self.part.is_none() {
                let Some((name, _, size)) = self.files.get(self.index).cloned() else {
                    return Ok(Step::Done);
                };
                if size == 0 {
                    self.index += 1;
                    continue;
                }
                self.part = Some(self.open(&name)?);
                self.file_started = Instant::now();
            }
            let done = match self.part.as_mut() {
                Some(Part::Rdb(kind)) => match kind.step(core, left)? {
                    Step::More => return Ok(Step::More),
                    Step::Done => {
                        let Some(Part::Rdb(kind)) = self.part.take() else {
                            unreachable!()
                        };
                        let loaded = kind.finish(core, self.file_started)?;
                        self.base_keys = loaded.keys;
                        // The RDB load ended its own loading state; the AOF is not whole yet.
                        core.loading = true;
                        true
                    }
                },
                Some(Part::Commands { .. }) => self.replay(core, &mut left)?,
                None => false,
            };
            if !done {
                return Ok(Step::More);
            }
            self.file_done();
        }
    }

    fn open(&mut self, name: &str) -> Result<Part, LoadError> {
        let path = self.dir.join(name);
        let mut f = File::open(&path).map_err(|e| {
            crate::log_warning!(
                "Fatal error: can't open the append log file {name} for reading: {}",
                os_error_text(&e)
            );
            failed("can't open an AOF file")
        })?;
        let mut sig = [0u8; 5];
        let is_rdb = f.read_exact(&mut sig).is_ok() && &sig == b"REDIS";
        if is_rdb {
            crate::log_notice!("Reading RDB base file on AOF loading...");
            return match super::load::open_rdb_preamble(&path) {
                Ok(Some(kind)) => Ok(Part::Rdb(Box::new(kind))),
                Ok(None) | Err(_) => Err(self.base_error(name)),
            };
        }
        f.rewind().map_err(|_| failed("can't read an AOF file"))?;
        let size = self.files[self.index].2;
        Ok(Part::Commands {
            reader: CommandReader::new(BufReader::with_capacity(1 << 20, f), 0, size),
            valid_up_to: 0,
            valid_before_multi: 0,
        })
    }

    fn base_error(&self, name: &str) -> LoadError {
        crate::log_warning!("Error reading the RDB base file {name}, AOF loading aborted");
        failed("the RDB base file is damaged")
    }

    /// Replay commands until `left` bytes are used or the file ends (then true).
    fn replay(&mut self, core: &mut Core, left: &mut u64) -> Result<bool, LoadError> {
        let (name, _, _) = self.files[self.index].clone();
        let last = self.index + 1 == self.files.len();
        let Some(Part::Commands {
            reader,
            valid_up_to,
            valid_before_multi,
        }) = self.part.as_mut()
        else {
            return Ok(true);
        };
        let start = reader.position();
        let outcome = loop {
            if reader.position() - start >= *left {
                *left = 0;
                return Ok(false);
            }
            match reader.next_command(&mut self.args) {
                Ok(true) => {
                    let view = self.args.view();
                    if view.get(0).eq_ignore_ascii_case(b"multi") {
                        *valid_before_multi = *valid_up_to;
                    }
                    self.out.buf.clear();
                    if dispatch::replay(core, &mut self.client, &view, &mut self.out).is_err() {
                        crate::log_warning!(
                            "Unknown command '{}' reading the append only file {name}",
                            String::from_utf8_lossy(view.get(0))
                        );
                        return Err(failed("unknown command in the AOF"));
                    }
                    *valid_up_to = reader.position();
                    self.replayed += 1;
                    crate::persistence::rdb::load::key_load_delay(core.config.key_load_delay, self.replayed);
                }
                Ok(false) if self.client.multi.is_some() => {
                    crate::log_warning!("Revert incomplete MULTI/EXEC transaction in AOF file {name}");
                    break *valid_before_multi;
                }
                Ok(false) => {
                    *left -= (reader.position() - start).min(*left);
                    return Ok(true);
                }
                Err(ReadError::Truncated) => break *valid_up_to,
                Err(ReadError::Format) => {
                    crate::log_warning!(
                        "Bad file format reading the append only file {name}: make a backup of your AOF file, then \
                         use ./redis-check-aof --fix <filename.manifest>"
                    );
                    return Err(failed("bad file format in the AOF"));
                }
                Err(ReadError::Io(e)) => {
                    crate::log_warning!(
                        "Unrecoverable error reading the append only file {name}: {}",
                        os_error_text(&e)
                    );
                    return Err(failed("can't read an AOF file"));
                }
            }
        };
        // The file ends inside a command or a transaction.
        *left -= (reader.position() - start).min(*left);
        let path = self.dir.join(&name);
        match truncated(core, &mut self.client, &path, &name, outcome) {
            // Only the last file may end early: an earlier one would lose what follows it.
            Ok(()) if last => Ok(true),
            _ => Err(failed("the AOF ends early")),
        }
    }

    fn file_done(&mut self) {
        let (name, is_base, size) = &self.files[self.index];
        let kind = if *is_base { "base" } else { "incr" };
        crate::log_notice!(
            "DB loaded from {kind} file {name}: {:.3} seconds",
            self.file_started.elapsed().as_secs_f64()
        );
        self.done_bytes += size;
        self.part = None;
        self.index += 1;
    }

    pub fn progress(&self) -> Progress {
        let current = match &self.part {
            Some(Part::Rdb(kind)) => kind.progress().loaded_bytes,
            Some(Part::Commands { reader, .. }) => reader.position(),
            None => 0,
        };
        let keys = match &self.part {
            Some(Part::Rdb(kind)) => kind.progress().keys_loaded,
            _ => self.base_keys,
        };
        Progress {
            total_bytes: self.files.iter().map(|f| f.2).sum(),
            loaded_bytes: self.done_bytes + current,
            rdb_used_mem: 0,
            keys_loaded: keys,
        }
    }

    /// The load is whole: Redis's closing line, then the AOF is opened for writing.
    pub fn finish(mut self, core: &mut Core, started: Instant) -> Result<Loaded, LoadError> {
        crate::log_notice!(
            "DB loaded from append only file: {:.3} seconds",
            started.elapsed().as_secs_f64()
        );
        let found = self.found.take().unwrap_or(OnDisk::Missing);
        // CONFIG SET appendonly no during the load leaves the AOF closed.
        if core.config.appendonly && core.aof.is_none() {
            open_on_start(core, found).map_err(|Logged| failed("can't open the AOF"))?;
        }
        Ok(Loaded {
            keys: self.base_keys,
            ..Loaded::default()
        })
    }

    pub fn describe(&self) -> String {
        self.dir.display().to_string()
    }
}

/// The file ends inside a command (or a transaction): cut it there when `aof-load-truncated` allows.
fn truncated(core: &mut Core, client: &mut Client, path: &Path, name: &str, valid_up_to: u64) -> Result<(), Logged> {
    client.multi = None;
    if core.config.aof_load_truncated {
        crate::log_warning!("!!! Warning: short read while loading the AOF file {name}!!!");
        crate::log_warning!("!!! Truncating the AOF {name} at offset {valid_up_to} !!!");
        let cut = OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(valid_up_to));
        match cut {
            Ok(()) => {
                crate::log_warning!("AOF {name} loaded anyway because aof-load-truncated is enabled");
                return Ok(());
            }
            Err(e) => crate::log_warning!("Error truncating the AOF file {name}: {}", os_error_text(&e)),
        }
    }
    crate::log_warning!(
        "Unexpected end of file reading the append only file {name}. You can: 1) Make a backup of your AOF file, \
         then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the \
         'aof-load-truncated' configuration option to yes and restart the server."
    );
    Err(Logged)
}

/// Open (or create) the AOF after the load at start-up, as Redis's `aofOpenIfNeededOnServerStart`:
/// a base file is written when there is none and no incr file, the last incr file is opened for
/// appending (a new one when there is none), and the manifest is made durable. `Err` is fatal.
pub fn open_on_start(core: &mut Core, found: OnDisk) -> Result<(), Logged> {
    let dir = aof_dir(core);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        crate::log_warning!(
            "Can't open or create append-only dir {}: {}",
            core.config.appenddirname,
            os_error_text(&e)
        );
        return Err(Logged);
    }
    let mut manifest = match found {
        OnDisk::Found(m) => m,
        OnDisk::Missing => Manifest::default(),
    };
    let filename = core.config.appendfilename.clone();
    let had_incr = !manifest.incr.is_empty();
    let mut base_size = 0;
    if manifest.base.is_none() && !had_incr {
        let name = manifest.new_base(&filename, core.config.aof_use_rdb_preamble);
        base_size = write_base_now(core, &dir.join(&name))?;
        crate::log_notice!("Creating AOF base file {name} on server start");
    } else if let Some(b) = &manifest.base {
        base_size = std::fs::metadata(dir.join(&b.name)).map(|m| m.len()).unwrap_or(0);
    }
    let incr = match manifest.incr.last() {
        Some(f) => f.name.clone(),
        None => manifest.new_incr(&filename),
    };
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(&incr))
        .map_err(|e| crate::log_warning!("Can't open the append-only file {incr}: {}", os_error_text(&e)))?;
    persist_manifest(core, &dir, &manifest)?;
    let total: u64 = manifest
        .data_files()
        .map(|f| std::fs::metadata(dir.join(&f.name)).map(|m| m.len()).unwrap_or(0))
        .sum();
    let incr_size = std::fs::metadata(dir.join(&incr)).map(|m| m.len()).unwrap_or(0);
    if had_incr {
        crate::log_notice!("Opening AOF incr file {incr} on server start");
    } else {
        crate::log_notice!("Creating AOF incr file {incr} on server start");
    }
    let aof = Aof::new(core, State::On, manifest, (file, incr), (total, base_size, incr_size)).map_err(warn)?;
    core.aof = Some(aof);
    Ok(())
}

/// Write the base created at start-up when there is no AOF yet, synchronously. Returns its size.
/// Nothing was loaded then (the AOF wins over dump.rdb), so the dataset is empty: an RDB with its
/// header, or the commands form's header alone.
fn write_base_now(core: &Core, path: &Path) -> Result<u64, Logged> {
    debug_assert!(core.dbs.iter().all(|db| db.is_empty()));
    let write = || -> std::io::Result<u64> {
        let mut file = File::create(path)?;
        let size = if core.config.aof_use_rdb_preamble {
            let (f, size) = persist::write_rdb(core, file, true)?;
            file = f;
            size
        } else {
            let mut out = Vec::new();
            write_commands_header(core, &mut out);
            file.write_all(&out)?;
            out.len() as u64
        };
        file.sync_all()?;
        Ok(size)
    };
    write().map_err(|e| warn(format!("Write error writing the AOF base file: {}", os_error_text(&e))))
}

/// What a commands-form base starts with: a timestamp when they are on, the function libraries.
fn write_commands_header(core: &Core, out: &mut Vec<u8>) {
    if core.config.aof_timestamp_enabled {
        out.extend_from_slice(format!("#TS:{}\r\n", core.now_ms / 1000).as_bytes());
    }
    for lib in core.functions.libraries() {
        crate::persistence::aof::rewrite::write_function(out, &lib.code);
    }
}

// ---- writing ----

/// Write what the journal streamed since the last flush, then fsync as `appendfsync` says (module
/// docs). Called before replies go out; `force` writes even behind a running fsync.
pub fn flush(core: &mut Core, force: bool) {
    let now_s = core.now_ms / 1000;
    let in_rewrite = core.bgsave.is_some();
    let Core {
        aof, journal, config, ..
    } = core;
    let Some(a) = aof.as_mut() else { return };
    let policy = config.appendfsync;
    let everysec = policy == AppendFsync::Everysec;
    if journal.unread(a.consumer).is_empty() && a.prefix.is_empty() {
        // Nothing new: still fsync what the last second wrote (everysec), so a write followed by
        // silence reaches the disk.
        if everysec && a.fsync_offset != a.current_size && now_s > a.last_fsync_s && !a.background.in_progress() {
            try_fsync(a, policy, now_s, in_rewrite && config.no_appendfsync_on_rewrite);
        }
        return;
    }
    let sync_in_progress = everysec && a.background.in_progress();
    if everysec && !force && sync_in_progress {
        if a.postponed_since_s == 0 {
            a.postponed_since_s = now_s;
            return;
        }
        if now_s - a.postponed_since_s < 2 {
            return;
        }
        a.delayed_fsync += 1;
        crate::log_notice!(
            "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for \
             fsync to complete, this may slow down Redis."
        );
    }
    if config.aof_timestamp_enabled && now_s > a.last_timestamp_s {
        a.prefix.extend_from_slice(format!("#TS:{now_s}\r\n").as_bytes());
        a.last_timestamp_s = now_s;
    }
    let unread = journal.unread(a.consumer);
    let written = if a.prefix.is_empty() {
        a.file.write_all(unread)
    } else {
        a.file.write_all(&a.prefix).and_then(|()| a.file.write_all(unread))
    };
    a.postponed_since_s = 0;
    let n = unread.len() as u64 + a.prefix.len() as u64;
    if let Err(e) = written {
        // Take back a partial write, so the file never ends inside a command.
        let _ = a.file.set_len(a.last_incr_size);
        let reason = os_error_text(&e);
        if policy == AppendFsync::Always {
            crate::log_warning!("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
            std::process::exit(1);
        }
        if a.write_error.is_none() {
            crate::log_warning!("Error writing to the AOF file: {reason}");
        }
        a.write_error = Some(reason);
        return;
    }
    let consumed = unread.len();
    journal.consume(a.consumer, consumed);
    a.prefix.clear();
    if a.write_error.take().is_some() {
        crate::log_warning!("AOF write error looks solved, Redis can write again.");
    }
    a.current_size += n;
    a.last_incr_size += n;
    try_fsync(a, policy, now_s, in_rewrite && config.no_appendfsync_on_rewrite);
}

fn try_fsync(a: &mut Aof, policy: AppendFsync, now_s: i64, skip: bool) {
    if skip {
        return;
    }
    match policy {
        AppendFsync::Always => {
            if let Err(e) = a.file.sync_data() {
                crate::log_warning!(
                    "Can't persist AOF for fsync error when the AOF fsync policy is 'always': {}. Exiting...",
                    os_error_text(&e)
                );
                std::process::exit(1);
            }
            durable::record(&a.file_name, a.last_incr_size);
            a.fsync_offset = a.current_size;
            a.last_fsync_s = now_s;
        }
        AppendFsync::Everysec if now_s > a.last_fsync_s => {
            if !a.background.in_progress() {
                a.background.fsync(&a.file, &a.file_name, a.last_incr_size);
                a.fsync_offset = a.current_size;
            }
            a.last_fsync_s = now_s;
        }
        _ => {}
    }
}

// ---- rewriting ----

/// How BGREWRITEAOF went.
#[derive(Debug, PartialEq, Eq)]
pub enum RewriteStart {
    Started,
    Scheduled,
}

/// Start a rewrite (BGREWRITEAOF, the automatic one, CONFIG SET appendonly yes). The error is
/// Redis's reply text.
pub fn start_rewrite(core: &mut Core) -> Result<RewriteStart, String> {
    if core.bgsave.as_ref().is_some_and(|b| b.purpose == Purpose::AofRewrite) {
        return Err("ERR Background append only file rewriting already in progress".into());
    }
    if core.bgsave.is_some() || core.exec.depth() > 1 {
        core.aof_stats.rewrite_scheduled = true;
        return Ok(RewriteStart::Scheduled);
    }
    rewrite_now(core).map(|()| RewriteStart::Started).map_err(|Logged| {
        "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.".into()
    })
}

/// The cut: a new incr file takes the journal from here, and the snapshot walk starts.
fn rewrite_now(core: &mut Core) -> Result<(), Logged> {
    core.aof_stats.rewrite_scheduled = false;
    flush(core, true);
    let dir = aof_dir(core);
    let pid = std::process::id();
    let tmp = core.config.dir.join(format!("temp-rewriteaof-bg-{pid}.aof"));
    let file = File::create(&tmp).map_err(|e| {
        crate::log_warning!(
            "Can't open the append-only file {}: {}",
            tmp.display(),
            os_error_text(&e)
        );
    })?;
    let rdb = core.config.aof_use_rdb_preamble;
    let header = if rdb {
        persist::rdb_header(core, true)
    } else {
        let mut out = Vec::new();
        write_commands_header(core, &mut out);
        out
    };
    // With the AOF off (a BGREWRITEAOF all the same), there is no incr file: only a new base.
    if core.aof.is_some() && open_new_incr(core, &dir).is_err() {
        let _ = std::fs::remove_file(&tmp);
        return Err(Logged);
    }
    let job = WalkJob {
        purpose: Purpose::AofRewrite,
        format: if rdb {
            Format::Rdb {
                checksum: core.config.rdbchecksum,
            }
        } else {
            Format::Commands
        },
        file,
        tmp: tmp.clone(),
        target: None,
        header,
    };
    if let Err(e) = persist::start_walk(core, job) {
        crate::log_warning!("{e}");
        return Err(Logged);
    }
    crate::log_notice!("Background append only file rewriting started");
    Ok(())
}

/// Switch the journal to a fresh incr file at the cut (Redis's `openNewIncrAofForAppend`): when the
/// AOF is on, the next incr file, named in the manifest at once; while it waits for its first
/// rewrite, a temp file the rewrite's end renames.
fn open_new_incr(core: &mut Core, dir: &Path) -> Result<(), Logged> {
    let filename = core.config.appendfilename.clone();
    let selected = core.journal.selected_db();
    let Some(a) = core.aof.as_ref() else { return Err(Logged) };
    let mut manifest = a.manifest.clone();
    let name = match a.state {
        State::WaitRewrite => format!("temp-{filename}.incr"),
        State::On => manifest.new_incr(&filename),
    };
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(dir.join(&name))
        .map_err(|e| crate::log_warning!("Can't open the append-only file {name}: {}", os_error_text(&e)))?;
    if a.state == State::On {
        persist_manifest(core, dir, &manifest)?;
    }
    crate::log_notice!("Creating AOF incr file {name} on background rewrite");
    let Some(a) = core.aof.as_mut() else { return Err(Logged) };
    let old = std::mem::replace(&mut a.file, file);
    a.file_name = name;
    let _ = a.background.tx.send(Job::FsyncClose(old));
    if a.state == State::On {
        a.manifest = manifest;
    }
    a.last_incr_size = 0;
    a.fsync_offset = a.current_size;
    // The stream only says SELECT when the database changes: the new file says it first.
    a.prefix.clear();
    if let Some(db) = selected {
        crate::persistence::aof::rewrite::write_select(&mut a.prefix, db);
    }
    Ok(())
}

/// A rewrite's walk ended (`persist::finish_bgsave`): on success the temp file becomes the new base,
/// the manifest names it, and what it replaces is removed.
pub fn rewrite_done(core: &mut Core, bg: &Bgsave, outcome: Result<u64, String>) {
    core.aof_stats.last_rewrite_secs = bg.elapsed_secs();
    let result = outcome.map_err(warn).and_then(|size| install_base(core, bg, size));
    match result {
        Ok(()) => {
            core.aof_stats.rewrites += 1;
            core.aof_stats.consecutive_failures = 0;
            core.aof_stats.last_rewrite_ok = true;
            crate::log_notice!("Background AOF rewrite finished successfully");
        }
        Err(Logged) => {
            let _ = std::fs::remove_file(&bg.tmp);
            core.aof_stats.consecutive_failures += 1;
            core.aof_stats.last_rewrite_ok = false;
            crate::log_warning!("Background AOF rewrite terminated with error");
            if core.aof.as_ref().is_some_and(|a| a.state == State::WaitRewrite) {
                core.aof_stats.rewrite_scheduled = true;
            }
        }
    }
}

fn install_base(core: &mut Core, bg: &Bgsave, size: u64) -> Result<(), Logged> {
    crate::log_notice!("Background AOF rewrite terminated with success");
    let dir = aof_dir(core);
    let filename = core.config.appendfilename.clone();
    let rdb = core.config.aof_use_rdb_preamble;
    let tmp_name = bg
        .tmp
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let state = core.aof.as_ref().map(|a| a.state);
    let mut manifest = match &core.aof {
        Some(a) => a.manifest.clone(),
        None => {
            std::fs::create_dir_all(&dir).map_err(|e| {
                crate::log_warning!(
                    "Can't open or create append-only dir {}: {}",
                    core.config.appenddirname,
                    os_error_text(&e)
                )
            })?;
            match read_manifest(core)? {
                OnDisk::Found(m) => m,
                OnDisk::Missing => Manifest::default(),
            }
        }
    };
    let base = manifest.new_base(&filename, rdb);
    if let Err(e) = std::fs::rename(&bg.tmp, dir.join(&base)) {
        crate::log_warning!(
            "Error trying to rename the temporary AOF base file {tmp_name} into {base}: {}",
            os_error_text(&e)
        );
        return Err(Logged);
    }
    // The incr files before the cut are in the new base; the one being written (AOF on) stays.
    manifest.retire_incr(state == Some(State::On));
    if state == Some(State::WaitRewrite) {
        // The temp incr file the journal has fed since the cut becomes the first incr file.
        let temp_incr = format!("temp-{filename}.incr");
        let incr = manifest.new_incr(&filename);
        if let Err(e) = std::fs::rename(dir.join(&temp_incr), dir.join(&incr)) {
            crate::log_warning!(
                "Error trying to rename the temporary AOF incr file {temp_incr} into {incr}: {}",
                os_error_text(&e)
            );
            return Err(Logged);
        }
    }
    persist_manifest(core, &dir, &manifest)?;
    crate::log_notice!("Successfully renamed the temporary AOF base file {tmp_name} into {base}");
    let removed = !core.config.aof_disable_auto_gc && !manifest.history.is_empty();
    let history = if removed {
        std::mem::take(&mut manifest.history)
    } else {
        Vec::new()
    };
    if let Some(a) = core.aof.as_mut() {
        a.base_size = size;
        a.current_size = size + a.last_incr_size;
        if a.state == State::WaitRewrite {
            a.state = State::On;
        }
    }
    if removed {
        // The manifest stops naming the history files before they go.
        persist_manifest(core, &dir, &manifest)?;
        for f in &history {
            crate::log_notice!("Removing the history file {} in the background", f.name);
            let path = dir.join(&f.name);
            match &core.aof {
                Some(a) => {
                    let _ = a.background.tx.send(Job::Unlink(path));
                }
                None => {
                    let _ = std::fs::remove_file(path);
                }
            }
        }
    }
    if let Some(a) = core.aof.as_mut() {
        a.manifest = manifest;
    }
    Ok(())
}

/// The cron's part (Redis's serverCron): a scheduled rewrite once nothing runs in the background,
/// and the automatic rewrite when the AOF grew by `auto-aof-rewrite-percentage` over its base.
pub fn cron(core: &mut Core) {
    // Nothing snapshots a half-loaded dataset: a rewrite asked for meanwhile waits for the load.
    if core.bgsave.is_some() || core.aof.is_none() || core.loading {
        return;
    }
    if core.aof_stats.rewrite_scheduled {
        let _ = rewrite_now(core);
        return;
    }
    let Some(a) = core.aof.as_ref() else { return };
    let (perc, min) = (
        u64::from(core.config.auto_aof_rewrite_percentage),
        core.config.auto_aof_rewrite_min_size,
    );
    if a.state != State::On || perc == 0 || a.current_size <= min {
        return;
    }
    let base = a.base_size.max(1);
    let growth = (a.current_size * 100 / base).saturating_sub(100);
    if growth >= perc {
        crate::log_notice!("Starting automatic rewriting of AOF on {growth}% growth");
        let _ = rewrite_now(core);
    }
}

// ---- turning it on and off at run time ----

/// CONFIG SET appendonly: yes starts the rewrite that turns the AOF on; no writes what is pending,
/// fsyncs and closes it (and abandons a rewrite in progress). The error is CONFIG SET's reason.
pub fn set_enabled(core: &mut Core, on: bool) -> Result<(), String> {
    match (on, core.aof.is_some()) {
        (true, false) => start(core),
        (false, true) => {
            stop(core);
            Ok(())
        }
        _ => Ok(()),
    }
}

fn start(core: &mut Core) -> Result<(), String> {
    let dir = aof_dir(core);
    let fail = |what: String| {
        crate::log_warning!("{what}");
        "Unable to turn on AOF. Check server logs.".to_string()
    };
    std::fs::create_dir_all(&dir).map_err(|e| {
        fail(format!(
            "Can't open or create append-only dir {}: {}",
            core.config.appenddirname,
            os_error_text(&e)
        ))
    })?;
    let manifest = match read_manifest(core) {
        Ok(OnDisk::Found(m)) => m,
        Ok(OnDisk::Missing) => Manifest::default(),
        Err(Logged) => return Err("Unable to turn on AOF. Check server logs.".into()),
    };
    // A placeholder until the rewrite's cut opens the temp incr file (open_new_incr replaces it).
    let file = File::open("/dev/null").map_err(|e| fail(os_error_text(&e)))?;
    let aof = Aof::new(core, State::WaitRewrite, manifest, (file, String::new()), (0, 0, 0)).map_err(fail)?;
    core.aof = Some(aof);
    if core.bgsave.as_ref().is_some_and(|b| b.purpose == Purpose::AofRewrite) {
        persist::abort_bgsave(core);
    }
    if core.bgsave.is_some() {
        crate::log_warning!(
            "AOF was enabled but there is already another background operation. An AOF background was scheduled \
             to start when possible."
        );
        core.aof_stats.rewrite_scheduled = true;
        return Ok(());
    }
    if core.loading {
        core.aof_stats.rewrite_scheduled = true;
        return Ok(());
    }
    if core.exec.depth() > 1 {
        crate::log_warning!(
            "AOF was enabled during a transaction. An AOF background was scheduled to start when possible."
        );
        core.aof_stats.rewrite_scheduled = true;
        return Ok(());
    }
    if rewrite_now(core).is_err() {
        stop(core);
        crate::log_warning!(
            "Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above \
             logs for more info about the error."
        );
        return Err("Unable to turn on AOF. Check server logs.".into());
    }
    Ok(())
}

/// Turn the AOF off: write and fsync what is pending, close the file, stop a rewrite.
pub fn stop(core: &mut Core) {
    flush(core, true);
    if core.bgsave.as_ref().is_some_and(|b| b.purpose == Purpose::AofRewrite) {
        persist::abort_bgsave(core);
        let _ = std::fs::remove_file(aof_dir(core).join(format!("temp-{}.incr", core.config.appendfilename)));
    }
    if let Some(a) = core.aof.take() {
        match a.file.sync_data() {
            Ok(()) => durable::record(&a.file_name, a.last_incr_size),
            Err(e) => crate::log_warning!("Fail to fsync the AOF file: {}", os_error_text(&e)),
        }
        core.journal.detach(a.consumer);
    }
    core.aof_stats.rewrite_scheduled = false;
}

/// At shutdown: everything pending goes to the file, fsynced.
pub fn on_shutdown(core: &mut Core) {
    if core.aof.is_none() {
        return;
    }
    if core.bgsave.as_ref().is_some_and(|b| b.purpose == Purpose::AofRewrite) {
        persist::abort_bgsave(core);
    }
    crate::log_notice!("Calling fsync() on the AOF file.");
    flush(core, true);
    if let Some(a) = core.aof.as_ref() {
        if a.file.sync_data().is_ok() {
            durable::record(&a.file_name, a.last_incr_size);
        }
    }
}

/// Test-only: a record of what each fsync of an incr file made durable, so a test can simulate a
/// power loss (kill -9 keeps the page cache, so it cannot tell `always` from `everysec`). When the
/// environment variable `FERRITE_TEST_DURABLE_LOG` names a file, each successful fsync appends
/// `<incr file name> <size>` to it; the test then cuts every incr file back to its last durable size,
/// which drops exactly the writes no fsync covered. Unset (always, outside tests), nothing happens.
mod durable {
    use std::fs::{File, OpenOptions};
    use std::io::Write;
    use std::sync::{Mutex, OnceLock};

    static LOG: OnceLock<Option<Mutex<File>>> = OnceLock::new();

    pub fn record(name: &str, size: u64) {
        let log = LOG.get_or_init(|| {
            let path = std::env::var_os("FERRITE_TEST_DURABLE_LOG")?;
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .ok()
                .map(Mutex::new)
        });
        if let Some(Ok(mut f)) = log.as_ref().map(Mutex::lock) {
            let _ = writeln!(f, "{name} {size}");
        }
    }
}
