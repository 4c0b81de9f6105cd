//! KeySecure's wire format: `{"code":0,"msg":"Success","data":...}` answers, `{"code","msg"}`
//! failures (always HTTP 200), list pages, and the request body readers.

use serde::Serialize;
use serde_json::{Map, Value};

use super::settings::ErrorKind;
use crate::providers::contract::Payload;
use crate::providers::failure::Catalog;
use crate::providers::fields::Fields;

/// A failure of an operation in KeySecure's catalog.
pub type OpError = crate::providers::failure::OpError<ErrorKind>;

impl Catalog for ErrorKind {
    const INVALID_FIELD: ErrorKind = ErrorKind::InvalidParameter;
    const MISSING_FIELD: ErrorKind = ErrorKind::InvalidParameter;
}

/// A success.
#[derive(Debug, Serialize)]
pub struct Success<'a> {
    pub code: i64,
    pub msg: &'a str,
    pub data: Value,
}

/// A failure.
#[derive(Debug, Serialize)]
pub struct FailureBody {
    pub code: i64,
    pub msg: String,
}

/// What an operation reads: the path's `{...}` segments and the JSON body (`{}` for GETs).
#[derive(Debug)]
pub struct Input<'a> {
    pub params: Vec<&'a str>,
    pub body: Fields<'a>,
}

impl Input<'_> {
    /// The first path parameter (`{card_no}`, `{cardholder_no}`, ...).
    pub fn param(&self) -> &str {
        self.params.first().copied().unwrap_or_default()
    }
}

/// Reads a request body: a JSON object, or nothing (counted as `{}`).
fn parse_body(bytes: &[u8]) -> Result<Map<String, Value>, OpError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(OpError::field("body", "must be a JSON object")),
        Err(e) => Err(OpError::field("body", format!("is not JSON ({e})"))),
    }
}

/// The request's JSON object, from the pipeline's parse (the bytes are read again only to say
/// why a body is refused).
pub fn body_object(body: &Payload<'_>) -> Result<Map<String, Value>, OpError> {
    match body.json {
        Value::Object(map) => Ok(map.clone()),
        _ => parse_body(body.bytes),
    }
}

/// `page` (from 0, default 0) and `size` (1–100, default 10) of a list request.
pub fn paging(body: &Fields<'_>) -> Result<(usize, usize), OpError> {
    let page = body.optional_integer("page")?.unwrap_or(0);
    let size = body.optional_integer("size")?.unwrap_or(10);
    if page < 0 {
        return Err(OpError::field("page", "must be 0 or more"));
    }
    if !(1..=100).contains(&size) {
        return Err(OpError::field("size", "must be 1 to 100"));
    }
    Ok((page as usize, size as usize))
}

/// One page of `items`: `{"list": [...], "page", "size", "total"}`, only the page rendered.
pub fn page_of<T>(
    items: Vec<T>,
    page: usize,
    size: usize,
    render: impl FnMut(T) -> Value,
) -> Value {
    let total = items.len();
    let list: Vec<Value> = items
        .into_iter()
        .skip(page.saturating_mul(size))
        .take(size)
        .map(render)
        .collect();
    page_list(list, page, size, total)
}

/// A page already taken (`list`) out of `total` items.
pub fn page_list(list: Vec<Value>, page: usize, size: usize, total: usize) -> Value {
    let mut answer = serde_json::Map::new();
    answer.insert("list".into(), Value::Array(list));
    answer.insert("page".into(), page.into());
    answer.insert("size".into(), size.into());
    answer.insert("total".into(), total.into());
    Value::Object(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_counted_from_zero_and_bounded() {
        let items: Vec<Value> = (0..25).map(Value::from).collect();
        let second = page_of(items, 1, 10, |v| v);
        assert_eq!(second["list"][0], 10);
        assert_eq!(second["total"], 25);
        let body = serde_json::json!({ "size": 101 });
        let fields = Fields::new(body.as_object().unwrap());
        assert_eq!(paging(&fields).unwrap_err().field, "size");
        let empty = Map::new();
        assert_eq!(paging(&Fields::new(&empty)).unwrap(), (0, 10));
        assert!(parse_body(b"  ").unwrap().is_empty());
        assert_eq!(parse_body(b"[1]").unwrap_err().field, "body");
    }
}
