//! Time. The server reads the clock once per event-loop iteration and caches it (as Redis does), so every
//! command in a batch sees the same "now". Tests replace the source with a [`ManualClock`].

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of time: the wall clock, in microseconds since the Unix epoch, and a monotonic counter
/// (lock leases), which wall-clock steps do not move.
pub trait Clock: Send {
    fn now_us(&self) -> i64;

    fn monotonic_us(&self) -> i64 {
        monotonic_us()
    }
}

/// The system's real-time clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_us(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0)
    }
}

/// A clock tests move by hand: time passing moves both counters; a wall-clock step (`set_us`) moves
/// only the wall clock.
#[derive(Debug, Default, Clone)]
pub struct ManualClock {
    wall: Arc<AtomicI64>,
    monotonic: Arc<AtomicI64>,
}

impl ManualClock {
    pub fn new(start_us: i64) -> Self {
        ManualClock {
            wall: Arc::new(AtomicI64::new(start_us)),
            monotonic: Arc::new(AtomicI64::new(0)),
        }
    }

    /// Time passes.
    pub fn advance_ms(&self, ms: i64) {
        self.wall.fetch_add(ms * 1000, Ordering::Relaxed);
        self.monotonic.fetch_add(ms * 1000, Ordering::Relaxed);
    }

    /// The wall clock is set (as NTP or an operator would): the monotonic counter does not move.
    pub fn set_us(&self, us: i64) {
        self.wall.store(us, Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn now_us(&self) -> i64 {
        self.wall.load(Ordering::Relaxed)
    }

    fn monotonic_us(&self) -> i64 {
        self.monotonic.load(Ordering::Relaxed)
    }
}

/// CPU time used by the calling thread, in microseconds (for budgets that must not count time the thread
/// spent descheduled).
pub fn thread_cpu_us() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec * 1_000_000 + ts.tv_nsec / 1000
}

/// A monotonic microsecond counter (for durations: command latency, cycle budgets).
pub fn monotonic_us() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1_000_000 + ts.tv_nsec / 1000
}
