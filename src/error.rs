//! Command errors, carrying Redis's exact words.
//!
//! A handler returns `Err(CmdError)` before writing any part of its reply; the dispatcher turns the error
//! into one `-CODE text` line. The common texts are constants so nobody retypes them.

use std::borrow::Cow;
use std::fmt;

pub const SYNTAX: &str = "syntax error";
pub const NOT_INTEGER: &str = "value is not an integer or out of range";
pub const NOT_FLOAT: &str = "value is not a valid float";
pub const OVERFLOW: &str = "increment or decrement would overflow";
pub const NO_SUCH_KEY: &str = "no such key";
pub const DB_INDEX: &str = "DB index is out of range";
pub const NOT_INT32: &str = "value is out of range, value must between -2147483648 and 2147483647";
pub const SAME_OBJECT: &str = "source and destination objects are the same";
pub const INVALID_EXPIRE: &str = "invalid expire time in '%s' command";
pub const STRING_TOO_LONG: &str = "string exceeds maximum allowed size (proto-max-bulk-len)";
pub const BIT_OFFSET: &str = "bit offset is not an integer or out of range";
/// The whole error line a client gets when CLIENT UNBLOCK ... ERROR ends its wait.
pub const UNBLOCKED: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";

/// Why a command failed. `Display` gives the error line without the leading `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdError {
    /// `ERR <text>`
    Err(Cow<'static, str>),
    /// A whole error line with its own code (`NOPERM ...`, `BUSYKEY ...`).
    Coded(Cow<'static, str>),
    /// A whole error line relayed from a command that already counted it in the error statistics
    /// (a script returning the error of a command it called): the call fails, the error is not
    /// counted again.
    Relayed(Cow<'static, str>),
    WrongType,
    Oom,
    NoAuth,
    /// `BUSY`: a long script holds the server; names the command that kills it (`SCRIPT`, `FUNCTION`).
    Busy(&'static str),
    Loading,
    ReadOnly,
    NoReplicas,
    ExecAbort,
    MasterDown,
}

impl CmdError {
    /// The reply to a `denyoom` command over `maxmemory`.
    pub const OOM_TEXT: &'static str = "OOM command not allowed when used memory > 'maxmemory'.";

    pub fn err(text: impl Into<Cow<'static, str>>) -> Self {
        CmdError::Err(text.into())
    }

    pub fn syntax() -> Self {
        CmdError::Err(Cow::Borrowed(SYNTAX))
    }

    pub fn not_integer() -> Self {
        CmdError::Err(Cow::Borrowed(NOT_INTEGER))
    }

    pub fn not_float() -> Self {
        CmdError::Err(Cow::Borrowed(NOT_FLOAT))
    }

    /// The error code, for `INFO errorstats` (`ERR`, `WRONGTYPE`, ...).
    pub fn code(&self) -> String {
        let line = self.to_string();
        line.split(' ').next().unwrap_or("ERR").to_string()
    }
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CmdError::Err(t) => write!(f, "ERR {t}"),
            CmdError::Coded(t) | CmdError::Relayed(t) => f.write_str(t),
            CmdError::WrongType => f.write_str("WRONGTYPE Operation against a key holding the wrong kind of value"),
            CmdError::Oom => f.write_str(CmdError::OOM_TEXT),
            CmdError::NoAuth => f.write_str("NOAUTH Authentication required."),
            CmdError::Busy(killer) => write!(
                f,
                "BUSY Redis is busy running a script. You can only call {killer} KILL or SHUTDOWN NOSAVE."
            ),
            CmdError::Loading => f.write_str("LOADING Redis is loading the dataset in memory"),
            CmdError::ReadOnly => f.write_str("READONLY You can't write against a read only replica."),
            CmdError::NoReplicas => f.write_str("NOREPLICAS Not enough good replicas to write."),
            CmdError::ExecAbort => f.write_str("EXECABORT Transaction discarded because of previous errors."),
            CmdError::MasterDown => {
                f.write_str("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")
            }
        }
    }
}

pub type CmdResult = Result<(), CmdError>;
