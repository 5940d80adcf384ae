//! Function libraries (FUNCTION LOAD ... FCALL): the loaded libraries, their functions by name, the
//! VM they live in, and their DUMP payload.
//!
//! A library is its code (`#!lua name=<library>` then Lua that calls `redis.register_function`); loading
//! runs the code once in the function VM's loading world (`Vm::load_library`) and keeps what it
//! registered. Function names are unique across libraries and found case-insensitively, as in Redis.
//! Every change is all or nothing: a library that fails to load, or a RESTORE that fails halfway,
//! leaves the libraries as they were.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use mlua::Function;

use super::rand48::Rand48;
use super::{new_vm, valid_name, Vm, VmKind, INVALID_NAME};
use crate::error::CmdError;
use crate::persistence::payload::{self, PayloadError};

/// RDB's opcode for a function library in a payload (RDB_OPCODE_FUNCTION2), and Redis 7.0's release
/// candidates' older one, which Redis 7.0 refuses too.
const OPCODE_FUNCTION2: u8 = 245;
const OPCODE_FUNCTION_PRE_GA: u8 = 246;

/// One registered function.
#[derive(Clone)]
pub struct FunctionInfo {
    pub name: String,
    pub callback: std::rc::Rc<Function>,
    pub flags: u32,
    pub description: Option<Vec<u8>>,
}

/// One library.
#[derive(Clone)]
pub struct Library {
    pub name: String,
    pub code: Vec<u8>,
    pub functions: Vec<FunctionInfo>,
}

/// What FUNCTION RESTORE does with the libraries already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestorePolicy {
    /// Add the payload's libraries; a name already taken fails the whole restore.
    Append,
    /// Add them, replacing libraries of the same name.
    Replace,
    /// Delete every library first.
    Flush,
}

/// The server's function libraries.
pub struct Functions {
    vm: Rc<Vm>,
    rng: Rc<Cell<Rand48>>,
    libraries: BTreeMap<String, Library>,
    /// Lowercased function name → its library.
    index: HashMap<String, String>,
}

impl Functions {
    pub fn new(rng: Rc<Cell<Rand48>>) -> Functions {
        Functions {
            vm: Rc::new(new_vm(VmKind::Function, &rng)),
            rng,
            libraries: BTreeMap::new(),
            index: HashMap::new(),
        }
    }

    pub fn vm(&self) -> Rc<Vm> {
        Rc::clone(&self.vm)
    }

    /// A function by name (case-insensitive).
    pub fn get(&self, name: &[u8]) -> Option<&FunctionInfo> {
        let key = String::from_utf8_lossy(name).to_ascii_lowercase();
        let lib = self.libraries.get(self.index.get(&key)?)?;
        lib.functions.iter().find(|f| f.name.eq_ignore_ascii_case(&key))
    }

    pub fn libraries(&self) -> impl Iterator<Item = &Library> {
        self.libraries.values()
    }

    /// How many libraries and functions are loaded.
    pub fn counts(&self) -> (usize, usize) {
        (self.libraries.len(), self.index.len())
    }

    /// The code bytes of every library (`used_memory_functions`).
    pub fn code_bytes(&self) -> usize {
        self.libraries.values().map(|l| l.code.len()).sum()
    }

    /// FUNCTION LOAD [REPLACE]: returns the library's name.
    pub fn load(&mut self, code: &[u8], replace: bool) -> Result<String, CmdError> {
        let name = library_name(code)?;
        if self.libraries.contains_key(&name) && !replace {
            return Err(CmdError::err(format!("Library '{name}' already exists")));
        }
        let registered = self.vm.load_library(code).map_err(CmdError::err)?;
        for r in &registered {
            if let Some(other) = self.index.get(&r.name.to_ascii_lowercase()) {
                if *other != name {
                    return Err(CmdError::err(format!("Function {} already exists", r.name)));
                }
            }
        }
        self.delete(&name);
        let functions: Vec<FunctionInfo> = registered
            .into_iter()
            .map(|r| FunctionInfo {
                name: r.name,
                callback: std::rc::Rc::new(r.callback),
                flags: r.flags,
                description: r.description,
            })
            .collect();
        for f in &functions {
            self.index.insert(f.name.to_ascii_lowercase(), name.clone());
        }
        self.libraries.insert(
            name.clone(),
            Library {
                name: name.clone(),
                code: code.to_vec(),
                functions,
            },
        );
        Ok(name)
    }

    /// FUNCTION DELETE: whether the library was there.
    pub fn delete(&mut self, name: &str) -> bool {
        let Some(lib) = self.libraries.remove(name) else {
            return false;
        };
        for f in &lib.functions {
            self.index.remove(&f.name.to_ascii_lowercase());
        }
        true
    }

    /// FUNCTION FLUSH: every library goes, and the VM that held them (a fresh one frees its memory).
    pub fn flush(&mut self) {
        self.libraries.clear();
        self.index.clear();
        self.vm = Rc::new(new_vm(VmKind::Function, &self.rng));
    }

    /// FUNCTION DUMP: every library's code, in a payload Redis can restore.
    pub fn dump(&self, compress: bool) -> Vec<u8> {
        let mut body = vec![];
        for lib in self.libraries.values() {
            body.push(OPCODE_FUNCTION2);
            payload::write_string(&mut body, &lib.code, compress);
        }
        payload::seal(body)
    }

    /// FUNCTION RESTORE: load a payload's libraries under `policy`, all or nothing.
    pub fn restore(&mut self, data: &[u8], policy: RestorePolicy, max_len: u64) -> Result<(), CmdError> {
        let body = payload::open(data).map_err(|e| CmdError::err(e.to_string()))?;
        let mut reader = payload::Reader::new(body);
        let mut codes = vec![];
        while !reader.at_end() {
            match reader.byte().map_err(corrupt)? {
                OPCODE_FUNCTION2 => codes.push(reader.string(max_len).map_err(corrupt)?),
                OPCODE_FUNCTION_PRE_GA => return Err(CmdError::err("Pre-GA function format not supported")),
                _ => return Err(CmdError::err("given type is not a function")),
            }
        }
        let (libraries, index) = (self.libraries.clone(), self.index.clone());
        if policy == RestorePolicy::Flush {
            self.libraries.clear();
            self.index.clear();
        }
        for code in &codes {
            let loaded = match library_name(code) {
                // RESTORE words a collision its own way.
                Ok(name) if policy == RestorePolicy::Append && self.libraries.contains_key(&name) => {
                    Err(CmdError::err(format!("Library {name} already exists")))
                }
                _ => self.load(code, policy == RestorePolicy::Replace),
            };
            if let Err(e) = loaded {
                self.libraries = libraries;
                self.index = index;
                return Err(e);
            }
        }
        Ok(())
    }
}

fn corrupt(_: PayloadError) -> CmdError {
    CmdError::err("payload version or checksum are wrong")
}

/// A library's name from its metadata line (`#!lua name=<name>`), with Redis's errors.
pub fn library_name(code: &[u8]) -> Result<String, CmdError> {
    if !code.starts_with(b"#!") {
        return Err(CmdError::err("Missing library metadata"));
    }
    // The metadata is a line: without a newline there is no library.
    let line = match code.iter().position(|&b| b == b'\n') {
        Some(end) => &code[..end],
        None => return Err(CmdError::err("Invalid library metadata")),
    };
    let parts = crate::config::parse::split_args(line)
        .ok()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| CmdError::err("Invalid library metadata"))?;
    let engine = &parts[0][2..];
    if !engine.eq_ignore_ascii_case(b"lua") {
        return Err(CmdError::err(format!(
            "Engine '{}' not found",
            String::from_utf8_lossy(engine)
        )));
    }
    let mut name = None;
    for p in &parts[1..] {
        match p.strip_prefix(b"name=") {
            Some(_) if name.is_some() => {
                return Err(CmdError::err(
                    "Invalid metadata value, name argument was given multiple times",
                ))
            }
            Some(n) => name = Some(n.to_vec()),
            None => {
                return Err(CmdError::err(format!(
                    "Invalid metadata value given: {}",
                    String::from_utf8_lossy(p)
                )))
            }
        }
    }
    let name = name.ok_or_else(|| CmdError::err("Library name was not given"))?;
    if !valid_name(&name) {
        return Err(CmdError::err(INVALID_NAME));
    }
    String::from_utf8(name).map_err(|_| CmdError::err(INVALID_NAME))
}
