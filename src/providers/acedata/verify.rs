//! `check-2e/3e/4e`: does this card belong to this person? Answered from the tenant's world:
//! the card must exist there, be usable, and its holder's name (id number, phone) must match.

use super::settings::{Endpoint, Settings, Situation};
use super::wire::{FieldError, VerifyResult};
use super::{CardShape, card_shape};
use crate::providers::fields::Fields;
use crate::world::bins::BinTable;
use crate::world::{CardStatus, IdKind, World, ids};

/// What the caller claims, by endpoint.
#[derive(Debug)]
pub struct Claim {
    card: String,
    name: String,
    id_number: Option<String>,
    /// 0 (mainland ID card, the default) to 7, as in the upstream API's certificate types.
    cert_type: i64,
    /// Optional on check-4e: without it, the phone is not compared.
    phone: Option<String>,
}

impl Claim {
    /// Reads and type-checks the fields `endpoint` takes.
    pub(super) fn parse(endpoint: Endpoint, fields: &Fields<'_>) -> Result<Claim, FieldError> {
        let with_id = matches!(endpoint, Endpoint::Check3e | Endpoint::Check4e);
        let cert_type = if with_id {
            fields.optional_number("cert_type")?.unwrap_or(0)
        } else {
            0
        };
        if !(0..=7).contains(&cert_type) {
            return Err(FieldError(
                "The field `cert_type` must be an integer from 0 to 7.".to_owned(),
            ));
        }
        Ok(Claim {
            card: fields.text("bank_card", 1, usize::MAX)?.to_owned(),
            name: fields.text("name", 1, usize::MAX)?.to_owned(),
            id_number: if with_id {
                Some(fields.text("id_card", 1, usize::MAX)?.to_owned())
            } else {
                None
            },
            cert_type,
            phone: match endpoint {
                Endpoint::Check4e => fields
                    .optional_text("phone", 1, usize::MAX)?
                    .map(str::to_owned),
                _ => None,
            },
        })
    }
}

/// Answers a verification of `claim`.
pub(super) fn answer(
    endpoint: Endpoint,
    settings: &Settings,
    bins: &BinTable,
    world: &World,
    claim: &Claim,
) -> VerifyResult {
    if let Some(pin) = settings.pinned(&claim.card, endpoint) {
        return VerifyResult {
            description: pin
                .description
                .clone()
                .unwrap_or_else(|| settings.describe(endpoint, &pin.result)),
            result: pin.result.clone(),
        };
    }
    let situation = match format_problem(claim) {
        Some(problem) => problem,
        None if bins.lookup(&claim.card).is_none() => Situation::UnknownBin,
        None => against_world(world, claim),
    };
    let (result, description) = settings.outcome(endpoint, situation);
    VerifyResult {
        result,
        description,
    }
}

/// Problems visible without looking anything up, in the order a verifier reports them.
fn format_problem(claim: &Claim) -> Option<Situation> {
    match card_shape(&claim.card) {
        CardShape::Malformed => return Some(Situation::MalformedCard),
        CardShape::LuhnFailure => return Some(Situation::LuhnFailure),
        CardShape::Plausible => {}
    }
    if !plausible_name(&claim.name) {
        return Some(Situation::InvalidName);
    }
    if let Some(id_number) = &claim.id_number {
        let valid = match claim.cert_type {
            0 => ids::valid_china_id(id_number),
            _ => {
                (5..=20).contains(&id_number.len())
                    && id_number.bytes().all(|b| b.is_ascii_alphanumeric())
            }
        };
        if !valid {
            return Some(Situation::InvalidIdNumber);
        }
    }
    if let Some(phone) = &claim.phone
        && !(phone.len() == 11
            && phone.starts_with('1')
            && phone.bytes().all(|b| b.is_ascii_digit()))
    {
        return Some(Situation::InvalidPhone);
    }
    None
}

/// Letters of any script, spaces and the separators names use; at most 60 characters.
fn plausible_name(name: &str) -> bool {
    let name = name.trim();
    !name.is_empty()
        && name.chars().count() <= 60
        && name
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '·' | '•' | '.' | '-' | '\''))
}

fn against_world(world: &World, claim: &Claim) -> Situation {
    let Some(card) = world.card_by_pan(&claim.card) else {
        return Situation::UnknownCard;
    };
    let today = world.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    match card.status {
        CardStatus::Pending => return Situation::CardPending,
        CardStatus::Stock | CardStatus::Inactive | CardStatus::Activating => {
            return Situation::CardInactive;
        }
        CardStatus::Frozen => return Situation::CardFrozen,
        CardStatus::Lost => return Situation::CardLost,
        CardStatus::Closing | CardStatus::Closed => return Situation::CardClosed,
        CardStatus::Failed => return Situation::CardFailed,
        CardStatus::Active if card.expiry.is_past(today) => return Situation::CardExpired,
        CardStatus::Active => {}
    }
    let Some(holder) = world.holder_of(card) else {
        return Situation::HolderMismatch;
    };
    let name_matches = holder.is_named(&claim.name);
    let id_matches = claim.id_number.as_deref().is_none_or(|wanted| {
        holder.id_document.as_ref().is_some_and(|doc| {
            doc.number.eq_ignore_ascii_case(wanted)
                && (claim.cert_type != 0 || doc.kind == IdKind::IdCard)
        })
    });
    let phone_matches = claim.phone.as_deref().is_none_or(|wanted| {
        holder
            .phone
            .as_ref()
            .is_some_and(|phone| phone.number == wanted)
    });
    if name_matches && id_matches && phone_matches {
        Situation::Passed
    } else {
        Situation::HolderMismatch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_any_script_pass_and_digits_do_not() {
        for good in ["张伟", "Alice Smith", "阿卜杜·热合曼", "Mary-Jane O'Neil"] {
            assert!(plausible_name(good), "{good}");
        }
        for bad in ["", "   ", "Alice2", "张@伟", &"x".repeat(61)] {
            assert!(!plausible_name(bad), "{bad}");
        }
    }
}
