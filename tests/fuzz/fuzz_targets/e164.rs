//! The E.164 rule never panics, and what it accepts is `+`, a real country code and digits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_domain::telephone;

fuzz_target!(|input: &str| {
    if telephone::validate("telephoneNumber", input).is_ok() {
        let digits = input.strip_prefix('+').expect("accepted numbers start with +");
        assert!(digits.bytes().all(|b| b.is_ascii_digit()), "accepted a non-digit: {input:?}");
        assert!(input.len() <= 16, "accepted more than 16 characters: {input:?}");
        assert!(telephone::country_code(digits).is_some(), "accepted an unknown country code: {input:?}");
    }
});
