//! How a [`Locker`](crate::Locker) takes its locks: the lease, the retry pace, the time-outs and
//! which commands it uses.

use std::time::Duration;

use rand::Rng;

use crate::error::{Error, Result};

/// Which commands a [`Locker`](crate::Locker) uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Ask the server once (`COMMAND INFO lock.acquire`): `LOCK.*` with fencing tokens where it has
    /// them, `SET NX PX` everywhere else.
    #[default]
    Auto,
    /// `SET name token NX PX lease` and scripts, on any Redis-compatible server. No fencing tokens.
    Portable,
    /// `LOCK.*` with fencing tokens; taking a lock fails with [`Error::Unsupported`] on a server
    /// without them.
    Fenced,
}

/// Settings of a [`Locker`](crate::Locker). Start from `Options::default()` and change what you need:
///
/// ```
/// use std::time::Duration;
/// let options = ferrite_locks::Options {
///     lease: Duration::from_secs(10),
///     ..Default::default()
/// };
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    /// How long the server keeps a lock its holder no longer renews (whole milliseconds, at least
    /// 10 ms). The watchdog renews it every third of this while the [`Guard`](crate::Guard) lives, so
    /// it is also how long a crashed holder blocks the others. Default 30 s.
    pub lease: Duration,
    /// Whether a watchdog renews the lease while the guard lives. Without it the lock is held for one
    /// lease at most: [`Guard::is_held`](crate::Guard::is_held) turns false when it ends. Default true.
    pub watchdog: bool,
    /// [`Locker::acquire`](crate::Locker::acquire) waits this long between attempts, plus a random
    /// part of up to `retry_jitter`, so that waiting clients do not retry in step. Defaults 50 ms and
    /// 100 ms.
    pub retry_delay: Duration,
    pub retry_jitter: Duration,
    /// How long [`Locker::acquire`](crate::Locker::acquire) tries before it returns
    /// [`Error::Timeout`]. Default 10 s.
    pub acquire_timeout: Duration,
    /// The bound on connecting and on each command's reply. A renewal is also bounded by what is
    /// left of the lease. Default 5 s.
    pub io_timeout: Duration,
    /// Which commands to use. Default [`Mode::Auto`].
    pub mode: Mode,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            lease: Duration::from_secs(30),
            watchdog: true,
            retry_delay: Duration::from_millis(50),
            retry_jitter: Duration::from_millis(100),
            acquire_timeout: Duration::from_secs(10),
            io_timeout: Duration::from_secs(5),
            mode: Mode::Auto,
        }
    }
}

/// The shortest lease: a third of it is the renewal period, and the drift margin must leave some.
const MIN_LEASE: Duration = Duration::from_millis(10);

impl Options {
    /// The lease in whole milliseconds, as the server takes it.
    pub(crate) fn lease_ms(&self) -> Result<u64> {
        if self.lease < MIN_LEASE {
            return Err(Error::Options("the lease must be at least 10 ms"));
        }
        // Redis refuses PX values whose deadline overflows; a lease of years is a mistake anyway.
        u64::try_from(self.lease.as_millis())
            .ok()
            .filter(|&ms| ms <= i64::MAX as u64 / 1000)
            .ok_or(Error::Options("the lease is too long"))
    }

    pub(crate) fn validate(&self) -> Result<()> {
        self.lease_ms()?;
        if self.io_timeout.is_zero() {
            return Err(Error::Options("the I/O timeout must not be zero"));
        }
        Ok(())
    }

    /// The pause before the next acquire attempt: `retry_delay` plus a uniform part of up to
    /// `retry_jitter`.
    pub(crate) fn retry_pause(&self, rng: &mut impl Rng) -> Duration {
        let max = u64::try_from(self.retry_jitter.as_nanos()).unwrap_or(u64::MAX);
        self.retry_delay
            .saturating_add(Duration::from_nanos(rng.gen_range(0..=max)))
    }
}

/// How long after a command was sent its lease is still surely held: the lease less a margin for the
/// server's clock running faster than ours (1% and 2 ms, the margin the Redlock write-up suggests).
/// The server started the lease when it received the command, which is after we sent it.
pub(crate) fn validity(lease: Duration) -> Duration {
    lease.saturating_sub(lease / 100 + Duration::from_millis(2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn retry_pauses_stay_within_delay_and_jitter() {
        let o = Options {
            retry_delay: Duration::from_millis(20),
            retry_jitter: Duration::from_millis(30),
            ..Options::default()
        };
        let mut rng = StdRng::seed_from_u64(7);
        let pauses: Vec<Duration> = (0..1000).map(|_| o.retry_pause(&mut rng)).collect();
        let (min, max) = (pauses.iter().min(), pauses.iter().max());
        assert!(min >= Some(&Duration::from_millis(20)), "{min:?}");
        assert!(max <= Some(&Duration::from_millis(50)), "{max:?}");
        // Spread out, not in step: the pauses use most of the jitter range.
        assert!(max.zip(min).is_some_and(|(a, b)| *a - *b > Duration::from_millis(25)));
        let no_jitter = Options {
            retry_jitter: Duration::ZERO,
            ..o
        };
        assert_eq!(no_jitter.retry_pause(&mut rng), Duration::from_millis(20));
    }

    #[test]
    fn leases_are_whole_milliseconds_within_bounds() {
        let with = |lease| Options {
            lease,
            ..Options::default()
        };
        assert_eq!(with(Duration::from_millis(1500)).lease_ms().ok(), Some(1500));
        assert_eq!(with(Duration::from_micros(10_900)).lease_ms().ok(), Some(10));
        assert!(matches!(
            with(Duration::from_millis(9)).lease_ms(),
            Err(Error::Options(_))
        ));
        assert!(matches!(with(Duration::MAX).lease_ms(), Err(Error::Options(_))));
        let no_io = Options {
            io_timeout: Duration::ZERO,
            ..Options::default()
        };
        assert!(matches!(no_io.validate(), Err(Error::Options(_))));
    }

    #[test]
    fn validity_leaves_a_drift_margin() {
        assert_eq!(validity(Duration::from_secs(30)), Duration::from_millis(29_698));
        assert_eq!(validity(Duration::from_millis(10)), Duration::from_micros(7_900));
        assert!(validity(Duration::from_millis(300)) < Duration::from_millis(300));
    }
}
