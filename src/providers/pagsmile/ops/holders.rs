//! Cardholders: `/issuing/holder/create`, `/update`, `/query`, and the identity rules they share
//! with a card application's inline `holder` (seed 002: lengths, formats, ISO codes).
//!
//! A new or updated cardholder goes into audit; the outcome comes from the scenario's audit
//! rules after their delay (or at once with a zero delay), or from the control API.

use jiff::civil::Date;
use serde_json::{Map, Value};

use super::{Context, long, map, object};
use crate::providers::fields::{FieldProblem, Fields};
use crate::providers::pagsmile::settings::{ErrorKind, Settings, number_of};
use crate::providers::pagsmile::wire::{Answer, OpError};
use crate::world::cardholder::plausible_email;
use crate::world::review::{Applicant, Explained};
use crate::world::timeline::Event;
use crate::world::{Address, Cardholder, Gender, IdDocument, IdKind, Kyc, KycStatus, Phone, World};

/// The issuer name on Pagsmile's cardholders and cards.
pub const ISSUER: &str = "pagsmile";

/// `holder fields` → `{holder_id, id_no, id_type, audit_status, audit_msg}`.
pub fn create(
    context: &Context<'_>,
    world: &mut World,
    fields: &Fields<'_>,
) -> Result<Answer, OpError> {
    let identity = Identity::read(context.settings, world, fields)?;
    identity.check_unique(world, None)?;
    let id = register(context.settings, world, identity, None);
    let holder = &world.cardholders[&id];
    let mut answer = summary(context.settings, holder);
    answer.insert(
        "audit_msg".to_owned(),
        Value::String(holder.kyc.reason.clone().unwrap_or_default()),
    );
    Ok(Answer::Object(answer))
}

/// `holder_id` + holder fields → `{holder_id, id_no, id_type, audit_status}`: the data is
/// replaced and audited again. Not while an audit is running.
pub fn update(
    context: &Context<'_>,
    world: &mut World,
    fields: &Fields<'_>,
) -> Result<Answer, OpError> {
    let id = holder(world, fields.integer("holder_id")?)?.id.clone();
    let identity = Identity::read(context.settings, world, fields)?;
    if world.cardholders[&id].kyc.status == KycStatus::Pending {
        return Err(OpError::new(ErrorKind::HolderInReview).with_field(&id));
    }
    identity.check_unique(world, Some(&id))?;
    register(context.settings, world, identity, Some(id.clone()));
    Ok(Answer::Object(summary(
        context.settings,
        &world.cardholders[&id],
    )))
}

/// `{holder_id, id_no, id_type, audit_status}`: what create and update answer.
fn summary(settings: &Settings, holder: &Cardholder) -> Map<String, Value> {
    map([
        ("holder_id", long(&holder.id)),
        ("id_no", id_no(holder)),
        ("id_type", id_type(settings, holder)),
        (
            "audit_status",
            Value::from(audit_status(settings, holder.kyc.status)),
        ),
    ])
}

/// `holder_id`, or `id_no` + `id_type` → the cardholder's data, status and audit status.
pub fn query(
    context: &Context<'_>,
    world: &mut World,
    fields: &Fields<'_>,
) -> Result<Answer, OpError> {
    let settings = context.settings;
    let holder = match fields.optional_integer("holder_id")? {
        Some(id) => holder(world, id)?,
        None => {
            let number = fields.text("id_no", 6, 20)?;
            let kind = id_kind(settings, fields)?;
            world
                .cardholders
                .by_document(number)
                .into_iter()
                .find(|h| is_pagsmile_holder(h) && holds_document(h, kind, number))
                .ok_or_else(|| OpError::new(ErrorKind::HolderNotFound).with_field(number))?
        }
    };
    let document = holder.id_document.as_ref();
    let date = |d: Option<Date>| d.map_or(Value::Null, |d| Value::String(d.to_string()));
    let address = holder.address.as_ref().map_or(Value::Null, |a| {
        serde_json::json!({
            "line": a.line1,
            "line2": a.line2,
            "postal_code": a.postal_code,
            "city_name": a.city,
            "state": a.state,
            "country_code": a.country,
        })
    });
    let status = if holder.kyc.status == KycStatus::Passed {
        settings.holder_status.enabled
    } else {
        settings.holder_status.initial
    };
    Ok(object([
        ("holder_id", long(&holder.id)),
        ("mobile", Value::from(holder.phone.as_ref().map(mobile))),
        ("first_name", Value::String(holder.first_name.clone())),
        ("last_name", Value::String(holder.last_name.clone())),
        ("id_no", id_no(holder)),
        ("id_type", id_type(settings, holder)),
        ("issuance_date", date(document.and_then(|d| d.issued_on))),
        ("expires_on", date(document.and_then(|d| d.expires_on))),
        ("email", Value::from(holder.email.clone())),
        ("birthday", date(holder.birthday)),
        (
            "gender",
            Value::from(holder.gender.and_then(|g| number_of(&settings.genders, &g))),
        ),
        ("nationality_code", Value::from(holder.nationality.clone())),
        ("status", Value::from(status)),
        (
            "audit_status",
            Value::from(audit_status(settings, holder.kyc.status)),
        ),
        ("address", address),
    ]))
}

/// The dictionary's audit status for a KYC state.
pub fn audit_status(settings: &Settings, status: KycStatus) -> i64 {
    match status {
        KycStatus::Pending => settings.audit_status.reviewing,
        KycStatus::Passed => settings.audit_status.approved,
        KycStatus::Rejected => settings.audit_status.rejected,
    }
}

/// The Pagsmile cardholder with this id.
pub fn holder(world: &World, id: i64) -> Result<&Cardholder, OpError> {
    world
        .cardholders
        .get(&id.to_string())
        .filter(|h| is_pagsmile_holder(h))
        .ok_or_else(|| OpError::new(ErrorKind::HolderNotFound).with_field(id.to_string()))
}

/// Whether Pagsmile's API sees this person: registered through it, or a scenario's cardholder
/// with a numeric id (the API's `holder_id` is a long).
pub fn is_pagsmile_holder(holder: &Cardholder) -> bool {
    holder.serves(ISSUER) && holder.id.parse::<u64>().is_ok()
}

/// Stores `identity` as a new cardholder (or over `existing`) in audit, and starts the audit.
/// Returns the cardholder's id.
pub fn register(
    settings: &Settings,
    world: &mut World,
    identity: Identity,
    existing: Option<String>,
) -> String {
    let now = world.now();
    let id = existing.unwrap_or_else(|| {
        loop {
            let candidate = (20_000_000 + world.next_number()).to_string();
            if !world.cardholders.contains_key(&candidate) {
                break candidate;
            }
        }
    });
    // An update keeps who may see the person (a scenario's cardholder stays everyone's).
    let (created_at, issuer) = world
        .cardholders
        .get(&id)
        .map_or((now, Some(ISSUER.to_owned())), |h| {
            (h.created_at, h.issuer.clone())
        });
    let name = format!("{} {}", identity.first_name, identity.last_name);
    let applicant = Applicant {
        email: &identity.email,
        name: &name,
        document: &identity.id_no,
        ..Applicant::default()
    };
    let ruling = settings.review.decide(&world.rules.reviews, &applicant);
    let due = now.saturating_add(ruling.after).unwrap_or(now);
    let after = ruling.after;
    world.cardholders.insert(
        id.clone(),
        Cardholder {
            id: id.clone(),
            issuer,
            merchant_ref: None,
            first_name: identity.first_name,
            last_name: identity.last_name,
            email: Some(identity.email),
            phone: Some(Phone {
                country_code: String::new(),
                number: identity.mobile,
                country: None,
            }),
            id_document: Some(IdDocument {
                kind: identity.id_kind,
                number: identity.id_no,
                issued_on: identity.issuance_date,
                expires_on: identity.expires_on,
            }),
            birthday: Some(identity.birthday),
            gender: identity.gender,
            nationality: Some(identity.nationality),
            address: Some(identity.address),
            kyc: Kyc::submitted(
                now,
                Vec::new(),
                Some(ruling.review(due, Explained::Rejections)),
                None,
            ),
            created_at,
        },
    );
    let event = Event::DecideKyc {
        cardholder_id: id.clone(),
        submitted_at: now,
    };
    world.schedule(due, event);
    if after.is_zero() {
        // Decided within this request, as a synchronous audit would be.
        world.catch_up();
    }
    id
}

/// The identity fields of a cardholder, checked.
#[derive(Debug)]
pub struct Identity {
    mobile: String,
    first_name: String,
    last_name: String,
    id_no: String,
    id_kind: IdKind,
    issuance_date: Option<Date>,
    expires_on: Option<Date>,
    email: String,
    birthday: Date,
    gender: Option<Gender>,
    nationality: String,
    address: Address,
}

impl Identity {
    /// Reads the fields of `fields` (the body, or an application's `holder` object).
    pub fn read(
        settings: &Settings,
        world: &World,
        fields: &Fields<'_>,
    ) -> Result<Identity, OpError> {
        let today = world.now().to_zoned(jiff::tz::TimeZone::UTC).date();
        let mobile = fields.text("mobile", 1, 16)?;
        let digits = mobile.strip_prefix('+').unwrap_or(mobile);
        if digits.len() < 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(OpError::field(
                &fields.path("mobile"),
                "must be digits with the international code, e.g. +5511987654321",
            ));
        }
        let first_name = fields.text("first_name", 1, 50)?;
        let last_name = fields.text("last_name", 1, 50)?;
        let id_no = fields.text("id_no", 6, 20)?;
        let id_kind = id_kind(settings, fields)?;
        let issuance_date = fields.optional_date("issuance_date")?;
        let expires_on = fields.optional_date("expires_on")?;
        if issuance_date.is_some_and(|d| d > today) {
            return Err(OpError::field(
                &fields.path("issuance_date"),
                "must not be in the future",
            ));
        }
        if let (Some(issued), Some(expires)) = (issuance_date, expires_on)
            && expires <= issued
        {
            return Err(OpError::field(
                &fields.path("expires_on"),
                "must be after issuance_date",
            ));
        }
        let email = fields.text("email", 1, 80)?;
        if !plausible_email(email) {
            return Err(OpError::field(
                &fields.path("email"),
                "is not an email address",
            ));
        }
        let birthday = fields.date("birthday")?;
        if birthday >= today {
            return Err(OpError::field(
                &fields.path("birthday"),
                "must be in the past",
            ));
        }
        let gender = match fields.optional_integer("gender")? {
            None => None,
            Some(number) => Some(*settings.genders.get(&number).ok_or_else(|| {
                OpError::field(&fields.path("gender"), one_of(settings.genders.keys()))
            })?),
        };
        let nationality = fields.country("nationality_code")?;
        let address = fields
            .object("address")?
            .ok_or_else(|| FieldProblem::missing(&fields.path("address")))?;
        let address = Address {
            line1: address.text("line", 12, 128)?.to_owned(),
            line2: address.optional_text("line2", 1, 128)?.map(str::to_owned),
            postal_code: Some(address.text("postal_code", 4, 8)?.to_owned()),
            city: address.text("city_name", 4, 80)?.to_owned(),
            state: Some(address.text("state", 4, 48)?.to_owned()),
            country: address.country("country_code")?.to_owned(),
        };
        Ok(Identity {
            mobile: mobile.to_owned(),
            first_name: first_name.to_owned(),
            last_name: last_name.to_owned(),
            id_no: id_no.to_owned(),
            id_kind,
            issuance_date,
            expires_on,
            email: email.to_owned(),
            birthday,
            gender,
            nationality: nationality.to_owned(),
            address,
        })
    }

    /// Refuses a document another of the merchant's cardholders already has.
    pub fn check_unique(&self, world: &World, except: Option<&str>) -> Result<(), OpError> {
        let taken = world
            .cardholders
            .by_document(&self.id_no)
            .into_iter()
            .any(|h| {
                is_pagsmile_holder(h)
                    && Some(h.id.as_str()) != except
                    && holds_document(h, self.id_kind, &self.id_no)
            });
        if taken {
            Err(OpError::new(ErrorKind::HolderExists).with_field(&self.id_no))
        } else {
            Ok(())
        }
    }
}

/// A phone as Pagsmile writes it: with its international code.
fn mobile(phone: &Phone) -> String {
    if phone.country_code.is_empty() {
        phone.number.clone()
    } else {
        format!("+{}{}", phone.country_code, phone.number)
    }
}

fn holds_document(holder: &Cardholder, kind: IdKind, number: &str) -> bool {
    holder
        .id_document
        .as_ref()
        .is_some_and(|d| d.kind == kind && d.number == number)
}

/// `id_type`, checked against the dictionary.
fn id_kind(settings: &Settings, fields: &Fields<'_>) -> Result<IdKind, OpError> {
    let number = fields.integer("id_type")?;
    settings
        .id_types
        .get(&number)
        .copied()
        .ok_or_else(|| OpError::field(&fields.path("id_type"), one_of(settings.id_types.keys())))
}

fn one_of<'a>(numbers: impl Iterator<Item = &'a i64>) -> String {
    let numbers: Vec<String> = numbers.map(i64::to_string).collect();
    format!("must be one of {}", numbers.join(", "))
}

fn id_no(holder: &Cardholder) -> Value {
    Value::from(holder.id_document.as_ref().map(|d| d.number.clone()))
}

fn id_type(settings: &Settings, holder: &Cardholder) -> Value {
    Value::from(
        holder
            .id_document
            .as_ref()
            .and_then(|d| number_of(&settings.id_types, &d.kind)),
    )
}
