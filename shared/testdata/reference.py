"""Independent reference implementation of the originsig protocol (v2, and v1 as verifiers accept
it), written from SPEC.md alone.

Standard library only. It generates the test vectors (generate_vectors.py) that the Rust core,
the WASM build and the Node handler are all checked against, and it is the Python peer in the
benchmarks. It is not used in production.
"""

import base64
import hashlib
import hmac
import json
import re

ALGORITHM_TAGS = {"v1": "ORIGINSIG-HMAC-SHA256-V1", "v2": "ORIGINSIG-HMAC-SHA256-V2"}
CURRENT_VERSION = "v2"
ACCEPT_V1_POLICIES = ("unambiguous", "all", "none")
HEADER_NAME = "x-originsig"
MAX_HEADER_LEN = 256
MAX_PART_LEN = 16 * 1024
UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
HEADER_RE = re.compile(r"(v1|v2);t=(0|[1-9][0-9]{0,9});k=([A-Za-z0-9_-]{1,64});s=([A-Za-z0-9_-]{43})")
VERSION_RE = re.compile(r"v[1-9][0-9]{0,3}")


class Rejected(Exception):
    """A verification failure: `reason` is the stable code, `detail` the malformed sub-code."""

    def __init__(self, reason, detail=None):
        super().__init__(reason if detail is None else f"{reason}/{detail}")
        self.reason = reason
        self.detail = detail


def _malformed(detail):
    return Rejected("malformed", detail)


def percent_decode(text, plus_is_space):
    """Decodes %XX escapes of `text` (str or bytes) to bytes."""
    out = bytearray()
    raw = text if isinstance(text, bytes) else text.encode("utf-8")
    i = 0
    while i < len(raw):
        byte = raw[i]
        if byte == 0x25:  # '%'
            pair = raw[i + 1 : i + 3]
            if len(pair) != 2 or not all(c in b"0123456789abcdefABCDEF" for c in pair):
                raise _malformed("percent_encoding")
            out.append(int(pair, 16))
            i += 3
        elif byte == 0x2B and plus_is_space:
            out.append(0x20)
            i += 1
        else:
            out.append(byte)
            i += 1
    return bytes(out)


def percent_encode(data, keep_slash):
    return "".join(
        chr(b) if b in UNRESERVED or (keep_slash and b == 0x2F) else "%%%02X" % b for b in data
    )


def method(value):
    if not (1 <= len(value) <= 16) or not all("A" <= c <= "Z" for c in value):
        raise _malformed("method")
    return value


def host(value):
    if value.endswith("."):
        value = value[:-1]
    if not (1 <= len(value) <= 253) or not re.fullmatch(r"[A-Za-z0-9.-]+", value):
        raise _malformed("host")
    return value.lower()


def path_from_decoded(path):
    if len(path.encode("utf-8")) > MAX_PART_LEN:
        raise _malformed("too_long")
    if path == "":
        return "/"
    if not path.startswith("/"):
        raise _malformed("path_not_absolute")
    return percent_encode(path.encode("utf-8"), keep_slash=True)


API_KINDS = ("http_api", "rest_api")


def path_from_edge(path_prefix, uri, api="http_api"):
    """The path as `api` will hand it to its authorizer, canonicalised (SPEC §4).

    HTTP API: decoded twice, and cut at a '?' the first decoding produced (so refused here);
    REST API: decoded once."""
    if len(path_prefix.encode("utf-8")) + len(uri.encode("utf-8")) > MAX_PART_LEN:
        raise _malformed("too_long")
    decoded = percent_decode(path_prefix, False) + percent_decode(uri, False)
    if api == "http_api":
        if b"?" in decoded:
            raise _malformed("path_truncated")
        try:
            decoded = percent_decode(decoded, False)
        except Rejected:
            raise _malformed("path_rejected") from None
    elif api != "rest_api":
        raise ValueError(f"unknown api kind {api!r}")
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        raise _malformed("path_not_utf8") from None
    return path_from_decoded(text)


def path_from_rest(path):
    """REST API authorizers see the path still encoded; it is decoded once."""
    return path_from_edge("", path, "rest_api")


class Query:
    """A query as normalised pairs in the order they were sent (SPEC §5 steps 1-4); each
    version orders them its own way when rendered."""

    def __init__(self, pairs):
        self.pairs = list(pairs)

    def repeats_key(self):
        keys = [k for k, _ in self.pairs]
        return len(keys) != len(set(keys))

    def render(self, version):
        if version == "v2":
            # Python's sort is stable: the values of a repeated key keep their sent order.
            ordered = sorted(self.pairs, key=lambda kv: kv[0].encode())
        else:
            ordered = sorted(self.pairs, key=lambda kv: (kv[0].encode(), kv[1].encode()))
        return "&".join(f"{k}={v}" for k, v in ordered)


def canonical_query(raw):
    if len(raw.encode("utf-8")) > MAX_PART_LEN:
        raise _malformed("too_long")
    pairs = []
    for piece in raw.split("&"):
        if piece == "":
            continue
        key, _, value = piece.partition("=")
        pairs.append(
            (
                percent_encode(percent_decode(key, True), keep_slash=False),
                percent_encode(percent_decode(value, True), keep_slash=False),
            )
        )
    return Query(pairs)


def edge_target(method_, origin_domain, path_prefix, uri, querystring, api="http_api"):
    return (method(method_), host(origin_domain), path_from_edge(path_prefix, uri, api), canonical_query(querystring))


def gateway_target(method_, domain_name, raw_path, raw_query_string):
    return (method(method_), host(domain_name), path_from_decoded(raw_path), canonical_query(raw_query_string))


def rest_target(method_, domain_name, path, query_pairs):
    """REST API REQUEST authorizer: the encoded path and the decoded query pairs (each key's
    values in the order sent)."""
    if sum(len(k.encode("utf-8")) + len(v.encode("utf-8")) + 2 for k, v in query_pairs) > MAX_PART_LEN:
        raise _malformed("too_long")
    query = Query(
        (percent_encode(k.encode("utf-8"), False), percent_encode(v.encode("utf-8"), False))
        for k, v in query_pairs if k or v
    )
    return (method(method_), host(domain_name), path_from_rest(path), query)


def canonical_request(version, timestamp, key_id, target):
    method_, host_, path, query = target
    return "\n".join([ALGORITHM_TAGS[version], str(timestamp), key_id, method_, host_, path, query.render(version)])


def mac(key_bytes, canonical):
    return hmac.new(key_bytes, canonical.encode("utf-8"), hashlib.sha256).digest()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign(target, key_id, key_bytes, now, version=CURRENT_VERSION):
    canonical = canonical_request(version, now, key_id, target)
    return canonical, f"{version};t={now};k={key_id};s={b64url(mac(key_bytes, canonical))}"


def parse_header(value):
    if value == "":
        raise Rejected("missing")
    if len(value.encode("utf-8")) > MAX_HEADER_LEN:
        raise _malformed("header_too_long")
    version = value.split(";", 1)[0]
    if version not in ALGORITHM_TAGS:
        if VERSION_RE.fullmatch(version):
            raise Rejected("unsupported_version", "unknown_version")
        raise _malformed("header_syntax")
    parts = value.split(";")
    if len(parts) != 4 or not (parts[1].startswith("t=") and parts[2].startswith("k=") and parts[3].startswith("s=")):
        raise _malformed("header_syntax")
    match = HEADER_RE.fullmatch(value)
    if not match:
        t, k, s = parts[1][2:], parts[2][2:], parts[3][2:]
        if not re.fullmatch(r"0|[1-9][0-9]{0,9}", t):
            raise _malformed("timestamp")
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", k):
            raise _malformed("key_id")
        raise _malformed("signature_encoding")
    version, t, k, s = match.groups()
    try:
        sig = base64.urlsafe_b64decode(s + "=")
    except ValueError:
        raise _malformed("signature_encoding") from None
    if b64url(sig) != s:  # non-zero trailing bits: not the one canonical spelling
        raise _malformed("signature_encoding")
    return version, int(t), k, sig


def single_header_value(values):
    """The one header value among those delivered (SPEC §6, order of checks)."""
    if any(len(v.encode("utf-8")) > MAX_HEADER_LEN for v in values):
        raise _malformed("header_too_long")
    if len(values) == 0:
        raise Rejected("missing")
    if len(values) > 1 or "," in values[0]:
        raise _malformed("duplicate_header")
    value = values[0].strip(" \t")
    if value == "":
        raise Rejected("missing")
    return value


def verify(header_values, target, ring, now, max_age_secs=60, max_future_secs=5, accept_v1="unambiguous"):
    """ring: {key_id: (role, key_bytes)}. Returns (key_id, role, skew) or raises Rejected."""
    version, timestamp, key_id, sig = parse_header(single_header_value(header_values))
    if version == "v1":
        if accept_v1 == "none":
            raise Rejected("unsupported_version", "v1_not_accepted")
        if accept_v1 == "unambiguous" and target[3].repeats_key():
            raise Rejected("unsupported_version", "v1_repeated_query_key")
        assert accept_v1 in ACCEPT_V1_POLICIES, accept_v1
    if key_id not in ring:
        raise Rejected("unknown_key")
    role, key_bytes = ring[key_id]
    if not hmac.compare_digest(mac(key_bytes, canonical_request(version, timestamp, key_id, target)), sig):
        raise Rejected("bad_signature")
    age = now - timestamp
    if age > max_age_secs:
        raise Rejected("expired")
    if -age > max_future_secs:
        raise Rejected("future")
    return key_id, role, age


def load_key(entry):
    """A key in the secret-value format -> (key_id, key_bytes)."""
    if entry.get("format") != "originsig-key-v1":
        raise ValueError("unknown key format")
    key_bytes = base64.b64decode(entry["key"], validate=True)
    if not (32 <= len(key_bytes) <= 64):
        raise ValueError("key length")
    return entry["kid"], key_bytes


def load_ring(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    ring = {}
    for role in ("current", "pending", "previous"):
        if doc.get(role):
            kid, key_bytes = load_key(doc[role])
            ring[kid] = (role, key_bytes)
    return ring
