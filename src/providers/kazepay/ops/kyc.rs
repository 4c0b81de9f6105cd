//! KYC: `setUcardKyc` (Base64 images — deprecated but served — or uploaded file ids),
//! `setUserKyc` (a hosted page decides), `queryUcardKycStatus`. Users are identified by email.
//!
//! Field rules follow the seed: every listed field is required, `backImg*` only for ID_CARD;
//! names, address and city in English; dates `yyyy-MM-dd`; ISO 3166 alpha-2 countries.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use jiff::civil::Date;
use serde_json::Value;

use super::cards::ISSUER;
use super::files::{MediaType, sniff};
use super::{AnswerFields, Context, fields};
use crate::providers::fields::Fields;
use crate::providers::kazepay::settings::ErrorKind;
use crate::providers::kazepay::wire::OpError;
use crate::world::cardholder::plausible_email;
use crate::world::countries::is_country_code;
use crate::world::ids;
use crate::world::review::{Applicant, Explained};
use crate::world::timeline::Event;
use crate::world::{Address, Cardholder, IdDocument, IdKind, Kyc, KycStatus, Phone, Review, World};

/// The documented status values.
pub fn status_name(status: KycStatus) -> &'static str {
    match status {
        KycStatus::Pending => "WAITING_KYC",
        KycStatus::Passed => "PASSED",
        KycStatus::Rejected => "REJECTED",
    }
}

/// `{email}` → `{status}`.
pub fn query(
    _: &Context<'_>,
    world: &mut World,
    body: &Fields<'_>,
) -> Result<AnswerFields, OpError> {
    let email = body.text("email", 1, 128)?;
    let holder = world
        .cardholder_by_email(email, Some(ISSUER))
        .ok_or_else(|| OpError::new(ErrorKind::UserNotFound))?;
    Ok(fields([(
        "status",
        Value::String(status_name(holder.kyc.status).to_owned()),
    )]))
}

/// `setUcardKyc`: the 15 identity fields plus the three images (Base64 or file ids) →
/// `{status: WAITING_KYC}`; the review ends after the scenario's delay with its rule's decision.
pub fn submit_with_images(
    context: &Context<'_>,
    world: &mut World,
    body: &Fields<'_>,
) -> Result<AnswerFields, OpError> {
    let identity = Identity::read(body, world)?;
    check_may_submit(world, &identity.email)?;
    // Last: it stores inline images, once every other check has passed.
    let documents = images(body, world, &identity)?;
    let name = format!("{} {}", identity.first_name, identity.last_name);
    let applicant = Applicant {
        email: &identity.email,
        name: &name,
        document: &identity.document_number,
        ..Applicant::default()
    };
    let ruling = context
        .settings
        .review
        .decide(&world.rules.reviews, &applicant);
    let now = world.now();
    let due = now.saturating_add(ruling.after).unwrap_or(now);
    let id = record(
        world,
        identity,
        documents,
        Some(ruling.review(due, Explained::Always)),
        None,
        now,
    );
    // A running clock moves between two readings: the event names this very submission.
    world.schedule(
        due,
        Event::DecideKyc {
            cardholder_id: id,
            submitted_at: now,
        },
    );
    Ok(fields([(
        "status",
        Value::String(status_name(KycStatus::Pending).to_owned()),
    )]))
}

/// `setUserKyc`: the 15 identity fields → `{kycUrl}`, a page served by the sandbox where a
/// person approves or rejects (or the control API decides).
pub fn submit_hosted(
    context: &Context<'_>,
    world: &mut World,
    body: &Fields<'_>,
) -> Result<AnswerFields, OpError> {
    let identity = Identity::read(body, world)?;
    check_may_submit(world, &identity.email)?;
    let token = format!("{}~{}", context.tenant_id, ids::uuid(world.rng()));
    let url = format!("{}{}/kyc/{token}", context.base_url, context.settings.path);
    let now = world.now();
    record(world, identity, Vec::new(), None, Some(token), now);
    Ok(fields([("kycUrl", Value::String(url))]))
}

/// A new user, a REJECTED one, or one who never submitted (scenario data, a virtual-card
/// contact) may submit; a review in progress or a PASSED user may not.
fn check_may_submit(world: &World, email: &str) -> Result<(), OpError> {
    let Some(holder) = world.cardholder_by_email(email, Some(ISSUER)) else {
        return Ok(());
    };
    let kyc = &holder.kyc;
    let never_submitted = kyc.status == KycStatus::Pending
        && kyc.submitted_at.is_none()
        && kyc.hosted_token.is_none();
    if kyc.status == KycStatus::Rejected || never_submitted {
        Ok(())
    } else {
        Err(OpError::new(ErrorKind::KycInProgress).with_reason(status_name(kyc.status)))
    }
}

/// Creates or updates the cardholder with this email, WAITING_KYC; returns its id.
fn record(
    world: &mut World,
    identity: Identity,
    documents: Vec<String>,
    review: Option<Review>,
    hosted_token: Option<String>,
    now: jiff::Timestamp,
) -> String {
    let existing = world
        .cardholder_by_email(&identity.email, Some(ISSUER))
        .map(|h| (h.id.clone(), h.created_at));
    let (id, created_at) = existing.unwrap_or_else(|| (super::new_user_id(world), now));
    let holder = Cardholder {
        id: id.clone(),
        issuer: Some(ISSUER.to_owned()),
        merchant_ref: None,
        first_name: identity.first_name,
        last_name: identity.last_name,
        email: Some(identity.email),
        phone: Some(identity.phone),
        id_document: Some(IdDocument {
            kind: identity.document_kind,
            number: identity.document_number,
            issued_on: None,
            expires_on: Some(identity.document_expiry),
        }),
        birthday: Some(identity.birthday),
        gender: None,
        nationality: Some(identity.address.country.clone()),
        address: Some(identity.address),
        kyc: Kyc::submitted(now, documents, review, hosted_token),
        created_at,
    };
    world.cardholders.insert(id.clone(), holder);
    id
}

/// The identity fields shared by every KYC variant, checked.
struct Identity {
    email: String,
    phone: Phone,
    first_name: String,
    last_name: String,
    birthday: Date,
    address: Address,
    document_kind: IdKind,
    document_number: String,
    document_expiry: Date,
}

impl Identity {
    fn read(body: &Fields<'_>, world: &World) -> Result<Identity, OpError> {
        let email = body.text("email", 1, 128)?;
        if !plausible_email(email) {
            return Err(OpError::field("email", "is not an email address"));
        }
        let (mobile_number, mobile_prefix) = super::mobile(body)?;
        let mobile_country = country(body, "mobilePrefixCountry")?;
        let first_name = english(body, "firstName", 50)?;
        let last_name = english(body, "lastName", 50)?;
        let today = world.now().to_zoned(jiff::tz::TimeZone::UTC).date();
        let birthday = date(body, "dateOfBirth")?;
        if birthday >= today {
            return Err(OpError::field("dateOfBirth", "must be in the past"));
        }
        let address_line = english(body, "addressLine", 140)?;
        let city = english(body, "city", 64)?;
        let country_code = country(body, "countryCode")?;
        let post_code = body.text("postCode", 1, 16)?;
        if !post_code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
        {
            return Err(OpError::field(
                "postCode",
                "may contain letters, digits, spaces and hyphens only",
            ));
        }
        let state = english(body, "state", 64)?;
        let document_kind = match body.one_of("identificationType", &["PASSPORT", "ID_CARD"])? {
            "PASSPORT" => IdKind::Passport,
            _ => IdKind::IdCard,
        };
        let document_number = body.text("identificationNumber", 1, 32)?;
        if !document_number.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(OpError::field(
                "identificationNumber",
                "may contain letters and digits only",
            ));
        }
        let document_expiry = date(body, "identificationExpiryDate")?;
        if document_expiry <= today {
            return Err(OpError::field(
                "identificationExpiryDate",
                "the document has expired",
            ));
        }
        Ok(Identity {
            email: email.to_owned(),
            phone: Phone {
                country_code: mobile_prefix.to_owned(),
                number: mobile_number.to_owned(),
                country: Some(mobile_country),
            },
            first_name: first_name.to_owned(),
            last_name: last_name.to_owned(),
            birthday,
            address: Address {
                line1: address_line.to_owned(),
                line2: None,
                city: city.to_owned(),
                state: Some(state.to_owned()),
                postal_code: Some(post_code.to_owned()),
                country: country_code,
            },
            document_kind,
            document_number: document_number.to_owned(),
            document_expiry,
        })
    }
}

/// The three document images as file ids: uploaded earlier (`*FileId`) or sent inline
/// (`*Base64`, stored as files now). `back*` is required for ID_CARD only.
fn images(
    body: &Fields<'_>,
    world: &mut World,
    identity: &Identity,
) -> Result<Vec<String>, OpError> {
    let inline = body
        .optional_text("frontImgBase64", 1, usize::MAX)?
        .is_some();
    let suffix = if inline { "Base64" } else { "FileId" };
    let mut wanted = vec!["frontImg", "handheldImg"];
    let back_required = identity.document_kind == IdKind::IdCard;
    if back_required
        || body
            .optional_text(&format!("backImg{suffix}"), 1, usize::MAX)?
            .is_some()
    {
        wanted.insert(1, "backImg");
    }
    // Check every image before storing any, so a refused request stores nothing.
    let mut checked = Vec::new();
    for part in &wanted {
        let field = format!("{part}{suffix}");
        if inline {
            let text = body.text(&field, 1, usize::MAX)?;
            let (media, size) = decode_image(&field, text)?;
            checked.push(Image::Inline(media, size));
        } else {
            let id = body.text(&field, 1, 64)?;
            let owned = world
                .files
                .get(id)
                .is_some_and(|f| f.owner.eq_ignore_ascii_case(&identity.email));
            if !owned {
                return Err(OpError::new(ErrorKind::FileNotFound).with_field(id));
            }
            checked.push(Image::Uploaded(id.to_owned()));
        }
    }
    Ok(checked
        .into_iter()
        .map(|image| match image {
            Image::Uploaded(id) => id,
            Image::Inline(media, size) => super::files::store(world, media, size, &identity.email),
        })
        .collect())
}

enum Image {
    Uploaded(String),
    Inline(MediaType, usize),
}

/// A Base64 image, with or without a `data:image/...;base64,` prefix, that is a PNG or JPEG.
fn decode_image(field: &str, text: &str) -> Result<(MediaType, usize), OpError> {
    let payload = match text.split_once(";base64,") {
        Some((prefix, rest)) if prefix.starts_with("data:") => rest,
        _ => text,
    };
    let bytes = BASE64
        .decode(payload.trim())
        .map_err(|_| OpError::field(field, "is not Base64"))?;
    let media = sniff(&bytes).ok_or_else(|| OpError::new(ErrorKind::FileType).with_field(field))?;
    Ok((media, bytes.len()))
}

fn country(body: &Fields<'_>, name: &str) -> Result<String, OpError> {
    let value = body.text(name, 1, 2)?;
    if !is_country_code(value) {
        return Err(OpError::field(
            name,
            "must be an ISO 3166 two-letter country code",
        ));
    }
    Ok(value.to_owned())
}

/// "Content must be in English": ASCII letters, digits, spaces and common punctuation.
fn english<'b>(body: &Fields<'b>, name: &str, max: usize) -> Result<&'b str, OpError> {
    let value = body.text(name, 1, max)?;
    if !value.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        return Err(OpError::field(
            name,
            "must be in English (ASCII characters)",
        ));
    }
    Ok(value)
}

fn date(body: &Fields<'_>, name: &str) -> Result<Date, OpError> {
    let value = body.text(name, 1, 10)?;
    Date::strptime("%Y-%m-%d", value)
        .ok()
        .filter(|_| value.len() == 10)
        .ok_or_else(|| OpError::field(name, "must be a date yyyy-MM-dd"))
}
