//! `docs/reference/cli.md`, generated from the clap definitions: every subcommand's `--help`, and
//! the fields of each `--output json` document (`JSON_FIELDS`, which the tests hold the real
//! output to). The test `cli_reference` fails when the file is stale.

/// The stable fields of each subcommand's `--output json` document: (subcommand, field, meaning).
/// Fields are only ever added; a field named here is never renamed or removed.
pub const JSON_FIELDS: &[(&str, &str, &str)] = &[
    ("status", "store", "where the keys are (`secret NAME` or `key file PATH`)"),
    ("status", "versions", "every labelled version: `versionId`, `labels`, `keyId` (null if invalid), `problem` (null if valid), `createdAt`, `ageSeconds`"),
    ("status", "lastPromotion", "Unix seconds of the last promotion, or null if not recorded"),
    ("status", "nextSafeRotation", "Unix seconds from which the next rotation may start"),
    ("status", "rotationInProgress", "true while an AWSPENDING version exists"),
    ("status", "problem", "why authorizers cannot use this key ring, or null (then the exit code is 3)"),
    ("verify", "decision", "`allow` or `deny`"),
    ("verify", "keyId", "the key id in the header (null if it could not be read)"),
    ("verify", "role", "allow: the staging label of the key that verified (`AWSCURRENT`, `AWSPENDING`, `AWSPREVIOUS`); deny: null"),
    ("verify", "signedAt", "the header's timestamp, Unix seconds (null if it could not be read)"),
    ("verify", "skewSeconds", "allow: how long ago it was signed (negative: ahead); deny: null"),
    ("verify", "reason", "deny: the authorizer's reason code (as in its deny log); allow: null"),
    ("verify", "error", "deny: what is wrong; allow: null"),
    ("verify", "hint", "deny: the likely cause and what to check; allow: null"),
    ("verify", "canonical", "the canonical string this verifier computed (null if the header could not be read)"),
    ("doctor", "unsignedStatus", "the HTTP status of the unsigned request"),
    ("doctor", "unsignedRefused", "true if the unsigned request was refused (401/403)"),
    ("doctor", "probes", "one per candidate prefix: `prefix`, `status`, `allowed`"),
    ("doctor", "originPath", "the --origin-path the edge uses by default"),
    ("doctor", "verdict", "`ok`, `change` (set `GatewayPathPrefix` to `gatewayPathPrefix`), `replica_behind` or `none`"),
    ("doctor", "gatewayPathPrefix", "the prefix API Gateway shows, or null if none was allowed"),
    ("doctor", "replicaBehind", "the replica region without the current key, or null"),
    ("routes audit", "apiId", "the API audited"),
    ("routes audit", "authorizers", "each authorizer the routes use that has the originsig identity source: `authorizerId`, `name`, `functionArn`, `resultTtlSeconds`, `payloadFormatVersion`, `simpleResponses`, `problems` (empty when it protects), `unchecked` (properties that could not be checked)"),
    ("routes audit", "routes", "every route: `routeKey`, `routeId`, `protected` (bool), `status` (the table's text), `authorizerId`"),
    ("routes audit", "unprotected", "how many routes are not protected (exit 4 if not 0)"),
    ("timing", "(every field of infra/timing.json)", "the timing model, plus `propagationWaitSecs` and `previousKeyInUseSecs` derived from it"),
];

/// The whole of `docs/reference/cli.md`.
pub fn markdown() -> String {
    let mut root = super::command();
    root.build();
    let mut out = String::from(
        "# `originsig` command-line reference\n\n\
         <!-- Generated from the clap definitions (hmac-authorizer/src/cli); do not edit by hand.\n     \
         Regenerate: ORIGINSIG_BLESS=1 cargo test -p originsig-hmac-authorizer --test cli_reference -->\n\n\
         Every subcommand's `-h`, as the installed binary prints it. Shell completions: \
         `originsig completions SHELL`; man pages: `originsig man` (or `originsig man --out-dir DIR`).\n",
    );
    section(&mut out, &mut root, "originsig");
    out.push_str(
        "\n## JSON output (`--output json`)\n\n\
         One JSON document on stdout; the exit code is the same as with text output. These fields are \
         stable: new ones may be added, none is renamed or removed.\n\n\
         | subcommand | field | meaning |\n| --- | --- | --- |\n",
    );
    for (command, field, meaning) in JSON_FIELDS {
        out.push_str(&format!("| `{command}` | `{field}` | {meaning} |\n"));
    }
    out
}

fn section(out: &mut String, command: &mut clap::Command, path: &str) {
    let help = command.render_help().to_string();
    out.push_str(&format!("\n## `{path}`\n\n```text\n{}\n```\n", help.trim_end()));
    for sub in command.get_subcommands_mut() {
        if sub.get_name() == "help" {
            continue;
        }
        let sub_path = format!("{path} {}", sub.get_name());
        section(out, sub, &sub_path);
    }
}
