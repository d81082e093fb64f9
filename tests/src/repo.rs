//! Paths into the repository, and what would betray the test keys in a log.

use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// `shared/testdata/keyring.json`: current, pending and previous test keys.
pub fn test_keyring() -> PathBuf {
    root().join("shared/testdata/keyring.json")
}

/// The `key` member (standard base64) of every test key, and the same bytes as hex and
/// base64url: none of these may ever appear in a log line.
///
/// Panics when a test-key file is missing or holds fewer keys than expected: a check for key
/// material in logs must not pass because it had nothing to look for.
#[expect(clippy::panic, reason = "test support: stated above")]
pub fn key_material_strings() -> Vec<String> {
    let mut out = Vec::new();
    for file in ["keyring.json", "outsider-key.json"] {
        let path = root().join("shared/testdata").join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let value: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let entries: Vec<&serde_json::Value> = match value.get("format").and_then(|f| f.as_str()) {
            Some("originsig-keyring-v1") => ["current", "pending", "previous"]
                .iter()
                .filter_map(|r| value.get(*r))
                .collect(),
            _ => vec![&value],
        };
        for entry in entries {
            if let Some(key) = entry.get("key").and_then(|k| k.as_str()) {
                out.push(key.to_owned());
                out.push(key.trim_end_matches('=').replace('+', "-").replace('/', "_"));
                out.push(hex_of_base64(key));
            }
        }
    }
    // Three spellings of each of the four test keys (current, pending, previous, outsider).
    if out.len() != 12 || out.iter().any(|s| s.len() < 40) {
        panic!("expected 4 test keys in shared/testdata, found {}", out.len() / 3);
    }
    out
}

fn hex_of_base64(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut hex = String::new();
    for c in text.bytes().filter(|c| *c != b'=') {
        let Some(value) = ALPHABET.iter().position(|a| *a == c) else {
            continue;
        };
        bits = (bits << 6) | u32::try_from(value).unwrap_or(0);
        count += 6;
        if count >= 8 {
            count -= 8;
            hex.push_str(&format!("{:02x}", (bits >> count) & 0xFF));
        }
    }
    hex
}
