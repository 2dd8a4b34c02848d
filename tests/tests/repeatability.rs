//! Repeatable writes on the real engine: a retry with the same Repeatability-Request-ID gets
//! the first response and changes nothing; a different request under the same id, or an id
//! past its 24-hour window, is rejected.

use lambda_http::http::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use switchboard_tests::{account_body, dr_number, full_account_body, token, Reply, Stack, ADMIN};

fn now_http() -> String {
    httpdate::fmt_http_date(SystemTime::now())
}

async fn send(s: &Stack, method: &str, path: &str, body: Option<Value>, id: &str, sent: &str) -> Reply {
    let t = token(ADMIN);
    s.send(method, path, Some(&t), body, &[("repeatability-request-id", id), ("repeatability-first-sent", sent)]).await
}

#[tokio::test]
async fn a_retried_write_gets_the_first_response_and_changes_nothing() {
    let s = Stack::start().await;
    let sent = now_http();
    let first = send(&s, "PUT", "/accounts/contoso", Some(full_account_body("contoso")), "req-1", &sent).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    assert_eq!(first.header("repeatability-result"), Some("accepted"));
    let again = send(&s, "PUT", "/accounts/contoso", Some(full_account_body("contoso")), "req-1", &sent).await;
    assert_eq!((again.status, again.header("repeatability-result")), (StatusCode::CREATED, Some("accepted")));
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("etag"), first.header("etag"));
    let now = s.admin("GET", "/accounts/contoso", None).await;
    assert_eq!(now.header("etag"), first.header("etag"), "the retry wrote nothing");

    // A batch: retried, the numbers are written once and counted once.
    let batch = json!({"numbers": [dr_number("contoso", "+442071230001"), dr_number("contoso", "+442071230002")]});
    let b1 = send(&s, "POST", "/accounts/contoso:createOrUpdateNumbers", Some(batch.clone()), "req-2", &sent).await;
    let b2 = send(&s, "POST", "/accounts/contoso:createOrUpdateNumbers", Some(batch), "req-2", &sent).await;
    assert_eq!((b1.status, b2.status), (StatusCode::OK, StatusCode::OK));
    assert_eq!(b1.body, b2.body);
    let a = s.admin("GET", "/accounts/contoso", None).await;
    assert_eq!(a.body["serviceDetails"]["teamsDirectRouting"]["numberCount"], 2);

    // A delete, retried, answers as the first time did instead of 404.
    let d1 = send(&s, "DELETE", "/accounts/contoso/numbers/+442071230001", None, "req-3", &sent).await;
    let d2 = send(&s, "DELETE", "/accounts/contoso/numbers/+442071230001", None, "req-3", &sent).await;
    assert_eq!((d1.status, d2.status), (StatusCode::NO_CONTENT, StatusCode::NO_CONTENT));
    assert_eq!(d2.header("repeatability-result"), Some("accepted"));
    let d3 = send(&s, "DELETE", "/accounts/contoso/numbers/+442071230001", None, "req-4", &sent).await;
    assert_eq!(d3.status, StatusCode::NOT_FOUND, "a new id is a new request");

    // A refused request is a first response too.
    let bad = json!({"name": "contoso", "serviceDetails": {}});
    let r1 = send(&s, "PUT", "/accounts/other", Some(bad.clone()), "req-5", &sent).await;
    let r2 = send(&s, "PUT", "/accounts/other", Some(bad), "req-5", &sent).await;
    assert_eq!((r1.status, r2.status), (StatusCode::BAD_REQUEST, StatusCode::BAD_REQUEST));
    assert_eq!(r1.body, r2.body);
}

#[tokio::test]
async fn the_same_id_on_another_request_or_past_its_window_is_rejected() {
    let s = Stack::start().await;
    let sent = now_http();
    let ok = send(&s, "PUT", "/accounts/contoso", Some(account_body("contoso")), "req-1", &sent).await;
    assert_eq!(ok.status, StatusCode::CREATED);
    let other = send(&s, "PUT", "/accounts/contoso", Some(full_account_body("contoso")), "req-1", &sent).await;
    assert_eq!((other.status, other.code()), (StatusCode::CONFLICT, "RepeatabilityRequestIdReused"));
    assert_eq!(other.header("repeatability-result"), Some("rejected"));
    let a = s.admin("GET", "/accounts/contoso", None).await;
    assert_eq!(a.header("etag"), ok.header("etag"), "the rejected request changed nothing");

    let old = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(25 * 3600));
    let late = send(&s, "PUT", "/accounts/late", Some(account_body("late")), "req-9", &old).await;
    assert_eq!(
        (late.status, late.code(), late.target()),
        (StatusCode::BAD_REQUEST, "RepeatabilityWindowExpired", "Repeatability-First-Sent")
    );
    assert_eq!(late.header("repeatability-result"), Some("rejected"));
    assert_eq!(s.admin("GET", "/accounts/late", None).await.status, StatusCode::NOT_FOUND);

    let t = token(ADMIN);
    let missing = s
        .send("PUT", "/accounts/x", Some(&t), Some(account_body("x")), &[("repeatability-request-id", "req-10")])
        .await;
    assert_eq!((missing.status, missing.target()), (StatusCode::BAD_REQUEST, "Repeatability-First-Sent"));
    let garbled = send(&s, "PUT", "/accounts/x", Some(account_body("x")), "req-11", "yesterday").await;
    assert_eq!((garbled.status, garbled.target()), (StatusCode::BAD_REQUEST, "Repeatability-First-Sent"));
    let bad_id = send(&s, "PUT", "/accounts/x", Some(account_body("x")), "has space", &sent).await;
    assert_eq!((bad_id.status, bad_id.target()), (StatusCode::BAD_REQUEST, "Repeatability-Request-ID"));
}

#[tokio::test]
async fn ids_are_per_caller_and_records_expire_after_a_day() {
    let s = Stack::start().await;
    let sent = now_http();
    let alice = switchboard_api::auth::mint_dev_token(switchboard_tests::TEST_KEY, "alice", ADMIN, 600).unwrap();
    let bob = switchboard_api::auth::mint_dev_token(switchboard_tests::TEST_KEY, "bob", ADMIN, 600).unwrap();
    let h = [("repeatability-request-id", "same-id"), ("repeatability-first-sent", sent.as_str())];
    let a = s.send("PUT", "/accounts/alices", Some(&alice), Some(account_body("alices")), &h).await;
    let b = s.send("PUT", "/accounts/bobs", Some(&bob), Some(account_body("bobs")), &h).await;
    assert_eq!((a.status, b.status), (StatusCode::CREATED, StatusCode::CREATED), "{:?}", b.body);

    // The record carries its TTL: DynamoDB removes it a day after the claim.
    let item = s
        .engine
        .client()
        .get_item()
        .table_name(&s.table)
        .set_key(Some(switchboard_store::keys::repeatable_request("switchboard-dev/alice", "same-id")))
        .send()
        .await
        .unwrap()
        .item
        .expect("the record");
    let expires: u64 = item["expiresAt"].as_n().unwrap().parse().unwrap();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert!((now + 24 * 3600 - 5..=now + 24 * 3600 + 5).contains(&expires), "{expires} vs {now}");
}

#[tokio::test]
async fn two_copies_at_once_write_once() {
    let s = Stack::start().await;
    let sent = now_http();
    assert!(s.admin("PUT", "/accounts/contoso", Some(full_account_body("contoso"))).await.status.is_success());
    let numbers: Vec<Value> = (0..100).map(|i| dr_number("contoso", &format!("+4420712{i:05}"))).collect();
    let batch = json!({ "numbers": numbers });
    let (a, b) = tokio::join!(
        send(&s, "POST", "/accounts/contoso:createOrUpdateNumbers", Some(batch.clone()), "dup", &sent),
        send(&s, "POST", "/accounts/contoso:createOrUpdateNumbers", Some(batch.clone()), "dup", &sent),
    );
    let statuses = [a.status, b.status];
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    for r in [&a, &b] {
        assert!(
            r.status == StatusCode::OK || (r.status == StatusCode::CONFLICT && r.code() == "RequestInProgress"),
            "{:?} {:?}",
            r.status,
            r.body
        );
    }
    let acct = s.admin("GET", "/accounts/contoso", None).await;
    assert_eq!(acct.body["serviceDetails"]["teamsDirectRouting"]["numberCount"], 100);
    // Once the first has finished, a retry gets its response.
    let c = send(&s, "POST", "/accounts/contoso:createOrUpdateNumbers", Some(batch), "dup", &sent).await;
    assert_eq!((c.status, c.header("repeatability-result")), (StatusCode::OK, Some("accepted")));
}
