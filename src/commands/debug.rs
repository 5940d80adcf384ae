//! DEBUG and its subcommands (gated by enable-debug-command).
