//! Differential test: the same Lua snippets run in a fresh mlua VM with `ferrite_lualib::open_all`
//! and through `EVAL` on a real `redis-server` 7.0, compared byte for byte.
//!
//! Every snippet runs inside `pcall` under a small serializer (`SERIALIZER` below, the same text on
//! both sides), so the reply is one string that captures each returned value's type and exact value
//! (`%.17g` numbers, hex for binary strings, sorted table contents, `null` for `cjson.null`) or the
//! exact error message. The snippet list is `vs_redis_snippets.txt` (one per line; `!` marks a
//! snippet that changes the global `cjson` configuration, after which Redis's scripting VM is reset
//! with `SCRIPT FLUSH`), followed by seeded random cases from `random_snippets`: random nested
//! tables through `cjson.encode`/`decode` and `cmsgpack.pack`/`unpack` (also truncated or with a
//! byte changed), random JSON-like text, random msgpack bytes, nesting around the limits, sparse
//! arrays under random settings, random `bit` calls and random `struct` formats.
//!
//! `LUALIB_SEED` and `LUALIB_RANDOM` (default 3000) choose the random cases; `LUALIB_TRACE` prints
//! each case before it runs, `LUALIB_SHOW` each case with its result.
//!
//! Without `redis-server` on the PATH the test prints a line and passes, unless
//! `FERRITE_REQUIRE_REDIS=1`. Every wait has a deadline, and the server is killed on drop.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SERIALIZER: &str = r##"local function S(v, d)
  d = d or 0
  local t = type(v)
  if t == "nil" then return "nil"
  elseif t == "boolean" then return tostring(v)
  elseif t == "number" then return "n:" .. string.format("%.17g", v)
  elseif t == "string" then
    if v:find("[^\32-\126]") then return "x:" .. (v:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
    return string.format("%q", v)
  elseif t == "table" then
    if d > 20 then return "{...}" end
    local ks = {}
    for k, val in pairs(v) do ks[#ks + 1] = S(k, d + 1) .. "=" .. S(val, d + 1) end
    table.sort(ks)
    return "{#" .. #v .. ":" .. table.concat(ks, ",") .. "}"
  elseif t == "userdata" then
    if v == cjson.null then return "null" end
    return "userdata"
  else return t end
end
local function R(...)
  local out = {}
  for i = 1, select("#", ...) do out[i] = S((select(i, ...))) end
  return table.concat(out, " ")
end
return R(pcall(function()
"##;

fn wrap(snippet: &str) -> String {
    format!("{SERIALIZER}{snippet}\nend))")
}

/// A reply reduced to comparable bytes.
fn reply_bytes(kind: &str, body: &[u8]) -> Vec<u8> {
    let mut v = kind.as_bytes().to_vec();
    v.push(b':');
    v.extend_from_slice(body);
    v
}

fn run_local(script: &str) -> Vec<u8> {
    let lua = mlua::Lua::new();
    if let Err(e) = ferrite_lualib::open_all(&lua) {
        return reply_bytes("open-error", e.to_string().as_bytes());
    }
    match lua.load(script).set_name("@user_script").call::<mlua::Value>(()) {
        Ok(mlua::Value::String(s)) => reply_bytes("bulk", &s.as_bytes()),
        Ok(other) => reply_bytes("other", format!("{other:?}").as_bytes()),
        Err(e) => reply_bytes("err", e.to_string().as_bytes()),
    }
}

/// A `redis-server` child, killed (and reaped) on drop.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Redis {
    conn: BufReader<TcpStream>,
    _child: Child,
}

impl Redis {
    /// Starts a server on a free port (a few tries, in case another process takes the port first).
    fn start() -> Option<Redis> {
        (0..3).find_map(|_| Redis::start_once())
    }

    fn start_once() -> Option<Redis> {
        // Ask the OS for a free port, then hand it to redis-server.
        let port = TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let mut child = Child(
            Command::new("redis-server")
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .args(["--daemonize", "no", "--loglevel", "warning", "--protected-mode", "no"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .ok()?,
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        let stream = loop {
            if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) {
                break stream;
            }
            // A server that exited (the port was taken) will not answer.
            if Instant::now() > deadline || !matches!(child.0.try_wait(), Ok(None)) {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        stream.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
        stream.set_write_timeout(Some(Duration::from_secs(60))).ok()?;
        let mut r = Redis {
            conn: BufReader::new(stream),
            _child: child,
        };
        (r.command(&[b"PING"]).ok()? == reply_bytes("simple", b"PONG")).then_some(r)
    }

    fn command(&mut self, args: &[&[u8]]) -> std::io::Result<Vec<u8>> {
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            req.extend_from_slice(a);
            req.extend_from_slice(b"\r\n");
        }
        self.conn.get_mut().write_all(&req)?;
        self.read_reply()
    }

    fn read_line(&mut self) -> std::io::Result<Vec<u8>> {
        let mut line = Vec::new();
        self.conn.read_until(b'\n', &mut line)?;
        if line.ends_with(b"\r\n") {
            line.truncate(line.len() - 2);
            Ok(line)
        } else {
            Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "short reply"))
        }
    }

    fn read_reply(&mut self) -> std::io::Result<Vec<u8>> {
        let line = self.read_line()?;
        let (kind, rest) = line.split_first().ok_or_else(|| std::io::Error::other("empty reply"))?;
        let num = || -> std::io::Result<i64> {
            std::str::from_utf8(rest)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| std::io::Error::other("bad length"))
        };
        Ok(match kind {
            b'+' => reply_bytes("simple", rest),
            b'-' => reply_bytes("error", rest),
            b':' => reply_bytes("int", rest),
            b'$' => {
                let n = num()?;
                if n < 0 {
                    reply_bytes("nil", b"")
                } else {
                    let mut buf = vec![0u8; n as usize + 2];
                    std::io::Read::read_exact(&mut self.conn, &mut buf)?;
                    buf.truncate(n as usize);
                    reply_bytes("bulk", &buf)
                }
            }
            b'*' => {
                let n = num()?;
                let mut out = reply_bytes("array", n.to_string().as_bytes());
                for _ in 0..n.max(0) {
                    out.push(b' ');
                    out.extend(self.read_reply()?);
                }
                out
            }
            _ => return Err(std::io::Error::other("unknown reply type")),
        })
    }

    fn eval(&mut self, script: &str) -> Vec<u8> {
        self.command(&[b"EVAL", script.as_bytes(), b"0"])
            .unwrap_or_else(|e| reply_bytes("io-error", e.to_string().as_bytes()))
    }
}

/// A small deterministic generator (xorshift64*), so failures reproduce from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A Lua expression for `x` that evaluates to exactly `x`.
fn lua_number(x: f64) -> String {
    if x.is_nan() {
        "(0/0)".into()
    } else if x.is_infinite() {
        if x > 0.0 {
            "(1/0)".into()
        } else {
            "(-1/0)".into()
        }
    } else if x == 0.0 && x.is_sign_negative() {
        "(-(0))".into()
    } else {
        format!("({x:e})")
    }
}

/// A Lua string literal for arbitrary bytes.
fn lua_string(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for &b in bytes {
        if (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\' {
            s.push(b as char);
        } else {
            s.push_str(&format!("\\{b:03}"));
        }
    }
    s.push('"');
    s
}

fn random_number(rng: &mut Rng) -> f64 {
    const SPECIAL: [f64; 30] = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        0.1,
        127.0,
        128.0,
        255.0,
        256.0,
        65535.0,
        65536.0,
        -32.0,
        -33.0,
        -128.0,
        -129.0,
        -32768.0,
        -32769.0,
        2147483647.0,
        2147483648.0,
        -2147483648.0,
        -2147483649.0,
        4294967295.0,
        4294967296.0,
        9007199254740992.0,
        9007199254740993.0,
        9_223_372_036_854_775_808.0,
        -9_223_372_036_854_775_808.0,
        1e300,
        1e-300,
    ];
    match rng.below(8) {
        0 | 1 => *rng.pick(&SPECIAL),
        2 => rng.below(300) as f64 - 150.0,
        3 => (rng.next() as i64 >> rng.below(64)) as f64,
        4 => f64::from_bits(rng.next()),
        5 => (rng.below(2_000_000) as f64 - 1_000_000.0) / 1000.0,
        6 => *rng.pick(&[
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            3.4028234663852886e38,
            1.401298464324817e-45,
        ]),
        _ => (rng.next() >> 11) as f64 * 2f64.powi(rng.below(200) as i32 - 100),
    }
}

fn random_bytes(rng: &mut Rng, max: u64) -> Vec<u8> {
    let len = rng.below(max + 1) as usize;
    let alphabet: &[u8] = if rng.chance(50) {
        b"abcAZ09 _\"\\/\n\t\r\x00\x01\x1f\x7f\xc3\xa9\xff{}[]:,"
    } else {
        b"abcdefgh"
    };
    (0..len)
        .map(|_| {
            if rng.chance(10) {
                rng.next() as u8
            } else {
                *rng.pick(alphabet)
            }
        })
        .collect()
}

/// A random Lua value expression: nested tables (arrays, maps, mixed, sparse), numbers, strings,
/// booleans, `cjson.null`.
fn random_value(rng: &mut Rng, depth: u32) -> String {
    let kind = if depth >= 4 { rng.below(6) } else { rng.below(10) };
    match kind {
        0 | 1 => lua_number(random_number(rng)),
        2 | 3 => lua_string(&random_bytes(rng, 40)),
        4 => rng.pick(&["true", "false", "cjson.null"]).to_string(),
        5 => lua_string(&random_bytes(rng, 300)),
        6 | 7 => {
            let max = if rng.chance(10) { 40 } else { 6 };
            let n = rng.below(max);
            let items: Vec<String> = (0..n).map(|_| random_value(rng, depth + 1)).collect();
            format!("{{{}}}", items.join(","))
        }
        _ => {
            let max = if rng.chance(10) { 30 } else { 6 };
            let n = rng.below(max);
            let items: Vec<String> = (0..n)
                .map(|_| {
                    let key = match rng.below(4) {
                        0 => lua_number(rng.below(30) as f64 + 1.0),
                        1 => lua_number(random_number(rng)),
                        _ => lua_string(&random_bytes(rng, 12)),
                    };
                    format!("[{key}]={}", random_value(rng, depth + 1))
                })
                .collect();
            // A NaN key would fail in the constructor on both sides; keep the test about the libraries.
            let items: Vec<String> = items.into_iter().filter(|i| !i.starts_with("[(0/0)]")).collect();
            format!("{{{}}}", items.join(","))
        }
    }
}

fn pick_bytes<'a>(rng: &mut Rng, items: &[&'a [u8]]) -> &'a [u8] {
    items[rng.below(items.len() as u64) as usize]
}

fn random_json(rng: &mut Rng, depth: u32) -> Vec<u8> {
    let mut out = Vec::new();
    match rng.below(if depth > 3 { 5 } else { 8 }) {
        0 => out.extend_from_slice(pick_bytes(
            rng,
            &[
                &b"1"[..],
                b"-0",
                b"1e5",
                b"0.5",
                b"-1.5E-3",
                b"12345678901234567890",
                b"1e400",
                b"0x1F",
                b"+1",
                b"01",
                b"-",
                b"NaN",
                b"-Infinity",
                b"inf",
                b"nan(12)",
                b"2.",
                b".5",
                b"1e",
                b"1e+",
            ],
        )),
        1 => {
            out.push(b'"');
            for _ in 0..rng.below(10) {
                out.extend_from_slice(pick_bytes(
                    rng,
                    &[
                        &b"a"[..],
                        b"\\n",
                        b"\\u00e9",
                        b"\\ud83d\\ude00",
                        b"\\ud800",
                        b"\\udc00",
                        b"\\u12",
                        b"\\x",
                        b"\\/",
                        b"\\\\",
                        b"\\\"",
                        b"\xc3\xa9",
                        b"\x01",
                        b" ",
                    ],
                ));
            }
            if rng.chance(90) {
                out.push(b'"');
            }
        }
        2 => out.extend_from_slice(pick_bytes(
            rng,
            &[&b"true"[..], b"false", b"null", b"tru", b"nul", b"truex", b"True"],
        )),
        3 | 4 => out.extend_from_slice(pick_bytes(
            rng,
            &[&b" "[..], b"\t", b"\n", b"", b"x", b"\x00", b",", b":", b"]", b"}"],
        )),
        5 | 6 => {
            out.push(b'[');
            let n = rng.below(5);
            for i in 0..n {
                if i > 0 || rng.chance(5) {
                    out.push(b',');
                }
                out.extend(random_json(rng, depth + 1));
            }
            if rng.chance(90) {
                out.push(b']');
            }
        }
        _ => {
            out.push(b'{');
            let n = rng.below(5);
            for i in 0..n {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(pick_bytes(
                    rng,
                    &[&b"\"k\""[..], b"\"a\\u0000b\"", b"\"\"", b"1", b"\"k2\""],
                ));
                if rng.chance(95) {
                    out.push(b':');
                }
                out.extend(random_json(rng, depth + 1));
            }
            if rng.chance(90) {
                out.push(b'}');
            }
        }
    }
    out
}

fn random_struct_format(rng: &mut Rng) -> (String, Vec<String>) {
    let mut fmt = String::new();
    let mut args = Vec::new();
    for _ in 0..rng.below(6) + 1 {
        let opt = *rng.pick(&[
            "b", "B", "h", "H", "l", "L", "T", "i", "I", "f", "d", "x", "c", "s", "<", ">", "!", " ",
        ]);
        fmt.push_str(opt);
        let count = match opt {
            "i" | "I" if rng.chance(60) => Some(rng.below(17)),
            "c" if rng.chance(70) => Some(rng.below(6)),
            "!" if rng.chance(70) => Some(1 << rng.below(5)),
            _ => None,
        };
        if let Some(c) = count {
            fmt.push_str(&c.to_string());
        }
        match opt {
            "c" | "s" => args.push(lua_string(&random_bytes(rng, 8))),
            "x" | "<" | ">" | "!" | " " => {}
            _ => args.push(lua_number(random_number(rng))),
        }
    }
    (fmt, args)
}

fn random_snippets(seed: u64, count: usize) -> Vec<String> {
    let mut rng = Rng(seed | 1);
    let mut out = Vec::new();
    let bit_fns = [
        "tobit", "bnot", "bswap", "band", "bor", "bxor", "lshift", "rshift", "arshift", "rol", "ror", "tohex",
    ];
    while out.len() < count {
        let s = match rng.below(16) {
            12 => {
                // A valid packing, then truncated or with one byte changed.
                let cut = rng.below(60) + 1;
                let (pos, byte) = (rng.below(40) + 1, rng.below(256));
                let v = random_value(&mut rng, 0);
                if rng.chance(50) {
                    format!("local s = cmsgpack.pack({v}) return cmsgpack.unpack(s:sub(1, #s - {cut}))")
                } else {
                    format!("local s = cmsgpack.pack({v}) local p = {pos} % #s + 1 return cmsgpack.unpack(s:sub(1, p - 1) .. string.char({byte}) .. s:sub(p + 1))")
                }
            }
            13 => {
                // A valid encoding, then truncated or with one byte changed.
                let cut = rng.below(30) + 1;
                let pos = rng.below(60) + 1;
                let byte = *rng.pick(&[
                    b'"', b'\\', b',', b':', b'[', b']', b'{', b'}', b'0', b'-', b'e', b'u', b'n', b' ', 0u8, 0xff,
                ]);
                let v = random_value(&mut rng, 0);
                let c = "local c = cjson.new() c.encode_invalid_numbers(true) ";
                if rng.chance(50) {
                    format!("{c}local s = c.encode({v}) return cjson.decode(s:sub(1, #s - {cut}))")
                } else {
                    format!("{c}local s = c.encode({v}) local p = {pos} % #s + 1 return cjson.decode(s:sub(1, p - 1) .. string.char({byte}) .. s:sub(p + 1))")
                }
            }
            14 => {
                // Nesting around the limits: cmsgpack's 16 levels, a small cjson depth.
                let depth = rng.below(6) + 13;
                let mut v = random_value(&mut rng, 4);
                for _ in 0..depth {
                    v = match rng.below(3) {
                        0 => format!("{{{v}}}"),
                        1 => format!("{{k = {v}, [{}] = 1}}", lua_number(random_number(&mut rng))),
                        _ => format!("{{[{v}] = 1}}"),
                    };
                }
                let max = rng.below(20) + 1;
                format!("local v = {v} local c = cjson.new() c.encode_max_depth({max}) local s = cmsgpack.pack(v) return s, cmsgpack.unpack(s), pcall(c.encode, v)")
            }
            15 => {
                // Sparse arrays and their settings.
                let n = rng.below(8);
                let keys: Vec<String> = (0..n)
                    .map(|_| format!("[{}] = {}", rng.below(40) + 1, rng.below(9)))
                    .collect();
                let (convert, ratio, safe) = (rng.chance(50), rng.below(5), rng.below(15));
                format!("local c = cjson.new() c.encode_sparse_array({convert}, {ratio}, {safe}) local t = {{{}}} return c.encode(t), cmsgpack.pack(t)", keys.join(", "))
            }
            0 | 1 => format!("return cjson.encode({})", random_value(&mut rng, 0)),
            2 => format!(
                "local s = cjson.encode({}) return s, cjson.decode(s)",
                random_value(&mut rng, 0)
            ),
            3 => {
                let c = [
                    "",
                    "c.encode_sparse_array(true) ",
                    "c.encode_sparse_array(false, 1, 0) ",
                    "c.encode_invalid_numbers(true) ",
                    "c.encode_invalid_numbers('null') ",
                    "c.encode_number_precision(5) ",
                    "c.encode_max_depth(3) ",
                ];
                let cfg = *rng.pick(&c);
                format!(
                    "local c = cjson.new() {cfg}return c.encode({})",
                    random_value(&mut rng, 0)
                )
            }
            4 => format!("return cjson.decode({})", lua_string(&random_json(&mut rng, 0))),
            5 => format!(
                "local c = cjson.new() c.decode_invalid_numbers(false) return c.decode({})",
                lua_string(&random_json(&mut rng, 0))
            ),
            6 => format!(
                "local s = cmsgpack.pack({}) return s, cmsgpack.unpack(s)",
                random_value(&mut rng, 0)
            ),
            7 => {
                let mut bytes = random_bytes(&mut rng, 20);
                if rng.chance(50) {
                    // Mostly valid headers with short or long bodies.
                    bytes.insert(
                        0,
                        *rng.pick(&[
                            0x91, 0x92, 0x81, 0xdc, 0xde, 0xd9, 0xda, 0xcb, 0xca, 0xcf, 0xd3, 0xc4, 0xa3, 0x9f, 0x8f,
                        ]),
                    );
                }
                let f = *rng.pick(&[
                    "cmsgpack.unpack(s)",
                    "cmsgpack.unpack_one(s)",
                    "cmsgpack.unpack_one(s, 1)",
                    "cmsgpack.unpack_limit(s, 2)",
                    "cmsgpack.unpack_limit(s, 1, 2)",
                ]);
                format!("local s = {} return {f}", lua_string(&bytes))
            }
            8 | 9 => {
                let f = *rng.pick(&bit_fns);
                let n = if matches!(f, "band" | "bor" | "bxor") {
                    rng.below(4) + 1
                } else if f == "tohex" {
                    rng.below(2) + 1
                } else {
                    2
                };
                let args: Vec<String> = (0..n)
                    .map(|_| {
                        if rng.chance(5) {
                            rng.pick(&["'12'", "'x'", "nil", "{}", "' 0x10 '"]).to_string()
                        } else {
                            lua_number(random_number(&mut rng))
                        }
                    })
                    .collect();
                format!("return bit.{f}({})", args.join(", "))
            }
            _ => {
                let (fmt, mut args) = random_struct_format(&mut rng);
                if rng.chance(10) && !args.is_empty() {
                    args.pop();
                }
                format!(
                    "local f = {} local s = struct.pack(f{}) return s, struct.size(f), struct.unpack(f, s)",
                    lua_string(fmt.as_bytes()),
                    args.iter().map(|a| format!(", {a}")).collect::<String>()
                )
            }
        };
        out.push(s);
    }
    out
}

#[test]
fn libraries_match_redis() {
    let Some(mut redis) = Redis::start() else {
        if std::env::var("FERRITE_REQUIRE_REDIS").as_deref() == Ok("1") {
            panic!("redis-server is required (FERRITE_REQUIRE_REDIS=1) but could not be started");
        }
        println!("skipping libraries_match_redis: redis-server is not available");
        return;
    };
    let mut cases: Vec<(String, bool)> = Vec::new();
    for line in include_str!("vs_redis_snippets.txt").lines() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.strip_prefix('!') {
            Some(s) => cases.push((s.to_string(), true)),
            None => cases.push((line.to_string(), false)),
        }
    }
    let handwritten = cases.len();
    let seed = std::env::var("LUALIB_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1234_u64);
    let count = std::env::var("LUALIB_RANDOM")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    cases.extend(random_snippets(seed, count).into_iter().map(|s| (s, false)));

    let deadline = Instant::now() + Duration::from_secs(600);
    let mut failures = Vec::new();
    for (i, (snippet, mutates)) in cases.iter().enumerate() {
        assert!(
            Instant::now() < deadline,
            "differential test ran past its deadline at case {i}"
        );
        let script = wrap(snippet);
        if std::env::var_os("LUALIB_TRACE").is_some() {
            eprintln!("case {i}: {snippet}");
        }
        let theirs = redis.eval(&script);
        let ours = run_local(&script);
        if std::env::var_os("LUALIB_SHOW").is_some() {
            eprintln!(
                "case {i}: {}\n  => {}",
                &snippet[..snippet.len().min(200)],
                String::from_utf8_lossy(&ours[..ours.len().min(300)])
            );
        }
        if theirs != ours {
            let clip = |s: &str| s.chars().take(400).collect::<String>();
            failures.push(format!(
                "case {i}: {}\n  redis: {}\n  ours:  {}",
                clip(snippet),
                clip(&String::from_utf8_lossy(&theirs)),
                clip(&String::from_utf8_lossy(&ours))
            ));
        }
        if *mutates || i % 500 == 499 {
            // Reset Redis's Lua VM (and its cjson settings); also bounds its script cache.
            let _ = redis.command(&[b"SCRIPT", b"FLUSH"]);
        }
    }
    println!(
        "compared {} snippets ({handwritten} written, {count} random, seed {seed:#x})",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} snippets differ:\n{}",
        failures.len(),
        cases.len(),
        failures[..failures.len().min(40)].join("\n")
    );
}
