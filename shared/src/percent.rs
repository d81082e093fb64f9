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
/// `plus_is_space`, a literal `+` decodes to a space (query strings).
pub(crate) fn decode_into(out: &mut Vec<u8>, input: &str, plus_is_space: bool) -> Result<(), Malformed> {
    let mut rest = input.as_bytes();
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

/// Uppercase hex digits.
const HEX: &[u8; 16] = b"0123456789ABCDEF";

pub(crate) fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// Appends `bytes` to `out` in canonical percent-encoding; `keep_slash` leaves `/` literal.
pub(crate) fn encode_into(out: &mut String, bytes: &[u8], keep_slash: bool) {
    let mut rest = bytes;
    loop {
        let run = rest
            .iter()
            .position(|&b| !(is_unreserved(b) || (keep_slash && b == b'/')))
            .unwrap_or(rest.len());
        let (literal, tail) = rest.split_at(run);
        // The run is ASCII by construction, so this never falls back.
        out.push_str(std::str::from_utf8(literal).unwrap_or_default());
        let Some((&byte, tail)) = tail.split_first() else {
            return;
        };
        out.push('%');
        for nibble in [byte >> 4, byte & 0x0F] {
            out.push(char::from(HEX.get(usize::from(nibble)).copied().unwrap_or(b'0')));
        }
        rest = tail;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(input: &str, plus_is_space: bool) -> Result<Vec<u8>, Malformed> {
        let mut out = Vec::new();
        decode_into(&mut out, input, plus_is_space).map(|()| out)
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
