//! The signature header: one header carries version, time, key id and signature, so API Gateway
//! can use it alone as the authorizer's identity source (SPEC.md §6).
//!
//! Grammar (ABNF, no whitespace anywhere):
//! ```text
//! value     = version ";t=" timestamp ";k=" key-id ";s=" signature
//! version   = "v2" / "v1"                  ; signers emit v2; v1 is verified per policy
//! timestamp = %x31-39 0*9DIGIT / "0"       ; Unix seconds, no leading zeros, at most 10 digits
//! key-id    = 1*64( ALPHA / DIGIT / "_" / "-" )
//! signature = 43( ALPHA / DIGIT / "-" / "_" ) ; base64url, no padding, of the 32-byte HMAC
//! ```
//! A value starting with `v<digits>;` for another version is `UnsupportedVersion`; any other
//! deviation is `Malformed`. Both versions share every part but the tag.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::canonical::Version;
use crate::error::{Malformed, UnsupportedVersion, VerifyError};
use crate::key::KeyId;
use crate::time::UnixSeconds;

/// The header's name, lowercase as CloudFront and API Gateway present header names.
pub const HEADER_NAME: &str = "x-originsig";
/// Longest value accepted; a value is at most 2 + 3 + 10 + 3 + 64 + 3 + 43 = 128 bytes.
pub const MAX_HEADER_LEN: usize = 256;

/// A parsed (or freshly made) signature header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    /// The protocol version whose rules made the signature.
    pub version: Version,
    /// Signing time.
    pub timestamp: UnixSeconds,
    /// Id of the key that signed.
    pub key_id: KeyId,
    /// The 32 HMAC-SHA256 bytes.
    pub signature: [u8; 32],
}

impl SignatureHeader {
    /// Parses a value with the strict grammar (length first); see SPEC.md §6.
    pub fn parse(value: &str) -> Result<Self, VerifyError> {
        if value.is_empty() {
            return Err(VerifyError::Missing);
        }
        if value.len() > MAX_HEADER_LEN {
            return Err(Malformed::HeaderTooLong.into());
        }
        let (tag, rest) = value.split_once(';').unwrap_or((value, ""));
        let Some(version) = Version::from_tag(tag) else {
            return Err(if looks_like_version(tag) {
                VerifyError::UnsupportedVersion(UnsupportedVersion::Unknown)
            } else {
                Malformed::HeaderSyntax.into()
            });
        };
        let mut parts = rest.split(';');
        let (Some(t), Some(k), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Malformed::HeaderSyntax.into());
        };
        let (Some(t), Some(k), Some(s)) = (t.strip_prefix("t="), k.strip_prefix("k="), s.strip_prefix("s="))
        else {
            return Err(Malformed::HeaderSyntax.into());
        };
        Ok(SignatureHeader {
            version,
            timestamp: parse_timestamp(t)?,
            key_id: KeyId::new(k)?,
            signature: parse_signature(s)?,
        })
    }

    /// The one spelling of this header.
    pub fn render(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for SignatureHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{};t={};k={};s={}",
            self.version.tag(),
            self.timestamp.as_secs(),
            self.key_id,
            URL_SAFE_NO_PAD.encode(self.signature)
        )
    }
}

/// `v` followed by 1 to 4 digits, the first not zero: a version tag of some other version.
fn looks_like_version(tag: &str) -> bool {
    tag.strip_prefix('v').is_some_and(|digits| {
        (1..=4).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

fn parse_timestamp(digits: &str) -> Result<UnixSeconds, Malformed> {
    let well_formed = (1..=10).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if !well_formed {
        return Err(Malformed::Timestamp);
    }
    digits
        .parse::<u64>()
        .map(UnixSeconds::new)
        .map_err(|_| Malformed::Timestamp)
}

fn parse_signature(encoded: &str) -> Result<[u8; 32], Malformed> {
    if encoded.len() != 43 {
        return Err(Malformed::SignatureEncoding);
    }
    // The engine rejects padding and non-zero trailing bits, so each signature has one spelling.
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| Malformed::SignatureEncoding)?;
    bytes.try_into().map_err(|_| Malformed::SignatureEncoding)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "v2;t=1763715900;k=key-1;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    #[test]
    fn parses_and_renders_identically() {
        let header = SignatureHeader::parse(GOOD).unwrap();
        assert_eq!(header.version, Version::V2);
        assert_eq!(header.timestamp.as_secs(), 1_763_715_900);
        assert_eq!(header.render(), GOOD);
        let v1 = GOOD.replacen("v2", "v1", 1);
        let header = SignatureHeader::parse(&v1).unwrap();
        assert_eq!(header.version, Version::V1);
        assert_eq!(header.render(), v1);
    }

    fn reason(value: &str) -> VerifyError {
        SignatureHeader::parse(value).unwrap_err()
    }

    #[test]
    fn rejects_every_deviation() {
        let sig = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert_eq!(reason(""), VerifyError::Missing);
        let unknown = VerifyError::UnsupportedVersion(UnsupportedVersion::Unknown);
        assert_eq!(reason(&format!("v3;t=1;k=a;s={sig}")), unknown);
        assert_eq!(reason("v10"), unknown);
        let malformed = [
            format!("V1;t=1;k=a;s={sig}"),
            format!("V2;t=1;k=a;s={sig}"),
            format!("v2;k=a;t=1;s={sig}"),
            "v2".to_owned(),
            format!("v1;k=a;t=1;s={sig}"),
            format!("v1;t=1;k=a;s={sig};s={sig}"),
            format!("v1;t=1;t=1;k=a;s={sig}"),
            format!("v1; t=1;k=a;s={sig}"),
            format!("v1;t=01;k=a;s={sig}"),
            format!("v1;t=-1;k=a;s={sig}"),
            format!("v1;t=99999999999;k=a;s={sig}"),
            format!("v1;t=1;k=;s={sig}"),
            format!("v1;t=1;k=a b;s={sig}"),
            format!("v1;t=1;k=ä;s={sig}"),
            "v1;t=1;k=a;s=AAAA".to_owned(),
            format!("v1;t=1;k=a;s={sig}="),
            "v1;t=1;k=a;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB".to_owned(),
            "v1;t=1;k=a;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+".to_owned(),
            "x".repeat(300),
            "v01;t=1".to_owned(),
            "garbage".to_owned(),
        ];
        for value in malformed {
            assert!(matches!(reason(&value), VerifyError::Malformed(_)), "{value}");
        }
    }
}
