//! Small helpers shared by several layers.

pub mod glob;
pub mod int_text;
pub mod ldouble;

/// The SHA1 of `data` as 40 lowercase hex digits (script names, `redis.sha1hex`).
pub fn sha1_hex(data: &[u8]) -> String {
    use sha1::{Digest, Sha1};
    let digest = Sha1::digest(data);
    let mut s = String::with_capacity(40);
    for b in digest {
        s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        s.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    s
}
