//! Path and query canonicalisation: never a panic, idempotent, and the edge and gateway views of
//! the same decoded path agree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use originsig_core::{CanonicalPath, CanonicalQuery};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (origin, uri) = text.split_at(text.char_indices().nth(text.len() / 3).map_or(0, |(i, _)| i));
    if let Ok(path) = CanonicalPath::from_encoded(origin, uri) {
        let again = CanonicalPath::from_encoded("", path.as_str()).expect("canonical path re-parses");
        assert_eq!(again, path, "path canonicalisation is idempotent");
    }
    if let Ok(path) = CanonicalPath::from_decoded(text) {
        let from_edge = CanonicalPath::from_encoded("", path.as_str()).expect("canonical path re-parses");
        assert_eq!(from_edge, path, "edge and gateway agree");
    }
    if let Ok(query) = CanonicalQuery::from_raw(text) {
        let again = CanonicalQuery::from_raw(query.as_str()).expect("canonical query re-parses");
        assert_eq!(again, query, "query canonicalisation is idempotent");
    }
});
