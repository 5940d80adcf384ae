//! RDB files: Redis's snapshot format, written as Redis 7.0 writes it (version 10) and read from
//! versions 1 to 10.
//!
//! ```text
//! "REDIS" + 4 digits of version
//! AUX (0xFA) name value ...          redis-ver, redis-bits, ctime, used-mem, aof-base
//! FUNCTION2 (0xF5) library code ...  every function library
//! per non-empty database:
//!   SELECTDB (0xFE) index, RESIZEDB (0xFB) keys, keys-with-TTL
//!   per key: [EXPIRETIME_MS (0xFC) u64 LE] [IDLE (0xF8) secs | FREQ (0xF9) byte] type key value
//! EOF (0xFF), then the CRC64 of everything before it (u64 LE; 0 when `rdbchecksum no`)
//! ```
//! Values are in [`value`]. Keys whose deadline has passed are not written, and are dropped when a
//! master loads a file (a replica keeps them and waits for its master's DEL).
//!
//! Invariant: `load` never panics and never allocates more than the input justifies, whatever the
//! bytes; a file either loads whole or the error says where it stopped.

pub mod value;

use std::io::Write;

use crc::{Crc, Digest, CRC_64_REDIS};

use super::payload::{write_len, write_string, Reader, RDB_VERSION};
use crate::storage::{Db, EntryRef};
use value::{is_value_type, read_value, write_value, LoadLimits, ValueError};

pub mod opcode {
    pub const FUNCTION2: u8 = 245;
    pub const FUNCTION_PRE_GA: u8 = 246;
    pub const MODULE_AUX: u8 = 247;
    pub const IDLE: u8 = 248;
    pub const FREQ: u8 = 249;
    pub const AUX: u8 = 250;
    pub const RESIZEDB: u8 = 251;
    pub const EXPIRETIME_MS: u8 = 252;
    pub const EXPIRETIME: u8 = 253;
    pub const SELECTDB: u8 = 254;
    pub const EOF: u8 = 255;
}

const CRC64: Crc<u64> = Crc::<u64>::new(&CRC_64_REDIS);

/// Bytes buffered before a write to the file.
const FLUSH_AT: usize = 1 << 20;

/// What goes in the aux fields besides the dataset.
#[derive(Debug, Clone)]
pub struct Aux {
    pub ctime_s: i64,
    pub used_mem: u64,
    /// Written as the base of an AOF (`aof-base` 1).
    pub aof_base: bool,
}

/// The bytes of an RDB stream on their way out, with the running checksum: what comes before EOF
/// goes through `write`; `finish` adds EOF and the checksum (0 when `rdbchecksum no`).
pub struct RawWriter<W: Write> {
    out: W,
    crc: Digest<'static, u64>,
    checksum: bool,
    written: u64,
}

impl<W: Write> RawWriter<W> {
    pub fn new(out: W, checksum: bool) -> RawWriter<W> {
        RawWriter {
            out,
            crc: CRC64.digest(),
            checksum,
            written: 0,
        }
    }

    pub fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.crc.update(bytes);
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// EOF and the checksum. Returns the output and the bytes written.
    /// The output and the bytes written, without ending the RDB (for files of another format).
    pub fn into_inner(self) -> (W, u64) {
        (self.out, self.written)
    }

    pub fn finish(mut self) -> std::io::Result<(W, u64)> {
        self.write(&[opcode::EOF])?;
        let crc = if self.checksum { self.crc.finalize() } else { 0 };
        self.out.write_all(&crc.to_le_bytes())?;
        self.out.flush()?;
        Ok((self.out, self.written + 8))
    }
}

/// Writes an RDB stream through a buffer (header, aux fields, functions, databases).
pub struct Writer<W: Write> {
    raw: RawWriter<W>,
    buf: Vec<u8>,
    compress: bool,
}

impl<W: Write> Writer<W> {
    /// Start a file: the magic and version, then the aux fields.
    pub fn new(out: W, aux: &Aux, compress: bool, checksum: bool) -> Writer<W> {
        let mut w = Writer {
            raw: RawWriter::new(out, checksum),
            buf: Vec::with_capacity(FLUSH_AT + 64 * 1024),
            compress,
        };
        w.buf.extend_from_slice(format!("REDIS{RDB_VERSION:04}").as_bytes());
        w.aux(b"redis-ver", crate::config::REDIS_VERSION.as_bytes());
        w.aux(b"redis-bits", b"64");
        w.aux(b"ctime", aux.ctime_s.to_string().as_bytes());
        w.aux(b"used-mem", aux.used_mem.to_string().as_bytes());
        w.aux(b"aof-base", if aux.aof_base { b"1" } else { b"0" });
        w
    }

    fn aux(&mut self, name: &[u8], value: &[u8]) {
        self.buf.push(opcode::AUX);
        write_string(&mut self.buf, name, false);
        write_string(&mut self.buf, value, false);
    }

    /// A function library.
    pub fn function(&mut self, code: &[u8]) -> std::io::Result<()> {
        self.buf.push(opcode::FUNCTION2);
        write_string(&mut self.buf, code, self.compress);
        self.maybe_flush()
    }

    /// A database: its header, then every key not expired at `now_ms`.
    pub fn database(&mut self, index: usize, db: &Db, now_ms: i64) -> std::io::Result<()> {
        if db.is_empty() {
            return Ok(());
        }
        write_select(&mut self.buf, index);
        self.buf.push(opcode::RESIZEDB);
        write_len(&mut self.buf, db.len() as u64);
        write_len(&mut self.buf, db.volatile_len() as u64);
        let mut result = Ok(());
        db.for_each(|e| {
            if result.is_ok() {
                write_entry(&mut self.buf, e, now_ms, self.compress);
                result = self.maybe_flush();
            }
        });
        result
    }

    fn maybe_flush(&mut self) -> std::io::Result<()> {
        if self.buf.len() >= FLUSH_AT {
            self.flush_buf()?;
        }
        Ok(())
    }

    fn flush_buf(&mut self) -> std::io::Result<()> {
        self.raw.write(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    /// End the file: EOF and the checksum. Returns the output and the bytes written.
    pub fn finish(mut self) -> std::io::Result<(W, u64)> {
        self.flush_buf()?;
        self.raw.finish()
    }
}

impl Writer<Vec<u8>> {
    /// What was written so far, without EOF: the start of an image whose rest comes from elsewhere.
    pub fn into_head(mut self) -> Vec<u8> {
        let mut head = std::mem::take(&mut self.raw.out);
        head.append(&mut self.buf);
        head
    }
}

/// Append one key: its deadline, then type, key and value (the type byte goes first, so the value
/// is encoded after a placeholder). Nothing for a key whose deadline is before `now_ms`.
pub fn write_entry(out: &mut Vec<u8>, e: EntryRef<'_>, now_ms: i64, compress: bool) {
    if let Some(at) = e.expire_at() {
        if at < now_ms {
            return;
        }
        out.push(opcode::EXPIRETIME_MS);
        out.extend_from_slice(&at.to_le_bytes());
    }
    let type_at = out.len();
    out.push(0);
    write_string(out, e.key(), compress);
    out[type_at] = write_value(out, e.value(), compress);
}

/// Append a database switch (an image may switch back and forth: a loader just follows).
pub fn write_select(out: &mut Vec<u8>, index: usize) {
    out.push(opcode::SELECTDB);
    write_len(out, index as u64);
}

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
}

/// What a load found.
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
}

/// Why a load stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} (at byte {offset})")]
pub struct LoadError {
    pub offset: usize,
    pub reason: String,
}

/// Load a whole RDB image into `t`. On error, what was loaded before stays (the caller decides
/// whether to keep or flush it).
pub fn load(bytes: &[u8], t: &mut Target<'_>) -> Result<Loaded, LoadError> {
    let mut r = Reader::new(bytes);
    let fail = |r: &Reader<'_>, reason: String| LoadError {
        offset: r.position(),
        reason,
    };
    let magic: [u8; 9] = r
        .fixed()
        .map_err(|_| fail(&r, "Wrong signature trying to load DB from file".into()))?;
    if &magic[..5] != b"REDIS" {
        return Err(fail(&r, "Wrong signature trying to load DB from file".into()));
    }
    let version = std::str::from_utf8(&magic[5..])
        .ok()
        .filter(|v| v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(0);
    if version < 1 || version > u32::from(RDB_VERSION) {
        return Err(fail(&r, format!("Can't handle RDB format version {version}")));
    }
    let mut out = Loaded {
        version,
        ..Loaded::default()
    };
    let mut db = 0usize;
    let mut expire_at: Option<i64> = None;
    let corrupt = |r: &Reader<'_>| fail(r, "Short read or corrupt data".into());
    loop {
        let op = r.byte().map_err(|_| corrupt(&r))?;
        match op {
            opcode::EXPIRETIME_MS => {
                expire_at = Some(i64::from_le_bytes(r.fixed().map_err(|_| corrupt(&r))?));
                continue;
            }
            opcode::EXPIRETIME => {
                let s = i32::from_le_bytes(r.fixed().map_err(|_| corrupt(&r))?);
                expire_at = Some(i64::from(s) * 1000);
                continue;
            }
            opcode::FREQ => {
                r.byte().map_err(|_| corrupt(&r))?;
                continue;
            }
            opcode::IDLE => {
                r.length().map_err(|_| corrupt(&r))?;
                continue;
            }
            opcode::EOF => break,
            opcode::SELECTDB => {
                let n = r.length().map_err(|_| corrupt(&r))?;
                if n >= t.dbs.len() as u64 {
                    return Err(fail(
                        &r,
                        format!(
                            "FATAL: Data file was created with a Redis server configured to handle more than {} databases. \
                             Exiting",
                            t.dbs.len()
                        ),
                    ));
                }
                db = n as usize;
            }
            opcode::RESIZEDB => {
                r.length().map_err(|_| corrupt(&r))?;
                r.length().map_err(|_| corrupt(&r))?;
            }
            opcode::AUX => {
                let name = r.string(t.limits.max_string).map_err(|_| corrupt(&r))?;
                let value = r.string(t.limits.max_string).map_err(|_| corrupt(&r))?;
                out.aux.push((name, value));
            }
            opcode::MODULE_AUX => {
                return Err(fail(
                    &r,
                    "The RDB file contains AUX module data, and Ferrite loads no modules".into(),
                ))
            }
            opcode::FUNCTION_PRE_GA => return Err(fail(&r, "Pre-GA function format not supported".into())),
            opcode::FUNCTION2 => {
                let code = r.string(t.limits.max_string).map_err(|_| corrupt(&r))?;
                (t.function)(&code).map_err(|e| fail(&r, format!("Failed loading library: {e}")))?;
                out.functions += 1;
            }
            ty if is_value_type(ty) => {
                let key = r.string(t.limits.max_string).map_err(|_| corrupt(&r))?;
                let deadline = expire_at.take();
                let value = match read_value(&mut r, ty, &t.limits) {
                    Ok(v) => v,
                    Err(ValueError::Empty) => {
                        out.empty_skipped += 1;
                        continue;
                    }
                    Err(e) => {
                        return Err(fail(
                            &r,
                            format!("Bad data format loading key '{}': {e}", String::from_utf8_lossy(&key)),
                        ))
                    }
                };
                if t.drop_expired && deadline.is_some_and(|at| at < t.now_ms) {
                    out.expired_skipped += 1;
                    continue;
                }
                if t.dbs[db].put(&key, value, deadline, t.lru_clock) && !t.allow_duplicates {
                    return Err(fail(
                        &r,
                        format!("RDB has duplicated key '{}' in DB {db}", String::from_utf8_lossy(&key)),
                    ));
                }
                out.keys += 1;
            }
            other => return Err(fail(&r, format!("Unknown RDB opcode {other}"))),
        }
        expire_at = None;
    }
    if version >= 5 {
        let body_end = r.position();
        let stored = u64::from_le_bytes(r.fixed().map_err(|_| corrupt(&r))?);
        if stored != 0 && t.verify_checksum {
            let expected = CRC64.checksum(&bytes[..body_end]);
            if stored != expected {
                return Err(fail(
                    &r,
                    format!("Wrong RDB checksum expected: ({expected:x}) got ({stored:x}). Aborting now."),
                ));
            }
            out.checksum_checked = true;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
