//! The one way every binary here builds its Secrets Manager client: the standard AWS environment
//! (profile, region, credentials, `AWS_ENDPOINT_URL_SECRETS_MANAGER`, …), one HTTPS client on
//! rustls + ring (the SDK's default brings aws-lc, which made each Lambda zip over a megabyte
//! larger), and a bound on every call so a Secrets Manager that never answers cannot hang a
//! caller.

use std::time::Duration;

use aws_sdk_secretsmanager::config::retry::RetryConfig;
use aws_sdk_secretsmanager::config::timeout::TimeoutConfig;
use aws_sdk_secretsmanager::config::ProvideCredentials;
use aws_sdk_secretsmanager::Client;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use thiserror::Error;

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

/// Who calls AWS and in which region, for the operator's tools: as with the AWS CLI, `--profile`
/// and `--region` when given, else the standard environment (`AWS_PROFILE`, `AWS_REGION`, the
/// profile's region, …). The Lambda functions never set these: their role and region are
/// Lambda's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub profile: Option<String>,
    pub region: Option<String>,
}

/// The region of an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:…`); `None` for a name or an ARN
/// without a region.
pub fn region_of_arn(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(5, ':');
    match (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) {
        (Some("arn"), Some(_), Some(_), Some(region), Some(_)) if !region.is_empty() => Some(region),
        _ => None,
    }
}

/// Why an AWS client for the operator could not be made. Each says what to do.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SetupError {
    #[error(
        "no AWS credentials found (looked in {looked_in}); pass --profile NAME (or set AWS_PROFILE), \
         run `aws sso login` for an SSO profile, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    )]
    NoCredentials { looked_in: String },
    #[error("AWS credentials could not be loaded: {0}")]
    Credentials(String),
    #[error(
        "no AWS region: pass --region, use the secret's ARN (its region is used), or set AWS_REGION \
         or a region in the profile"
    )]
    NoRegion,
}

/// The SDK configuration of the operator's tools, with credentials already found: a missing
/// credential is reported once, by name, before any call (the SDK's own error for it is a
/// "dispatch failure" that names IMDS).
pub async fn operator_config(
    identity: &Identity,
    policy: CallPolicy,
) -> Result<aws_config::SdkConfig, SetupError> {
    let mut loader = config_loader(identity.region.clone(), policy);
    if let Some(profile) = &identity.profile {
        loader = loader.profile_name(profile);
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return Err(SetupError::NoRegion);
    }
    let no_credentials = || SetupError::NoCredentials {
        looked_in: looked_in(identity.profile.as_deref(), &|name| std::env::var(name).ok()),
    };
    let provider = config.credentials_provider().ok_or_else(no_credentials)?;
    match provider.provide_credentials().await {
        Ok(_) => Ok(config),
        Err(aws_credential_types::provider::error::CredentialsError::CredentialsNotLoaded(_)) => {
            Err(no_credentials())
        }
        Err(other) => Err(SetupError::Credentials(with_causes(&other))),
    }
}

/// Where the SDK's default chain looks for credentials, in its order, for the message.
fn looked_in(profile: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> String {
    let set = |name: &str| env(name).filter(|v| !v.is_empty());
    let profile = profile
        .map(str::to_owned)
        .or_else(|| set("AWS_PROFILE"))
        .unwrap_or_else(|| "default".to_owned());
    let config = set("AWS_CONFIG_FILE").unwrap_or_else(|| "~/.aws/config".to_owned());
    let credentials = set("AWS_SHARED_CREDENTIALS_FILE").unwrap_or_else(|| "~/.aws/credentials".to_owned());
    let imds = if set("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        "EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED)"
    } else {
        "EC2 instance metadata"
    };
    format!(
        "the environment (AWS_ACCESS_KEY_ID), profile {profile:?} in {config} and {credentials}, \
         web identity (AWS_WEB_IDENTITY_TOKEN_FILE), the container endpoint, {imds}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_of_an_arn() {
        assert_eq!(
            region_of_arn("arn:aws:secretsmanager:eu-west-1:123456789012:secret:originsig/prod-AbCdEf"),
            Some("eu-west-1")
        );
        assert_eq!(region_of_arn("originsig/prod"), None);
        assert_eq!(region_of_arn("arn:aws:iam::123456789012:role/x"), None);
        assert_eq!(region_of_arn("arn:aws:secretsmanager:eu-west-1"), None);
    }

    #[test]
    fn the_credentials_message_names_where_it_looked() {
        let env = |name: &str| match name {
            "AWS_PROFILE" => Some("ops".to_owned()),
            "AWS_EC2_METADATA_DISABLED" => Some("true".to_owned()),
            _ => None,
        };
        let text = looked_in(None, &env);
        assert!(text.contains("profile \"ops\" in ~/.aws/config"), "{text}");
        assert!(text.contains("disabled by AWS_EC2_METADATA_DISABLED"), "{text}");
        assert!(looked_in(Some("cli"), &env).contains("profile \"cli\""));
    }
}
