//! The adapters' clock: the one place outside tests that reads the time (the protocol core never
//! does; it takes `now` as an argument).

/// Now, as Unix seconds.
pub fn now_unix() -> u64 {
    now_unix_ms() / 1000
}

/// Now, as Unix milliseconds; a clock before 1970 reads as 0 (it then fails every freshness
/// check rather than passing one).
pub fn now_unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
