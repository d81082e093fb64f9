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

/// Decodes `%XX` escapes; with `plus_is_space`, a literal `+` decodes to a space (query strings).
pub(crate) fn decode(input: &str, plus_is_space: bool) -> Result<Vec<u8>, Malformed> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some((&byte, tail)) = rest.split_first() {
        match byte {
            b'%' => {
                let (hi, lo, tail) = match tail {
                    [hi, lo, tail @ ..] => (*hi, *lo, tail),
                    _ => return Err(Malformed::PercentEncoding),
                };
                match (hex_value(hi), hex_value(lo)) {
                    (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                    _ => return Err(Malformed::PercentEncoding),
                }
                rest = tail;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                rest = tail;
            }
            other => {
                out.push(other);
                rest = tail;
            }
        }
    }
    Ok(out)
}

/// Uppercase hex digit of a nibble (`n` < 16).
fn hex_digit(n: u8) -> char {
    char::from(if n < 10 { b'0' + n } else { b'A' + (n - 10) })
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// Appends `bytes` to `out` in canonical percent-encoding; `keep_slash` leaves `/` literal.
pub(crate) fn encode_into(out: &mut String, bytes: &[u8], keep_slash: bool) {
    for &byte in bytes {
        if is_unreserved(byte) || (keep_slash && byte == b'/') {
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
