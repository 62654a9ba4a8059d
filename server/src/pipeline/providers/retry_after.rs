//! The `retry-after` header of a 429 or 503: seconds (`"2"`, `"0.5"`) or an
//! HTTP date (`"Sun, 06 Nov 1994 08:49:37 GMT"`). The server is not trusted:
//! a negative, infinite or unreadable value is ignored, and a huge one is
//! capped, because `Duration` panics on what it cannot hold.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long the server asks us to wait, at most `cap`; `None` when the
/// value makes no sense.
pub(super) fn parse(value: &str, now: SystemTime, cap: Duration) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => Duration::try_from_secs_f64(seconds.min(cap.as_secs_f64())).ok()?,
        Ok(_) => return None,
        // A date in the past means "now".
        Err(_) => http_date(value)?.duration_since(now).unwrap_or(Duration::ZERO),
    };
    Some(wait.min(cap))
}

/// The IMF-fixdate form, the only one servers may send (RFC 9110 §5.6.7);
/// the obsolete RFC 850 and asctime forms are ignored.
fn http_date(value: &str) -> Option<SystemTime> {
    let mut fields = value.strip_suffix(" GMT")?.split(' ');
    let (_weekday, day, month, year, time) = (fields.next()?, fields.next()?, fields.next()?, fields.next()?, fields.next()?);
    if fields.next().is_some() {
        return None;
    }
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = MONTHS.iter().position(|m| *m == month)? as u64 + 1;
    let (day, year): (u64, u64) = (day.parse().ok()?, year.parse().ok()?);
    let mut clock = time.split(':').map(|part| part.parse::<u64>().ok());
    let (hours, minutes, seconds) = (clock.next()??, clock.next()??, clock.next()??);
    if !(1..=31).contains(&day) || !(1970..=9999).contains(&year) || hours > 23 || minutes > 59 || seconds > 60 || clock.next().is_some() {
        return None;
    }
    let since_epoch = days_since_epoch(year, month, day) * 86_400 + hours * 3600 + minutes * 60 + seconds;
    UNIX_EPOCH.checked_add(Duration::from_secs(since_epoch))
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar
/// (Howard Hinnant's `days_from_civil`, for years from 1970 on).
fn days_since_epoch(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAP: Duration = Duration::from_secs(30);

    /// 1994-11-06 08:49:37 UTC, the date of RFC 9110's example.
    fn rfc_example() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(784_111_777)
    }

    #[test]
    fn values_a_server_may_send() {
        let cases: &[(&str, Option<Duration>)] = &[
            ("2", Some(Duration::from_secs(2))),
            (" 0.5 ", Some(Duration::from_millis(500))),
            ("0", Some(Duration::ZERO)),
            ("120", Some(CAP)),
            ("1e308", Some(CAP)),
            ("18446744073709551616", Some(CAP)),
            ("-5", None),
            ("-0.001", None),
            ("NaN", None),
            ("inf", None),
            ("-inf", None),
            ("", None),
            ("soon", None),
            ("Sun, 06 Nov 1994 08:49:37 GMT", Some(Duration::ZERO)),
            ("Sun, 06 Nov 1994 08:49:47 GMT", Some(Duration::from_secs(10))),
            ("Mon, 07 Nov 1994 08:49:37 GMT", Some(CAP)),
            ("Sun, 06 Nov 1994 08:49:47 UTC", None),
            ("Sun, 32 Nov 1994 08:49:37 GMT", None),
            ("Sun, 06 Nov 1994 24:49:37 GMT", None),
            ("Sunday, 06-Nov-94 08:49:37 GMT", None),
            ("Sun, 06 Nov 99999999999999999999 08:49:37 GMT", None),
        ];
        for (value, expected) in cases {
            assert_eq!(parse(value, rfc_example(), CAP), *expected, "retry-after: {value:?}");
        }
    }

    #[test]
    fn dates_count_from_the_unix_epoch() {
        assert_eq!(http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(UNIX_EPOCH));
        assert_eq!(http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(rfc_example()));
        assert_eq!(http_date("Tue, 29 Feb 2000 00:00:00 GMT"), Some(UNIX_EPOCH + Duration::from_secs(951_782_400)));
    }
}
