//! Set-up shared by the authorizer's integration tests and benchmarks.

use std::process::{Command, Output};

use aws_sdk_secretsmanager::Client;
use originsig_tests::moto::MotoServer;

/// A Secrets Manager client for `moto`, built the way the binaries build theirs
/// (`originsig_hmac_authorizer::aws::config_loader`, with the CLI's call bounds), with test
/// credentials.
#[allow(dead_code, reason = "not every test binary uses it")]
pub async fn moto_client(moto: &MotoServer) -> Client {
    moto_client_with(moto, originsig_hmac_authorizer::timing::TOOL_CALLS).await
}

/// [`moto_client`] with another call policy (the authorizer's: one bounded attempt).
#[allow(dead_code, reason = "not every test binary uses it")]
pub async fn moto_client_with(
    moto: &MotoServer,
    policy: originsig_hmac_authorizer::aws::CallPolicy,
) -> Client {
    let config = originsig_hmac_authorizer::aws::config_loader(Some("us-east-1".into()), policy)
        .endpoint_url(moto.endpoint())
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::for_tests())
        .load()
        .await;
    Client::new(&config)
}

/// The real `originsig` binary, pointed at `moto` through the standard AWS environment.
#[allow(dead_code, reason = "not every test binary uses it")]
pub fn originsig(moto: &MotoServer, args: &[&str]) -> Output {
    // `option_env!`: `hmac-authorizer/tests/binary.rs` also runs with `--no-default-features` (the authorizer as
    // shipped), where the CLI is not built.
    let Some(binary) = option_env!("CARGO_BIN_EXE_originsig") else {
        panic!("the originsig binary needs the `cli` feature");
    };
    Command::new(binary)
        .args(args)
        .envs(moto.env())
        .output()
        .unwrap_or_else(|e| panic!("originsig: {e}"))
}

/// stdout then stderr of a finished command, as text.
#[allow(dead_code, reason = "not every test binary uses it")]
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
