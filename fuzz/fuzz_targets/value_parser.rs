//! Arbitrary bytes into the RESP value parser (what clients and tools read from a server).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((_, n))) = resp::value::parse(data) {
        assert!(n <= data.len());
    }
});
