//! Calendar helpers on Unix seconds (UTC), without a date library: the day a record belongs to
//! (the report's per-day totals and the DynamoDB report index partition), and fixed windows.

use crate::config::DAY_SECONDS;

/// The UTC calendar day of `at` (Unix seconds) as `yyyy-mm-dd`.
///
/// ```
/// assert_eq!(votecheck_store::time::utc_day(0), "1970-01-01");
/// assert_eq!(votecheck_store::time::utc_day(1_709_251_199), "2024-02-29");
/// ```
pub fn utc_day(at: i64) -> String {
    let (year, month, day) = civil_from_days(at.div_euclid(DAY_SECONDS));
    format!("{year:04}-{month:02}-{day:02}")
}

/// `at` (Unix seconds) as `yyyy-mm-dd hh:mm` in UTC.
///
/// ```
/// assert_eq!(votecheck_store::time::utc_date_time(1_767_225_600 + 3_660), "2026-01-01 01:01");
/// ```
pub fn utc_date_time(at: i64) -> String {
    let seconds_of_day = at.rem_euclid(DAY_SECONDS);
    format!(
        "{} {:02}:{:02}",
        utc_day(at),
        seconds_of_day / 3_600,
        seconds_of_day % 3_600 / 60
    )
}

/// The start (Unix seconds) of the UTC day containing `at`.
pub fn day_start(at: i64) -> i64 {
    at.div_euclid(DAY_SECONDS) * DAY_SECONDS
}

/// The start of the fixed window of `window_seconds` containing `at`.
pub fn window_start(at: i64, window_seconds: i64) -> i64 {
    at.div_euclid(window_seconds) * window_seconds
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day), after Howard Hinnant's
/// `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_days() {
        assert_eq!(utc_day(0), "1970-01-01");
        assert_eq!(utc_day(86_399), "1970-01-01");
        assert_eq!(utc_day(86_400), "1970-01-02");
        assert_eq!(utc_day(951_782_400), "2000-02-29");
        assert_eq!(utc_day(1_735_689_599), "2024-12-31");
        assert_eq!(utc_day(1_735_689_600), "2025-01-01");
        assert_eq!(utc_day(4_102_444_800), "2100-01-01");
        assert_eq!(utc_day(-1), "1969-12-31");
    }

    #[test]
    fn windows() {
        assert_eq!(day_start(86_401), 86_400);
        assert_eq!(window_start(1_199, 600), 600);
        assert_eq!(window_start(1_200, 600), 1_200);
    }
}
