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
pub fn key_material_strings() -> Vec<String> {
    let mut out = Vec::new();
    for file in ["keyring.json", "outsider-key.json"] {
        let text = std::fs::read_to_string(root().join("shared/testdata").join(file)).unwrap_or_default();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
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
