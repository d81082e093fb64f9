//! The core's error types. Each is non-exhaustive so later protocol versions can add reasons,
//! and each maps to a stable snake_case code used in logs, metrics and the test vectors.

use thiserror::Error;

/// What was wrong with an input that is not even well-formed. Carries no input bytes, so it can
/// be logged as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Malformed {
    #[error("the signature header appears more than once")]
    /// More than one value for the signature header, or a comma in the one value.
    DuplicateHeader,
    #[error("the signature header is longer than {max} bytes", max = crate::header::MAX_HEADER_LEN)]
    /// The delivered value is longer than the limit.
    HeaderTooLong,
    #[error(
        "the signature header does not follow the grammar `v2;t=<unix seconds>;k=<key id>;s=<base64url>`"
    )]
    /// The value is not `v2;t=…;k=…;s=…` (or its v1 spelling).
    HeaderSyntax,
    #[error("the timestamp is not 1 to 10 decimal digits without a leading zero")]
    /// The `t=` part.
    Timestamp,
    #[error("the key id is not 1 to 64 characters of [A-Za-z0-9_-]")]
    /// The `k=` part.
    KeyId,
    #[error("the signature is not 43 characters of unpadded base64url encoding 32 bytes")]
    /// The `s=` part.
    SignatureEncoding,
    #[error("the method is not 1 to 16 ASCII uppercase letters")]
    /// The request's method.
    Method,
    #[error("the host is not a lowercase-able DNS name of at most 253 bytes (no port)")]
    /// The origin's or gateway's host name.
    Host,
    #[error("a `%` is not followed by two hexadecimal digits")]
    /// A bad `%` escape in a path or query.
    PercentEncoding,
    #[error("the decoded path is not valid UTF-8")]
    /// The decoded path is not UTF-8.
    PathNotUtf8,
    #[error("the path does not start with `/`")]
    /// The path is not absolute.
    PathNotAbsolute,
    /// HTTP APIs decode the path and cut it at a `?` that decoding produced (`%3F`): the
    /// authorizer and the backend would see a shorter path than the one signed.
    #[error("the path decodes to a `?` (from `%3F`), where an HTTP API cuts the path short")]
    PathTruncated,
    /// HTTP APIs decode the path twice; after the first decoding this path holds a `%` that does
    /// not start an escape (from `%25` followed by non-hex), which the HTTP API answers with 400.
    #[error("after one decoding the path holds a `%` not followed by two hex digits (from `%25`); an HTTP API decodes twice and rejects it with 400")]
    PathRejected,
    #[error("the path or query is longer than {max} bytes", max = crate::target::MAX_TARGET_PART_LEN)]
    /// A path or query past the size bound.
    TooLong,
    /// The gateway's event is of the right type but could not be read (a field of the wrong JSON
    /// type, a repeated field, a string JSON cannot hold such as a lone surrogate).
    #[error(
        "the authorizer event could not be read (a field of the wrong type, repeated, or not valid text)"
    )]
    EventUnreadable,
}

impl Malformed {
    /// Stable code for logs and metrics (`malformed_<what>`).
    pub fn code(&self) -> &'static str {
        match self {
            Malformed::DuplicateHeader => "duplicate_header",
            Malformed::HeaderTooLong => "header_too_long",
            Malformed::HeaderSyntax => "header_syntax",
            Malformed::Timestamp => "timestamp",
            Malformed::KeyId => "key_id",
            Malformed::SignatureEncoding => "signature_encoding",
            Malformed::Method => "method",
            Malformed::Host => "host",
            Malformed::PercentEncoding => "percent_encoding",
            Malformed::PathNotUtf8 => "path_not_utf8",
            Malformed::PathNotAbsolute => "path_not_absolute",
            Malformed::PathTruncated => "path_truncated",
            Malformed::PathRejected => "path_rejected",
            Malformed::TooLong => "too_long",
            Malformed::EventUnreadable => "event_unreadable",
        }
    }
}

/// Why a request was not verified. Never says what the expected signature was, nor where a
/// presented one differed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum VerifyError {
    #[error("no signature header")]
    /// No signature header, or an empty value.
    Missing,
    #[error("malformed: {0}")]
    /// The request or header is not well-formed; the inner value says how.
    Malformed(#[from] Malformed),
    #[error("unsupported signature version: {0}")]
    /// A well-formed version tag this verifier does not accept; the inner value says why.
    UnsupportedVersion(UnsupportedVersion),
    #[error("unknown key id")]
    /// The key id is in no staging label.
    UnknownKey,
    /// The signature is genuine but older than the freshness window: a replay, a stuck request,
    /// or a signer clock behind ours.
    #[error("signature expired: signed {age_secs} s ago, {over} s past the {window_secs} s window", over = age_secs - window_secs)]
    Expired {
        /// How old the signature is.
        age_secs: u64,
        /// The window it exceeded.
        window_secs: u64,
    },
    /// The signature is genuine but dated further ahead than the allowed clock skew.
    #[error("signature from the future: dated {ahead_secs} s ahead, more than the {bound_secs} s allowed")]
    FromTheFuture {
        /// How far ahead it is dated.
        ahead_secs: u64,
        /// The allowed skew it exceeded.
        bound_secs: u64,
    },
    #[error("bad signature")]
    /// The HMAC does not match: another request, another key, or a forgery.
    BadSignature,
}

/// Defines [`VerifyError::reason`] and [`VerifyError::ALL_REASONS`] from one list, so the list
/// of codes cannot drift from the codes `reason` returns.
macro_rules! reason_codes {
    ($($variant:pat => $code:literal,)+) => {
        impl VerifyError {
            /// Stable reason code for logs, metrics and test vectors.
            pub fn reason(&self) -> &'static str {
                match self {
                    $($variant => $code,)+
                }
            }

            /// Every reason code, for metric dimension lists and documentation tests.
            pub const ALL_REASONS: &'static [&'static str] = &[$($code),+];
        }
    };
}

reason_codes! {
    VerifyError::Missing => "missing",
    VerifyError::Malformed(_) => "malformed",
    VerifyError::UnsupportedVersion(_) => "unsupported_version",
    VerifyError::UnknownKey => "unknown_key",
    VerifyError::Expired { .. } => "expired",
    VerifyError::FromTheFuture { .. } => "future",
    VerifyError::BadSignature => "bad_signature",
}

/// Why a well-formed version tag was refused. Carries no input bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum UnsupportedVersion {
    /// A version this verifier does not know: the signer is newer than the verifier.
    #[error("a version this verifier does not know (it verifies v2, and v1 as its accept-v1 policy allows): upgrade the verifier before the signer")]
    Unknown,
    /// A v1 signature, and the accept-v1 policy is `none`.
    #[error("a v1 signature, and this verifier accepts v2 only (accept-v1 policy `none`): upgrade the signer to v2, or accept v1 during the upgrade")]
    V1NotAccepted,
    /// A v1 signature over a query that repeats a key, and the policy is `unambiguous`: v1 does
    /// not bind the order of a repeated key's values, so the request may be a reordered replay.
    #[error("a v1 signature on a query that repeats a key, whose value order v1 does not bind (accept-v1 policy `unambiguous`): upgrade the signer to v2, or accept all v1 during the upgrade")]
    V1RepeatedQueryKey,
}

impl UnsupportedVersion {
    /// Stable code for logs (`detail` of an `unsupported_version` deny).
    pub fn code(&self) -> &'static str {
        match self {
            UnsupportedVersion::Unknown => "unknown_version",
            UnsupportedVersion::V1NotAccepted => "v1_not_accepted",
            UnsupportedVersion::V1RepeatedQueryKey => "v1_repeated_query_key",
        }
    }
}

impl VerifyError {
    /// The finer reason of a deny for logs and vectors: the malformed sub-code, or why a
    /// version was refused; `None` for the other reasons, which say everything already.
    pub fn detail(&self) -> Option<&'static str> {
        match self {
            VerifyError::Malformed(malformed) => Some(malformed.code()),
            VerifyError::UnsupportedVersion(why) => Some(why.code()),
            _ => None,
        }
    }
}

/// Why a key or key ring could not be loaded. Never carries key bytes (nor the parser's message,
/// which could quote them).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("the value is not JSON of the expected shape ({0})")]
    /// The JSON shape is wrong; the text names what was expected.
    Shape(&'static str),
    #[error("unknown format tag (expected `{expected}`)")]
    /// The format tag is not the expected one.
    Format {
        /// The tag this parser reads.
        expected: &'static str,
    },
    #[error("the key id is not 1 to 64 characters of [A-Za-z0-9_-]")]
    /// The key id is not valid.
    KeyId,
    #[error("the key is not standard padded base64")]
    /// The key is not canonical standard base64.
    KeyEncoding,
    #[error("the key is {len} bytes; it must be {min} to {max} random bytes", min = crate::key::MIN_KEY_LEN, max = crate::key::MAX_KEY_LEN)]
    /// The key has the wrong length.
    KeyLength {
        /// The length found.
        len: usize,
    },
    #[error("two roles share key id `{0}` but hold different keys")]
    /// Two roles carry the same key id with different keys.
    ConflictingKeyId(String),
}
