//! The edge's copy of the signing key: one item of a CloudFront KeyValueStore, read by the
//! CloudFront Functions signer (one `kvs.get` per request) and written here at every promotion.
//!
//! The secret stays the source of truth; this item is a copy of its AWSCURRENT version: key
//! [`KVS_ITEM_KEY`], value exactly the secret value of SPEC.md §7
//! (`{"format":"originsig-key-v1","kid":…,"key":…}`).
//!
//! Writes go through the `cloudfront-keyvaluestore` data plane: DescribeKeyValueStore gives the
//! store's ETag, PutKey sends it as `If-Match`; another writer in between makes PutKey fail with
//! `ConflictException`, and the write starts again with a fresh ETag, at most
//! [`MAX_WRITE_ATTEMPTS`] times. The SDK signs with SigV4A (the service's endpoint rules ask for
//! it) and sends requests to `https://<account>.cloudfront-kvs.global.api.aws`; with
//! `AWS_ENDPOINT_URL_CLOUDFRONT_KEYVALUESTORE` the account id is put in front of that endpoint's
//! host, so a local endpoint is written `http://localhost:<port>` (names under `localhost` are
//! loopback here, RFC 6761 §6.3).

use std::net::{IpAddr, Ipv4Addr};

use aws_sdk_cloudfrontkeyvaluestore::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudfrontkeyvaluestore::Client;
use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns};
use originsig_core::{KeyError, SigningKey};

use super::StoreError;
use crate::aws::CallPolicy;

/// The one item the store holds for originsig. Its one source is `infra/kvs-item-key.txt`, which
/// the CloudFront function's build (`edge-signer/cloudfront-function/build.py`) and the tests'
/// CloudFront emulator read too.
pub const KVS_ITEM_KEY: &str = include_str!("../../../infra/kvs-item-key.txt").trim_ascii();
/// The store's ARN, for the CLI and the rotation Lambda.
pub const KVS_ARN_VAR: &str = crate::rotation_lambda::KVS_ARN;
/// PutKey attempts when other writers keep changing the store's ETag.
pub const MAX_WRITE_ATTEMPTS: usize = 5;

/// The store's ARN, checked for the shape the service's endpoint rules require
/// (`arn:<partition>:cloudfront::<account>:key-value-store/<id>`, no region).
pub fn check_arn(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let problem = match parts.as_slice() {
        ["arn", partition, "cloudfront", "", account, resource] => {
            if partition.is_empty() {
                Some("no partition")
            } else if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
                Some("the account id must be 12 digits")
            } else if !resource.strip_prefix("key-value-store/").is_some_and(|id| {
                !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            }) {
                Some("the resource must be key-value-store/<id>")
            } else {
                None
            }
        }
        _ => Some(
            "expected arn:aws:cloudfront::<account>:key-value-store/<id> (CloudFront ARNs have no region)",
        ),
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(format!("{arn:?} is not a key value store ARN: {problem}")),
    }
}

/// Resolves names under `localhost` to loopback without asking DNS (RFC 6761 §6.3), everything
/// else as the system does. The service's endpoint rules turn a local endpoint override
/// `http://localhost:PORT` into `http://<account>.localhost:PORT`, which the system resolver
/// here does not know.
#[derive(Debug, Clone, Default)]
struct LoopbackAwareResolver;

impl ResolveDns for LoopbackAwareResolver {
    fn resolve_dns<'a>(&'a self, name: &'a str) -> DnsFuture<'a> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if name == "localhost" || name.ends_with(".localhost") {
            return DnsFuture::ready(Ok(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]));
        }
        DnsFuture::new(async move {
            let addresses = tokio::net::lookup_host((name.as_str(), 0))
                .await
                .map_err(aws_smithy_runtime_api::client::dns::ResolveDnsError::new)?;
            Ok(addresses.map(|a| a.ip()).collect())
        })
    }
}

/// What the store holds under [`KVS_ITEM_KEY`].
pub type KvsValue = Option<Result<SigningKey, KeyError>>;

/// Whether a write changed the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The store held this key already.
    Unchanged,
    /// The store holds it now (after this many PutKey attempts).
    Updated { attempts: usize },
}

/// One KeyValueStore, as the place the edge reads its key.
#[derive(Debug, Clone)]
pub struct KvsKeyCopy {
    client: Client,
    arn: String,
}

impl KvsKeyCopy {
    /// A client for the store `arn` (checked with [`check_arn`]): the standard AWS environment,
    /// bounded calls, the same rustls + ring HTTPS client as every other call here.
    pub async fn open(arn: &str, region: Option<String>, policy: CallPolicy) -> Result<Self, String> {
        Self::open_with(arn, crate::aws::config_loader(region, policy)).await
    }

    /// [`KvsKeyCopy::open`] from a loader (tests add an endpoint and test credentials to exactly
    /// what the binaries use).
    pub async fn open_with(arn: &str, loader: aws_config::ConfigLoader) -> Result<Self, String> {
        check_arn(arn)?;
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_with_resolver(LoopbackAwareResolver);
        let config = loader.http_client(http).load().await;
        Ok(KvsKeyCopy {
            client: Client::new(&config),
            arn: arn.to_owned(),
        })
    }

    pub fn arn(&self) -> &str {
        &self.arn
    }

    pub fn location(&self) -> String {
        format!("key value store {} (item {KVS_ITEM_KEY})", self.arn)
    }

    fn error<E, R>(&self, action: &'static str, error: &SdkError<E, R>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let store = |problem: String, todo: String| StoreError::KeyValueStore {
            action,
            arn: self.arn.clone(),
            problem,
            todo,
        };
        match error {
            SdkError::ServiceError(service) => {
                let code = service.err().code().unwrap_or("").to_owned();
                let message = service.err().message().unwrap_or("").to_owned();
                let todo = match code.as_str() {
                    "ResourceNotFoundException" => format!(
                        "check the ARN (--kvs-arn / {KVS_ARN_VAR}: the edge stack's KeyValueStoreArn output)"
                    ),
                    "AccessDeniedException" | "AccessDenied" | "UnrecognizedClientException" => {
                        format!("the caller needs cloudfront-keyvaluestore:{action} on this store")
                    }
                    "ConflictException" => {
                        "another writer keeps changing the store; run the command again (it is idempotent)"
                            .to_owned()
                    }
                    "ThrottlingException" | "Throttling" | "InternalServerException" => {
                        "wait a moment and run the command again (it is idempotent)".to_owned()
                    }
                    _ => "see the message; the secret is unchanged by this failure".to_owned(),
                };
                store(format!("{code}: {message}"), todo)
            }
            SdkError::TimeoutError(_) => store(
                "timed out".to_owned(),
                "check the network path and AWS_ENDPOINT_URL_CLOUDFRONT_KEYVALUESTORE".to_owned(),
            ),
            other => store(
                crate::aws::with_causes(other),
                "check the network path, the credentials and AWS_ENDPOINT_URL_CLOUDFRONT_KEYVALUESTORE"
                    .to_owned(),
            ),
        }
    }

    /// The item as the data plane holds it now (edges may still read an older one).
    pub async fn read(&self) -> Result<KvsValue, StoreError> {
        let result = self
            .client
            .get_key()
            .kvs_arn(&self.arn)
            .key(KVS_ITEM_KEY)
            .send()
            .await;
        match result {
            Ok(item) => Ok(Some(SigningKey::from_secret_value(item.value()))),
            Err(SdkError::ServiceError(service)) if service.err().is_resource_not_found_exception() => {
                // Both a missing item and a missing store answer this; tell them apart.
                self.etag().await?;
                Ok(None)
            }
            Err(error) => Err(self.error("GetKey", &error)),
        }
    }

    async fn etag(&self) -> Result<String, StoreError> {
        let described = self
            .client
            .describe_key_value_store()
            .kvs_arn(&self.arn)
            .send()
            .await
            .map_err(|e| self.error("DescribeKeyValueStore", &e))?;
        Ok(described.e_tag().to_owned())
    }

    /// Makes the item hold `key`: nothing to do if it does already; else DescribeKeyValueStore
    /// and PutKey with its ETag, again with a fresh ETag after a conflict, at most
    /// [`MAX_WRITE_ATTEMPTS`] times.
    pub async fn write(&self, key: &SigningKey) -> Result<Written, StoreError> {
        if let Some(Ok(held)) = self.read().await? {
            if held.id() == key.id() && held.same_secret(key) {
                return Ok(Written::Unchanged);
            }
        }
        let value = key.to_secret_value();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let etag = self.etag().await?;
            let result = self
                .client
                .put_key()
                .kvs_arn(&self.arn)
                .key(KVS_ITEM_KEY)
                .value(value.as_str())
                .if_match(etag)
                .send()
                .await;
            match result {
                Ok(_) => return Ok(Written::Updated { attempts }),
                Err(SdkError::ServiceError(service))
                    if service.err().is_conflict_exception() && attempts < MAX_WRITE_ATTEMPTS =>
                {
                    tracing::info!(store = %self.arn, attempts, "the store changed between DescribeKeyValueStore and PutKey; writing again");
                }
                Err(error) => return Err(self.error("PutKey", &error)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check_arn;

    #[test]
    fn arns_of_the_shape_the_endpoint_rules_take() {
        assert!(check_arn("arn:aws:cloudfront::123456789012:key-value-store/a1b2-c3").is_ok());
        for bad in [
            "",
            "arn:aws:cloudfront:us-east-1:123456789012:key-value-store/a",
            "arn:aws:cloudfront::12345:key-value-store/a",
            "arn:aws:cloudfront::123456789012:distribution/a",
            "arn:aws:cloudfront::123456789012:key-value-store/",
            "arn:aws:s3:::bucket",
        ] {
            assert!(check_arn(bad).is_err(), "{bad}");
        }
    }
}
