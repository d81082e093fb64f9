//! The WebAssembly interface `node/index.mjs` calls. A minimal hand-written ABI rather than
//! wasm-bindgen: no generated glue, no extra build tool, a few lines of plain JavaScript on the
//! other side, and no JSON parser in the module (that is most of what keeps it small).
//!
//! Messages are sequences of fields; a field is a `u32` little-endian byte length followed by
//! that many bytes of UTF-8 ([`read_fields`], [`write_fields`]).
//!
//! | export | input fields | output fields (status 0) |
//! |---|---|---|
//! | `input_buffer(len) -> ptr` | reserves `len` input bytes at `ptr` for the host to fill | |
//! | `load_key(len) -> status` | `format`, `kid`, `key` (members of a secret value) | `kid` |
//! | `sign(len, now) -> status` | `method`, `uri`, `querystring`, origin kind (`custom`, `s3` or empty), origin domain, origin path, API kind (`http_api` or `rest_api`), path prefix source (`origin` or `fixed`), fixed path prefix, then every header-map key | signature header value, host, then the header names to remove |
//! | `output_ptr()`, `output_len()` | | the last call's output |
//!
//! Status 1 means the output is `code`, `detail` (the finer reason, e.g. `path_truncated`, or the
//! code again), `message` instead. `now` is Unix seconds as an `f64`, so
//! JavaScript passes a plain number. `load_key` replaces the loaded key only on success.
//!
//! State lives in `static` mutexes. WebAssembly here is single-threaded, so they never contend;
//! they only make the statics safe Rust. There is no `unsafe` block: the host writes into a
//! buffer the module owns and exposes by address.
//!
//! A trap (a panic or a failed allocation aborts: there is no unwinding on this target) stops a
//! call with its locks held, and every later call of that instance would trap on them. The host
//! therefore never calls an instance again after a trap: `loadSigner` in `node/index.mjs`
//! replaces it with a new instance of the same module and loads the key again
//! (`node/test/trap.test.mjs` forces a trap inside `input_buffer`).

use std::sync::{Mutex, MutexGuard, PoisonError};

use originsig_core::{SigningKey, UnixSeconds};

use originsig_core::ApiKind;

use crate::signer::{plan_signing, EdgeError, OriginRequestView, OriginView, PathPrefix, SigningOptions};

static INPUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static OUTPUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static KEY: Mutex<Option<SigningKey>> = Mutex::new(None);

const OK: u32 = 0;
const ERROR: u32 = 1;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Splits a message into its fields; `None` if it is truncated or not UTF-8.
pub fn read_fields(mut bytes: &[u8]) -> Option<Vec<&str>> {
    let mut fields = Vec::new();
    while !bytes.is_empty() {
        let (len, rest) = bytes.split_first_chunk::<4>()?;
        let len = usize::try_from(u32::from_le_bytes(*len)).ok()?;
        let (field, rest) = rest.split_at_checked(len)?;
        fields.push(std::str::from_utf8(field).ok()?);
        bytes = rest;
    }
    Some(fields)
}

/// Joins fields into a message.
///
/// Every field written is a fixed text, a signature header, or a copy of an input field, and
/// input fields arrive with a `u32` length, so each length fits a `u32`.
pub fn write_fields<'a>(fields: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let mut out = Vec::new();
    for field in fields {
        #[expect(clippy::expect_used, reason = "invariant stated above")]
        let len = u32::try_from(field.len()).expect("output fields are no longer than an input field");
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(field.as_bytes());
    }
    out
}

/// `load_key` without the statics: a key from the members of a secret value.
pub fn key_from_fields(fields: &[&str]) -> Result<SigningKey, String> {
    match fields {
        [format, kid, key] => SigningKey::from_stored_parts(format, kid, key).map_err(|e| e.to_string()),
        _ => Err("expected three fields: format, kid, key".to_owned()),
    }
}

/// `sign` without the statics: the output fields of a signing plan.
pub fn plan_from_fields(
    fields: &[&str],
    key: Option<&SigningKey>,
    now: UnixSeconds,
) -> Result<Vec<String>, EdgeError> {
    let [method, uri, querystring, kind, domain_name, path, api, prefix_source, prefix, header_names @ ..] =
        fields
    else {
        return Err(EdgeError::BadEvent);
    };
    let origin = match *kind {
        "custom" => OriginView::Custom { domain_name, path },
        "s3" => OriginView::S3,
        _ => OriginView::Missing,
    };
    // The handler validated its configuration at load; anything else here is a broken caller.
    let options = SigningOptions {
        api: ApiKind::from_name(api).ok_or(EdgeError::BadEvent)?,
        path_prefix: match *prefix_source {
            "origin" => PathPrefix::OriginPath,
            "fixed" => PathPrefix::Fixed(prefix),
            _ => return Err(EdgeError::BadEvent),
        },
    };
    let view = OriginRequestView {
        method,
        uri,
        querystring,
        origin,
        header_names: header_names.to_vec(),
    };
    let plan = plan_signing(&view, &options, key.ok_or(EdgeError::NoKey)?, now)?;
    let mut out = vec![plan.signature, plan.host];
    out.extend(plan.remove_headers);
    Ok(out)
}

fn finish(result: Result<Vec<String>, (&str, &str, String)>) -> u32 {
    let (status, fields) = match result {
        Ok(fields) => (OK, fields),
        Err((code, detail, message)) => (ERROR, vec![code.to_owned(), detail.to_owned(), message]),
    };
    *lock(&OUTPUT) = write_fields(fields.iter().map(String::as_str));
    status
}

fn with_input<R>(len: u32, f: impl FnOnce(Option<Vec<&str>>) -> R) -> R {
    let input = lock(&INPUT);
    let message = usize::try_from(len).ok().and_then(|len| input.get(..len));
    f(message.and_then(read_fields))
}

/// Reserves `len` bytes of input and returns their address.
#[cfg_attr(
    target_arch = "wasm32",
    expect(unsafe_code, reason = "no_mangle export; no unsafe block")
)]
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub extern "C" fn input_buffer(len: u32) -> u32 {
    let mut input = lock(&INPUT);
    input.clear();
    #[expect(clippy::expect_used, reason = "invariant stated in the message")]
    let len = usize::try_from(len).expect("usize has at least 32 bits on every target this crate builds for");
    input.resize(len, 0);
    // Wasm addresses are 32 bits; natively the value is only meaningful to tests.
    input.as_mut_ptr() as usize as u32
}

/// Loads the signing key (see the module table).
#[cfg_attr(
    target_arch = "wasm32",
    expect(unsafe_code, reason = "no_mangle export; no unsafe block")
)]
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub extern "C" fn load_key(len: u32) -> u32 {
    let result = with_input(len, |fields| {
        let key = key_from_fields(&fields.unwrap_or_default())
            .map_err(|message| ("bad_key", "bad_key", message))?;
        let id = key.id().to_string();
        *lock(&KEY) = Some(key);
        Ok(vec![id])
    });
    finish(result)
}

/// Plans the signing of one request (see the module table).
#[cfg_attr(
    target_arch = "wasm32",
    expect(unsafe_code, reason = "no_mangle export; no unsafe block")
)]
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub extern "C" fn sign(len: u32, now: f64) -> u32 {
    // Saturating float-to-int cast: NaN and negatives become 0, which then fails freshness.
    let now = UnixSeconds::new(now as u64);
    let key = lock(&KEY);
    let result = with_input(len, |fields| {
        plan_from_fields(&fields.ok_or(EdgeError::BadEvent)?, key.as_ref(), now)
    });
    finish(result.map_err(|e| (e.code(), e.detail_code(), e.to_string())))
}

#[cfg_attr(
    target_arch = "wasm32",
    expect(unsafe_code, reason = "no_mangle export; no unsafe block")
)]
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub extern "C" fn output_ptr() -> u32 {
    lock(&OUTPUT).as_ptr() as usize as u32
}

#[cfg_attr(
    target_arch = "wasm32",
    expect(unsafe_code, reason = "no_mangle export; no unsafe block")
)]
#[cfg_attr(target_arch = "wasm32", no_mangle)]
pub extern "C" fn output_len() -> u32 {
    #[expect(clippy::expect_used, reason = "invariant stated in the message")]
    let len = u32::try_from(lock(&OUTPUT).len()).expect("the output is a few fields, each fitting a u32");
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_and_truncation_is_refused() {
        let message = write_fields(["GET", "", "é/x"]);
        assert_eq!(read_fields(&message).unwrap(), vec!["GET", "", "é/x"]);
        assert!(read_fields(&message[..message.len() - 1]).is_none());
        assert!(read_fields(&[1, 0, 0]).is_none());
        assert!(read_fields(&[1, 0, 0, 0, 0xFF]).is_none());
        assert_eq!(read_fields(&[]).unwrap(), Vec::<&str>::new());
    }

    #[test]
    fn plan_needs_nine_fields_known_options_and_a_key() {
        let now = UnixSeconds::new(1);
        assert_eq!(plan_from_fields(&["GET"], None, now), Err(EdgeError::BadEvent));
        let fields = [
            "GET",
            "/",
            "",
            "custom",
            "api.example.com",
            "",
            "http_api",
            "origin",
            "",
        ];
        assert_eq!(plan_from_fields(&fields, None, now), Err(EdgeError::NoKey));
        for (api, source) in [("graphql", "origin"), ("http_api", "guess")] {
            let fields = ["GET", "/", "", "custom", "api.example.com", "", api, source, ""];
            assert_eq!(plan_from_fields(&fields, None, now), Err(EdgeError::BadEvent));
        }
    }
}
