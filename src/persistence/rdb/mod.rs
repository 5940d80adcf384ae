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
//! Reading is in [`load`]: a [`Loader`] reads its source a window at a time, so a load can be stepped
//! by the event loop and a file never has to fit in memory whole.
//!
//! Invariant: a load never panics and never allocates more than the input justifies, whatever the
//! bytes; a file either loads whole or the error says where it stopped.

pub(crate) mod load;
pub mod value;

use std::io::Write;

use crc::{Crc, Digest, Table, CRC_64_REDIS};

use super::payload::{write_len, write_string, RDB_VERSION};
use crate::storage::{Db, EntryRef};
use value::write_value;

pub use load::{load, LoadError, Loaded, Loader, Step, Target, WINDOW};

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

/// Redis's CRC-64, sixteen bytes per table step (the one-byte table cost a tenth of a 1M-key load).
static CRC64: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&CRC_64_REDIS);

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
    crc: Digest<'static, u64, Table<16>>,
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
        write_resize(&mut self.buf, db.len() as u64, db.volatile_len() as u64);
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

/// Append a database's sizes (keys, keys with a TTL), so a loader can size its tables at once.
pub fn write_resize(out: &mut Vec<u8>, keys: u64, volatile: u64) {
    out.push(opcode::RESIZEDB);
    write_len(out, keys);
    write_len(out, volatile);
}

/// Append a database switch (an image may switch back and forth: a loader just follows).
pub fn write_select(out: &mut Vec<u8>, index: usize) {
    out.push(opcode::SELECTDB);
    write_len(out, index as u64);
}

#[cfg(test)]
mod tests;
