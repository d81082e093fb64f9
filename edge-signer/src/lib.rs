//! CloudFront origin-request types and signing (work in progress).
