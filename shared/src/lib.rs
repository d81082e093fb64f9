//! # originsig-core
//!
//! The originsig protocol (SPEC.md): a CloudFront origin-request signer adds one header,
//! `x-originsig: v2;t=<unix seconds>;k=<key id>;s=<HMAC-SHA256, base64url>`, over a canonical
//! form of the request that the API Gateway authorizer can rebuild from what it is given.
//!
//! Sans-I/O: no clock (`now` is an argument), no environment, no network, no AWS or Lambda
//! types, so the same code runs natively in the authorizer and as WebAssembly at the edge.
//!
//! ```
//! use originsig_core::{sign, verify, ApiKind, Freshness, KeyId, KeyRing, RequestTarget, SigningKey, UnixSeconds};
//!
//! let key = SigningKey::new(KeyId::new("k1").unwrap(), vec![7; 32]).unwrap();
//! let ring = KeyRing::single(key);
//! let edge = RequestTarget::from_edge("GET", "abc.execute-api.us-east-1.amazonaws.com", "/prod", "/a%20b", "y=2&x=1", ApiKind::HttpApi).unwrap();
//! let header = sign(&edge, ring.signing_key(), UnixSeconds::new(1_763_715_900));
//! let gateway = RequestTarget::from_gateway("GET", "abc.execute-api.us-east-1.amazonaws.com", "/prod/a b", "x=1&y=2").unwrap();
//! let verified = verify(&header.render(), &gateway, &ring, &Freshness::default(), UnixSeconds::new(1_763_715_902)).unwrap();
//! assert_eq!(verified.skew_secs, 2);
//! ```

#![deny(missing_docs, unreachable_pub)]

mod canonical;
mod error;
mod header;
mod key;
mod keyring;
mod percent;
mod protocol;
mod target;
mod time;

pub use canonical::{CanonicalRequest, Version};
pub use error::{KeyError, Malformed, UnsupportedVersion, VerifyError};
pub use header::{SignatureHeader, HEADER_NAME, MAX_HEADER_LEN};
pub use key::{KeyId, SigningKey, KEY_FORMAT, MAX_KEY_LEN, MIN_KEY_LEN};
pub use keyring::{KeyRing, KeyRingMembers, KeyRole, LabelledRing, RingRefused, KEYRING_FORMAT};
pub use protocol::{
    sign, sign_version, single_header_value, verify, verify_accepting, verify_header_values, AcceptV1,
    Verified,
};
pub use target::{ApiKind, CanonicalPath, CanonicalQuery, Host, Method, RequestTarget, MAX_TARGET_PART_LEN};
pub use time::{Freshness, UnixSeconds};
