//! The one way every binary here builds its Secrets Manager client: the standard AWS environment
//! (profile, region, credentials, `AWS_ENDPOINT_URL_SECRETS_MANAGER`, …), one HTTPS client on
//! rustls + ring (the SDK's default brings aws-lc, which made each Lambda zip over a megabyte
//! larger), and a bound on every call so a Secrets Manager that never answers cannot hang a
//! caller.

use std::time::Duration;

use aws_sdk_secretsmanager::config::retry::RetryConfig;
use aws_sdk_secretsmanager::config::timeout::TimeoutConfig;
use aws_sdk_secretsmanager::Client;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

/// How long one call may take, and how many attempts it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallPolicy {
    /// One attempt: connect, send, read the answer.
    pub attempt_timeout: Duration,
    /// All attempts of one call together.
    pub call_timeout: Duration,
    /// 1 means no SDK retries (the caller has its own retry policy).
    pub max_attempts: u32,
}

/// A Secrets Manager client for `region` (or the environment's).
pub async fn secrets_manager_client(region: Option<String>, policy: CallPolicy) -> Client {
    Client::new(&config_loader(region, policy).load().await)
}

/// The loader behind [`secrets_manager_client`], for tests that add an endpoint and test
/// credentials to exactly what the binaries use.
pub fn config_loader(region: Option<String>, policy: CallPolicy) -> aws_config::ConfigLoader {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(policy.attempt_timeout)
        .read_timeout(policy.attempt_timeout)
        .operation_attempt_timeout(policy.attempt_timeout)
        .operation_timeout(policy.call_timeout)
        .build();
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .timeout_config(timeouts)
        .retry_config(RetryConfig::standard().with_max_attempts(policy.max_attempts));
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region));
    }
    loader
}

/// An error with its causes, each once: the SDK's and reqwest's own text says only "dispatch
/// failure" or "error sending request".
pub(crate) fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        cause = inner.source();
    }
    text
}
