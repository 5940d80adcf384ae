//! RESP protocol (see docs in later commits).
