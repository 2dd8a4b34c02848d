//! The role matrix: every operation × every role, plus no token and bad tokens.

use serde_json::{json, Value};
use switchboard_api::auth::{Permission, ROLES};
use switchboard_tests::*;

struct Case {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    body: Option<Value>,
    needs: Permission,
}

fn cases() -> Vec<Case> {
    use Permission::*;
    let tn = "+442071234567";
    vec![
        Case { name: "list accounts", method: "GET", path: "/accounts", body: None, needs: Read },
        Case { name: "get account", method: "GET", path: "/accounts/contoso", body: None, needs: Read },
        Case {
            name: "put account",
            method: "PUT",
            path: "/accounts/contoso",
            body: Some(full_account_body("contoso")),
            needs: Write,
        },
        Case { name: "delete account", method: "DELETE", path: "/accounts/gone", body: None, needs: Delete },
        Case { name: "list numbers", method: "GET", path: "/accounts/contoso/numbers", body: None, needs: Read },
        Case { name: "list all numbers", method: "GET", path: "/numbers", body: None, needs: Read },
        Case {
            name: "get number",
            method: "GET",
            path: "/accounts/contoso/numbers/+442071234567",
            body: None,
            needs: Read,
        },
        Case {
            name: "put number",
            method: "PUT",
            path: "/accounts/contoso/numbers/+442071234567",
            body: Some(dr_number("contoso", tn)),
            needs: Write,
        },
        Case {
            name: "delete number",
            method: "DELETE",
            path: "/accounts/contoso/numbers/+442071234599",
            body: None,
            needs: Delete,
        },
        Case {
            name: "batch upsert",
            method: "POST",
            path: "/accounts/contoso:createOrUpdateNumbers",
            body: Some(json!({"numbers":[dr_number("contoso", "+442071234568")]})),
            needs: Write,
        },
        Case {
            name: "batch delete",
            method: "POST",
            path: "/accounts/contoso:deleteNumbers",
            body: Some(json!({"numbers":[{"telephoneNumber":"+442071234598"}]})),
            needs: Delete,
        },
    ]
}

#[tokio::test]
async fn every_operation_for_every_role() {
    let s = Stack::start().await;
    s.admin("PUT", "/accounts/contoso", Some(full_account_body("contoso"))).await;
    s.admin("PUT", "/accounts/contoso/numbers/+442071234567", Some(dr_number("contoso", "+442071234567"))).await;
    let mut checked = 0;
    for role in ROLES {
        let t = token(&[role]);
        for c in cases() {
            let r = s.send(c.method, c.path, Some(&t), c.body.clone(), &[]).await;
            let allowed = switchboard_api::auth::grants(role, c.needs);
            if allowed {
                assert!(r.status.is_success() || r.status == 404, "{role} on {}: {} {:?}", c.name, r.status, r.body);
            } else {
                assert_eq!((r.status.as_u16(), r.code()), (403, "Forbidden"), "{role} on {}", c.name);
            }
            checked += 1;
        }
    }
    assert_eq!(checked, ROLES.len() * 11);
    // A token with several roles gets the union.
    let r = s
        .send(
            "PUT",
            "/accounts/contoso",
            Some(&token(&["ProvisioningAPI.ReadUser", "ProvisioningAPI.WriteUser"])),
            Some(full_account_body("contoso")),
            &[],
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn no_token_and_bad_tokens_are_401() {
    let s = Stack::start().await;
    let wrong_key = switchboard_api::auth::mint_dev_token(b"another-key", "x", ADMIN, 600).unwrap();
    for c in cases() {
        let r = s.send(c.method, c.path, None, c.body.clone(), &[]).await;
        assert_eq!(r.status, 401, "no token on {}", c.name);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        for bad in ["not-a-jwt", wrong_key.as_str()] {
            let r = s.send(c.method, c.path, Some(bad), c.body.clone(), &[]).await;
            assert_eq!((r.status.as_u16(), r.code()), (401, "Unauthorized"), "bad token on {}", c.name);
        }
    }
    // An expired token (well past the 30 s leeway) is refused.
    let past = {
        use switchboard_api::auth::{Claims, DEV_AUDIENCE, DEV_ISSUER};
        let c = Claims {
            sub: "x".into(),
            appid: None,
            roles: vec!["ProvisioningAPI.Admin".into()],
            iss: DEV_ISSUER.into(),
            aud: DEV_AUDIENCE.into(),
            exp: 1_000_000,
            nbf: None,
            iat: None,
        };
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), &c, &jsonwebtoken::EncodingKey::from_secret(TEST_KEY))
            .unwrap()
    };
    assert_eq!(s.send("GET", "/accounts", Some(&past), None, &[]).await.status, 401);
    let r = s
        .send_raw(
            "GET",
            "/accounts?api-version=2024-02-29-preview",
            None,
            None,
            &[("authorization", "Basic Zm9vOmJhcg==")],
        )
        .await;
    assert_eq!(r.status, 401);
}
