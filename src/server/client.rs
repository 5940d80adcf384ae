//! A client connection's state.
//!
//! A client is a small state machine: it is *ready* (its query buffer is parsed and executed as bytes
//! arrive), *executing* (taken out of the client table while one of its commands runs), or *blocked*
//! (suspended by a handler: `CLIENT PAUSE` today, blocking pops and `WAIT` later). Orthogonally it may
//! be inside MULTI, queueing its commands (`multi`). A blocked client keeps
//! the frame that blocked it unconsumed at the front of its query buffer; when released, the frame is
//! parsed and executed again, so the handler sees the command as if it had just arrived.

use mio::net::TcpStream;

use super::blocking::BlockSpec;
use super::tracking::TrackingState;
use resp::{Frame, Protocol, ReplyBuf, RequestParser};

/// Why a client is suspended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockReason {
    /// Held by `CLIENT PAUSE` until the pause ends.
    Pause,
    /// Waiting for a key to be ready (BLPOP and friends); `cmd_idx` is the command's statistics index.
    Keys { spec: BlockSpec, cmd_idx: usize },
}

#[derive(Debug, Clone)]
pub struct Blocked {
    pub reason: BlockReason,
    /// Absolute deadline (ms), if the block times out.
    pub timeout_ms: Option<i64>,
}

impl Blocked {
    /// The keys spec, when blocked on keys.
    pub fn on_keys(&self) -> Option<&BlockSpec> {
        match &self.reason {
            BlockReason::Keys { spec, .. } => Some(spec),
            BlockReason::Pause => None,
        }
    }
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
    /// Queued in `Net::pending_writes` for the end of the loop iteration.
    pub const WRITE_QUEUED: u32 = 1 << 5;
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
    /// Pub/Sub subscriptions (none: `None`, so a client that never subscribes pays one word).
    pub subs: Option<Box<crate::server::pubsub::Subscriptions>>,
    /// The open transaction, between MULTI and EXEC/DISCARD.
    pub multi: Option<Box<crate::commands::transactions::MultiState>>,
    pub blocked: Option<Blocked>,
    /// Set by a handler that found nothing to serve and asks to wait (taken by the dispatcher).
    pub block_request: Option<BlockSpec>,
    /// While a blocked client's request is re-run because a key became ready: that key.
    pub serving_key: Option<Vec<u8>>,
    /// Arguments of the last executed command, kept only for the size CLIENT LIST reports.
    pub argv_mem: usize,
    pub net_in: u64,
    pub net_out: u64,
    pub commands: u64,
    /// Largest output buffer seen since the last cron sample (CLIENT LIST's `rbp`).
    pub out_peak: usize,
    /// When the output first went over the soft `client-output-buffer-limit` (0: it is not over).
    pub obuf_soft_since_ms: i64,
}

/// Redis's PROTO_REPLY_CHUNK_BYTES: the part of the output Redis keeps in the client's fixed buffer;
/// what goes past it is the reply list that `client-output-buffer-limit` counts.
pub const REPLY_CHUNK: usize = 16 * 1024;

/// Which class a client belongs to (CLIENT LIST/KILL `TYPE`, `client-output-buffer-limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientType {
    Normal,
    Replica,
    Pubsub,
    Master,
}

impl ClientType {
    /// Redis's getClientTypeByName (`slave` is accepted as `replica`).
    pub fn parse(name: &[u8]) -> Option<ClientType> {
        Some(match name.to_ascii_lowercase().as_slice() {
            b"normal" => ClientType::Normal,
            b"slave" | b"replica" => ClientType::Replica,
            b"pubsub" => ClientType::Pubsub,
            b"master" => ClientType::Master,
            _ => return None,
        })
    }
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
            subs: None,
            multi: None,
            blocked: None,
            block_request: None,
            serving_key: None,
            argv_mem: 0,
            net_in: 0,
            net_out: 0,
            commands: 0,
            out_peak: 0,
            obuf_soft_since_ms: 0,
        }
    }

    /// The client's class. MONITOR clients are normal clients for this purpose, as in Redis; a client
    /// with any subscription (in either protocol) is a pub/sub one.
    pub fn kind(&self) -> ClientType {
        if self.is_subscriber() {
            ClientType::Pubsub
        } else {
            ClientType::Normal
        }
    }

    /// Whether the client holds any Pub/Sub subscription.
    #[inline]
    pub fn is_subscriber(&self) -> bool {
        crate::commands::pubsub::is_subscriber(&self.subs)
    }

    /// Subscriptions per namespace (CLIENT LIST's `sub`, `psub`, `ssub`).
    fn subscription_counts(&self) -> (usize, usize, usize) {
        self.subs
            .as_ref()
            .map_or((0, 0, 0), |s| (s.channels.len(), s.patterns.len(), s.shard.len()))
    }

    /// Output bytes past the fixed reply buffer: what the output buffer limits count (Redis's
    /// getClientOutputBufferMemoryUsage).
    pub fn reply_list_bytes(&self) -> usize {
        self.pending_output().saturating_sub(REPLY_CHUNK)
    }

    /// The flags field of CLIENT LIST, in Redis's letter order. `dirty_cas`: a watched key changed;
    /// `tracking`: the client's tracking state, if it tracks.
    pub fn flag_letters(&self, dirty_cas: bool, tracking: Option<&TrackingState>) -> String {
        let mut f = String::new();
        if self.has(cflags::MONITOR) {
            f.push('O');
        }
        if self.is_subscriber() {
            f.push('P');
        }
        if self.multi.is_some() {
            f.push('x');
        }
        if self.blocked.is_some() {
            f.push('b');
        }
        if let Some(t) = tracking {
            f.push('t');
            if t.broken_redirect {
                f.push('R');
            }
            if t.bcast {
                f.push('B');
            }
        }
        if dirty_cas {
            f.push('d');
        }
        if self.has(cflags::CLOSE_AFTER_REPLY) {
            f.push('c');
        }
        if self.has(cflags::PENDING_REPROCESS) {
            f.push('u');
        }
        if self.has(cflags::CLOSE_ASAP) {
            f.push('A');
        }
        if self.has(cflags::NO_EVICT) {
            f.push('e');
        }
        if f.is_empty() {
            f.push('N');
        }
        f
    }

    /// Approximate memory held by the client: the struct, its buffers and the arguments in use.
    pub fn total_memory(&self, argv_mem: usize) -> usize {
        let multi = self.multi.as_ref().map_or(0, |m| m.mem());
        std::mem::size_of::<Client>() + self.qbuf.capacity() + self.out.buf.capacity() + argv_mem + multi
    }

    /// One CLIENT LIST / CLIENT INFO line (without the newline), with Redis 7.0's fields in order.
    /// `argv_mem` is the size of the arguments of the command being executed (0 between commands);
    /// `dirty_cas` says whether a key the client watches changed, `tracking` how it tracks keys.
    pub fn info_line(&self, now_ms: i64, argv_mem: usize, dirty_cas: bool, tracking: Option<&TrackingState>) -> String {
        let name = self.name.as_deref().map(String::from_utf8_lossy).unwrap_or_default();
        let pending = self.pending_output();
        let obl = pending.min(REPLY_CHUNK);
        let omem = pending - obl;
        let oll = omem.div_ceil(REPLY_CHUNK);
        let events = if self.write_registered { "rw" } else { "r" };
        let (sub, psub, ssub) = self.subscription_counts();
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} \
             qbuf={} qbuf-free={} argv-mem={} multi-mem={} rbs={} rbp={} obl={} oll={} omem={} tot-mem={} \
             events={} cmd={} user={} redir={} resp={}",
            self.id,
            self.addr,
            self.laddr,
            self.fd,
            name,
            (now_ms - self.created_ms).max(0) / 1000,
            (now_ms - self.last_interaction_ms).max(0) / 1000,
            self.flag_letters(dirty_cas, tracking),
            self.db,
            sub,
            psub,
            ssub,
            self.multi.as_ref().map_or(-1, |m| m.len() as i64),
            self.qbuf.len(),
            self.qbuf.capacity() - self.qbuf.len(),
            argv_mem,
            self.multi.as_ref().map_or(0, |m| m.mem()),
            self.out.buf.capacity(),
            self.out_peak,
            obl,
            oll,
            omem,
            self.total_memory(argv_mem),
            events,
            self.last_cmd,
            crate::commands::connection::DEFAULT_USER,
            tracking.map_or(-1, |t| t.redirect as i64),
            if self.out.is_resp3() { 3 } else { 2 },
        )
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

    /// Whether the client waits on keys (as opposed to a pause).
    pub fn blocked_on_keys(&self) -> bool {
        self.blocked.as_ref().is_some_and(|b| b.on_keys().is_some())
    }

    /// Whether the client's peer address is a loopback one.
    pub fn is_local(&self) -> bool {
        self.addr.starts_with("127.") || self.addr.starts_with("[::1]")
    }
}
