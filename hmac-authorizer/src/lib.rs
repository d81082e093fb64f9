//! # originsig-hmac-authorizer
//!
//! The API Gateway Lambda authorizer of originsig, plus the pieces the `originsig` CLI and the
//! rotation Lambda share with it. Modules: [`config`] (environment variables), [`events`]
//! (authorizer events → request facts), [`store`] (where keys live: read and written),
//! [`key_cache`] (when the authorizer reads them), [`handler`] (the decision and the response),
//! [`observability`] (JSON logs and EMF metrics), [`rotation`] (the rotation state machine) and
//! [`rotation_lambda`] (Secrets Manager's rotation function around it).
//!
//! Features (`Cargo.toml`): without any, the crate is what the authorizer Lambda needs; `rotator`
//! adds the rotation modules, the URL checks and the key value store; `cli` (the default) adds
//! the `originsig` CLI.

pub mod aws;
#[cfg(feature = "rotator")]
pub(crate) mod checks;
#[cfg(feature = "cli")]
pub mod cli;
pub mod clock;
pub mod config;
#[cfg(feature = "rotator")]
pub mod edge_store;
pub mod events;
pub mod handler;
#[cfg(feature = "rotator")]
pub(crate) mod human_time;
pub mod key_cache;
pub mod observability;
pub(crate) mod prefix_hint;
pub mod response;
#[cfg(feature = "rotator")]
pub mod rotation;
#[cfg(feature = "rotator")]
pub mod rotation_lambda;
pub mod store;
pub mod timing;
