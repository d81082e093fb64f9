//! The authorizer Lambda links only what it needs. It is built with `--no-default-features`
//! (`Cargo.toml` `[features]`); the CLI's and the rotator's crates come with the `cli` and
//! `rotator` features. This test reads that build's dependency tree with `cargo tree` (offline,
//! from `Cargo.lock`: no build, well under a second) and fails when a crate that only the CLI or
//! the rotator needs reaches it.

// Test code: a panic is how a test fails.
#![allow(clippy::expect_used)]

use std::collections::BTreeSet;
use std::process::Command;

/// Crates the authorizer must not link, each with the program that needs it.
const CLI_OR_ROTATOR_ONLY: &[(&str, &str)] = &[
    ("clap", "the CLI's argument parser"),
    ("clap_builder", "the CLI's argument parser"),
    ("clap_complete", "the CLI's shell completions"),
    ("clap_mangen", "the CLI's man pages"),
    ("roff", "the CLI's man pages"),
    ("aws-sdk-apigatewayv2", "`originsig routes` and `doctor`"),
    ("reqwest", "the rotation checks' HTTP client (CLI and rotator)"),
    (
        "aws-sdk-cloudfrontkeyvaluestore",
        "the key value store copy (CLI and rotator)",
    ),
    (
        "p256",
        "SigV4a, the key value store's request signing (CLI and rotator)",
    ),
    ("time-macros", "UTC times in rotation messages (CLI and rotator)"),
];

/// Crates the authorizer does link: if these are missing, the tree read is not the authorizer's.
const AUTHORIZER_NEEDS: &[&str] = &[
    "originsig-core",
    "lambda_runtime",
    "aws_lambda_events",
    "aws-sdk-secretsmanager",
    "tokio",
];

/// The crate names in the authorizer's normal (linked) dependency tree on this host.
fn authorizer_dependencies() -> BTreeSet<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let output = Command::new(cargo)
        .args(["tree", "--frozen", "--manifest-path", manifest])
        .args(["-p", "originsig-hmac-authorizer", "--no-default-features"])
        .args(["-e", "normal", "--prefix", "none"])
        .output()
        .expect("cargo runs (it runs this test)");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_authorizer_links_no_crate_of_the_cli_or_the_rotator() {
    let linked = authorizer_dependencies();
    for needed in AUTHORIZER_NEEDS {
        assert!(
            linked.contains(*needed),
            "{needed} is not in the tree read; is this the authorizer's? {linked:?}"
        );
    }
    let leaked: Vec<String> = CLI_OR_ROTATOR_ONLY
        .iter()
        .filter(|(name, _)| linked.contains(*name))
        .map(|(name, needed_by)| format!("{name} (needed by {needed_by})"))
        .collect();
    assert!(
        leaked.is_empty(),
        "the authorizer Lambda (`--no-default-features`) links {}; make the dependency optional in \
         hmac-authorizer/Cargo.toml and enable it from the `cli` or `rotator` feature, and put the \
         module that uses it behind that feature in src/lib.rs (`cargo tree -p \
         originsig-hmac-authorizer --no-default-features -e normal -i NAME` shows why it is linked)",
        leaked.join(", ")
    );
}
