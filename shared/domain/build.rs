//! The country calling codes that exist, taken from libphonenumber's metadata when the crate is
//! built. Loading that metadata at run time (all regions, their patterns) took ~80 ms of a
//! function's cold start, to answer a question whose answer is a list of ~215 numbers.

use std::fmt::Write;

fn main() {
    let codes: Vec<u16> = (1..=999).filter(|c| phonenumber::metadata::DATABASE.by_code(c).is_some()).collect();
    let mut out = String::from(
        "/// Country calling codes in libphonenumber's metadata, ascending.\npub const COUNTRY_CODES: &[u16] = &[",
    );
    for c in &codes {
        let _ = write!(out, "{c},");
    }
    out.push_str("];\n");
    let path = std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("country_codes.rs");
    std::fs::write(path, out).expect("write country_codes.rs");
    println!("cargo::rerun-if-changed=build.rs");
}
