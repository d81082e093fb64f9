//! Where the key versions live, for the tools that change them (`originsig`, the rotator).
//! Two stores behind one trait: Secrets Manager (staging labels) and a key-ring file (the local
//! chain). The rotation state machine (`crate::rotation`) only talks to this trait.

mod file;
mod secrets_manager;

use std::future::Future;

use originsig_core::{KeyError, KeyRole, SigningKey};
use thiserror::Error;

pub use file::KeyFileStore;
pub use secrets_manager::SecretsManagerStore;

/// One stored key version.
#[derive(Debug, Clone)]
pub struct KeyVersion {
    /// Secrets Manager version id (the rotation token); for a key file, the stored token or the role.
    pub version_id: String,
    /// Staging labels on this version (AWSCURRENT, AWSPENDING, AWSPREVIOUS, or others a human added).
    pub labels: Vec<String>,
    /// Unix seconds, when the store knows.
    pub created: Option<u64>,
    /// The key, or why the value is not a valid key.
    pub key: Result<SigningKey, KeyError>,
}

impl KeyVersion {
    pub fn has(&self, role: KeyRole) -> bool {
        self.labels.iter().any(|l| l == role.staging_label())
    }
}

/// What went wrong talking to a store. Each message says what to do next.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("{0} does not exist; create it with `originsig init`")]
    NotFound(String),
    #[error("{0} already exists; `originsig init` never overwrites a key (use `originsig rotate`)")]
    AlreadyExists(String),
    #[error("access denied: {0}; the caller needs secretsmanager:{1} on this secret")]
    AccessDenied(String, &'static str),
    #[error("throttled by Secrets Manager: {0}; wait a moment and run the command again (rotation resumes where it stopped)")]
    Throttled(String),
    #[error("{0}")]
    Aws(String),
    #[error("the stored value is invalid: {0}")]
    Invalid(String),
}

/// The operations the CLI and the rotator need.
pub trait KeyStore: Send + Sync {
    /// Where the keys are, for messages.
    fn describe(&self) -> String;
    /// Creates the store with `key` as AWSCURRENT; `AlreadyExists` if there is one.
    fn create(
        &self,
        key: &SigningKey,
        description: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Every version that carries at least one staging label.
    fn versions(&self) -> impl Future<Output = Result<Vec<KeyVersion>, StoreError>> + Send;
    /// Stores `key` as a new version `token` labelled AWSPENDING. Idempotent for the same token.
    fn put_pending(
        &self,
        token: &str,
        key: &SigningKey,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Moves AWSCURRENT to `token` (the old current becomes AWSPREVIOUS) and drops AWSPENDING
    /// from it. Idempotent: nothing to do if `token` is already current.
    fn promote(&self, token: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// When the last promotion happened (Unix seconds), if recorded.
    fn last_promotion(&self) -> impl Future<Output = Result<Option<u64>, StoreError>> + Send;
    /// Records a promotion time.
    fn record_promotion(&self, at: u64) -> impl Future<Output = Result<(), StoreError>> + Send;
}
