//! The filter parser never panics on any input, for either listing's fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_domain::{filter, number};

fuzz_target!(|input: &str| {
    let _ = filter::parse(input, number::FILTER_FIELDS);
    let _ = filter::parse(input, switchboard_domain::rfi::FILTER_FIELDS);
});
