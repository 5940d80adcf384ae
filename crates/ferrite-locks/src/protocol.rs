//! The two ways of talking to the server, and nothing else: which commands take, renew and release a
//! lock, and what their replies mean. Replies are checked for their shape; a reply of another shape is
//! an [`Error::Reply`], never a panic.
//!
//! - Portable: `SET name owner NX PX lease`; renewal and release are scripts that act only while the
//!   key still holds this owner's random value, so a holder whose lease ran out cannot extend or delete
//!   the lock of the client that took it next.
//! - Fenced (Ferrite): `LOCK.ACQUIRE/RENEW/RELEASE name owner`, which hand out and check fencing tokens.

use std::fmt;
use std::sync::LazyLock;
use std::time::Duration;

use redis::{Client, Connection, ConnectionLike, Script, Value};

use crate::error::{Error, Result};

/// A fencing token: every acquisition of a lock on a Ferrite server gets a larger one than all before
/// it, so a store that remembers the largest token it has seen can refuse a stale holder's writes.
/// Tokens compare by epoch, then counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FencingToken {
    /// Taken when the server started; a restarted or promoted server uses a larger one.
    pub epoch: u64,
    /// The server's count of acquisitions within the epoch.
    pub counter: u64,
}

impl fmt::Display for FencingToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.epoch, self.counter)
    }
}

impl FencingToken {
    /// A token from `LOCK.ACQUIRE`'s reply `[epoch, counter]`.
    fn from_reply(v: &Value) -> Option<FencingToken> {
        let Value::Array(parts) = v else { return None };
        let [Value::Int(epoch), Value::Int(counter)] = parts.as_slice() else {
            return None;
        };
        Some(FencingToken {
            epoch: u64::try_from(*epoch).ok()?,
            counter: u64::try_from(*counter).ok()?,
        })
    }
}

/// Which commands a guard was taken with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    Portable,
    Fenced,
}

/// What an acquire attempt got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Acquired {
    /// Another owner holds the lock.
    Busy,
    /// Taken with `SET NX PX`.
    Portable,
    /// Taken with `LOCK.ACQUIRE`, under this token.
    Fenced(FencingToken),
}

/// KEYS[1] lock, ARGV[1] owner, ARGV[2] lease (ms): extend the lease while the key holds the owner.
static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then \
            return redis.call('PEXPIRE', KEYS[1], ARGV[2]) \
         else return 0 end",
    )
});

/// KEYS[1] lock, ARGV[1] owner: delete the key while it holds the owner (compare-and-delete).
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then \
            return redis.call('DEL', KEYS[1]) \
         else return 0 end",
    )
});

/// Does the server have the `LOCK.*` commands? Redis answers `COMMAND INFO` of an unknown command with
/// `[nil]`; a server that does not know `COMMAND` itself has none. Any other answer (BUSY, LOADING, an
/// ACL refusal, a dropped connection) decides nothing and is an error: the caller caches the answer,
/// and two clients of one lock that settled on different protocols would not exclude each other.
pub(crate) fn offers_fencing(con: &mut Connection) -> Result<bool> {
    let reply: redis::RedisResult<Value> = redis::cmd("COMMAND").arg("INFO").arg("lock.acquire").query(con);
    match reply {
        Ok(Value::Array(entries)) if entries.len() == 1 => Ok(!matches!(entries[0], Value::Nil)),
        Ok(other) => Err(Error::reply("COMMAND INFO", &other)),
        Err(e) if e.to_string().contains("unknown command") => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// A connection whose connect, reads and writes are each bounded by `timeout`.
pub(crate) fn connect(client: &Client, timeout: Duration) -> Result<Connection> {
    let con = client.get_connection_with_timeout(timeout)?;
    bound(&con, timeout)?;
    Ok(con)
}

/// Bound the next reads and writes on `con` (a zero bound would mean none, so it is raised to 1 ms).
pub(crate) fn bound(con: &Connection, timeout: Duration) -> Result<()> {
    let timeout = Some(timeout.max(Duration::from_millis(1)));
    con.set_read_timeout(timeout)?;
    con.set_write_timeout(timeout)?;
    Ok(())
}

/// A 1/0 integer reply as a boolean.
fn flag(command: &'static str, v: Value) -> Result<bool> {
    match v {
        Value::Int(0) => Ok(false),
        Value::Int(1) => Ok(true),
        other => Err(Error::reply(command, &other)),
    }
}

impl Protocol {
    pub(crate) fn acquire(
        self,
        con: &mut dyn ConnectionLike,
        name: &str,
        owner: &str,
        lease_ms: u64,
    ) -> Result<Acquired> {
        match self {
            Protocol::Portable => {
                let v: Value = redis::cmd("SET")
                    .arg(name)
                    .arg(owner)
                    .arg("NX")
                    .arg("PX")
                    .arg(lease_ms)
                    .query(con)?;
                match v {
                    Value::Okay => Ok(Acquired::Portable),
                    Value::Nil => Ok(Acquired::Busy),
                    other => Err(Error::reply("SET NX PX", &other)),
                }
            }
            Protocol::Fenced => {
                let v: Value = redis::cmd("LOCK.ACQUIRE")
                    .arg(name)
                    .arg(owner)
                    .arg(lease_ms)
                    .query(con)?;
                match v {
                    Value::Nil => Ok(Acquired::Busy),
                    other => FencingToken::from_reply(&other)
                        .map(Acquired::Fenced)
                        .ok_or_else(|| Error::reply("LOCK.ACQUIRE", &other)),
                }
            }
        }
    }

    /// Extend `owner`'s lease to `lease_ms` from now: false when `owner` no longer holds the lock.
    pub(crate) fn renew(self, con: &mut dyn ConnectionLike, name: &str, owner: &str, lease_ms: u64) -> Result<bool> {
        match self {
            Protocol::Portable => flag(
                "the renewal script",
                RENEW.key(name).arg(owner).arg(lease_ms).invoke(con)?,
            ),
            Protocol::Fenced => flag(
                "LOCK.RENEW",
                redis::cmd("LOCK.RENEW").arg(name).arg(owner).arg(lease_ms).query(con)?,
            ),
        }
    }

    /// Release `owner`'s lock: false when `owner` no longer held it (and nothing was freed).
    pub(crate) fn release(self, con: &mut dyn ConnectionLike, name: &str, owner: &str) -> Result<bool> {
        match self {
            Protocol::Portable => flag("the release script", RELEASE.key(name).arg(owner).invoke(con)?),
            Protocol::Fenced => flag(
                "LOCK.RELEASE",
                redis::cmd("LOCK.RELEASE").arg(name).arg(owner).query(con)?,
            ),
        }
    }
}

/// `LOCK.FENCED name epoch counter` followed by `cmd`'s arguments.
pub(crate) fn fence(name: &str, token: FencingToken, cmd: &redis::Cmd) -> Result<redis::Cmd> {
    let mut fenced = redis::cmd("LOCK.FENCED");
    fenced.arg(name).arg(token.epoch).arg(token.counter);
    for arg in cmd.args_iter() {
        match arg {
            redis::Arg::Simple(a) => fenced.arg(a),
            redis::Arg::Cursor => return Err(Error::Unfenceable("it has a cursor argument")),
        };
    }
    Ok(fenced)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(v: &[i64]) -> Value {
        Value::Array(v.iter().map(|&i| Value::Int(i)).collect())
    }

    #[test]
    fn tokens_parse_from_their_reply_only() {
        assert_eq!(
            FencingToken::from_reply(&ints(&[1_700_000_000_000, 42])),
            Some(FencingToken {
                epoch: 1_700_000_000_000,
                counter: 42
            })
        );
        for bad in [
            ints(&[1]),
            ints(&[1, 2, 3]),
            ints(&[-1, 2]),
            ints(&[1, -2]),
            Value::Array(vec![Value::BulkString(b"1".to_vec()), Value::Int(2)]),
            Value::Nil,
            Value::Okay,
        ] {
            assert_eq!(FencingToken::from_reply(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn tokens_order_by_epoch_then_counter() {
        let t = |epoch, counter| FencingToken { epoch, counter };
        assert!(t(1, 9) < t(1, 10));
        assert!(
            t(1, 1_000) < t(2, 1),
            "a new epoch outranks every counter of the old one"
        );
        assert_eq!(t(3, 4).to_string(), "3:4");
    }

    #[test]
    fn fencing_wraps_the_command_whole() {
        let token = FencingToken { epoch: 17, counter: 4 };
        let mut set = redis::cmd("SET");
        set.arg("k").arg(b"v\r\n\x00".as_slice());
        let mut expected = redis::cmd("LOCK.FENCED");
        expected
            .arg("res")
            .arg(17)
            .arg(4)
            .arg("SET")
            .arg("k")
            .arg(b"v\r\n\x00".as_slice());
        let fenced = fence("res", token, &set).map(|c| c.get_packed_command());
        assert_eq!(fenced.ok(), Some(expected.get_packed_command()));
        let mut scan = redis::cmd("SCAN");
        scan.cursor_arg(0);
        assert!(matches!(fence("res", token, &scan), Err(Error::Unfenceable(_))));
    }

    #[test]
    fn flags_are_zero_or_one() {
        assert!(!flag("x", Value::Int(0)).unwrap_or(true));
        assert!(flag("x", Value::Int(1)).unwrap_or(false));
        assert!(matches!(flag("x", Value::Int(2)), Err(Error::Reply { .. })));
        assert!(matches!(flag("x", Value::Nil), Err(Error::Reply { .. })));
    }
}
