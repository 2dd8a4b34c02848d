//! Name-like fields: account names, custom SIP headers, DR subdomains and tokens, tenant ids.

use crate::error::FieldError;
use crate::text::MAX_NAME;

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Checks `value` is `min..=max` characters of `[A-Za-z0-9_-]` (plus `extra`).
fn check_pattern(target: &str, value: &str, max: usize, extra: &[char], what: &str) -> Result<(), FieldError> {
    let len = value.chars().count();
    if len == 0 || len > max {
        return Err(FieldError::new(target, format!("{what} must be 1 to {max} characters long")));
    }
    if let Some(bad) = value.chars().find(|c| !is_name_char(*c) && !extra.contains(c)) {
        let allowed = if extra.is_empty() {
            "letters, digits, '_' and '-'".to_string()
        } else {
            format!(
                "letters, digits, '_', '-' and {}",
                extra.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(", ")
            )
        };
        return Err(FieldError::new(target, format!("{what} may only contain {allowed}; found {bad:?}")));
    }
    Ok(())
}

/// `^([A-Za-z0-9_-]+)$`, 1–100 characters, case-sensitive.
pub fn account_name(target: &str, value: &str) -> Result<(), FieldError> {
    check_pattern(target, value, MAX_NAME, &[], "an account name")
}

/// `^([A-Za-z0-9_-])+$`, 1–100 characters.
pub fn custom_sip_header(target: &str, value: &str) -> Result<(), FieldError> {
    check_pattern(target, value, MAX_NAME, &[], "a custom SIP header value")
}

/// Direct Routing subdomain label: 1–10 of `[A-Za-z0-9_-]`.
pub fn subdomain(target: &str, value: &str) -> Result<(), FieldError> {
    check_pattern(target, value, 10, &[], "a subdomain")
}

/// DNS TXT token from the customer's admin center: 1–100 of `[A-Za-z0-9=_-]`.
pub fn subdomain_token(target: &str, value: &str) -> Result<(), FieldError> {
    check_pattern(target, value, 100, &['='], "a subdomain token")
}

/// A GUID, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex.
pub fn tenant_id(target: &str, value: &str) -> Result<(), FieldError> {
    let groups: Vec<&str> = value.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    let ok = groups.len() == 5
        && groups.iter().zip(lens).all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(target, "a tenant id must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names() {
        assert!(account_name("name", "contoso_1-A").is_ok());
        assert!(account_name("name", "").is_err());
        assert!(account_name("name", &"a".repeat(100)).is_ok());
        assert!(account_name("name", &"a".repeat(101)).is_err());
        let e = account_name("name", "con toso").unwrap_err();
        assert_eq!(e.target, "name");
        assert!(account_name("name", "contoso.com").is_err());
        assert!(account_name("name", "contosö").is_err());
    }

    #[test]
    fn sip_headers_and_tokens() {
        assert!(custom_sip_header("h", "contoso-commsgw").is_ok());
        assert!(custom_sip_header("h", "a=b").is_err());
        assert!(custom_sip_header("h", &"x".repeat(101)).is_err());
        assert!(subdomain_token("t", "abc=_-").is_ok());
        assert!(subdomain("s", "elevenchars").is_err());
        assert!(subdomain("s", "contoso").is_ok());
    }

    #[test]
    fn tenant_ids() {
        assert!(tenant_id("t", "a7f4bd5c-2f0e-4f0b-9a3e-1c2d3e4f5a6b").is_ok());
        assert!(tenant_id("t", "a7f4bd5c2f0e4f0b9a3e1c2d3e4f5a6b").is_err());
        assert!(tenant_id("t", "g7f4bd5c-2f0e-4f0b-9a3e-1c2d3e4f5a6b").is_err());
    }
}
