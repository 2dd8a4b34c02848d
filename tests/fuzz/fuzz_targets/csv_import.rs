//! The CSV importer never panics, and a file it accepts exports and re-imports to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_domain::number_csv;

fuzz_target!(|input: &[u8]| {
    if let Ok(rows) = number_csv::parse("contoso", input) {
        let first = number_csv::write(rows.iter().map(|r| &r.number)).expect("write");
        let again = number_csv::parse("contoso", &first).expect("an export re-imports");
        let second = number_csv::write(again.iter().map(|r| &r.number)).expect("write");
        assert_eq!(first, second, "export → import → export changed the bytes");
    }
});
