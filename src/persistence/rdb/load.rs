//! Reading an RDB stream a window at a time.
//!
//! A [`Loader`] reads its source (a file, or any `Read`) into a window buffer of [`WINDOW`] bytes and
//! parses whole *records* from it: the header, or one opcode with what follows it (an aux field, a
//! database switch, a key with its value, EOF, the checksum). A record is always parsed from its first
//! byte. When the window ends inside it (the reader ran short: a read past the end, or a count larger
//! than the bytes left), the consumed part of the window is dropped, the window is refilled from the
//! source, grown when the record alone fills half of it, and the record is parsed again. A record
//! changes nothing before it is whole (the key is stored, the aux field kept, the library loaded
//! only once everything it needs was read), so a retry is invisible.
//!
//! Invariants:
//! - the outcome is exactly that of parsing the whole stream at once: a record parsed from a
//!   window would parse the same from the whole stream, and an error is reported only when the reader
//!   did not run short or the source has nothing more to give (so damaged files are refused with the
//!   same reason at the same offset, whatever the window);
//! - the window holds at most one record plus `WINDOW` bytes, and grows only to hold a record the
//!   source actually contains (at most twice what it holds): a corrupt length cannot make it allocate
//!   more than the file's size;
//! - nothing is read past the record that ends the RDB (EOF, then the checksum) except what the
//!   window had already buffered: [`Loaded::end_offset`] says where the RDB ended, and
//!   [`Loader::into_rest`] returns the source with those buffered bytes, for what follows an RDB
//!   preamble in the same file (an AOF's commands);
//! - the checksum covers every byte before it, each counted once, as records are consumed.

use std::borrow::Cow;
use std::io::{ErrorKind, Read};

use crc::{Digest, Table};

use super::super::payload::{Reader, RDB_VERSION};
use super::value::{is_value_type, read_value, LoadLimits, ValueError};
use super::{opcode, CRC64};
use crate::storage::Db;

/// Bytes the window holds by default (an entry larger than this grows it for as long as needed).
pub const WINDOW: usize = 4 << 20;

/// Where a load puts what it reads, and how.
pub struct Target<'a> {
    pub dbs: &'a mut [Db],
    /// Loads one function library (its code); the error text is reported as is.
    pub function: &'a mut dyn FnMut(&[u8]) -> Result<(), String>,
    pub limits: LoadLimits,
    pub now_ms: i64,
    /// Drop keys already expired (a master does; a replica and an AOF preamble keep them).
    pub drop_expired: bool,
    pub lru_clock: u32,
    /// Verify the checksum (`rdbchecksum`).
    pub verify_checksum: bool,
    /// A key already present is replaced instead of failing the load (DEBUG RELOAD MERGE).
    pub allow_duplicates: bool,
    /// `key-load-delay`: microseconds to sleep per key (a debugging aid that makes a load slow
    /// enough to watch); negative `-n` sleeps 1 µs every `n` keys, as Redis's debugDelay on average.
    pub key_load_delay_us: i32,
}

/// What a load found (so far, while it runs).
#[derive(Debug, Default, Clone)]
pub struct Loaded {
    pub version: u32,
    pub keys: u64,
    pub expired_skipped: u64,
    pub empty_skipped: u64,
    pub functions: u64,
    /// The aux fields, as written.
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
    /// Whether a checksum was stored (0 means the writer had `rdbchecksum no`).
    pub checksum_checked: bool,
    /// The offset in the source just past the RDB (after EOF and its checksum): where whatever
    /// follows it starts (an AOF's commands after an RDB preamble). Set when the load is done.
    pub end_offset: u64,
}

/// Why a load stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} (at byte {offset})")]
pub struct LoadError {
    pub offset: usize,
    pub reason: String,
}

/// Where a step left the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The budget is spent; call `step` again.
    More,
    /// The RDB is whole (EOF and checksum read): `loaded` has the report.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Header,
    Body,
    Checksum,
    Done,
}

/// What a body record was.
enum Record {
    Other,
    Eof,
}

/// The parse state carried from record to record.
#[derive(Default)]
struct Cursor {
    db: usize,
    /// A deadline read (EXPIRETIME*), for the key that follows.
    expire_at: Option<i64>,
}

/// A load in progress over `R` (module docs).
pub struct Loader<R> {
    src: R,
    /// The source said it has nothing more.
    src_done: bool,
    /// The source's size, when known: progress, and a bound for RESIZEDB's reservations.
    total: Option<u64>,
    /// Source bytes `base..base + win.len()`.
    win: Vec<u8>,
    base: u64,
    /// Where the next record starts in `win`.
    pos: usize,
    /// `win[..crc_at]` is in the checksum already.
    crc_at: usize,
    cap: usize,
    default_cap: usize,
    crc: Digest<'static, u64, Table<16>>,
    stage: Stage,
    cursor: Cursor,
    out: Loaded,
}

impl<R: Read> Loader<R> {
    /// A load of `src`, whose size is `total` bytes when known.
    pub fn new(src: R, total: Option<u64>) -> Loader<R> {
        Loader::with_window(src, total, WINDOW)
    }

    /// The same, with a window of `window` bytes (tests use tiny ones).
    pub fn with_window(src: R, total: Option<u64>, window: usize) -> Loader<R> {
        let window = window.max(16);
        Loader {
            src,
            src_done: false,
            total,
            win: Vec::new(),
            base: 0,
            pos: 0,
            crc_at: 0,
            cap: window,
            default_cap: window,
            crc: CRC64.digest(),
            stage: Stage::Header,
            cursor: Cursor::default(),
            out: Loaded::default(),
        }
    }

    /// Bytes of the source consumed so far (whole records).
    pub fn consumed(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// The source's size, when known.
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// What was loaded so far (everything, once a step returned `Done`).
    pub fn loaded(&self) -> &Loaded {
        &self.out
    }

    pub fn is_done(&self) -> bool {
        self.stage == Stage::Done
    }

    /// The report, the source, and the bytes read from it past the RDB's end (what a caller
    /// reading on after an RDB preamble starts with).
    pub fn into_rest(self) -> (Loaded, R, Vec<u8>) {
        let rest = self.win.get(self.pos..).unwrap_or_default().to_vec();
        (self.out, self.src, rest)
    }

    /// Load records until about `budget` bytes of the source were consumed (a record is never
    /// split, so a step may go past it by one record), or the RDB ends. On error, what was loaded
    /// before stays (the caller decides whether to keep or flush it).
    pub fn step(&mut self, t: &mut Target<'_>, budget: u64) -> Result<Step, LoadError> {
        let stop_at = self.consumed().saturating_add(budget);
        while self.stage != Stage::Done {
            if self.consumed() >= stop_at {
                return Ok(Step::More);
            }
            let at = self.pos;
            let source_left = match self.total {
                Some(total) => total.saturating_sub(self.base + at as u64),
                None => (self.win.len() - at) as u64,
            };
            let mut r = Reader::new(&self.win[at..]);
            let result = match self.stage {
                Stage::Header => header(&mut r).map(|v| {
                    self.out.version = v;
                    Stage::Body
                }),
                Stage::Body => {
                    body_record(&mut r, &mut self.cursor, &mut self.out, t, source_left).map(|rec| match rec {
                        Record::Other => Stage::Body,
                        // Version 5 added the checksum.
                        Record::Eof if self.out.version >= 5 => Stage::Checksum,
                        Record::Eof => Stage::Done,
                    })
                }
                Stage::Checksum => r
                    .fixed::<8>()
                    .map(|b| {
                        let stored = u64::from_le_bytes(b);
                        // The digest already covers everything up to this record.
                        let expected = self.crc.clone().finalize();
                        if stored != 0 && t.verify_checksum {
                            if stored != expected {
                                return Err(format!(
                                    "Wrong RDB checksum expected: ({expected:x}) got ({stored:x}). Aborting now."
                                ));
                            }
                            self.out.checksum_checked = true;
                        }
                        Ok(Stage::Done)
                    })
                    .unwrap_or_else(|_| Err(CORRUPT.into())),
                Stage::Done => Ok(Stage::Done),
            };
            let (used, short) = (r.position(), r.ran_short());
            match result {
                Ok(next) => {
                    self.pos = at + used;
                    if next != Stage::Body || self.stage != Stage::Body {
                        // Leaving the body (the checksum covers EOF too) or the header: close the
                        // digest's account up to here.
                        self.crc.update(&self.win[self.crc_at..self.pos]);
                        self.crc_at = self.pos;
                    }
                    self.stage = next;
                }
                Err(_) if short && !self.src_done => self.refill().map_err(|e| LoadError {
                    offset: (self.base + at as u64) as usize,
                    reason: format!("Short read or OOM loading DB. Unrecoverable error, aborting now. ({e})"),
                })?,
                Err(reason) => {
                    return Err(LoadError {
                        offset: (self.base + (at + used) as u64) as usize,
                        reason,
                    })
                }
            }
        }
        self.out.end_offset = self.consumed();
        Ok(Step::Done)
    }

    /// Drop the consumed records, resize the window for the record that ran short, and read on.
    fn refill(&mut self) -> std::io::Result<()> {
        self.crc.update(&self.win[self.crc_at..self.pos]);
        self.win.drain(..self.pos);
        self.base += self.pos as u64;
        self.pos = 0;
        self.crc_at = 0;
        let pending = self.win.len();
        if pending * 2 > self.cap {
            // The record fills half the window or more: double room for it.
            self.cap = pending * 2;
        } else if self.cap > self.default_cap && pending < self.default_cap / 2 {
            // Past a big record: back to the normal window.
            self.cap = self.default_cap;
            self.win.shrink_to(self.cap);
        }
        let mut filled = pending;
        self.win.resize(self.cap, 0);
        while filled < self.win.len() {
            match self.src.read(&mut self.win[filled..]) {
                Ok(0) => {
                    self.src_done = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.win.truncate(filled);
                    return Err(e);
                }
            }
        }
        self.win.truncate(filled);
        Ok(())
    }
}

/// Load a whole RDB image into `t`. On error, what was loaded before stays (the caller decides
/// whether to keep or flush it). Bytes after the RDB's end are not read (`Loaded::end_offset`).
pub fn load(bytes: &[u8], t: &mut Target<'_>) -> Result<Loaded, LoadError> {
    let mut loader = Loader::new(bytes, Some(bytes.len() as u64));
    while loader.step(t, u64::MAX)? == Step::More {}
    Ok(loader.into_rest().0)
}

/// Redis's `key-load-delay` (a debugging knob): after each key, sleep `us` microseconds, or when
/// negative, 1 µs every `-us` keys.
pub(crate) fn key_load_delay(us: i32, keys: u64) {
    let sleep = match us {
        0 => return,
        n if n < 0 => u64::from(keys.is_multiple_of(u64::from(n.unsigned_abs()))),
        n => n as u64,
    };
    if sleep > 0 {
        std::thread::sleep(std::time::Duration::from_micros(sleep));
    }
}

const CORRUPT: &str = "Short read or corrupt data";

/// The magic and the version.
fn header(r: &mut Reader<'_>) -> Result<u32, String> {
    const SIGNATURE: &str = "Wrong signature trying to load DB from file";
    let magic: [u8; 9] = r.fixed().map_err(|_| SIGNATURE.to_string())?;
    if &magic[..5] != b"REDIS" {
        return Err(SIGNATURE.into());
    }
    let version = std::str::from_utf8(&magic[5..])
        .ok()
        .filter(|v| v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(0);
    if version < 1 || version > u32::from(RDB_VERSION) {
        return Err(format!("Can't handle RDB format version {version}"));
    }
    Ok(version)
}

/// One record of the body. Nothing changes in `out` or `t` unless it is read whole.
fn body_record(
    r: &mut Reader<'_>,
    cur: &mut Cursor,
    out: &mut Loaded,
    t: &mut Target<'_>,
    source_left: u64,
) -> Result<Record, String> {
    let corrupt = |_| CORRUPT.to_string();
    let op = r.byte().map_err(corrupt)?;
    match op {
        opcode::EXPIRETIME_MS => {
            cur.expire_at = Some(i64::from_le_bytes(r.fixed().map_err(corrupt)?));
            return Ok(Record::Other);
        }
        opcode::EXPIRETIME => {
            let s = i32::from_le_bytes(r.fixed().map_err(corrupt)?);
            cur.expire_at = Some(i64::from(s) * 1000);
            return Ok(Record::Other);
        }
        opcode::FREQ => {
            r.byte().map_err(corrupt)?;
            return Ok(Record::Other);
        }
        opcode::IDLE => {
            r.length().map_err(corrupt)?;
            return Ok(Record::Other);
        }
        opcode::EOF => return Ok(Record::Eof),
        opcode::SELECTDB => {
            let n = r.length().map_err(corrupt)?;
            if n >= t.dbs.len() as u64 {
                return Err(format!(
                    "FATAL: Data file was created with a Redis server configured to handle more than {} databases. \
                     Exiting",
                    t.dbs.len()
                ));
            }
            cur.db = n as usize;
        }
        opcode::RESIZEDB => {
            let keys = r.length().map_err(corrupt)?;
            r.length().map_err(corrupt)?;
            // As Redis: size the table for the keys announced, so the load never rehashes. A
            // damaged count is bounded by what the source can still hold (a key and its value
            // take at least 3 bytes).
            t.dbs[cur.db].reserve(keys.min(source_left / 3) as usize);
        }
        opcode::AUX => {
            let name = r.string(t.limits.max_string).map_err(corrupt)?;
            let value = r.string(t.limits.max_string).map_err(corrupt)?;
            out.aux.push((name, value));
        }
        opcode::MODULE_AUX => {
            return Err("The RDB file contains AUX module data, and Ferrite loads no modules".into());
        }
        opcode::FUNCTION_PRE_GA => return Err("Pre-GA function format not supported".into()),
        opcode::FUNCTION2 => {
            let code = r.string_ref(t.limits.max_string).map_err(corrupt)?;
            (t.function)(&code).map_err(|e| format!("Failed loading library: {e}"))?;
            out.functions += 1;
        }
        ty if is_value_type(ty) => {
            let key: Cow<'_, [u8]> = r.string_ref(t.limits.max_string).map_err(corrupt)?;
            let deadline = cur.expire_at.take();
            let value = match read_value(r, ty, &t.limits) {
                Ok(v) => v,
                Err(ValueError::Empty) => {
                    out.empty_skipped += 1;
                    return Ok(Record::Other);
                }
                Err(e) => {
                    // Put the deadline back: a retry with more bytes reads the key again.
                    cur.expire_at = deadline;
                    return Err(format!(
                        "Bad data format loading key '{}': {e}",
                        String::from_utf8_lossy(&key)
                    ));
                }
            };
            if t.drop_expired && deadline.is_some_and(|at| at < t.now_ms) {
                out.expired_skipped += 1;
                return Ok(Record::Other);
            }
            if t.dbs[cur.db].put(&key, value, deadline, t.lru_clock) && !t.allow_duplicates {
                return Err(format!(
                    "RDB has duplicated key '{}' in DB {}",
                    String::from_utf8_lossy(&key),
                    cur.db
                ));
            }
            out.keys += 1;
            key_load_delay(t.key_load_delay_us, out.keys);
            return Ok(Record::Other);
        }
        other => return Err(format!("Unknown RDB opcode {other}")),
    }
    cur.expire_at = None;
    Ok(Record::Other)
}
