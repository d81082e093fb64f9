//! The optional rotation tests (`--test-url`, `--direct-url`, and the rotator's
//! `ORIGINSIG_TEST_URL` / `ORIGINSIG_DIRECT_URL`): real HTTP requests.

use std::time::Duration;

use originsig_core::{sign, ApiKind, RequestTarget, SigningKey, UnixSeconds, HEADER_NAME};
use reqwest::Url;

/// Method, host, path and query of a URL that is about to be sent with reqwest (which sends
/// `url.path()`, already normalised by the URL parser), as the API will present them.
///
/// Only paths without percent-escapes are taken: there, an HTTP API's two decodings and a REST
/// API's one agree, so the check signs right for either kind.
pub fn target_of(method: &str, url: &Url) -> Result<RequestTarget, String> {
    let host = url.host_str().ok_or_else(|| format!("{url} has no host"))?;
    if url.path().contains('%') {
        return Err(format!(
            "{url}: use a check URL whose path has no percent-escapes (HTTP and REST APIs decode them differently)"
        ));
    }
    RequestTarget::from_edge(
        method,
        host,
        "",
        url.path(),
        url.query().unwrap_or(""),
        ApiKind::HttpApi,
    )
    .map_err(|e| format!("{url} cannot be signed: {e}"))
}

fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(|e| e.to_string())
}

/// Through CloudFront: expect a 2xx.
pub async fn check_through_cloudfront(url: &Url) -> Result<(), String> {
    let status = client()?
        .get(url.clone())
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?
        .status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!(
            "GET {url} through CloudFront answered {status}, expected 2xx"
        ))
    }
}

/// Straight at the API: an unsigned request must be refused (401/403) and one signed with the
/// new key must pass (2xx).
pub async fn check_direct(url: &Url, key: &SigningKey, now: u64) -> Result<(), String> {
    let client = client()?;
    let unsigned = client
        .get(url.clone())
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?
        .status();
    if unsigned.as_u16() != 401 && unsigned.as_u16() != 403 {
        return Err(format!(
            "an unsigned GET {url} answered {unsigned}, expected 401 or 403: the API is not protected"
        ));
    }
    let header = sign(&target_of("GET", url)?, key, UnixSeconds::new(now)).render();
    let signed = client
        .get(url.clone())
        .header(HEADER_NAME, header)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    if signed.status().is_success() {
        Ok(())
    } else {
        Err(format!(
            "GET {url} signed with the new key {} answered {}, expected 2xx: authorizers do not know it yet",
            key.id(),
            signed.status()
        ))
    }
}
