//! The canonical request: the exact bytes that are signed. Rendered here and nowhere else.
//!
//! ```text
//! canonical = "ORIGINSIG-HMAC-SHA256-V1" LF
//!             timestamp LF      ; decimal Unix seconds, as in the header
//!             key-id LF         ; as in the header
//!             method LF         ; e.g. GET
//!             host LF           ; origin domain, lowercase, no port, no trailing dot
//!             canonical-path LF ; see CanonicalPath
//!             canonical-query   ; see CanonicalQuery; empty when there is no query
//! signature = HMAC-SHA256(key, canonical)   ; 32 bytes, sent base64url without padding
//! ```
//! LF is a single 0x0A byte; there is no trailing LF. No field can contain LF: every field is
//! validated or percent-encoded first, so the rendering is unambiguous.

use std::fmt;

use crate::key::{HmacSha256, KeyId, SigningKey};
use crate::target::RequestTarget;
use crate::time::UnixSeconds;

/// First line of every v1 canonical request: names the algorithm and protocol version, so a
/// signature can never be valid under another version's rules.
pub const ALGORITHM_TAG: &str = "ORIGINSIG-HMAC-SHA256-V1";

/// A request target bound to the time and key of one signature.
#[derive(Debug, Clone, Copy)]
pub struct CanonicalRequest<'a> {
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
            ALGORITHM_TAG,
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
            target.query.as_str(),
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
