//! KazePay operations, one module per area, dispatched by `head.apiCode`. Each runs inside the
//! tenant's world lock, checks everything before changing anything, and returns the response
//! body's business fields (the `encrypt` flag is added by the caller).

mod cards;
mod files;
mod kyc;
mod money;
mod webhook;

use serde_json::{Map, Value};

use super::settings::{ErrorKind, Settings};
use super::wire::OpError;
use crate::providers::fields::Fields;
use crate::world::World;

pub use cards::ISSUER;
pub use kyc::status_name as kyc_status_name;
pub use money::item as transaction_item;

/// What every operation may need besides the world and the body.
#[derive(Debug)]
pub struct Context<'a> {
    pub settings: &'a Settings,
    pub tenant_id: &'a str,
    /// `http://host:port` as the client reached the sandbox.
    pub base_url: String,
    /// The file part of a multipart `fileUpload`.
    pub upload: Option<&'a [u8]>,
}

/// Business fields of a successful answer.
pub type AnswerFields = Map<String, Value>;

/// A successful answer: an object (sent after `"encrypt":"SUCCESS"`) or, for
/// `queryTransactions`, a bare array as documented.
#[derive(Debug)]
pub enum Answer {
    Object(AnswerFields),
    List(Vec<Value>),
}

/// An operation answering with an object, or one that may answer with anything.
#[derive(Clone, Copy)]
enum Operation {
    Object(fn(&Context<'_>, &mut World, &Fields<'_>) -> Result<AnswerFields, OpError>),
    Any(fn(&Context<'_>, &mut World, &Fields<'_>) -> Result<Answer, OpError>),
}

/// Every apiCode the sandbox serves.
const OPERATIONS: &[(&str, Operation)] = &[
    ("fileUpload", Operation::Object(files::upload)),
    ("setUcardKyc", Operation::Object(kyc::submit_with_images)),
    ("setUserKyc", Operation::Object(kyc::submit_hosted)),
    ("queryUcardKycStatus", Operation::Object(kyc::query)),
    ("ucardAssign", Operation::Object(cards::assign)),
    ("ucardActive", Operation::Object(cards::activate)),
    ("cardSetPin", Operation::Object(cards::set_pin)),
    ("queryCard", Operation::Object(cards::query)),
    ("cardBalance", Operation::Any(money::balance)),
    ("cardRecharge", Operation::Any(money::recharge)),
    ("queryTransactions", Operation::Any(money::transactions)),
    ("updCardStatus", Operation::Object(cards::update_status)),
    ("closeCard", Operation::Object(cards::close)),
    ("getCardId", Operation::Object(cards::card_id)),
    ("createCard", Operation::Object(cards::create_virtual)),
    ("createCardQuery", Operation::Object(cards::query_virtual)),
    ("setWebhookUrl", Operation::Object(webhook::set)),
    ("getWebhookUrl", Operation::Object(webhook::get)),
];

/// Runs the operation named by `api_code`.
pub fn dispatch(
    context: &Context<'_>,
    api_code: &str,
    world: &mut World,
    body: &Fields<'_>,
) -> Result<Answer, OpError> {
    match OPERATIONS.iter().find(|(name, _)| *name == api_code) {
        Some((_, Operation::Object(operation))) => {
            operation(context, world, body).map(Answer::Object)
        }
        Some((_, Operation::Any(operation))) => operation(context, world, body),
        None => Err(OpError::new(ErrorKind::UnknownApiCode).with_field(api_code)),
    }
}

/// A new user id, `kp-user-N`, past the ids people already have: a scenario may list users
/// (a saved state's come back with their ids) while the counter starts from the beginning.
pub fn new_user_id(world: &mut World) -> String {
    loop {
        let candidate = format!("kp-user-{}", world.next_number());
        if !world.cardholders.contains_key(&candidate) {
            return candidate;
        }
    }
}

/// `mobileNumber` (4–15 digits) and `mobilePrefix` (1–4 digits), checked.
pub fn mobile<'b>(body: &Fields<'b>) -> Result<(&'b str, &'b str), OpError> {
    let digits = |name: &str, min: usize, max: usize| -> Result<&str, OpError> {
        let value = body.text(name, 1, max)?;
        if value.len() < min || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(OpError::field(
                name,
                format!("must be {min} to {max} digits"),
            ));
        }
        Ok(value)
    };
    Ok((
        digits("mobileNumber", 4, 15)?,
        digits("mobilePrefix", 1, 4)?,
    ))
}

/// Builds the fields of an answer from `(name, value)` pairs, in order.
pub fn fields<const N: usize>(pairs: [(&str, Value); N]) -> AnswerFields {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}
