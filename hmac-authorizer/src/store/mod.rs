//! Where the keys live: one store per backend, read by the authorizer (through
//! [`crate::key_cache::KeyCache`]) and written by `originsig` and the rotator
//! ([`crate::rotation`]). Secrets Manager (one secret, a key per version, roles by staging
//! label) or a key-ring file (the local chain). One error type for both.

mod file;
#[cfg(feature = "rotator")]
pub mod kvs;
mod secrets_manager;

use std::future::Future;

use originsig_core::{KeyError, KeyRing, KeyRole, SigningKey};
use thiserror::Error;

pub use file::KeyFileStore;
pub use secrets_manager::{
    SecretsManagerStore, FAILED_TEST_TAG, KVS_ARN_TAG, PROMOTED_AT_TAG, REPLICA_IN_SYNC,
};

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

/// What went wrong with a store. Each message says what failed and what to do next; none
/// carries key material.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("{what} does not exist; create it with `originsig init`")]
    NotFound { what: String },
    #[error("{what} already exists; `originsig init` never overwrites a key (use `originsig rotate`)")]
    AlreadyExists { what: String },
    #[error("{action} on {what}: access denied ({message}); the caller needs secretsmanager:{action} on this secret")]
    AccessDenied {
        action: &'static str,
        what: String,
        message: String,
    },
    #[error("{action} on {what}: throttled by Secrets Manager; wait a moment and try again (a rotation resumes where it stopped)")]
    Throttled { action: &'static str, what: String },
    #[error("{action} on {what}: no answer ({cause}); check the network path, the region and AWS_ENDPOINT_URL_SECRETS_MANAGER")]
    Unreachable {
        action: &'static str,
        what: String,
        cause: String,
    },
    #[error("{action} on {what}: {code}: {message}")]
    Service {
        action: &'static str,
        what: String,
        code: String,
        message: String,
    },
    #[error("key file {path}: {problem}")]
    File { path: String, problem: String },
    /// The CloudFront KeyValueStore that holds the edge's copy of the key (`store::kvs`).
    #[error("{action} on key value store {arn}: {problem}; {todo}")]
    KeyValueStore {
        action: &'static str,
        arn: String,
        problem: String,
        todo: String,
    },
    #[error("{what}: {label} is not a valid key: {problem}; put a valid value back (SPEC.md §7)")]
    Invalid {
        what: String,
        label: &'static str,
        problem: KeyError,
    },
}

/// What verifying needs of a store: reading the ring. The authorizer's key cache takes any
/// `ReadRing` (tests wrap a store to count or fail reads).
pub trait ReadRing: Send + Sync + 'static {
    /// Where the keys are, for messages: `secret originsig/prod`, `key file keys.json`.
    fn location(&self) -> String;
    /// The ring to verify with: AWSCURRENT, AWSPENDING and AWSPREVIOUS, by [`ring_from_labels`].
    fn read_ring(&self) -> impl Future<Output = Result<KeyRing, StoreError>> + Send;
}

/// Where the keys are and everything that can be done with them.
pub trait KeyStore: ReadRing {
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
    /// The version id whose rotation test failed last, if one is recorded (a promotion of that
    /// version then needs the test to pass, or `--force`). A store that cannot record it (the
    /// key file of the local chain) has none.
    fn failed_test(&self) -> impl Future<Output = Result<Option<String>, StoreError>> + Send {
        async { Ok(None) }
    }
    /// Records that the rotation test of `version` failed (`None`: clears the record after a
    /// test passed).
    fn record_failed_test(
        &self,
        version: Option<&str>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = version;
        async { Ok(()) }
    }
    /// Moves AWSCURRENT back to the AWSPREVIOUS version `previous` (the current version becomes
    /// AWSPREVIOUS). Only Secrets Manager can; the key file is edited by hand.
    fn roll_back(&self, previous: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = previous;
        let location = self.location();
        async move {
            Err(StoreError::File {
                path: location,
                problem:
                    "a key file cannot be rolled back by `originsig`; swap `current` and `previous` by hand"
                        .to_owned(),
            })
        }
    }
    /// The CloudFront KeyValueStore recorded as the one the edge reads its key from (an ARN),
    /// so that a promotion without `--kvs-arn` still writes it (`crate::cli::kvs`). A store
    /// that cannot record it (the key file of the local chain) has none.
    fn recorded_kvs(&self) -> impl Future<Output = Result<Option<String>, StoreError>> + Send {
        async { Ok(None) }
    }
    /// Records `arn` as the edge's key value store (`None`: the edge reads none).
    fn record_kvs(&self, arn: Option<&str>) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = arn;
        async { Ok(()) }
    }
    /// Each replica region of the store and its replication state (none for a key file).
    fn replicas(&self) -> impl Future<Output = Result<Vec<Replica>, StoreError>> + Send {
        async { Ok(Vec::new()) }
    }
    /// Whether `version` can be read in the replica `region` with `role`'s label on it.
    fn replica_has(
        &self,
        region: &str,
        version: &str,
        role: KeyRole,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let _ = (region, version, role);
        async { Ok(true) }
    }
}

/// One replica region of a secret, as `DescribeSecret` reports it (`ReplicationStatus`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    pub region: String,
    /// `InSync`, `InProgress` or `Failed` (Secrets Manager's words).
    pub status: String,
    pub message: Option<String>,
}

impl Replica {
    pub fn in_sync(&self) -> bool {
        self.status == REPLICA_IN_SYNC
    }
}

/// What a store found under one label: nothing, or a value that is or is not a valid key.
pub type LabelValue = Option<Result<SigningKey, KeyError>>;

/// SPEC.md §7's rule, the same for every store: no or a malformed AWSCURRENT fails the read (a
/// cache keeps its last good ring within its bounds); a malformed AWSPENDING or AWSPREVIOUS is
/// left out, with a warning, and the rest is used.
pub fn ring_from_labels(
    location: &str,
    current: LabelValue,
    pending: LabelValue,
    previous: LabelValue,
) -> Result<KeyRing, StoreError> {
    // The rule itself lives in the core, shared with `KeyRing::from_keyring_json`.
    let labelled =
        KeyRing::from_labels(current, pending, previous).map_err(|refused| StoreError::Invalid {
            what: location.to_owned(),
            label: refused.role.map_or("the key ring", KeyRole::staging_label),
            problem: refused.problem,
        })?;
    for (role, problem) in &labelled.left_out {
        tracing::warn!(store = location, label = role.staging_label(), problem = %problem, "leaving a malformed key version out of the ring");
    }
    Ok(labelled.ring)
}
