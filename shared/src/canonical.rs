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

use crate::key::KeyId;
use crate::target::RequestTarget;
use crate::time::UnixSeconds;

/// First line of every v1 canonical request: names the algorithm and protocol version, so a
/// signature can never be valid under another version's rules.
pub const ALGORITHM_TAG: &str = "ORIGINSIG-HMAC-SHA256-V1";

/// A request target bound to the time and key of one signature.
#[derive(Debug, Clone, Copy)]
pub struct CanonicalRequest<'a> {
    pub timestamp: UnixSeconds,
    pub key_id: &'a KeyId,
    pub target: &'a RequestTarget,
}

impl CanonicalRequest<'_> {
    /// The bytes to sign.
    pub fn render(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for CanonicalRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = self.target;
        write!(
            f,
            "{ALGORITHM_TAG}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.timestamp.as_secs(),
            self.key_id,
            target.method.as_str(),
            target.host.as_str(),
            target.path.as_str(),
            target.query.as_str(),
        )
    }
}
