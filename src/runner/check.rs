//! Expectations against an answer or the state, and the diff a failure prints.

use std::collections::BTreeMap;

use serde_json::Value;

use super::View;
use crate::scenario::steps::Expect;

/// One expectation that did not hold.
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    pub path: String,
    pub expected: String,
    pub actual: String,
}

/// The value at a dotted path (`body.list.0.card_no`).
pub fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |v, key| match v {
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        other => other.get(key),
    })
}

/// Whether `actual` satisfies `expected`: `{like: "glob"}`, `{exists: bool}`, or equality.
fn satisfies(expected: &Value, actual: Option<&Value>) -> bool {
    if let Some(object) = expected.as_object()
        && object.len() == 1
    {
        if let Some(Value::String(pattern)) = object.get("like") {
            let text = match actual {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => return false,
                Some(other) => other.to_string(),
            };
            return crate::world::glob::matches(pattern, &text);
        }
        if let Some(Value::Bool(wanted)) = object.get("exists") {
            return actual.is_some_and(|v| !v.is_null()) == *wanted;
        }
    }
    actual == Some(expected)
}

fn shown(value: Option<&Value>) -> String {
    value.map_or_else(|| "(nothing)".to_owned(), Value::to_string)
}

/// The value at `path` of an answer; `Err(why)` when the path lies in a part of the answer
/// that could not be opened (anything but `status` and the raw `body`).
pub fn field<'v>(view: &'v View, path: &str) -> Result<Option<&'v Value>, &'v str> {
    match &view.unopened {
        Some(why) if path != "status" && path != "body" => Err(why),
        _ => Ok(lookup(&view.answer, path)),
    }
}

fn compare(path: String, expected: &Value, actual: Option<&Value>) -> Option<Mismatch> {
    (!satisfies(expected, actual)).then(|| Mismatch {
        path,
        expected: expected.to_string(),
        actual: shown(actual),
    })
}

/// Checks an answer's status, codes and fields.
pub fn check_answer(expect: &Expect, view: &View) -> Vec<Mismatch> {
    // The codes are compared as text, whatever type the provider gives them.
    let as_text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => Some(Value::String(s.clone())),
        Some(Value::Null) | None => None,
        Some(other) => Some(Value::String(other.to_string())),
    };
    let mut expected: Vec<(String, Value, bool)> = Vec::new();
    if let Some(status) = expect.status {
        expected.push(("status".into(), Value::from(status), false));
    }
    if let Some(code) = &expect.code {
        expected.push(("code".into(), Value::String(code.clone()), true));
    }
    if let Some(code) = &expect.sub_code {
        expected.push(("sub_code".into(), Value::String(code.clone()), true));
    }
    for (path, value) in &expect.fields {
        expected.push((path.clone(), value.clone(), false));
    }
    expected
        .into_iter()
        .filter_map(|(path, wanted, textual)| match field(view, &path) {
            Ok(actual) if textual => compare(path, &wanted, as_text(actual).as_ref()),
            Ok(actual) => compare(path, &wanted, actual),
            Err(why) => Some(Mismatch {
                path,
                expected: wanted.to_string(),
                actual: format!("nothing: the answer could not be opened ({why})"),
            }),
        })
        .collect()
}

/// Checks paths of the merchant's state.
pub fn check_state(expected: &BTreeMap<String, Value>, state: &Value) -> Vec<Mismatch> {
    expected
        .iter()
        .filter_map(|(path, wanted)| compare(format!("state.{path}"), wanted, lookup(state, path)))
        .collect()
}

/// The failure text: each mismatch, then the whole answer.
pub fn report(mismatches: &[Mismatch], view: Option<&View>) -> String {
    let mut out = String::new();
    for m in mismatches {
        out.push_str(&format!("{}: expected {}\n", m.path, m.expected));
        out.push_str(&format!(
            "{}  but got  {}\n",
            " ".repeat(m.path.len()),
            m.actual
        ));
    }
    if let Some(view) = view {
        out.push_str("the answer was:\n");
        out.push_str(&super::pretty(&view.answer));
        out.push('\n');
        if let Some(why) = &view.unopened {
            out.push_str(&format!("(it could not be opened: {why})\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn exact_like_and_exists_expectations() {
        let view = View::opened(
            json!({ "status": 200, "code": 10000, "body": { "list": [{ "card_no": "KC12" }], "n": null } }),
        );
        let expect = Expect {
            status: Some(200),
            code: Some("10000".into()),
            sub_code: None,
            no_answer: false,
            fields: BTreeMap::from([
                ("body.list.0.card_no".to_owned(), json!({ "like": "KC*" })),
                ("body.n".to_owned(), json!({ "exists": false })),
                ("body.list.0".to_owned(), json!({ "card_no": "KC12" })),
            ]),
        };
        assert!(check_answer(&expect, &view).is_empty());
        let wrong = Expect {
            status: Some(201),
            fields: BTreeMap::from([("body.missing".to_owned(), json!(1))]),
            ..Expect::default()
        };
        let mismatches = check_answer(&wrong, &view);
        assert_eq!(mismatches.len(), 2);
        let text = report(&mismatches, Some(&view));
        assert!(
            text.contains("status: expected 201") && text.contains("but got  200"),
            "{text}"
        );
        assert!(
            text.contains("body.missing: expected 1") && text.contains("(nothing)"),
            "{text}"
        );
    }

    #[test]
    fn an_unopened_answer_has_only_its_status_and_raw_body() {
        let view = View::unopened(200, b"{\"data\":\"sealed\"}", "bad key".to_owned());
        let expect = Expect {
            status: Some(200),
            fields: BTreeMap::from([("body".to_owned(), json!({ "like": "*sealed*" }))]),
            ..Expect::default()
        };
        assert!(check_answer(&expect, &view).is_empty());
        let opened_parts = Expect {
            code: Some("0".into()),
            fields: BTreeMap::from([("body.data".to_owned(), json!("sealed"))]),
            ..Expect::default()
        };
        let mismatches = check_answer(&opened_parts, &view);
        assert_eq!(mismatches.len(), 2);
        assert!(
            mismatches
                .iter()
                .all(|m| m.actual.contains("could not be opened (bad key)")),
            "{mismatches:?}"
        );
    }
}
