//! The enumerated directive values, with Redis's names in Redis's order (the order matters: it
//! is the order of the "must be one of the following" message, and when two names share a value
//! CONFIG GET prints the first).

macro_rules! config_enum {
    ($(#[$meta:meta])* $ty:ident { $($var:ident),+ $(,)? } names { $($name:literal => $val:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $ty {
            $($var),+
        }

        impl $ty {
            /// Accepted names and the value each stands for, in Redis's order.
            pub const NAMES: &'static [(&'static str, i32)] = &[$(($name, $ty::$val as i32)),+];

            /// The variant for a table value, if any.
            pub fn from_i32(v: i32) -> Option<$ty> {
                [$($ty::$var),+].into_iter().find(|x| *x as i32 == v)
            }

            /// The name CONFIG GET prints for this value.
            pub fn name(self) -> &'static str {
                Self::NAMES
                    .iter()
                    .find(|(_, v)| *v == self as i32)
                    .map(|(n, _)| *n)
                    .unwrap_or("")
            }
        }
    };
}

config_enum!(
    /// `loglevel`.
    LogLevel { Debug, Verbose, Notice, Warning }
    names { "debug" => Debug, "verbose" => Verbose, "notice" => Notice, "warning" => Warning }
);

config_enum!(
    /// `maxmemory-policy`.
    MaxmemoryPolicy { VolatileLru, VolatileLfu, VolatileRandom, VolatileTtl, AllkeysLru, AllkeysLfu, AllkeysRandom, Noeviction }
    names {
        "volatile-lru" => VolatileLru, "volatile-lfu" => VolatileLfu, "volatile-random" => VolatileRandom,
        "volatile-ttl" => VolatileTtl, "allkeys-lru" => AllkeysLru, "allkeys-lfu" => AllkeysLfu,
        "allkeys-random" => AllkeysRandom, "noeviction" => Noeviction,
    }
);

config_enum!(
    /// `appendfsync`.
    AppendFsync { Everysec, Always, No }
    names { "everysec" => Everysec, "always" => Always, "no" => No }
);

config_enum!(
    /// `supervised`.
    Supervised { Upstart, Systemd, Auto, No }
    names { "upstart" => Upstart, "systemd" => Systemd, "auto" => Auto, "no" => No }
);

config_enum!(
    /// `syslog-facility`.
    SyslogFacility { User, Local0, Local1, Local2, Local3, Local4, Local5, Local6, Local7 }
    names {
        "user" => User, "local0" => Local0, "local1" => Local1, "local2" => Local2, "local3" => Local3,
        "local4" => Local4, "local5" => Local5, "local6" => Local6, "local7" => Local7,
    }
);

config_enum!(
    /// `repl-diskless-load`.
    ReplDisklessLoad { Disabled, OnEmptyDb, Swapdb }
    names { "disabled" => Disabled, "on-empty-db" => OnEmptyDb, "swapdb" => Swapdb }
);

config_enum!(
    /// `oom-score-adj` (`yes` is a synonym of `relative`).
    OomScoreAdj { No, Relative, Absolute }
    names { "no" => No, "yes" => Relative, "relative" => Relative, "absolute" => Absolute }
);

config_enum!(
    /// `acl-pubsub-default`.
    AclPubsubDefault { AllChannels, ResetChannels }
    names { "allchannels" => AllChannels, "resetchannels" => ResetChannels }
);

config_enum!(
    /// `sanitize-dump-payload`.
    SanitizeDumpPayload { No, Yes, Clients }
    names { "no" => No, "yes" => Yes, "clients" => Clients }
);

config_enum!(
    /// `cluster-preferred-endpoint-type`.
    EndpointType { Ip, Hostname, Unknown }
    names { "ip" => Ip, "hostname" => Hostname, "unknown-endpoint" => Unknown }
);

config_enum!(
    /// `propagation-error-behavior`.
    PropagationErrorBehavior { Ignore, Panic, PanicOnReplicas }
    names { "ignore" => Ignore, "panic" => Panic, "panic-on-replicas" => PanicOnReplicas }
);

config_enum!(
    /// `enable-protected-configs`, `enable-debug-command`, `enable-module-command`: who may use
    /// the protected thing. `Local` means connections from loopback or a unix socket only.
    ProtectedAction { No, Yes, Local }
    names { "no" => No, "yes" => Yes, "local" => Local }
);

config_enum!(
    /// `tls-auth-clients`.
    TlsAuthClients { No, Yes, Optional }
    names { "no" => No, "yes" => Yes, "optional" => Optional }
);

/// `shutdown-on-sigint` / `shutdown-on-sigterm` flags (a set: `save now` is two flags).
pub mod shutdown {
    pub const DEFAULT: i32 = 0;
    pub const SAVE: i32 = 1;
    pub const NOSAVE: i32 = 2;
    pub const NOW: i32 = 4;
    pub const FORCE: i32 = 8;
    pub const NAMES: &[(&str, i32)] = &[
        ("default", DEFAULT),
        ("save", SAVE),
        ("nosave", NOSAVE),
        ("now", NOW),
        ("force", FORCE),
    ];
}

impl ProtectedAction {
    /// Is the action allowed for a connection (`local`: from loopback or a unix socket)?
    pub fn allows(self, local: bool) -> bool {
        match self {
            ProtectedAction::No => false,
            ProtectedAction::Yes => true,
            ProtectedAction::Local => local,
        }
    }
}

/// One `client-output-buffer-limit` class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObufLimit {
    pub hard_bytes: u64,
    pub soft_bytes: u64,
    pub soft_seconds: i64,
}

/// The three client classes of `client-output-buffer-limit`, in Redis's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObufLimits {
    pub normal: ObufLimit,
    pub replica: ObufLimit,
    pub pubsub: ObufLimit,
}

impl ObufLimits {
    pub const DEFAULT: ObufLimits = ObufLimits {
        normal: ObufLimit {
            hard_bytes: 0,
            soft_bytes: 0,
            soft_seconds: 0,
        },
        replica: ObufLimit {
            hard_bytes: 256 << 20,
            soft_bytes: 64 << 20,
            soft_seconds: 60,
        },
        pubsub: ObufLimit {
            hard_bytes: 32 << 20,
            soft_bytes: 8 << 20,
            soft_seconds: 60,
        },
    };

    pub fn classes(&self) -> [(&'static str, ObufLimit); 3] {
        [
            ("normal", self.normal),
            ("slave", self.replica),
            ("pubsub", self.pubsub),
        ]
    }

    pub fn class_mut(&mut self, i: usize) -> &mut ObufLimit {
        match i {
            0 => &mut self.normal,
            1 => &mut self.replica,
            _ => &mut self.pubsub,
        }
    }
}

/// `replicaof host port`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaOf {
    pub host: String,
    pub port: u16,
}

/// `save seconds changes` points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SavePoint {
    pub seconds: i64,
    pub changes: i32,
}
