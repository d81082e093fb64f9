//! Support code for originsig's cross-component and end-to-end tests — real parts only — and
//! the local chain (`local-chain`, the README's main command).
//!
//! - [`runtime_api`]: a Lambda Runtime API emulator, so a real Lambda binary can be started the
//!   way Lambda starts it (`AWS_LAMBDA_RUNTIME_API`) and invoked;
//! - [`edge`]: the CloudFront emulator running the real edge bundle under Node, or a
//!   viewer-request CloudFront Function under njs;
//! - [`gateway`]: the API Gateway HTTP API emulator with the real authorizer binary;
//! - [`chain`]: all of it wired together, with either edge (Lambda@Edge, or the CloudFront
//!   Function reading an edge location of the KeyValueStore emulator);
//! - [`kvs`]: a CloudFront KeyValueStore emulator (data plane and edge views);
//! - [`moto`]: a real moto server on 127.0.0.1 for Secrets Manager;
//! - [`fault_proxy`]: a proxy in front of it that drops, hangs or delays chosen calls;
//! - [`repo`]: paths into the repository and the test keys.

// Reading a `serde_json::Value` by `&str` key yields `Null` when absent, never a panic; the
// emulators read event JSON that way throughout.
#![allow(clippy::indexing_slicing)]

pub mod chain;
pub mod edge;
pub mod fault_proxy;
pub mod gateway;
pub mod http;
pub mod kvs;
pub mod moto;
pub mod repo;
pub mod runtime_api;
