//! The Lambda authorizer binary (`provided.al2023`, arm64 or x86_64). Configuration: the
//! `ORIGINSIG_*` environment variables (README.md).

use std::sync::Arc;

use lambda_runtime::{service_fn, LambdaEvent};
use originsig_hmac_authorizer::aws::secrets_manager_client;
use originsig_hmac_authorizer::config::{Config, KeySourceConfig, LOG_LEVEL};
use originsig_hmac_authorizer::handler::Authorizer;
use originsig_hmac_authorizer::key_cache::KeyCache;
use originsig_hmac_authorizer::observability::init_logging;
use originsig_hmac_authorizer::store::{KeyFileStore, ReadRing, SecretsManagerStore};
use serde_json::value::RawValue;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_logging(&std::env::var(LOG_LEVEL).unwrap_or_else(|_| "info".to_owned()));
    let config = match Config::from_env(|name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(error) => {
            // Fail the init, loudly, with the variable's name: Lambda reports it and retries.
            tracing::error!(variable = error.variable, error = %error, "invalid configuration");
            return Err(error.into());
        }
    };
    match config.keys.clone() {
        KeySourceConfig::SecretsManager { secret_id } => {
            // One client for the life of the container; no SDK retries: the key cache retries.
            let client = secrets_manager_client(None, config.secrets_manager_calls).await;
            run(SecretsManagerStore::new(client, secret_id), config).await
        }
        KeySourceConfig::File { path } => run(KeyFileStore::new(path), config).await,
    }
}

async fn run<S: ReadRing>(store: S, config: Config) -> Result<(), lambda_runtime::Error> {
    let keys = KeyCache::init(store, config.cache).await;
    let authorizer = Arc::new(
        Authorizer::new(keys, config.mode, config.freshness, config.metrics.clone())
            .accepting_v1(config.accept_v1),
    );
    // The event stays JSON text (`RawValue`): the handler reads the few fields it needs from it
    // directly, instead of the runtime building a whole value first.
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let authorizer = Arc::clone(&authorizer);
        async move { authorizer.handle_json(event.payload.get()).await }
    }))
    .await
}
