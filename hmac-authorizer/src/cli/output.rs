//! How `originsig` prints: never a panic on a closed pipe, and `--output text|json`.
//!
//! `std`'s `println!` panics when stdout is a closed pipe (`originsig status | head -1`). The
//! `println!`, `print!` and `eprintln!` macros of `cli` (defined in `cli/mod.rs`, in scope in every
//! subcommand module) print through [`write_stdout`]/[`write_stderr`] instead: output that cannot
//! be written is dropped, and the command finishes what it was doing (a rotation is not cut in
//! half because a pager closed) and exits with its own code, which stays true.

use std::fmt::Arguments;
use std::io::Write;

use clap::Args;

/// Writes to stdout; a closed pipe or full disk loses the text, never panics.
pub fn write_stdout(text: Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    // Dropped on purpose: see the module comment.
    let _ = out.write_fmt(text).and_then(|()| out.flush());
}

/// Writes to stderr; as [`write_stdout`].
pub fn write_stderr(text: Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(text);
}

/// `--output` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// For people: tables and sentences (may change between versions).
    #[default]
    Text,
    /// For scripts and CI: one JSON document on stdout, fields documented in
    /// docs/reference/cli.md (stable).
    Json,
}

/// The `--output` flag (and `--json`, kept as an alias where it existed).
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output format: text for people, json for scripts and CI gates (stable fields, listed in
    /// docs/reference/cli.md). The exit code is the same either way.
    #[arg(long, value_enum, default_value_t = Format::Text, value_name = "FORMAT")]
    output: Format,
    /// Same as --output json.
    #[arg(long, hide = true, conflicts_with = "output")]
    json: bool,
}

impl OutputArgs {
    pub fn format(&self) -> Format {
        if self.json {
            Format::Json
        } else {
            self.output
        }
    }

    pub fn is_json(&self) -> bool {
        self.format() == Format::Json
    }
}

/// Prints one JSON document (pretty, one trailing newline).
pub fn print_json(value: &serde_json::Value) {
    #[expect(clippy::expect_used, reason = "a serde_json::Value always serialises")]
    let text = serde_json::to_string_pretty(value).expect("a JSON value serialises");
    write_stdout(format_args!("{text}\n"));
}
