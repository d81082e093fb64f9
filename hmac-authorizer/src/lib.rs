//! # originsig-hmac-authorizer
//!
//! The API Gateway Lambda authorizer of originsig, plus the pieces the `originsig` CLI and the
//! rotation Lambda share with it. Modules: [`config`] (environment variables), [`events`]
//! (authorizer events → request facts), [`store`] (where keys live: read and written),
//! [`key_cache`] (when the authorizer reads them), [`handler`] (the decision and the response),
//! [`observability`] (JSON logs and EMF metrics), [`rotation`] (the rotation state machine) and
//! [`rotation_lambda`] (Secrets Manager's rotation function around it).

pub mod aws;
pub(crate) mod checks;
pub mod cli;
pub mod clock;
pub mod config;
pub mod edge_store;
pub mod events;
pub mod handler;
pub(crate) mod human_time;
pub mod key_cache;
pub mod observability;
pub(crate) mod prefix_hint;
pub mod response;
pub mod rotation;
pub mod rotation_lambda;
pub mod store;
pub mod timing;
