//! The one timing model: every cache, window, retry, timeout and rotation bound of a deployment,
//! with one set of defaults. The rotation wait and the rotation guard are derived from it, never
//! typed again; the authorizer's and the rotation Lambda's environment parsing, the CLI's flags,
//! `edge-signer/bundle.py` (through `infra/timing.json`, written by `originsig timing --json`)
//! and the template's defaults all come from [`Timing::DEFAULT`] (a test holds each to it).
//!
//! The invariants it serves (SPEC.md §7):
//!
//! - **signing**: an edge signs with a key at most `edge_max_stale` after it stopped being
//!   AWSCURRENT (`edge_cache_ttl` normally: a cache past its TTL reads the store before it
//!   answers; up to `edge_max_stale` only while the store cannot be read);
//! - **the guard**: a rotation drops the previous key, so it starts only
//!   [`Timing::previous_key_in_use`] after the last promotion (edge bound + freshness window +
//!   margin): by then no edge signs with it and no signature made with it is fresh;
//! - **accepting**: an authorizer accepts a key at most `authorizer_max_stale` after it left
//!   every label (`authorizer_cache_ttl` normally, for the same reason);
//! - **promotion**: a new key is promoted only [`Timing::propagation_wait`] after it was staged,
//!   when every authorizer has read it.

use std::time::Duration;

use originsig_core::Freshness;
use serde::Serialize;

use crate::aws::CallPolicy;
use crate::config::ConfigError;

/// Every timing of a deployment, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timing {
    /// Oldest accepted signature (`ORIGINSIG_MAX_AGE_SECS`; SPEC.md §8).
    pub max_age_secs: u64,
    /// Furthest accepted signature into the future (`ORIGINSIG_MAX_FUTURE_SECS`).
    pub max_future_secs: u64,
    /// The edge reads its key again past this age (before answering; from half of it, in the
    /// background).
    pub edge_cache_ttl_secs: u64,
    /// While the store cannot be read, the edge signs with its last key up to this age, then
    /// answers 503.
    pub edge_max_stale_secs: u64,
    /// After a failed read, the edge's next attempt waits this long.
    pub edge_refresh_retry_secs: u64,
    /// `Retry-After` of the edge's 503.
    pub edge_retry_after_secs: u64,
    /// One Secrets Manager call from the edge, at most.
    pub edge_call_timeout_secs: u64,
    /// The authorizer reads its ring again past this age (`ORIGINSIG_CACHE_TTL_SECS`).
    pub authorizer_cache_ttl_secs: u64,
    /// While the store cannot be read, the authorizer verifies with its last ring up to this age,
    /// then answers errors (`ORIGINSIG_MAX_STALE_SECS`).
    pub authorizer_max_stale_secs: u64,
    /// At most one read per this interval because of an unknown key id
    /// (`ORIGINSIG_UNKNOWN_KEY_REFRESH_SECS`).
    pub authorizer_unknown_key_refresh_secs: u64,
    /// After a failed read, the authorizer's next attempt waits this long
    /// (`ORIGINSIG_REFRESH_RETRY_SECS`).
    pub authorizer_refresh_retry_secs: u64,
    /// One Secrets Manager call from the authorizer, at most (well inside API Gateway's wait for
    /// an authorizer).
    pub authorizer_call_timeout_secs: u64,
    /// How long a CloudFront KeyValueStore update may take to reach every edge location (the
    /// CloudFront Functions signer reads its key there). AWS documents no bound; a measurement of
    /// 21–26 s was reported (issue 22) but could not be found again. **Unconfirmed**: the default
    /// is deliberately far above it, and
    /// the guard keeps the previous key accepted for at least this long after a promotion.
    pub kvs_propagation_secs: u64,
    /// Added to every derived bound.
    pub safety_margin_secs: u64,
}

/// The largest value any seconds setting takes: a year.
pub const MAX_SECS: u64 = 31_536_000;

impl Timing {
    /// The defaults.
    pub const DEFAULT: Timing = Timing {
        max_age_secs: Freshness::DEFAULT_MAX_AGE_SECS,
        max_future_secs: Freshness::DEFAULT_MAX_FUTURE_SECS,
        edge_cache_ttl_secs: 300,
        edge_max_stale_secs: 3_600,
        edge_refresh_retry_secs: 10,
        edge_retry_after_secs: 5,
        edge_call_timeout_secs: 2,
        authorizer_cache_ttl_secs: 300,
        authorizer_max_stale_secs: 21_600,
        authorizer_unknown_key_refresh_secs: 30,
        authorizer_refresh_retry_secs: 5,
        authorizer_call_timeout_secs: 2,
        kvs_propagation_secs: 600,
        safety_margin_secs: 30,
    };

    /// How long a new key stays AWSPENDING before promotion: every authorizer has read it.
    pub const fn propagation_wait(&self) -> Duration {
        Duration::from_secs(self.authorizer_cache_ttl_secs + self.safety_margin_secs)
    }

    /// How long after a promotion the key it demoted may still sign or be fresh: the guard.
    /// The longer of the two edges' bounds: a Lambda@Edge signs with a cached key up to
    /// `edge_max_stale`, a CloudFront function with the store's old item until the update has
    /// reached its location (`kvs_propagation`).
    pub const fn previous_key_in_use(&self) -> Duration {
        let edge = if self.kvs_propagation_secs > self.edge_max_stale_secs {
            self.kvs_propagation_secs
        } else {
            self.edge_max_stale_secs
        };
        Duration::from_secs(edge + self.max_age_secs + self.safety_margin_secs)
    }

    /// The rotator's time budget per invocation after the propagation wait: its reserve plus
    /// every check request at its timeout (`crate::checks`).
    pub const fn rotator_after_wait(&self) -> Duration {
        Duration::from_secs(ROTATOR_RESERVE_SECS + ROTATOR_CHECK_BUDGET_SECS)
    }

    /// The largest authorizer cache TTL a scheduled rotation fits with: the propagation wait
    /// (TTL + margin), the URL checks and the reserve all inside [`ROTATOR_TIMEOUT_SECS`]. The
    /// template's `AuthorizerCacheTtlSeconds` bound and the CDK construct's come from it
    /// (through `infra/timing.json`).
    pub const fn max_authorizer_cache_ttl_secs(&self) -> u64 {
        ROTATOR_TIMEOUT_SECS
            .saturating_sub(self.safety_margin_secs)
            .saturating_sub(self.rotator_after_wait().as_secs())
    }

    /// Earliest time a rotation may start after a promotion at `promoted_at` (Unix seconds).
    pub const fn next_safe_rotation(&self, promoted_at: u64) -> u64 {
        promoted_at.saturating_add(self.previous_key_in_use().as_secs())
    }

    /// The authorizer's freshness window.
    pub const fn freshness(&self) -> Freshness {
        Freshness {
            max_age_secs: self.max_age_secs,
            max_future_secs: self.max_future_secs,
        }
    }

    /// The authorizer's Secrets Manager calls: one attempt, bounded (the key cache retries).
    pub const fn authorizer_calls(&self) -> CallPolicy {
        CallPolicy {
            attempt_timeout: Duration::from_secs(self.authorizer_call_timeout_secs),
            call_timeout: Duration::from_secs(self.authorizer_call_timeout_secs),
            max_attempts: 1,
        }
    }

    /// `infra/timing.json`: the defaults and the derived bounds, for `bundle.py` and the
    /// template test.
    pub fn to_json(&self) -> String {
        #[expect(clippy::expect_used, reason = "invariant stated in the message")]
        let mut doc = serde_json::to_value(self).expect("a struct of integers serialises");
        if let Some(object) = doc.as_object_mut() {
            object.insert(
                "propagationWaitSecs".into(),
                self.propagation_wait().as_secs().into(),
            );
            object.insert(
                "previousKeyInUseSecs".into(),
                self.previous_key_in_use().as_secs().into(),
            );
            object.insert("rotatorTimeoutSecs".into(), ROTATOR_TIMEOUT_SECS.into());
            object.insert(
                "maxAuthorizerCacheTtlSecs".into(),
                self.max_authorizer_cache_ttl_secs().into(),
            );
        }
        #[expect(clippy::expect_used, reason = "invariant stated in the message")]
        let mut text = serde_json::to_string_pretty(&doc).expect("a JSON value serialises");
        text.push('\n');
        text
    }
}

/// The rotation Lambda's timeout (template `RotatorFunction.Timeout`, CDK; Lambda's maximum).
pub const ROTATOR_TIMEOUT_SECS: u64 = 900;

/// What the rotator keeps back of an invocation for its own calls and answer.
pub const ROTATOR_RESERVE_SECS: u64 = 10;

/// One HTTP request of a rotation check (`checks`), at most (the rotator budget below counts on
/// it; the rotator passes less when its invocation has less left).
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(15);

/// Requests of one direct check (unsigned, control, signed): the rotator reserves
/// `DIRECT_CHECK_REQUESTS * CHECK_TIMEOUT` (+ one for the CloudFront check) after its wait.
pub const DIRECT_CHECK_REQUESTS: u32 = 3;

/// The URL checks after the wait, at most: the CloudFront check and the direct check's requests,
/// each bounded by [`CHECK_TIMEOUT`].
pub const ROTATOR_CHECK_BUDGET_SECS: u64 = (DIRECT_CHECK_REQUESTS as u64 + 1) * CHECK_TIMEOUT.as_secs();

/// The calls of the CLI and the rotation Lambda: a few attempts, each bounded, so an endpoint
/// that accepts connections but never answers fails the command instead of hanging it.
pub const TOOL_CALLS: CallPolicy = CallPolicy {
    attempt_timeout: Duration::from_secs(4),
    call_timeout: Duration::from_secs(10),
    max_attempts: 3,
};

/// Reads a seconds variable through `get`: absent or empty → `default`; else a whole number
/// from 1 to [`MAX_SECS`]. The one parser for every `*_SECS` variable.
pub fn seconds_var(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
) -> Result<u64, ConfigError> {
    match get(name).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(text) => match text.parse::<u64>() {
            Ok(value) if (1..=MAX_SECS).contains(&value) => Ok(value),
            _ => Err(ConfigError {
                variable: name,
                problem: format!("expected a whole number of seconds from 1 to {MAX_SECS}, got {text:?}"),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_bounds() {
        let t = Timing::DEFAULT;
        assert_eq!(t.propagation_wait(), Duration::from_secs(330));
        assert_eq!(t.previous_key_in_use(), Duration::from_secs(3_690));
        assert_eq!(t.next_safe_rotation(1_000), 4_690);
        // 900 s timeout - 30 s margin - 10 s reserve - 4 checks of 15 s.
        assert_eq!(t.max_authorizer_cache_ttl_secs(), 800);
        let fits = Timing {
            authorizer_cache_ttl_secs: t.max_authorizer_cache_ttl_secs(),
            ..t
        };
        assert_eq!(
            (fits.propagation_wait() + fits.rotator_after_wait()).as_secs(),
            ROTATOR_TIMEOUT_SECS
        );
    }

    /// A store that propagates more slowly than a Lambda@Edge cache may stay stale holds the
    /// guard back by its own bound.
    #[test]
    fn the_guard_covers_the_key_value_store_propagation() {
        let t = Timing {
            edge_max_stale_secs: 10,
            kvs_propagation_secs: 900,
            ..Timing::DEFAULT
        };
        assert_eq!(t.previous_key_in_use(), Duration::from_secs(900 + 60 + 30));
    }

    /// `infra/timing.json` is what `originsig timing --json` prints: regenerate it with
    /// `cargo run -q --bin originsig -- timing --json > infra/timing.json`.
    #[test]
    fn the_committed_timing_file_is_the_default() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/timing.json");
        let committed = std::fs::read_to_string(path).unwrap();
        assert_eq!(
            committed,
            Timing::DEFAULT.to_json(),
            "infra/timing.json is stale: cargo run -q --bin originsig -- timing --json > infra/timing.json"
        );
    }
}
