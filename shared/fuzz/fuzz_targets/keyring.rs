//! Secret values and key-ring files are untrusted too: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use originsig_core::{KeyRing, SigningKey};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = SigningKey::from_secret_value(text);
        let _ = KeyRing::from_keyring_json(text);
    }
});
