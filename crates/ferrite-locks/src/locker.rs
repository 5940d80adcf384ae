//! Taking locks: one attempt, or attempts with jittered pauses until a deadline.

use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::Instant;

use rand::Rng;
use redis::{Client, Connection};

use crate::error::{Error, Result};
use crate::guard::{Grant, Guard};
use crate::options::{Mode, Options};
use crate::protocol::{self, Acquired, Protocol};

/// Takes locks on one server. Cheap to clone; clones share the detected protocol.
#[derive(Clone)]
pub struct Locker {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    options: Options,
    lease_ms: u64,
    /// Decided on the first attempt, from the mode and (in `Auto` and `Fenced`) the server.
    protocol: OnceLock<Protocol>,
}

impl std::fmt::Debug for Locker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Locker")
            .field("server", self.inner.client.get_connection_info())
            .field("options", &self.inner.options)
            .field("protocol", &self.inner.protocol.get())
            .finish()
    }
}

impl Locker {
    /// A locker for the server `client` connects to. Nothing is sent until the first attempt; fails
    /// only on options it cannot work with.
    pub fn new(client: Client, options: Options) -> Result<Locker> {
        options.validate()?;
        Ok(Locker {
            inner: Arc::new(Inner {
                client,
                lease_ms: options.lease_ms()?,
                options,
                protocol: OnceLock::new(),
            }),
        })
    }

    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// Whether this locker's guards carry fencing tokens (asks the server the first time, in
    /// [`Mode::Auto`] and [`Mode::Fenced`]).
    pub fn uses_fencing(&self) -> Result<bool> {
        let mut con = self.connect()?;
        Ok(self.protocol(&mut con)? == Protocol::Fenced)
    }

    /// One attempt: the lock, or `None` when another holder has it.
    pub fn try_acquire(&self, name: &str) -> Result<Option<Guard>> {
        self.attempt_as(&mut None, name, &new_owner())
    }

    /// Attempts until the lock is taken, pausing `retry_delay` plus up to `retry_jitter` between them;
    /// [`Error::Timeout`] once `acquire_timeout` has passed. A transient failure (the connection lost or
    /// timed out, the server `LOADING`, `BUSY` with a script, `TRYAGAIN`, `MASTERDOWN`) is retried on a
    /// new connection until the deadline, and then returned; other errors end the wait at once.
    ///
    /// Every attempt of one call asks as the same owner, so an attempt whose grant was sent but whose
    /// reply was lost is not a lock nobody holds: with `LOCK.ACQUIRE` the next attempt gets that lock
    /// back (the same owner acquiring again renews it); with `SET NX PX` it waits until that lease
    /// ends, as any other holder's.
    pub fn acquire(&self, name: &str) -> Result<Guard> {
        let start = Instant::now();
        let deadline = start + self.inner.options.acquire_timeout;
        let owner = new_owner();
        // One connection for all the attempts; the one that succeeds hands it to the guard.
        let mut con = None;
        loop {
            let failure = match self.attempt_as(&mut con, name, &owner) {
                Ok(Some(guard)) => return Ok(guard),
                Ok(None) => None,
                Err(e) if e.is_transient() => Some(e),
                Err(e) => return Err(e),
            };
            let now = Instant::now();
            if now >= deadline {
                return Err(failure.unwrap_or(Error::Timeout {
                    name: name.to_string(),
                    waited: now - start,
                }));
            }
            let pause = self.inner.options.retry_pause(&mut rand::thread_rng());
            thread::sleep(pause.min(deadline - now));
        }
    }

    /// One attempt as `owner` on `con` (connected first when `None`). On success the connection moves
    /// to the guard's watchdog; an attempt that found the lock busy leaves it for the next one, one
    /// that failed drops it.
    fn attempt_as(&self, con: &mut Option<Connection>, name: &str, owner: &str) -> Result<Option<Guard>> {
        let mut c = match con.take() {
            Some(c) => c,
            None => self.connect()?,
        };
        let protocol = self.protocol(&mut c)?;
        let sent = Instant::now();
        let token = match protocol.acquire(&mut c, name, owner, self.inner.lease_ms)? {
            Acquired::Busy => {
                *con = Some(c);
                return Ok(None);
            }
            Acquired::Portable => None,
            Acquired::Fenced(token) => Some(token),
        };
        let o = &self.inner.options;
        let grant = Grant {
            client: self.inner.client.clone(),
            con: c,
            protocol,
            name: name.to_string(),
            owner: owner.to_string(),
            token,
            lease_ms: self.inner.lease_ms,
            sent,
            watchdog: o.watchdog,
            io_timeout: o.io_timeout,
        };
        match Guard::start(grant) {
            Ok(guard) => Ok(Some(guard)),
            Err(e) => {
                // Without a watchdog thread nobody would release it: give it back now, best-effort.
                let _ = self.connect().and_then(|mut c| protocol.release(&mut c, name, owner));
                Err(e)
            }
        }
    }

    fn connect(&self) -> Result<Connection> {
        protocol::connect(&self.inner.client, self.inner.options.io_timeout)
    }

    fn protocol(&self, con: &mut Connection) -> Result<Protocol> {
        if let Some(p) = self.inner.protocol.get() {
            return Ok(*p);
        }
        let p = match self.inner.options.mode {
            Mode::Portable => Protocol::Portable,
            Mode::Auto if protocol::offers_fencing(con)? => Protocol::Fenced,
            Mode::Auto => Protocol::Portable,
            // Not remembered: the next attempt asks again (the server may be upgraded meanwhile).
            Mode::Fenced if !protocol::offers_fencing(con)? => return Err(Error::Unsupported),
            Mode::Fenced => Protocol::Fenced,
        };
        Ok(*self.inner.protocol.get_or_init(|| p))
    }
}

/// A new owner value: 128 random bits from the thread's CSPRNG, in hex. Unguessable, so no other client
/// can release or renew the lock by accident or by guessing.
fn new_owner() -> String {
    format!("{:032x}", rand::thread_rng().gen::<u128>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn owners_are_128_bit_hex_and_differ() {
        let (a, b) = (new_owner(), new_owner());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn bad_options_are_refused_before_any_connection() {
        let client = Client::open("redis://127.0.0.1:1/").expect("a URL");
        let short = Options {
            lease: Duration::from_millis(1),
            ..Options::default()
        };
        assert!(matches!(Locker::new(client, short), Err(Error::Options(_))));
    }
}
