//! Redis's HyperLogLog representation, byte for byte, so that a value written by one server is read,
//! counted and extended identically by the other.
//!
//! A HyperLogLog is a string: a 16-byte header, `"HYLL"`, an encoding byte (0 dense, 1 sparse), three
//! zero bytes, and the cached cardinality as a little-endian u64 whose top bit set means "stale". Then
//! 16384 registers (p = 14), each the longest run of zero bits seen (plus one, at most 51) among the
//! elements that hash to it:
//! - dense: 6 bits per register, packed little-endian-first (register `i` starts at bit `6 i`), 12288
//!   bytes, so the string is always exactly 12304 bytes;
//! - sparse: run-length opcodes. `00xxxxxx` is a run of 1..=64 zero registers, `01xxxxxx yyyyyyyy` a run
//!   of 1..=16384 zero registers (14 bits), `1vvvvvxx` a run of 1..=4 registers holding 1..=32. A new
//!   HyperLogLog is one XZERO opcode covering every register. The sparse form is promoted to dense when
//!   a register needs a value above 32 or when an update would make the string longer than
//!   `hll-sparse-max-bytes`.
//!
//! An element's register and value come from MurmurHash64A (seed `0xadc83b19`): the low 14 bits pick
//! the register; the count is one plus the number of trailing zeros of the remaining 50 bits (51 when
//! they are all zero). Cardinality is Otmar Ertl's improved raw estimator over the register histogram
//! ("New cardinality estimation algorithms for HyperLogLog sketches", 2017), as Redis 7.0 computes it.
//!
//! Nothing here trusts its input: every read of an opcode stays inside the string (a byte past the end
//! reads as 0, as the terminator of Redis's sds string would), and the checks Redis makes lazily —
//! which decide between a result and `INVALIDOBJ` — are made at the same points (`Corrupt`).

/// Registers: 2^14.
pub const REGISTERS: usize = 1 << 14;
const P: u32 = 14;
/// Hash bits left for counting zeros.
const Q: usize = 64 - P as usize;
const BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << BITS) - 1;
/// Header bytes.
pub const HDR: usize = 16;
/// The size of a dense HyperLogLog.
pub const DENSE_SIZE: usize = HDR + (REGISTERS * BITS).div_ceil(8);
const DENSE: u8 = 0;
const SPARSE: u8 = 1;
const MAX_ENCODING: u8 = SPARSE;

const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;
const XZERO_MAX_LEN: usize = 16384;
/// 0.5 / ln 2: the estimator's constant for an unbounded number of registers.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// The HyperLogLog is corrupt (`INVALIDOBJ Corrupted HLL object detected`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// MurmurHash64A, reading 8-byte blocks little-endian (what Redis does on every platform).
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut blocks = key.chunks_exact(8);
    for b in &mut blocks {
        let mut k = u64::from_le_bytes(b.try_into().expect("chunks of 8"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element updates and the value it proposes (1..=51).
pub fn register_and_count(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, 0xadc8_3b19);
    let index = (hash as usize) & (REGISTERS - 1);
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

// ---- header ----

/// Redis's `isHLLObjectOrReply` on a string's bytes: long enough for a header, the magic, a known
/// encoding, and a dense one exactly the dense size. Sparse opcodes are checked only when used.
pub fn looks_valid(s: &[u8]) -> bool {
    s.len() >= HDR && &s[..4] == b"HYLL" && s[4] <= MAX_ENCODING && (s[4] != DENSE || s.len() == DENSE_SIZE)
}

pub fn is_dense(s: &[u8]) -> bool {
    s[4] == DENSE
}

/// An empty HyperLogLog: sparse, one XZERO opcode, cached cardinality 0.
pub fn new_sparse() -> Vec<u8> {
    let mut s = Vec::with_capacity(HDR + 2);
    s.extend_from_slice(b"HYLL");
    s.push(SPARSE);
    s.resize(HDR, 0);
    push_xzero(&mut s, XZERO_MAX_LEN);
    s
}

/// The cached cardinality, if valid.
pub fn cached(s: &[u8]) -> Option<u64> {
    let card = u64::from_le_bytes(s[8..16].try_into().expect("header checked"));
    (s[15] & 0x80 == 0).then_some(card)
}

pub fn set_cache(s: &mut [u8], card: u64) {
    s[8..16].copy_from_slice(&card.to_le_bytes());
}

pub fn invalidate_cache(s: &mut [u8]) {
    s[15] |= 0x80;
}

// ---- dense registers ----

fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = u32::from(regs[byte]);
    let b1 = u32::from(regs.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> fb) | (b1 << (8 - fb))) & u32::from(REGISTER_MAX)) as u8
}

fn dense_put(regs: &mut [u8], i: usize, val: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = u32::from(val);
    let max = u32::from(REGISTER_MAX);
    regs[byte] &= !((max << fb) as u8);
    regs[byte] |= (v << fb) as u8;
    // Past the last byte only zero bits would be written (the last register ends on a byte boundary).
    if let Some(b) = regs.get_mut(byte + 1) {
        *b &= !((max >> (8 - fb)) as u8);
        *b |= (v >> (8 - fb)) as u8;
    }
}

/// Raise a dense register to `count`; true when it changed.
fn dense_set(s: &mut [u8], index: usize, count: u8) -> bool {
    let regs = &mut s[HDR..];
    if count > dense_get(regs, index) {
        dense_put(regs, index, count);
        true
    } else {
        false
    }
}

// ---- sparse opcodes ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Zero(usize),
    XZero(usize),
    Val(u8, usize),
}

/// The opcode at `p` (which must be inside `s`) and its size; a second XZERO byte past the end reads 0.
fn op_at(s: &[u8], p: usize) -> (Op, usize) {
    let b = s[p];
    if b & 0xC0 == 0 {
        (Op::Zero(usize::from(b & 0x3F) + 1), 1)
    } else if b & 0xC0 == 0x40 {
        let lo = usize::from(s.get(p + 1).copied().unwrap_or(0));
        (Op::XZero((usize::from(b & 0x3F) << 8 | lo) + 1), 2)
    } else {
        (Op::Val(((b >> 2) & 0x1F) + 1, usize::from(b & 0x3) + 1), 1)
    }
}

fn val_op(value: u8, len: usize) -> u8 {
    0x80 | ((value - 1) << 2) | (len as u8 - 1)
}

fn push_zero(out: &mut Vec<u8>, len: usize) {
    out.push((len - 1) as u8);
}

fn push_xzero(out: &mut Vec<u8>, len: usize) {
    let l = len - 1;
    out.push(0x40 | (l >> 8) as u8);
    out.push(l as u8);
}

fn push_zeros(out: &mut Vec<u8>, len: usize) {
    if len > ZERO_MAX_LEN {
        push_xzero(out, len);
    } else {
        push_zero(out, len);
    }
}

/// Iterate opcodes from the header on: (opcode, position).
fn ops(s: &[u8]) -> impl Iterator<Item = (Op, usize)> + '_ {
    let mut p = HDR;
    std::iter::from_fn(move || {
        if p >= s.len() {
            return None;
        }
        let (op, n) = op_at(s, p);
        let at = p;
        p += n;
        Some((op, at))
    })
}

/// Redis's `hllSparseToDense` (a dense value is left alone): fails when the opcodes do not cover
/// exactly the 16384 registers.
pub fn to_dense(s: &mut Vec<u8>) -> Result<(), Corrupt> {
    if is_dense(s) {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR].copy_from_slice(&s[..HDR]);
    dense[4] = DENSE;
    let mut idx = 0usize;
    for (op, _) in ops(s) {
        match op {
            Op::Zero(n) | Op::XZero(n) => idx += n,
            Op::Val(v, n) => {
                // A run past the last register is corruption even if the count then adds up.
                if idx + n > REGISTERS {
                    return Err(Corrupt);
                }
                for i in idx..idx + n {
                    dense_put(&mut dense[HDR..], i, v);
                }
                idx += n;
            }
        }
    }
    if idx != REGISTERS {
        return Err(Corrupt);
    }
    *s = dense;
    Ok(())
}

/// Redis's `hllSparseSet`: raise register `index` of a sparse value to `count`, splitting the opcode
/// that covers it, promoting to dense where Redis does. True when a register changed.
fn sparse_set(s: &mut Vec<u8>, index: usize, count: u8, sparse_max: usize) -> Result<bool, Corrupt> {
    if count > VAL_MAX_VALUE {
        return promote(s, index, count);
    }
    // Step 1: the opcode covering `index`, with the first register it covers and the opcode before it.
    let end = s.len();
    let (mut p, mut first, mut span, mut prev) = (HDR, 0usize, 0usize, None);
    let mut found = None;
    while p < end {
        let (op, n) = op_at(s, p);
        span = match op {
            Op::Zero(l) | Op::XZero(l) | Op::Val(_, l) => l,
        };
        if index < first + span {
            found = Some((op, n));
            break;
        }
        prev = Some(p);
        p += n;
        first += span;
    }
    let Some((op, oplen)) = found else {
        return Err(Corrupt);
    };

    // Step 2: the trivial updates in place, else the replacement sequence.
    let mut seq: Vec<u8> = Vec::with_capacity(5);
    match op {
        Op::Val(v, _) if v >= count => return Ok(false),
        Op::Val(_, 1) | Op::Zero(1) => s[p] = val_op(count, 1),
        _ => {
            let last = first + span - 1;
            match op {
                Op::Val(v, _) => {
                    if index != first {
                        seq.push(val_op(v, index - first));
                    }
                    seq.push(val_op(count, 1));
                    if index != last {
                        seq.push(val_op(v, last - index));
                    }
                }
                Op::Zero(_) | Op::XZero(_) => {
                    if index != first {
                        push_zeros(&mut seq, index - first);
                    }
                    seq.push(val_op(count, 1));
                    if index != last {
                        push_zeros(&mut seq, last - index);
                    }
                }
            }
            // Step 3: put the sequence in place of the opcode, unless the value grows too long.
            if seq.len() > oplen && end + seq.len() - oplen > sparse_max {
                return promote(s, index, count);
            }
            let new_len = end + seq.len() - oplen;
            let old_end = (p + oplen).min(end);
            s.splice(p..old_end, seq.iter().copied());
            s.truncate(new_len);
        }
    }

    // Step 4: merge adjacent VAL opcodes of equal value (up to 5 opcodes from the one before).
    let mut p = prev.unwrap_or(HDR);
    let mut scan = 5;
    while p < s.len() && scan > 0 {
        scan -= 1;
        match op_at(s, p).0 {
            Op::XZero(_) => p += 2,
            Op::Zero(_) => p += 1,
            Op::Val(v1, l1) => {
                if let Some(&next) = s.get(p + 1) {
                    if let (Op::Val(v2, l2), _) = op_at(s, p + 1) {
                        if next & 0x80 != 0 && v1 == v2 && l1 + l2 <= VAL_MAX_LEN {
                            s[p + 1] = val_op(v1, l1 + l2);
                            s.remove(p);
                            continue;
                        }
                    }
                }
                p += 1;
            }
        }
    }
    Ok(true)
}

/// Convert to dense, then set the register there (it needs raising, or we would not be here).
fn promote(s: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    to_dense(s)?;
    dense_set(s, index, count);
    Ok(true)
}

/// Raise register `index` to `count` in either encoding.
pub fn set_register(s: &mut Vec<u8>, index: usize, count: u8, sparse_max: usize) -> Result<bool, Corrupt> {
    if is_dense(s) {
        Ok(dense_set(s, index, count))
    } else {
        sparse_set(s, index, count, sparse_max)
    }
}

/// Add an element (PFADD); true when a register changed. The cache is the caller's business.
pub fn add(s: &mut Vec<u8>, element: &[u8], sparse_max: usize) -> Result<bool, Corrupt> {
    let (index, count) = register_and_count(element);
    set_register(s, index, count, sparse_max)
}

// ---- counting and merging ----

/// Fold a value's registers into `max` (Redis's `hllMerge`).
pub fn merge_into(max: &mut [u8], s: &[u8]) -> Result<(), Corrupt> {
    if is_dense(s) {
        let regs = &s[HDR..];
        for (i, m) in max.iter_mut().enumerate().take(REGISTERS) {
            *m = (*m).max(dense_get(regs, i));
        }
        return Ok(());
    }
    let mut i = 0usize;
    for (op, _) in ops(s) {
        match op {
            Op::Zero(n) | Op::XZero(n) => i += n,
            Op::Val(v, n) => {
                if i + n > REGISTERS {
                    return Err(Corrupt);
                }
                for m in &mut max[i..i + n] {
                    *m = (*m).max(v);
                }
                i += n;
            }
        }
    }
    if i == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// The register histogram of a stored value (dense, or sparse covering exactly every register).
fn histogram(s: &[u8]) -> Result<[u32; 64], Corrupt> {
    let mut h = [0u32; 64];
    if is_dense(s) {
        let regs = &s[HDR..];
        for i in 0..REGISTERS {
            h[usize::from(dense_get(regs, i))] += 1;
        }
        return Ok(h);
    }
    let mut idx = 0usize;
    for (op, _) in ops(s) {
        match op {
            // Wrapping like Redis's `int` histogram; such a value fails the coverage check anyway.
            Op::Zero(n) | Op::XZero(n) => {
                idx += n;
                h[0] = h[0].wrapping_add(n as u32);
            }
            Op::Val(v, n) => {
                idx += n;
                h[usize::from(v)] = h[usize::from(v)].wrapping_add(n as u32);
            }
        }
    }
    if idx == REGISTERS {
        Ok(h)
    } else {
        Err(Corrupt)
    }
}

/// The estimate for a stored value (PFCOUNT of one key, cache aside).
pub fn count(s: &[u8]) -> Result<u64, Corrupt> {
    histogram(s).map(|h| estimate(&h))
}

/// The estimate for registers held one per byte (the union PFCOUNT builds).
pub fn count_registers(regs: &[u8]) -> u64 {
    let mut h = [0u32; 64];
    for &r in regs {
        h[usize::from(r & 63)] += 1;
    }
    estimate(&h)
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

/// Ertl's estimator as Redis 7.0 computes it, down to the C conversions: the estimate is rounded with
/// `llroundl` (an out-of-range result is x86's "integer indefinite", `i64::MIN`), stored in a double,
/// then converted to `uint64_t`.
fn estimate(h: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - f64::from(h[Q + 1])) / m);
    for j in (1..=Q).rev() {
        z += f64::from(h[j]);
        z *= 0.5;
    }
    z += m * sigma(f64::from(h[0]) / m);
    let r = (ALPHA_INF * m * m / z).round();
    // 2^63: llroundl's result must lie in [-2^63, 2^63).
    let limit = (1u64 << 63) as f64;
    let rounded: i64 = if r.is_nan() || !(-limit..limit).contains(&r) {
        i64::MIN
    } else {
        r as i64
    };
    let e = rounded as f64;
    if e < 0.0 {
        e as i64 as u64
    } else {
        e as u64
    }
}

// ---- PFDEBUG ----

/// Every register's value (the value must be dense).
pub fn registers(s: &[u8]) -> Vec<u8> {
    let regs = &s[HDR..];
    (0..REGISTERS).map(|i| dense_get(regs, i)).collect()
}

/// The sparse opcodes as `PFDEBUG DECODE` spells them: `z:<len>`, `Z:<len>`, `v:<value>,<len>`.
pub fn decode(s: &[u8]) -> String {
    let parts: Vec<String> = ops(s)
        .map(|(op, _)| match op {
            Op::Zero(n) => format!("z:{n}"),
            Op::XZero(n) => format!("Z:{n}"),
            Op::Val(v, n) => format!("v:{v},{n}"),
        })
        .collect();
    parts.join(" ")
}

/// A sparse value written from registers (tests and the self test): Redis's encoder's choices, a
/// register at a time.
#[cfg(test)]
pub fn from_registers_sparse(regs: &[u8]) -> Vec<u8> {
    let mut s = new_sparse();
    for (i, &r) in regs.iter().enumerate() {
        if r > 0 {
            let _ = sparse_set(&mut s, i, r, usize::MAX);
        }
    }
    s
}

/// Run the self test PFSELFTEST answers for: `Err` names the first check that failed.
pub fn self_test(seed: u64) -> Result<(), String> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    // Dense registers: every register holds what was written, neighbours untouched.
    let mut regs = vec![0u8; DENSE_SIZE - HDR];
    let mut model = vec![0u8; REGISTERS];
    for _ in 0..3 {
        for (i, m) in model.iter_mut().enumerate() {
            let v = rng.gen_range(0..=REGISTER_MAX);
            *m = v;
            dense_put(&mut regs, i, v);
        }
        for (i, &m) in model.iter().enumerate() {
            if dense_get(&regs, i) != m {
                return Err(format!("TESTFAILED Register error at {i}"));
            }
        }
    }
    // The sparse and the dense encodings agree register for register and estimate for estimate, and
    // the estimate stays within 5 standard errors (1.04 / sqrt(m)) of the truth.
    let mut sparse = new_sparse();
    let mut dense = new_sparse();
    to_dense(&mut dense).map_err(|_| "TESTFAILED dense conversion".to_string())?;
    let tolerance = 5.0 * 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint = 10u64;
    for n in 1..=100_000u64 {
        let element = format!("selftest:{seed}:{n}");
        let a = add(&mut sparse, element.as_bytes(), 3000).map_err(|_| "TESTFAILED sparse add".to_string())?;
        let b = add(&mut dense, element.as_bytes(), 3000).map_err(|_| "TESTFAILED dense add".to_string())?;
        if a != b {
            return Err(format!("TESTFAILED encodings disagree on element {n}"));
        }
        if n == checkpoint {
            checkpoint *= 10;
            let (ca, cb) = (count(&sparse), count(&dense));
            if ca != cb || ca.is_err() {
                return Err(format!("TESTFAILED estimates disagree at {n}"));
            }
            let c = cb.unwrap_or(0) as f64;
            let err = (c - n as f64).abs() / n as f64;
            if n >= 1000 && err > tolerance {
                return Err(format!("TESTFAILED estimate {c} for {n} elements is off by {err:.4}"));
            }
        }
    }
    let mut as_dense = sparse.clone();
    to_dense(&mut as_dense).map_err(|_| "TESTFAILED sparse conversion".to_string())?;
    if registers(&as_dense) != registers(&dense) {
        return Err("TESTFAILED registers differ between encodings".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn empty_value_is_redis_bytes() {
        let s = new_sparse();
        assert_eq!(&s[..], b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff");
        assert_eq!(count(&s), Ok(0));
        assert_eq!(decode(&s), "Z:16384");
    }

    #[test]
    fn three_elements_match_redis() {
        // PFADD h a b c on redis-server 7.0, then GET h.
        let mut s = new_sparse();
        for e in [&b"a"[..], b"b", b"c"] {
            assert_eq!(add(&mut s, e, 3000), Ok(true));
        }
        invalidate_cache(&mut s);
        assert_eq!(
            &s[..],
            b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x60\xf3\x80\x50\xb1\x84\x4b\xfb\x80\x42\x5a"
        );
        assert_eq!(count(&s), Ok(3));
    }

    #[test]
    fn murmur_tail_and_blocks() {
        // Independent of Redis: the hash must differ with every byte and length.
        let a = murmur64a(b"abcdefgh", 1);
        let b = murmur64a(b"abcdefgi", 1);
        let c = murmur64a(b"abcdefghi", 1);
        assert!(a != b && b != c && a != c);
    }

    #[test]
    fn dense_registers_round_trip() {
        let mut regs = vec![0u8; DENSE_SIZE - HDR];
        for i in 0..REGISTERS {
            dense_put(&mut regs, i, (i % 64) as u8);
        }
        for i in 0..REGISTERS {
            assert_eq!(dense_get(&regs, i), (i % 64) as u8);
        }
    }

    #[test]
    fn self_test_passes() {
        assert_eq!(self_test(1), Ok(()));
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..64), dense in any::<bool>()) {
            let mut s = b"HYLL".to_vec();
            s.push(if dense { DENSE } else { SPARSE });
            s.extend_from_slice(&[0; 11]);
            if dense {
                s.resize(DENSE_SIZE, 0);
                for (i, b) in data.iter().enumerate() {
                    s[HDR + i * 191 % (DENSE_SIZE - HDR)] = *b;
                }
            } else {
                s.extend_from_slice(&data);
            }
            prop_assert!(looks_valid(&s));
            let _ = count(&s);
            let mut max = vec![0u8; REGISTERS];
            let _ = merge_into(&mut max, &s);
            let _ = decode(&s);
            let mut t = s.clone();
            for e in 0..20u32 {
                let _ = add(&mut t, &e.to_le_bytes(), 3000);
            }
            let mut t = s.clone();
            let _ = to_dense(&mut t);
            let _ = looks_valid(&data);
        }

        #[test]
        fn sparse_and_dense_agree(elements in prop::collection::vec(any::<u32>(), 0..400), max in 20usize..4000) {
            let mut sparse = new_sparse();
            let mut dense = new_sparse();
            to_dense(&mut dense).unwrap();
            for e in &elements {
                let a = add(&mut sparse, &e.to_le_bytes(), max).unwrap();
                let b = add(&mut dense, &e.to_le_bytes(), max).unwrap();
                prop_assert_eq!(a, b);
                if !is_dense(&sparse) {
                    prop_assert!(sparse.len() <= max.max(HDR + 2));
                }
            }
            prop_assert_eq!(count(&sparse), count(&dense));
            let mut m1 = vec![0u8; REGISTERS];
            let mut m2 = vec![0u8; REGISTERS];
            merge_into(&mut m1, &sparse).unwrap();
            merge_into(&mut m2, &dense).unwrap();
            prop_assert_eq!(&m1, &m2);
            prop_assert_eq!(count_registers(&m1), count(&dense).unwrap());
            to_dense(&mut sparse).unwrap();
            prop_assert_eq!(registers(&sparse), registers(&dense));
        }
    }
}
