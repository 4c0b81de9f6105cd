//! Scenario values with units: durations and UTC offsets, read with located problems.

use jiff::SignedDuration;
use serde_saphyr::Spanned;

use super::error::Problems;

/// A non-negative duration such as `30s`, `1h 30m` or `PT10S`.
pub(super) fn duration(
    text: &Spanned<String>,
    problems: &mut Problems<'_>,
) -> Option<SignedDuration> {
    match text.value.parse::<SignedDuration>() {
        Ok(d) if !d.is_negative() => Some(d),
        _ => {
            problems.at(
                text.referenced,
                format!(
                    "`{}` is not a duration such as 30s, 2m or 1h 30m",
                    text.value
                ),
            );
            None
        }
    }
}

/// A UTC offset (`+08:00`, `-05:30`, `Z`); UTC when not given, `None` (with a located
/// problem) when unreadable.
pub(super) fn utc_offset(
    text: Option<Spanned<String>>,
    problems: &mut Problems<'_>,
) -> Option<jiff::tz::Offset> {
    let Some(text) = text else {
        return Some(jiff::tz::Offset::UTC);
    };
    let offset = parse_offset(&text.value);
    if offset.is_none() {
        problems.at(
            text.referenced,
            format!("`{}` is not a UTC offset such as +08:00", text.value),
        );
    }
    offset
}

/// `+08:00`, `-05:30`, `Z`.
fn parse_offset(text: &str) -> Option<jiff::tz::Offset> {
    if text == "Z" {
        return Some(jiff::tz::Offset::UTC);
    }
    let (sign, rest) = match text.split_at_checked(1)? {
        ("+", rest) => (1, rest),
        ("-", rest) => (-1, rest),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':')?;
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    if hours > 14 || minutes > 59 || hours < 0 || minutes < 0 {
        return None;
    }
    jiff::tz::Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()
}
