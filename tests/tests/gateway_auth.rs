//! In AWS the HTTP API's JWT authorizer verifies the token and passes its claims in the request
//! context; the function (AUTH_MODE=gateway) reads roles from there. These requests are API
//! Gateway v2 events as Lambda receives them.

use serde_json::json;
use switchboard_api::auth::Authenticator;
use switchboard_api::{App, Op};
use switchboard_tests::Stack;

fn event(method: &str, path: &str, claims: Option<serde_json::Value>, body: Option<&str>) -> lambda_http::Request {
    let mut ctx = json!({
        "accountId": "123456789012", "apiId": "api", "domainName": "api.example.com", "domainPrefix": "api",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "bss"},
        "requestId": "req-1", "routeKey": format!("{method} {path}"), "stage": "$default", "time": "26/Nov/2026:10:00:00 +0000", "timeEpoch": 0
    });
    if let Some(c) = claims {
        ctx["authorizer"] = json!({"jwt": {"claims": c, "scopes": null}});
    }
    let mut e = json!({
        "version": "2.0", "routeKey": format!("{method} {path}"), "rawPath": path, "rawQueryString": "api-version=2024-02-29-preview",
        "headers": {"host": "api.example.com", "content-type": "application/json"},
        "queryStringParameters": {"api-version": "2024-02-29-preview"},
        "requestContext": ctx, "isBase64Encoded": false
    });
    if path.starts_with("/accounts/") {
        e["pathParameters"] = json!({"accountName": path.trim_start_matches("/accounts/")});
    }
    if let Some(b) = body {
        e["body"] = json!(b);
    }
    lambda_http::request::from_str(&e.to_string()).expect("a valid API Gateway v2 event")
}

#[tokio::test]
async fn roles_come_from_the_authorizer_claims() {
    let s = Stack::start().await;
    let app = App::new(s.repo().clone(), Authenticator::Gateway);
    let reader = json!({"sub": "bss-client", "roles": "[ProvisioningAPI.Read ProvisioningAPI.Delete]"});
    let r = app.handle(Op::AccountsList, event("GET", "/accounts", Some(reader.clone()), None)).await;
    assert_eq!(r.status(), 200);
    let body = serde_json::to_string(&switchboard_tests::account_body("contoso")).unwrap();
    let r = app.handle(Op::AccountsPut, event("PUT", "/accounts/contoso", Some(reader), Some(&body))).await;
    assert_eq!(r.status(), 403);
    let writer = json!({"sub": "bss-client", "roles": "ProvisioningAPI.Write"});
    let r = app.handle(Op::AccountsPut, event("PUT", "/accounts/contoso", Some(writer), Some(&body))).await;
    assert_eq!(r.status(), 201);
    assert!(r.headers().contains_key("x-ms-request-id"));
    let r = app.handle(Op::AccountsList, event("GET", "/accounts", None, None)).await;
    assert_eq!(r.status(), 401, "no authorizer claims: refuse");
}
