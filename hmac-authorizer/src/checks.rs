//! The rotation tests (`--test-url`, `--direct-url`, and the rotator's `ORIGINSIG_TEST_URL` /
//! `ORIGINSIG_DIRECT_URL`) and `originsig doctor`'s probes: real HTTP requests, and one
//! classifier that says what API Gateway's answer proves about its authorizer.
//!
//! ## What counts as "the authorizer accepted the key"
//!
//! A route's backend may have its own authentication (401), no handler for the path (404), or
//! anything else; none of that says whether **our** authorizer accepted the signature. What
//! does: an HTTP API answers an authorizer's deny with `403` and the fixed body
//! `{"message":"Forbidden"}`, and an authorizer error with `500` (AWS docs, "Working with AWS
//! Lambda authorizers for HTTP APIs",
//! <https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html>;
//! the knowledge-center article "Why do I get API Gateway 401 Unauthorized errors after I create
//! a Lambda authorizer?" for the 401 when the identity source is missing). Rather than trust the
//! body's exact text, every check first sends a **control** request signed with a key no label
//! holds: it must get the gateway's deny (403). A request signed with the key under test that
//! gets the same status and body as the control was denied; one the gateway answers before or
//! instead of the authorizer (429 throttled, 413/414 too large, 400, 502–504) proves nothing
//! and fails closed; anything else — 2xx, or the backend's own 401/403/404 with another body —
//! passed the authorizer.

use std::time::Duration;

use originsig_core::{
    sign, ApiKind, KeyId, RequestTarget, SigningKey, UnixSeconds, HEADER_NAME, MIN_KEY_LEN,
};
use reqwest::Url;

/// What API Gateway answered one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// What an answer proves about the authorizer, compared with the control request's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The authorizer let the request through (the backend answered, whatever it said).
    Accepted,
    /// The gateway's deny: the same answer as the control request.
    Denied,
    /// `500` with the control's deny not matched: most likely the authorizer failed.
    AuthorizerError,
    /// The gateway answered before or instead of the authorizer: no evidence either way.
    Inconclusive(&'static str),
}

/// Statuses API Gateway may answer without asking the authorizer (or while it cannot reach the
/// backend): they say nothing about the signature.
fn before_the_authorizer(status: u16) -> Option<&'static str> {
    match status {
        400 => Some("400: the gateway refused the request itself"),
        413 => Some("413: the request is too large for the gateway"),
        414 => Some("414: the URL is too long for the gateway"),
        429 => Some("429: throttled, possibly before authorization"),
        502..=504 => Some("502-504: the gateway could not get an answer"),
        _ => None,
    }
}

/// The one classifier (rotation tests and `doctor`): `control` is the answer to the same
/// request signed with a key no label holds, already checked by [`check_control`].
pub fn classify(answer: &Answer, control: &Answer) -> Verdict {
    if answer == control {
        return Verdict::Denied;
    }
    if let Some(reason) = before_the_authorizer(answer.status) {
        return Verdict::Inconclusive(reason);
    }
    if answer.status == 500 {
        return Verdict::AuthorizerError;
    }
    Verdict::Accepted
}

/// The control answer must be the gateway's deny (403); otherwise the route proves nothing, and
/// the message says what to change. `what` names the setting that picks the URL.
pub fn check_control(url: &str, control: &Answer, what: &str) -> Result<(), String> {
    match control.status {
        403 => Ok(()),
        404 => Err(format!(
            "GET {url} signed with an unknown key answered 404: no route there (API Gateway answers 404 before \
             any authorizer); set {what} to a GET route that has the originsig authorizer (a health route)"
        )),
        401 => Err(format!(
            "GET {url} signed with an unknown key answered 401: the x-originsig header did not reach the \
             authorizer as its identity source; check the route's authorizer (`originsig routes audit`)"
        )),
        status => match before_the_authorizer(status) {
            Some(reason) => Err(format!(
                "GET {url} signed with an unknown key answered {reason}; no evidence, try again later"
            )),
            None if status == 500 => Err(format!(
                "GET {url} signed with an unknown key answered 500: the authorizer failed; read its logs"
            )),
            None => Err(format!(
                "GET {url} signed with an unknown key answered {status}, not the gateway's 403: the route is \
                 not protected by the originsig authorizer (or its results are cached); run `originsig routes audit`"
            )),
        },
    }
}

/// A key no store holds: the control request's. Its id says what it is in the deny logs.
pub fn control_key() -> SigningKey {
    #[expect(clippy::expect_used, reason = "invariant stated in the message")]
    let id = KeyId::new("originsig-control").expect("a fixed, valid key id");
    let mut bytes = vec![0u8; MIN_KEY_LEN];
    // Unpredictable bytes are not needed (the id is in no ring) but cost nothing; a failed
    // generator leaves zeros, which are as unknown to the authorizer.
    let _ = getrandom::fill(&mut bytes);
    #[expect(clippy::expect_used, reason = "invariant stated in the message")]
    SigningKey::new(id, bytes).expect("MIN_KEY_LEN bytes are a valid key length")
}

/// Where the direct check sends its request and what it signs, by the edge's rule (SPEC.md §4):
/// the URL is `https://<origin><origin path><uri>`; the edge signs `prefix + uri`, where the
/// prefix is the edge's `gatewayPathPrefix`, by default the origin path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectTarget {
    pub url: Url,
    /// The CloudFront origin path included in `url` (not part of the uri).
    pub origin_path: String,
    /// What the edge signs before the uri (`None`: the origin path, the edge's default).
    pub gateway_path_prefix: Option<String>,
}

impl DirectTarget {
    /// What a signature for this URL covers, exactly as the edge would sign it.
    pub fn target(&self) -> Result<RequestTarget, String> {
        let url = &self.url;
        let host = url.host_str().ok_or_else(|| format!("{url} has no host"))?;
        if url.path().contains('%') {
            return Err(format!(
                "{url}: use a check path without percent-escapes (HTTP and REST APIs decode them differently)"
            ));
        }
        let uri = url
            .path()
            .strip_prefix(self.origin_path.as_str())
            .ok_or_else(|| {
                format!(
                    "{url}: the path does not start with the origin path {:?}",
                    self.origin_path
                )
            })?;
        let uri = if uri.is_empty() { "/" } else { uri };
        let prefix = self.gateway_path_prefix.as_deref().unwrap_or(&self.origin_path);
        RequestTarget::from_edge(
            "GET",
            host,
            prefix,
            uri,
            url.query().unwrap_or(""),
            ApiKind::HttpApi,
        )
        .map_err(|e| format!("{url} cannot be signed: {e}"))
    }
}

fn client(per_request: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(per_request.min(CHECK_TIMEOUT))
        .build()
        .map_err(|e| e.to_string())
}

// The timing model owns the checks' bounds (its rotator budget is made of them), and it is
// built without this module (the authorizer has no checks).
pub use crate::timing::{CHECK_TIMEOUT, DIRECT_CHECK_REQUESTS};

/// Why a rotation check did not pass. A URL that does not answer is kept apart from one that
/// answers wrongly: the CLI gives "no answer" the same exit code everywhere (3), and a wrong answer
/// is a failed test (4). Both hold the promotion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckError {
    /// The request got no HTTP answer (DNS, connection, TLS, timeout).
    NoAnswer(String),
    /// An answer that is not what a working deployment gives.
    Failed(String),
}

impl std::fmt::Display for CheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckError::NoAnswer(problem) | CheckError::Failed(problem) => f.write_str(problem),
        }
    }
}

impl From<String> for CheckError {
    fn from(problem: String) -> Self {
        CheckError::Failed(problem)
    }
}

/// Through CloudFront: expect a 2xx.
pub async fn check_through_cloudfront(url: &Url, per_request: Duration) -> Result<(), CheckError> {
    let status = client(per_request)?
        .get(url.clone())
        .send()
        .await
        .map_err(|e| CheckError::NoAnswer(format!("GET {url}: no answer ({})", crate::aws::with_causes(&e))))?
        .status();
    if status.is_success() {
        Ok(())
    } else {
        Err(CheckError::Failed(format!(
            "GET {url} through CloudFront answered {status}, expected 2xx"
        )))
    }
}

/// Sends GET `url` with an optional signature header; the status and body.
pub async fn get(client: &reqwest::Client, url: &Url, header: Option<String>) -> Result<Answer, CheckError> {
    let mut request = client.get(url.clone());
    if let Some(header) = header {
        request = request.header(HEADER_NAME, header);
    }
    let response = request.send().await.map_err(|e| {
        CheckError::NoAnswer(format!("GET {url}: no answer ({})", crate::aws::with_causes(&e)))
    })?;
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    Ok(Answer { status, body })
}

/// Straight at the API: an unsigned request must be refused (401/403), one signed with an unknown
/// key must get the gateway's deny, and one signed with `key` must pass the authorizer
/// ([`classify`]). `what` names the setting that chose the URL, for the messages.
pub async fn check_direct(
    direct: &DirectTarget,
    key: &SigningKey,
    now: u64,
    what: &str,
    per_request: Duration,
) -> Result<(), CheckError> {
    let client = client(per_request)?;
    let url = &direct.url;
    let target = direct.target()?;
    let unsigned = get(&client, url, None).await?;
    if unsigned.status != 401 && unsigned.status != 403 {
        return Err(CheckError::Failed(format!(
            "an unsigned GET {url} answered {}, expected 401 or 403: the API is not protected",
            unsigned.status
        )));
    }
    let at = UnixSeconds::new(now);
    let control = get(&client, url, Some(sign(&target, &control_key(), at).render())).await?;
    check_control(url.as_str(), &control, what)?;
    let signed = get(&client, url, Some(sign(&target, key, at).render())).await?;
    let verdict = match classify(&signed, &control) {
        Verdict::Accepted => Ok(()),
        Verdict::Denied => Err(format!(
            "GET {url} signed with the new key {} got the gateway's deny ({}), like a key no label holds: \
             authorizers do not know the key yet, or the signed path prefix {:?} is not what API Gateway shows \
             (run `originsig doctor`)",
            key.id(),
            signed.status,
            target.path.as_str()
        )),
        Verdict::AuthorizerError => Err(format!(
            "GET {url} signed with the new key {} answered 500: the authorizer failed; read its logs",
            key.id()
        )),
        Verdict::Inconclusive(reason) => Err(format!(
            "GET {url} signed with the new key {} answered {reason}; no evidence that authorizers accept it, try again",
            key.id()
        )),
    };
    verdict.map_err(CheckError::Failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            body: body.to_owned(),
        }
    }

    #[test]
    fn only_the_gateways_own_deny_is_a_deny() {
        let control = answer(403, r#"{"message":"Forbidden"}"#);
        assert_eq!(classify(&control.clone(), &control), Verdict::Denied);
        assert_eq!(classify(&answer(200, "ok"), &control), Verdict::Accepted);
        // The backend's own authentication or routing behind a passed authorizer.
        assert_eq!(classify(&answer(401, "login"), &control), Verdict::Accepted);
        assert_eq!(classify(&answer(404, "no"), &control), Verdict::Accepted);
        assert_eq!(
            classify(&answer(403, "backend says no"), &control),
            Verdict::Accepted
        );
        assert_eq!(classify(&answer(500, "x"), &control), Verdict::AuthorizerError);
        for status in [400, 413, 414, 429, 502, 503, 504] {
            assert!(
                matches!(classify(&answer(status, ""), &control), Verdict::Inconclusive(_)),
                "{status}"
            );
        }
    }

    #[test]
    fn the_control_must_be_the_gateways_deny() {
        assert!(check_control("u", &answer(403, ""), "X").is_ok());
        let no_route = check_control("u", &answer(404, ""), "RotatorCheckPath").unwrap_err();
        assert!(no_route.contains("RotatorCheckPath"), "{no_route}");
        assert!(check_control("u", &answer(200, ""), "X")
            .unwrap_err()
            .contains("not protected"));
        assert!(check_control("u", &answer(429, ""), "X").is_err());
    }

    #[test]
    fn the_direct_target_signs_like_the_edge() {
        let target = |url: &str, origin_path: &str, prefix: Option<&str>| {
            DirectTarget {
                url: Url::parse(url).unwrap(),
                origin_path: origin_path.to_owned(),
                gateway_path_prefix: prefix.map(str::to_owned),
            }
            .target()
            .map(|t| t.path.as_str().to_owned())
        };
        assert_eq!(target("https://h/v1/health", "/v1", None).unwrap(), "/v1/health");
        assert_eq!(target("https://h/v1/health", "/v1", Some("")).unwrap(), "/health");
        assert_eq!(
            target("https://h/v1/health", "/v1", Some("/prod")).unwrap(),
            "/prod/health"
        );
        assert_eq!(target("https://h/v1", "/v1", Some("")).unwrap(), "/");
        assert!(target("https://h/other", "/v1", None).is_err());
    }
}
