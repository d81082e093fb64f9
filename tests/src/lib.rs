//! Support code for originsig's cross-component and end-to-end tests: real parts only.
//!
//! - [`runtime_api`]: a Lambda Runtime API emulator, so a real Lambda binary can be started the
//!   way Lambda starts it (`AWS_LAMBDA_RUNTIME_API`) and invoked;
//! - [`moto`]: a real moto server on 127.0.0.1 for Secrets Manager;
//! - [`repo`]: paths into the repository and the test keys.

pub mod moto;
pub mod repo;
pub mod runtime_api;
