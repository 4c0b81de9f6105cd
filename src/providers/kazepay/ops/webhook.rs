//! `setWebhookUrl` / `getWebhookUrl`: where KazePay posts its notifications.

use serde_json::Value;

use super::{AnswerFields, Context, fields};
use crate::providers::fields::Fields;
use crate::providers::kazepay::wire::OpError;
use crate::world::World;

const PROVIDER: &str = "kazepay";

/// `{url}` → `{url}`; the URL must be one the sandbox can deliver to (plain http).
pub fn set(_: &Context<'_>, world: &mut World, body: &Fields<'_>) -> Result<AnswerFields, OpError> {
    let url = body.text("url", 1, 512)?;
    if !crate::world::deliveries::deliverable_url(url) {
        return Err(OpError::field("url", crate::world::deliveries::URL_RULE));
    }
    world
        .webhook_urls
        .insert(PROVIDER.to_owned(), url.to_owned());
    Ok(fields([("url", Value::String(url.to_owned()))]))
}

/// `{}` → `{url}` (empty when none is registered).
pub fn get(_: &Context<'_>, world: &mut World, _: &Fields<'_>) -> Result<AnswerFields, OpError> {
    let url = world
        .webhook_urls
        .get(PROVIDER)
        .cloned()
        .unwrap_or_default();
    Ok(fields([("url", Value::String(url))]))
}
