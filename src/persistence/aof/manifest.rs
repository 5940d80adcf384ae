//! The manifest of Redis 7.0's multi-part AOF: which files in `appenddirname` make the dataset, in
//! order.
//!
//! One line per file, `file <name> seq <n> type <b|h|i>`: at most one base (`b`, written first), then
//! history files (`h`, left over from a rewrite and deleted soon), then the incr files (`i`) in
//! increasing sequence. Names follow `<appendfilename>.<seq>.base.rdb|aof` and
//! `<appendfilename>.<seq>.incr.aof`. The parser is Redis's: comment lines start with `#`, keys are
//! case-insensitive, unknown key/value pairs are ignored (forward compatibility), and every error
//! has Redis's text.

/// The longest line the manifest may hold (Redis's `MANIFEST_MAX_LINE`).
const MAX_LINE: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Base,
    History,
    Incr,
}

impl FileType {
    fn letter(self) -> char {
        match self {
            FileType::Base => 'b',
            FileType::History => 'h',
            FileType::Incr => 'i',
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AofInfo {
    pub name: String,
    pub seq: i64,
    pub kind: FileType,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<AofInfo>,
    pub history: Vec<AofInfo>,
    pub incr: Vec<AofInfo>,
    pub base_seq: i64,
    pub incr_seq: i64,
}

/// Why a manifest was refused: Redis's text, and the line it was read from (number, trimmed text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    pub line: Option<(usize, String)>,
    pub reason: &'static str,
}

impl Manifest {
    /// Parse a manifest's bytes.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, ManifestError> {
        let mut m = Manifest::default();
        let mut max_seq = 0i64;
        let mut lines = 0usize;
        let mut rest = bytes;
        while !rest.is_empty() {
            let (raw, next) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) if i < MAX_LINE => (&rest[..i + 1], &rest[i + 1..]),
                // A line with no newline within the limit (or at all: the last line must end).
                _ => (&rest[..rest.len().min(MAX_LINE)], &rest[rest.len().min(MAX_LINE)..]),
            };
            rest = next;
            lines += 1;
            if raw.first() == Some(&b'#') {
                continue;
            }
            let text = String::from_utf8_lossy(raw)
                .trim_matches([' ', '\t', '\r', '\n'])
                .to_string();
            let fail = |reason| ManifestError {
                line: Some((lines, text.clone())),
                reason,
            };
            if raw.last() != Some(&b'\n') {
                return Err(fail("The AOF manifest file contains too long line"));
            }
            if text.is_empty() {
                return Err(fail("Invalid AOF manifest file format"));
            }
            let args = split_args(&text).ok_or_else(|| fail("Invalid AOF manifest file format"))?;
            if args.len() < 6 || args.len() % 2 != 0 {
                return Err(fail("Invalid AOF manifest file format"));
            }
            let (mut name, mut seq, mut kind) = (None, 0i64, None);
            for pair in args.chunks(2) {
                let key = String::from_utf8_lossy(&pair[0]).to_ascii_lowercase();
                match key.as_str() {
                    "file" => {
                        let n = String::from_utf8_lossy(&pair[1]).into_owned();
                        if n.contains('/') {
                            return Err(fail("File can't be a path, just a filename"));
                        }
                        name = Some(n);
                    }
                    "seq" => seq = crate::config::parse::strtoll(&pair[1], 10).0,
                    "type" => kind = pair[1].first().copied(),
                    _ => {}
                }
            }
            let (Some(name), Some(kind)) = (name.filter(|n| !n.is_empty()), kind) else {
                return Err(fail("Invalid AOF manifest file format"));
            };
            if seq == 0 {
                return Err(fail("Invalid AOF manifest file format"));
            }
            match kind {
                b'b' => {
                    if m.base.is_some() {
                        return Err(fail("Found duplicate base file information"));
                    }
                    m.base_seq = seq;
                    m.base = Some(AofInfo {
                        name,
                        seq,
                        kind: FileType::Base,
                    });
                }
                b'h' => m.history.push(AofInfo {
                    name,
                    seq,
                    kind: FileType::History,
                }),
                b'i' => {
                    if seq <= max_seq {
                        return Err(fail("Found a non-monotonic sequence number"));
                    }
                    max_seq = seq;
                    m.incr_seq = seq;
                    m.incr.push(AofInfo {
                        name,
                        seq,
                        kind: FileType::Incr,
                    });
                }
                _ => return Err(fail("Unknown AOF file type")),
            }
        }
        if lines == 0 {
            return Err(ManifestError {
                line: None,
                reason: "Found an empty AOF manifest",
            });
        }
        Ok(m)
    }

    /// The manifest's text: base, history, then incr files.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for f in self.base.iter().chain(&self.history).chain(&self.incr) {
            let name = if needs_quoting(&f.name) {
                crate::config::parse::repr(f.name.as_bytes())
            } else {
                f.name.clone()
            };
            out.push_str(&format!("file {name} seq {} type {}\n", f.seq, f.kind.letter()));
        }
        out
    }

    /// A new base file for the next rewrite; the current one becomes history. Returns its name.
    pub fn new_base(&mut self, filename: &str, rdb: bool) -> String {
        if let Some(mut old) = self.base.take() {
            old.kind = FileType::History;
            self.history.insert(0, old);
        }
        self.base_seq += 1;
        let name = format!("{filename}.{}.base.{}", self.base_seq, if rdb { "rdb" } else { "aof" });
        self.base = Some(AofInfo {
            name: name.clone(),
            seq: self.base_seq,
            kind: FileType::Base,
        });
        name
    }

    /// A new incr file at the end of the list. Returns its name.
    pub fn new_incr(&mut self, filename: &str) -> String {
        self.incr_seq += 1;
        let name = format!("{filename}.{}.incr.aof", self.incr_seq);
        self.incr.push(AofInfo {
            name: name.clone(),
            seq: self.incr_seq,
            kind: FileType::Incr,
        });
        name
    }

    /// After a rewrite: every incr file but the last (`keep_last`: the one being written) becomes
    /// history, since the new base holds what they held.
    pub fn retire_incr(&mut self, keep_last: bool) {
        let keep = usize::from(keep_last && !self.incr.is_empty());
        let retired = self.incr.len() - keep;
        for mut f in self.incr.drain(..retired).rev() {
            f.kind = FileType::History;
            self.history.insert(0, f);
        }
    }

    /// The files that hold the dataset, in load order (base first).
    pub fn data_files(&self) -> impl Iterator<Item = &AofInfo> {
        self.base.iter().chain(&self.incr)
    }
}

/// Whether a name must be quoted in the manifest (Redis's `sdsneedsrepr`).
fn needs_quoting(name: &str) -> bool {
    name.bytes()
        .any(|b| matches!(b, b'\\' | b'"' | b'\n' | b'\r' | b'\t' | 0x07 | 0x08 | b' ') || !(0x20..0x7f).contains(&b))
}

/// Split a line into arguments the way Redis's `sdssplitargs` does (quotes and escapes); `None` for
/// unbalanced quotes.
fn split_args(line: &str) -> Option<Vec<Vec<u8>>> {
    crate::config::parse::split_args(line.as_bytes()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rotation() {
        let text = "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n";
        let mut m = Manifest::parse(text.as_bytes()).unwrap();
        assert_eq!(m.to_text(), text);
        assert_eq!(m.new_incr("appendonly.aof"), "appendonly.aof.2.incr.aof");
        assert_eq!(m.new_base("appendonly.aof", false), "appendonly.aof.2.base.aof");
        m.retire_incr(true);
        assert_eq!(
            m.to_text(),
            // Redis's order: each file that becomes history goes to the front of the list.
            "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\n\
             file appendonly.aof.1.base.rdb seq 1 type h\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
        );
        let names: Vec<_> = m.data_files().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["appendonly.aof.2.base.aof", "appendonly.aof.2.incr.aof"]);
    }

    #[test]
    fn quoted_names_and_comments() {
        let m = Manifest {
            base: Some(AofInfo {
                name: "a b.aof".into(),
                seq: 3,
                kind: FileType::Base,
            }),
            base_seq: 3,
            ..Manifest::default()
        };
        let text = m.to_text();
        assert_eq!(text, "file \"a b.aof\" seq 3 type b\n");
        let back = Manifest::parse(format!("# comment\n{text}").as_bytes()).unwrap();
        assert_eq!(back.base, m.base);
    }

    #[test]
    fn errors_have_redis_texts() {
        let err = |t: &str| Manifest::parse(t.as_bytes()).unwrap_err().reason;
        assert_eq!(err(""), "Found an empty AOF manifest");
        assert_eq!(err("\n"), "Invalid AOF manifest file format");
        assert_eq!(err("file a seq 1\n"), "Invalid AOF manifest file format");
        assert_eq!(err("file a seq 1 type x\n"), "Unknown AOF file type");
        assert_eq!(err("file a/b seq 1 type b\n"), "File can't be a path, just a filename");
        assert_eq!(
            err("file a seq 1 type b\nfile b seq 2 type b\n"),
            "Found duplicate base file information"
        );
        assert_eq!(
            err("file a seq 2 type i\nfile b seq 2 type i\n"),
            "Found a non-monotonic sequence number"
        );
        assert_eq!(
            err("file a seq 1 type b"),
            "The AOF manifest file contains too long line"
        );
        let long = format!("file {} seq 1 type b\n", "x".repeat(1100));
        assert_eq!(err(&long), "The AOF manifest file contains too long line");
        assert_eq!(err("file a seq 0 type b\n"), "Invalid AOF manifest file format");
    }
}
