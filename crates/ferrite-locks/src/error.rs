//! What can go wrong, as one enum. A server's `-STALE` refusal gets a variant of its own wherever it
//! comes from, because it means something different from every other error: the write did not happen
//! and the holder must stop.

use std::time::Duration;

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server or the connection failed (I/O, a time-out, an error reply other than `STALE`).
    #[error(transparent)]
    Redis(redis::RedisError),

    /// [`Locker::acquire`](crate::Locker::acquire) gave up: another holder kept the lock for the whole
    /// acquire timeout.
    #[error("timed out after {waited:?} waiting for lock '{name}'")]
    Timeout { name: String, waited: Duration },

    /// [`Mode::Fenced`](crate::Mode::Fenced) was asked for, and the server has no `LOCK.*` commands (it
    /// is not Ferrite, or `COMMAND INFO` was refused).
    #[error("the server does not offer fencing tokens (no LOCK.ACQUIRE); use Mode::Auto or Mode::Portable")]
    Unsupported,

    /// The server refused a fenced command: this guard's token is no longer the lock's (the lease ran
    /// out, or another holder took it). Nothing ran. The text is the server's, after `STALE `.
    #[error("STALE {0}")]
    Stale(String),

    /// [`Guard::fenced`](crate::Guard::fenced) on a lock taken with `SET NX PX`: there is no token to
    /// fence with.
    #[error("lock '{0}' has no fencing token (it was taken in portable mode)")]
    NotFenced(String),

    /// A command that cannot be sent through `LOCK.FENCED` (it has a cursor argument).
    #[error("this command cannot be fenced: {0}")]
    Unfenceable(&'static str),

    /// The server answered a lock command with a reply of the wrong shape.
    #[error("unexpected reply to {command}: {reply}")]
    Reply { command: &'static str, reply: String },

    /// An [`Options`](crate::Options) value this crate cannot work with.
    #[error("invalid lock options: {0}")]
    Options(&'static str),

    /// The watchdog's thread could not be started (the lock was released again, best-effort).
    #[error("could not start the lock watchdog: {0}")]
    Watchdog(std::io::Error),

    /// The watchdog's thread ended without answering (it panicked); the lock expires with its lease.
    #[error("the lock watchdog stopped unexpectedly")]
    WatchdogGone,
}

/// This crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<redis::RedisError> for Error {
    fn from(e: redis::RedisError) -> Error {
        if e.code() == Some("STALE") {
            return Error::Stale(e.detail().unwrap_or_default().to_string());
        }
        Error::Redis(e)
    }
}

impl Error {
    /// Whether the server refused a fenced command because the token is stale.
    pub fn is_stale(&self) -> bool {
        matches!(self, Error::Stale(_))
    }

    /// A failure that another attempt may not meet: the connection lost, refused or timed out, or the
    /// server answering that it cannot serve yet (`LOADING`, `BUSY`, `TRYAGAIN`, `MASTERDOWN`).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Redis(e) => {
                e.is_io_error()
                    || e.is_timeout()
                    || e.is_connection_dropped()
                    || e.is_connection_refusal()
                    || matches!(e.code(), Some("LOADING" | "BUSY" | "TRYAGAIN" | "MASTERDOWN"))
            }
            _ => false,
        }
    }

    pub(crate) fn reply(command: &'static str, reply: &redis::Value) -> Error {
        Error::Reply {
            command,
            reply: format!("{reply:?}"),
        }
    }
}
