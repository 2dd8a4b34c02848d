//! Forged and stale tokens get 401, never a role: expired, not yet valid, wrong issuer or
//! audience, `alg: none`, another key, a tampered payload, an algorithm swap.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use switchboard_api::auth::{DEV_AUDIENCE, DEV_ISSUER};
use switchboard_tests::{token, Stack, ADMIN, TEST_KEY};

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn claims() -> Value {
    json!({"sub": "mallory", "roles": ["ProvisioningAPI.Admin"], "iss": DEV_ISSUER, "aud": DEV_AUDIENCE,
           "exp": now() + 600, "nbf": now() - 5, "iat": now()})
}

fn signed(alg: Algorithm, claims: &Value, key: &[u8]) -> String {
    encode(&Header::new(alg), claims, &EncodingKey::from_secret(key)).unwrap()
}

fn with(field: &str, value: Value) -> Value {
    let mut c = claims();
    c[field] = value;
    c
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test]
async fn every_forged_or_stale_token_is_401() {
    let s = Stack::start().await;
    let good = token(ADMIN);
    assert_eq!(s.send("GET", "/accounts", Some(&good), None, &[]).await.status, 200, "the control");

    let mut parts = good.split('.');
    let (header, _payload, signature) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
    let tampered = format!("{header}.{}.{signature}", b64(&with("sub", json!("someone-else"))));
    let none = format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), b64(&claims()));
    let none_upper = format!("{}.{}.", b64(&json!({"alg": "None", "typ": "JWT"})), b64(&claims()));

    let cases: Vec<(&str, String)> = vec![
        ("expired", signed(Algorithm::HS256, &with("exp", json!(now() - 3600)), TEST_KEY)),
        ("not yet valid", signed(Algorithm::HS256, &with("nbf", json!(now() + 3600)), TEST_KEY)),
        ("wrong issuer", signed(Algorithm::HS256, &with("iss", json!("https://evil.example")), TEST_KEY)),
        ("wrong audience", signed(Algorithm::HS256, &with("aud", json!("api://someone-else")), TEST_KEY)),
        (
            "no expiry",
            signed(
                Algorithm::HS256,
                &{
                    let mut c = claims();
                    c.as_object_mut().unwrap().remove("exp");
                    c
                },
                TEST_KEY,
            ),
        ),
        ("alg none", none),
        ("alg None", none_upper),
        ("another key", signed(Algorithm::HS256, &claims(), b"not-the-key")),
        ("tampered payload", tampered),
        ("algorithm swap (HS512)", signed(Algorithm::HS512, &claims(), TEST_KEY)),
        ("signature stripped", format!("{header}.{_payload}.")),
        ("garbage", "a.b.c".into()),
    ];
    for (name, t) in cases {
        for (method, path, body) in [
            ("GET", "/accounts", None),
            ("PUT", "/accounts/forged", Some(switchboard_tests::account_body("forged"))),
            ("DELETE", "/accounts/forged", None),
        ] {
            let r = s.send(method, path, Some(&t), body, &[]).await;
            assert_eq!((r.status.as_u16(), r.code()), (401, "Unauthorized"), "{name}: {method} {path}");
            assert_eq!(r.header("www-authenticate"), Some("Bearer"), "{name}");
        }
    }
    assert_eq!(s.admin("GET", "/accounts/forged", None).await.status, 404, "no forged write landed");
}
