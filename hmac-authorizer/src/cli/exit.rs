//! The exit codes of `originsig`: one table for every subcommand. The same situation gives the
//! same code everywhere (no credentials, an endpoint that does not answer, a missing key: 3, in
//! `status` as in `doctor` or `routes`), and each subcommand's `--help` lists only the codes it
//! can return, rendered from here by [`help`].

/// What an exit code says. `code()` and `meaning()` are the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// 0: done, or all checks passed.
    Success,
    /// 1: `verify` only: the request would be denied.
    Denied,
    /// 2: the command line is wrong (a bad or missing flag, a URL that cannot be used as written).
    Usage,
    /// 3: the key store or AWS did not give what was needed: no credentials, no answer, throttled,
    /// access denied, a missing, malformed or conflicting key, an unreadable key file.
    Aws,
    /// 4: the command refused, or found a problem to fix: rotation refused, a rotation test
    /// failed, doctor found a change to make, a route is not protected.
    Problem,
}

impl Exit {
    /// Every code, in order.
    pub const ALL: [Exit; 5] = [Exit::Success, Exit::Denied, Exit::Usage, Exit::Aws, Exit::Problem];

    pub const fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Denied => 1,
            Exit::Usage => 2,
            Exit::Aws => 3,
            Exit::Problem => 4,
        }
    }

    /// What the code means in every subcommand.
    pub const fn meaning(self) -> &'static str {
        match self {
            Exit::Success => "success",
            Exit::Denied => "the request would be denied (the report says why)",
            Exit::Usage => "usage error (bad or missing arguments)",
            Exit::Aws => {
                "key store or AWS error (no credentials, no answer, throttled, access denied, \
                 missing, malformed or conflicting keys, key file)"
            }
            Exit::Problem => "refused, or found a problem to fix",
        }
    }
}

/// The "Exit codes:" section of one subcommand's `--help`: the codes it can return, each with the
/// table's meaning and, when given, what it means for this subcommand.
pub fn help(codes: &[(Exit, &str)]) -> String {
    let mut text = String::from("Exit codes:");
    for (exit, detail) in codes {
        text.push_str(&format!("\n  {}  {}", exit.code(), exit.meaning()));
        if !detail.is_empty() {
            text.push_str(&format!(": {detail}"));
        }
    }
    text
}

/// The codes of each subcommand, with what 0 and 4 mean there. The one place to change when a
/// subcommand gains a way to fail.
pub mod codes {
    use super::Exit;

    pub const INIT: &[(Exit, &str)] = &[
        (Exit::Success, "the secret (or key file) was created"),
        (Exit::Usage, ""),
        (Exit::Aws, "also when it already exists (init never overwrites)"),
        (
            Exit::Problem,
            "refused to make a key: the system's random generator failed or its clock is out of range",
        ),
    ];
    pub const ROTATE: &[(Exit, &str)] = &[
        (
            Exit::Success,
            "rotated (or staged with --no-wait, or --dry-run printed the plan)",
        ),
        (Exit::Usage, ""),
        (Exit::Aws, "also when a rotation test's URL does not answer (the promotion is held)"),
        (
            Exit::Problem,
            "refused (too early, invalid pending key, a held failed test, a wait below the propagation wait, \
             a replica behind) or a rotation test failed",
        ),
    ];
    pub const ROLLBACK: &[(Exit, &str)] = &[
        (Exit::Success, "rolled back (or --dry-run printed the plan)"),
        (Exit::Usage, ""),
        (Exit::Aws, ""),
        (
            Exit::Problem,
            "refused (no valid AWSPREVIOUS key, a replica behind)",
        ),
    ];
    pub const STATUS: &[(Exit, &str)] = &[
        (Exit::Success, "the key ring is usable"),
        (Exit::Usage, ""),
        (
            Exit::Aws,
            "also when the stored keys are unusable (the report says which)",
        ),
    ];
    pub const SIGN: &[(Exit, &str)] = &[(Exit::Success, ""), (Exit::Usage, ""), (Exit::Aws, "")];
    pub const VERIFY: &[(Exit, &str)] = &[
        (Exit::Success, "the request would be allowed"),
        (Exit::Denied, ""),
        (Exit::Usage, ""),
        (Exit::Aws, ""),
    ];
    pub const DOCTOR: &[(Exit, &str)] = &[
        (
            Exit::Success,
            "the edge's default (the origin path) is what API Gateway shows",
        ),
        (Exit::Usage, ""),
        (Exit::Aws, "also when the --direct-url does not answer"),
        (
            Exit::Problem,
            "another prefix is (the report names the --gateway-path-prefix to build the edge \
             bundle with), or none is",
        ),
    ];
    pub const TIMING: &[(Exit, &str)] = &[(Exit::Success, ""), (Exit::Usage, "")];
    pub const ROUTES: &[(Exit, &str)] = &[
        (
            Exit::Success,
            "every route is protected (attach: after the changes)",
        ),
        (
            Exit::Usage,
            "also no or several originsig authorizers, an unknown --route",
        ),
        (Exit::Aws, "also an unknown API"),
        (
            Exit::Problem,
            "a route is not protected: no authorizer, another one, or an authorizer that caches \
             results, is not the originsig function, or does not use payload 2.0 with simple \
             responses (attach: it stays so)",
        ),
    ];
    pub const COMPLETIONS: &[(Exit, &str)] = &[(Exit::Success, ""), (Exit::Usage, "")];
    /// The whole tool (`originsig --help`).
    pub const ANY: &[(Exit, &str)] = &[
        (Exit::Success, ""),
        (Exit::Denied, "verify only"),
        (Exit::Usage, ""),
        (Exit::Aws, ""),
        (
            Exit::Problem,
            "rotation refused or its test failed, doctor found a change to make, a route is not \
             protected",
        ),
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_ordered() {
        let codes: Vec<u8> = Exit::ALL.iter().map(|e| e.code()).collect();
        assert_eq!(codes, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn help_lists_only_the_given_codes() {
        let text = help(codes::SIGN);
        assert!(text.contains("\n  0  success") && text.contains("\n  3  key store"));
        assert!(!text.contains("\n  1  ") && !text.contains("\n  4  "), "{text}");
    }
}
