//! Property tests of the request parser and the reply encoder.
//!
//! - valid request streams, cut into random pieces and fed the way the server feeds them (append, parse
//!   every complete request, keep the rest), come back exactly;
//! - arbitrary bytes never make the parser panic, loop, or claim more bytes than it was given;
//! - every reply the encoder writes parses back as the value it meant, in both protocols.

use proptest::prelude::*;
use resp::value::{parse as parse_value, Value};
use resp::{Frame, Limits, Parsed, Protocol, ReplyBuf, RequestParser};

fn encode(cmd: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", cmd.len()).into_bytes();
    for a in cmd {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Feed `chunks` to a parser the way the server does; returns the parsed requests or the first error.
fn feed(chunks: &[Vec<u8>], limits: &Limits) -> Result<Vec<Vec<Vec<u8>>>, resp::ProtocolError> {
    let mut parser = RequestParser::new();
    let mut frame = Frame::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut out = vec![];
    for chunk in chunks {
        pending.extend_from_slice(chunk);
        let mut pos = 0;
        loop {
            match parser.parse(&pending[pos..], limits, &mut frame)? {
                Parsed::Complete(n) => {
                    assert!(n > 0 && pos + n <= pending.len());
                    let req = &pending[pos..pos + n];
                    if !frame.is_empty() {
                        out.push((0..frame.len()).map(|i| frame.arg(req, i).to_vec()).collect());
                    }
                    pos += n;
                }
                Parsed::Incomplete { need } => {
                    assert!(need > 0);
                    break;
                }
            }
            if pos == pending.len() && !parser.in_request() {
                break;
            }
        }
        pending.drain(..pos);
    }
    Ok(out)
}

fn split(data: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    points.sort_unstable();
    points.dedup();
    let mut chunks = vec![];
    let mut last = 0;
    for p in points {
        chunks.push(data[last..p].to_vec());
        last = p;
    }
    chunks.push(data[last..].to_vec());
    chunks
}

fn arg() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..40),
        prop::collection::vec(any::<u8>(), 0..3000),
        Just(b"\r\n*1\r\n$".to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn valid_streams_survive_any_split(
        cmds in prop::collection::vec(prop::collection::vec(arg(), 1..8), 1..10),
        cuts in prop::collection::vec(any::<usize>(), 0..30),
    ) {
        let mut stream = vec![];
        for c in &cmds {
            stream.extend(encode(c));
        }
        let got = feed(&split(&stream, &cuts), &Limits::default()).expect("valid stream");
        prop_assert_eq!(got, cmds);
    }

    #[test]
    fn inline_commands_split_on_blanks(
        cmds in prop::collection::vec(prop::collection::vec("[a-zA-Z0-9:_.-]{1,12}", 1..6), 1..6),
        cuts in prop::collection::vec(any::<usize>(), 0..10),
    ) {
        let mut stream = vec![];
        for c in &cmds {
            stream.extend(c.join("  ").into_bytes());
            stream.extend(b"\r\n");
        }
        let got = feed(&split(&stream, &cuts), &Limits::default()).expect("valid inline stream");
        let want: Vec<Vec<Vec<u8>>> = cmds.iter().map(|c| c.iter().map(|a| a.as_bytes().to_vec()).collect()).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn garbage_never_panics(
        data in prop::collection::vec(any::<u8>(), 0..2000),
        prefix in prop_oneof![Just(&b""[..]), Just(&b"*"[..]), Just(&b"*2\r\n$"[..]), Just(&b"*1\r\n$3\r\n"[..])],
        cuts in prop::collection::vec(any::<usize>(), 0..8),
        authenticated in any::<bool>(),
    ) {
        let mut input = prefix.to_vec();
        input.extend(data);
        let limits = Limits { max_bulk_len: 1 << 20, authenticated, trusted: false };
        let _ = feed(&split(&input, &cuts), &limits);
    }

    #[test]
    fn bulk_lengths_are_checked_before_anything_is_reserved(len in 0u64..u64::MAX) {
        let header = format!("*1\r\n${len}\r\n");
        let limits = Limits { max_bulk_len: 512 * 1024 * 1024, authenticated: true, trusted: false };
        let r = feed(&[header.into_bytes()], &limits);
        if len > limits.max_bulk_len {
            prop_assert!(r.is_err());
        } else {
            prop_assert_eq!(r.expect("incomplete, not an error").len(), 0);
        }
    }

    #[test]
    fn replies_round_trip(ints in prop::collection::vec(any::<i64>(), 0..5),
                          blobs in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..50), 0..5),
                          d in any::<f64>(), resp3 in any::<bool>()) {
        let proto = if resp3 { Protocol::Resp3 } else { Protocol::Resp2 };
        let mut r = ReplyBuf::new(proto);
        r.array(ints.len() + blobs.len() + 2);
        for i in &ints { r.int(*i); }
        for b in &blobs { r.bulk(b); }
        r.null();
        r.double(d);
        let (v, n) = parse_value(&r.buf).expect("well-formed").expect("complete");
        prop_assert_eq!(n, r.buf.len());
        let Value::Array(items) = v else { panic!("not an array") };
        for (i, want) in ints.iter().enumerate() {
            prop_assert_eq!(&items[i], &Value::Int(*want));
        }
        for (j, want) in blobs.iter().enumerate() {
            prop_assert_eq!(&items[ints.len() + j], &Value::Bulk(want.clone()));
        }
        let null = &items[ints.len() + blobs.len()];
        prop_assert_eq!(null, if resp3 { &Value::Null } else { &Value::NullBulk });
    }
}
