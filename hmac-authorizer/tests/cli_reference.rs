//! `docs/reference/cli.md`, the shell completions and the man pages are generated from the clap
//! definitions: the reference must be what the code generates now (a stale file fails; regenerate
//! with `ORIGINSIG_BLESS=1 cargo test -p originsig-hmac-authorizer --test cli_reference`), and the
//! real binary's `completions` and `man` produce what a shell and `man` read.

// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::text;

use std::process::{Command, Output};

use originsig_tests::repo;

fn originsig(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_originsig"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_cli_reference_is_generated_from_the_clap_definitions() {
    let path = repo::root().join("docs/reference/cli.md");
    let generated = originsig_hmac_authorizer::cli::reference_markdown();
    if std::env::var_os("ORIGINSIG_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == generated,
        "{} is stale: regenerate it with ORIGINSIG_BLESS=1 cargo test -p originsig-hmac-authorizer --test cli_reference",
        path.display()
    );
    // It holds every subcommand's help as the binary prints it.
    for sub in [
        "init",
        "rotate",
        "status",
        "sign",
        "verify",
        "doctor",
        "timing",
        "routes audit",
        "completions",
        "man",
    ] {
        assert!(generated.contains(&format!("## `originsig {sub}`")), "{sub}");
    }
    let help = String::from_utf8(originsig(&["sign", "-h"]).stdout).unwrap();
    assert!(
        generated.contains(help.trim_end()),
        "the reference shows `sign -h` as printed"
    );
}

#[test]
fn completions_and_man_pages_come_from_the_same_definitions() {
    let bash = originsig(&["completions", "bash"]);
    assert!(bash.status.success(), "{}", text(&bash));
    let script = String::from_utf8(bash.stdout).unwrap();
    for word in ["originsig", "rotate", "--secret-id", "--output", "--profile"] {
        assert!(script.contains(word), "bash completion lacks {word}");
    }
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let out = originsig(&["completions", shell]);
        assert!(
            out.status.success() && !out.stdout.is_empty(),
            "{shell}: {}",
            text(&out)
        );
    }
    let bad = originsig(&["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));

    let man = originsig(&["man"]);
    assert!(man.status.success(), "{}", text(&man));
    let page = String::from_utf8(man.stdout).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH originsig"),
        "{page}"
    );
    assert!(page.contains("rotate"));

    let dir = std::env::temp_dir().join(format!("originsig-man-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = originsig(&["man", "--out-dir", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    for page in ["originsig.1", "originsig-rotate.1", "originsig-routes-audit.1"] {
        let roff = std::fs::read_to_string(dir.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(roff.contains(".TH"), "{page}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
