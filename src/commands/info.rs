//! INFO: the sections and fields Redis 7.0 reports, named as Redis names them.
