//! Times and durations for people reading messages.

/// UTC, e.g. `2026-11-21 09:05:00 UTC`; a time past year 9999 is shown as Unix seconds.
pub fn utc(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|unix| time::OffsetDateTime::from_unix_timestamp(unix).ok())
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// `45s`, `4m05s`, `2h10m`.
pub fn human(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60),
    }
}
