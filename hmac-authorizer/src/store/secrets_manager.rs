//! Secrets Manager as a store: one secret, one key per version, roles by staging label. The
//! time of the last promotion is kept in the tag `originsig:promoted-at` (Unix seconds).

use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::types::Tag;
use aws_sdk_secretsmanager::Client;
use originsig_core::{KeyRole, SigningKey};

use super::{KeyStore, KeyVersion, StoreError};

pub const PROMOTED_AT_TAG: &str = "originsig:promoted-at";

#[derive(Debug, Clone)]
pub struct SecretsManagerStore {
    client: Client,
    secret_id: String,
}

impl SecretsManagerStore {
    pub fn new(client: Client, secret_id: String) -> Self {
        SecretsManagerStore { client, secret_id }
    }

    /// A client from the standard AWS environment (profile, region, endpoint variables).
    pub async fn from_env(secret_id: String, region: Option<String>) -> Self {
        let mut loader = crate::aws::config_loader();
        if let Some(region) = region {
            loader = loader.region(aws_config::Region::new(region));
        }
        SecretsManagerStore {
            client: Client::new(&loader.load().await),
            secret_id,
        }
    }

    pub fn secret_id(&self) -> &str {
        &self.secret_id
    }

    fn error<E, R>(&self, action: &'static str, error: SdkError<E, R>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let code = error.code().unwrap_or("").to_owned();
        let text = format!("{action} {}: {}", self.secret_id, DisplayErrorContext(&error));
        match code.as_str() {
            "ResourceNotFoundException" => StoreError::NotFound(format!("secret {}", self.secret_id)),
            "ResourceExistsException" => StoreError::AlreadyExists(format!("secret {}", self.secret_id)),
            "AccessDeniedException" | "AccessDenied" | "UnrecognizedClientException" => {
                StoreError::AccessDenied(text, action)
            }
            "ThrottlingException" | "Throttling" | "TooManyRequestsException" => StoreError::Throttled(text),
            _ => StoreError::Aws(text),
        }
    }

    /// DescribeSecret: every labelled version with its labels (one call, no paging), the tags,
    /// and a clean ResourceNotFound for a missing secret.
    async fn describe(&self) -> Result<DescribeSecretOutput, StoreError> {
        self.client
            .describe_secret()
            .secret_id(&self.secret_id)
            .send()
            .await
            .map_err(|e| self.error("DescribeSecret", e))
    }
}

impl KeyStore for SecretsManagerStore {
    fn describe(&self) -> String {
        format!("secret {}", self.secret_id)
    }

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
        let described = self.describe().await?;
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
            let key = match value.secret_string() {
                Some(text) => SigningKey::from_secret_value(text),
                None => Err(originsig_core::KeyError::Shape(
                    "a SecretString (binary secrets are not supported)",
                )),
            };
            let created = value.created_date().and_then(|d| u64::try_from(d.secs()).ok());
            out.push(KeyVersion {
                version_id,
                labels,
                created,
                key,
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
        let described = self.describe().await?;
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
