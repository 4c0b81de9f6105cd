//! KeySecure operations, one module per area, and the route table: method, path pattern, the
//! integration mode an operation belongs to, and whether it needs PCI. Each operation runs
//! inside the tenant's world lock, checks everything before changing anything, and returns the
//! answer's `data`.

mod accounts;
mod cardholders;
mod cards;
mod consumption;

use http::Method;
use serde_json::Value;

use super::section::{IntegrationMode, Key as KeySecureKey};
use super::settings::{ErrorKind, Settings};
use super::wire::{Input, OpError};
use crate::world::{Card, CardStatus, Cardholder, KycStatus, World};

pub use cards::status_name;
pub use consumption::{item as consumption_item, merchant_info};

/// The issuer name on KeySecure's cardholders and cards.
pub const ISSUER: &str = "keysecure";

/// What every operation may need besides the world and the input.
#[derive(Debug)]
pub struct Context<'a> {
    pub settings: &'a Settings,
    pub key: &'a KeySecureKey,
    /// The `Timezone` header's offset (day boundaries of list time windows).
    pub timezone: jiff::tz::Offset,
}

type Operation = fn(&Context<'_>, &mut World, &Input<'_>) -> Result<Value, OpError>;

/// Which merchants may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Modes {
    Both,
    Only(IntegrationMode),
}

/// A served path.
#[derive(Clone)]
pub struct Route {
    pub method: Method,
    /// `{}` stands for one path segment, handed to the operation.
    pub pattern: &'static str,
    pub modes: Modes,
    pub needs_pci: bool,
    pub operation: Operation,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.pattern)
    }
}

const fn route(method: Method, pattern: &'static str, modes: Modes, operation: Operation) -> Route {
    Route {
        method,
        pattern,
        modes,
        needs_pci: false,
        operation,
    }
}

const AUTHORIZATION: Modes = Modes::Only(IntegrationMode::Authorization);
const CREDIT: Modes = Modes::Only(IntegrationMode::CreditExtension);

/// The token path (answered before any Access-Token check).
pub const TOKEN_PATH: &str = "/open-api/v1/merchant/token";

/// Every other path the sandbox serves.
const ROUTES: &[Route] = &[
    route(
        Method::POST,
        "/open-api/v1/cardholder/apply",
        Modes::Both,
        cardholders::apply,
    ),
    route(
        Method::POST,
        "/open-api/v1/cardholder/list",
        Modes::Both,
        cardholders::list,
    ),
    route(
        Method::GET,
        "/open-api/v1/cardholder/{}/info",
        Modes::Both,
        cardholders::info,
    ),
    route(
        Method::POST,
        "/open-api/v1/card/apply",
        Modes::Both,
        cards::apply,
    ),
    route(
        Method::POST,
        "/open-api/v1/card/list",
        Modes::Both,
        cards::list,
    ),
    route(
        Method::GET,
        "/open-api/v1/card/{}/detail",
        Modes::Both,
        cards::detail,
    ),
    Route {
        method: Method::GET,
        pattern: "/open-api/v1/card/{}/private/info",
        modes: Modes::Both,
        needs_pci: true,
        operation: cards::private_info,
    },
    route(
        Method::POST,
        "/open-api/v1/card/active",
        Modes::Both,
        cards::activate,
    ),
    route(
        Method::POST,
        "/open-api/v1/card/status/update",
        Modes::Both,
        cards::update_status,
    ),
    route(
        Method::POST,
        "/open-api/v1/card/pin/set",
        Modes::Both,
        cards::set_pin,
    ),
    route(
        Method::POST,
        "/open-api/v1/card/consume/list",
        Modes::Both,
        consumption::list,
    ),
    route(
        Method::GET,
        "/open-api/v1/card/consume/{}/info",
        Modes::Both,
        consumption::info,
    ),
    route(
        Method::POST,
        "/open-api/v1/card/support/bins",
        AUTHORIZATION,
        cards::support_bins,
    ),
    route(
        Method::POST,
        "/open-api/v1/card/package/list",
        CREDIT,
        cards::packages,
    ),
    route(
        Method::POST,
        "/open-api/v1/account/transfer",
        CREDIT,
        accounts::transfer,
    ),
    route(
        Method::GET,
        "/open-api/v1/account/{}/info",
        CREDIT,
        accounts::info,
    ),
    route(
        Method::POST,
        "/open-api/v1/account/transfer/list",
        CREDIT,
        accounts::transfers,
    ),
];

/// What a path and method lead to.
#[derive(Debug)]
pub enum Lookup<'p> {
    Found(&'static Route, Vec<&'p str>),
    /// The path exists with another method.
    WrongMethod(&'static Route),
    NotFound,
}

/// The route for `method` and `path`.
pub fn find<'p>(method: &Method, path: &'p str) -> Lookup<'p> {
    let mut other_method = None;
    for route in ROUTES {
        let Some(params) = matches(route.pattern, path) else {
            continue;
        };
        if route.method == *method {
            return Lookup::Found(route, params);
        }
        other_method = Some(route);
    }
    other_method.map_or(Lookup::NotFound, Lookup::WrongMethod)
}

fn matches<'p>(pattern: &str, path: &'p str) -> Option<Vec<&'p str>> {
    let (mut wanted, mut given) = (pattern.split('/'), path.trim_end_matches('/').split('/'));
    let mut params = Vec::new();
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return Some(params),
            (Some("{}"), Some(segment)) if !segment.is_empty() => params.push(segment),
            (Some(w), Some(g)) if w == g => {}
            _ => return None,
        }
    }
}

/// The KeySecure cardholder with this `cardholder_no`: registered through the API, or a
/// scenario's cardholder.
pub fn cardholder<'w>(world: &'w World, cardholder_no: &str) -> Result<&'w Cardholder, OpError> {
    world
        .cardholders
        .get(cardholder_no)
        .filter(|h| h.serves(ISSUER))
        .ok_or_else(|| OpError::new(ErrorKind::CardholderNotFound).with_field(cardholder_no))
}

/// The KeySecure card with this `card_no`.
pub fn card<'w>(world: &'w World, card_no: &str) -> Result<&'w Card, OpError> {
    world
        .cards()
        .get(card_no)
        .filter(|c| c.issuer.as_deref() == Some(ISSUER))
        .ok_or_else(|| OpError::new(ErrorKind::CardNotFound).with_field(card_no))
}

/// Refuses an action on a card whose status does not allow it.
pub fn require(card: &Card, allowed: &[CardStatus]) -> Result<(), OpError> {
    if allowed.contains(&card.status) {
        Ok(())
    } else {
        Err(OpError::new(ErrorKind::CardStatusNotAllowed).with_reason(status_name(card.status)))
    }
}

/// A cardholder's review status in the common status words.
pub fn holder_status(status: KycStatus) -> &'static str {
    match status {
        KycStatus::Pending => "Pending",
        KycStatus::Passed => "Success",
        KycStatus::Rejected => "Fail",
    }
}

/// A cardholder's unique number: the merchant's reference, or (a scenario's cardholder) its id.
pub fn holder_unique_no(holder: &Cardholder) -> &str {
    holder.merchant_ref.as_deref().unwrap_or(&holder.id)
}

/// The KeySecure cardholder whose `cardholder_unique_no` is `unique_no` (by index: the
/// merchant's reference, or the id of a scenario's person without one).
pub fn holder_by_unique_no<'w>(world: &'w World, unique_no: &str) -> Option<&'w Cardholder> {
    let by_id = world
        .cardholders
        .get(unique_no)
        .filter(|h| h.merchant_ref.is_none());
    world
        .cardholders
        .by_ref(unique_no)
        .into_iter()
        .chain(by_id)
        .filter(|h| h.serves(ISSUER))
        .min_by(|a, b| a.id.cmp(&b.id))
}

/// Milliseconds since the epoch, as the API writes times.
pub fn millis(at: jiff::Timestamp) -> i64 {
    at.as_millisecond()
}

/// `start_time` and `end_time` (`yyyy-MM-dd` or `yyyy-MM-dd HH:mm:ss` in the `Timezone`),
/// both required, at most 90 days apart: the window, end inclusive.
pub fn time_window(
    context: &Context<'_>,
    input: &Input<'_>,
) -> Result<(jiff::Timestamp, jiff::Timestamp), OpError> {
    let read = |name: &str, end_of_day: bool| -> Result<jiff::Timestamp, OpError> {
        let text = input.body.text(name, 1, 19)?;
        let tz = jiff::tz::TimeZone::fixed(context.timezone);
        let civil = if text.len() == 10 {
            jiff::civil::Date::strptime("%Y-%m-%d", text).map(|d| {
                if end_of_day {
                    d.to_datetime(jiff::civil::Time::MAX)
                } else {
                    d.to_datetime(jiff::civil::Time::MIN)
                }
            })
        } else {
            jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", text)
        };
        civil
            .ok()
            .and_then(|dt| dt.to_zoned(tz).ok())
            .map(|z| z.timestamp())
            .ok_or_else(|| {
                OpError::new(ErrorKind::InvalidTimeRange)
                    .with_field(name)
                    .with_reason("must be yyyy-MM-dd or yyyy-MM-dd HH:mm:ss")
            })
    };
    let start = read("start_time", false)?;
    let end = read("end_time", true)?;
    // The 90 days count between the dates as written (a date-only end takes its whole day).
    let end_written = read("end_time", false)?;
    if end < start {
        return Err(OpError::new(ErrorKind::InvalidTimeRange)
            .with_field("end_time")
            .with_reason("is before start_time"));
    }
    if end_written.duration_since(start) > jiff::SignedDuration::from_hours(24 * 90) {
        return Err(OpError::new(ErrorKind::InvalidTimeRange)
            .with_field("end_time")
            .with_reason("is more than 90 days after start_time"));
    }
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_segments_and_tell_a_wrong_method() {
        match find(&Method::GET, "/open-api/v1/card/C123/detail") {
            Lookup::Found(route, params) => {
                assert_eq!(route.pattern, "/open-api/v1/card/{}/detail");
                assert_eq!(params, ["C123"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            find(&Method::POST, "/open-api/v1/card/C123/detail"),
            Lookup::WrongMethod(_)
        ));
        assert!(matches!(
            find(&Method::GET, "/open-api/v1/card//detail"),
            Lookup::NotFound
        ));
        assert!(matches!(
            find(&Method::POST, "/open-api/v1/card/nope"),
            Lookup::NotFound
        ));
        assert!(matches!(
            find(&Method::POST, "/open-api/v1/card/list/"),
            Lookup::Found(..)
        ));
    }
}
