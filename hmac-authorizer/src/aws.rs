//! The AWS SDK configuration every binary here uses: the standard AWS environment (profile,
//! region, credentials, `AWS_ENDPOINT_URL_SECRETS_MANAGER`, …) with one HTTPS client on rustls +
//! ring. The SDK's default client brings aws-lc, which made each Lambda zip over a megabyte larger.

use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

/// A config loader for the standard AWS environment.
pub fn config_loader() -> aws_config::ConfigLoader {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http)
}
