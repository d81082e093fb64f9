//! The scheduled rotator Lambda (Secrets Manager rotation function, `provided.al2023`).
//! Configuration: `ORIGINSIG_ROTATION_WAIT_SECS`, `ORIGINSIG_CACHE_TTL_SECS`,
//! `ORIGINSIG_EDGE_MAX_STALE_SECS`, `ORIGINSIG_MAX_AGE_SECS`, `ORIGINSIG_TEST_URL`,
//! `ORIGINSIG_DIRECT_URL`, `ORIGINSIG_ORIGIN_PATH`, `ORIGINSIG_GATEWAY_PATH_PREFIX`,
//! `ORIGINSIG_KVS_ARN`, `ORIGINSIG_KVS_PROPAGATION_SECS`, `ORIGINSIG_LOG_LEVEL`
//! (docs/operations.md). Run by hand, it says what it is and exits 2.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lambda_runtime::{service_fn, LambdaEvent};
use originsig_hmac_authorizer::aws::secrets_manager_client;
use originsig_hmac_authorizer::config::ROTATOR_BINARY;
use originsig_hmac_authorizer::observability::init_logging;
use originsig_hmac_authorizer::rotation_lambda::{run_step, RotationEvent, RotatorConfig};
use originsig_hmac_authorizer::store::kvs::KvsKeyCopy;
use originsig_hmac_authorizer::store::SecretsManagerStore;
use originsig_hmac_authorizer::timing::TOOL_CALLS;

#[tokio::main]
async fn main() -> ExitCode {
    if let Err(sentence) =
        ROTATOR_BINARY.started_by_lambda(std::env::args().skip(1), |name| std::env::var(name).ok())
    {
        // Run by hand: the one sentence for the person at the terminal.
        eprintln!("{sentence}");
        return ExitCode::from(2);
    }
    init_logging(&std::env::var("ORIGINSIG_LOG_LEVEL").unwrap_or_else(|_| "info".to_owned()));
    let config = match RotatorConfig::from_env(|name| std::env::var(name).ok()) {
        Ok(mut config) => {
            if let Some(arn) = &config.kvs_arn {
                // The ARN was checked by from_env.
                match KvsKeyCopy::open(arn, None, TOOL_CALLS).await {
                    Ok(copy) => config.kvs = Some(copy),
                    Err(error) => {
                        tracing::error!(variable = "ORIGINSIG_KVS_ARN", error = %error, "the key value store client cannot be built");
                        return ExitCode::FAILURE;
                    }
                }
            }
            Arc::new(config)
        }
        Err(error) => {
            tracing::error!(variable = error.variable, error = %error, "invalid configuration");
            return ExitCode::FAILURE;
        }
    };
    // One client for the life of the container (a clone shares it).
    let client = secrets_manager_client(None, TOOL_CALLS).await;
    let result = lambda_runtime::run(service_fn(move |event: LambdaEvent<RotationEvent>| {
        let (config, client) = (Arc::clone(&config), client.clone());
        async move {
            let now = originsig_hmac_authorizer::clock::now_unix();
            let time_left = event.context.deadline().duration_since(SystemTime::now()).unwrap_or(Duration::ZERO);
            let store = SecretsManagerStore::new(client, event.payload.secret_id.clone());
            let result = run_step(&store, &config, &event.payload, now, time_left).await;
            match &result {
                Ok(what) => tracing::info!(step = %event.payload.step, secret = %event.payload.secret_id, "{what}"),
                Err(error) => tracing::error!(step = %event.payload.step, secret = %event.payload.secret_id, kind = error.kind(), error = %error, "rotation step failed"),
            }
            result.map(|what| serde_json::json!({ "step": event.payload.step, "result": what }))
        }
    }))
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %error, "the Lambda runtime stopped");
            ExitCode::FAILURE
        }
    }
}
