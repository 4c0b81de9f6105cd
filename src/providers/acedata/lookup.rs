//! `check-1e`: card number → issuing bank and card nature, from the BIN table.

use super::settings::{Endpoint, Language, PinnedAnswer, Settings, Situation};
use super::wire::LookupResult;
use super::{CardShape, card_shape};
use crate::world::bins::{BinRange, BinTable, CardKind};

/// Answers a lookup of `card` (the request's `bank_card`).
pub(super) fn answer(settings: &Settings, bins: &BinTable, card: &str) -> LookupResult {
    let range = bins.lookup(card);
    if let Some(pinned) = settings.pinned(card, Endpoint::Check1e) {
        return from_pin(settings, pinned, range);
    }
    let situation = match card_shape(card) {
        CardShape::Malformed => Situation::MalformedCard,
        CardShape::LuhnFailure => Situation::LuhnFailure,
        CardShape::Plausible if range.is_none() => Situation::UnknownBin,
        CardShape::Plausible => Situation::Found,
    };
    let (result, description) = settings.outcome(Endpoint::Check1e, situation);
    let found = range.filter(|_| situation == Situation::Found);
    LookupResult {
        result,
        description,
        account_bank: found
            .map(|r| bank_name(r, settings.language))
            .unwrap_or_default(),
        account_type: found.map_or(settings.failure_account_type, |r| account_type(r.kind)),
    }
}

/// A pinned answer; bank and type default to the BIN table's when the pin leaves them out.
fn from_pin(settings: &Settings, pin: &PinnedAnswer, range: Option<&BinRange>) -> LookupResult {
    let success = pin.result == "0";
    LookupResult {
        description: pin
            .description
            .clone()
            .unwrap_or_else(|| settings.describe(Endpoint::Check1e, &pin.result)),
        account_bank: pin.account_bank.clone().unwrap_or_else(|| {
            range
                .filter(|_| success)
                .map(|r| bank_name(r, settings.language))
                .unwrap_or_default()
        }),
        account_type: pin.account_type.unwrap_or_else(|| {
            range
                .filter(|_| success)
                .map_or(settings.failure_account_type, |r| account_type(r.kind))
        }),
        result: pin.result.clone(),
    }
}

fn bank_name(range: &BinRange, language: Language) -> String {
    match language {
        Language::Zh => range.bank.name_zh.clone(),
        Language::En => range.bank.name_en.clone(),
    }
}

/// The documented card-nature codes.
fn account_type(kind: CardKind) -> i64 {
    match kind {
        CardKind::Debit => 1,
        CardKind::Credit => 2,
        CardKind::Prepaid => 3,
        CardKind::QuasiCredit => 4,
    }
}
