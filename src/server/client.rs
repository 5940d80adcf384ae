//! A client connection's state.
//!
//! A client is a small state machine: it is *ready* (its query buffer is parsed and executed as bytes
//! arrive), *executing* (taken out of the client table while one of its commands runs), or *blocked*
//! (suspended by a handler: `CLIENT PAUSE` today, blocking pops and `WAIT` later). A blocked client keeps
//! the frame that blocked it unconsumed at the front of its query buffer; when released, the frame is
//! parsed and executed again, so the handler sees the command as if it had just arrived.

use mio::net::TcpStream;
use resp::{Frame, Protocol, ReplyBuf, RequestParser};

/// Why a client is suspended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockReason {
    /// Held by `CLIENT PAUSE` until the pause ends.
    Pause,
}

#[derive(Debug, Clone)]
pub struct Blocked {
    pub reason: BlockReason,
    /// Absolute deadline (ms), if the block times out.
    pub timeout_ms: Option<i64>,
}

/// `CLIENT REPLY` mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplyMode {
    #[default]
    On,
    Off,
    /// Skip the reply of the next command.
    SkipNext,
    /// Skip the reply of the command being executed.
    Skip,
}

/// Client flags shown by `CLIENT LIST` and acted upon by the loop.
pub mod cflags {
    /// Close once the output buffer is written (`QUIT`, protocol errors).
    pub const CLOSE_AFTER_REPLY: u32 = 1 << 0;
    /// Close as soon as possible, without writing (`CLIENT KILL`, output buffer limits).
    pub const CLOSE_ASAP: u32 = 1 << 1;
    pub const MONITOR: u32 = 1 << 2;
    pub const NO_EVICT: u32 = 1 << 3;
    /// Marked by `CLIENT PAUSE`/`UNPAUSE` bookkeeping: the client is queued to be re-processed.
    pub const PENDING_REPROCESS: u32 = 1 << 4;
}

pub struct Client {
    pub id: u64,
    /// Index in the network layer's client table (its mio token, offset by the listener tokens).
    pub slot: usize,
    pub stream: Option<TcpStream>,
    pub addr: String,
    pub laddr: String,
    pub fd: i32,
    pub name: Option<Vec<u8>>,
    pub db: usize,
    pub authenticated: bool,
    pub flags: u32,
    pub reply_mode: ReplyMode,
    pub created_ms: i64,
    pub last_interaction_ms: i64,
    /// Unparsed input (empty most of the time: complete requests are executed straight from the shared
    /// read buffer; only a partial request's bytes are kept here).
    pub qbuf: Vec<u8>,
    pub qbuf_peak: usize,
    pub parser: RequestParser,
    pub frame: Frame,
    /// Encoded replies not yet written; `sent` bytes of it already went out.
    pub out: ReplyBuf,
    pub sent: usize,
    pub write_registered: bool,
    pub last_cmd: &'static str,
    pub blocked: Option<Blocked>,
    /// Arguments of the last executed command, kept only for the size CLIENT LIST reports.
    pub argv_mem: usize,
    pub net_in: u64,
    pub net_out: u64,
    pub commands: u64,
}

impl Client {
    pub fn new(id: u64, slot: usize, stream: Option<TcpStream>, now_ms: i64) -> Client {
        let (addr, laddr, fd) = match &stream {
            Some(s) => {
                use std::os::fd::AsRawFd;
                (
                    s.peer_addr().map(|a| a.to_string()).unwrap_or_else(|_| "?:0".into()),
                    s.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| "?:0".into()),
                    s.as_raw_fd(),
                )
            }
            None => (String::new(), String::new(), -1),
        };
        Client {
            id,
            slot,
            stream,
            addr,
            laddr,
            fd,
            name: None,
            db: 0,
            authenticated: false,
            flags: 0,
            reply_mode: ReplyMode::On,
            created_ms: now_ms,
            last_interaction_ms: now_ms,
            qbuf: Vec::new(),
            qbuf_peak: 0,
            parser: RequestParser::new(),
            frame: Frame::new(),
            out: ReplyBuf::new(Protocol::Resp2),
            sent: 0,
            write_registered: false,
            last_cmd: "NULL",
            blocked: None,
            argv_mem: 0,
            net_in: 0,
            net_out: 0,
            commands: 0,
        }
    }

    #[inline]
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// Bytes of output waiting to be written.
    #[inline]
    pub fn pending_output(&self) -> usize {
        self.out.buf.len() - self.sent
    }

    /// Whether the client's peer address is a loopback one.
    pub fn is_local(&self) -> bool {
        self.addr.starts_with("127.") || self.addr.starts_with("[::1]")
    }
}
