//! The header checks every KeySecure request passes, in the documented precedence, and the
//! access tokens they rest on.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::ops::TOKEN_PATH;
use super::section::{Key as KeySecureKey, Rule};
use super::settings::{ErrorKind, KeyIdentity, Language, Settings};
use super::wire::OpError;
use crate::providers::Request;
use crate::running::{Session, Sessions};
use crate::world::{World, ids};

/// Who is calling: the Api-Key that named the merchant, the answer's language, and whether
/// this is the token request.
#[derive(Debug)]
pub struct Caller {
    pub api_key: String,
    pub language: Language,
    pub token_request: bool,
}

/// A header's trimmed, non-empty text.
fn header<'a>(request: &'a Request<'_>, name: &str) -> Option<&'a str> {
    request
        .header(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The checks that need no clock: 1002 (no Api-Key), 1008 (an unknown one). The merchant's
/// settings, when the key names one.
pub fn identify<'s>(
    settings: &'s Settings,
    request: &Request<'_>,
) -> Result<&'s KeyIdentity, OpError> {
    let api_key =
        header(request, "api-key").ok_or_else(|| OpError::new(ErrorKind::MissingApiKey))?;
    settings
        .merchants
        .get(api_key)
        .ok_or_else(|| OpError::new(ErrorKind::UnknownApiKey))
}

/// The rest of the header checks, on the tenant's sandbox clock: 1010, 1011, 1003, 1005; then
/// (not for the token request) 1006, 1007.
pub fn check(
    settings: &Settings,
    merchant: &KeyIdentity,
    sessions: Sessions<'_>,
    request: &Request<'_>,
    now: Timestamp,
) -> Result<(), OpError> {
    if !merchant.key.enabled {
        return Err(OpError::new(ErrorKind::ApiKeyDisabled));
    }
    if merchant.key.expires_at.is_some_and(|end| end <= now) {
        return Err(OpError::new(ErrorKind::ApiKeyExpired));
    }
    let peer = request.peer_ip();
    let allowed = merchant.key.ip_whitelist.iter().any(|entry| {
        entry == "*"
            || entry
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| crate::peer::canonical(ip) == peer)
    });
    if !allowed {
        return Err(OpError::new(ErrorKind::IpNotAllowed));
    }
    check_timestamp(header(request, "timestamp"), settings.timestamp_tolerance)?;
    if request.path != TOKEN_PATH {
        let token = header(request, "access-token")
            .ok_or_else(|| OpError::new(ErrorKind::MissingAccessToken))?;
        let valid = sessions
            .get(token)
            .is_some_and(|s| s.tenant == merchant.tenant && s.expires_at > now);
        if !valid {
            return Err(OpError::new(ErrorKind::InvalidAccessToken));
        }
    }
    Ok(())
}

/// The token request's own rule, after the rate limit: it is a GET.
pub fn read_token_request(request: &Request<'_>) -> Result<(), OpError> {
    if request.method != http::Method::GET {
        return Err(OpError::field(
            "method",
            format!("must be GET for {TOKEN_PATH}"),
        ));
    }
    Ok(())
}

/// Seeds 001/004: `Content-Type` is "Fixed to application/json", with that as its default.
/// A request without the header gets the default; one naming another type is refused (1004,
/// naming the header) unless the merchant relaxes [`Rule::ContentType`]. Parameters such as
/// `charset=utf-8` may follow the type.
pub fn check_content_type(request: &Request<'_>, key: &KeySecureKey) -> Result<(), OpError> {
    let Some(value) = request.header("content-type") else {
        return Ok(());
    };
    let media_type = value.split(';').next().unwrap_or_default().trim();
    if media_type.eq_ignore_ascii_case("application/json")
        || key.leniency.relaxes(&Rule::ContentType)
    {
        return Ok(());
    }
    Err(OpError::field(
        "Content-Type",
        format!("must be application/json, not `{}`", value.trim()),
    )
    .breaking(Rule::ContentType))
}

/// 13 digits of Unix milliseconds, not in the future and at most `tolerance` old, against the
/// wall clock: the merchant's servers stamp requests with their own clock, whatever the
/// sandbox's says.
fn check_timestamp(value: Option<&str>, tolerance: SignedDuration) -> Result<(), OpError> {
    let refuse = || OpError::new(ErrorKind::InvalidTimestamp);
    let text = value.ok_or_else(refuse)?;
    if text.len() != 13 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refuse());
    }
    let millis: i64 = text.parse().map_err(|_| refuse())?;
    let sent = Timestamp::from_millisecond(millis).map_err(|_| refuse())?;
    let now = Timestamp::now();
    if sent > now || now.duration_since(sent) > tolerance {
        return Err(refuse());
    }
    Ok(())
}

/// `UTC+8`, `GMT-05:30`, `+08:00`, `UTC`.
pub fn parse_timezone(text: &str) -> Option<jiff::tz::Offset> {
    let rest = text
        .strip_prefix("UTC")
        .or_else(|| text.strip_prefix("GMT"))
        .unwrap_or(text);
    if rest.is_empty() {
        return Some(jiff::tz::Offset::UTC);
    }
    let (sign, rest) = match rest.split_at_checked(1)? {
        ("+", rest) => (1, rest),
        ("-", rest) => (-1, rest),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    if !(0..=14).contains(&hours) || !(0..60).contains(&minutes) {
        return None;
    }
    jiff::tz::Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()
}

/// `GET /open-api/v1/merchant/token` → `{access_token, expired_time}` (absolute ms on the
/// merchant's sandbox clock). Earlier tokens stay valid until their own expiry.
pub fn issue_token(
    settings: &Settings,
    merchant: &KeyIdentity,
    sessions: Sessions<'_>,
    world: &mut World,
) -> Value {
    let now = world.now();
    // From the auxiliary stream: how often a client refreshes must not shift card numbers.
    let token = ids::digits(world.aux_rng(), 32);
    let expires_at = now.saturating_add(settings.token_lifetime).unwrap_or(now);
    sessions.forget_ended(merchant.tenant, now);
    sessions.open(
        token.clone(),
        Session {
            tenant: merchant.tenant,
            expires_at,
        },
    );
    json!({ "access_token": token, "expired_time": expires_at.as_millisecond() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timezones_read_as_the_header_writes_them() {
        let hours = |h: i32| jiff::tz::Offset::from_seconds(h * 3600).unwrap();
        assert_eq!(parse_timezone("UTC+8"), Some(hours(8)));
        assert_eq!(parse_timezone("GMT-5"), Some(hours(-5)));
        assert_eq!(parse_timezone("+08:00"), Some(hours(8)));
        assert_eq!(parse_timezone("UTC"), Some(jiff::tz::Offset::UTC));
        assert_eq!(parse_timezone("UTC+15"), None);
        assert_eq!(parse_timezone("Asia/Shanghai"), None);
    }

    #[test]
    fn timestamps_must_be_recent_past_milliseconds() {
        let minute = SignedDuration::from_secs(60);
        let now = Timestamp::now().as_millisecond();
        assert!(check_timestamp(Some(&(now - 1000).to_string()), minute).is_ok());
        assert!(check_timestamp(Some(&(now - 61_000).to_string()), minute).is_err());
        assert!(check_timestamp(Some(&(now + 5_000).to_string()), minute).is_err());
        assert!(
            check_timestamp(Some(&(now / 1000).to_string()), minute).is_err(),
            "seconds"
        );
        assert!(check_timestamp(None, minute).is_err());
    }
}
