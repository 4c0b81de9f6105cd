//! The issuer's side, driven by tests: decide a KYC review, post a card transaction, change a
//! card's status, hand out a physical card's activation code (once). Provider-neutral: they
//! act on the world, and each provider reports the result in its own format.

use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::{AdminError, AdminRequest, AdminResult, selected_tenants};
use crate::app::App;
use crate::respond;
use crate::running::Running;
use crate::world::ledger::{LedgerError, Posting, TransactionKind};
use crate::world::tenant::Tenant;
use crate::world::timeline::Notification;
use crate::world::{CardStatus, Currency, KycStatus, Money, World};

/// The tenant a simulation acts on: the one named, or the only one.
fn one_tenant<'r>(running: &'r Running, named: Option<&str>) -> Result<&'r Tenant, AdminError> {
    let tenants = selected_tenants(running, named)?;
    match tenants.as_slice() {
        [tenant] => Ok(tenant),
        _ => Err(AdminError::bad_request(
            "name the `tenant`: this scenario has several",
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KycDecision {
    tenant: Option<String>,
    /// Cardholder id, or give `email`.
    cardholder: Option<String>,
    email: Option<String>,
    decision: KycStatus,
    reason: Option<String>,
    /// Machine-readable rejection codes, for providers whose notifications carry them.
    #[serde(default)]
    codes: Vec<String>,
}

/// `POST /__admin/simulate/kyc`: decides a cardholder's KYC now.
pub(super) fn kyc(running: &Running, request: &AdminRequest) -> AdminResult {
    let body: KycDecision = request.json()?;
    if body.decision == KycStatus::Pending {
        return Err(AdminError::bad_request(
            "`decision` is `passed` or `rejected`",
        ));
    }
    let tenant = one_tenant(running, body.tenant.as_deref())?;
    tenant.with_world(|world| {
        world.catch_up();
        let id = match (&body.cardholder, &body.email) {
            (Some(id), None) if world.cardholders.contains_key(id) => id.clone(),
            (None, Some(email)) => world
                .cardholder_by_email(email, None)
                .map(|h| h.id.clone())
                .ok_or_else(|| not_found(format!("no cardholder with email {email}")))?,
            (Some(id), None) => return Err(not_found(format!("no cardholder {id}"))),
            _ => {
                return Err(AdminError::bad_request(
                    "give exactly one of `cardholder` or `email`",
                ));
            }
        };
        let now = world.now();
        world.decide_kyc(
            &id,
            body.decision,
            body.reason.clone(),
            body.codes.clone(),
            now,
        );
        Ok(respond::json(
            StatusCode::OK,
            &json!({ "cardholder": id, "kyc": world.cardholders[&id].kyc }),
        ))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CardTransaction {
    tenant: Option<String>,
    card: String,
    kind: TransactionKind,
    /// Decimal text in the card's currency, e.g. "12.30" — or in `currency`, converted with the
    /// scenario's FX table.
    amount: String,
    currency: Option<String>,
    /// Decimal text, default 0.
    fee: Option<String>,
    /// What the shop charged in its own currency, when it differs.
    original_amount: Option<String>,
    original_currency: Option<String>,
    merchant_name: Option<String>,
    mcc: Option<String>,
    /// For a clearing or reversal: the authorization's transaction id.
    authorization_id: Option<String>,
}

/// `POST /__admin/simulate/transaction`: an authorization, clearing, reversal or refund on a
/// card, as the card network would send it. A purchase the card cannot pay is recorded as a
/// declined (failed) transaction. When the card's issuer asks the merchant first (a synchronous
/// authorization callback), the question is put with no lock held and a refusal declines.
pub(super) async fn transaction(app: &App, request: &AdminRequest) -> AdminResult {
    let running = app.running();
    let body: CardTransaction = request.json()?;
    let tenant = one_tenant(&running, body.tenant.as_deref())?;
    let (mut posting, call) = tenant.with_world(|world| {
        world.catch_up();
        let posting = posting(world, &body)?;
        // Only a purchase the issuer would accept is put to the merchant: a refused one asks
        // nothing and draws no id.
        let accepted = world.assess_posting(&posting).map_err(refused)?.is_none();
        let call = accepted
            .then(|| {
                app.registry
                    .iter()
                    .find_map(|p| p.authorization_call(&running, world, &posting))
            })
            .flatten();
        Ok::<_, AdminError>((posting, call))
    })?;
    if let Some(call) = call {
        posting.id = Some(call.id.clone());
        posting.declined_by_merchant = crate::webhooks::ask(app, tenant.index, &call)
            .await
            .err()
            .map(|d| d.0);
    }
    tenant.with_world(|world| {
        world.catch_up();
        let id = world.post_transaction(posting).map_err(refused)?;
        let now = world.now();
        world.notify(
            now,
            Notification::TransactionPosted {
                transaction_id: id.clone(),
            },
        );
        let transaction = world.transactions().get(&id).cloned();
        Ok(respond::json(
            StatusCode::OK,
            &json!({ "transaction": transaction }),
        ))
    })
}

/// A posting the ledger refuses: 404 for what does not exist, 409 for what cannot happen.
fn refused(error: LedgerError) -> AdminError {
    match error {
        LedgerError::UnknownCard(_) | LedgerError::UnknownTransaction(_) => {
            not_found(error.to_string())
        }
        other => AdminError::new(StatusCode::CONFLICT, "refused", other.to_string()),
    }
}

fn posting(world: &World, body: &CardTransaction) -> Result<Posting, AdminError> {
    if let Some(problem) = body.kind.network_problem(body.authorization_id.is_some()) {
        return Err(AdminError::bad_request(format!("`kind`: {problem}")));
    }
    let card = world
        .cards()
        .get(&body.card)
        .ok_or_else(|| not_found(format!("no card {}", body.card)))?;
    let money = |text: &str, currency: &Currency, field: &str| {
        Money::parse(text, currency.clone())
            .map_err(|e| AdminError::bad_request(format!("`{field}`: {e}")))
    };
    let original_amount = match (&body.original_amount, &body.original_currency) {
        (Some(amount), Some(code)) => {
            let currency = Currency::new(code)
                .map_err(|e| AdminError::bad_request(format!("`original_currency`: {e}")))?;
            Some(money(amount, &currency, "original_amount")?)
        }
        (None, None) => None,
        _ => {
            return Err(AdminError::bad_request(
                "give both `original_amount` and `original_currency`, or neither",
            ));
        }
    };
    let (amount, original_amount) = match &body.currency {
        None => (
            money(&body.amount, &card.currency, "amount")?,
            original_amount,
        ),
        Some(_) if original_amount.is_some() => {
            return Err(AdminError::bad_request(
                "give `currency` (converted with the FX table) or `original_amount`, not both",
            ));
        }
        Some(code) => {
            let currency = Currency::new(code)
                .map_err(|e| AdminError::bad_request(format!("`currency`: {e}")))?;
            let given = money(&body.amount, &currency, "amount")?;
            crate::world::script::foreign_amount(world, &given, &card.currency).ok_or_else(
                || {
                    AdminError::bad_request(format!(
                        "no FX rate between {} and {} in the scenario's `fx`",
                        currency.code(),
                        card.currency.code()
                    ))
                },
            )?
        }
    };
    let fee = money(body.fee.as_deref().unwrap_or("0"), &card.currency, "fee")?;
    if !amount.is_positive() {
        return Err(AdminError::bad_request("`amount` must be above 0"));
    }
    if fee.is_negative() {
        return Err(AdminError::bad_request("`fee` cannot be negative"));
    }
    Ok(Posting {
        card_id: card.id.clone(),
        kind: body.kind,
        amount,
        original_amount,
        fee,
        merchant_name: body.merchant_name.clone(),
        mcc: body.mcc.clone(),
        authorization_id: body.authorization_id.clone(),
        id: None,
        declined_by_merchant: None,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CardStatusChange {
    tenant: Option<String>,
    card: String,
    status: CardStatus,
}

/// `POST /__admin/simulate/card-status`: the issuer changes a card's status (reported lost,
/// frozen by risk, ...).
pub(super) fn card_status(running: &Running, request: &AdminRequest) -> AdminResult {
    let body: CardStatusChange = request.json()?;
    let tenant = one_tenant(running, body.tenant.as_deref())?;
    if !body.status.issuer_settable() {
        return Err(AdminError::bad_request(
            "the issuer may set active, inactive, frozen, lost or failed; closing goes through the provider's close call",
        ));
    }
    tenant.with_world(|world| {
        world.catch_up();
        let Some(card) = world.cards().get(&body.card) else {
            return Err(not_found(format!("no card {}", body.card)));
        };
        if matches!(
            card.status,
            CardStatus::Stock | CardStatus::Closing | CardStatus::Closed
        ) {
            return Err(AdminError::new(
                StatusCode::CONFLICT,
                "refused",
                format!(
                    "card {} is {:?}: its status is not the issuer's to change now",
                    body.card, card.status
                ),
            ));
        }
        if world.order_in_production(&body.card).is_some() {
            return Err(AdminError::new(
                StatusCode::CONFLICT,
                "refused",
                format!(
                    "card {} is in production: its order decides its status",
                    body.card
                ),
            ));
        }
        let now = world.now();
        world.set_card_status(&body.card, body.status, now);
        Ok(respond::json(
            StatusCode::OK,
            &json!({ "card": body.card, "status": body.status }),
        ))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CardAction {
    tenant: Option<String>,
    card: String,
}

/// `POST /__admin/simulate/production`: a card's production ends now (its order finishes, or
/// its pending status settles) — whichever provider issued the card.
pub(super) fn production(running: &Running, request: &AdminRequest) -> AdminResult {
    card_action(running, request, |world, card, at| {
        world.complete_production(card, at)?;
        Ok(json!({ "card": card, "status": world.cards().get(card).map(|c| c.status) }))
    })
}

/// `POST /__admin/simulate/recharge`: every recharge on its way to a card arrives now.
pub(super) fn recharge(running: &Running, request: &AdminRequest) -> AdminResult {
    card_action(running, request, |world, card, at| {
        let settled = world.settle_recharges(card, at);
        Ok(json!({ "card": card, "settled": settled }))
    })
}

/// Runs `act` on a known card of the tenant; its error is a 409.
fn card_action(
    running: &Running,
    request: &AdminRequest,
    act: impl FnOnce(
        &mut World,
        &str,
        jiff::Timestamp,
    ) -> Result<serde_json::Value, crate::world::script::ScriptError>,
) -> AdminResult {
    let body: CardAction = request.json()?;
    let tenant = one_tenant(running, body.tenant.as_deref())?;
    tenant.with_world(|world| {
        world.catch_up();
        if !world.cards().contains_key(&body.card) {
            return Err(not_found(format!("no card {}", body.card)));
        }
        let now = world.now();
        let answer = act(world, &body.card, now)
            .map_err(|why| AdminError::new(StatusCode::CONFLICT, "refused", why.to_string()))?;
        Ok(respond::json(StatusCode::OK, &answer))
    })
}

/// `GET /__admin/activation-code?card=ID[&tenant=ID]`: a physical card's activation code, as
/// the cardholder would receive it — once.
pub(super) fn activation_code(running: &Running, request: &AdminRequest) -> AdminResult {
    let card_id = request
        .query
        .get("card")
        .ok_or_else(|| AdminError::bad_request("give `?card=ID`"))?;
    let tenant = one_tenant(running, request.query.get("tenant").map(String::as_str))?;
    tenant.with_world(|world| {
        let mut card = world
            .card_mut(card_id)
            .ok_or_else(|| not_found(format!("no card {card_id}")))?;
        let activation = card.activation.as_mut().ok_or_else(|| {
            not_found(format!(
                "card {card_id} has no activation code (assign it without autoActive)"
            ))
        })?;
        if activation.revealed {
            return Err(AdminError::new(
                StatusCode::GONE,
                "already_obtained",
                "the activation code can be obtained only once",
            ));
        }
        activation.revealed = true;
        Ok(respond::json(
            StatusCode::OK,
            &json!({ "card": card_id, "activation_code": activation.code }),
        ))
    })
}

fn not_found(message: String) -> AdminError {
    AdminError::new(StatusCode::NOT_FOUND, "not_found", message)
}
