//! Text formats of Ward's scalar values, as requests carry them and as
//! decisions print them. One definition, used by the compiler (literals,
//! reference interpreter) and the runtime (request encoding).
//!
//! | type | representation | text |
//! | --- | --- | --- |
//! | `Duration` | milliseconds, `i64` | `15m`, `1h30m`, `500ms`, `-2d` |
//! | `Timestamp` | milliseconds since 1970-01-01T00:00:00Z, `i64` | RFC 3339: `2026-01-31T09:30:00Z`, `2026-01-31T10:30:00.250+01:00` |
//! | `TimeOfDay` | milliseconds since midnight | `09:30`, `09:30:15` |
//! | `Ip` | IPv4 or IPv6 address | `10.0.0.1`, `2001:db8::1` |
//! | `Cidr` | network address and prefix length | `10.0.0.0/8`, `2001:db8::/32` |

use std::net::IpAddr;

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

const UNITS: &[(&str, i64)] = &[("d", DAY_MS), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)];

/// Parses duration text (`15m`, `1h30m`, `500ms`, `-2d`) into milliseconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if body.is_empty() {
        return None;
    }
    let bytes = body.as_bytes();
    let mut total: i64 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let digits_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == digits_start {
            return None;
        }
        let number: i64 = body[digits_start..i].parse().ok()?;
        let unit_len = if body[i..].starts_with("ms") {
            2
        } else if i < bytes.len() {
            1
        } else {
            return None;
        };
        // `get`: the byte after the digits may start a multi-byte character.
        let unit = body.get(i..i + unit_len)?;
        let millis = UNITS.iter().find(|(u, _)| *u == unit)?.1;
        total = total.checked_add(number.checked_mul(millis)?)?;
        i += unit_len;
    }
    if negative { total.checked_neg() } else { Some(total) }
}

/// Writes milliseconds as canonical duration text: largest units first,
/// zero parts omitted, `0s` for zero.
pub fn format_duration(millis: i64) -> String {
    if millis == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    if millis < 0 {
        out.push('-');
    }
    let mut rest = millis.unsigned_abs();
    for (unit, size) in UNITS {
        let size = size.unsigned_abs();
        let count = rest / size;
        if count > 0 {
            out.push_str(&count.to_string());
            out.push_str(unit);
            rest %= size;
        }
    }
    out
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn digits(text: &str, range: std::ops::Range<usize>) -> Option<i64> {
    let part = text.get(range)?;
    if part.bytes().all(|b| b.is_ascii_digit()) { part.parse().ok() } else { None }
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Parses an RFC 3339 timestamp (`2026-01-31T09:30:00Z`, optional fraction of
/// up to nine digits, `Z` or `±HH:MM` offset) into milliseconds since the
/// Unix epoch. Fractions below a millisecond are truncated.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = digits(text, 0..4)?;
    let month = digits(text, 5..7)?;
    let day = digits(text, 8..10)?;
    let hour = digits(text, 11..13)?;
    let minute = digits(text, 14..16)?;
    let second = digits(text, 17..19)?;
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let fraction = &text[start..i];
        if fraction.is_empty() || fraction.len() > 9 {
            return None;
        }
        let padded = format!("{fraction:0<3}");
        millis = padded[..3].parse::<i64>().ok()?;
    }
    let offset_minutes = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let h = digits(text, i + 1..i + 3)?;
            let m = digits(text, i + 4..i + 6)?;
            if h > 23 || m > 59 {
                return None;
            }
            let total = h * 60 + m;
            if *sign == b'-' { -total } else { total }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1_000 + millis)
}

/// Writes milliseconds since the epoch as RFC 3339 in UTC, with a fraction
/// only when it is not zero.
pub fn format_timestamp(millis: i64) -> String {
    let days = millis.div_euclid(DAY_MS);
    let in_day = millis.rem_euclid(DAY_MS);
    let (year, month, day) = civil_from_days(days);
    let (h, m, s, ms) = (in_day / 3_600_000, in_day / 60_000 % 60, in_day / 1_000 % 60, in_day % 1_000);
    if ms == 0 {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
    } else {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z")
    }
}

/// Parses a time of day (`09:30` or `09:30:15`) into milliseconds since midnight.
pub fn parse_time_of_day(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let (h, m, s) = match b.len() {
        5 if b[2] == b':' => (digits(text, 0..2)?, digits(text, 3..5)?, 0),
        8 if b[2] == b':' && b[5] == b':' => (digits(text, 0..2)?, digits(text, 3..5)?, digits(text, 6..8)?),
        _ => return None,
    };
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    Some((h * 3_600 + m * 60 + s) * 1_000)
}

/// Writes milliseconds since midnight as `HH:MM` or `HH:MM:SS`.
pub fn format_time_of_day(millis: i64) -> String {
    let seconds = millis / 1_000;
    let (h, m, s) = (seconds / 3_600, seconds / 60 % 60, seconds % 60);
    if s == 0 { format!("{h:02}:{m:02}") } else { format!("{h:02}:{m:02}:{s:02}") }
}

/// Parses an IPv4 or IPv6 address.
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    text.parse().ok()
}

/// A CIDR range: the network address (host bits cleared) and the prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    /// The network address.
    pub network: IpAddr,
    /// The number of leading bits that are fixed.
    pub prefix: u8,
}

impl Cidr {
    /// Whether `addr` is in this range. An IPv4 address is never in an IPv6
    /// range and the other way round.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.network, addr) {
            (IpAddr::V4(net), IpAddr::V4(a)) => mask_v4(u32::from(a), self.prefix) == u32::from(net),
            (IpAddr::V6(net), IpAddr::V6(a)) => mask_v6(u128::from(a), self.prefix) == u128::from(net),
            _ => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

fn mask_v4(a: u32, prefix: u8) -> u32 {
    if prefix == 0 { 0 } else { a & (u32::MAX << (32 - u32::from(prefix))) }
}

fn mask_v6(a: u128, prefix: u8) -> u128 {
    if prefix == 0 { 0 } else { a & (u128::MAX << (128 - u32::from(prefix))) }
}

/// Parses `address/prefix`. Host bits below the prefix are cleared, so
/// `10.1.2.3/8` is the range `10.0.0.0/8`.
pub fn parse_cidr(text: &str) -> Option<Cidr> {
    let (addr, prefix) = text.split_once('/')?;
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) || prefix.len() > 3 {
        return None;
    }
    let prefix: u8 = prefix.parse().ok()?;
    let network = match parse_ip(addr)? {
        IpAddr::V4(a) if prefix <= 32 => IpAddr::V4(mask_v4(u32::from(a), prefix).into()),
        IpAddr::V6(a) if prefix <= 128 => IpAddr::V6(mask_v6(u128::from(a), prefix).into()),
        _ => return None,
    };
    Some(Cidr { network, prefix })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip() {
        for (text, ms) in [
            ("15m", 900_000),
            ("1h30m", 5_400_000),
            ("500ms", 500),
            ("-2d", -2 * DAY_MS),
            ("0s", 0),
            ("1d1h1m1s1ms", 90_061_001),
        ] {
            assert_eq!(parse_duration(text), Some(ms), "{text}");
            assert_eq!(parse_duration(&format_duration(ms)), Some(ms));
        }
        assert_eq!(format_duration(5_400_000), "1h30m");
        for bad in ["", "15", "m", "15x", "1.5h", "--1s", "99999999999999999999d", "1h 30m", "1µs", "5é", "1m€"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        assert_eq!(format_duration(i64::MIN), "-106751991167d7h12m55s808ms");
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_timestamp("2026-01-31T09:30:00Z"), Some(1_769_851_800_000));
        assert_eq!(parse_timestamp("2026-01-31T10:30:00.25+01:00"), Some(1_769_851_800_250));
        assert_eq!(format_timestamp(1_769_851_800_250), "2026-01-31T09:30:00.250Z");
        assert_eq!(parse_timestamp("1969-12-31T23:59:59Z"), Some(-1000));
        assert_eq!(format_timestamp(-1000), "1969-12-31T23:59:59Z");
        for bad in [
            "2026-02-30T00:00:00Z",
            "2026-01-31 09:30:00Z",
            "2026-01-31T09:30:00",
            "2026-13-01T00:00:00Z",
            "2026-01-31T24:00:00Z",
            "x",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
        assert_eq!(
            parse_timestamp("2024-02-29T12:00:00Z").map(format_timestamp).as_deref(),
            Some("2024-02-29T12:00:00Z")
        );
    }

    #[test]
    fn times_of_day() {
        assert_eq!(parse_time_of_day("09:30"), Some(34_200_000));
        assert_eq!(parse_time_of_day("23:59:59"), Some(86_399_000));
        assert_eq!(parse_time_of_day("24:00"), None);
        assert_eq!(format_time_of_day(34_200_000), "09:30");
    }

    #[test]
    fn cidr_ranges() {
        let r = parse_cidr("10.1.2.3/8").expect("valid");
        assert_eq!(r.to_string(), "10.0.0.0/8");
        assert!(r.contains("10.200.0.1".parse().expect("ip")));
        assert!(!r.contains("11.0.0.1".parse().expect("ip")));
        assert!(!r.contains("::1".parse().expect("ip")));
        let all = parse_cidr("0.0.0.0/0").expect("valid");
        assert!(all.contains("255.255.255.255".parse().expect("ip")));
        let v6 = parse_cidr("2001:db8::/32").expect("valid");
        assert!(v6.contains("2001:db8::1".parse().expect("ip")));
        for bad in ["10.0.0.0/33", "10.0.0.0", "10.0.0.0/", "x/8", "::/129", "10.0.0.0/+8"] {
            assert_eq!(parse_cidr(bad), None, "{bad}");
        }
    }
}
