//! The authorizer: event in, decision, response out. Every verification failure is mapped here,
//! once, to a deny + a log line + a metric.

use std::sync::Arc;

use originsig_core::{
    single_header_value, verify_accepting, AcceptV1, Freshness, KeyRing, UnixSeconds, UnsupportedVersion,
    Verified, VerifyError,
};
use serde_json::Value;
use thiserror::Error;

use crate::config::AuthorizerMode;
use crate::events::{self, RequestFacts, WrongEventType};
use crate::key_cache::{KeyCache, KeysUnavailable};
use crate::observability::{self, MetricsTarget};
use crate::prefix_hint::{prefix_hint, PrefixHint};
use crate::response::AuthorizerResponse;
use crate::store::ReadRing;

/// Why the authorizer answered with an error (API Gateway turns it into a 500): never a deny
/// reason, always something the operator must fix or wait out.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AuthorizerError {
    #[error(transparent)]
    WrongEventType(#[from] WrongEventType),
    #[error(transparent)]
    KeysUnavailable(#[from] KeysUnavailable),
}

impl AuthorizerError {
    pub fn error_type(&self) -> &'static str {
        match self {
            AuthorizerError::WrongEventType(_) => "WrongEventType",
            AuthorizerError::KeysUnavailable(_) => "KeysUnavailable",
        }
    }
}

/// What the Lambda runtime reports for an error (API Gateway answers 500).
impl From<AuthorizerError> for lambda_runtime::Diagnostic {
    fn from(error: AuthorizerError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: error.error_type().to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// The verdict on one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow(Verified),
    Deny(VerifyError),
}

/// A decision with what the deny log line says beyond the reason.
struct Outcome {
    decision: Decision,
    hint: Option<PrefixHint>,
}

/// What to change when a signature's version was refused (names the variable to set).
fn version_hint(reason: &VerifyError, accept_v1: AcceptV1) -> Option<String> {
    let VerifyError::UnsupportedVersion(why) = reason else {
        return None;
    };
    let variable = crate::config::ACCEPT_V1;
    Some(match why {
        UnsupportedVersion::V1RepeatedQueryKey | UnsupportedVersion::V1NotAccepted => format!(
            "an edge bundle older than protocol v2 signed this ({variable}={}): deploy the current edge \
             bundle, or set {variable}=all until every edge signs v2",
            accept_v1.as_str()
        ),
        _ => "a signer newer than this authorizer: deploy the current authorizer before the edge".to_owned(),
    })
}

pub struct Authorizer<S> {
    keys: Arc<KeyCache<S>>,
    mode: AuthorizerMode,
    freshness: Freshness,
    accept_v1: AcceptV1,
    metrics: MetricsTarget,
    emit_metrics: bool,
}

impl<S> std::fmt::Debug for Authorizer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizer")
            .field("mode", &self.mode)
            .field("freshness", &self.freshness)
            .field("accept_v1", &self.accept_v1)
            .finish()
    }
}

/// The adapter reads the clock; the core never does.
fn now_unix() -> (UnixSeconds, u64) {
    let ms = crate::clock::now_unix_ms();
    (UnixSeconds::new(ms / 1000), ms)
}

impl<S: ReadRing> Authorizer<S> {
    pub fn new(
        keys: Arc<KeyCache<S>>,
        mode: AuthorizerMode,
        freshness: Freshness,
        metrics: MetricsTarget,
    ) -> Self {
        Authorizer {
            keys,
            mode,
            freshness,
            accept_v1: AcceptV1::default(),
            metrics,
            emit_metrics: true,
        }
    }

    /// Which v1 signatures to accept (`ORIGINSIG_ACCEPT_V1`; default: unambiguous ones).
    pub fn accepting_v1(mut self, accept_v1: AcceptV1) -> Self {
        self.accept_v1 = accept_v1;
        self
    }

    /// No EMF lines (benchmarks measure the decision, not stdout).
    pub fn without_metrics(mut self) -> Self {
        self.emit_metrics = false;
        self
    }

    fn metric(&self, decision: &str, reason: &str, now_ms: u64) {
        if self.emit_metrics {
            observability::emit_metric(&self.metrics, decision, reason, now_ms);
        }
    }

    /// Handles one authorizer event, given as the JSON text the Lambda runtime received.
    pub async fn handle_json(&self, event: &str) -> Result<AuthorizerResponse, AuthorizerError> {
        let facts = match self.mode {
            AuthorizerMode::Simple | AuthorizerMode::Iam => events::from_http_api_v2(event),
            AuthorizerMode::Rest => events::from_rest_request(event),
        };
        let facts = match facts {
            Ok(facts) => facts,
            Err(error) => {
                tracing::error!(decision = "error", reason = "wrong_event_type", error = %error, "authorization error");
                self.metric("error", "wrong_event_type", now_unix().1);
                return Err(error.into());
            }
        };
        let (now, now_ms) = now_unix();
        let outcome = match self.decide_with_hint(&facts, now, true).await {
            Ok(outcome) => outcome,
            Err(error) => {
                tracing::error!(decision = "error", reason = "keys_unavailable", error = %error, request_id = facts.request_id.as_deref(), "authorization error");
                self.metric("error", "keys_unavailable", now_ms);
                return Err(error.into());
            }
        };
        self.record(&facts, &outcome, now_ms);
        let verified = match &outcome.decision {
            Decision::Allow(verified) => Some(verified),
            Decision::Deny(_) => None,
        };
        Ok(AuthorizerResponse::new(
            self.mode,
            verified,
            facts.cf_request_id.as_deref(),
            &facts.resource_arn,
        ))
    }

    /// [`Authorizer::handle_json`] for an event already parsed into a JSON value, answering in
    /// one (for tests and tools; the Lambda binary hands over the text).
    pub async fn handle(&self, event: Value) -> Result<Value, AuthorizerError> {
        let response = self.handle_json(&event.to_string()).await?;
        #[expect(clippy::expect_used, reason = "invariant stated in the message")]
        let value = serde_json::to_value(response)
            .expect("the response types serialise to JSON: string keys, no floats that could be NaN");
        Ok(value)
    }

    /// Verifies the facts against the key ring; an unknown key id may refresh the ring once.
    pub async fn decide(
        &self,
        facts: &RequestFacts<'_>,
        now: UnixSeconds,
    ) -> Result<Decision, KeysUnavailable> {
        Ok(self.decide_with_hint(facts, now, false).await?.decision)
    }

    /// [`Authorizer::decide`], and for an HTTP API `bad_signature` (when `want_hint`) whether a
    /// path-prefix mismatch explains it.
    async fn decide_with_hint(
        &self,
        facts: &RequestFacts<'_>,
        now: UnixSeconds,
        want_hint: bool,
    ) -> Result<Outcome, KeysUnavailable> {
        let deny = |reason| Outcome {
            decision: Decision::Deny(reason),
            hint: None,
        };
        if let Err(malformed) = &facts.header_values {
            return Ok(deny(VerifyError::Malformed(*malformed)));
        }
        // The one value, by the rule every verifier shares (SPEC.md §6), before any key work.
        let value = match single_header_value(facts.signature_values()) {
            Ok(value) => value,
            Err(reason) => return Ok(deny(reason)),
        };
        let target = match &facts.target {
            Ok(target) => target,
            Err(malformed) => return Ok(deny(VerifyError::Malformed(*malformed))),
        };
        let mut ring = self.keys.ring().await?;
        let check =
            |ring: &KeyRing| verify_accepting(value, target, ring, &self.freshness, now, self.accept_v1);
        let mut result = check(&ring);
        if result == Err(VerifyError::UnknownKey) {
            if let Some(newer) = self.keys.ring_after_unknown_key().await {
                result = check(&newer);
                ring = newer;
            }
        }
        Ok(match result {
            Ok(verified) => Outcome {
                decision: Decision::Allow(verified),
                hint: None,
            },
            Err(reason) => {
                let hint =
                    (want_hint && reason == VerifyError::BadSignature && self.mode != AuthorizerMode::Rest)
                        .then(|| {
                            let stage = facts.stage.as_deref();
                            prefix_hint(value, target, &facts.path, stage, &ring, &self.freshness, now)
                        })
                        .flatten();
                Outcome {
                    decision: Decision::Deny(reason),
                    hint,
                }
            }
        })
    }

    fn record(&self, facts: &RequestFacts<'_>, outcome: &Outcome, now_ms: u64) {
        match &outcome.decision {
            Decision::Allow(v) => {
                tracing::info!(
                    decision = "allow",
                    reason = "ok",
                    version = v.version.tag(),
                    key_id = v.key_id.as_str(),
                    key_role = v.role.as_str(),
                    signed_at = v.signed_at.as_secs(),
                    skew_secs = v.skew_secs,
                    method = &*facts.method,
                    path = &*facts.path,
                    cf_request_id = facts.cf_request_id.as_deref(),
                    request_id = facts.request_id.as_deref(),
                    "authorization decision"
                );
                self.metric("allow", "ok", now_ms);
            }
            Decision::Deny(reason) => {
                let detail = reason.detail();
                let hint = outcome
                    .hint
                    .as_ref()
                    .map(PrefixHint::message)
                    .or_else(|| version_hint(reason, self.accept_v1));
                tracing::info!(
                    decision = "deny",
                    reason = reason.reason(),
                    detail,
                    explanation = %reason,
                    hint,
                    method = &*facts.method,
                    path = &*facts.path,
                    cf_request_id = facts.cf_request_id.as_deref(),
                    request_id = facts.request_id.as_deref(),
                    "authorization decision"
                );
                self.metric("deny", reason.reason(), now_ms);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_version_names_what_to_change() {
        let refused = |why| VerifyError::UnsupportedVersion(why);
        let v1 = version_hint(
            &refused(UnsupportedVersion::V1RepeatedQueryKey),
            AcceptV1::Unambiguous,
        )
        .unwrap();
        assert!(v1.contains("ORIGINSIG_ACCEPT_V1=unambiguous"), "{v1}");
        assert!(v1.contains("ORIGINSIG_ACCEPT_V1=all"), "{v1}");
        let none = version_hint(&refused(UnsupportedVersion::V1NotAccepted), AcceptV1::None).unwrap();
        assert!(none.contains("ORIGINSIG_ACCEPT_V1=none"), "{none}");
        let newer = version_hint(&refused(UnsupportedVersion::Unknown), AcceptV1::All).unwrap();
        assert!(newer.contains("authorizer before the edge"), "{newer}");
        for hint in [v1, none, newer] {
            assert!(!hint.contains("  "), "runs of spaces: {hint}");
        }
        assert_eq!(version_hint(&VerifyError::BadSignature, AcceptV1::All), None);
    }
}
