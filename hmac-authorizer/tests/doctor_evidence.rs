//! `originsig doctor` decides only on evidence (issue 23.4, 21.3): against a stand-in API, an
//! answer API Gateway gives before its authorizer (429 throttled, 413, 414) is not "this prefix is
//! right"; a backend's own 404 behind a passed authorizer is; and the action names the samconfig
//! parameter and the redeploy command.

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{Read as _, Write as _};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::text;
use originsig_tests::repo;

const FORBIDDEN: &str = r#"{"message":"Forbidden"}"#;

/// A stand-in API on 127.0.0.1: unsigned → API Gateway's 401; signed with the doctor's control key
/// (`k=originsig-control`) → API Gateway's deny; the n-th other signed request → `answer(n)`.
fn stand_in(answer: impl Fn(usize) -> (u16, &'static str) + Send + 'static) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let signed = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buffer = [0u8; 16384];
            let read = stream.read(&mut buffer).unwrap_or(0);
            let request = String::from_utf8_lossy(&buffer[..read]).to_lowercase();
            let (status, body) = if !request.contains("x-originsig:") {
                (401, r#"{"message":"Unauthorized"}"#)
            } else if request.contains("k=originsig-control") {
                (403, FORBIDDEN)
            } else {
                answer(signed.fetch_add(1, Ordering::SeqCst))
            };
            let head = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body.as_bytes());
        }
    });
    port
}

fn doctor(port: u16) -> std::process::Output {
    let keyring = repo::test_keyring().display().to_string();
    let url = format!("http://127.0.0.1:{port}/v1/health");
    Command::new(env!("CARGO_BIN_EXE_originsig"))
        .args(["doctor", "--key-file", &keyring, "--direct-url", &url])
        .args(["--origin-path", "/v1", "--stage", "prod", "--env", "estate"])
        .output()
        .unwrap()
}

#[test]
fn answers_from_before_the_authorizer_are_no_evidence() {
    for (status, body) in [
        (429, r#"{"message":"Too Many Requests"}"#),
        (413, r#"{"message":"Request Entity Too Large"}"#),
        (414, r#"{"message":"Request-URI Too Long"}"#),
    ] {
        let port = stand_in(move |_| (status, body));
        let out = doctor(port);
        assert_eq!(out.status.code(), Some(4), "{status}: {}", text(&out));
        assert!(
            !text(&out).contains("ok: the edge's default"),
            "{status}: {}",
            text(&out)
        );
        assert!(text(&out).contains("no evidence"), "{status}: {}", text(&out));
    }
    // Throttled before the authorizer even for the unknown key: said so, exit 4.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut buffer = [0u8; 16384];
                let read = stream.read(&mut buffer).unwrap_or(0);
                let signed = String::from_utf8_lossy(&buffer[..read])
                    .to_lowercase()
                    .contains("x-originsig:");
                let status = if signed {
                    "429 Too Many Requests"
                } else {
                    "401 Unauthorized"
                };
                let _ = stream.write_all(
                    format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").as_bytes(),
                );
            }
        });
        port
    };
    let out = doctor(port);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("no evidence"), "{}", text(&out));
}

#[test]
fn a_backend_answer_behind_the_authorizer_is_evidence_and_the_action_names_the_parameter() {
    // The origin path is denied like the unknown key; the next candidate ('') reaches the
    // backend, which answers its own 404.
    let port = stand_in(|n| {
        if n == 0 {
            (403, FORBIDDEN)
        } else {
            (404, r#"{"error":"no such thing"}"#)
        }
    });
    let out = doctor(port);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    let printed = text(&out);
    assert!(
        printed
            .contains(r#"set GatewayPathPrefix = "" in [estate-edge.deploy.parameters.parameter_overrides]"#),
        "{printed}"
    );
    assert!(
        printed.contains("infra/build.sh estate && infra/deploy.sh estate"),
        "{printed}"
    );
}
