//! # originsig-edge-signer
//!
//! The Lambda@Edge half of originsig: CloudFront origin-request types ([`cloudfront`]), the
//! signing of one origin request ([`sign_origin_request`]), and the WebAssembly interface the
//! Node.js handler (`node/index.mjs`) calls ([`abi`]). Pure: no I/O, no clock.

pub mod abi;
pub mod cloudfront;
mod signer;

pub use signer::{sign_origin_request, EdgeError};
