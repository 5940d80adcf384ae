//! A latency histogram with the bucket layout of HdrHistogram at two significant digits, tracking
//! 1 ns to 1 s, which is what Redis 7.0 keeps per command (`latency-tracking`).
//!
//! Why the same layout rather than any histogram: `LATENCY HISTOGRAM` and INFO's `latencystats`
//! print bucket bounds and percentiles *as the layout rounds them* (`p50=1.003`, a bucket keyed
//! `33816`), so only the same equivalence ranges give the same numbers.
//!
//! Layout: values below 256 have their own counter; above, each power-of-two range [2^k, 2^(k+1))
//! is split into 128 equal sub-buckets, so a value is known to within 1/128 (under 1%). That is 24
//! rows of 128 counters (24 KiB), allocated on a command's first call. Recording is a leading-zero
//! count, two shifts and an increment.

/// Smallest and largest recorded values (ns); others are clamped, as Redis does.
pub const MIN_VALUE: u64 = 1;
pub const MAX_VALUE: u64 = 1_000_000_000;

const SUB_BUCKET_COUNT_MAGNITUDE: u32 = 8;
const SUB_BUCKET_HALF_COUNT_MAGNITUDE: u32 = SUB_BUCKET_COUNT_MAGNITUDE - 1;
const SUB_BUCKET_COUNT: u64 = 1 << SUB_BUCKET_COUNT_MAGNITUDE;
const SUB_BUCKET_HALF_COUNT: u64 = 1 << SUB_BUCKET_HALF_COUNT_MAGNITUDE;
const SUB_BUCKET_MASK: u64 = SUB_BUCKET_COUNT - 1;
/// Power-of-two rows needed to reach `MAX_VALUE`: 256 · 2^22 > 10^9.
const BUCKET_COUNT: usize = 23;
const COUNTS_LEN: usize = (BUCKET_COUNT + 1) * SUB_BUCKET_HALF_COUNT as usize;

pub struct Histogram {
    counts: Box<[u64; COUNTS_LEN]>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

fn bucket_index(v: u64) -> u32 {
    (64 - (v | SUB_BUCKET_MASK).leading_zeros()) - SUB_BUCKET_COUNT_MAGNITUDE
}

fn counts_index(v: u64) -> usize {
    let b = bucket_index(v);
    let sub = v >> b;
    (((b as u64 + 1) << SUB_BUCKET_HALF_COUNT_MAGNITUDE) + sub - SUB_BUCKET_HALF_COUNT) as usize
}

fn value_at_index(i: usize) -> u64 {
    let mut b = (i >> SUB_BUCKET_HALF_COUNT_MAGNITUDE) as i64 - 1;
    let mut sub = (i as u64 & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT;
    if b < 0 {
        sub -= SUB_BUCKET_HALF_COUNT;
        b = 0;
    }
    sub << b
}

/// The lowest value counted together with `v`.
pub fn lowest_equivalent(v: u64) -> u64 {
    let b = bucket_index(v);
    (v >> b) << b
}

/// The highest value counted together with `v`.
pub fn highest_equivalent(v: u64) -> u64 {
    let b = bucket_index(v);
    let sub = v >> b;
    let size_shift = if sub >= SUB_BUCKET_COUNT { b + 1 } else { b };
    lowest_equivalent(v) + (1u64 << size_shift) - 1
}

impl Histogram {
    pub fn new() -> Histogram {
        Histogram {
            counts: Box::new([0; COUNTS_LEN]),
            total: 0,
        }
    }

    /// Count one value (ns), clamped to [`MIN_VALUE`, `MAX_VALUE`].
    #[inline]
    pub fn record(&mut self, ns: u64) {
        let v = ns.clamp(MIN_VALUE, MAX_VALUE);
        self.counts[counts_index(v)] += 1;
        self.total += 1;
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    /// The value at `percentile` (0–100): the upper end of the range holding the sample of that
    /// rank (the lower end for 0), as HdrHistogram reports it.
    pub fn value_at_percentile(&self, percentile: f64) -> u64 {
        let p = percentile.min(100.0);
        let want = (((p / 100.0) * self.total as f64) + 0.5) as u64;
        let want = want.max(1);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= want {
                let v = value_at_index(i);
                return if percentile == 0.0 {
                    lowest_equivalent(v)
                } else {
                    highest_equivalent(v)
                };
            }
        }
        0
    }

    /// The cumulative distribution at power-of-two bounds from 1024 ns up: `(bound in µs, samples
    /// at or under it)`, listing a bound only where the count grew (what `LATENCY HISTOGRAM` shows).
    /// A bound is the highest value of the range that starts at the power of two, so the first ones
    /// read 1, 2, 4, 8, 16, 33, 66, ... µs.
    pub fn cumulative_usec(&self) -> Vec<(u64, u64)> {
        let mut out = vec![];
        let (mut seen, mut idx, mut prev) = (0u64, 0usize, 0u64);
        let mut level: u64 = 1024;
        while prev < self.total {
            let li = counts_index(level.min(MAX_VALUE));
            let (bound, last) = if level <= MAX_VALUE && li < COUNTS_LEN {
                (highest_equivalent(level), li)
            } else {
                // Past the tracked range: the remainder lands in the last row.
                (highest_equivalent(value_at_index(COUNTS_LEN - 1)), COUNTS_LEN - 1)
            };
            while idx <= last {
                seen += self.counts[idx];
                idx += 1;
            }
            if seen > prev {
                out.push((bound / 1000, seen));
                prev = seen;
            }
            if last == COUNTS_LEN - 1 {
                break;
            }
            level *= 2;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equivalence_ranges() {
        assert_eq!(highest_equivalent(1), 1);
        assert_eq!(highest_equivalent(1000), 1003);
        assert_eq!(highest_equivalent(3000), 3007);
        assert_eq!(highest_equivalent(8000), 8031);
        assert_eq!(highest_equivalent(110_000), 110_079);
        assert_eq!(lowest_equivalent(586_000), 585_728);
        assert_eq!(highest_equivalent(1 << 25) / 1000, 33_816);
        assert_eq!(counts_index(MAX_VALUE), 3054);
        for v in [1u64, 255, 256, 1023, 1024, 99_999, MAX_VALUE] {
            let i = counts_index(v);
            assert!(value_at_index(i) <= v && v <= highest_equivalent(value_at_index(i)));
        }
    }

    #[test]
    fn percentiles_and_cdf_match_redis_figures() {
        // Figures read from redis-server 7.0 after commands of 586, 3100 and 20100 µs.
        let mut h = Histogram::new();
        for us in [586u64, 3_100, 20_100] {
            h.record(us * 1000);
        }
        assert_eq!(h.value_at_percentile(0.0), 585_728);
        assert_eq!(h.value_at_percentile(1.0), 589_823);
        assert_eq!(h.value_at_percentile(50.0), 3_112_959);
        assert_eq!(h.value_at_percentile(100.0), 20_185_087);
        assert_eq!(h.cumulative_usec(), [(1056, 1), (4227, 2), (33_816, 3)]);

        let mut h = Histogram::new();
        h.record(0);
        h.record(3000);
        assert_eq!(h.value_at_percentile(50.0), 1);
        assert_eq!(h.cumulative_usec(), [(1, 1), (4, 2)]);
    }

    #[test]
    fn clamps_at_one_second() {
        let mut h = Histogram::new();
        h.record(5_000_000_000);
        assert_eq!(h.total(), 1);
        assert_eq!(h.value_at_percentile(50.0), highest_equivalent(MAX_VALUE));
        assert_eq!(h.cumulative_usec().len(), 1);
    }
}
