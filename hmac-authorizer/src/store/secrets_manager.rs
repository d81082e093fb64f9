//! Secrets Manager as a store: one secret, one key per version, roles by staging label
//! (SPEC.md §7). The time of the last promotion is kept in the tag `originsig:promoted-at`
//! (Unix seconds), the version whose rotation test failed in `originsig:failed-test`, the
//! CloudFront Functions edge's key value store in `originsig:kvs-arn`. `TagResource` rights are
//! limited to these tag keys (infra/api-region.yaml, the CDK construct, infra/iam/rotate.json;
//! tests hold them to these constants).
//!
//! Replicas: `DescribeSecret`'s `ReplicationStatus` gives each replica region's state
//! (`InSync`, `InProgress`, `Failed`; "ReplicationStatusType", Secrets Manager API Reference,
//! <https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ReplicationStatusType.html>).
//! `InSync` is documented as "the replica was created", not as "holds the newest version", so
//! before a promotion the rotation also reads the version in each replica region
//! ([`KeyStore::replica_has`]).

use aws_sdk_secretsmanager::config::Region;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueOutput;
use aws_sdk_secretsmanager::types::Tag;
use aws_sdk_secretsmanager::Client;
use originsig_core::{KeyError, KeyRing, KeyRole, SigningKey};

use super::{ring_from_labels, KeyStore, KeyVersion, LabelValue, ReadRing, Replica, StoreError};

/// The tag that records the last promotion (Unix seconds).
pub const PROMOTED_AT_TAG: &str = "originsig:promoted-at";

/// The tag that records the version whose rotation test failed (empty: none).
pub const FAILED_TEST_TAG: &str = "originsig:failed-test";

/// The tag that records the CloudFront KeyValueStore the edge reads its key from (an ARN;
/// empty: none). Written by `originsig` when `--kvs-arn` is given and by the rotator from its
/// configuration; read so that a promotion run without `--kvs-arn` still updates the edge's copy.
pub const KVS_ARN_TAG: &str = "originsig:kvs-arn";

/// A replica's `ReplicationStatus` when Secrets Manager has replicated it.
pub const REPLICA_IN_SYNC: &str = "InSync";

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

/// The secret's id in a replica region: a name is the same; an ARN names the replica by its
/// region (`arn:partition:secretsmanager:REGION:account:secret:name`).
fn id_in_region(secret_id: &str, region: &str) -> String {
    let mut parts: Vec<&str> = secret_id.split(':').collect();
    if secret_id.starts_with("arn:") && parts.len() > 3 {
        if let Some(slot) = parts.get_mut(3) {
            *slot = region;
        }
        return parts.join(":");
    }
    secret_id.to_owned()
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

    /// A tag's value, if the secret has the tag.
    async fn tag(&self, key: &str) -> Result<Option<String>, StoreError> {
        let described = self.describe_secret().await?;
        Ok(described
            .tags()
            .iter()
            .find(|t| t.key() == Some(key))
            .and_then(|t| t.value().map(str::to_owned)))
    }

    async fn set_tag(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let tag = Tag::builder().key(key).value(value).build();
        self.client
            .tag_resource()
            .secret_id(&self.secret_id)
            .tags(tag)
            .send()
            .await
            .map_err(|e| self.error("TagResource", e))?;
        Ok(())
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
        Ok(self.tag(PROMOTED_AT_TAG).await?.and_then(|v| v.parse().ok()))
    }

    async fn record_promotion(&self, at: u64) -> Result<(), StoreError> {
        self.set_tag(PROMOTED_AT_TAG, &at.to_string()).await
    }

    async fn failed_test(&self) -> Result<Option<String>, StoreError> {
        Ok(self.tag(FAILED_TEST_TAG).await?.filter(|v| !v.is_empty()))
    }

    async fn record_failed_test(&self, version: Option<&str>) -> Result<(), StoreError> {
        // Cleared by an empty value: the rotator may tag (two tag keys) but not untag.
        self.set_tag(FAILED_TEST_TAG, version.unwrap_or("")).await
    }

    async fn recorded_kvs(&self) -> Result<Option<String>, StoreError> {
        Ok(self.tag(KVS_ARN_TAG).await?.filter(|v| !v.is_empty()))
    }

    async fn record_kvs(&self, arn: Option<&str>) -> Result<(), StoreError> {
        // Cleared by an empty value, as the failed-test record is.
        self.set_tag(KVS_ARN_TAG, arn.unwrap_or("")).await
    }

    async fn roll_back(&self, previous: &str) -> Result<(), StoreError> {
        // Moving AWSCURRENT moves AWSPREVIOUS to the version it left (UpdateSecretVersionStage,
        // Secrets Manager API Reference): the same call as a promotion.
        self.promote(previous).await
    }

    async fn replicas(&self) -> Result<Vec<Replica>, StoreError> {
        let described = self.describe_secret().await?;
        Ok(described
            .replication_status()
            .iter()
            .map(|r| Replica {
                region: r.region().unwrap_or("(unnamed region)").to_owned(),
                status: r
                    .status()
                    .map_or_else(|| "(no status)".to_owned(), |s| s.as_str().to_owned()),
                message: r.status_message().map(str::to_owned),
            })
            .collect())
    }

    async fn replica_has(&self, region: &str, version: &str, role: KeyRole) -> Result<bool, StoreError> {
        let config = self
            .client
            .config()
            .to_builder()
            .region(Region::new(region.to_owned()))
            .build();
        let replica = Client::from_conf(config);
        let result = replica
            .get_secret_value()
            .secret_id(id_in_region(&self.secret_id, region))
            .version_id(version)
            .send()
            .await;
        match result {
            Ok(value) => Ok(value
                .version_stages()
                .iter()
                .any(|stage| stage == role.staging_label())),
            Err(error) => match self.error("GetSecretValue (replica)", error) {
                // Not there yet: the version (or the replica) has not arrived.
                StoreError::NotFound { .. } => Ok(false),
                StoreError::Service { code, .. } if code == "InvalidRequestException" => Ok(false),
                other => Err(other),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::id_in_region;

    #[test]
    fn a_replica_is_named_by_its_region() {
        assert_eq!(id_in_region("originsig/keys", "eu-west-1"), "originsig/keys");
        assert_eq!(
            id_in_region(
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:k-AbCdEf",
                "eu-west-1"
            ),
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:k-AbCdEf"
        );
    }
}
