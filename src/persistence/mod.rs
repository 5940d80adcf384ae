//! Redis's file formats. So far the pieces FUNCTION DUMP/RESTORE need: RDB's string encoding and the
//! DUMP payload's footer (`payload`), and the encodings of Redis before 7.0 an old RDB file may hold
//! (`legacy`); the RDB and AOF files come with the persistence issue.

pub mod legacy;
pub mod payload;
