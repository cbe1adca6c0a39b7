//! Random identifiers and secrets: session tokens, API keys, and the ids of users, reports and
//! jobs. Kept apart so the store and the auth layer can both use them without depending on each
//! other.

use rand::RngCore;

/// A new random token: 64 hexadecimal characters (256 bits).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A new random id with a prefix (`usr_…`, `rep_…`): 80 random bits.
pub fn new_id(prefix: &str) -> String {
    let mut bytes = [0u8; 10];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// A Twilio-style account SID: `AC` and 32 random hexadecimal digits.
pub fn new_account_sid() -> String {
    format!("AC{}", &new_token()[..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_and_prefixed() {
        let a = new_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_token());
        let id = new_id("rep_");
        assert!(id.starts_with("rep_") && id.len() == 24);
    }
}
