//! The dataset to and from an RDB file: SAVE, BGSAVE, SHUTDOWN's final save and DEBUG RELOAD's
//! load (formats in `persistence::rdb`; the load at start-up is a job stepped by the event loop,
//! `server::load`).
//!
//! A save writes `temp-<pid>.rdb` in `dir`, fsyncs it, renames it over `dbfilename` and fsyncs the
//! directory, so a crash at any point leaves either the previous file or the new one, whole.
//!
//! SAVE is synchronous (its contract: the server answers nothing else meanwhile). BGSAVE takes a
//! point-in-time image without fork: every database's table is cut at once (storage/table.rs: a
//! write saves a bucket the walk has not reached before changing it), the event loop walks the
//! tables a slice at a time (`bgsave_step`, about `STEP_BUDGET` per iteration; 0.2 ms keeps a
//! client's p99 at Redis's during the save), and a writer thread puts the bytes on disk. The
//! channel to it holds at most `CHANNEL_CHUNKS` chunks of `CHUNK_BYTES`:
//! when the disk is slower than the walk, the walk waits; bytes saved early by writes still pile up
//! in memory, bounded by what the writes touch.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError, TrySendError};
use std::time::{Duration, Instant};

use super::core::Core;
use crate::persistence::aof;
use crate::persistence::rdb::{self, Aux, LoadError, Loaded, Writer};
use crate::storage::EntryWriter;

/// Persistence figures for INFO.
#[derive(Debug, Clone)]
pub struct PersistStats {
    /// `stats.dirty` when the last save began (`rdb_changes_since_last_save` counts from there).
    pub dirty_at_last_save: u64,
    pub rdb_saves: u64,
    pub last_save_ok: bool,
    pub last_load_keys_loaded: u64,
    pub last_load_keys_expired: u64,
    /// Seconds the last background save took (-1 before the first).
    pub last_bgsave_secs: i64,
    /// When the last background save was attempted (ms), for the retry delay of `save` points.
    pub last_bgsave_try_ms: i64,
    /// BGSAVE ran inside a transaction: the cron starts it.
    pub bgsave_scheduled: bool,
}

impl Default for PersistStats {
    fn default() -> Self {
        PersistStats {
            dirty_at_last_save: 0,
            rdb_saves: 0,
            last_save_ok: true,
            last_load_keys_loaded: 0,
            last_load_keys_expired: 0,
            last_bgsave_secs: -1,
            last_bgsave_try_ms: 0,
            bgsave_scheduled: false,
        }
    }
}

/// `dir`/`dbfilename`.
pub fn rdb_path(core: &Core) -> PathBuf {
    core.config.dir.join(&core.config.dbfilename)
}

/// Save the dataset synchronously. On failure the previous file is untouched and the reason is
/// logged as Redis logs it.
pub fn save(core: &mut Core) -> Result<(), String> {
    let started = core.stats.dirty;
    let result = write_file(core);
    match &result {
        Ok(()) => {
            crate::log_notice!("DB saved on disk");
            core.persist.dirty_at_last_save = started;
            core.lastsave_s = core.clock_now_us() / 1_000_000;
            core.persist.last_save_ok = true;
        }
        Err(e) => {
            crate::log_warning!("{e}");
            core.persist.last_save_ok = false;
        }
    }
    core.persist.rdb_saves += 1;
    result
}

fn write_file(core: &Core) -> Result<(), String> {
    let dir = &core.config.dir;
    let (file, tmp) = create_temp(dir)?;
    let done = write_snapshot(core, file).and_then(|f| put_in_place(&f, &tmp, &rdb_path(core), dir));
    done.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        write_error(e)
    })
}

/// Open `temp-<pid>.rdb` in `dir`; the error is Redis's text.
fn create_temp(dir: &Path) -> Result<(File, PathBuf), String> {
    let name = format!("temp-{}.rdb", std::process::id());
    let tmp = dir.join(&name);
    match File::create(&tmp) {
        Ok(f) => Ok((f, tmp)),
        Err(e) => Err(format!(
            "Failed opening the temp RDB file {name} (in server root dir {}) for saving: {}",
            dir.display(),
            os_error_text(&e)
        )),
    }
}

/// A written temp file becomes `target`: fsync, rename, fsync of the directory (the module docs).
fn put_in_place(file: &File, tmp: &Path, target: &Path, dir: &Path) -> std::io::Result<()> {
    file.sync_all()?;
    std::fs::rename(tmp, target)?;
    sync_dir(dir)
}

fn write_error(e: std::io::Error) -> String {
    format!("Write error saving DB on disk: {}", os_error_text(&e))
}

fn aux(core: &Core) -> Aux {
    Aux {
        ctime_s: core.clock_now_us() / 1_000_000,
        used_mem: crate::memory::used_memory(),
        aof_base: false,
    }
}

fn write_snapshot(core: &Core, file: File) -> std::io::Result<File> {
    Ok(write_rdb(core, file, false)?.0)
}

/// The dataset as an RDB file into `file` (`aof_base`: the base of an AOF). Returns the file and
/// its size.
pub fn write_rdb(core: &Core, file: File, aof_base: bool) -> std::io::Result<(File, u64)> {
    let aux = Aux { aof_base, ..aux(core) };
    let mut w = Writer::new(file, &aux, core.config.rdbcompression, core.config.rdbchecksum);
    for lib in core.functions.libraries() {
        w.function(&lib.code)?;
    }
    for (i, db) in core.dbs.iter().enumerate() {
        w.database(i, db, core.now_ms)?;
    }
    w.finish()
}

/// fsync a directory, so a rename inside it survives a crash.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// An I/O error as `strerror` words it (no " (os error N)" suffix).
pub(crate) fn os_error_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Load `path` into the dataset here, to the end (empty, unless `merge` lets loaded keys and
/// libraries replace those present). `Ok(None)` when there is no file. The start-up load is stepped
/// by the event loop instead (`server::load`).
pub fn load(core: &mut Core, path: &Path, merge: bool) -> Result<Option<Loaded>, LoadError> {
    match super::load::open_rdb(path, merge)? {
        Some(kind) => super::load::run_to_end(core, kind).map(Some),
        None => Ok(None),
    }
}

// ---- BGSAVE ----

/// Bytes per chunk handed to the writer thread.
const CHUNK_BYTES: usize = 256 * 1024;
/// Chunks the channel to the writer holds (the walk waits when it is full).
const CHANNEL_CHUNKS: usize = 8;
/// Time the walk may take per event-loop iteration.
const STEP_BUDGET: Duration = Duration::from_micros(200);
/// Buckets walked between two looks at the clock.
const BUCKETS_PER_SLICE: usize = 256;

enum Msg {
    Bytes(Vec<u8>),
    /// Everything is sent: end the file and put it in place.
    Finish,
}

/// A background save in progress.
pub struct Bgsave {
    pub purpose: Purpose,
    format: Format,
    /// The temp file being written (removed by the writer if it fails).
    pub tmp: PathBuf,
    started: Instant,
    /// `stats.dirty` at the cut.
    dirty_at_cut: u64,
    tx: Option<SyncSender<Msg>>,
    result: Receiver<Result<u64, String>>,
    /// Bytes not yet handed to the writer.
    buf: Vec<u8>,
    /// A chunk the writer had no room for, sent first next time (kept whole rather than merged back).
    pending: Option<Vec<u8>>,
    /// The database index the image is switched to.
    selected: Option<usize>,
    /// Per snapshot index, the sizes at the cut (keys, keys with a TTL) not written yet: RESIZEDB
    /// follows a database's first SELECTDB, as in Redis's files, so a loader sizes its table at once.
    resize: Vec<Option<(u64, u64)>>,
    /// The snapshot index being walked (0..databases).
    walking: usize,
    walk_done: bool,
}

impl Bgsave {
    pub fn is_rdb(&self) -> bool {
        self.purpose == Purpose::Rdb
    }

    pub fn elapsed_secs(&self) -> i64 {
        self.started.elapsed().as_secs() as i64
    }
}

/// What a background walk produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An RDB file: opcodes, then EOF and the checksum at the end.
    Rdb { checksum: bool },
    /// Commands (an AOF base file without the RDB preamble).
    Commands,
}

/// Why a background walk runs, which decides what its end does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// BGSAVE, `save` points: the file replaces `dbfilename`.
    Rdb,
    /// BGREWRITEAOF: the file becomes the AOF's new base (`server::aof::rewrite_done`).
    AofRewrite,
}

/// A background walk to start: the open temp file and where it goes.
pub struct WalkJob {
    pub purpose: Purpose,
    pub format: Format,
    pub file: File,
    pub tmp: PathBuf,
    /// Where the writer renames the finished file (`None`: the finishing code places it).
    pub target: Option<PathBuf>,
    /// What comes before the keys (the RDB header and functions, or FUNCTION LOADs).
    pub header: Vec<u8>,
}

/// Start a background save: the cut happens now. Errors are Redis's texts.
pub fn start_bgsave(core: &mut Core) -> Result<(), String> {
    if core.bgsave.is_some() {
        return Err("Background save already in progress".into());
    }
    core.persist.last_bgsave_try_ms = core.now_ms;
    let dir = core.config.dir.clone();
    let (file, tmp) = create_temp(&dir).inspect_err(|msg| {
        crate::log_warning!("{msg}");
        core.persist.last_save_ok = false;
    })?;
    let job = WalkJob {
        purpose: Purpose::Rdb,
        format: Format::Rdb {
            checksum: core.config.rdbchecksum,
        },
        file,
        tmp,
        target: Some(rdb_path(core)),
        header: rdb_header(core, false),
    };
    start_walk(core, job)?;
    core.persist.rdb_saves += 1;
    crate::log_notice!("Background saving started");
    Ok(())
}

/// An RDB file's header and function libraries (`aof_base`: the file is an AOF's base).
pub fn rdb_header(core: &Core, aof_base: bool) -> Vec<u8> {
    let aux = Aux { aof_base, ..aux(core) };
    let mut header = Writer::new(Vec::new(), &aux, core.config.rdbcompression, false);
    for lib in core.functions.libraries() {
        // Writing to memory cannot fail.
        let _ = header.function(&lib.code);
    }
    header.into_head()
}

/// Cut every database now and start walking them into `job`'s file.
pub fn start_walk(core: &mut Core, job: WalkJob) -> Result<(), String> {
    let (compress, now_ms) = (core.config.rdbcompression, core.now_ms);
    // Each non-empty database's sizes at the cut, for its RESIZEDB (an RDB image only).
    let resize = core
        .dbs
        .iter()
        .map(|db| (!db.is_empty()).then(|| (db.len() as u64, db.volatile_len() as u64)))
        .collect();
    for (i, db) in core.dbs.iter_mut().enumerate() {
        let write: EntryWriter = match job.format {
            Format::Rdb { .. } => Box::new(move |e, out| rdb::write_entry(out, e, now_ms, compress)),
            Format::Commands => Box::new(move |e, out| aof::rewrite::write_entry(out, e, now_ms)),
        };
        db.begin_snapshot(i, write);
    }
    let (tx, rx) = sync_channel::<Msg>(CHANNEL_CHUNKS);
    let (result_tx, result) = sync_channel(1);
    let WalkJob {
        purpose,
        format,
        file,
        tmp,
        target,
        header,
    } = job;
    let tmp_for_writer = tmp.clone();
    let dir = core.config.dir.clone();
    let spawned = std::thread::Builder::new()
        .name("ferrite-bgsave".into())
        .spawn(move || {
            let r = write_background(file, rx, format, &tmp_for_writer, target.as_deref(), &dir);
            if r.is_err() {
                let _ = std::fs::remove_file(&tmp_for_writer);
            }
            let _ = result_tx.send(r);
        });
    if let Err(e) = spawned {
        for db in &mut core.dbs {
            db.end_snapshot();
        }
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("Can't save in background: {e}"));
    }
    core.bgsave = Some(Bgsave {
        purpose,
        format,
        tmp,
        started: Instant::now(),
        dirty_at_cut: core.stats.dirty,
        tx: Some(tx),
        result,
        buf: header,
        pending: None,
        selected: None,
        resize,
        walking: 0,
        walk_done: false,
    });
    Ok(())
}

/// The writer thread: chunks to the file (an RDB with its checksum, then EOF and the checksum),
/// fsync, and the rename to `target` with the directory's fsync. A closed channel before `Finish`
/// means the save was abandoned. Returns the file's size.
fn write_background(
    file: File,
    rx: Receiver<Msg>,
    format: Format,
    tmp: &Path,
    target: Option<&Path>,
    dir: &Path,
) -> Result<u64, String> {
    let checksum = matches!(format, Format::Rdb { checksum: true });
    let mut w = rdb::RawWriter::new(file, checksum);
    loop {
        match rx.recv() {
            Ok(Msg::Bytes(b)) => w.write(&b).map_err(write_error)?,
            Ok(Msg::Finish) => break,
            Err(_) => return Err("Background saving aborted".into()),
        }
    }
    let (file, bytes) = match format {
        Format::Rdb { .. } => w.finish().map_err(write_error)?,
        Format::Commands => w.into_inner(),
    };
    match target {
        Some(target) => put_in_place(&file, tmp, target, dir).map_err(write_error)?,
        None => file.sync_all().map_err(write_error)?,
    }
    Ok(bytes)
}

/// One slice of a background save (called every event-loop iteration while one runs): hand the
/// early-saved bytes and a budget's worth of walking to the writer, and finish up when it is done.
pub fn bgsave_step(core: &mut Core) {
    let Some(mut bg) = core.bgsave.take() else {
        return;
    };
    if let Some(outcome) = poll_result(&mut bg) {
        finish_bgsave(core, bg, outcome);
        return;
    }
    collect_early(core, &mut bg);
    let deadline = Instant::now() + STEP_BUDGET;
    while !bg.walk_done && flush_chunks(&mut bg) && Instant::now() < deadline {
        let Some(pos) = core.dbs.iter().position(|d| d.snapshot_index() == Some(bg.walking)) else {
            bg.walking += 1;
            if bg.walking >= core.dbs.len() {
                bg.walk_done = true;
            }
            continue;
        };
        let index = bg.walking;
        select(&mut bg, index);
        let more = core.dbs[pos].snapshot_step(&mut bg.buf, CHUNK_BYTES, BUCKETS_PER_SLICE);
        if !more {
            // This database is whole: what writes saved early goes in before it lets go.
            collect_early(core, &mut bg);
            core.dbs[pos].end_snapshot();
        }
    }
    if bg.walk_done && bg.tx.is_some() {
        collect_early(core, &mut bg);
        if flush_all(&mut bg) {
            if let Some(tx) = bg.tx.take() {
                let _ = tx.send(Msg::Finish);
            }
        }
    }
    core.bgsave = Some(bg);
}

/// Whether a background save is walking (the event loop must not sleep long meanwhile).
pub fn bgsave_busy(core: &Core) -> bool {
    core.bgsave.as_ref().is_some_and(|b| b.tx.is_some())
}

fn select(bg: &mut Bgsave, index: usize) {
    if bg.selected != Some(index) {
        match bg.format {
            Format::Rdb { .. } => {
                rdb::write_select(&mut bg.buf, index);
                if let Some((keys, volatile)) = bg.resize.get_mut(index).and_then(Option::take) {
                    rdb::write_resize(&mut bg.buf, keys, volatile);
                }
            }
            Format::Commands => aof::rewrite::write_select(&mut bg.buf, index),
        }
        bg.selected = Some(index);
    }
}

/// Move every database's early-saved bytes into the image.
fn collect_early(core: &mut Core, bg: &mut Bgsave) {
    for db in &mut core.dbs {
        let Some(index) = db.snapshot_index() else { continue };
        let bytes = db.take_snapshot_early();
        if !bytes.is_empty() {
            select(bg, index);
            bg.buf.extend_from_slice(&bytes);
        }
    }
}

/// Send whole chunks while the channel has room. Returns whether there is room for more.
fn flush_chunks(bg: &mut Bgsave) -> bool {
    if let Some(chunk) = bg.pending.take() {
        if !send(bg, chunk) {
            return false;
        }
    }
    while bg.buf.len() >= CHUNK_BYTES {
        let rest = bg.buf.split_off(CHUNK_BYTES);
        let chunk = std::mem::replace(&mut bg.buf, rest);
        if !send(bg, chunk) {
            return false;
        }
    }
    true
}

/// Send everything buffered. Returns whether it all went.
fn flush_all(bg: &mut Bgsave) -> bool {
    if !flush_chunks(bg) {
        return false;
    }
    let rest = std::mem::take(&mut bg.buf);
    rest.is_empty() || send(bg, rest)
}

/// Hand one chunk to the writer; when it has no room, the chunk waits in `pending`.
fn send(bg: &mut Bgsave, chunk: Vec<u8>) -> bool {
    let Some(tx) = &bg.tx else { return false };
    match tx.try_send(Msg::Bytes(chunk)) {
        Ok(()) => true,
        Err(TrySendError::Full(Msg::Bytes(chunk)) | TrySendError::Disconnected(Msg::Bytes(chunk))) => {
            bg.pending = Some(chunk);
            false
        }
        Err(_) => false,
    }
}

fn poll_result(bg: &mut Bgsave) -> Option<Result<u64, String>> {
    match bg.result.try_recv() {
        Ok(r) => Some(r),
        Err(TryRecvError::Empty) => None,
        Err(TryRecvError::Disconnected) => Some(Err("the background saver stopped".into())),
    }
}

fn finish_bgsave(core: &mut Core, bg: Bgsave, outcome: Result<u64, String>) {
    for db in &mut core.dbs {
        db.end_snapshot();
    }
    if bg.purpose == Purpose::AofRewrite {
        super::aof::rewrite_done(core, &bg, outcome);
        return;
    }
    core.persist.last_bgsave_secs = bg.elapsed_secs();
    match outcome {
        Ok(_) => {
            crate::log_notice!("DB saved on disk");
            crate::log_notice!("Background saving terminated with success");
            core.persist.dirty_at_last_save = bg.dirty_at_cut;
            core.lastsave_s = core.clock_now_us() / 1_000_000;
            core.persist.last_save_ok = true;
        }
        Err(e) => {
            crate::log_warning!("{e}");
            crate::log_warning!("Background saving error");
            core.persist.last_save_ok = false;
        }
    }
}

/// Give up a background save in progress (SHUTDOWN, FLUSHALL, a foreground save): the tables are
/// released and the writer removes its temp file.
pub fn abort_bgsave(core: &mut Core) {
    if let Some(bg) = core.bgsave.take() {
        for db in &mut core.dbs {
            db.end_snapshot();
        }
        drop(bg.tx);
        // Wait for the writer to let go of the temp file (it stops at the closed channel).
        let _ = bg.result.recv_timeout(Duration::from_secs(5));
        match bg.purpose {
            Purpose::Rdb => crate::log_warning!("Background saving aborted"),
            Purpose::AofRewrite => crate::log_notice!("Killing running AOF rewrite"),
        }
    }
}

/// Run a background save to its end here (tests, and a shutdown that must not lose it).
pub fn finish_bgsave_now(core: &mut Core) {
    while core.bgsave.is_some() {
        bgsave_step(core);
        if !bgsave_busy(core) {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
