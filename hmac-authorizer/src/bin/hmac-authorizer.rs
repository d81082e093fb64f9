//! The Lambda authorizer binary (`provided.al2023`, arm64 or x86_64). Configuration: the
//! `ORIGINSIG_*` environment variables (docs/reference/configuration.md). Run by hand, it says what it is and exits 2.

use std::process::ExitCode;
use std::sync::Arc;

use lambda_runtime::{service_fn, LambdaEvent};
use originsig_hmac_authorizer::aws::secrets_manager_client;
use originsig_hmac_authorizer::config::{Config, KeySourceConfig, AUTHORIZER_BINARY, LOG_LEVEL};
use originsig_hmac_authorizer::handler::Authorizer;
use originsig_hmac_authorizer::key_cache::KeyCache;
use originsig_hmac_authorizer::observability::init_logging;
use originsig_hmac_authorizer::store::{KeyFileStore, ReadRing, SecretsManagerStore};
use serde_json::value::RawValue;

#[tokio::main]
async fn main() -> ExitCode {
    if let Err(sentence) =
        AUTHORIZER_BINARY.started_by_lambda(std::env::args().skip(1), |name| std::env::var(name).ok())
    {
        // Run by hand: the one sentence for the person at the terminal.
        eprintln!("{sentence}");
        return ExitCode::from(2);
    }
    init_logging(&std::env::var(LOG_LEVEL).unwrap_or_else(|_| "info".to_owned()));
    let config = match Config::from_env(|name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(error) => {
            // Fail the init, loudly, with the variable's name: Lambda reports it and retries.
            tracing::error!(variable = error.variable, error = %error, "invalid configuration");
            return ExitCode::FAILURE;
        }
    };
    let result = match config.keys.clone() {
        KeySourceConfig::SecretsManager { secret_id } => {
            // One client for the life of the container; no SDK retries: the key cache retries.
            let client = secrets_manager_client(None, config.secrets_manager_calls).await;
            run(SecretsManagerStore::new(client, secret_id), config).await
        }
        KeySourceConfig::File { path } => run(KeyFileStore::new(path), config).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %error, "the Lambda runtime stopped");
            ExitCode::FAILURE
        }
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
