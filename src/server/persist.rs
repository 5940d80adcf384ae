//! The dataset to and from an RDB file: SAVE, SHUTDOWN's final save, DEBUG RELOAD and the load at
//! start-up (formats in `persistence::rdb`).
//!
//! A save writes `temp-<pid>.rdb` in `dir`, fsyncs it, renames it over `dbfilename` and fsyncs the
//! directory, so a crash at any point leaves either the previous file or the new one, whole. The
//! save here is synchronous (SAVE's contract: the server answers nothing else meanwhile).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::core::Core;
use crate::persistence::rdb::{self, value::LoadLimits, Aux, LoadError, Loaded, Target, Writer};

/// Persistence figures for INFO.
#[derive(Debug, Clone)]
pub struct PersistStats {
    /// `stats.dirty` when the last save began (`rdb_changes_since_last_save` counts from there).
    pub dirty_at_last_save: u64,
    pub rdb_saves: u64,
    pub last_save_ok: bool,
    pub last_load_keys_loaded: u64,
    pub last_load_keys_expired: u64,
}

impl Default for PersistStats {
    fn default() -> Self {
        PersistStats {
            dirty_at_last_save: 0,
            rdb_saves: 0,
            last_save_ok: true,
            last_load_keys_loaded: 0,
            last_load_keys_expired: 0,
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
    let tmp_name = format!("temp-{}.rdb", std::process::id());
    let tmp = dir.join(&tmp_name);
    let file = File::create(&tmp).map_err(|e| {
        format!(
            "Failed opening the temp RDB file {tmp_name} (in server root dir {}) for saving: {}",
            dir.display(),
            os_error_text(&e)
        )
    })?;
    let written = write_snapshot(core, file).and_then(|f| f.sync_all());
    let renamed = written
        .and_then(|()| std::fs::rename(&tmp, rdb_path(core)))
        .and_then(|()| sync_dir(dir));
    renamed.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("Write error saving DB on disk: {}", os_error_text(&e))
    })
}

fn write_snapshot(core: &Core, file: File) -> std::io::Result<File> {
    let aux = Aux {
        ctime_s: core.clock_now_us() / 1_000_000,
        used_mem: crate::memory::used_memory(),
        aof_base: false,
    };
    let mut w = Writer::new(file, &aux, core.config.rdbcompression, core.config.rdbchecksum);
    for lib in core.functions.libraries() {
        w.function(&lib.code)?;
    }
    for (i, db) in core.dbs.iter().enumerate() {
        w.database(i, db, core.now_ms)?;
    }
    Ok(w.finish()?.0)
}

/// fsync a directory, so a rename inside it survives a crash.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// An I/O error as `strerror` words it (no " (os error N)" suffix).
fn os_error_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Load `path` into the dataset (empty, unless `merge` lets loaded keys and libraries replace those
/// present). `Ok(None)` when there is no file.
pub fn load(core: &mut Core, path: &Path, merge: bool) -> Result<Option<Loaded>, LoadError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(LoadError {
                offset: 0,
                reason: format!("Fatal error loading the DB: {}. Exiting.", os_error_text(&e)),
            })
        }
    };
    let started = Instant::now();
    core.loading = true;
    let limits = LoadLimits::from_config(&core.config);
    let (now_ms, lru_clock) = (core.clock_now_us() / 1000, core.lru_clock);
    let drop_expired = !core.is_replica;
    let verify_checksum = core.config.rdbchecksum;
    let Core { dbs, functions, .. } = core;
    let mut on_function = |code: &[u8]| functions.load(code, merge).map(|_| ()).map_err(|e| e.to_string());
    let result = rdb::load(
        &bytes,
        &mut Target {
            dbs,
            function: &mut on_function,
            limits,
            now_ms,
            drop_expired,
            lru_clock,
            verify_checksum,
            allow_duplicates: merge,
        },
    );
    core.loading = false;
    let loaded = result?;
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
    core.persist.last_load_keys_loaded = loaded.keys;
    core.persist.last_load_keys_expired = loaded.expired_skipped;
    Ok(Some(loaded))
}
