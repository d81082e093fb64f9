//! Signing and verifying. Both take `now`; neither reads a clock.

use hmac::Mac as _;

use crate::canonical::CanonicalRequest;
use crate::error::{Malformed, VerifyError};
use crate::header::SignatureHeader;
use crate::key::{KeyId, SigningKey};
use crate::keyring::{KeyRing, KeyRole};
use crate::target::RequestTarget;
use crate::time::{Freshness, UnixSeconds};

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub key_id: KeyId,
    pub role: KeyRole,
    pub signed_at: UnixSeconds,
    /// `now - signed_at` in seconds; negative when the signer's clock is ahead.
    pub skew_secs: i64,
}

/// Signs `target` at time `now` with `key`, returning the header to attach.
pub fn sign(target: &RequestTarget, key: &SigningKey, now: UnixSeconds) -> SignatureHeader {
    let canonical = CanonicalRequest {
        timestamp: now,
        key_id: key.id(),
        target,
    };
    SignatureHeader {
        timestamp: now,
        key_id: key.id().clone(),
        signature: canonical.mac_with(key).finalize().into_bytes().into(),
    }
}

/// Verifies one header value against `target`.
///
/// Order: parse → key lookup → signature (constant time) → freshness. Checking the signature
/// before the clock means `Expired` and `FromTheFuture` are only ever reported for genuine
/// signatures, which tells an operator "replay or clock problem", not "forgery".
pub fn verify(
    header_value: &str,
    target: &RequestTarget,
    ring: &KeyRing,
    freshness: &Freshness,
    now: UnixSeconds,
) -> Result<Verified, VerifyError> {
    let header = SignatureHeader::parse(header_value)?;
    let (role, key) = ring.find(header.key_id.as_str()).ok_or(VerifyError::UnknownKey)?;
    let canonical = CanonicalRequest {
        timestamp: header.timestamp,
        key_id: &header.key_id,
        target,
    };
    canonical
        .mac_with(key)
        .verify_slice(&header.signature)
        .map_err(|_| VerifyError::BadSignature)?;
    let skew_secs = check_freshness(header.timestamp, freshness, now)?;
    Ok(Verified {
        key_id: header.key_id,
        role,
        signed_at: header.timestamp,
        skew_secs,
    })
}

/// Verifies the values of the signature header as a request carried them: none is `Missing`,
/// more than one is `Malformed(DuplicateHeader)` (never "try each").
pub fn verify_header_values<'a>(
    values: impl IntoIterator<Item = &'a str>,
    target: &RequestTarget,
    ring: &KeyRing,
    freshness: &Freshness,
    now: UnixSeconds,
) -> Result<Verified, VerifyError> {
    let mut values = values.into_iter();
    match (values.next(), values.next()) {
        (None, _) => Err(VerifyError::Missing),
        (Some(value), None) => verify(value, target, ring, freshness, now),
        (Some(_), Some(_)) => Err(Malformed::DuplicateHeader.into()),
    }
}

fn check_freshness(
    signed_at: UnixSeconds,
    freshness: &Freshness,
    now: UnixSeconds,
) -> Result<i64, VerifyError> {
    let (signed, now) = (signed_at.as_secs(), now.as_secs());
    if now >= signed {
        let age_secs = now - signed;
        if age_secs > freshness.max_age_secs {
            return Err(VerifyError::Expired {
                age_secs,
                window_secs: freshness.max_age_secs,
            });
        }
        Ok(i64::try_from(age_secs).unwrap_or(i64::MAX))
    } else {
        let ahead_secs = signed - now;
        if ahead_secs > freshness.max_future_secs {
            return Err(VerifyError::FromTheFuture {
                ahead_secs,
                bound_secs: freshness.max_future_secs,
            });
        }
        Ok(i64::try_from(ahead_secs).map(|ahead| -ahead).unwrap_or(i64::MIN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, byte: u8) -> SigningKey {
        SigningKey::new(KeyId::new(id).unwrap(), vec![byte; 32]).unwrap()
    }

    fn target() -> RequestTarget {
        RequestTarget::from_edge("GET", "api.example.com", "/prod", "/items/1", "b=2&a=1").unwrap()
    }

    #[test]
    fn sign_then_verify_on_the_gateway_side() {
        let ring = KeyRing::new(key("cur", 1), Some(key("pen", 2)), Some(key("old", 3))).unwrap();
        let header = sign(
            &target(),
            ring.get(KeyRole::Previous).unwrap(),
            UnixSeconds::new(1000),
        );
        let gateway =
            RequestTarget::from_gateway("GET", "API.example.com", "/prod/items/1", "a=1&b=2").unwrap();
        let verified = verify(
            &header.render(),
            &gateway,
            &ring,
            &Freshness::default(),
            UnixSeconds::new(1010),
        )
        .unwrap();
        assert_eq!(verified.role, KeyRole::Previous);
        assert_eq!(verified.skew_secs, 10);
    }

    #[test]
    fn freshness_bounds_are_inclusive() {
        let ring = KeyRing::single(key("cur", 1));
        let value = sign(&target(), ring.signing_key(), UnixSeconds::new(1000)).render();
        let at = |now| {
            verify(
                &value,
                &target(),
                &ring,
                &Freshness::default(),
                UnixSeconds::new(now),
            )
        };
        assert!(at(1060).is_ok());
        assert_eq!(
            at(1061),
            Err(VerifyError::Expired {
                age_secs: 61,
                window_secs: 60
            })
        );
        assert_eq!(at(995).unwrap().skew_secs, -5);
        assert_eq!(
            at(994),
            Err(VerifyError::FromTheFuture {
                ahead_secs: 6,
                bound_secs: 5
            })
        );
    }

    #[test]
    fn forged_stale_header_is_bad_signature_not_expired() {
        let ring = KeyRing::single(key("cur", 1));
        let forged = sign(&target(), &key("cur", 9), UnixSeconds::new(1)).render();
        assert_eq!(
            verify(
                &forged,
                &target(),
                &ring,
                &Freshness::default(),
                UnixSeconds::new(5000)
            ),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn header_counts() {
        let ring = KeyRing::single(key("cur", 1));
        let value = sign(&target(), ring.signing_key(), UnixSeconds::new(1000)).render();
        let run = |values: &[&str]| {
            verify_header_values(
                values.iter().copied(),
                &target(),
                &ring,
                &Freshness::default(),
                UnixSeconds::new(1000),
            )
        };
        assert_eq!(run(&[]), Err(VerifyError::Missing));
        assert!(run(&[&value]).is_ok());
        assert_eq!(
            run(&[&value, &value]),
            Err(VerifyError::Malformed(Malformed::DuplicateHeader))
        );
    }
}
