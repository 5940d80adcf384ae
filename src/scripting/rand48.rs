//! Redis's `rand48` generator behind `math.random` in scripts.
//!
//! Redis replaces Lua's `math.random` (the C library's `rand`) with its own copy of the classic 48-bit
//! linear congruential generator, so that the sequence is the same on every platform: a fresh server's
//! first `math.random()` is always 0.39646477363839, and the sequence continues across scripts (and
//! across SCRIPT FLUSH) until a script calls `math.randomseed`.

/// The generator's state: 48 bits, starting where `rand48` starts without a seed.
#[derive(Debug, Clone, Copy)]
pub struct Rand48 {
    x: u64,
}

const A: u64 = 0x5_DEEC_E66D;
const C: u64 = 0xB;
const MASK: u64 = (1 << 48) - 1;
/// Redis's REDIS_LRAND48_MAX (INT32_MAX).
const LRAND48_MAX: i64 = i32::MAX as i64;

impl Default for Rand48 {
    fn default() -> Self {
        Rand48 { x: 0x1234_ABCD_330E }
    }
}

impl Rand48 {
    /// `srand48`: the seed's low 32 bits above the fixed low word.
    pub fn seed(&mut self, seed: i32) {
        self.x = ((seed as u32 as u64) << 16) | 0x330E;
    }

    /// `lrand48`: the next 31-bit value.
    pub fn next_i32(&mut self) -> i32 {
        self.x = A.wrapping_mul(self.x).wrapping_add(C) & MASK;
        (self.x >> 17) as i32
    }

    /// What `math.random` draws before scaling: a value in [0, 1).
    pub fn next_unit(&mut self) -> f64 {
        (i64::from(self.next_i32()) % LRAND48_MAX) as f64 / LRAND48_MAX as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_is_redis_s() {
        let mut r = Rand48::default();
        let firsts: Vec<String> = (0..3).map(|_| format!("{:.14}", r.next_unit())).collect();
        // What a fresh redis-server 7.0 answers to `EVAL "return tostring(math.random())" 0`, three times.
        assert_eq!(firsts, ["0.39646477363839", "0.84048536971234", "0.35333609737146"]);
    }
}
