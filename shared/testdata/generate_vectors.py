"""Writes shared/testdata/vectors/*.json from the cases below, using reference.py.

    python3 shared/testdata/generate_vectors.py [OUT_DIR]

The test command regenerates into a temporary folder and fails on any difference, so the
committed files, this list and the reference implementation cannot drift apart.
"""

import json
import os
import sys

import reference as ref

HERE = os.path.dirname(os.path.abspath(__file__))
API = "abc123defg.execute-api.us-east-1.amazonaws.com"
NOW = 1763715900  # 2025-11-21T09:05:00Z


def key_by_role():
    with open(os.path.join(HERE, "keyring.json"), encoding="utf-8") as f:
        doc = json.load(f)
    with open(os.path.join(HERE, "outsider-key.json"), encoding="utf-8") as f:
        outsider = json.load(f)
    keys = {role: ref.load_key(doc[role]) for role in ("current", "pending", "previous")}
    keys["outsider"] = ref.load_key(outsider)
    return keys


def edge(uri="/", querystring="", method="GET", origin_domain=API, path_prefix="", at=NOW, api="http_api"):
    """What the edge signs: `path_prefix` is what API Gateway shows before `uri` (by default
    CloudFront's origin path); `api` the kind of API behind the origin."""
    return dict(at=at, method=method, origin_domain=origin_domain, path_prefix=path_prefix, uri=uri,
                querystring=querystring, api=api)


def gateway(raw_path="/", raw_query_string="", method="GET", domain_name=API, now=NOW, **extra):
    """What an HTTP API authorizer (payload 2.0) is given."""
    return dict(now=now, api="http_api", method=method, domain_name=domain_name, raw_path=raw_path,
                raw_query_string=raw_query_string, **extra)


def rest(path="/", query_pairs=(), method="GET", domain_name=API, now=NOW, **extra):
    """What a REST API REQUEST authorizer is given: the path still encoded, the query decoded."""
    return dict(now=now, api="rest_api", method=method, domain_name=domain_name, path=path,
                query_pairs=[list(p) for p in query_pairs], **extra)

VALID_LOOKING = "v2;t=1763715900;k=key-current;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


def ok(name, description, e, g, role="current"):
    return dict(name=name, description=description, signing_key=role, sign=e, verify=g, expect="ok", expect_key_role=role)


def deny(name, description, g, reason, detail=None, e=None, role="current", tamper=None):
    case = dict(name=name, description=description, verify=g, expect=reason)
    if detail:
        case["expect_detail"] = detail
    if e is not None:
        case.update(signing_key=role, sign=e)
    if tamper:
        case["tamper"] = tamper
    return case


def signed_v1(name, description, e, g, expect, detail=None, accept_v1=None, role="current"):
    """A header made by a v1 signer (the reference signs it under v1's rules), checked against a
    verifier's accept-v1 policy (`accept_v1`, default unambiguous). Only verifiers read these:
    originsig's signers emit v2."""
    g = dict(g, accept_v1=accept_v1) if accept_v1 else g
    case = dict(name=name, description=description, signing_key=role, v1_sign=e, verify=g, expect=expect)
    if detail:
        case["expect_detail"] = detail
    if expect == "ok":
        case["expect_key_role"] = role
    return case


def ok_tampered(name, description, e, g, tamper):
    return dict(ok(name, description, e, g), tamper=tamper)


def sign_error(name, description, e, detail):
    return dict(name=name, description=description, signing_key="current", sign=e, sign_error=detail)


def tamper_last_signature_char(header):
    last = header[-1]
    return header[:-1] + ("A" if last != "A" else "Q")


CASES = [
    ok("root", "GET / on the default stage, no query", edge("/"), gateway("/")),
    ok("named-stage", "Named stage: the origin path /prod is prepended at the edge; rawPath carries it too",
       edge("/items/42", path_prefix="/prod"), gateway("/prod/items/42")),
    ok("named-stage-root", "Stage root: origin path + uri '/' is '/prod/', trailing slash kept",
       edge("/", path_prefix="/prod"), gateway("/prod/")),
    ok("custom-domain-base-path", "Custom domain with API mapping 'v1': the base path stays in rawPath",
       edge("/orders", origin_domain="api.example.com", path_prefix="/v1"),
       gateway("/v1/orders", domain_name="api.example.com")),
    ok("encoded-space", "The edge sees %20, API Gateway reports a decoded space", edge("/a%20b"), gateway("/a b")),
    ok("utf8-path", "UTF-8 path: percent-encoded at the edge, decoded in rawPath",
       edge("/caf%C3%A9/%E2%9C%93"), gateway("/café/✓")),
    ok("lowercase-hex", "Escapes in either hex case canonicalise to uppercase", edge("/caf%c3%a9"), gateway("/café")),
    ok("encoded-slash", "%2F decodes to '/', as API Gateway reports it: /a%2Fb and /a/b share a canonical path",
       edge("/a%2Fb"), gateway("/a/b")),
    ok("plus-in-path", "'+' in a path is a literal plus, encoded %2B", edge("/a+b"), gateway("/a+b")),
    ok("encoded-plus-in-path", "%2B in a path is the same literal plus", edge("/a%2Bb"), gateway("/a+b")),
    # HTTP APIs decode the path twice (captured from real HTTP APIs: tests/fixtures/http-api-captures.json).
    ok("double-encoded-slash", "HTTP APIs decode twice: %252F reaches the authorizer as '/'",
       edge("/a%252Fb"), gateway("/a/b")),
    ok("literal-percent", "A literal '%' needs %2525 at the edge: decoded twice it is '%' in rawPath",
       edge("/100%2525"), gateway("/100%")),
    ok("double-encoded-question-mark", "%253F decodes to '%3F', then to a '?' that no longer cuts the path",
       edge("/a%253Fb"), gateway("/a?b")),
    ok("encoded-hash", "%23 is a '#' in rawPath, kept", edge("/hash%23value"), gateway("/hash#value")),
    ok("double-encoded-utf8", "UTF-8 escapes encoded twice decode to the same text",
       edge("/caf%25C3%25A9"), gateway("/café")),
    ok("dot-segments-kept", "No dot-segment removal: '..' is signed as sent", edge("/a/../b"), gateway("/a/../b")),
    ok("double-slash-kept", "No slash merging", edge("//a//b/"), gateway("//a//b/")),
    ok("unreserved-decoded", "%7E is the unreserved '~' and canonicalises to it", edge("/%7Euser"), gateway("/~user")),
    ok("query-sorted", "Query pairs are sorted by key", edge("/", "b=2&a=1"), gateway("/", "b=2&a=1")),
    ok("query-unordered-sides", "CloudFront and API Gateway may order pairs differently",
       edge("/", "b=2&a=1"), gateway("/", "a=1&b=2")),
    ok("query-repeated-keys", "Repeated keys are kept; their values keep the order they were sent in (v2)",
       edge("/search", "tag=z&tag=a&tag=m"), gateway("/search", "tag=z&tag=a&tag=m")),
    ok("query-key-without-equals", "A key without '=' has an empty value", edge("/", "flag&x=1"), gateway("/", "flag&x=1")),
    ok("query-plus-is-space", "'+' in a query is a space, the same as %20", edge("/", "q=a+b"), gateway("/", "q=a%20b")),
    ok("query-encoding-differences", "Escapes are normalised: %7e is '~', '/' is %2F",
       edge("/", "k=%7e%2f/"), gateway("/", "k=~%2F%2F")),
    ok("query-empty-pairs", "Empty pairs from '&&' and a trailing '&' are dropped", edge("/", "&&a=1&"), gateway("/", "a=1")),
    ok("query-non-utf8", "Query bytes need not be UTF-8 (rawQueryString stays encoded)", edge("/", "x=%FF"), gateway("/", "x=%ff")),
    ok("query-equals-in-value", "Only the first '=' splits key from value", edge("/", "a=b=c"), gateway("/", "a=b%3Dc")),
    ok("host-case", "The host is lowercased; a trailing dot is dropped",
       edge("/", origin_domain="ABC123DEFG.Execute-API.us-east-1.amazonaws.com."), gateway("/")),
    ok("post", "Methods are signed as sent", edge("/items", method="POST"), gateway("/items", method="POST")),
    ok("pending-key", "A key staged AWSPENDING verifies", edge("/"), gateway("/"), role="pending"),
    ok("previous-key", "A key staged AWSPREVIOUS verifies", edge("/"), gateway("/"), role="previous"),
    ok("oldest-accepted", "Signed exactly max_age_secs (60) ago", edge("/", at=NOW - 60), gateway("/")),
    ok("future-within-bound", "Signed max_future_secs (5) ahead", edge("/", at=NOW + 5), gateway("/")),
    ok("custom-window", "A configured 300 s window accepts a 200 s old signature",
       edge("/", at=NOW - 200), gateway("/", max_age_secs=300)),
    deny("missing", "No signature header at all", gateway("/", header_values=[]), "missing"),
    deny("empty-value", "An empty header value counts as missing", gateway("/", header_values=[""]), "missing"),
    deny("duplicate-header", "Two values are refused, not tried in turn", gateway("/"), "malformed", "duplicate_header",
         e=edge("/"), tamper="duplicate"),
    deny("wrong-order", "Parts out of order", gateway("/", header_values=[
        "v2;k=key-current;t=1763715900;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]), "malformed", "header_syntax"),
    deny("repeated-part", "A part given twice", gateway("/", header_values=[
        "v2;t=1763715900;t=1763715900;k=key-current;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]), "malformed", "header_syntax"),
    deny("unsupported-version", "A v3 header is recognised as a version this verifier does not speak", gateway("/", header_values=[
        "v3;t=1763715900;k=key-current;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]), "unsupported_version", "unknown_version"),
    deny("overflowing-timestamp", "More than 10 digits", gateway("/", header_values=[
        "v2;t=18446744073709551616;k=key-current;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]), "malformed", "timestamp"),
    deny("negative-timestamp", "A sign is not a digit", gateway("/", header_values=[
        "v2;t=-1763715900;k=key-current;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]), "malformed", "timestamp"),
    deny("leading-zero-timestamp", "One spelling per number", gateway("/", header_values=[
        "v2;t=01763715900;k=key-current;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]), "malformed", "timestamp"),
    deny("non-ascii-key-id", "Key ids are [A-Za-z0-9_-]", gateway("/", header_values=[
        "v2;t=1763715900;k=schlüssel;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]), "malformed", "key_id"),
    deny("padded-signature", "Padding is not allowed", gateway("/", header_values=[
        "v2;t=1763715900;k=key-current;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]), "malformed", "signature_encoding"),
    deny("standard-base64-signature", "Standard-alphabet '+' is not base64url", gateway("/", header_values=[
        "v2;t=1763715900;k=key-current;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+"]), "malformed", "signature_encoding"),
    deny("huge-header", "Longer than 256 bytes", gateway("/", header_values=["v2;t=1;k=" + "a" * 300]), "malformed", "header_too_long"),
    deny("unknown-key", "Signed with a key that is in no staging label", gateway("/"), "unknown_key", e=edge("/"), role="outsider"),
    deny("expired", "Signed 61 s ago, one past the window", gateway("/"), "expired", e=edge("/", at=NOW - 61)),
    deny("replayed-later", "A captured header replayed ten minutes later", gateway("/items", now=NOW + 600), "expired",
         e=edge("/items")),
    deny("from-the-future", "Signed 6 s ahead, one past the bound", gateway("/"), "future", e=edge("/", at=NOW + 6)),
    deny("tampered-signature", "One signature character changed", gateway("/"), "bad_signature", e=edge("/"), tamper="signature"),
    deny("other-method", "A GET signature used on a DELETE", gateway("/items/1", method="DELETE"), "bad_signature",
         e=edge("/items/1")),
    deny("other-path", "A signature for /items/1 used on /items/2", gateway("/items/2"), "bad_signature", e=edge("/items/1")),
    deny("other-query", "A signature for ?id=1 used with ?id=2", gateway("/", "id=2"), "bad_signature", e=edge("/", "id=1")),
    deny("other-host", "A signature for one API used on another", gateway("/", domain_name="other.execute-api.us-east-1.amazonaws.com"),
         "bad_signature", e=edge("/")),
    deny("other-stage", "A signature for /prod used on /dev", gateway("/dev/items"), "bad_signature", e=edge("/items", path_prefix="/prod")),
    deny("truncated-path-fails-closed", "Were %3F signed, the authorizer would see the cut rawPath: a deny",
         gateway("/a"), "bad_signature", e=edge("/a", "b")),
    deny("gateway-path-not-absolute", "A rawPath without a leading '/' is refused before any key is used",
         gateway("items", header_values=["v2;t=1763715900;k=key-current;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]),
         "malformed", "path_not_absolute"),
    deny("lowercase-method", "Methods are uppercase tokens", gateway("/", method="get", header_values=[
        "v2;t=1763715900;k=key-current;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]), "malformed", "method"),
    sign_error("non-utf8-path", "%FF in a path cannot match API Gateway's decoded rawPath: the edge refuses to sign",
               edge("/%FF"), "path_not_utf8"),
    sign_error("bad-escape", "'%' not followed by two hex digits", edge("/a%zz"), "percent_encoding"),
    sign_error("decoded-question-mark", "HTTP APIs decode %3F and cut rawPath there: the edge refuses (400)",
               edge("/a%3Fb"), "path_truncated"),
    sign_error("percent-then-non-hex", "HTTP APIs decode twice and answer 400 to %25 followed by non-hex: the edge refuses",
               edge("/percent%25done"), "path_rejected"),
    sign_error("non-utf8-after-second-decoding", "%25FF decodes twice to the byte FF, not UTF-8", edge("/%25FF"),
               "path_not_utf8"),
    # REST APIs keep the path's encoding: the verifier decodes it once.
    ok("rest-double-encoded", "REST: %252F is decoded once, a literal '%2F'",
       edge("/prod/a%252Fb", api="rest_api"), rest("/prod/a%252Fb")),
    ok("rest-literal-percent", "REST: %25 is a literal '%'", edge("/100%25", api="rest_api"), rest("/100%25")),
    ok("rest-question-mark", "REST: %3F stays in the path", edge("/a%3Fb", api="rest_api"), rest("/a%3fb")),
    ok("rest-query", "REST: decoded query pairs canonicalise as the raw query does",
       edge("/", "b=x+y&a=%2F&a=1", api="rest_api"), rest("/", [("b", "x y"), ("a", "/"), ("a", "1")])),
    deny("rest-other-path", "REST: a signature for /a used on /b", rest("/b"), "bad_signature", e=edge("/a", api="rest_api")),
    # The header value as delivered (SPEC §6, order of checks).
    ok_tampered("whitespace-around", "Spaces and tabs around the value are not part of it (HTTP optional whitespace)",
                edge("/"), gateway("/"), "whitespace"),
    deny("whitespace-only", "A value of only spaces is missing", gateway("/", header_values=["   "]), "missing"),
    deny("whitespace-inside", "Whitespace inside the value is malformed", gateway("/", header_values=[
        VALID_LOOKING.replace(";k=", "; k=")]), "malformed", "header_syntax"),
    deny("padded-past-limit", "Length is counted first, whitespace included: 300 spaces + a valid value",
         gateway("/"), "malformed", "header_too_long", e=edge("/"), tamper="pad300"),
    deny("comma-joined", "HTTP APIs join repeated headers with ','; a comma means the header came twice",
         gateway("/"), "malformed", "duplicate_header", e=edge("/"), tamper="comma"),
    deny("bare-version", "A bare 'v2' is malformed", gateway("/", header_values=["v2"]), "malformed", "header_syntax"),
    deny("too-long-before-duplicate", "A too long value is reported before a duplicate",
         gateway("/", header_values=[VALID_LOOKING, "x" * 300]), "malformed", "header_too_long"),
    sign_error("bad-escape-in-query", "A truncated escape in the query", edge("/", "a=%2"), "percent_encoding"),
    sign_error("huge-uri", "Past the 16 KiB bound on path input", edge("/" + "a" * 16384), "too_long"),
    sign_error("port-in-host", "The origin domain is a name, never host:port", edge("/", origin_domain="api.example.com:443"), "host"),
    # v2 binds the order of a repeated key's values (SPEC §5); v1 did not (SPEC §6.1).
    deny("query-repeated-keys-reordered", "v2: a signature for ?role=admin&role=user is refused for ?role=user&role=admin",
         gateway("/", "role=user&role=admin"), "bad_signature", e=edge("/", "role=admin&role=user")),
    ok("query-repeated-keys-interleaved", "v2: pairs are sorted by key only; other keys between repeats do not matter",
       edge("/", "role=admin&x=1&role=user"), gateway("/", "x=1&role=admin&role=user")),
    signed_v1("v1-unique-keys", "A v1 signature over a query without a repeated key is accepted by default (unambiguous)",
              edge("/", "b=2&a=1"), gateway("/", "a=1&b=2"), "ok"),
    signed_v1("v1-no-query", "A v1 signature without a query is accepted by default", edge("/items"), gateway("/items"), "ok"),
    signed_v1("v1-repeated-keys-refused", "A v1 signature over a repeated key is refused by default: v1 does not bind the order",
              edge("/", "role=admin&role=user"), gateway("/", "role=admin&role=user"),
              "unsupported_version", "v1_repeated_query_key"),
    signed_v1("v1-reordered-replay-refused", "The v1 replay with the values reordered is refused by default",
              edge("/", "role=admin&role=user"), gateway("/", "role=user&role=admin"),
              "unsupported_version", "v1_repeated_query_key"),
    signed_v1("v1-repeated-keys-normalised", "Keys repeat after normalisation too: %61 is 'a'",
              edge("/", "a=2&%61=1"), gateway("/", "a=2&%61=1"), "unsupported_version", "v1_repeated_query_key"),
    signed_v1("v1-all-accepts-repeated-keys", "accept_v1=all (during an upgrade) accepts v1 over a repeated key",
              edge("/", "role=admin&role=user"), gateway("/", "role=admin&role=user"), "ok", accept_v1="all"),
    signed_v1("v1-all-accepts-reordered-replay", "accept_v1=all also accepts the reordered replay: what v1 always allowed",
              edge("/", "role=admin&role=user"), gateway("/", "role=user&role=admin"), "ok", accept_v1="all"),
    signed_v1("v1-none-refuses-v1", "accept_v1=none refuses every v1 signature",
              edge("/", "b=2&a=1"), gateway("/", "a=1&b=2"), "unsupported_version", "v1_not_accepted", accept_v1="none"),
    ok("v2-with-v1-refused", "accept_v1=none still accepts v2", edge("/", "b=2&a=1"), gateway("/", "a=1&b=2", accept_v1="none")),
    signed_v1("v1-rest-repeated-keys-refused", "REST: the same policy applies to decoded query pairs",
              edge("/", "a=2&a=1", api="rest_api"), rest("/", [("a", "2"), ("a", "1")]),
              "unsupported_version", "v1_repeated_query_key"),
    deny("rest-repeated-keys-reordered", "REST, v2: each key's values keep the order sent",
         rest("/", [("a", "1"), ("a", "2")]), "bad_signature", e=edge("/", "a=2&a=1", api="rest_api")),
]


def build(case, keys):
    out = {k: v for k, v in case.items() if k != "tamper"}
    if "v1_sign" in case:
        e = case["v1_sign"]
        kid, key_bytes = keys[case["signing_key"]]
        target = ref.edge_target(e["method"], e["origin_domain"], e["path_prefix"], e["uri"], e["querystring"], e["api"])
        _, header = ref.sign(target, kid, key_bytes, e["at"], version="v1")
        out["verify"] = dict(case["verify"], header_values=[header])
    if "sign" in case:
        e = case["sign"]
        kid, key_bytes = keys[case["signing_key"]]
        try:
            target = ref.edge_target(e["method"], e["origin_domain"], e["path_prefix"], e["uri"], e["querystring"], e["api"])
        except ref.Rejected as rejected:
            assert case.get("sign_error") == rejected.detail, (case["name"], rejected.detail)
            return out
        assert "sign_error" not in case, case["name"]
        canonical, header = ref.sign(target, kid, key_bytes, e["at"])
        out["canonical"] = canonical
        out["header"] = header
        if "header_values" not in case["verify"]:
            values = [header]
            if case.get("tamper") == "signature":
                values = [tamper_last_signature_char(header)]
            elif case.get("tamper") == "duplicate":
                values = [header, header]
            elif case.get("tamper") == "whitespace":
                values = [" \t" + header + " "]
            elif case.get("tamper") == "pad300":
                values = [" " * 300 + header]
            elif case.get("tamper") == "comma":
                values = [header + "," + header]
            out["verify"] = dict(case["verify"], header_values=values)
    g = out["verify"]
    ring = {kid: (role, kb) for role, (kid, kb) in keys.items() if role != "outsider"}
    try:
        if g["api"] == "rest_api":
            target = ref.rest_target(g["method"], g["domain_name"], g["path"], g["query_pairs"])
        else:
            target = ref.gateway_target(g["method"], g["domain_name"], g["raw_path"], g["raw_query_string"])
        kid, role, _ = ref.verify(g["header_values"], target, ring, g["now"],
                                  g.get("max_age_secs", 60), g.get("max_future_secs", 5),
                                  g.get("accept_v1", "unambiguous"))
        got = ("ok", None, role)
    except ref.Rejected as rejected:
        got = (rejected.reason, rejected.detail, None)
    want = (case["expect"], case.get("expect_detail"), case.get("expect_key_role"))
    assert got == want, (case["name"], got, want)
    return out


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "vectors")
    os.makedirs(out_dir, exist_ok=True)
    keys = key_by_role()
    names = set()
    for index, case in enumerate(CASES, start=1):
        assert case["name"] not in names, case["name"]
        names.add(case["name"])
        vector = build(case, keys)
        path = os.path.join(out_dir, "%03d-%s.json" % (index, case["name"]))
        with open(path, "w", encoding="utf-8") as f:
            json.dump(vector, f, indent=2, ensure_ascii=False)
            f.write("\n")
    print(f"{len(CASES)} vectors written to {out_dir}")


if __name__ == "__main__":
    main()
