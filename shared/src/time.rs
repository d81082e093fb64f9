//! Time as the core sees it: Unix seconds handed in by the caller. The core never reads a clock.

/// Seconds since the Unix epoch (UTC). The signer's and the verifier's `now` are both of this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixSeconds(u64);

impl UnixSeconds {
    /// Seconds since the Unix epoch.
    pub const fn new(secs: u64) -> Self {
        UnixSeconds(secs)
    }

    /// The seconds.
    pub const fn as_secs(self) -> u64 {
        self.0
    }
}

/// How far a signature's timestamp may lie from the verifier's clock (SPEC.md §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    /// Oldest accepted signature, in seconds before `now`.
    pub max_age_secs: u64,
    /// Furthest accepted signature, in seconds after `now` (clock skew between signer and verifier).
    pub max_future_secs: u64,
}

impl Freshness {
    /// 60 s: covers CloudFront's origin connection attempts (3 × 10 s by default) plus transit.
    pub const DEFAULT_MAX_AGE_SECS: u64 = 60;
    /// 5 s: both clocks are AWS-synchronised; this only absorbs jitter.
    pub const DEFAULT_MAX_FUTURE_SECS: u64 = 5;
}

impl Default for Freshness {
    fn default() -> Self {
        Freshness {
            max_age_secs: Self::DEFAULT_MAX_AGE_SECS,
            max_future_secs: Self::DEFAULT_MAX_FUTURE_SECS,
        }
    }
}
