//! A held lock and its watchdog.
//!
//! The watchdog is a thread that owns the connection the lock was taken on. It renews the lease every
//! third of it, and releases the lock when the guard asks (release or drop): one connection per held
//! lock, and a renewal can never be sent after the release.
//!
//! The guard's view of "held" is conservative: the lock counts as held until the lease of the last
//! confirmed acquire or renewal, measured from when that command was *sent* and less a drift margin.
//! The server started that lease later, so it cannot have ended before. The guard stops counting the
//! lock as held (for good) when:
//! - a renewal answers that this owner no longer holds it ([`Lost::Taken`]), or
//! - that deadline passes without a confirmed renewal: the server could not be reached in time, or
//!   there is no watchdog ([`Lost::Expired`]).

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use redis::{Client, Cmd, Connection, ConnectionLike, FromRedisValue};

use crate::error::{Error, Result};
use crate::options::validity;
use crate::protocol::{self, FencingToken, Protocol};

/// Why a guard no longer holds its lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lost {
    /// A renewal found the lock no longer this guard's: it expired on the server, or was deleted or
    /// taken by someone else.
    Taken,
    /// The lease ran out before a renewal was confirmed (the server could not be reached in time, or
    /// the watchdog is off).
    Expired,
}

/// The guard's and the watchdog's common view of the lock.
struct Shared {
    state: Mutex<State>,
}

struct State {
    /// Until when the lock is surely held (see the module doc).
    held_until: Instant,
    lost: Option<Lost>,
}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is two plain fields, consistent whatever a panicking holder left behind.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lost(&self) -> Option<Lost> {
        let s = self.state();
        s.lost
            .or_else(|| (Instant::now() >= s.held_until).then_some(Lost::Expired))
    }

    fn lose(&self, why: Lost) {
        self.state().lost.get_or_insert(why);
    }
}

/// What the locker hands over when an acquire succeeded.
pub(crate) struct Grant {
    pub client: Client,
    pub con: Connection,
    pub protocol: Protocol,
    pub name: String,
    pub owner: String,
    pub token: Option<FencingToken>,
    pub lease_ms: u64,
    /// When the acquire command was sent.
    pub sent: Instant,
    pub watchdog: bool,
    pub io_timeout: Duration,
}

/// A request from the guard to its watchdog: release the lock, answer on this channel, and stop.
struct Release(Sender<Result<bool>>);

/// A held lock. The watchdog renews it while the guard lives; [`release`](Guard::release) or drop gives
/// it back.
///
/// Check [`is_held`](Guard::is_held) before each step of work that the lock protects, and prefer
/// [`fenced`](Guard::fenced) writes where the server offers them: a holder can be paused (GC, swap, a
/// stopped VM) between the check and the write.
///
/// The watchdog renews for as long as the guard lives, so a holder that hangs (or leaks the guard)
/// keeps the lock; only a holder that dies loses it, one lease later.
#[must_use = "dropping the guard releases the lock at once"]
pub struct Guard {
    name: String,
    token: Option<FencingToken>,
    shared: Arc<Shared>,
    watchdog: Option<(Sender<Release>, JoinHandle<()>)>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("name", &self.name)
            .field("token", &self.token)
            .field("lost", &self.lost())
            .finish()
    }
}

impl Guard {
    /// Start the watchdog on the grant's connection.
    pub(crate) fn start(grant: Grant) -> Result<Guard> {
        let lease = Duration::from_millis(grant.lease_ms);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                held_until: grant.sent + validity(lease),
                lost: None,
            }),
        });
        let (tx, rx) = mpsc::channel();
        let (name, token) = (grant.name.clone(), grant.token);
        let dog = Watchdog {
            period: grant.watchdog.then_some(lease / 3),
            lease,
            shared: shared.clone(),
            link: Link {
                client: grant.client,
                con: Some(grant.con),
            },
            grant_sent: grant.sent,
            protocol: grant.protocol,
            name: grant.name,
            owner: grant.owner,
            lease_ms: grant.lease_ms,
            io_timeout: grant.io_timeout,
        };
        let handle = thread::Builder::new()
            // Linux keeps 15 bytes of a thread's name, and a name must not hold a NUL.
            .name(format!("lock {}", name.replace('\0', "")))
            .spawn(move || dog.run(rx))
            .map_err(Error::Watchdog)?;
        Ok(Guard {
            name,
            token,
            shared,
            watchdog: Some((tx, handle)),
        })
    }

    /// The lock's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The fencing token this guard holds the lock under; `None` in portable mode.
    pub fn token(&self) -> Option<FencingToken> {
        self.token
    }

    /// Whether the lock is still surely held: no renewal was refused, and the last confirmed lease has
    /// not run out. Once false, it stays false; stop the protected work.
    pub fn is_held(&self) -> bool {
        self.lost().is_none()
    }

    /// Why the lock is no longer held, or `None` while it is.
    pub fn lost(&self) -> Option<Lost> {
        self.shared.lost()
    }

    /// Run `cmd` through `LOCK.FENCED` on `con`: the server runs it only while this guard's token is the
    /// lock's, in the same step as the check, and answers [`Error::Stale`] otherwise (nothing ran). The
    /// server decides, not [`is_held`](Guard::is_held): a command is sent even when the guard thinks
    /// the lock lost. [`Error::NotFenced`] in portable mode.
    pub fn fenced<T: FromRedisValue>(&self, con: &mut dyn ConnectionLike, cmd: &Cmd) -> Result<T> {
        Ok(self.fenced_cmd(cmd)?.query(con)?)
    }

    /// `cmd` wrapped in `LOCK.FENCED` with this guard's token, for a pipeline or a transaction (a
    /// `STALE` error in their replies is an [`Error::Stale`] once converted). [`Error::NotFenced`] in
    /// portable mode.
    pub fn fenced_cmd(&self, cmd: &Cmd) -> Result<Cmd> {
        let token = self.token.ok_or_else(|| Error::NotFenced(self.name.clone()))?;
        protocol::fence(&self.name, token, cmd)
    }

    /// Release the lock now. `Ok(true)` when it was released; `Ok(false)` when this guard no longer
    /// held it (its lease had run out; another client may hold it now, and that lock is left alone).
    pub fn release(mut self) -> Result<bool> {
        self.stop()
    }

    /// Ask the watchdog to release, wait for its answer and for its thread to end. The release is a
    /// connect (if the last one failed) and a command or three (the script may need loading), each
    /// bounded by the I/O timeout.
    fn stop(&mut self) -> Result<bool> {
        let Some((tx, handle)) = self.watchdog.take() else {
            return Ok(false);
        };
        let (answer_tx, answer_rx) = mpsc::channel();
        if tx.send(Release(answer_tx)).is_err() {
            return Err(Error::WatchdogGone);
        }
        let answer = answer_rx.recv().unwrap_or(Err(Error::WatchdogGone));
        // The watchdog ends right after answering.
        let _ = handle.join();
        answer
    }
}

impl Drop for Guard {
    /// Asks the watchdog to release the lock and returns at once: the watchdog releases in the
    /// background (after a renewal in flight, never before) and ends. Best-effort: when the release
    /// fails, the lock expires with its lease. [`release`](Guard::release) waits and says how it went.
    fn drop(&mut self) {
        if let Some((tx, _detached)) = self.watchdog.take() {
            let (answer_tx, _) = mpsc::channel();
            let _ = tx.send(Release(answer_tx));
        }
    }
}

/// The watchdog thread's state.
struct Watchdog {
    link: Link,
    protocol: Protocol,
    name: String,
    owner: String,
    lease: Duration,
    lease_ms: u64,
    /// How often to renew; `None` without a watchdog.
    period: Option<Duration>,
    grant_sent: Instant,
    io_timeout: Duration,
    shared: Arc<Shared>,
}

impl Watchdog {
    fn run(mut self, requests: Receiver<Release>) {
        let mut next = self.period.map(|p| self.grant_sent + p);
        let answer = loop {
            let request = match next {
                Some(at) => requests.recv_timeout(at.saturating_duration_since(Instant::now())),
                None => requests.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match request {
                Ok(Release(answer)) => break Some(answer),
                // The guard is gone without asking (it cannot be, but then: release and stop).
                Err(RecvTimeoutError::Disconnected) => break None,
                Err(RecvTimeoutError::Timeout) => next = self.renew(),
            }
        };
        // Even a lost lock is released: the release only deletes what is still this owner's.
        let released = self.link.run(self.io_timeout, |con| {
            self.protocol.release(con, &self.name, &self.owner)
        });
        if let Some(answer) = answer {
            let _ = answer.send(released);
        }
    }

    /// One renewal. Returns when to renew next, or `None` once the lock is lost.
    fn renew(&mut self) -> Option<Instant> {
        let period = self.period?;
        let sent = Instant::now();
        let held_until = self.shared.state().held_until;
        // A renewal that answers after the lease ended is of no use: bound it by what is left.
        let left = held_until.saturating_duration_since(sent);
        if left.is_zero() {
            self.shared.lose(Lost::Expired);
            return None;
        }
        match self.link.run(left.min(self.io_timeout), |con| {
            self.protocol.renew(con, &self.name, &self.owner, self.lease_ms)
        }) {
            Ok(true) => {
                let mut s = self.shared.state();
                // A confirmation that comes after the lease ended does not bring the lock back: the
                // holder may have been told it was lost.
                if s.lost.is_some() || Instant::now() >= s.held_until {
                    s.lost.get_or_insert(Lost::Expired);
                    return None;
                }
                s.held_until = sent + validity(self.lease);
                Some(sent + period)
            }
            Ok(false) => {
                self.shared.lose(Lost::Taken);
                None
            }
            // Unreachable or refused for now (a restart, a failover, LOADING): try again soon, for as
            // long as the lease lasts.
            Err(_) => {
                let now = Instant::now();
                if now >= held_until {
                    self.shared.lose(Lost::Expired);
                    return None;
                }
                Some((now + (period / 4).min(Duration::from_millis(500))).min(held_until))
            }
        }
    }
}

/// The watchdog's connection, reconnected on demand after a failure.
struct Link {
    client: Client,
    con: Option<Connection>,
}

impl Link {
    /// Run `op` on the connection, connecting first if the last one failed; every step is bounded by
    /// `timeout`. After an error the connection is dropped: a reply may still be on its way.
    fn run<T>(&mut self, timeout: Duration, op: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut con = match self.con.take() {
            Some(con) => {
                protocol::bound(&con, timeout)?;
                con
            }
            None => protocol::connect(&self.client, timeout)?,
        };
        let result = op(&mut con);
        if result.is_ok() {
            self.con = Some(con);
        }
        result
    }
}
