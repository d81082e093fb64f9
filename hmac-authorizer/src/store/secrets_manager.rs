//! Secrets Manager as a store: one secret, one key per version, roles by staging label
//! (SPEC.md §7). The time of the last promotion is kept in the tag `originsig:promoted-at`
//! (Unix seconds).

use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput;
use aws_sdk_secretsmanager::types::Tag;
use aws_sdk_secretsmanager::Client;
use originsig_core::{KeyError, KeyRing, KeyRole, SigningKey};

use super::{ring_from_labels, KeyStore, KeyVersion, LabelValue, ReadRing, StoreError};

/// The tag that records the last promotion (Unix seconds).
pub const PROMOTED_AT_TAG: &str = "originsig:promoted-at";

#[derive(Debug, Clone)]
pub struct SecretsManagerStore {
    client: Client,
    secret_id: String,
}

/// The key in a version's value; a binary secret is a malformed value like any other.
fn key_of(value: &GetSecretValueOutput) -> Result<SigningKey, KeyError> {
    match value.secret_string() {
        Some(text) => SigningKey::from_secret_value(text),
        None => Err(KeyError::Shape(
            "a SecretString (binary secrets are not supported)",
        )),
    }
}

impl SecretsManagerStore {
    /// `client` comes from [`crate::aws::secrets_manager_client`], built once per process.
    pub fn new(client: Client, secret_id: String) -> Self {
        SecretsManagerStore { client, secret_id }
    }

    fn error<E, R>(&self, action: &'static str, error: SdkError<E, R>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let what = format!("secret {}", self.secret_id);
        match &error {
            SdkError::ServiceError(service) => {
                let code = service.err().code().unwrap_or("").to_owned();
                let message = service.err().message().unwrap_or("").to_owned();
                match code.as_str() {
                    "ResourceNotFoundException" => StoreError::NotFound { what },
                    "ResourceExistsException" => StoreError::AlreadyExists { what },
                    "AccessDeniedException" | "AccessDenied" | "UnrecognizedClientException" => {
                        StoreError::AccessDenied {
                            action,
                            what,
                            message,
                        }
                    }
                    "ThrottlingException" | "Throttling" | "TooManyRequestsException" => {
                        StoreError::Throttled { action, what }
                    }
                    _ => StoreError::Service {
                        action,
                        what,
                        code,
                        message,
                    },
                }
            }
            SdkError::TimeoutError(_) => StoreError::Unreachable {
                action,
                what,
                cause: "timed out".to_owned(),
            },
            _ => StoreError::Unreachable {
                action,
                what,
                cause: crate::aws::with_causes(&error),
            },
        }
    }

    /// DescribeSecret: every labelled version with its labels (one call, no paging), the tags,
    /// and a clean ResourceNotFound for a missing secret.
    async fn describe_secret(&self) -> Result<DescribeSecretOutput, StoreError> {
        self.client
            .describe_secret()
            .secret_id(&self.secret_id)
            .send()
            .await
            .map_err(|e| self.error("DescribeSecret", e))
    }

    /// The value staged `role`; `None` when no version carries the label.
    async fn staged(&self, role: KeyRole) -> Result<LabelValue, StoreError> {
        let result = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .version_stage(role.staging_label())
            .send()
            .await;
        match result {
            Ok(value) => Ok(Some(key_of(&value))),
            Err(error) => match self.error("GetSecretValue", error) {
                // No version carries this label: normal for AWSPENDING and AWSPREVIOUS.
                StoreError::NotFound { .. } if role != KeyRole::Current => Ok(None),
                other => Err(other),
            },
        }
    }
}

impl ReadRing for SecretsManagerStore {
    fn location(&self) -> String {
        format!("secret {}", self.secret_id)
    }

    async fn read_ring(&self) -> Result<KeyRing, StoreError> {
        let (current, pending, previous) = tokio::join!(
            self.staged(KeyRole::Current),
            self.staged(KeyRole::Pending),
            self.staged(KeyRole::Previous)
        );
        ring_from_labels(&self.location(), current?, pending?, previous?)
    }
}

impl KeyStore for SecretsManagerStore {
    async fn create(&self, key: &SigningKey, description: &str) -> Result<(), StoreError> {
        self.client
            .create_secret()
            .name(&self.secret_id)
            .description(description)
            .secret_string(key.to_secret_value().as_str())
            .send()
            .await
            .map_err(|e| self.error("CreateSecret", e))?;
        Ok(())
    }

    async fn versions(&self) -> Result<Vec<KeyVersion>, StoreError> {
        let described = self.describe_secret().await?;
        let mut labelled: Vec<(String, Vec<String>)> = described
            .version_ids_to_stages()
            .map(|map| {
                map.iter()
                    .filter(|(_, labels)| !labels.is_empty())
                    .map(|(id, l)| (id.clone(), l.clone()))
                    .collect()
            })
            .unwrap_or_default();
        labelled.sort();
        let mut out = Vec::with_capacity(labelled.len());
        for (version_id, labels) in labelled {
            let value = self
                .client
                .get_secret_value()
                .secret_id(&self.secret_id)
                .version_id(&version_id)
                .send()
                .await
                .map_err(|e| self.error("GetSecretValue", e))?;
            out.push(KeyVersion {
                key: key_of(&value),
                created: value.created_date().and_then(|d| u64::try_from(d.secs()).ok()),
                version_id,
                labels,
            });
        }
        Ok(out)
    }

    async fn put_pending(&self, token: &str, key: &SigningKey) -> Result<(), StoreError> {
        self.client
            .put_secret_value()
            .secret_id(&self.secret_id)
            .client_request_token(token)
            .secret_string(key.to_secret_value().as_str())
            .version_stages(KeyRole::Pending.staging_label())
            .send()
            .await
            .map_err(|e| self.error("PutSecretValue", e))?;
        Ok(())
    }

    async fn promote(&self, token: &str) -> Result<(), StoreError> {
        let versions = self.versions().await?;
        let current = versions
            .iter()
            .find(|v| v.has(KeyRole::Current))
            .map(|v| v.version_id.clone());
        if current.as_deref() != Some(token) {
            self.client
                .update_secret_version_stage()
                .secret_id(&self.secret_id)
                .version_stage(KeyRole::Current.staging_label())
                .move_to_version_id(token)
                .set_remove_from_version_id(current)
                .send()
                .await
                .map_err(|e| self.error("UpdateSecretVersionStage", e))?;
        }
        let still_pending = versions
            .iter()
            .any(|v| v.version_id == token && v.has(KeyRole::Pending));
        if still_pending {
            self.client
                .update_secret_version_stage()
                .secret_id(&self.secret_id)
                .version_stage(KeyRole::Pending.staging_label())
                .remove_from_version_id(token)
                .send()
                .await
                .map_err(|e| self.error("UpdateSecretVersionStage", e))?;
        }
        Ok(())
    }

    async fn last_promotion(&self) -> Result<Option<u64>, StoreError> {
        let described = self.describe_secret().await?;
        Ok(described
            .tags()
            .iter()
            .find(|t| t.key() == Some(PROMOTED_AT_TAG))
            .and_then(|t| t.value()?.parse().ok()))
    }

    async fn record_promotion(&self, at: u64) -> Result<(), StoreError> {
        let tag = Tag::builder().key(PROMOTED_AT_TAG).value(at.to_string()).build();
        self.client
            .tag_resource()
            .secret_id(&self.secret_id)
            .tags(tag)
            .send()
            .await
            .map_err(|e| self.error("TagResource", e))?;
        Ok(())
    }
}
