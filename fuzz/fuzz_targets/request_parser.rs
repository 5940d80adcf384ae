//! Feed arbitrary bytes to the request parser, cut where the first byte says, the way the server feeds
//! reads: no input may panic, loop forever or report consuming more than it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use resp::{Frame, Limits, Parsed, RequestParser};

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, rest)) = data.split_first() else { return };
    let limits = Limits { max_bulk_len: 1 << 16, authenticated: ctl & 1 == 0, trusted: false };
    let step = (ctl as usize >> 1).max(1);
    let mut parser = RequestParser::new();
    let mut frame = Frame::new();
    let mut pending = Vec::new();
    for chunk in rest.chunks(step) {
        pending.extend_from_slice(chunk);
        let mut pos = 0;
        loop {
            match parser.parse(&pending[pos..], &limits, &mut frame) {
                Ok(Parsed::Complete(n)) => {
                    assert!(n > 0 && pos + n <= pending.len());
                    let req = &pending[pos..pos + n];
                    for i in 0..frame.len() {
                        let _ = frame.arg(req, i);
                    }
                    pos += n;
                }
                Ok(Parsed::Incomplete { need }) => {
                    assert!(need > 0);
                    break;
                }
                Err(_) => return,
            }
        }
        pending.drain(..pos);
    }
});
