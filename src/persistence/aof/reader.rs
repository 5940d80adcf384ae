//! Reading an AOF's commands: RESP arrays of bulk strings, one after the other, as Redis's
//! `loadSingleAppendOnlyFile` reads them.
//!
//! Lines (`*<argc>`, `$<len>`) are read as C's `fgets` with Redis's 1024-byte buffer; a line that
//! starts with `#` is an annotation (`#TS:<unix time>`) and is skipped. What is malformed is a
//! format error; what ends early is a truncation, which `aof-load-truncated` may accept by cutting
//! the file at the end of the last whole command. Lengths are checked against the bytes left in the
//! file before anything is allocated, so a corrupt length cannot reserve memory.

use std::io::{self, BufRead};

use crate::commands::OwnedArgs;

/// Redis's `AOF_ANNOTATION_LINE_MAX_LEN`: the `fgets` buffer, so a line is at most 1023 bytes.
const LINE_MAX: usize = 1024;

#[derive(Debug)]
pub enum ReadError {
    /// The file ends inside a command.
    Truncated,
    /// Bytes that are not a command.
    Format,
    Io(io::Error),
}

/// Commands from an AOF file (or the part of it after an RDB preamble).
pub struct CommandReader<R> {
    r: R,
    /// Offset of the next unread byte.
    pos: u64,
    /// The file's size (lengths beyond it are truncations, not allocations).
    size: u64,
    line: Vec<u8>,
}

impl<R: BufRead> CommandReader<R> {
    /// `r` reads from offset `pos` of a file of `size` bytes.
    pub fn new(r: R, pos: u64, size: u64) -> CommandReader<R> {
        CommandReader {
            r,
            pos,
            size,
            line: Vec::with_capacity(64),
        }
    }

    /// The offset after the last command read.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The next command into `args` (cleared first); false at a clean end of file.
    pub fn next_command(&mut self, args: &mut OwnedArgs) -> Result<bool, ReadError> {
        args.clear();
        let argc = loop {
            if !self.read_line()? {
                return Ok(false);
            }
            match self.line.first() {
                Some(b'#') => continue,
                Some(b'*') => {}
                _ => return Err(ReadError::Format),
            }
            // `*` alone at the end of the file is a short read in Redis (its buf[1] is NUL).
            if self.line.len() == 1 {
                return Err(ReadError::Truncated);
            }
            break atoi(&self.line[1..]);
        };
        if argc < 1 {
            return Err(ReadError::Format);
        }
        for _ in 0..argc {
            if !self.read_line()? {
                return Err(ReadError::Truncated);
            }
            if self.line.first() != Some(&b'$') {
                return Err(ReadError::Format);
            }
            let len = atoi(&self.line[1..]);
            // strtol's negative lengths become huge unsigned ones in Redis: a short read.
            let len = u64::try_from(len).map_err(|_| ReadError::Truncated)?;
            if len.saturating_add(2) > self.size.saturating_sub(self.pos) {
                return Err(ReadError::Truncated);
            }
            let (r, pos) = (&mut self.r, &mut self.pos);
            read_exact(r, pos, args.push_zeroed(len as usize))?;
            // The CRLF after the bytes is skipped unchecked, as Redis does.
            read_exact(r, pos, &mut [0u8; 2])?;
        }
        Ok(true)
    }

    /// One `fgets` line into `self.line` (newline kept out); false at end of file.
    fn read_line(&mut self) -> Result<bool, ReadError> {
        self.line.clear();
        loop {
            let buf = self.r.fill_buf().map_err(ReadError::Io)?;
            if buf.is_empty() {
                return Ok(!self.line.is_empty());
            }
            let room = LINE_MAX - 1 - self.line.len();
            let take = buf.len().min(room);
            match buf[..take].iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.line.extend_from_slice(&buf[..i]);
                    self.r.consume(i + 1);
                    self.pos += i as u64 + 1;
                    return Ok(true);
                }
                None => {
                    self.line.extend_from_slice(&buf[..take]);
                    self.r.consume(take);
                    self.pos += take as u64;
                    if self.line.len() == LINE_MAX - 1 {
                        return Ok(true);
                    }
                }
            }
        }
    }
}

fn read_exact(r: &mut impl BufRead, pos: &mut u64, out: &mut [u8]) -> Result<(), ReadError> {
    match r.read_exact(out) {
        Ok(()) => {
            *pos += out.len() as u64;
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(ReadError::Truncated),
        Err(e) => Err(ReadError::Io(e)),
    }
}

/// C's `atoi`/`strtol` on a line: the number at its start, the rest ignored (0 when none).
fn atoi(b: &[u8]) -> i64 {
    crate::config::parse::strtoll(b, 10).0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8]) -> (Vec<Vec<String>>, Option<ReadError>, u64) {
        let mut r = CommandReader::new(bytes, 0, bytes.len() as u64);
        let mut out = vec![];
        let mut args = OwnedArgs::default();
        loop {
            let valid = r.position();
            match r.next_command(&mut args) {
                Ok(true) => out.push(
                    args.view()
                        .iter()
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect(),
                ),
                Ok(false) => return (out, None, valid),
                Err(e) => return (out, Some(e), valid),
            }
        }
    }

    #[test]
    fn commands_annotations_and_truncation() {
        let file = b"#TS:1700000000\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$1\r\nk\r\n$2\r\nvv\r\n";
        let (cmds, err, _) = read_all(file);
        assert!(err.is_none());
        assert_eq!(cmds, [vec!["SELECT", "0"], vec!["set", "k", "vv"]]);
        // Every cut inside the second command is a truncation after the first one.
        let first_end = 16 + 23;
        for cut in first_end + 1..file.len() {
            let (cmds, err, valid) = read_all(&file[..cut]);
            assert_eq!(cmds.len(), 1, "cut at {cut}");
            assert!(matches!(err, Some(ReadError::Truncated)), "cut at {cut}: {err:?}");
            assert_eq!(valid as usize, first_end);
        }
    }

    #[test]
    fn format_errors_and_huge_lengths() {
        assert!(matches!(read_all(b"SET k v\r\n").1, Some(ReadError::Format)));
        assert!(matches!(read_all(b"*0\r\n").1, Some(ReadError::Format)));
        assert!(matches!(read_all(b"*1\r\n:1\r\n").1, Some(ReadError::Format)));
        // A length far beyond the file is a short read, never an allocation.
        assert!(matches!(
            read_all(b"*1\r\n$999999999999999\r\nab\r\n").1,
            Some(ReadError::Truncated)
        ));
        assert!(matches!(read_all(b"*1\r\n$-5\r\n").1, Some(ReadError::Truncated)));
    }
}
