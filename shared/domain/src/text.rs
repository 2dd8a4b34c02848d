//! Free text a client may send: how long each field may be, and which characters never belong
//! in it. Checked before anything reaches the database, so an oversized or hostile value is a
//! 400 naming its field, never a database error. The same limits are the OpenAPI document's
//! `maxLength` (the `#[schemars(length(max = …))]` attributes name these constants).

use crate::error::FieldError;

/// `correlationId` of an account: ACG sends a GUID; we allow any id a BSS may use.
pub const MAX_CORRELATION_ID: usize = 128;
/// `civicAddressId` / `locationId` of a number, and the `{civicAddressId}` path parameter.
pub const MAX_ADDRESS_ID: usize = 128;
/// `displayedCountryCode` of a number (a country calling code or ISO code).
pub const MAX_COUNTRY_CODE: usize = 8;
/// `customerRelationship.comment` of a request for information.
pub const MAX_COMMENT: usize = 1024;
/// `customerRelationship.ticketId`: our extension.
pub const MAX_TICKET_ID: usize = 64;
/// Account names and custom SIP headers.
pub const MAX_NAME: usize = 100;
/// Tenant ids are GUIDs.
pub const MAX_TENANT_ID: usize = 36;

/// True for characters no free-text field may hold: C0 controls and DEL (they break CSV, logs
/// and terminals) and the bidirectional overrides and isolates (they make text read differently
/// from what it is, "Trojan Source").
pub fn is_forbidden(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Checks a free-text value: at most `max` characters, none of them forbidden.
pub fn check(target: &str, value: &str, max: usize) -> Result<(), FieldError> {
    let len = value.chars().count();
    if len > max {
        return Err(FieldError::new(target, format!("at most {max} characters are allowed; this value has {len}")));
    }
    if let Some((i, c)) = value.chars().enumerate().find(|(_, c)| is_forbidden(*c)) {
        return Err(FieldError::new(
            target,
            format!(
                "control and bidirectional-override characters are not allowed; found U+{:04X} at character {}",
                c as u32,
                i + 1
            ),
        ));
    }
    Ok(())
}

/// As [`check`], for an optional field.
pub fn check_opt(target: &str, value: Option<&str>, max: usize) -> Result<(), FieldError> {
    value.map_or(Ok(()), |v| check(target, v, max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_characters() {
        assert!(check("f", "abc", 3).is_ok());
        assert!(check("f", "ábc", 3).is_ok(), "characters, not bytes");
        assert_eq!(check("f", "abcd", 3).unwrap_err().target, "f");
        for bad in ["a\u{0}b", "tab\there", "cr\r", "del\u{7f}", "\u{202e}evil", "x\u{2066}"] {
            assert!(check("f", bad, 100).is_err(), "{bad:?}");
        }
        assert!(check("f", "Zürich – Bahnhofstrasse 1", 100).is_ok());
        assert!(check_opt("f", None, 0).is_ok());
    }
}
