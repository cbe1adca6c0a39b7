//! The credentials a request can carry: `Authorization: Bearer <token or API key>`, Basic with
//! an API key as the user name, or the HttpOnly session cookie. Only their SHA-256 is stored.

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "evo-session";
/// Prefix of API keys, so they are recognisable in logs and secret scanners.
pub const API_KEY_PREFIX: &str = "ek_";

/// SHA-256 hex of a token or key: what is stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The credential a request carries, if any.
pub fn credential(headers: &HeaderMap) -> Option<String> {
    if let Some(auth) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let auth = auth.trim();
        if let Some(token) = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
        {
            let token = token.trim();
            if !token.is_empty() {
                return Some(token.to_string());
            }
        }
        if let Some(basic) = auth
            .strip_prefix("Basic ")
            .or_else(|| auth.strip_prefix("basic "))
        {
            if let Some(user) = decode_basic_user(basic.trim()) {
                return Some(user);
            }
        }
    }
    cookie(headers, SESSION_COOKIE)
}

/// A cookie's value.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The user name of a Basic credential (an API key), base64-decoded.
fn decode_basic_user(b64: &str) -> Option<String> {
    let decoded = base64_decode(b64)?;
    let text = String::from_utf8(decoded).ok()?;
    let user = text.split(':').next()?.trim();
    (!user.is_empty()).then(|| user.to_string())
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn credentials_from_headers() {
        let mut h = HeaderMap::new();
        assert_eq!(credential(&h), None);
        h.insert("authorization", HeaderValue::from_static("Bearer abc"));
        assert_eq!(credential(&h).as_deref(), Some("abc"));
        // base64("ek_1:")
        h.insert("authorization", HeaderValue::from_static("Basic ZWtfMTo="));
        assert_eq!(credential(&h).as_deref(), Some("ek_1"));
        let mut c = HeaderMap::new();
        c.insert(
            "cookie",
            HeaderValue::from_static("a=1; evo-session=tok; b=2"),
        );
        assert_eq!(credential(&c).as_deref(), Some("tok"));
    }

    #[test]
    fn tokens_are_hashed() {
        let a = crate::ids::new_token();
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
