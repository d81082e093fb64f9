//! Percent-decoding and the one re-encoding rule of the canonical form.
//!
//! Encoding: every byte outside RFC 3986 "unreserved" (`A-Z a-z 0-9 - . _ ~`) becomes `%XX` with
//! uppercase hex; in paths `/` is also kept literal. Decoding: `%` must be followed by two hex
//! digits (either case); anything else is [`Malformed::PercentEncoding`].

use crate::error::Malformed;

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes, appending to `out` (one buffer serves many parts); with
/// `plus_is_space`, a literal `+` decodes to a space (query strings). The input is bytes, not
/// text, because the HTTP API path rule decodes a second time what the first pass produced,
/// which need not be UTF-8 yet (SPEC.md §4).
pub(crate) fn decode_into(out: &mut Vec<u8>, input: &[u8], plus_is_space: bool) -> Result<(), Malformed> {
    let mut rest = input;
    loop {
        // Copy the run up to the next byte that decodes to something else, in one go.
        let run = rest
            .iter()
            .position(|&b| b == b'%' || (plus_is_space && b == b'+'))
            .unwrap_or(rest.len());
        let (literal, tail) = rest.split_at(run);
        out.extend_from_slice(literal);
        rest = match tail {
            [] => return Ok(()),
            [b'%', hi, lo, tail @ ..] => match (hex_value(*hi), hex_value(*lo)) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    tail
                }
                _ => return Err(Malformed::PercentEncoding),
            },
            [b'%', ..] => return Err(Malformed::PercentEncoding),
            [_plus, tail @ ..] => {
                out.push(b' ');
                tail
            }
        };
    }
}

/// The uppercase hex digit of a nibble (`0..=15`; callers pass `byte >> 4` or `byte & 0x0F`).
fn hex_digit(nibble: u8) -> char {
    char::from(if nibble < 10 {
        b'0' + nibble
    } else {
        b'A' + (nibble - 10)
    })
}

pub(crate) fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// Appends `bytes` to `out` in canonical percent-encoding; `keep_slash` leaves `/` literal.
pub(crate) fn encode_into(out: &mut String, bytes: &[u8], keep_slash: bool) {
    out.reserve(bytes.len());
    for &byte in bytes {
        if is_unreserved(byte) || (keep_slash && byte == b'/') {
            // Unreserved bytes and '/' are ASCII, so each is one char.
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(hex_digit(byte >> 4));
            out.push(hex_digit(byte & 0x0F));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(input: &str, plus_is_space: bool) -> Result<Vec<u8>, Malformed> {
        let mut out = Vec::new();
        decode_into(&mut out, input.as_bytes(), plus_is_space).map(|()| out)
    }

    #[test]
    fn decodes_both_hex_cases_and_rejects_bad_escapes() {
        assert_eq!(decode("%2f%2F", false).unwrap(), b"//");
        assert_eq!(decode("a+b", false).unwrap(), b"a+b");
        assert_eq!(decode("a+b", true).unwrap(), b"a b");
        for bad in ["%", "%2", "%zz", "%2g", "abc%"] {
            assert_eq!(decode(bad, false), Err(Malformed::PercentEncoding), "{bad}");
        }
    }

    #[test]
    fn encodes_everything_but_unreserved() {
        let mut s = String::new();
        encode_into(&mut s, "a/b c+é~".as_bytes(), true);
        assert_eq!(s, "a/b%20c%2B%C3%A9~");
        let mut s = String::new();
        encode_into(&mut s, b"a/b", false);
        assert_eq!(s, "a%2Fb");
    }
}
