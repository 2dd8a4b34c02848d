//! E.164 telephone numbers: `^\+[1-9]\d+$`, at most 16 characters, with a country calling code
//! that exists (libphonenumber's metadata, read when the crate is built: `build.rs`).

use crate::error::FieldError;

pub const MAX_LEN: usize = 16;

/// Validates `value` as an E.164 number as the API accepts it.
pub fn validate(target: &str, value: &str) -> Result<(), FieldError> {
    let err = |m: &str| Err(FieldError::new(target, m));
    if value.len() > MAX_LEN {
        return err("a telephone number must be at most 16 characters (E.164 with a leading '+')");
    }
    let Some(digits) = value.strip_prefix('+') else {
        return err("a telephone number must start with '+' and the country code (E.164)");
    };
    if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return err("a telephone number must be '+' followed by digits only (E.164)");
    }
    if digits.starts_with('0') {
        return err("a country calling code cannot start with 0");
    }
    if country_code(digits).is_none() {
        return err("the number does not start with a real country calling code");
    }
    Ok(())
}

include!(concat!(env!("OUT_DIR"), "/country_codes.rs"));

/// The country calling code a digit string starts with: codes are prefix-free, 1 to 3 digits.
pub fn country_code(digits: &str) -> Option<u16> {
    (1..=3.min(digits.len().saturating_sub(1))).find_map(|n| {
        let code: u16 = digits.get(..n)?.parse().ok()?;
        COUNTRY_CODES.binary_search(&code).ok().map(|_| code)
    })
}

/// The region (ISO 3166-1 alpha-2) libphonenumber places a number in, as the backend does; `None`
/// when it can't tell. Loads libphonenumber's metadata on first use (~80 ms, once).
pub fn region(tn: &str) -> Option<String> {
    let parsed = phonenumber::parse(None, tn).ok()?;
    parsed.country().id().map(|id| id.as_ref().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_numbers() {
        for n in ["+15105850321", "+442071838750", "+353123456", "+8613800138000", "+4915112345678"] {
            assert!(validate("telephoneNumber", n).is_ok(), "{n}");
        }
    }

    #[test]
    fn rejects_bad_shapes() {
        for n in ["15105850321", "+", "+1", "+0123456", "+1510 585", "+1510-585-0321", "", "+12345678901234567"] {
            let e = validate("telephoneNumber", n).unwrap_err();
            assert_eq!(e.target, "telephoneNumber");
        }
    }

    #[test]
    fn rejects_unassigned_country_codes() {
        // +999 and +80x/+28x are not assigned to any country.
        for n in ["+9991234567", "+2891234567", "+8091234567"] {
            assert!(validate("telephoneNumber", n).is_err(), "{n}");
        }
    }

    #[test]
    fn the_codes_are_libphonenumbers() {
        assert!(COUNTRY_CODES.len() > 200, "{}", COUNTRY_CODES.len());
        assert!(COUNTRY_CODES.windows(2).all(|w| w[0] < w[1]));
        for c in [1, 44, 353, 86, 49, 800, 882] {
            assert!(COUNTRY_CODES.contains(&c), "{c}");
        }
    }

    #[test]
    fn sixteen_characters_is_the_limit() {
        assert!(validate("t", "+441234567890123").is_ok());
        assert!(validate("t", "+4412345678901234").is_err());
    }
}
