//! Redis's file formats. So far the pieces FUNCTION DUMP/RESTORE need: RDB's string encoding and the
//! DUMP payload's footer (`payload`); the RDB and AOF files come with the persistence issue.

pub mod payload;
