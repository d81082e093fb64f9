//! # originsig-edge-signer
//!
//! The Lambda@Edge half of originsig, compiled to WebAssembly: every decision about one origin
//! request ([`plan_signing`]) and the interface the Node.js handler (`node/index.mjs`) calls
//! ([`abi`]). The handler applies the plan to CloudFront's event; there is no native signer
//! beside it, so what the tests check is what runs at the edge. Pure: no I/O, no clock.

pub mod abi;
mod signer;

pub use signer::{
    plan_signing, EdgeError, OriginRequestView, OriginView, PathPrefix, SigningOptions, SigningPlan,
};
