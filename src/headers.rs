//! Small readers of request headers shared by providers and the control API.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::HeaderMap;
use http::header::AUTHORIZATION;

/// The token of an `Authorization: Bearer <token>` header (scheme matched case-insensitively,
/// surrounding spaces ignored); `None` for a missing, non-UTF-8 or other-scheme header.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// `Authorization: Basic base64(user:password)` as `(user, password)`: `None` without an
/// Authorization header, `Some(None)` when there is one but it is not readable Basic.
pub fn basic_credentials(headers: &HeaderMap) -> Option<Option<(String, String)>> {
    let value = headers.get(AUTHORIZATION)?;
    Some((|| {
        let (scheme, encoded) = value.to_str().ok()?.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = BASE64.decode(encoded.trim()).ok()?;
        let (user, password) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
        Some((user.to_owned(), password.to_owned()))
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value.parse().unwrap());
        headers
    }

    #[test]
    fn reads_bearer_tokens_in_any_case() {
        assert_eq!(bearer_token(&headers("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(&headers("bearer  abc ")), Some("abc"));
        assert_eq!(bearer_token(&headers("BEARER abc")), Some("abc"));
        assert_eq!(bearer_token(&headers("Basic abc")), None);
        assert_eq!(bearer_token(&headers("Bearer")), None);
        assert_eq!(bearer_token(&headers("Bearer ")), None);
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }

    #[test]
    fn reads_basic_credentials_and_tells_unreadable_from_absent() {
        // base64("16258292145316638:app_sk_x")
        let header = format!("Basic {}", BASE64.encode("16258292145316638:app_sk_x"));
        assert_eq!(
            basic_credentials(&headers(&header)),
            Some(Some(("16258292145316638".into(), "app_sk_x".into())))
        );
        assert_eq!(basic_credentials(&headers("Basic !!")), Some(None));
        assert_eq!(basic_credentials(&headers("Bearer abc")), Some(None));
        assert_eq!(
            basic_credentials(&headers(&format!("Basic {}", BASE64.encode("no-colon")))),
            Some(None)
        );
        assert_eq!(basic_credentials(&HeaderMap::new()), None);
    }
}
