//! Redis's file formats: the AOF's manifest and commands (`aof`), RDB strings and the DUMP payload footer (`payload`), values and whole files in
//! RDB form (`rdb`), and the encodings of Redis before 7.0 that an old RDB file may hold (`legacy`).

pub mod aof;
pub mod legacy;
pub mod payload;
pub mod rdb;
