//! DUMP-style payloads: RDB-encoded content followed by the RDB version (2 bytes, little endian) and a
//! CRC64 (8 bytes, little endian, Redis's CRC-64/Jones) of everything before it. FUNCTION DUMP and
//! FUNCTION RESTORE use it (and DUMP/RESTORE of keys will), so payloads move between Ferrite and Redis.
//!
//! Strings are RDB strings: a length then the bytes, or an integer form (`int8`/`int16`/`int32` text),
//! or LZF-compressed (`0xC3`, compressed length, original length, data). Writing follows Redis's
//! `rdbSaveRawString`: strings of digits that round-trip as integers are written as integers; longer
//! than 20 bytes, LZF when it saves at least 4 bytes (with `rdbcompression yes`); else raw.

use std::borrow::Cow;

use crc::{Crc, CRC_64_REDIS};

/// The RDB version Ferrite writes (Redis 7.0's), and the newest it reads.
pub const RDB_VERSION: u16 = 10;

const CRC64: Crc<u64> = Crc::<u64>::new(&CRC_64_REDIS);

const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

/// Why a payload could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("DUMP payload version or checksum are wrong")]
    Footer,
    #[error("payload truncated or corrupt")]
    Corrupt,
}

/// Append an RDB length.
pub fn write_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.push(0x40 | (len >> 8) as u8);
        out.push(len as u8);
    } else if len <= u64::from(u32::MAX) {
        out.push(0x80);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// Append an RDB string, as Redis's `rdbSaveRawString` writes it.
pub fn write_string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= 11 {
        if let Some(v) = std::str::from_utf8(s).ok().and_then(|t| t.parse::<i64>().ok()) {
            // Only a canonical integer text (no sign or zero padding it would lose).
            if v.to_string().as_bytes() == s {
                if let Ok(b) = i8::try_from(v) {
                    out.extend_from_slice(&[0xC0 | ENC_INT8, b as u8]);
                    return;
                }
                if let Ok(b) = i16::try_from(v) {
                    out.push(0xC0 | ENC_INT16);
                    out.extend_from_slice(&b.to_le_bytes());
                    return;
                }
                if let Ok(b) = i32::try_from(v) {
                    out.push(0xC0 | ENC_INT32);
                    out.extend_from_slice(&b.to_le_bytes());
                    return;
                }
            }
        }
    }
    if compress && s.len() > 20 {
        if let Ok(c) = lzf::compress(s) {
            if c.len() + 4 <= s.len() {
                out.push(0xC0 | ENC_LZF);
                write_len(out, c.len() as u64);
                write_len(out, s.len() as u64);
                out.extend_from_slice(&c);
                return;
            }
        }
    }
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// A reader over RDB-encoded bytes.
///
/// It remembers whether a read failed for want of bytes ([`Reader::ran_short`]): a streaming
/// loader reading a window of a file then knows that more of the file may make the read succeed,
/// where any other failure is final.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    short: bool,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader {
            buf,
            pos: 0,
            short: false,
        }
    }

    /// Whether a read wanted more bytes than the buffer holds (also set by [`Reader::mark_short`]).
    pub fn ran_short(&self) -> bool {
        self.short
    }

    /// Record that a check against the bytes left failed (a count larger than what remains): with
    /// more bytes the same check could pass.
    pub fn mark_short(&mut self) {
        self.short = true;
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn byte(&mut self) -> Result<u8, PayloadError> {
        let Some(&b) = self.buf.get(self.pos) else {
            self.short = true;
            return Err(PayloadError::Corrupt);
        };
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], PayloadError> {
        let end = self.pos.checked_add(n).ok_or(PayloadError::Corrupt)?;
        let Some(s) = self.buf.get(self.pos..end) else {
            self.short = true;
            return Err(PayloadError::Corrupt);
        };
        self.pos = end;
        Ok(s)
    }

    /// An RDB length, or the special encoding byte's low bits (`Err`-free: the caller decides).
    fn len_or_encoding(&mut self) -> Result<(u64, bool), PayloadError> {
        let first = self.byte()?;
        Ok(match first >> 6 {
            0 => (u64::from(first & 0x3F), false),
            1 => (u64::from(first & 0x3F) << 8 | u64::from(self.byte()?), false),
            2 => match first {
                0x80 => (u64::from(u32::from_be_bytes(self.fixed()?)), false),
                0x81 => (u64::from_be_bytes(self.fixed()?), false),
                _ => return Err(PayloadError::Corrupt),
            },
            _ => (u64::from(first & 0x3F), true),
        })
    }

    /// `N` raw bytes.
    pub fn fixed<const N: usize>(&mut self) -> Result<[u8; N], PayloadError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// A score in the old text form (RDB_TYPE_ZSET): a length byte then ASCII, with 253, 254 and 255
    /// standing for NaN, +inf and -inf.
    pub fn ascii_double(&mut self) -> Result<f64, PayloadError> {
        match self.byte()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let text = self.take(n as usize)?;
                std::str::from_utf8(text)
                    .ok()
                    .and_then(|t| t.parse::<f64>().ok())
                    .ok_or(PayloadError::Corrupt)
            }
        }
    }

    /// An RDB length.
    pub fn length(&mut self) -> Result<u64, PayloadError> {
        match self.len_or_encoding()? {
            (n, false) => Ok(n),
            _ => Err(PayloadError::Corrupt),
        }
    }

    /// An RDB string, decoded. `max` bounds what a compressed string may claim to expand to.
    pub fn string(&mut self, max: u64) -> Result<Vec<u8>, PayloadError> {
        self.string_ref(max).map(Cow::into_owned)
    }

    /// An RDB string: borrowed from the input when stored plain, decoded otherwise (integer and LZF
    /// forms), so the common case allocates nothing.
    pub fn string_ref(&mut self, max: u64) -> Result<Cow<'a, [u8]>, PayloadError> {
        let (n, encoded) = self.len_or_encoding()?;
        if !encoded {
            if n > max {
                return Err(PayloadError::Corrupt);
            }
            return Ok(Cow::Borrowed(self.take(n as usize)?));
        }
        self.encoded_string(n, max).map(Cow::Owned)
    }

    /// The integer and LZF forms of a string (`form` is the encoding byte's low bits).
    fn encoded_string(&mut self, form: u64, max: u64) -> Result<Vec<u8>, PayloadError> {
        match form as u8 {
            ENC_INT8 => Ok((self.byte()? as i8).to_string().into_bytes()),
            ENC_INT16 => Ok(i16::from_le_bytes(self.fixed()?).to_string().into_bytes()),
            ENC_INT32 => Ok(i32::from_le_bytes(self.fixed()?).to_string().into_bytes()),
            ENC_LZF => {
                let clen = self.length()?;
                let len = self.length()?;
                if len > max || clen > len {
                    return Err(PayloadError::Corrupt);
                }
                let data = self.take(clen as usize)?;
                let out = lzf::decompress(data, len as usize).map_err(|_| PayloadError::Corrupt)?;
                if out.len() as u64 != len {
                    return Err(PayloadError::Corrupt);
                }
                Ok(out)
            }
            _ => Err(PayloadError::Corrupt),
        }
    }
}

/// Close a payload: the RDB version and the CRC64 of everything.
pub fn seal(mut body: Vec<u8>) -> Vec<u8> {
    body.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = CRC64.checksum(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

/// Check a payload's footer (a version we can read, a matching checksum) and return its content.
pub fn open(payload: &[u8]) -> Result<&[u8], PayloadError> {
    if payload.len() < 10 {
        return Err(PayloadError::Footer);
    }
    let (body, crc) = payload.split_at(payload.len() - 8);
    let version = u16::from_le_bytes([body[body.len() - 2], body[body.len() - 1]]);
    let mut stored = [0u8; 8];
    stored.copy_from_slice(crc);
    if version > RDB_VERSION || CRC64.checksum(body) != u64::from_le_bytes(stored) {
        return Err(PayloadError::Footer);
    }
    Ok(&body[..body.len() - 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_is_redis_s() {
        assert_eq!(CRC64.checksum(b"123456789"), 0xe9c6d914c4b8d9ca);
    }

    #[test]
    fn strings_round_trip_in_every_form() {
        let long = b"#!lua name=mylib\nredis.register_function('f', function() return 1 end) -- -- -- -- --".to_vec();
        for s in [
            &b""[..],
            b"x",
            b"12",
            b"-5",
            b"300",
            b"70000",
            b"007",
            b"+1",
            &long,
            &[b'a'; 100],
        ] {
            for compress in [false, true] {
                let mut out = vec![];
                write_string(&mut out, s, compress);
                let mut r = Reader::new(&out);
                assert_eq!(
                    r.string(1 << 20).expect("reads back"),
                    s,
                    "{:?}",
                    String::from_utf8_lossy(s)
                );
                assert!(r.at_end());
            }
        }
        let mut out = vec![];
        write_string(&mut out, &[b'a'; 100], true);
        assert_eq!(out[0], 0xC3, "compressible strings are compressed");
    }

    #[test]
    fn bad_payloads_are_refused() {
        let sealed = seal(b"\xf5\x01x".to_vec());
        assert_eq!(open(&sealed), Ok(&b"\xf5\x01x"[..]));
        let mut bad = sealed.clone();
        bad[1] ^= 1;
        assert_eq!(open(&bad), Err(PayloadError::Footer));
        assert_eq!(open(b"short"), Err(PayloadError::Footer));
        // A compressed string claiming a huge length is refused before anything is allocated.
        let mut r = Reader::new(b"\xc3\x05\x80\x7f\xff\xff\xffabcde");
        assert_eq!(r.string(1 << 20), Err(PayloadError::Corrupt));
    }
}
