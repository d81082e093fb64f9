//! Path and query canonicalisation: never a panic, idempotent, and the edge and gateway views of
//! the same decoded path agree (HTTP API: decoded twice; REST API: decoded once); the v1 and v2
//! canonical queries hold the same pairs and differ only where a key repeats.
#![no_main]

use libfuzzer_sys::fuzz_target;
use originsig_core::{ApiKind, CanonicalPath, CanonicalQuery, Version};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (origin, uri) = text.split_at(text.char_indices().nth(text.len() / 3).map_or(0, |(i, _)| i));
    for api in [ApiKind::HttpApi, ApiKind::RestApi] {
        if let Ok(path) = CanonicalPath::from_edge(origin, uri, api) {
            let again = CanonicalPath::from_rest_path(path.as_str()).expect("canonical path re-parses");
            assert_eq!(again, path, "path canonicalisation is idempotent");
        }
    }
    if let Ok(path) = CanonicalPath::from_decoded(text) {
        let from_edge = CanonicalPath::from_edge("", path.as_str(), ApiKind::RestApi).expect("canonical path re-parses");
        assert_eq!(from_edge, path, "edge and gateway agree");
        // Encoding the canonical form's '%' once more is what an HTTP API viewer sends.
        let twice = path.as_str().replace('%', "%25");
        let http = CanonicalPath::from_edge("", &twice, ApiKind::HttpApi).expect("doubly encoded path signs");
        assert_eq!(http, path, "HTTP API edge and gateway agree");
    }
    if let Ok(query) = CanonicalQuery::from_raw(text) {
        let again = CanonicalQuery::from_raw(query.as_str()).expect("canonical query re-parses");
        assert_eq!(again, query, "query canonicalisation is idempotent");
        // v1 and v2 differ only in the order of a repeated key's values.
        if !query.repeats_key() {
            assert_eq!(query.for_version(Version::V1), query.as_str(), "no repeated key: v1 = v2");
        }
        let v1 = CanonicalQuery::from_raw(query.for_version(Version::V1)).expect("v1 query re-parses");
        assert_eq!(v1.for_version(Version::V1), query.for_version(Version::V1), "v1 is idempotent");
        assert_eq!(v1.as_str().len(), query.as_str().len(), "same pairs, maybe in another order");
    }
});
