//! Accounts through the real handlers on the real engine.

use serde_json::json;
use switchboard_tests::*;

#[tokio::test]
async fn acg_account_example_is_accepted_unchanged() {
    let s = Stack::start().await;
    let r = s.admin("PUT", "/accounts/contoso", Some(account_body("contoso"))).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["serviceProvisioningStatus"], "pending");
    assert_eq!(r.body["serviceDetails"]["teamsOperatorConnect"]["numberCount"], 0);
    let etag = r.header("etag").unwrap().to_string();
    let g = s.admin("GET", "/accounts/contoso", None).await;
    assert_eq!(g.status, 200);
    assert_eq!(g.header("etag"), Some(etag.as_str()));
    assert_eq!(g.body["correlationId"], "c7aa0070-2e35-4c1b-9a7f-e45e3e8a0b3e");
    let again = s.admin("PUT", "/accounts/contoso", Some(account_body("contoso"))).await;
    assert_eq!(again.status, 200);
    assert_ne!(again.header("etag"), Some(etag.as_str()));
}

#[tokio::test]
async fn account_name_rules() {
    let s = Stack::start().await;
    let r = s.admin("PUT", "/accounts/bad.name", Some(account_body("bad.name"))).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "accountName"));
    let long = "a".repeat(101);
    let r = s.admin("PUT", &format!("/accounts/{long}"), Some(account_body(&long))).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "accountName"));
    let r = s.admin("PUT", "/accounts/contoso", Some(account_body("fabrikam"))).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "name"));
    assert_eq!(r.header("x-ms-error-code"), Some("InvalidInput"));
}

#[tokio::test]
async fn bad_bodies_are_400s_naming_the_field() {
    let s = Stack::start().await;
    let t = token(ADMIN);
    let r = s
        .send_raw(
            "PUT",
            "/accounts/a?api-version=2024-02-29-preview",
            Some(&t),
            Some("{\"name\":"),
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!((r.status.as_u16(), r.target(), r.code()), (400, "body", "InvalidJson"));
    let r = s
        .send_raw(
            "PUT",
            "/accounts/a?api-version=2024-02-29-preview",
            Some(&t),
            Some("{\"name\":\"a\"}"),
            &[("content-type", "text/plain")],
        )
        .await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "Content-Type"));
    let r =
        s.send_raw("PUT", "/accounts/a?api-version=2024-02-29-preview", Some(&t), Some("{\"name\":\"a\"}"), &[]).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "Content-Type"));
    let body = json!({"name":"a","serviceDetails":{"teamsOperatorConnect":{"enabled":true}}});
    let r = s.admin("PUT", "/accounts/a", Some(body)).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "serviceDetails.teamsOperatorConnect.syncEnabled"));
    let body = json!({"name":"a","serviceDetails":{"teamsDirectRouting":{"enabled":true,"syncEnabled":false,"subdomainStatus":"sideways"}}});
    let r = s.admin("PUT", "/accounts/a", Some(body)).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "serviceDetails.teamsDirectRouting.subdomainStatus"));
    let body = json!({"name":"a","serviceDetails":{"teamsTenantId":"not-a-guid"}});
    let r = s.admin("PUT", "/accounts/a", Some(body)).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "serviceDetails.teamsTenantId"));
    let r = s
        .send_raw(
            "PUT",
            "/accounts/a?api-version=2024-02-29-preview",
            Some(&t),
            Some("[]"),
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body["error"]["message"].is_string());
}

#[tokio::test]
async fn api_version_is_required_and_checked() {
    let s = Stack::start().await;
    let t = token(ADMIN);
    let r = s.send_raw("GET", "/accounts", Some(&t), None, &[]).await;
    assert_eq!((r.status.as_u16(), r.target(), r.code()), (400, "api-version", "MissingApiVersionParameter"));
    let r = s.send_raw("GET", "/accounts?api-version=2023-10-01", Some(&t), None, &[]).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "api-version"));
}

#[tokio::test]
async fn client_request_id_is_echoed_and_request_id_set() {
    let s = Stack::start().await;
    let r = s
        .send(
            "GET",
            "/accounts",
            Some(&token(ADMIN)),
            None,
            &[("x-ms-client-request-id", "9b1c2a70-0000-4000-8000-000000000001")],
        )
        .await;
    assert_eq!(r.header("x-ms-client-request-id"), Some("9b1c2a70-0000-4000-8000-000000000001"));
    assert!(r.header("x-ms-request-id").is_some_and(|v| !v.is_empty()));
    let e = s.send("GET", "/accounts/nope", Some(&token(ADMIN)), None, &[("x-ms-client-request-id", "abc")]).await;
    assert_eq!(e.status, 404);
    assert_eq!(e.header("x-ms-client-request-id"), Some("abc"));
}

#[tokio::test]
async fn etags_and_preconditions() {
    let s = Stack::start().await;
    let t = token(ADMIN);
    let r = s.send("PUT", "/accounts/c", Some(&t), Some(account_body("c")), &[("if-match", "\"nope\"")]).await;
    assert_eq!(r.status, 412, "If-Match on a missing resource");
    let r = s.send("PUT", "/accounts/c", Some(&t), Some(account_body("c")), &[("if-none-match", "*")]).await;
    assert_eq!(r.status, 201);
    let etag = r.header("etag").unwrap().to_string();
    let r = s.send("PUT", "/accounts/c", Some(&t), Some(account_body("c")), &[("if-none-match", "*")]).await;
    assert_eq!((r.status.as_u16(), r.code()), (412, "PreconditionFailed"));
    let r = s.send("PUT", "/accounts/c", Some(&t), Some(account_body("c")), &[("if-match", "\"stale\"")]).await;
    assert_eq!(r.status, 412);
    let r = s.send("GET", "/accounts/c", Some(&t), None, &[("if-none-match", &etag)]).await;
    assert_eq!(r.status, 304);
    let r = s.send("GET", "/accounts/c", Some(&t), None, &[("if-match", "\"stale\"")]).await;
    assert_eq!(r.status, 412);
    let r = s.send("PUT", "/accounts/c", Some(&t), Some(account_body("c")), &[("if-match", &etag)]).await;
    assert_eq!(r.status, 200);
    let r = s.send("DELETE", "/accounts/c", Some(&t), None, &[("if-match", &etag)]).await;
    assert_eq!(r.status, 412, "the old tag no longer matches");
    let fresh = r.header("etag").map(str::to_string);
    assert!(fresh.is_none());
    let cur = s.admin("GET", "/accounts/c", None).await.header("etag").unwrap().to_string();
    let r = s.send("DELETE", "/accounts/c", Some(&t), None, &[("if-match", &cur)]).await;
    assert_eq!(r.status, 204);
    assert_eq!(s.admin("GET", "/accounts/c", None).await.status, 404);
}

#[tokio::test]
async fn tenant_id_is_frozen_once_teams_numbers_exist() {
    let s = Stack::start().await;
    s.setup("PUT", "/accounts/c", Some(full_account_body("c"))).await;
    let mut other_tenant = full_account_body("c");
    other_tenant["serviceDetails"]["teamsTenantId"] = json!("11111111-2222-3333-4444-555555555555");
    // Without OC/TPM numbers (a DR number doesn't count) the tenant may change.
    assert_eq!(
        s.admin("PUT", "/accounts/c/numbers/+442071234567", Some(dr_number("c", "+442071234567"))).await.status,
        201
    );
    assert_eq!(s.admin("PUT", "/accounts/c", Some(other_tenant.clone())).await.status, 200);
    assert_eq!(s.admin("PUT", "/accounts/c", Some(full_account_body("c"))).await.status, 200);
    let r = s.admin("PUT", "/accounts/c/numbers/+15105850321", Some(number_body("c", "+15105850321"))).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let r = s.admin("PUT", "/accounts/c", Some(other_tenant.clone())).await;
    assert_eq!((r.status.as_u16(), r.target(), r.code()), (409, "serviceDetails.teamsTenantId", "TeamsTenantIdFrozen"));
    let mut no_tenant = full_account_body("c");
    no_tenant["serviceDetails"].as_object_mut().unwrap().remove("teamsTenantId");
    assert_eq!(s.admin("PUT", "/accounts/c", Some(no_tenant)).await.status, 409);
    // The same tenant is fine, and once the number goes the tenant is free again.
    assert_eq!(s.admin("PUT", "/accounts/c", Some(full_account_body("c"))).await.status, 200);
    assert_eq!(s.admin("DELETE", "/accounts/c/numbers/+15105850321", None).await.status, 204);
    assert_eq!(s.admin("PUT", "/accounts/c", Some(other_tenant)).await.status, 200);
}

#[tokio::test]
async fn a_service_in_use_cannot_be_switched_off() {
    let s = Stack::start().await;
    s.setup("PUT", "/accounts/c", Some(full_account_body("c"))).await;
    s.setup("PUT", "/accounts/c/numbers/+442071234567", Some(dr_number("c", "+442071234567"))).await;
    let mut off = full_account_body("c");
    off["serviceDetails"]["teamsDirectRouting"]["enabled"] = json!(false);
    let r = s.admin("PUT", "/accounts/c", Some(off)).await;
    assert_eq!((r.status.as_u16(), r.target()), (409, "serviceDetails.teamsDirectRouting.enabled"));
}

#[tokio::test]
async fn deleting_an_account_with_numbers_needs_delete_numbers() {
    let s = Stack::start().await;
    s.setup("PUT", "/accounts/c", Some(full_account_body("c"))).await;
    let numbers: Vec<_> = uk_numbers(1000, 150).iter().map(|tn| dr_number("c", tn)).collect();
    for chunk in numbers.chunks(100) {
        let r = s.admin("POST", "/accounts/c:createOrUpdateNumbers", Some(json!({"numbers": chunk}))).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let r = s.admin("DELETE", "/accounts/c", None).await;
    assert_eq!((r.status.as_u16(), r.code(), r.target()), (409, "AccountHasNumbers", "deleteNumbers"));
    assert_eq!(
        s.admin("GET", "/accounts/c/numbers?countRecords=true&maxpagesize=1", None).await.header("x-ms-record-count"),
        Some("150")
    );
    let r = s.admin("DELETE", "/accounts/c?deleteNumbers=maybe", None).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "deleteNumbers"));
    let r = s.admin("DELETE", "/accounts/c?deleteNumbers=true", None).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    assert_eq!(s.admin("GET", "/accounts/c", None).await.status, 404);
    assert_eq!(s.admin("GET", "/numbers?countRecords=true", None).await.header("x-ms-record-count"), Some("0"));
    // The numbers are free for another account now.
    s.setup("PUT", "/accounts/d", Some(full_account_body("d"))).await;
    let tn = &uk_numbers(1000, 1)[0];
    assert_eq!(s.admin("PUT", &format!("/accounts/d/numbers/{tn}"), Some(dr_number("d", tn))).await.status, 201);
    assert_eq!(s.admin("DELETE", "/accounts/nope", None).await.status, 404);
}

#[tokio::test]
async fn list_accounts_with_filter_and_count() {
    let s = Stack::start().await;
    for n in ["alpha", "beta", "bravo"] {
        s.setup("PUT", &format!("/accounts/{n}"), Some(account_body(n))).await;
    }
    s.setup("PUT", "/accounts/zulu", Some(full_account_body("zulu"))).await;
    let r = s.admin("GET", "/accounts?countRecords=true", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-ms-record-count"), Some("4"));
    let names: Vec<_> =
        r.body["value"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["alpha", "beta", "bravo", "zulu"]);
    let r = s.admin("GET", "/accounts?filter=startswith(name,'b')&countRecords=true", None).await;
    assert_eq!(r.header("x-ms-record-count"), Some("2"));
    assert_eq!(r.body["value"].as_array().unwrap().len(), 2);
    let r = s.admin("GET", "/accounts?filter=serviceDetails/teamsPhoneMobile/enabled%20eq%20true", None).await;
    assert_eq!(r.body["value"][0]["name"], "zulu");
    let r = s.admin("GET", "/accounts?filter=name%20gt%20'a'", None).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "filter"));
    let r = s.admin("GET", "/accounts?filter=secret%20eq%20'a'", None).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "filter"));
}
