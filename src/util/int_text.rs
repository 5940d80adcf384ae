//! Integers as decimal text without a heap allocation.

/// An i64 printed in decimal, on the stack (an `int`-encoded value, or a listpack integer, seen as bytes).
#[derive(Clone, Copy)]
pub struct IntText {
    buf: [u8; 20],
    start: u8,
}

impl IntText {
    pub fn new(v: i64) -> IntText {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        let mut n = v.unsigned_abs();
        loop {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        if v < 0 {
            i -= 1;
            buf[i] = b'-';
        }
        IntText { buf, start: i as u8 }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start as usize..]
    }
}

impl AsRef<[u8]> for IntText {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}
