//! The header checks every KeySecure request passes, in the documented precedence, and the
//! access tokens they rest on.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::ops::TOKEN_PATH;
use super::settings::{ErrorKind, Merchant, Settings};
use super::wire::OpError;
use crate::app::{Running, Session, Tenant};
use crate::providers::Request;
use crate::world::ids;

/// Who is calling, once the headers passed.
#[derive(Debug)]
pub struct Caller<'r> {
    pub merchant: &'r Merchant,
    pub tenant: &'r Tenant,
    /// The tenant's sandbox time when the request arrived.
    pub now: Timestamp,
}

/// Session tokens are kept under this provider name.
const SESSIONS: &str = "keysecure";

/// Runs the checks: 1002, 1008, 1010, 1011, 1003, 1005; then (not for the token request)
/// 1006, 1007. [`meter`] does the rest once fault rules are consulted.
pub fn admit<'r>(
    running: &'r Running,
    settings: &'r Settings,
    request: &Request<'_>,
) -> Result<Caller<'r>, OpError> {
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let api_key = header("api-key").ok_or_else(|| OpError::new(ErrorKind::MissingApiKey))?;
    let merchant = settings
        .merchants
        .get(api_key)
        .ok_or_else(|| OpError::new(ErrorKind::UnknownApiKey))?;
    let tenant = running
        .tenants()
        .get(merchant.tenant)
        .ok_or_else(|| OpError::new(ErrorKind::UnknownApiKey))?;
    if !merchant.key.enabled {
        return Err(OpError::new(ErrorKind::ApiKeyDisabled));
    }
    let now = tenant.with_world(|world| world.now());
    if merchant.key.expires_at.is_some_and(|end| end <= now) {
        return Err(OpError::new(ErrorKind::ApiKeyExpired));
    }
    let peer = request.peer.ip();
    let allowed = merchant.key.ip_whitelist.iter().any(|entry| {
        entry == "*"
            || entry
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip == peer || Some(ip) == peer_v4(peer))
    });
    if !allowed {
        return Err(OpError::new(ErrorKind::IpNotAllowed));
    }
    check_timestamp(header("timestamp"), settings.timestamp_tolerance)?;
    if request.path != TOKEN_PATH {
        let token =
            header("access-token").ok_or_else(|| OpError::new(ErrorKind::MissingAccessToken))?;
        let valid = running
            .session(SESSIONS, token)
            .is_some_and(|s| s.tenant == merchant.tenant && s.expires_at > now);
        if !valid {
            return Err(OpError::new(ErrorKind::InvalidAccessToken));
        }
    }
    Ok(Caller {
        merchant,
        tenant,
        now,
    })
}

/// The checks after an admitted caller's fault rules had their say (an injected failure never
/// reached the provider, so it spends no quota): 1009, then the token request's method.
pub fn meter(caller: &Caller<'_>, request: &Request<'_>) -> Result<(), OpError> {
    // Token requests count too: refreshing cannot go faster than calling.
    if let Some(limit) = caller.merchant.key.rate_limit {
        let key = format!("keysecure:{}", caller.merchant.key.api_key);
        caller
            .tenant
            .with_world(|world| world.take_rate_token(&key, limit))
            .map_err(|_| OpError::new(ErrorKind::TooFrequent))?;
    }
    if request.path == TOKEN_PATH && request.method != http::Method::GET {
        return Err(OpError::field(
            "method",
            format!("must be GET for {TOKEN_PATH}"),
        ));
    }
    Ok(())
}

/// An IPv4-mapped IPv6 peer as IPv4 (dual-stack listeners report them so).
fn peer_v4(peer: std::net::IpAddr) -> Option<std::net::IpAddr> {
    match peer {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map(std::net::IpAddr::V4),
        std::net::IpAddr::V4(_) => None,
    }
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
    running: &Running,
    settings: &Settings,
    caller: &Caller<'_>,
) -> Result<Value, OpError> {
    let (token, expires_at) = caller.tenant.with_world(|world| {
        // From the auxiliary stream: how often a client refreshes must not shift card numbers.
        let token = ids::digits(world.aux_rng(), 32);
        (
            token,
            world
                .now()
                .saturating_add(settings.token_lifetime)
                .unwrap_or(caller.now),
        )
    });
    running.forget_ended_sessions(caller.merchant.tenant, caller.now);
    running.open_session(
        SESSIONS,
        token.clone(),
        Session {
            tenant: caller.merchant.tenant,
            expires_at,
        },
    );
    Ok(json!({ "access_token": token, "expired_time": expires_at.as_millisecond() }))
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
