//! The canonical request: the exact bytes that are signed. Rendered here and nowhere else.
//!
//! ```text
//! canonical = algorithm-tag LF     ; "ORIGINSIG-HMAC-SHA256-V2" (v1: "ORIGINSIG-HMAC-SHA256-V1")
//!             timestamp LF         ; decimal Unix seconds, as in the header
//!             key-id LF            ; as in the header
//!             method LF            ; e.g. GET
//!             host LF              ; origin domain, lowercase, no port, no trailing dot
//!             canonical-path LF    ; see CanonicalPath
//!             canonical-query      ; see CanonicalQuery; empty when there is no query
//! signature = HMAC-SHA256(key, canonical)   ; 32 bytes, sent base64url without padding
//! ```
//! LF is a single 0x0A byte; there is no trailing LF. No field can contain LF: every field is
//! validated or percent-encoded first, so the rendering is unambiguous.
//!
//! The two versions differ in the tag and in one rule of the canonical query: v2 keeps the
//! values of a repeated key in the order they were sent, v1 sorts them (SPEC.md §5). The
//! version is a field of [`CanonicalRequest`], so nothing can render one without choosing.

use std::fmt;

use crate::key::{HmacSha256, KeyId, SigningKey};
use crate::target::RequestTarget;
use crate::time::UnixSeconds;

/// A version of the protocol: its header tag, its algorithm tag and its query rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Version {
    /// `v1`: repeated query keys sorted by value. Verified only as the accept-v1 policy allows
    /// ([`crate::AcceptV1`]); never signed by originsig's signers any more.
    V1,
    /// `v2`: repeated query keys keep the order they were sent in. What every signer emits.
    V2,
}

impl Version {
    /// The version every signer emits.
    pub const CURRENT: Version = Version::V2;

    /// Every version this implementation verifies, oldest first.
    pub const ALL: [Version; 2] = [Version::V1, Version::V2];

    /// The header's version tag (`v1`, `v2`).
    pub fn tag(self) -> &'static str {
        match self {
            Version::V1 => "v1",
            Version::V2 => "v2",
        }
    }

    /// First line of the canonical request: names the algorithm and the version, so a
    /// signature can never be valid under another version's rules.
    pub fn algorithm_tag(self) -> &'static str {
        match self {
            Version::V1 => "ORIGINSIG-HMAC-SHA256-V1",
            Version::V2 => "ORIGINSIG-HMAC-SHA256-V2",
        }
    }

    /// The inverse of [`Version::tag`].
    pub fn from_tag(tag: &str) -> Option<Self> {
        Version::ALL.into_iter().find(|version| version.tag() == tag)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// A request target bound to the version, time and key of one signature.
#[derive(Debug, Clone, Copy)]
pub struct CanonicalRequest<'a> {
    /// The protocol version, as in the header.
    pub version: Version,
    /// The signing time, as in the header.
    pub timestamp: UnixSeconds,
    /// The key id, as in the header.
    pub key_id: &'a KeyId,
    /// Method, host, path and query, already canonical.
    pub target: &'a RequestTarget,
}

/// Where the canonical bytes go: a string to show, or straight into the MAC (signing and
/// verifying never build the string; the bytes are the same either way).
pub(crate) trait CanonicalSink {
    fn put(&mut self, part: &str);
}

impl CanonicalSink for String {
    fn put(&mut self, part: &str) {
        self.push_str(part);
    }
}

impl CanonicalSink for HmacSha256 {
    fn put(&mut self, part: &str) {
        hmac::Mac::update(self, part.as_bytes());
    }
}

impl CanonicalRequest<'_> {
    /// The formula above, and the only place it is written down in code.
    pub(crate) fn write_to(&self, sink: &mut impl CanonicalSink) {
        let target = self.target;
        let mut digits = itoa::Buffer::new();
        for part in [
            self.version.algorithm_tag(),
            "\n",
            digits.format(self.timestamp.as_secs()),
            "\n",
            self.key_id.as_str(),
            "\n",
            target.method.as_str(),
            "\n",
            target.host.as_str(),
            "\n",
            target.path.as_str(),
            "\n",
            target.query.for_version(self.version),
        ] {
            sink.put(part);
        }
    }

    /// The bytes to sign, as text (for `originsig sign --verbose`, vectors and tests).
    pub fn render(&self) -> String {
        let mut text = String::new();
        self.write_to(&mut text);
        text
    }

    /// `key`'s MAC over these bytes, ready to finalize or verify (signing and verifying share it).
    pub(crate) fn mac_with(&self, key: &SigningKey) -> HmacSha256 {
        let mut mac = key.mac();
        self.write_to(&mut mac);
        mac
    }
}

impl fmt::Display for CanonicalRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}
