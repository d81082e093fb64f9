//! `--kvs-arn`: the CloudFront KeyValueStore the CloudFront Functions edge reads its key from
//! (`crate::edge_store`). Optional: without it, nothing is written or checked there.

use clap::Args;

use super::{CliError, RegionArgs};
use crate::edge_store::{self, Comparison, Published};
use crate::rotation::StoredRing;
use crate::store::kvs::{KvsKeyCopy, Written, KVS_ARN_VAR};
use crate::store::KeyStore;
use crate::timing::TOOL_CALLS;

#[derive(Debug, Clone, Args)]
pub struct KvsArgs {
    /// The CloudFront KeyValueStore of a CloudFront Functions edge (the edge stack's
    /// KeyValueStoreArn output): promotions copy AWSCURRENT into it, status and doctor compare it.
    #[arg(long, env = KVS_ARN_VAR, value_name = "ARN")]
    pub kvs_arn: Option<String>,
}

impl KvsArgs {
    /// The store's client, when `--kvs-arn` is given; a malformed ARN is a usage error.
    pub async fn open(&self, region: &RegionArgs) -> Result<Option<KvsKeyCopy>, CliError> {
        match self.kvs_arn.as_deref().filter(|a| !a.is_empty()) {
            None => Ok(None),
            Some(arn) => KvsKeyCopy::open(arn, region.region.clone(), TOOL_CALLS)
                .await
                .map(Some)
                .map_err(|e| CliError::Usage(format!("--kvs-arn: {e}"))),
        }
    }
}

/// Writes AWSCURRENT into the store if it does not hold it; says what it did (stderr). `None`
/// without a store.
pub async fn publish(
    copy: Option<&KvsKeyCopy>,
    store: &impl KeyStore,
    now: u64,
) -> Result<Option<Published>, CliError> {
    let Some(copy) = copy else { return Ok(None) };
    let published = edge_store::publish_current(copy, store, now).await?;
    match published.written {
        Written::Unchanged => eprintln!(
            "key value store {}: holds {} already",
            copy.arn(),
            published.key_id
        ),
        Written::Updated { .. } => eprintln!(
            "key value store {}: now holds {} (edges read it once the update reaches them)",
            copy.arn(),
            published.key_id
        ),
    }
    Ok(Some(published))
}

/// The store compared with the ring, when `--kvs-arn` is given.
pub async fn compare(copy: Option<&KvsKeyCopy>, ring: &StoredRing) -> Result<Option<Comparison>, CliError> {
    match copy {
        None => Ok(None),
        Some(copy) => Ok(Some(edge_store::compare(copy, ring).await?)),
    }
}
