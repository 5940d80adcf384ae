//! The compact encodings of Redis before 7.0, as old RDB files hold them: the ziplist (small hashes and
//! sorted sets, and every quicklist node, up to 6.2) and the zipmap (small hashes up to 2.4). Ferrite
//! never writes either; the RDB loader turns a ziplist into the listpack Redis 7.0 would hold and a
//! zipmap into its field-value pairs.
//!
//! Invariant: the bytes are untrusted. Every length is checked against the input left before anything
//! is read or allocated with it, and a blob is accepted only if it passes the checks of Redis's deep
//! integrity validation (`ziplistValidateIntegrity`, `zipmapValidateIntegrity`). Whether fields repeat,
//! or pairs come out even, is for the loader to judge, as it is in Redis's `rdb.c`.
//!
//! Ziplist: `[zlbytes u32 LE][zltail u32 LE][zllen u16 LE][entry ...][0xFF]`, each entry being
//! `[prevlen][encoding][data]`. `prevlen` is the previous entry's whole length, in 1 byte when below 254,
//! else 0xFE and 4 bytes LE. Encodings: `00pppppp` (string, 6-bit length), `01pppppp qqqqqqqq` (14-bit
//! length, big endian), `10______` + 4 bytes BE (32-bit length), `0xC0`/`0xD0`/`0xE0` (int16/32/64 LE),
//! `0xF0` (int24 LE), `0xFE` (int8), `0xF1..=0xFD` (0..=12 in the encoding byte itself). `zllen` 65535
//! means "count by scanning".
//!
//! Zipmap: `[zmlen][len]key[len][free]value ... [0xFF]`, a length being 1 byte when below 254, else 254
//! and 4 bytes LE; `free` counts unused bytes after the value. `zmlen` 254 means "count by scanning".
//!
//! Where Redis 7.0 loads more than the format's description allows, so do we (a file it loads must load
//! here): `10______` with any low bits is a 32-bit string length (Redis masks them off), a 5-byte
//! `prevlen` may hold a value below 254 (left by Redis's cascade update, which never shrinks a prevlen),
//! `zllen` 65535 is accepted for any count (Redis only recounts when asked), and a zipmap value length
//! led by 255 reads 4 bytes as one led by 254 does. Stricter than Redis, for blobs its writers never
//! produce: an empty ziplist's `zltail` must point at the end of the header, a zipmap's first 0xFF
//! must be its last byte, and a zipmap length of 254 or more must use the long form and a shorter one
//! the short form (Redis validates the latter, then misreads it). These were checked against
//! redis-server 7.0 by RESTOREing each blob of the tests below and many corruptions of them.

use crate::storage::object::listpack::{Listpack, LpItem};

/// Why a legacy blob was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LegacyError(pub &'static str);

const TRUNCATED: LegacyError = LegacyError("entry runs past the end");

const ZL_HEADER: usize = 10;
const ZL_END: u8 = 0xFF;
const ZL_BIG_PREVLEN: u8 = 0xFE;
/// `zllen` value meaning "unknown, scan to count".
const ZL_COUNT_UNKNOWN: u16 = u16::MAX;

const ZM_BIGLEN: u8 = 254;
const ZM_END: u8 = 0xFF;

/// Reads from untrusted bytes: every read checks the bytes left first.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], LegacyError> {
        let end = self.pos.checked_add(n).ok_or(TRUNCATED)?;
        let s = self.buf.get(self.pos..end).ok_or(TRUNCATED)?;
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], LegacyError> {
        let s = self.take(N)?;
        s.try_into().map_err(|_| TRUNCATED)
    }

    fn byte(&mut self) -> Result<u8, LegacyError> {
        let [b] = self.array()?;
        Ok(b)
    }
}

// ---- ziplist ----

/// One ziplist entry: where it starts and ends, the previous entry's length as it records it, and the
/// element.
struct ZlEntry<'a> {
    start: usize,
    end: usize,
    prevlen: usize,
    item: LpItem<'a>,
}

/// The entries of a ziplist, in order. The cursor's bytes stop before the terminator, so an entry can
/// never claim it: a length reaching it is a truncated entry.
struct ZlEntries<'a> {
    cur: Cursor<'a>,
}

impl<'a> ZlEntries<'a> {
    /// Over `bytes` (a whole ziplist whose last byte is the terminator), from the first entry.
    fn new(bytes: &'a [u8]) -> ZlEntries<'a> {
        let body = bytes.split_last().map_or(&[][..], |(_, body)| body);
        ZlEntries {
            cur: Cursor {
                buf: body,
                pos: ZL_HEADER,
            },
        }
    }

    fn entry(&mut self) -> Result<ZlEntry<'a>, LegacyError> {
        let c = &mut self.cur;
        let start = c.pos;
        let prevlen = match c.byte()? {
            ZL_END => return Err(LegacyError("ziplist terminator before the end")),
            ZL_BIG_PREVLEN => u32::from_le_bytes(c.array()?) as usize,
            b => usize::from(b),
        };
        let enc = c.byte()?;
        let item = match enc >> 6 {
            0b00 => LpItem::Str(c.take(usize::from(enc & 0x3F))?),
            0b01 => {
                let lo = c.byte()?;
                LpItem::Str(c.take(usize::from(enc & 0x3F) << 8 | usize::from(lo))?)
            }
            // Redis writes 0x80 here but masks the low six bits off when reading.
            0b10 => {
                let n = u32::from_be_bytes(c.array()?);
                LpItem::Str(c.take(n as usize)?)
            }
            _ => LpItem::Int(match enc {
                0xC0 => i64::from(i16::from_le_bytes(c.array()?)),
                0xD0 => i64::from(i32::from_le_bytes(c.array()?)),
                0xE0 => i64::from_le_bytes(c.array()?),
                0xF0 => {
                    let [a, b, d] = c.array()?;
                    // Shifting the three bytes into the top of an i32 and back extends the sign.
                    i64::from(i32::from_le_bytes([0, a, b, d]) >> 8)
                }
                0xFE => i64::from(i8::from_le_bytes(c.array()?)),
                0xF1..=0xFD => i64::from(enc & 0x0F) - 1,
                _ => return Err(LegacyError("bad ziplist entry encoding")),
            }),
        };
        Ok(ZlEntry {
            start,
            end: c.pos,
            prevlen,
            item,
        })
    }
}

impl<'a> Iterator for ZlEntries<'a> {
    type Item = Result<ZlEntry<'a>, LegacyError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.cur.at_end() {
            return None;
        }
        let e = self.entry();
        if e.is_err() {
            // Stop: after a bad entry there is no telling where the next one starts.
            self.cur.pos = self.cur.buf.len();
        }
        Some(e)
    }
}

/// Redis's deep integrity check of a ziplist.
fn validate_ziplist(bytes: &[u8]) -> Result<(), LegacyError> {
    let header: [u8; ZL_HEADER] = bytes
        .get(..ZL_HEADER)
        .and_then(|h| h.try_into().ok())
        .ok_or(LegacyError("ziplist shorter than its header"))?;
    let [b0, b1, b2, b3, t0, t1, t2, t3, n0, n1] = header;
    if u64::from(u32::from_le_bytes([b0, b1, b2, b3])) != bytes.len() as u64 {
        return Err(LegacyError("ziplist zlbytes does not match its size"));
    }
    if bytes.last() != Some(&ZL_END) || bytes.len() == ZL_HEADER {
        return Err(LegacyError("ziplist terminator missing"));
    }
    let tail = u32::from_le_bytes([t0, t1, t2, t3]) as usize;
    let declared = u16::from_le_bytes([n0, n1]);

    let mut last = None;
    let mut count = 0usize;
    for e in ZlEntries::new(bytes) {
        let e = e?;
        let prev_len = last.map_or(0, |(start, end)| end - start);
        if e.prevlen != prev_len {
            return Err(LegacyError("ziplist prevlen does not match the previous entry"));
        }
        last = Some((e.start, e.end));
        count += 1;
    }
    if last.map_or(ZL_HEADER, |(start, _)| start) != tail {
        return Err(LegacyError("ziplist zltail does not point at the last entry"));
    }
    if declared != ZL_COUNT_UNKNOWN && usize::from(declared) != count {
        return Err(LegacyError("ziplist zllen does not match its entries"));
    }
    Ok(())
}

/// A ziplist (the compact list of Redis before 7.0: small hashes, sorted sets, list nodes) as a
/// listpack with the same elements in the same order (integers stay integers).
///
/// An empty ziplist is well-formed and gives an empty listpack; whether an empty value may become a key
/// is the loader's question (Redis refuses it).
pub fn ziplist_to_listpack(bytes: &[u8]) -> Result<Listpack, LegacyError> {
    validate_ziplist(bytes)?;
    let mut lp = Listpack::new();
    // Validated: no entry fails now, so `map_while` sees every one.
    lp.extend_back(ZlEntries::new(bytes).map_while(Result::ok).map(|e| e.item));
    // A listpack entry can take a few bytes more than the ziplist entry it comes from, so a ziplist
    // near the 4 GiB limit of both formats may not fit.
    if u32::try_from(lp.total_bytes()).is_err() {
        return Err(LegacyError("ziplist too large for a listpack"));
    }
    Ok(lp)
}

// ---- zipmap ----

/// A zipmap string length.
fn zipmap_len(c: &mut Cursor<'_>) -> Result<usize, LegacyError> {
    match c.byte()? {
        b if b < ZM_BIGLEN => Ok(usize::from(b)),
        // 254, or 255 where a value's length stands, which Redis reads the same way. The four bytes are
        // little endian: Redis wrote them in host order, and reads them as little endian today.
        _ => match u32::from_le_bytes(c.array()?) {
            // Redis's validation passes a long form holding a short length, but its iteration then
            // steps over the one byte the short form would take and reads garbage.
            n if n < u32::from(ZM_BIGLEN) => Err(LegacyError("zipmap length not in its shortest form")),
            n => Ok(n as usize),
        },
    }
}

/// Field-value pairs, in order.
pub type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// The field-value pairs of a zipmap (small hashes of Redis before 2.6), in order.
pub fn zipmap_pairs(bytes: &[u8]) -> Result<Pairs, LegacyError> {
    let Some((&zmlen, rest)) = bytes.split_first() else {
        return Err(LegacyError("zipmap is empty"));
    };
    let Some((&ZM_END, body)) = rest.split_last() else {
        return Err(LegacyError("zipmap terminator missing"));
    };
    let mut c = Cursor { buf: body, pos: 0 };
    let mut pairs = Vec::new();
    while let Some(b) = c.peek() {
        if b == ZM_END {
            return Err(LegacyError("zipmap terminator before the end"));
        }
        let klen = zipmap_len(&mut c)?;
        let key = c.take(klen)?;
        let vlen = zipmap_len(&mut c)?;
        let free = c.byte()?;
        let value = c.take(vlen)?;
        c.take(usize::from(free))?;
        pairs.push((key.to_vec(), value.to_vec()));
    }
    // As Redis: a zipmap holds at least one pair (an empty hash is never saved).
    if pairs.is_empty() {
        return Err(LegacyError("zipmap has no pairs"));
    }
    if zmlen != ZM_BIGLEN && usize::from(zmlen) != pairs.len() {
        return Err(LegacyError("zipmap zmlen does not match its pairs"));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::object::listpack::{parse_canonical_int, validate};
    use proptest::prelude::*;

    // ---- a test-only ziplist encoder ----

    /// Encoding + data of a string, with the shortest length form.
    fn enc_str(s: &[u8]) -> Vec<u8> {
        let n = s.len();
        let mut e = if n < 64 {
            vec![n as u8]
        } else if n < 1 << 14 {
            vec![0x40 | (n >> 8) as u8, n as u8]
        } else {
            let mut e = vec![0x80];
            e.extend_from_slice(&(n as u32).to_be_bytes());
            e
        };
        e.extend_from_slice(s);
        e
    }

    /// Encoding + data of a string, with the 32-bit length form whatever its length.
    fn enc_str32(s: &[u8]) -> Vec<u8> {
        let mut e = vec![0x80];
        e.extend_from_slice(&(s.len() as u32).to_be_bytes());
        e.extend_from_slice(s);
        e
    }

    /// Encoding + data of an integer, in the smallest form (as Redis chooses it).
    fn enc_int(v: i64) -> Vec<u8> {
        if (0..=12).contains(&v) {
            vec![0xF1 + v as u8]
        } else if let Ok(b) = i8::try_from(v) {
            vec![0xFE, b as u8]
        } else if let Ok(b) = i16::try_from(v) {
            [&[0xC0][..], &b.to_le_bytes()].concat()
        } else if (-(1 << 23)..1 << 23).contains(&v) {
            [&[0xF0][..], &(v as i32).to_le_bytes()[..3]].concat()
        } else if let Ok(b) = i32::try_from(v) {
            [&[0xD0][..], &b.to_le_bytes()].concat()
        } else {
            [&[0xE0][..], &v.to_le_bytes()].concat()
        }
    }

    /// How the test encoder writes `prevlen`.
    #[derive(Clone, Copy)]
    enum Prevlen {
        Shortest,
        /// Always 5 bytes, as Redis's cascade update may leave it.
        Wide,
    }

    /// A ziplist of entries given as encoding + data.
    fn ziplist_with(entries: &[Vec<u8>], prevlen: Prevlen) -> Vec<u8> {
        let mut z = vec![0; ZL_HEADER];
        let mut prev = 0usize;
        let mut tail = ZL_HEADER;
        for e in entries {
            tail = z.len();
            match prevlen {
                Prevlen::Shortest if prev < 254 => z.push(prev as u8),
                _ => {
                    z.push(ZL_BIG_PREVLEN);
                    z.extend_from_slice(&(prev as u32).to_le_bytes());
                }
            }
            z.extend_from_slice(e);
            prev = z.len() - tail;
        }
        z.push(ZL_END);
        let total = z.len() as u32;
        z[0..4].copy_from_slice(&total.to_le_bytes());
        z[4..8].copy_from_slice(&(tail as u32).to_le_bytes());
        let count = u16::try_from(entries.len()).unwrap_or(ZL_COUNT_UNKNOWN);
        z[8..10].copy_from_slice(&count.to_le_bytes());
        z
    }

    fn ziplist(entries: &[Vec<u8>]) -> Vec<u8> {
        ziplist_with(entries, Prevlen::Shortest)
    }

    fn items(lp: &Listpack) -> Vec<LpItem<'_>> {
        lp.iter().collect()
    }

    /// A zipmap of pairs, each with `free` unused bytes after its value.
    fn zipmap(pairs: &[(&[u8], &[u8], u8)]) -> Vec<u8> {
        fn len(z: &mut Vec<u8>, n: usize) {
            if n < 254 {
                z.push(n as u8);
            } else {
                z.push(ZM_BIGLEN);
                z.extend_from_slice(&(n as u32).to_le_bytes());
            }
        }
        let mut z = vec![pairs.len().min(254) as u8];
        for (k, v, free) in pairs {
            len(&mut z, k.len());
            z.extend_from_slice(k);
            len(&mut z, v.len());
            z.push(*free);
            z.extend_from_slice(v);
            z.extend(std::iter::repeat_n(b'.', usize::from(*free)));
        }
        z.push(ZM_END);
        z
    }

    /// Decode `blob` both ways; whatever comes back must be a well-formed result (never a panic).
    fn decode_any(blob: &[u8]) {
        if let Ok(lp) = ziplist_to_listpack(blob) {
            assert!(validate(lp.as_bytes()).is_ok());
            let _ = lp.iter().count();
        }
        let _ = zipmap_pairs(blob);
    }

    /// Every truncation, and every byte changed a few ways, of a valid blob.
    fn corrupt_everywhere(good: &[u8]) {
        for n in 0..good.len() {
            decode_any(&good[..n]);
            // The same cut with the header's size fixed, so the walk reaches the cut.
            if n >= ZL_HEADER {
                let mut cut = good[..n].to_vec();
                cut.push(ZL_END);
                let total = cut.len() as u32;
                cut[0..4].copy_from_slice(&total.to_le_bytes());
                decode_any(&cut);
            }
        }
        for i in 0..good.len() {
            for delta in [1u8, 0x3F, 0x40, 0x7F, 0x80, 0xFF] {
                let mut bad = good.to_vec();
                bad[i] = bad[i].wrapping_add(delta);
                decode_any(&bad);
            }
            for v in [0x00, 0xFE, 0xFF] {
                let mut bad = good.to_vec();
                bad[i] = v;
                decode_any(&bad);
            }
        }
    }

    #[test]
    fn the_documented_example_reads() {
        // The two-element ziplist ("2", "5") of the layout description in Redis's ziplist.c.
        let zl = b"\x0f\x00\x00\x00\x0c\x00\x00\x00\x02\x00\x00\xf3\x02\xf6\xff";
        let lp = ziplist_to_listpack(zl).unwrap();
        assert_eq!(items(&lp), vec![LpItem::Int(2), LpItem::Int(5)]);
        // Our encoder writes the same bytes.
        assert_eq!(ziplist(&[enc_int(2), enc_int(5)]), zl.to_vec());
    }

    #[test]
    fn every_integer_encoding() {
        let values = [
            0,
            1,
            12,
            13,
            -1,
            127,
            -128,
            128,
            -129,
            i16::MAX as i64,
            i16::MIN as i64,
            i16::MAX as i64 + 1,
            (1 << 23) - 1,
            -(1 << 23),
            1 << 23,
            -(1 << 23) - 1,
            i32::MAX as i64,
            i32::MIN as i64,
            i32::MAX as i64 + 1,
            i64::MAX,
            i64::MIN,
        ];
        let entries: Vec<Vec<u8>> = values.iter().map(|&v| enc_int(v)).collect();
        // Each encoding byte is used at least once.
        let firsts: Vec<u8> = entries.iter().map(|e| e[0]).collect();
        for enc in [0xF1, 0xFD, 0xFE, 0xC0, 0xF0, 0xD0, 0xE0] {
            assert!(firsts.contains(&enc), "{enc:#x}");
        }
        let lp = ziplist_to_listpack(&ziplist(&entries)).unwrap();
        let want: Vec<LpItem> = values.iter().map(|&v| LpItem::Int(v)).collect();
        assert_eq!(items(&lp), want);
        assert!(validate(lp.as_bytes()).is_ok());
        // Every immediate, and wider forms than needed (Redis reads them; it only writes the smallest).
        let imm: Vec<Vec<u8>> = (0xF1..=0xFDu8).map(|b| vec![b]).collect();
        let lp = ziplist_to_listpack(&ziplist(&imm)).unwrap();
        assert_eq!(items(&lp), (0..=12).map(LpItem::Int).collect::<Vec<_>>());
        let wide = [
            vec![0xE0, 5, 0, 0, 0, 0, 0, 0, 0],
            vec![0xD0, 0xFF, 0xFF, 0xFF, 0xFF],
            vec![0xF0, 0, 0, 0x80],
        ];
        let lp = ziplist_to_listpack(&ziplist(&wide)).unwrap();
        assert_eq!(
            items(&lp),
            vec![LpItem::Int(5), LpItem::Int(-1), LpItem::Int(-(1 << 23))]
        );
    }

    #[test]
    fn every_string_length_form_and_wide_prevlens() {
        let s0 = b"".to_vec();
        let s63 = vec![b'a'; 63];
        let s64 = vec![b'b'; 64];
        let s300 = vec![b'c'; 300];
        let s16383 = vec![b'd'; 16383];
        let s16384 = vec![b'e'; 16384];
        let strs = [&s0, &s63, &s64, &s300, &s16383, &s16384];
        let mut entries: Vec<Vec<u8>> = strs.iter().map(|s| enc_str(s)).collect();
        entries.push(enc_str32(b"short in a long form"));
        entries.push(enc_int(7));
        let zl = ziplist(&entries);
        // The entry after the 300-byte string records its length in 5 bytes.
        let after = ZL_HEADER + 2 + 65 + 67 + 303;
        assert_eq!(&zl[after - 303..after - 299], &[67, 0x41, 0x2C, b'c']);
        assert_eq!(zl[after], ZL_BIG_PREVLEN);
        let lp = ziplist_to_listpack(&zl).unwrap();
        let mut want: Vec<LpItem> = strs.iter().map(|s| LpItem::Str(s)).collect();
        want.push(LpItem::Str(b"short in a long form"));
        want.push(LpItem::Int(7));
        assert_eq!(items(&lp), want);
        assert!(validate(lp.as_bytes()).is_ok());
        // Every prevlen in 5 bytes, even the small ones.
        let lp = ziplist_to_listpack(&ziplist_with(&entries, Prevlen::Wide)).unwrap();
        assert_eq!(items(&lp), want);
        // Redis masks the low bits of a 32-bit length's first byte.
        let mut odd = enc_str32(b"xyz");
        odd[0] = 0xBF;
        let lp = ziplist_to_listpack(&ziplist(&[odd])).unwrap();
        assert_eq!(items(&lp), vec![LpItem::Str(b"xyz")]);
    }

    #[test]
    fn numeric_strings_become_integers() {
        // A ziplist written by Redis stores these as integers; either way the listpack holds integers.
        let lp = ziplist_to_listpack(&ziplist(&[enc_str(b"123"), enc_str(b"0123"), enc_str(b"-5")])).unwrap();
        assert_eq!(
            items(&lp),
            vec![LpItem::Int(123), LpItem::Str(b"0123"), LpItem::Int(-5)]
        );
    }

    #[test]
    fn empty_ziplists() {
        let zl = ziplist(&[]);
        assert_eq!(zl, b"\x0b\x00\x00\x00\x0a\x00\x00\x00\x00\x00\xff");
        let lp = ziplist_to_listpack(&zl).unwrap();
        assert!(lp.is_empty());
        assert!(validate(lp.as_bytes()).is_ok());
        let mut bad = zl.clone();
        bad[4] = 11;
        assert_eq!(
            ziplist_to_listpack(&bad),
            Err(LegacyError("ziplist zltail does not point at the last entry"))
        );
        let mut bad = zl;
        bad[8] = 1;
        assert_eq!(
            ziplist_to_listpack(&bad),
            Err(LegacyError("ziplist zllen does not match its entries"))
        );
    }

    #[test]
    fn a_count_to_scan_for_is_accepted_and_recounted() {
        let mut zl = ziplist(&[enc_str(b"a"), enc_str(b"b"), enc_int(1000)]);
        zl[8..10].copy_from_slice(&ZL_COUNT_UNKNOWN.to_le_bytes());
        let lp = ziplist_to_listpack(&zl).unwrap();
        assert_eq!(lp.len(), 3);
        assert!(validate(lp.as_bytes()).is_ok());
        // And the other way: 65535 real entries, counted.
        let entries = vec![enc_int(3); 70_000];
        let mut zl = ziplist(&entries);
        assert_eq!(&zl[8..10], &[0xFF, 0xFF]);
        let lp = ziplist_to_listpack(&zl).unwrap();
        assert_eq!(lp.len(), 70_000);
        zl[8..10].copy_from_slice(&4464u16.to_le_bytes());
        assert!(ziplist_to_listpack(&zl).is_err());
    }

    #[test]
    fn ziplist_errors() {
        let good = ziplist(&[enc_str(b"field"), enc_int(-300), enc_str(b"v")]);
        assert!(ziplist_to_listpack(&good).is_ok());
        let err = |b: &[u8]| ziplist_to_listpack(b).unwrap_err().0;

        assert_eq!(err(b""), "ziplist shorter than its header");
        let mut b = good[..ZL_HEADER].to_vec();
        b[0..4].copy_from_slice(&(ZL_HEADER as u32).to_le_bytes());
        assert_eq!(err(&b), "ziplist terminator missing");
        let mut b = good.clone();
        b.push(0);
        assert_eq!(err(&b), "ziplist zlbytes does not match its size");
        let mut b = good.clone();
        *b.last_mut().unwrap() = 0;
        assert_eq!(err(&b), "ziplist terminator missing");
        // zltail one off.
        let mut b = good.clone();
        b[4] += 1;
        assert_eq!(err(&b), "ziplist zltail does not point at the last entry");
        // The second entry's prevlen one off.
        let mut b = good.clone();
        b[ZL_HEADER + 7] += 1;
        assert_eq!(err(&b), "ziplist prevlen does not match the previous entry");
        // A first entry claiming a predecessor.
        let mut b = good.clone();
        b[ZL_HEADER] = 1;
        assert_eq!(err(&b), "ziplist prevlen does not match the previous entry");
        let mut b = good.clone();
        b[8] = 2;
        assert_eq!(err(&b), "ziplist zllen does not match its entries");
        // An encoding byte no ziplist uses.
        for enc in [0xC1u8, 0xCF, 0xD5, 0xE7, 0xFF] {
            let mut b = good.clone();
            b[ZL_HEADER + 1] = enc;
            assert!(ziplist_to_listpack(&b).is_err(), "{enc:#x}");
        }
        assert_eq!(err(&ziplist(&[vec![0xC7, 1, 2]])), "bad ziplist entry encoding");
        // A terminator where the next entry should start.
        let mut b = ziplist(&[enc_str(b"a"), enc_str(b"b")]);
        b[ZL_HEADER + 3] = ZL_END;
        assert_eq!(err(&b), "ziplist terminator before the end");
        // A string whose length reaches the terminator, and one claiming 4 GiB in a small blob: refused
        // before anything is read or allocated with the length.
        let mut b = ziplist(&[enc_str(b"abc")]);
        b[ZL_HEADER + 1] = 4;
        assert_eq!(err(&b), TRUNCATED.0);
        let b = ziplist(&[vec![0x80, 0xFF, 0xFF, 0xFF, 0xFF, b'x']]);
        assert_eq!(err(&b), TRUNCATED.0);
        let b = ziplist(&[vec![0x7F, 0xFF]]);
        assert_eq!(err(&b), TRUNCATED.0);
        // A 5-byte prevlen cut short by the end.
        let b = ziplist(&[vec![0xFE], vec![]]);
        assert!(ziplist_to_listpack(&b).is_err());
    }

    #[test]
    fn corrupt_ziplists_never_panic() {
        let entries = vec![
            enc_str(b"k"),
            enc_int(0),
            enc_int(-7),
            enc_int(200),
            enc_int(-40000),
            enc_int(5_000_000),
            enc_int(-3_000_000_000),
            enc_str(&[b'x'; 70]),
            enc_str(&[b'y'; 260]),
            enc_str32(b"z"),
            enc_int(12),
        ];
        let good = ziplist(&entries);
        assert_eq!(ziplist_to_listpack(&good).unwrap().len(), entries.len());
        corrupt_everywhere(&good);
        corrupt_everywhere(&ziplist_with(&entries[..4], Prevlen::Wide));
        corrupt_everywhere(&ziplist(&[]));
    }

    #[test]
    fn the_documented_zipmap_reads() {
        // The "foo" => "bar", "hello" => "world" example of Redis's zipmap.c.
        let zm = b"\x02\x03foo\x03\x00bar\x05hello\x05\x00world\xff";
        let want = vec![
            (b"foo".to_vec(), b"bar".to_vec()),
            (b"hello".to_vec(), b"world".to_vec()),
        ];
        assert_eq!(zipmap_pairs(zm).unwrap(), want);
        assert_eq!(zipmap(&[(b"foo", b"bar", 0), (b"hello", b"world", 0)]), zm.to_vec());
    }

    #[test]
    fn zipmap_lengths_free_space_and_counts() {
        let long_key = vec![b'k'; 254];
        let long_val = vec![b'v'; 1000];
        let zm = zipmap(&[(&long_key, b"", 3), (b"", &long_val, 0), (b"a", b"b", 4)]);
        assert_eq!(zm[1], ZM_BIGLEN);
        let got = zipmap_pairs(&zm).unwrap();
        assert_eq!(
            got,
            vec![
                (long_key.clone(), vec![]),
                (vec![], long_val.clone()),
                (b"a".to_vec(), b"b".to_vec())
            ]
        );
        // 254 means "count by scanning".
        let mut scan = zm.clone();
        scan[0] = ZM_BIGLEN;
        assert_eq!(zipmap_pairs(&scan).unwrap(), got);
        // A value length led by 255 reads 4 bytes, as Redis reads it.
        let mut zm = zipmap(&[(b"k", &long_val, 0)]);
        zm[3] = 0xFF;
        assert_eq!(zipmap_pairs(&zm).unwrap(), vec![(b"k".to_vec(), long_val.clone())]);
        // A long form holding a short length: refused (Redis's reader would misread it).
        let err = Err(LegacyError("zipmap length not in its shortest form"));
        assert_eq!(zipmap_pairs(b"\x01\xfe\x01\x00\x00\x00k\x01\x00v\xff"), err);
        assert_eq!(zipmap_pairs(b"\x01\x01k\xff\x02\x00\x00\x00\x00ab\xff"), err);
    }

    #[test]
    fn zipmap_errors() {
        let err = |b: &[u8]| zipmap_pairs(b).unwrap_err().0;
        assert_eq!(err(b""), "zipmap is empty");
        assert_eq!(err(b"\x00"), "zipmap terminator missing");
        assert_eq!(err(b"\x00\xff"), "zipmap has no pairs");
        assert_eq!(err(b"\x01\x01k\x01\x00v"), "zipmap terminator missing");
        assert_eq!(err(b"\x02\x01k\x01\x00v\xff"), "zipmap zmlen does not match its pairs");
        assert_eq!(err(b"\x01\x01k\x01\x00v\xff\xff"), "zipmap terminator before the end");
        assert_eq!(err(b"\x01\x01k\x01\x00v\x00\xff"), TRUNCATED.0);
        // Free space running into the terminator.
        assert_eq!(err(b"\x01\x01k\x01\x01v\xff"), TRUNCATED.0);
        // Lengths beyond the blob, up to 4 GiB.
        assert_eq!(err(b"\x01\x05k\x01\x00v\xff"), TRUNCATED.0);
        assert_eq!(err(b"\x01\xfe\xff\xff\xff\xffk\x01\x00v\xff"), TRUNCATED.0);
        assert_eq!(err(b"\x01\x01k\xfe\xff\xff\xff\xff\x00v\xff"), TRUNCATED.0);
        assert_eq!(err(b"\x01\x01k\xfe\x01\x00\xff"), TRUNCATED.0);
    }

    #[test]
    fn corrupt_zipmaps_never_panic() {
        let long = vec![b'l'; 300];
        let good = zipmap(&[(b"name", b"ferrite", 2), (&long, b"x", 0), (b"", &long, 4)]);
        assert_eq!(zipmap_pairs(&good).unwrap().len(), 3);
        corrupt_everywhere(&good);
    }

    /// An element as a ziplist may hold it, and the listpack element it must become.
    fn element() -> impl Strategy<Value = (Vec<u8>, Option<i64>, Vec<u8>)> {
        let int = prop_oneof![
            any::<i64>(),
            -20i64..20,
            any::<i16>().prop_map(i64::from),
            any::<i32>().prop_map(i64::from)
        ]
        .prop_map(|v| (enc_int(v), Some(v), vec![]));
        let string = prop_oneof![
            4 => prop::collection::vec(any::<u8>(), 0..80),
            1 => prop::collection::vec(any::<u8>(), 240..320),
            1 => prop::collection::vec(any::<u8>(), 16380..16390),
        ]
        .prop_map(|s| (enc_str(&s), parse_canonical_int(&s), s));
        prop_oneof![int, string]
    }

    proptest! {
        #[test]
        fn ziplists_round_trip(elems in prop::collection::vec(element(), 0..40)) {
            let entries: Vec<Vec<u8>> = elems.iter().map(|(e, _, _)| e.clone()).collect();
            let lp = ziplist_to_listpack(&ziplist(&entries)).unwrap();
            let want: Vec<LpItem> = elems
                .iter()
                .map(|(_, int, s)| int.map_or(LpItem::Str(s), LpItem::Int))
                .collect();
            prop_assert_eq!(items(&lp), want);
            prop_assert!(validate(lp.as_bytes()).is_ok());
        }

        #[test]
        fn random_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..300), tail in 0u32..300, count in any::<u16>()) {
            decode_any(&data);
            // Framed with a consistent zlbytes and terminator, so the walk runs over the random entries.
            let mut zl = ((data.len() + ZL_HEADER + 1) as u32).to_le_bytes().to_vec();
            zl.extend_from_slice(&tail.to_le_bytes());
            zl.extend_from_slice(&count.to_le_bytes());
            zl.extend_from_slice(&data);
            zl.push(ZL_END);
            decode_any(&zl);
            let mut zm = vec![count as u8];
            zm.extend_from_slice(&data);
            zm.push(ZM_END);
            decode_any(&zm);
        }

        #[test]
        fn mutated_blobs_never_panic(
            elems in prop::collection::vec(element(), 0..12),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
        ) {
            let entries: Vec<Vec<u8>> = elems.iter().map(|(e, _, _)| e.clone()).collect();
            let pairs: Vec<(&[u8], &[u8], u8)> =
                elems.chunks(2).map(|c| (&c[0].2[..], &c[c.len() - 1].2[..], c.len() as u8)).collect();
            for mut blob in [ziplist(&entries), zipmap(&pairs)] {
                for (at, byte, kind) in &edits {
                    if blob.is_empty() {
                        break;
                    }
                    let i = at.index(blob.len());
                    match kind {
                        0 => blob[i] = *byte,
                        1 => blob.insert(i, *byte),
                        _ => blob.truncate(i),
                    }
                }
                decode_any(&blob);
            }
        }
    }
}
