//! Keys from AWS Secrets Manager: one secret, one key per version, roles by staging label
//! (SPEC.md §7). Honours the standard AWS environment, including
//! `AWS_ENDPOINT_URL_SECRETS_MANAGER`.

use std::time::Duration;

use aws_sdk_secretsmanager::error::DisplayErrorContext;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use aws_sdk_secretsmanager::Client;
use originsig_core::{KeyRing, KeyRole, SigningKey};

use super::{FetchError, RingFetcher};

#[derive(Debug, Clone)]
pub struct SecretsManagerFetcher {
    client: Client,
    secret_id: String,
}

impl SecretsManagerFetcher {
    /// A client from the standard AWS environment; each call gives up after `timeout` so a slow
    /// Secrets Manager cannot hold requests past the authorizer's own timeout.
    pub async fn from_env(secret_id: String, timeout: Duration) -> Self {
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .operation_timeout(timeout)
            .build();
        let config = crate::aws::config_loader().timeout_config(timeouts).load().await;
        SecretsManagerFetcher {
            client: Client::new(&config),
            secret_id,
        }
    }

    pub fn new(client: Client, secret_id: String) -> Self {
        SecretsManagerFetcher { client, secret_id }
    }

    /// The secret string staged `label`, or `None` when no version carries that label.
    async fn stage(&self, role: KeyRole) -> Result<Option<String>, FetchError> {
        let result = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .version_stage(role.staging_label())
            .send()
            .await;
        match result {
            Ok(output) => match output.secret_string {
                Some(text) => Ok(Some(text)),
                None => Err(FetchError::Malformed {
                    label: role.staging_label(),
                    error: originsig_core::KeyError::Shape(
                        "a SecretString (binary secrets are not supported)",
                    ),
                }),
            },
            Err(error) => match error.into_service_error() {
                // No version carries this label (normal for AWSPENDING and AWSPREVIOUS).
                GetSecretValueError::ResourceNotFoundException(_) if role != KeyRole::Current => Ok(None),
                other => Err(FetchError::Unavailable(format!(
                    "GetSecretValue {} {}: {}",
                    self.secret_id,
                    role.staging_label(),
                    DisplayErrorContext(&other)
                ))),
            },
        }
    }
}

impl RingFetcher for SecretsManagerFetcher {
    async fn fetch(&self) -> Result<KeyRing, FetchError> {
        let (current, pending, previous) = tokio::join!(
            self.stage(KeyRole::Current),
            self.stage(KeyRole::Pending),
            self.stage(KeyRole::Previous)
        );
        let current = current?
            .ok_or_else(|| FetchError::Unavailable(format!("{}: no AWSCURRENT version", self.secret_id)))?;
        let current = SigningKey::from_secret_value(&current).map_err(|error| FetchError::Malformed {
            label: "AWSCURRENT",
            error,
        })?;
        // A malformed PENDING or PREVIOUS (a human's mistake) must not take verification down:
        // it is left out, loudly.
        let optional = |role: KeyRole,
                        value: Result<Option<String>, FetchError>|
         -> Result<Option<SigningKey>, FetchError> {
            match value?.map(|text| SigningKey::from_secret_value(&text)) {
                None => Ok(None),
                Some(Ok(key)) => Ok(Some(key)),
                Some(Err(error)) => {
                    tracing::warn!(label = role.staging_label(), error = %error, "ignoring a malformed key version");
                    Ok(None)
                }
            }
        };
        let pending = optional(KeyRole::Pending, pending)?;
        let previous = optional(KeyRole::Previous, previous)?;
        KeyRing::new(current, pending, previous).map_err(|error| FetchError::Malformed {
            label: "key ring",
            error,
        })
    }

    fn describe(&self) -> String {
        format!("secretsmanager {}", self.secret_id)
    }
}
