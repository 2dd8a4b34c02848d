//! The role matrix: every operation × every role, plus no token and bad tokens.

use serde_json::{json, Value};
use switchboard_api::auth::ROLES;
use switchboard_api::API_VERSION;
use switchboard_tests::flow::{Flow, TENANT};
use switchboard_tests::*;

struct Case {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    body: Option<Value>,
}

/// The oracle, written from SPEC §3 (Read = GET and the read-only POST actions, Write =
/// PUT/PATCH/create actions, Delete = DELETE/delete actions, Admin = all; the portal's `…User`
/// roles grant the same; Sync now, an extension, is the Admin roles' alone), not from the code
/// under test. Columns: Admin, Read, Write, Delete,
/// AdminUser, ReadUser, WriteUser, DeleteUser.
const ORACLE: &[(&str, &str)] = &[
    ("list accounts", "YYNNYYNN"),
    ("get account", "YYNNYYNN"),
    ("put account", "YNYNYNYN"),
    ("delete account", "YNNYYNNY"),
    ("list numbers", "YYNNYYNN"),
    ("list all numbers", "YYNNYYNN"),
    ("get number", "YYNNYYNN"),
    ("put number", "YNYNYNYN"),
    ("delete number", "YNNYYNNY"),
    ("export numbers", "YYNNYYNN"),
    ("batch upsert", "YNYNYNYN"),
    ("batch delete", "YNNYYNNY"),
    ("import numbers", "YNYNYNYN"),
    ("capability plans", "YYNNYYNN"),
    ("available capabilities", "YYNNYYNN"),
    ("validate numbers", "YYNNYYNN"),
    ("list requests for information", "YYNNYYNN"),
    ("get request for information", "YYNNYYNN"),
    ("patch request for information", "YNYNYNYN"),
    ("list civic addresses", "YYNNYYNN"),
    ("get civic address", "YYNNYYNN"),
    ("list sync runs", "YYNNYYNN"),
    ("start a sync run", "YNNNYNNN"),
    ("list tenants' sync status", "YYNNYYNN"),
    ("list audit events", "YYNNYYNN"),
];

const ROLE_COLUMNS: [&str; 8] = [
    "ProvisioningAPI.Admin",
    "ProvisioningAPI.Read",
    "ProvisioningAPI.Write",
    "ProvisioningAPI.Delete",
    "ProvisioningAPI.AdminUser",
    "ProvisioningAPI.ReadUser",
    "ProvisioningAPI.WriteUser",
    "ProvisioningAPI.DeleteUser",
];

fn cases() -> Vec<Case> {
    let tn = "+442071234567";
    let rel = json!({"customerRelationship": {"status": "CustomerContacted"}});
    let c = |name, method, path, body| Case { name, method, path, body };
    vec![
        c("list accounts", "GET", "/accounts", None),
        c("get account", "GET", "/accounts/contoso", None),
        c("put account", "PUT", "/accounts/contoso", Some(full_account_body("contoso"))),
        c("delete account", "DELETE", "/accounts/gone", None),
        c("list numbers", "GET", "/accounts/contoso/numbers", None),
        c("list all numbers", "GET", "/numbers", None),
        c("get number", "GET", "/accounts/contoso/numbers/+442071234567", None),
        c("put number", "PUT", "/accounts/contoso/numbers/+442071234567", Some(dr_number("contoso", tn))),
        c("delete number", "DELETE", "/accounts/contoso/numbers/+442071234599", None),
        c("export numbers", "GET", "/accounts/contoso/numbers:export", None),
        c(
            "batch upsert",
            "POST",
            "/accounts/contoso:createOrUpdateNumbers",
            Some(json!({"numbers":[dr_number("contoso", "+442071234568")]})),
        ),
        c(
            "batch delete",
            "POST",
            "/accounts/contoso:deleteNumbers",
            Some(json!({"numbers":[{"telephoneNumber":"+442071234598"}]})),
        ),
        c("import numbers", "POST", "/accounts/contoso:importNumbers", None),
        c("capability plans", "POST", "/accounts/contoso:getTeamsCapabilityPlans", None),
        c(
            "available capabilities",
            "POST",
            "/accounts/contoso:getTeamsAvailableCapabilities",
            Some(json!({"numbers":[{"telephoneNumber": tn}]})),
        ),
        c(
            "validate numbers",
            "POST",
            "/accounts/contoso:validateNumbers",
            Some(json!({"numbers":[{"telephoneNumber": tn}]})),
        ),
        c("list requests for information", "GET", "/teamsRequestsForInformation", None),
        c(
            "get request for information",
            "GET",
            "/teamsRequestsForInformation/a7f4bd5c-2f0e-4f0b-9a3e-1c2d3e4f5a6b",
            None,
        ),
        c(
            "patch request for information",
            "PATCH",
            "/teamsRequestsForInformation/a7f4bd5c-2f0e-4f0b-9a3e-1c2d3e4f5a6b",
            Some(rel),
        ),
        c("list civic addresses", "GET", "/accounts/contoso/teamsCivicAddresses", None),
        c("get civic address", "GET", "/accounts/contoso/teamsCivicAddresses/ca-1", None),
        c("list sync runs", "GET", "/syncRuns", None),
        c("start a sync run", "POST", "/syncRuns", None),
        c("list tenants' sync status", "GET", "/syncTenants", None),
        c("list audit events", "GET", "/auditEvents?accountName=contoso", None),
    ]
}

/// Sends one case as `token` (the CSV import and the merge patch with their own media types).
async fn send(s: &Stack, c: &Case, token: Option<&str>) -> Reply {
    match c.name {
        "import numbers" => {
            let path = format!("{}?api-version={API_VERSION}", c.path);
            let csv = "telephoneNumber,serviceDetails_teamsDirectRouting_enabled\n+442071234577,true\n";
            s.send_raw(c.method, &path, token, Some(csv), &[("content-type", "text/csv")]).await
        }
        "patch request for information" => {
            s.send(c.method, c.path, token, c.body.clone(), &[("content-type", "application/merge-patch+json")]).await
        }
        _ => s.send(c.method, c.path, token, c.body.clone(), &[]).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_for_every_role() {
    let flow = Flow::start(switchboard_emulator::Config::default()).await;
    flow.consent(TENANT, &["GB", "US"]).await;
    flow.sync().await;
    let s = &flow.stack;
    s.setup("PUT", "/accounts/contoso", Some(full_account_body("contoso"))).await;
    s.setup("PUT", "/accounts/contoso/numbers/+442071234567", Some(dr_number("contoso", "+442071234567"))).await;
    // The oracle names exactly the cases, and the cases reach every operation of the API.
    let names: Vec<&str> = cases().iter().map(|c| c.name).collect();
    assert_eq!(names, ORACLE.iter().map(|(n, _)| *n).collect::<Vec<_>>());
    assert_eq!(ROLES, ROLE_COLUMNS, "the roles the API knows are the roles SPEC names");
    let mut failures = Vec::new();
    for (c, (_, allowed)) in cases().iter().zip(ORACLE) {
        for (role, yes) in ROLE_COLUMNS.iter().zip(allowed.chars()) {
            let r = send(s, c, Some(&token(&[role]))).await;
            let status = r.status.as_u16();
            let ok = match yes {
                // Allowed: whatever the operation answers, but not a refusal of the caller and
                // never a server error.
                'Y' => !matches!(status, 401 | 403) && status < 500,
                _ => status == 403 && r.code() == "Forbidden",
            };
            if !ok {
                failures.push(format!("{role} on {}: expected {yes}, got {status} {}", c.name, r.body));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
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
        let r = send(&s, &c, None).await;
        assert_eq!(r.status, 401, "no token on {}", c.name);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        for bad in ["not-a-jwt", wrong_key.as_str()] {
            let r = send(&s, &c, Some(bad)).await;
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
