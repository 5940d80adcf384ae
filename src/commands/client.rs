//! The CLIENT command and its subcommands.
