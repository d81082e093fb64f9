//! The Secrets Manager key source against a real moto server: all three staging labels, a
//! rotation seen between calls, the unknown-key refresh limit, malformed values, and an outage
//! (last good ring kept until the maximum staleness, then fail closed).

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_secretsmanager::Client;
use originsig_core::{KeyId, KeyRing, KeyRole, SigningKey};
use originsig_hmac_authorizer::config::CachePolicy;
use originsig_hmac_authorizer::key_cache::KeyCache;
use originsig_hmac_authorizer::store::{ReadRing, SecretsManagerStore, StoreError};
use originsig_hmac_authorizer::timing::Timing;
use originsig_tests::moto::MotoServer;

fn key(id: &str, byte: u8) -> SigningKey {
    SigningKey::new(KeyId::new(id).unwrap(), vec![byte; 32]).unwrap()
}

fn value(key: &SigningKey) -> String {
    key.to_secret_value().to_string()
}

/// Counts fetches: wraps the real fetcher (no fake AWS anywhere).
struct Counting<F> {
    inner: F,
    calls: Arc<AtomicUsize>,
}

impl<F: ReadRing> ReadRing for Counting<F> {
    async fn read_ring(&self) -> Result<KeyRing, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.read_ring().await
    }
    fn location(&self) -> String {
        self.inner.location()
    }
}

async fn create(client: &Client, name: &str, current: &SigningKey) {
    client
        .create_secret()
        .name(name)
        .secret_string(value(current))
        .send()
        .await
        .unwrap();
}

async fn put_pending(client: &Client, name: &str, key: &SigningKey, token: &str) {
    client
        .put_secret_value()
        .secret_id(name)
        .secret_string(value(key))
        .client_request_token(token)
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
}

/// Moves AWSCURRENT to `token` (Secrets Manager moves the old current to AWSPREVIOUS).
async fn promote(client: &Client, name: &str, token: &str) {
    let described = client.describe_secret().secret_id(name).send().await.unwrap();
    let current = described
        .version_ids_to_stages()
        .unwrap()
        .iter()
        .find(|(_, stages)| stages.iter().any(|s| s == "AWSCURRENT"))
        .map(|(id, _)| id.clone())
        .unwrap();
    client
        .update_secret_version_stage()
        .secret_id(name)
        .version_stage("AWSCURRENT")
        .move_to_version_id(token)
        .remove_from_version_id(current)
        .send()
        .await
        .unwrap();
    client
        .update_secret_version_stage()
        .secret_id(name)
        .version_stage("AWSPENDING")
        .remove_from_version_id(token)
        .send()
        .await
        .unwrap();
}

fn ids(ring: &KeyRing) -> Vec<(KeyRole, String)> {
    ring.entries()
        .map(|(role, key)| (role, key.id().to_string()))
        .collect()
}

fn policy(ttl_ms: u64, max_stale_ms: u64) -> CachePolicy {
    CachePolicy {
        ttl: Duration::from_millis(ttl_ms),
        max_stale: Duration::from_millis(max_stale_ms),
        unknown_key_interval: Duration::from_millis(500),
        retry_interval: Duration::from_millis(100),
        read_bound: CachePolicy::default().read_bound,
    }
}

#[tokio::test]
async fn reads_all_three_labels_and_follows_a_rotation() {
    let moto = MotoServer::start().unwrap();
    let client = common::moto_client(&moto).await;
    create(&client, "authz/rotation", &key("k-a", 1)).await;
    let fetcher = SecretsManagerStore::new(client.clone(), "authz/rotation".into());
    let calls = Arc::new(AtomicUsize::new(0));
    let cache = KeyCache::init(
        Counting {
            inner: fetcher,
            calls: Arc::clone(&calls),
        },
        policy(60_000, 120_000),
    )
    .await;
    assert_eq!(
        ids(&cache.ring().await.unwrap()),
        [(KeyRole::Current, "k-a".to_owned())]
    );

    // A new key is staged AWSPENDING: an unknown key id triggers one refresh, which finds it.
    put_pending(
        &client,
        "authz/rotation",
        &key("k-b", 2),
        "token-b-0000000000000000000000000000",
    )
    .await;
    let newer = cache.ring_after_unknown_key().await.unwrap();
    assert!(newer
        .find("k-b")
        .is_some_and(|(role, _)| role == KeyRole::Pending));
    // Another unknown id right after: no second call (JWKS-style limit).
    let before = calls.load(Ordering::SeqCst);
    assert!(cache.ring_after_unknown_key().await.is_none());
    assert_eq!(calls.load(Ordering::SeqCst), before);

    // Promotion: k-b current, k-a previous.
    promote(&client, "authz/rotation", "token-b-0000000000000000000000000000").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let ring = cache.ring_after_unknown_key().await.unwrap();
    assert_eq!(
        ids(&ring),
        [
            (KeyRole::Current, "k-b".to_owned()),
            (KeyRole::Previous, "k-a".to_owned())
        ]
    );
}

#[tokio::test]
async fn reads_in_the_background_from_half_the_ttl_and_before_answering_past_it() {
    let moto = MotoServer::start().unwrap();
    let client = common::moto_client(&moto).await;
    create(&client, "authz/ttl", &key("k-a", 1)).await;
    let cache = KeyCache::init(
        SecretsManagerStore::new(client.clone(), "authz/ttl".into()),
        policy(600, 60_000),
    )
    .await;
    put_pending(
        &client,
        "authz/ttl",
        &key("k-b", 2),
        "token-ttl-000000000000000000000000000",
    )
    .await;
    promote(&client, "authz/ttl", "token-ttl-000000000000000000000000000").await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    // Past half the TTL: this call is served from the cache and starts a read...
    assert_eq!(cache.ring().await.unwrap().signing_key().id().as_str(), "k-a");
    // ...which lands shortly after.
    let mut seen = String::new();
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        seen = cache.ring().await.unwrap().signing_key().id().to_string();
        if seen == "k-b" {
            break;
        }
    }
    assert_eq!(seen, "k-b");

    // Idle past the TTL across two promotions: the first answer is the newest ring, and the
    // key that left every label is in it no more.
    put_pending(
        &client,
        "authz/ttl",
        &key("k-c", 3),
        "token-ttl-111111111111111111111111111",
    )
    .await;
    promote(&client, "authz/ttl", "token-ttl-111111111111111111111111111").await;
    put_pending(
        &client,
        "authz/ttl",
        &key("k-d", 4),
        "token-ttl-222222222222222222222222222",
    )
    .await;
    promote(&client, "authz/ttl", "token-ttl-222222222222222222222222222").await;
    tokio::time::sleep(Duration::from_millis(650)).await;
    let ring = cache.ring().await.unwrap();
    assert_eq!(ring.signing_key().id().as_str(), "k-d");
    assert!(
        ring.find("k-b").is_none(),
        "k-b left every label two promotions ago"
    );
}

#[tokio::test]
async fn malformed_values_keep_the_last_good_ring() {
    let moto = MotoServer::start().unwrap();
    let client = common::moto_client(&moto).await;
    create(&client, "authz/malformed", &key("k-a", 1)).await;
    let fetcher = SecretsManagerStore::new(client.clone(), "authz/malformed".into());
    let cache = KeyCache::init(fetcher.clone(), policy(100, 60_000)).await;

    // A malformed PENDING (a human's mistake) is left out; CURRENT still verifies.
    client
        .put_secret_value()
        .secret_id("authz/malformed")
        .secret_string("not json")
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
    let ring = fetcher.read_ring().await.unwrap();
    assert_eq!(ids(&ring), [(KeyRole::Current, "k-a".to_owned())]);
    // A binary PENDING is malformed like any other: left out, and a cold cache starts fine.
    client
        .put_secret_value()
        .secret_id("authz/malformed")
        .secret_binary(aws_sdk_secretsmanager::primitives::Blob::new(vec![1, 2, 3]))
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
    let cold = KeyCache::init(fetcher.clone(), policy(100, 60_000)).await;
    assert_eq!(
        ids(&cold.ring().await.unwrap()),
        [(KeyRole::Current, "k-a".to_owned())]
    );

    // A malformed CURRENT (short key, then not JSON): the fetch fails, the cache keeps k-a.
    for bad in [
        r#"{"format":"originsig-key-v1","kid":"k-short","key":"AAAA"}"#,
        "[]",
    ] {
        client
            .put_secret_value()
            .secret_id("authz/malformed")
            .secret_string(bad)
            .send()
            .await
            .unwrap();
        let error = fetcher.read_ring().await.unwrap_err();
        assert!(
            matches!(
                error,
                StoreError::Invalid {
                    label: "AWSCURRENT",
                    ..
                }
            ),
            "{error}"
        );
        assert!(!error.to_string().contains("AAAA"), "the error quotes no value");
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(!cache.refresh().await);
        assert_eq!(cache.ring().await.unwrap().signing_key().id().as_str(), "k-a");
    }
}

#[tokio::test]
async fn an_outage_keeps_the_ring_until_max_stale_then_fails_closed() {
    let mut moto = MotoServer::start().unwrap();
    let client = common::moto_client_with(&moto, Timing::DEFAULT.authorizer_calls()).await;
    create(&client, "authz/outage", &key("k-a", 1)).await;
    let cache = KeyCache::init(
        SecretsManagerStore::new(client, "authz/outage".into()),
        policy(200, 1_200),
    )
    .await;
    assert!(cache.ring().await.is_ok());
    moto.stop();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        cache.ring().await.unwrap().signing_key().id().as_str(),
        "k-a",
        "stale but within max_stale"
    );
    tokio::time::sleep(Duration::from_millis(900)).await;
    let error = cache.ring().await.unwrap_err();
    assert!(!error.last_error.is_empty(), "{error}");
}

#[tokio::test]
async fn a_missing_secret_is_unavailable_from_the_start() {
    let moto = MotoServer::start().unwrap();
    let client = common::moto_client(&moto).await;
    let cache = KeyCache::init(
        SecretsManagerStore::new(client, "authz/none".into()),
        policy(1_000, 2_000),
    )
    .await;
    let error = cache.ring().await.unwrap_err();
    assert!(error.last_error.contains("does not exist"), "{error}");
}
