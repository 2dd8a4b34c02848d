//! Request-body decoding (the function every API handler uses) never panics; a body that
//! decodes goes through the rules (and, for a relationship patch, is applied) without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_domain::rfi::{apply_patch, RequestForInformation};
use switchboard_domain::{decode, Account, Number};

fuzz_target!(|input: &[u8]| {
    if let Ok(n) = decode::json::<Number>(input) {
        let _ = n.validate("contoso", None);
        serde_json::to_vec(&n).expect("encode");
    }
    if let Ok(a) = decode::json::<Account>(input) {
        let _ = a.validate("contoso");
        serde_json::to_vec(&a).expect("encode");
    }
    if let Ok(patch) = decode::json::<serde_json::Value>(input) {
        let mut rfi: RequestForInformation =
            serde_json::from_str(r#"{"tenantId":"a7f4bd5c-2f0e-4f0b-9a3e-1c2d3e4f5a6b"}"#).expect("rfi");
        let _ = apply_patch(&mut rfi, &patch);
    }
});
