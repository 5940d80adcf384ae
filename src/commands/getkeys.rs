//! Key extraction: which arguments of a request are keys, and how the command uses each of them.
//!
//! One function serves every reader of keys (`COMMAND GETKEYS`, and later ACL key patterns, the
//! cluster slot check and shard routing), driven by the table: a row's key specs say where its keys
//! are, and a row whose specs cannot say it (variable flags, an `incomplete` or `unknown` spec) names
//! an extractor in its `getkeys:` field. The rules are Redis 7.0's, so answers match its `COMMAND
//! GETKEYS` / `GETKEYSANDFLAGS`:
//!
//! - the specs are used when at least one of them is a real key (not `not_key`) and none has
//!   `variable_flags` (or the row has no extractor to tell the flags better); a spec that cannot be applied to the arguments (an `unknown` begin or find step,
//!   a bad key count, positions out of range, or an `incomplete` spec) voids the whole spec answer;
//! - otherwise, or when the specs were voided, the row's extractor decides; without one there are no
//!   keys.
//!
//! A spec's keyword search starting at `n > 0` looks forward from argument `n` up to, not including,
//! the last argument (a keyword there could not be followed by a key); starting at `-n` it looks
//! backward from the n-th argument from the end down to, not including, argument 1. A range with a
//! negative last key and a `limit` takes `1/limit` of the remaining arguments (XREAD's `STREAMS k1 k2
//! id1 id2`).

use super::spec::{ks, BeginSearch, Command, FindKeys};
use super::Args;

/// One key: its position in the request (argument 0 is the command name) and the access flags
/// (`ks::*`) of the spec or extractor that found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRef {
    pub pos: usize,
    pub flags: u32,
}

/// A per-command extractor: push the keys of `args` into `keys` (which is empty on entry). Pushing
/// nothing means the command names no key, or the arguments make no sense to it.
pub type KeysFn = fn(&Args<'_>, &mut Vec<KeyRef>);

/// Whether the command can name keys at all (else `COMMAND GETKEYS` says "The command has no key
/// arguments"). `not_key` specs (channels) do not count.
pub fn has_keys(cmd: &Command) -> bool {
    cmd.getkeys.is_some() || cmd.key_specs.iter().any(|s| s.flags & ks::NOT_KEY == 0)
}

/// The keys of a request for `cmd` (the row the request resolved to, a subcommand's own row for a
/// subcommand), in the order the specs find them. `keys` is cleared first.
pub fn get_keys(cmd: &Command, args: &Args<'_>, keys: &mut Vec<KeyRef>) {
    extract(cmd, args, false, keys)
}

/// Like [`get_keys`], but `not_key` specs are read too (sharded pub/sub channels hash to slots like
/// keys do, so the cluster check wants them).
pub fn get_keys_and_channels(cmd: &Command, args: &Args<'_>, keys: &mut Vec<KeyRef>) {
    extract(cmd, args, true, keys)
}

fn extract(cmd: &Command, args: &Args<'_>, include_not_keys: bool, keys: &mut Vec<KeyRef>) {
    keys.clear();
    let real = cmd.key_specs.iter().any(|s| s.flags & ks::NOT_KEY == 0);
    // Specs with variable flags give the right keys but not always the right flags: the row's
    // extractor knows better. A row without one still gets its keys from the specs.
    let variable = cmd.key_specs.iter().any(|s| s.flags & ks::VARIABLE_FLAGS != 0) && cmd.getkeys.is_some();
    if (real || include_not_keys) && !variable {
        if from_specs(cmd, args, include_not_keys, keys) {
            return;
        }
        keys.clear();
    }
    if let Some(f) = cmd.getkeys {
        f(args, keys);
    }
}

/// Apply every spec; false when one of them cannot be applied (the caller then falls back).
fn from_specs(cmd: &Command, args: &Args<'_>, include_not_keys: bool, keys: &mut Vec<KeyRef>) -> bool {
    let argc = args.len() as i64;
    for spec in cmd.key_specs {
        if spec.flags & ks::NOT_KEY != 0 && !include_not_keys {
            continue;
        }
        let begin = match spec.begin {
            BeginSearch::Index(i) => i64::from(i),
            BeginSearch::Keyword { keyword, start_from } => match find_keyword(args, keyword, start_from) {
                Some(i) => i + 1,
                // The optional part is absent: this spec names no key.
                None => continue,
            },
            BeginSearch::Unknown => return false,
        };
        let (first, last, step) = match spec.find {
            FindKeys::Range { last_key, step, limit } => {
                let last = if last_key >= 0 {
                    begin + i64::from(last_key)
                } else if limit <= 0 {
                    argc + i64::from(last_key)
                } else {
                    begin + (argc - begin) / i64::from(limit) + i64::from(last_key)
                };
                (begin, last, step)
            }
            FindKeys::Keynum {
                keynum_idx,
                first_key,
                step,
            } => {
                let at = begin + i64::from(keynum_idx);
                if i64::from(keynum_idx) >= argc - begin || at < 0 {
                    return false;
                }
                let n = match resp::request::parse_i64_strict(args.get(at as usize)) {
                    Some(n) if n >= 0 => n,
                    _ => return false,
                };
                let first = begin + i64::from(first_key);
                (first, first.saturating_add(n) - 1, step)
            }
            FindKeys::Unknown => return false,
        };
        if last >= argc || last < first || first >= argc || first < 0 {
            return false;
        }
        let step = i64::from(step.max(1));
        let mut i = first;
        while i <= last {
            keys.push(KeyRef {
                pos: i as usize,
                flags: spec.flags,
            });
            i += step;
        }
        if spec.flags & ks::INCOMPLETE != 0 {
            return false;
        }
    }
    true
}

/// The position of `keyword` (any case) per the search rule in the module docs.
fn find_keyword(args: &Args<'_>, keyword: &str, start_from: i32) -> Option<i64> {
    let argc = args.len() as i64;
    let start = if start_from > 0 {
        i64::from(start_from)
    } else {
        argc + i64::from(start_from)
    };
    if start >= argc {
        return None;
    }
    let hit = |i: i64| (1..argc).contains(&i) && args.is(i as usize, keyword);
    if start_from > 0 {
        (start..argc - 1).find(|&i| hit(i))
    } else {
        (2..=start).rev().find(|&i| hit(i))
    }
}

// ---- Extractors for rows whose specs cannot tell (Redis 7.0's rules for the same commands) ----

/// SET: one key; `GET` makes it a read-modify-write instead of an overwrite.
pub fn set(args: &Args<'_>, keys: &mut Vec<KeyRef>) {
    let get = args.rest(3).any(|a| a.eq_ignore_ascii_case(b"get"));
    let flags = if get {
        ks::RW | ks::ACCESS | ks::UPDATE
    } else {
        ks::OW | ks::UPDATE
    };
    keys.push(KeyRef { pos: 1, flags });
}

/// BITFIELD: one key, read-only when every operation is a `GET` (or `OVERFLOW`).
pub fn bitfield(args: &Args<'_>, keys: &mut Vec<KeyRef>) {
    let argc = args.len();
    let mut readonly = true;
    let mut i = 2;
    while i < argc {
        let left = argc - i - 1;
        if args.is(i, "get") && left >= 2 {
            i += 3;
        } else if args.is(i, "overflow") && left >= 1 {
            i += 2;
        } else {
            // SET/INCRBY, or a syntax error the command will report: assume a write.
            readonly = false;
            break;
        }
    }
    let flags = if readonly {
        ks::RO | ks::ACCESS
    } else {
        ks::RW | ks::ACCESS | ks::UPDATE
    };
    keys.push(KeyRef { pos: 1, flags });
}

/// SORT: the sorted key, and the `STORE` destination (the last one given) if any. The keys named
/// by `BY`/`GET` patterns derive from the data and are not reported.
pub fn sort(args: &Args<'_>, keys: &mut Vec<KeyRef>) {
    keys.push(KeyRef {
        pos: 1,
        flags: ks::RO | ks::ACCESS,
    });
    let argc = args.len();
    let mut store = None;
    let mut i = 2;
    while i < argc {
        if args.is(i, "limit") {
            i += 2;
        } else if args.is(i, "get") || args.is(i, "by") {
            i += 1;
        } else if args.is(i, "store") && i + 1 < argc {
            store = Some(i + 1);
        }
        i += 1;
    }
    if let Some(pos) = store {
        keys.push(KeyRef {
            pos,
            flags: ks::OW | ks::UPDATE,
        });
    }
}

/// SORT_RO: only the sorted key.
pub fn sort_ro(_args: &Args<'_>, keys: &mut Vec<KeyRef>) {
    keys.push(KeyRef {
        pos: 1,
        flags: ks::RO | ks::ACCESS,
    });
}

/// MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw] [KEYS k...]
pub fn migrate(args: &Args<'_>, keys: &mut Vec<KeyRef>) {
    let argc = args.len();
    let (mut first, mut num) = (3, 1);
    let mut i = 6;
    while i < argc {
        if args.is(i, "keys") {
            if !args.get(3).is_empty() {
                // MIGRATE refuses KEYS with a non-empty key argument.
                return;
            }
            first = i + 1;
            num = argc - first;
            break;
        } else if args.is(i, "auth") {
            i += 1;
        } else if args.is(i, "auth2") {
            i += 2;
        }
        i += 1;
    }
    let flags = ks::RW | ks::ACCESS | ks::DELETE;
    keys.extend((first..first + num).map(|pos| KeyRef { pos, flags }));
}

/// LOCK.FENCED name epoch counter command [arg ...]: the lock's name, then the keys of the command it
/// runs (so the cluster check and ACL key patterns see every key the request touches).
pub fn lock_fenced(args: &Args<'_>, keys: &mut Vec<KeyRef>) {
    const INNER: usize = 4;
    if args.len() <= INNER {
        return;
    }
    keys.push(KeyRef {
        pos: 1,
        flags: ks::RO | ks::ACCESS,
    });
    let inner_owned = super::OwnedArgs::from_slices(args.rest(INNER));
    let inner = inner_owned.view();
    if let super::table::Lookup::Found(cmd, _) = super::table::lookup_args(&inner) {
        if cmd.arity_ok(inner.len()) {
            let mut inner_keys = vec![];
            get_keys(cmd, &inner, &mut inner_keys);
            keys.extend(inner_keys.into_iter().map(|k| KeyRef {
                pos: k.pos + INNER,
                flags: k.flags,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::spec::{acl, flags};
    use crate::commands::OwnedArgs;
    use crate::{cmd, key_spec};

    fn keys_of(cmd: &Command, argv: &[&str]) -> Vec<(String, u32)> {
        let owned = OwnedArgs::from_slices(argv.iter().map(|s| s.as_bytes()));
        let args = owned.view();
        let mut keys = vec![];
        get_keys(cmd, &args, &mut keys);
        keys.iter().map(|k| (argv[k.pos].to_string(), k.flags)).collect()
    }

    fn names(v: Vec<(String, u32)>) -> Vec<String> {
        v.into_iter().map(|(k, _)| k).collect()
    }

    static MSET: Command = cmd!("mset", arity: -3, flags: flags::WRITE, acl: acl::WRITE,
        keys: (1, -1, 2), specs: [key_spec!(ks::OW | ks::UPDATE, [index 1], [range -1 2 0])],
        handler: None, doc: ("x", "1.0.1", "string", "O(N)"));
    static XREAD: Command = cmd!("xread", arity: -4, flags: flags::MOVABLEKEYS, acl: acl::READ,
        keys: (0, 0, 0), specs: [key_spec!(ks::RO | ks::ACCESS, [keyword "STREAMS" from 1], [range -1 1 2])],
        handler: None, doc: ("x", "5.0.0", "stream", "x"));
    static ZUNIONSTORE: Command = cmd!("zunionstore", arity: -4, flags: flags::MOVABLEKEYS, acl: acl::WRITE,
        keys: (1, 1, 1),
        specs: [key_spec!(ks::OW | ks::UPDATE, [index 1], [range 0 1 0]),
            key_spec!(ks::RO | ks::ACCESS, [index 2], [keynum 0 1 1])],
        handler: None, doc: ("x", "2.0.0", "sorted-set", "x"));
    static MIGRATE: Command = cmd!("migrate", arity: -6, flags: flags::MOVABLEKEYS, acl: acl::WRITE,
        keys: (3, 3, 1),
        specs: [key_spec!(ks::RW | ks::ACCESS | ks::DELETE, [index 3], [range 0 1 0]),
            key_spec!(ks::RW | ks::ACCESS | ks::DELETE | ks::INCOMPLETE, [keyword "KEYS" from -2], [range -1 1 0])],
        handler: None, getkeys: migrate, doc: ("x", "2.6.0", "generic", "x"));
    static SPUBLISH: Command = cmd!("spublish", arity: 3, flags: 0, acl: acl::PUBSUB,
        keys: (1, 1, 1), specs: [key_spec!(ks::NOT_KEY, [index 1], [range 0 1 0])],
        handler: None, doc: ("x", "7.0.0", "pubsub", "x"));

    #[test]
    fn ranges_keywords_and_keynums() {
        assert_eq!(names(keys_of(&MSET, &["mset", "a", "1", "b", "2"])), ["a", "b"]);
        assert_eq!(names(keys_of(&MSET, &["mset", "a", "1", "b"])), ["a", "b"]);
        assert_eq!(
            names(keys_of(&XREAD, &["xread", "streams", "a", "b", "1", "2"])),
            ["a", "b"]
        );
        assert_eq!(
            names(keys_of(&XREAD, &["xread", "COUNT", "2", "STREAMS", "a", "1"])),
            ["a"]
        );
        assert!(keys_of(&XREAD, &["xread", "count", "1", "streams"]).is_empty());
        assert_eq!(
            names(keys_of(
                &ZUNIONSTORE,
                &["zunionstore", "d", "2", "a", "b", "weights", "1", "2"]
            )),
            ["d", "a", "b"]
        );
        // A key count that does not fit voids the whole answer, not just its own spec.
        assert!(keys_of(&ZUNIONSTORE, &["zunionstore", "d", "5", "a"]).is_empty());
        assert!(keys_of(&ZUNIONSTORE, &["zunionstore", "d", "x", "a"]).is_empty());
        assert!(keys_of(&ZUNIONSTORE, &["zunionstore", "d", "0", "a"]).is_empty());
    }

    #[test]
    fn incomplete_specs_fall_back_to_the_extractor() {
        let k = keys_of(&MIGRATE, &["migrate", "h", "p", "", "0", "5", "keys", "a", "b"]);
        assert_eq!(names(k), ["a", "b"]);
        let k = keys_of(
            &MIGRATE,
            &["migrate", "h", "p", "k", "0", "5", "auth", "keys", "replace"],
        );
        assert_eq!(names(k), ["k"]);
        assert!(keys_of(&MIGRATE, &["migrate", "h", "p", "k", "0", "5", "keys", "a"]).is_empty());
    }

    #[test]
    fn not_key_specs_are_channels() {
        assert!(!has_keys(&SPUBLISH));
        assert!(keys_of(&SPUBLISH, &["spublish", "ch", "m"]).is_empty());
        let owned = OwnedArgs::from_slices([&b"spublish"[..], b"ch", b"m"]);
        let mut keys = vec![];
        get_keys_and_channels(&SPUBLISH, &owned.view(), &mut keys);
        assert_eq!(
            keys,
            [KeyRef {
                pos: 1,
                flags: ks::NOT_KEY
            }]
        );
    }

    #[test]
    fn extractors() {
        let run = |f: KeysFn, argv: &[&str]| {
            let owned = OwnedArgs::from_slices(argv.iter().map(|s| s.as_bytes()));
            let mut keys = vec![];
            f(&owned.view(), &mut keys);
            keys.iter().map(|k| (k.pos, k.flags)).collect::<Vec<_>>()
        };
        assert_eq!(run(set, &["set", "k", "v"]), [(1, ks::OW | ks::UPDATE)]);
        assert_eq!(
            run(set, &["set", "k", "v", "GeT"]),
            [(1, ks::RW | ks::ACCESS | ks::UPDATE)]
        );
        assert_eq!(
            run(bitfield, &["bitfield", "k", "get", "u8", "0"]),
            [(1, ks::RO | ks::ACCESS)]
        );
        assert_eq!(
            run(
                bitfield,
                &["bitfield", "k", "overflow", "sat", "incrby", "u8", "0", "1"]
            ),
            [(1, ks::RW | ks::ACCESS | ks::UPDATE)]
        );
        assert_eq!(
            run(sort, &["sort", "k", "by", "store", "store", "d", "limit", "0", "1"]),
            [(1, ks::RO | ks::ACCESS), (5, ks::OW | ks::UPDATE)]
        );
    }
}
