//! `check-2e/3e/4e`: does this card belong to this person? Answered from the tenant's world:
//! the card must exist there, be usable, and its holder's name (id number, phone) must match.

use super::settings::{Endpoint, Settings, Situation};
use super::wire::{FieldError, Fields, VerifyResult};
use super::{CardShape, card_shape};
use crate::app::Tenant;
use crate::world::bins::BinTable;
use crate::world::{CardStatus, IdKind, World, ids};

/// What the caller claims, by endpoint.
struct Claim<'a> {
    card: &'a str,
    name: &'a str,
    id_number: Option<&'a str>,
    cert_type: Option<i64>,
    phone: Option<&'a str>,
}

/// Answers a verification; `Err` only for a body that lacks a required field.
pub(super) fn answer(
    endpoint: Endpoint,
    settings: &Settings,
    bins: &BinTable,
    tenant: &Tenant,
    fields: &Fields,
) -> Result<VerifyResult, FieldError> {
    let claim = Claim {
        card: fields.required_str("bank_card")?,
        name: fields.required_str("name")?,
        id_number: match endpoint {
            Endpoint::Check3e | Endpoint::Check4e => Some(fields.required_str("id_card")?),
            _ => None,
        },
        cert_type: match endpoint {
            Endpoint::Check3e | Endpoint::Check4e => fields.optional_int("cert_type")?,
            _ => None,
        },
        phone: match endpoint {
            Endpoint::Check4e => Some(fields.required_str("phone")?),
            _ => None,
        },
    };
    if let Some(pin) = settings.pinned(claim.card, endpoint) {
        return Ok(VerifyResult {
            description: pin
                .description
                .clone()
                .unwrap_or_else(|| settings.describe(endpoint, &pin.result)),
            result: pin.result.clone(),
        });
    }
    let situation = match format_problem(&claim) {
        Some(problem) => problem,
        None if bins.lookup(claim.card).is_none() => Situation::UnknownBin,
        None => tenant.with_world(|world| against_world(world, &claim)),
    };
    let (result, description) = settings.outcome(endpoint, situation);
    Ok(VerifyResult {
        result,
        description,
    })
}

/// Problems visible without looking anything up, in the order a verifier reports them.
fn format_problem(claim: &Claim<'_>) -> Option<Situation> {
    match card_shape(claim.card) {
        CardShape::Malformed => return Some(Situation::MalformedCard),
        CardShape::LuhnFailure => return Some(Situation::LuhnFailure),
        CardShape::Plausible => {}
    }
    if !plausible_name(claim.name) {
        return Some(Situation::InvalidName);
    }
    if let Some(id_number) = claim.id_number {
        let valid = match claim.cert_type.unwrap_or(0) {
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
    if let Some(phone) = claim.phone
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

fn against_world(world: &World, claim: &Claim<'_>) -> Situation {
    let Some(card) = world.card_by_pan(claim.card) else {
        return Situation::UnknownCard;
    };
    let today = world.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    match card.status {
        CardStatus::Pending => return Situation::CardPending,
        CardStatus::Inactive => return Situation::CardInactive,
        CardStatus::Frozen => return Situation::CardFrozen,
        CardStatus::Lost => return Situation::CardLost,
        CardStatus::Closed => return Situation::CardClosed,
        CardStatus::Failed => return Situation::CardFailed,
        CardStatus::Active if card.expiry.is_past(today) => return Situation::CardExpired,
        CardStatus::Active => {}
    }
    let Some(holder) = world.holder_of(card) else {
        return Situation::HolderMismatch;
    };
    let name_matches = holder.is_named(claim.name);
    let id_matches = claim.id_number.is_none_or(|wanted| {
        holder.id_document.as_ref().is_some_and(|doc| {
            doc.number.eq_ignore_ascii_case(wanted)
                && (claim.cert_type.unwrap_or(0) != 0 || doc.kind == IdKind::IdCard)
        })
    });
    let phone_matches = claim.phone.is_none_or(|wanted| {
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
