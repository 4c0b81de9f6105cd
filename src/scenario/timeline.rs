//! The scenario's behaviours over time: the FX table and magic values (declining amounts,
//! names whose reviews end one way) every world follows, and each merchant's timeline of
//! issuer-side events scheduled on its sandbox clock.

use std::collections::{BTreeMap, HashSet};

use jiff::Timestamp;
use serde_saphyr::Spanned;

use super::error::Problems;
use super::model::{MagicSection, TimelineEventSection};
use super::units::duration;
use crate::world::ledger::Posting;
use crate::world::review::ReviewRule;
use crate::world::rules::{MagicDecline, Rate, Rules};
use crate::world::script::Scripted;
use crate::world::timeline::Event;
use crate::world::{Currency, KycStatus, Money, World};

/// The FX table (`"EUR/USD": "1.0850"`) and the magic declines.
pub(super) fn rules(
    fx: &BTreeMap<String, Spanned<String>>,
    magic: &MagicSection,
    problems: &mut Problems<'_>,
) -> Rules {
    let mut rules = Rules::default();
    for (pair, rate) in fx {
        let codes = pair
            .split_once('/')
            .filter(|(a, b)| Currency::new(a).is_ok() && Currency::new(b).is_ok() && a != b);
        match (codes, Rate::parse(&rate.value)) {
            (Some((from, to)), Some(parsed)) => {
                rules.fx.insert((from.to_owned(), to.to_owned()), parsed);
            }
            (None, _) => problems.at(
                rate.referenced,
                format!("fx key `{pair}` must be two currency codes, FROM/TO"),
            ),
            (_, None) => problems.at(
                rate.referenced,
                format!("`{}` is not a positive decimal rate", rate.value),
            ),
        }
    }
    rules.declines = magic
        .declines
        .iter()
        .map(|d| MagicDecline {
            amount: d.amount.clone(),
            reason: d.reason.clone(),
        })
        .collect();
    rules.reviews = magic
        .kyc
        .iter()
        .map(|m| ReviewRule {
            name: Some(m.name.clone()),
            reason: m.reason.clone(),
            ..ReviewRule::deciding(m.decision)
        })
        .collect();
    rules
}

/// Schedules one timeline event in `world` (a located problem when it cannot be). `labels`
/// holds the labels of the merchant's earlier events: a transaction names only those.
pub(super) fn schedule(
    event: Spanned<TimelineEventSection>,
    world: &mut World,
    start: Timestamp,
    labels: &mut HashSet<String>,
    problems: &mut Problems<'_>,
) {
    let at = event.referenced;
    let e = event.value;
    if let Some(label) = &e.id
        && !labels.insert(label.clone())
    {
        return problems.at(at, format!("duplicate timeline label `{label}`"));
    }
    let due = match (e.at, &e.after) {
        (Some(instant), None) => instant,
        (None, Some(offset)) => match duration(offset, problems) {
            Some(offset) => start.saturating_add(offset).unwrap_or(start),
            None => return,
        },
        _ => {
            problems.at(at, "a timeline event needs exactly one of `at` or `after`");
            return;
        }
    };
    let given = usize::from(e.transaction.is_some())
        + usize::from(e.card_status.is_some())
        + usize::from(e.kyc.is_some())
        + usize::from(e.settle_recharges.is_some())
        + usize::from(e.complete_production.is_some());
    if given != 1 {
        problems.at(
            at,
            "a timeline event needs exactly one of transaction, card_status, kyc, settle_recharges, complete_production",
        );
        return;
    }
    let action = if let Some(t) = e.transaction {
        if let Some(problem) = t.kind.network_problem(t.authorization.is_some()) {
            return problems.at(at, problem);
        }
        if let Some(label) = &t.authorization
            && !labels.contains(label)
        {
            return problems.at(
                at,
                format!("no earlier timeline event labelled `{label}` in this merchant"),
            );
        }
        let Some(card) = world.cards().get(&t.card.value) else {
            problems.at(
                t.card.referenced,
                format!(
                    "no card `{}` in this merchant (a timeline transaction needs its currency)",
                    t.card.value
                ),
            );
            return;
        };
        let card_currency = card.currency.clone();
        let currency = match &t.currency {
            Some(code) => match Currency::new(&code.value) {
                Ok(currency) => currency,
                Err(error) => return problems.at(code.referenced, error.to_string()),
            },
            None => card_currency.clone(),
        };
        let money = |text: &Spanned<String>, currency: &Currency, problems: &mut Problems<'_>| {
            Money::parse(&text.value, currency.clone())
                .map_err(|error| problems.at(text.referenced, error.to_string()))
                .ok()
        };
        let Some(given_amount) = money(&t.amount, &currency, problems) else {
            return;
        };
        if !given_amount.is_positive() {
            return problems.at(t.amount.referenced, "a transaction amount must be above 0");
        }
        let Some((amount, original)) =
            crate::world::script::foreign_amount(world, &given_amount, &card_currency)
        else {
            problems.at(
                t.amount.referenced,
                format!(
                    "no fx rate between {} and {}",
                    currency.code(),
                    card_currency.code()
                ),
            );
            return;
        };
        let fee = match &t.fee {
            Some(text) => match money(text, &card_currency, problems) {
                Some(fee) if fee.is_negative() => {
                    return problems.at(text.referenced, "a fee cannot be negative");
                }
                Some(fee) => fee,
                None => return,
            },
            None => Money::zero(card_currency),
        };
        Scripted::Transaction {
            posting: Posting {
                card_id: t.card.value,
                kind: t.kind,
                amount,
                original_amount: original,
                fee,
                merchant_name: t.merchant_name,
                mcc: t.mcc,
                authorization_id: None,
                id: None,
                declined_by_merchant: None,
            },
            authorization: t.authorization,
        }
    } else if let Some(c) = e.card_status {
        if !c.status.issuer_settable() {
            return problems.at(
                at,
                "the issuer may set active, inactive, frozen, lost or failed; closing goes through the provider's close call",
            );
        }
        Scripted::CardStatus {
            card: c.card,
            status: c.status,
        }
    } else if let Some(k) = e.kyc {
        if k.decision == KycStatus::Pending {
            return problems.at(at, "a KYC decision is `passed` or `rejected`");
        }
        Scripted::Kyc {
            cardholder: k.cardholder,
            decision: k.decision,
            reason: k.reason,
            codes: k.codes,
        }
    } else if let Some(s) = e.settle_recharges {
        Scripted::SettleRecharges { card: s.card }
    } else if let Some(p) = e.complete_production {
        Scripted::CompleteProduction { card: p.card }
    } else {
        return;
    };
    world.schedule(
        due,
        Event::Scripted {
            label: e.id,
            action: Box::new(action),
        },
    );
}
