//! Redis 7.0's append-only file: the manifest of a multi-part AOF (`manifest`), reading commands back
//! (`reader`), and a dataset written as commands for a rewrite's base file (`rewrite`). Commands are
//! RESP arrays of bulk strings, the same bytes the journal streams (`array`, `bulk`, `command`).

pub mod manifest;
pub mod reader;
pub mod rewrite;

/// Append a command's array header.
#[inline]
pub fn array(out: &mut Vec<u8>, n: usize) {
    out.push(b'*');
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Append one argument.
#[inline]
pub fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    out.push(b'$');
    out.extend_from_slice(itoa::Buffer::new().format(b.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

/// Append a whole command.
pub fn command(out: &mut Vec<u8>, args: &[&[u8]]) {
    array(out, args.len());
    for a in args {
        bulk(out, a);
    }
}
