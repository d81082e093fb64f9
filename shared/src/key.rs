//! Key ids and signing keys. Key bytes are zeroized on drop and never printed.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{KeyError, Malformed};

/// A key must hold at least this many random bytes (the HMAC-SHA256 output size).
pub const MIN_KEY_LEN: usize = 32;
/// And at most the SHA-256 block size, so HMAC never pre-hashes it.
pub const MAX_KEY_LEN: usize = 64;
/// Format tag of one key as stored in one Secrets Manager secret version.
pub const KEY_FORMAT: &str = "originsig-key-v1";

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// Names a key in the signature header: 1 to 64 characters of `[A-Za-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

impl KeyId {
    /// Validates a key id.
    pub fn new(id: &str) -> Result<Self, Malformed> {
        let valid = (1..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if valid {
            Ok(KeyId(id.to_owned()))
        } else {
            Err(Malformed::KeyId)
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An HMAC-SHA256 key with its id. `Debug` prints the id and length only; the bytes are wiped
/// when the value is dropped.
#[derive(Clone)]
pub struct SigningKey {
    id: KeyId,
    secret: Zeroizing<Vec<u8>>,
}

impl SigningKey {
    /// Takes ownership of the key bytes; checks the length bounds.
    pub fn new(id: KeyId, secret: Vec<u8>) -> Result<Self, KeyError> {
        let secret = Zeroizing::new(secret);
        if !(MIN_KEY_LEN..=MAX_KEY_LEN).contains(&secret.len()) {
            return Err(KeyError::KeyLength { len: secret.len() });
        }
        Ok(SigningKey { id, secret })
    }

    /// The key's id.
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// Whether two keys hold the same bytes (constant time).
    pub fn same_secret(&self, other: &SigningKey) -> bool {
        use subtle::ConstantTimeEq as _;
        self.secret.as_slice().ct_eq(other.secret.as_slice()).into()
    }

    pub(crate) fn mac(&self) -> HmacSha256 {
        // HMAC takes keys of any length; `new_from_slice` has no failing case for it.
        match HmacSha256::new_from_slice(&self.secret) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts every key length"),
        }
    }

    /// Parses one key in the secret-value format (SPEC.md §7):
    /// `{"format":"originsig-key-v1","kid":"…","key":"<standard base64, padded>"}`.
    pub fn from_secret_value(value: &str) -> Result<Self, KeyError> {
        let stored: StoredKey = serde_json::from_str(value)
            .map_err(|_| KeyError::Shape("a JSON object with format, kid and key"))?;
        stored.into_key()
    }

    /// Builds a key from the three members of the secret-value format, already taken out of
    /// their JSON object (the WASM edge signer lets JavaScript's `JSON.parse` do that part, which
    /// keeps a JSON parser out of the module). Every check of the format happens here.
    pub fn from_stored_parts(format: &str, kid: &str, key_base64: &str) -> Result<Self, KeyError> {
        if format != KEY_FORMAT {
            return Err(KeyError::Format { expected: KEY_FORMAT });
        }
        let id = KeyId::new(kid).map_err(|_| KeyError::KeyId)?;
        // Decoded straight into a buffer that is wiped on drop, sized up front so it never
        // reallocates (a reallocation would leave a copy of the key behind).
        let mut bytes = Zeroizing::new(Vec::with_capacity(key_base64.len() / 4 * 3 + 3));
        STANDARD
            .decode_vec(key_base64.as_bytes(), &mut bytes)
            .map_err(|_| KeyError::KeyEncoding)?;
        if !(MIN_KEY_LEN..=MAX_KEY_LEN).contains(&bytes.len()) {
            return Err(KeyError::KeyLength { len: bytes.len() });
        }
        Ok(SigningKey { id, secret: bytes })
    }

    /// Renders this key in the secret-value format. Used only to write a secret.
    ///
    /// Written by hand into one buffer that is wiped on drop and sized up front: a JSON value or
    /// `format!` would leave copies of the encoded key in memory. The key id needs no JSON
    /// escaping (it is `[A-Za-z0-9_-]`).
    pub fn to_secret_value(&self) -> Zeroizing<String> {
        let encoded_len = self.secret.len().div_ceil(3) * 4;
        let mut out = Zeroizing::new(String::with_capacity(64 + self.id.as_str().len() + encoded_len));
        out.push_str("{\"format\":\"");
        out.push_str(KEY_FORMAT);
        out.push_str("\",\"kid\":\"");
        out.push_str(self.id.as_str());
        out.push_str("\",\"key\":\"");
        STANDARD.encode_string(self.secret.as_slice(), &mut out);
        out.push_str("\"}");
        out
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id.as_str())
            .field("secret", &format_args!("<redacted {} bytes>", self.secret.len()))
            .finish()
    }
}

/// One key as stored (Secrets Manager secret value, or an entry of a key-ring file).
#[derive(Deserialize)]
struct StoredKey {
    format: String,
    kid: String,
    key: Zeroizing<String>,
}

impl StoredKey {
    fn into_key(self) -> Result<SigningKey, KeyError> {
        SigningKey::from_stored_parts(&self.format, &self.kid, &self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let key = SigningKey::new(KeyId::new("k1").unwrap(), vec![0xAB; 32]).unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains("redacted 32 bytes"), "{shown}");
        assert!(
            !shown.to_lowercase().contains("ab, ") && !shown.contains("171"),
            "{shown}"
        );
    }

    #[test]
    fn the_secret_value_is_written_in_place_and_reads_back() {
        for len in [MIN_KEY_LEN, 33, 50, MAX_KEY_LEN] {
            let key = SigningKey::new(KeyId::new("k").unwrap(), (0..len).map(|b| b as u8).collect()).unwrap();
            let text = key.to_secret_value();
            let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(parsed["format"], KEY_FORMAT);
            assert!(SigningKey::from_secret_value(&text).unwrap().same_secret(&key));
        }
    }

    #[test]
    fn secret_value_round_trip_and_errors() {
        let key = SigningKey::new(KeyId::new("k-1_x").unwrap(), (0..32).collect()).unwrap();
        let parsed = SigningKey::from_secret_value(&key.to_secret_value()).unwrap();
        assert!(parsed.same_secret(&key));
        assert_eq!(parsed.id(), key.id());
        let short = r#"{"format":"originsig-key-v1","kid":"a","key":"AAAA"}"#;
        assert_eq!(
            SigningKey::from_secret_value(short).unwrap_err(),
            KeyError::KeyLength { len: 3 }
        );
        let bad_tag = r#"{"format":"v0","kid":"a","key":"AAAA"}"#;
        assert!(matches!(
            SigningKey::from_secret_value(bad_tag),
            Err(KeyError::Format { .. })
        ));
        assert!(matches!(
            SigningKey::from_secret_value("not json"),
            Err(KeyError::Shape(_))
        ));
        assert!(matches!(
            SigningKey::from_secret_value("[]"),
            Err(KeyError::Shape(_))
        ));
    }
}
