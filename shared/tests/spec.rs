//! SPEC.md names what the code does: every deny reason, every reason a version is refused, every
//! accept-v1 policy and every version's tags appear in it, so the text cannot drift from the
//! code unnoticed.

// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use originsig_core::{AcceptV1, UnsupportedVersion, VerifyError, Version};

fn spec() -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../SPEC.md")).unwrap()
}

#[test]
fn spec_names_every_reason_version_and_policy() {
    let spec = spec();
    for reason in VerifyError::ALL_REASONS {
        assert!(
            spec.contains(&format!("| `{reason}` |")),
            "SPEC §9 has no row for {reason}"
        );
    }
    for why in [
        UnsupportedVersion::Unknown,
        UnsupportedVersion::V1RepeatedQueryKey,
        UnsupportedVersion::V1NotAccepted,
    ] {
        assert!(
            spec.contains(&format!("`{}`", why.code())),
            "SPEC does not name {}",
            why.code()
        );
    }
    for policy in AcceptV1::ALL {
        assert!(
            spec.contains(&format!("| `{}`", policy.as_str())),
            "SPEC §6.1 has no row for accept-v1 policy {}",
            policy.as_str()
        );
    }
    for version in Version::ALL {
        let row = format!(
            "| {} | `{}` | `{}` |",
            version.tag(),
            version.tag(),
            version.algorithm_tag()
        );
        assert!(spec.contains(&row), "SPEC §6.1 has no row {row}");
    }
    assert!(spec.contains(&format!(
        "canonical = \"{}\" LF",
        Version::CURRENT.algorithm_tag()
    )));
}
