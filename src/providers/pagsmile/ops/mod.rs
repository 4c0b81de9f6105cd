//! Pagsmile Issuing operations, one module per area, dispatched by path. Each runs inside the
//! tenant's world lock, checks everything before changing anything, and returns the decrypted
//! `data` of its answer.

mod cards;
mod holders;
mod money;

use serde_json::{Map, Value};

use super::settings::{AppIdentity, CardStatusCodes, ErrorKind, Settings};
use super::wire::{Answer, OpError};
use crate::providers::fields::Fields;
use crate::world::{Card, CardStatus, World};

pub use cards::{masked_pan, order_fields};
pub use holders::{ISSUER, audit_status, is_pagsmile_holder};

/// What every operation may need besides the world and the body.
#[derive(Debug)]
pub struct Context<'a> {
    pub settings: &'a Settings,
    pub app: &'a AppIdentity,
}

type Run = fn(&Context<'_>, &mut World, &Fields<'_>) -> Result<Answer, OpError>;

/// What a path does: run an operation, or move a card between statuses.
#[derive(Clone, Copy)]
pub enum Operation {
    Run(Run),
    /// `{card_token}`: from any of these statuses to that one.
    CardStatus(&'static [CardStatus], CardStatus),
}

impl Operation {
    pub fn perform(
        self,
        context: &Context<'_>,
        world: &mut World,
        fields: &Fields<'_>,
    ) -> Result<Answer, OpError> {
        match self {
            Operation::Run(run) => run(context, world, fields),
            Operation::CardStatus(from, to) => {
                cards::change_status(context, world, fields, from, to)
            }
        }
    }
}

impl std::fmt::Debug for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Operation::Run(_) => f.write_str("Run"),
            Operation::CardStatus(from, to) => write!(f, "CardStatus({from:?} -> {to:?})"),
        }
    }
}

use CardStatus::{Active, Frozen, Lost};

/// Every path the sandbox serves. Freeze, unfreeze and report loss are the sandbox's paths
/// (the documentation has a report-loss page without its path).
const OPERATIONS: &[(&str, Operation)] = &[
    ("/issuing/holder/create", Operation::Run(holders::create)),
    ("/issuing/holder/update", Operation::Run(holders::update)),
    ("/issuing/holder/query", Operation::Run(holders::query)),
    ("/issuing/card/apply", Operation::Run(cards::apply)),
    (
        "/issuing/card/query-apply-card-result",
        Operation::Run(cards::query_apply_result),
    ),
    (
        "/issuing/card/query-card-info",
        Operation::Run(cards::query_info),
    ),
    (
        "/issuing/card/freeze",
        Operation::CardStatus(&[Active], Frozen),
    ),
    (
        "/issuing/card/unfreeze",
        Operation::CardStatus(&[Frozen], Active),
    ),
    (
        "/issuing/card/report-loss",
        Operation::CardStatus(&[Active, Frozen], Lost),
    ),
    ("/issuing/card/revoke", Operation::Run(cards::revoke)),
    (
        "/issuing/card/query-card-balance",
        Operation::Run(money::balance),
    ),
    (
        "/issuing/card/query-remaining-limit",
        Operation::Run(money::remaining_limit),
    ),
    ("/issuing/card/recharge", Operation::Run(money::recharge)),
    (
        "/issuing/card/recharge-return",
        Operation::Run(money::recharge_return),
    ),
];

/// The operation served at `path`.
pub fn find(path: &str) -> Option<Operation> {
    OPERATIONS
        .iter()
        .find(|(served, _)| *served == path)
        .map(|(_, operation)| *operation)
}

/// Every served path, for the banner.
pub fn paths() -> impl Iterator<Item = &'static str> {
    OPERATIONS.iter().map(|(path, _)| *path)
}

/// A JSON object from `(name, value)` pairs, in order.
pub fn map<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// An object answer from `(name, value)` pairs, in order.
pub fn object<const N: usize>(pairs: [(&str, Value); N]) -> Answer {
    Answer::Object(map(pairs))
}

/// An id the API types as `long`: a number when it is one (sandbox ids are), else the text.
pub fn long(id: &str) -> Value {
    id.parse::<u64>()
        .map_or_else(|_| Value::String(id.to_owned()), Value::from)
}

/// The card's token as the merchant knows it (a scenario's card without one goes by its id).
pub fn token_of(card: &Card) -> &str {
    card.token.as_deref().unwrap_or(&card.id)
}

/// The Pagsmile card with `card_token`, once produced (a card still in production, or whose
/// order failed, is not known to the merchant yet).
pub fn card<'w>(world: &'w World, fields: &Fields<'_>) -> Result<&'w Card, OpError> {
    let token = fields.text("card_token", 1, 64)?;
    // A card without a token goes by its id (`token_of`).
    world
        .card_by_token(token)
        .or_else(|| world.cards().get(token).filter(|c| c.token.is_none()))
        .filter(|c| c.issuer.as_deref() == Some(ISSUER))
        .filter(|c| {
            !matches!(
                c.status,
                CardStatus::Stock | CardStatus::Pending | CardStatus::Failed
            )
        })
        .ok_or_else(|| OpError::new(ErrorKind::CardNotFound).with_field(token))
}

/// The account number of a card that does not share one.
pub fn account_num_for(card_id: &str) -> String {
    format!("CA{card_id}")
}

/// Refuses an action on a card whose status does not allow it.
pub fn require(context: &Context<'_>, card: &Card, allowed: &[CardStatus]) -> Result<(), OpError> {
    if allowed.contains(&card.status) {
        Ok(())
    } else {
        Err(OpError::new(ErrorKind::CardStatus).with_reason(format!(
            "{} ({})",
            CardStatusCodes::name(card.status),
            context.settings.card_status.code(card.status)
        )))
    }
}

/// Marks a merchant order number used (apply, recharge and return share one namespace:
/// "globally unique"), refusing one used before.
pub fn check_order_no(world: &World, order_no: &str) -> Result<String, OpError> {
    let key = format!("{ISSUER}-order:{order_no}");
    if world.key_used(&key) || world.orders().contains_key(order_no) {
        Err(OpError::new(ErrorKind::OrderExists).with_field(order_no))
    } else {
        Ok(key)
    }
}
