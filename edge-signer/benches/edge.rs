//! The native edge signer on a realistic origin-request event: JSON in, signed JSON out.

// Benchmark code: a panic is how a broken setup shows.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use originsig_core::{KeyId, SigningKey, UnixSeconds};
use originsig_edge_signer::cloudfront::OriginRequestEvent;
use originsig_edge_signer::sign_origin_request;

fn benches(c: &mut Criterion) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/events/custom-origin-get.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{e}"));
    let key = KeyId::new("k1")
        .ok()
        .and_then(|id| SigningKey::new(id, vec![7; 32]).ok())
        .unwrap_or_else(|| panic!("key"));
    c.bench_function("edge/sign_origin_request_json", |b| {
        b.iter(|| {
            let mut event: OriginRequestEvent =
                serde_json::from_str(black_box(&text)).unwrap_or_else(|e| panic!("{e}"));
            if let Some(record) = event.records.first_mut() {
                let _ = sign_origin_request(&mut record.cf.request, &key, UnixSeconds::new(1_763_715_900));
            }
            serde_json::to_string(&event).unwrap_or_default()
        })
    });
}

criterion_group!(edge, benches);
criterion_main!(edge);
