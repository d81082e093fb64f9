//! # originsig-hmac-authorizer
//!
//! The API Gateway Lambda authorizer of originsig, plus the pieces the `originsig` CLI and the
//! rotator share with it. Modules: [`config`] (environment variables), [`events`] (authorizer
//! events → request facts), [`keys`] (key sources and the cache policy), [`handler`] (the
//! decision and the response), [`observability`] (JSON logs and EMF metrics).

pub mod aws;
pub mod checks;
pub mod cli;
pub mod config;
pub mod events;
pub mod handler;
pub mod keys;
pub mod observability;
pub mod prefix_hint;
pub mod response;
pub mod rotation;
pub mod rotator;
pub mod store;
pub mod timefmt;
