//! In-process test harness: a `Core` with a manual clock and one fake client, driven through the real
//! dispatcher. For tests that need what a socket cannot show: the journal's effects, a controlled clock.
//! Black-box behaviour is tested against the real binary in `tests/`.

use resp::{Protocol, ReplyBuf, Value};

use crate::clock::ManualClock;
use crate::commands::dispatch;
use crate::commands::OwnedArgs;
use crate::config::Config;
use crate::server::client::Client;
use crate::server::core::Core;

pub struct Harness {
    pub core: Core,
    pub client: Client,
    pub clock: ManualClock,
    journal_tap: Option<crate::journal::ConsumerId>,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// Defaults, the clock at 2026-01-01T00:00:00Z, DEBUG allowed.
    pub fn new() -> Harness {
        let mut config = Config::default();
        config.enable_debug_command = crate::config::ProtectedAction::Yes;
        Self::with_config(config)
    }

    pub fn with_config(config: Config) -> Harness {
        let clock = ManualClock::new(1_767_225_600_000_000);
        let core = Core::new(config, Box::new(clock.clone()));
        let mut client = Client::new(1, 0, None, core.now_ms);
        client.authenticated = true;
        Harness {
            core,
            client,
            clock,
            journal_tap: None,
        }
    }

    /// Run one command and return its reply, parsed.
    pub fn run(&mut self, args: &[&str]) -> Value {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.run_bytes(&a)
    }

    pub fn run_bytes(&mut self, args: &[&[u8]]) -> Value {
        let owned = OwnedArgs::from_slices(args.iter().copied());
        let mut out = ReplyBuf::new(self.client.out.proto);
        dispatch::execute(&mut self.core, None, &mut self.client, &owned.view(), &mut out);
        match resp::value::parse(&out.buf) {
            Ok(Some((v, n))) if n == out.buf.len() => v,
            other => panic!(
                "reply to {args:?} is not exactly one value: {other:?} {:?}",
                String::from_utf8_lossy(&out.buf)
            ),
        }
    }

    pub fn set_protocol(&mut self, p: Protocol) {
        self.client.out.proto = p;
    }

    /// Move the clock (and the cached time).
    pub fn advance_ms(&mut self, ms: i64) {
        self.clock.advance_ms(ms);
        self.core.update_time();
    }

    /// Start recording the journal.
    pub fn tap_journal(&mut self) {
        self.journal_tap = Some(self.core.journal.attach());
    }

    /// Stop recording the journal.
    pub fn untap_journal(&mut self) {
        if let Some(id) = self.journal_tap.take() {
            self.core.journal.detach(id);
        }
    }

    /// The journal's effects since the last call, each as one line of its arguments.
    pub fn effects(&mut self) -> Vec<String> {
        self.journal().into_iter().map(|e| e.join(" ")).collect()
    }

    /// The journal's effects since the last call, as argument vectors.
    pub fn journal(&mut self) -> Vec<Vec<String>> {
        let Some(id) = self.journal_tap else { return vec![] };
        let bytes = self.core.journal.unread(id).to_vec();
        self.core.journal.consume(id, bytes.len());
        let mut out = vec![];
        let mut pos = 0;
        while pos < bytes.len() {
            let Ok(Some((v, n))) = resp::value::parse(&bytes[pos..]) else {
                panic!("malformed journal")
            };
            pos += n;
            let Value::Array(items) = v else {
                panic!("journal entry is not an array")
            };
            out.push(
                items
                    .into_iter()
                    .map(|i| match i {
                        Value::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
                        other => panic!("journal argument {other:?}"),
                    })
                    .collect(),
            );
        }
        out
    }
}

/// Shorthands for expected replies in unit tests.
pub fn bulk(s: &str) -> Value {
    Value::Bulk(s.as_bytes().to_vec())
}

pub fn ok() -> Value {
    Value::Simple(b"OK".to_vec())
}

pub fn err(s: &str) -> Value {
    Value::Error(s.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harness_runs_commands_and_taps_the_journal() {
        let mut h = Harness::new();
        h.tap_journal();
        assert_eq!(h.run(&["SET", "k", "v"]), ok());
        assert_eq!(h.run(&["GET", "k"]), bulk("v"));
        assert_eq!(h.run(&["GET", "nokey"]), Value::NullBulk);
        assert_eq!(h.journal(), vec![vec!["SELECT", "0"], vec!["SET", "k", "v"]]);
    }
}
