//! The `originsig` command-line tool (`originsig --help`).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    originsig_hmac_authorizer::cli::main().await
}
