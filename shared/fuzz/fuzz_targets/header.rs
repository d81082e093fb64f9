//! The signature-header parser: any bytes, never a panic; whatever parses renders back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use originsig_core::SignatureHeader;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(header) = SignatureHeader::parse(text) {
            assert_eq!(header.render(), text, "one spelling per header");
        }
    }
});
