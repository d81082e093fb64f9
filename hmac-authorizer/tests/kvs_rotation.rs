//! Rotation under traffic with a KeyValueStore that propagates slowly, key-level: every
//! simulated second, each edge location signs with what its view of the store returns at that
//! instant (`originsig_tests::kvs::EdgeView`), and authorizers verify with the ring they hold at
//! that instant (read from the key store every cache TTL). Three rotations, each started as soon
//! as the guard allows, through the real state machine (`rotation`), the real promotion step
//! (`edge_store::publish_current`) and the real SDK writing to the emulator. The emulator's clock
//! is manual, so minutes of propagation take milliseconds.
//!
//! Expected: zero denials. A read that finds no key (the store's transient "not found" while an
//! update spreads) is the function's 503 with Retry-After, counted apart: it is not a denial.

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use originsig_core::{sign, verify, ApiKind, KeyId, KeyRing, RequestTarget, SigningKey, UnixSeconds};
use originsig_hmac_authorizer::edge_store::publish_current;
use originsig_hmac_authorizer::rotation::{self, RotationError};
use originsig_hmac_authorizer::store::kvs::{KvsKeyCopy, KVS_ITEM_KEY};
use originsig_hmac_authorizer::store::{KeyFileStore, KeyStore, ReadRing};
use originsig_hmac_authorizer::timing::{Timing, TOOL_CALLS};
use originsig_tests::kvs::{EdgeView, KvsClock, KvsEmulator, Propagation, Spreading};

/// A deployment whose store propagates far more slowly than a Lambda@Edge cache may stay stale,
/// so the guard is the store's bound.
const TIMING: Timing = Timing {
    edge_max_stale_secs: 10,
    kvs_propagation_secs: 120,
    max_age_secs: 60,
    max_future_secs: 5,
    authorizer_cache_ttl_secs: 10,
    safety_margin_secs: 5,
    ..Timing::DEFAULT
};

/// An authorizer's cached ring: read again once its TTL is over.
struct Authorizer {
    ring: KeyRing,
    read_at: u64,
    /// Reads at its own phase within the TTL.
    phase: u64,
}

struct Traffic {
    views: Vec<(&'static str, EdgeView)>,
    authorizers: Vec<Authorizer>,
    denials: Vec<String>,
    unavailable: Vec<(&'static str, u64)>,
    requests: u64,
}

impl Traffic {
    /// One request per edge location per second for `seconds`, each verified by every
    /// authorizer.
    async fn run(&mut self, clock: &KvsClock, store: &KeyFileStore, now: &mut u64, seconds: u64) {
        let target = RequestTarget::from_edge(
            "GET",
            "api.example.com",
            "/prod",
            "/orders/1",
            "a=1",
            ApiKind::HttpApi,
        )
        .unwrap();
        for _ in 0..seconds {
            clock.advance(Duration::from_secs(1));
            *now += 1;
            for authorizer in &mut self.authorizers {
                if *now >= authorizer.read_at + TIMING.authorizer_cache_ttl_secs
                    && (*now % TIMING.authorizer_cache_ttl_secs) == authorizer.phase
                {
                    authorizer.ring = store.read_ring().await.unwrap();
                    authorizer.read_at = *now;
                }
            }
            for (name, view) in &self.views {
                let Some(value) = view.get(KVS_ITEM_KEY) else {
                    self.unavailable.push((name, *now));
                    continue;
                };
                let key = SigningKey::from_secret_value(&value).unwrap();
                let header = sign(&target, &key, UnixSeconds::new(*now)).render();
                self.requests += 1;
                for (i, authorizer) in self.authorizers.iter().enumerate() {
                    if let Err(error) = verify(
                        &header,
                        &target,
                        &authorizer.ring,
                        &TIMING.freshness(),
                        UnixSeconds::new(*now),
                    ) {
                        self.denials.push(format!(
                            "at {} (Unix s): edge {name} signed with {}, authorizer {i}: {error:?}",
                            *now,
                            key.id()
                        ));
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn rotations_with_a_slowly_propagating_store_deny_nothing() {
    let clock = KvsClock::manual();
    let emulator = KvsEmulator::start(clock.clone()).await.unwrap();
    let arn = emulator.create_store("rotation");
    let loader = originsig_hmac_authorizer::aws::config_loader(Some("us-east-1".into()), TOOL_CALLS)
        .endpoint_url(emulator.endpoint())
        .credentials_provider(aws_sdk_cloudfrontkeyvaluestore::config::Credentials::for_tests());
    let copy = KvsKeyCopy::open_with(&arn, loader).await.unwrap();
    let dir = std::env::temp_dir().join(format!("originsig-kvs-rotation-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keys.json");
    let _ = std::fs::remove_file(&path);
    let store = KeyFileStore::new(path);

    // Simulated Unix seconds, from the real clock on (the file store's own times are real).
    let mut now = originsig_hmac_authorizer::clock::now_unix();
    let first = SigningKey::new(KeyId::new("k0").unwrap(), vec![7; 32]).unwrap();
    store.create(&first, "test").await.unwrap();
    publish_current(&copy, &store, now).await.unwrap();
    // The first key reaches every location before traffic starts (the store is filled at deploy).
    clock.advance(Duration::from_secs(TIMING.kvs_propagation_secs));
    now += TIMING.kvs_propagation_secs;

    let location = |delay: u64, while_spreading| Propagation {
        delay: Duration::from_secs(delay),
        while_spreading,
    };
    let ring = store.read_ring().await.unwrap();
    let mut traffic = Traffic {
        views: vec![
            ("near", emulator.edge_view(&arn, Propagation::IMMEDIATE)),
            // As slow as the timing model allows: the old value until the update arrives.
            (
                "slowest",
                emulator.edge_view(
                    &arn,
                    location(TIMING.kvs_propagation_secs, Spreading::PreviousValue),
                ),
            ),
            // The reported measurement (21–26 s), with "not found" reads while it spreads.
            (
                "measured",
                emulator.edge_view(&arn, location(26, Spreading::Alternate)),
            ),
        ],
        authorizers: (0..TIMING.authorizer_cache_ttl_secs)
            .step_by(3)
            .map(|phase| Authorizer {
                ring: ring.clone(),
                read_at: now,
                phase,
            })
            .collect(),
        denials: Vec::new(),
        unavailable: Vec::new(),
        requests: 0,
    };
    traffic.run(&clock, &store, &mut now, 30).await;

    let mut promoted = Vec::new();
    for _ in 0..3 {
        // Start as soon as the guard allows.
        let stored = rotation::stored_ring(&store).await.unwrap();
        if let Err(RotationError::TooEarly { safe_at, .. }) =
            rotation::guard(&store, &stored, &TIMING, now).await
        {
            let wait = safe_at - now;
            traffic.run(&clock, &store, &mut now, wait).await;
        }
        let (pending, _) = rotation::start(&store, &TIMING, now, rotation::Overrides::NONE)
            .await
            .unwrap();
        traffic
            .run(&clock, &store, &mut now, TIMING.propagation_wait().as_secs())
            .await;
        rotation::promote(&store, &pending.token, now).await.unwrap();
        publish_current(&copy, &store, now).await.unwrap();
        promoted.push(pending.key.id().clone());
        traffic.run(&clock, &store, &mut now, 5).await;
    }
    traffic
        .run(&clock, &store, &mut now, TIMING.previous_key_in_use().as_secs())
        .await;

    assert!(
        traffic.denials.is_empty(),
        "{} of {} requests denied, first: {:#?}",
        traffic.denials.len(),
        traffic.requests,
        &traffic.denials[..traffic.denials.len().min(5)]
    );
    // Every edge ends on the last key.
    for (name, view) in &traffic.views {
        let value = view.get(KVS_ITEM_KEY).unwrap();
        assert_eq!(
            SigningKey::from_secret_value(&value).unwrap().id(),
            promoted.last().unwrap(),
            "{name}"
        );
    }
    // The slow location really signed with demoted keys for a while, and only the location
    // that reports "not found" while spreading was ever without a key.
    assert!(traffic.unavailable.iter().all(|(name, _)| *name == "measured"));
    assert!(
        !traffic.unavailable.is_empty(),
        "the not-found variant was exercised"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
