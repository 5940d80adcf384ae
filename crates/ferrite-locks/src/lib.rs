//! Distributed locks for any Redis-compatible server, with fencing tokens where the server offers them.
//!
//! ```no_run
//! use ferrite_locks::{Locker, Options};
//!
//! # fn main() -> Result<(), ferrite_locks::Error> {
//! let client = redis::Client::open("redis://127.0.0.1:6379/")?;
//! let locker = Locker::new(client.clone(), Options::default())?;
//! let guard = locker.acquire("invoices")?; // retries with jittered pauses until acquire_timeout
//! let mut con = client.get_connection()?;
//! if guard.token().is_some() {
//!     // Ferrite: the server runs the write only while the lock is still ours.
//!     let _: i64 = guard.fenced(&mut con, redis::cmd("INCR").arg("invoice:next"))?;
//! } else if guard.is_held() {
//!     let _: i64 = redis::cmd("INCR").arg("invoice:next").query(&mut con)?;
//! }
//! guard.release()?; // dropping the guard releases too
//! # Ok(())
//! # }
//! ```
//!
//! # How
//!
//! A [`Locker`] takes locks in one of two ways ([`Mode`]), decided once per locker:
//!
//! - **Portable**, on any server: `SET name owner NX PX lease`, where `owner` is 128 random bits; the
//!   renewal (`PEXPIRE`) and the release (`DEL`) are scripts that act only while the key still holds
//!   this owner, run with `EVALSHA` (loaded with `SCRIPT LOAD` when the server answers `NOSCRIPT`).
//! - **Fenced**, on Ferrite (`docs/locks.md`): `LOCK.ACQUIRE/RENEW/RELEASE`, which also hand out a
//!   [`FencingToken`] that grows with every acquisition, and [`Guard::fenced`], which runs a command
//!   through `LOCK.FENCED` only while the token is still the lock's.
//!
//! [`Mode::Auto`] (the default) uses fenced where `COMMAND INFO lock.acquire` shows the commands.
//!
//! While a [`Guard`] lives, a watchdog thread renews its lease every third of it. When a renewal is
//! refused, or the lease runs out before one is confirmed, the guard is lost for good:
//! [`Guard::is_held`] turns false and [`Guard::lost`] says why. Release and drop stop the watchdog at
//! once and release the lock with the compare-and-delete, which never frees another holder's lock.
//!
//! # What is promised, and what is not
//!
//! - Two guards of one lock never both see `is_held()` true while the server keeps its leases (nobody
//!   deletes the lock, no restart without persistence, no failover to a replica that missed the
//!   acquire, no clock jump on a Redis server). `is_held()` is conservative: it counts from when a
//!   command was *sent*, less a margin of 1% + 2 ms for clock drift.
//! - **A lease cannot stop a paused holder.** A holder can check `is_held()`, then stop (GC, swap, a
//!   stopped VM) past its lease while another client takes the lock, and then write. In portable mode
//!   nothing on the server stops that write; the random owner only protects the renewal and the
//!   release. Only fencing protects the resource: a write through [`Guard::fenced`] is checked by the
//!   server in the same step as it runs, and a store outside the server can keep the largest
//!   [`FencingToken`] it has seen and refuse smaller ones.
//! - Portable leases are Redis key TTLs, wall-clock deadlines on the server: a clock jumped forward
//!   frees every lock early. Ferrite's `LOCK.*` leases are on its monotonic clock.
//! - One server only: this is not Redlock. A restart without persistence, or a replica promoted
//!   before it received the acquire, forgets the lock while its holder may still be working; the
//!   holder's next renewal then marks the guard lost, and until then only fencing stops its writes.
//!   (A restarted Ferrite starts a new token epoch from its wall clock; `docs/locks.md` says what
//!   persistence and replication must add.)
//! - An acquire whose reply is lost (the connection broke) is retried by `acquire` as the same owner
//!   until its deadline: with `LOCK.ACQUIRE` the retry gets the lock back; with `SET NX PX` the lock
//!   the server did take stays taken until its lease ends (the retry sees it busy). `try_acquire`
//!   returns the error.

mod error;
mod guard;
mod locker;
mod options;
mod protocol;

pub use error::{Error, Result};
pub use guard::{Guard, Lost};
pub use locker::Locker;
pub use options::{Mode, Options};
pub use protocol::FencingToken;
