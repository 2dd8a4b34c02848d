//! DynamoDB failing under us (throttling, internal errors, injected by a proxy in front of the
//! embedded engine): the API answers 503 or 429 with Retry-After, never 500/502, and leaves no
//! partial state. An invariant checker then confirms that counts, ownership and the audit trail
//! agree with the numbers stored.

use lambda_http::http::StatusCode;
use serde_json::{json, Value};
use std::collections::HashMap;

use switchboard_tests::faults::Faults;
use switchboard_tests::{csv_rows, dr_number, full_account_body, invariants, Reply, Stack};

fn assert_unavailable(r: &Reply, what: &str) {
    assert!(
        r.status == StatusCode::SERVICE_UNAVAILABLE || r.status == StatusCode::TOO_MANY_REQUESTS,
        "{what}: {} {:?}",
        r.status,
        r.body
    );
    assert!(r.header("retry-after").is_some(), "{what}: no Retry-After");
}

#[tokio::test]
async fn throttled_and_failing_writes_are_503_with_nothing_written() {
    let (s, proxy) = Stack::start_with_faults(7).await;
    assert!(s.admin("PUT", "/accounts/contoso", Some(full_account_body("contoso"))).await.status.is_success());
    let events_before = s.all("/auditEvents?accountName=contoso").await.len();

    for server_errors in [false, true] {
        proxy.set(Faults { rate: 1.0, operations: vec!["TransactWriteItems".into()], server_errors });
        let r = s
            .admin("PUT", "/accounts/contoso/numbers/+442071230001", Some(dr_number("contoso", "+442071230001")))
            .await;
        assert_unavailable(&r, "number PUT");
        let batch = json!({"numbers": [dr_number("contoso", "+442071230002"), dr_number("contoso", "+442071230003")]});
        assert_unavailable(&s.admin("POST", "/accounts/contoso:createOrUpdateNumbers", Some(batch)).await, "batch");
        assert_unavailable(&s.import_csv("contoso", &csv_rows(0, 250)).await, "import");
        assert_unavailable(
            &s.admin("PUT", "/accounts/contoso", Some(full_account_body("contoso"))).await,
            "account PUT",
        );
        proxy.set(Faults::default());
        assert_eq!(
            s.admin("GET", "/accounts/contoso/numbers?countRecords=true", None).await.header("x-ms-record-count"),
            Some("0"),
            "nothing was written"
        );
        assert_eq!(s.all("/auditEvents?accountName=contoso").await.len(), events_before, "no event either");
    }
    // Reads under throttling: 503 too, with Retry-After.
    proxy.set(Faults { rate: 1.0, operations: vec!["GetItem".into()], server_errors: false });
    assert_unavailable(&s.admin("GET", "/accounts/contoso", None).await, "GET");
    proxy.set(Faults::default());
    // The import slot was released: the same file goes through now.
    assert_eq!(s.import_csv("contoso", &csv_rows(0, 250)).await.status, StatusCode::OK);
    invariants::check(&s, &["contoso"]).await;
    let (injected, _) = proxy.counts();
    assert!(injected > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_faults_never_leave_a_broken_state() {
    let (s, proxy) = Stack::start_with_faults(42).await;
    let accounts = ["alpha", "beta"];
    for a in accounts {
        assert!(s.admin("PUT", &format!("/accounts/{a}"), Some(full_account_body(a))).await.status.is_success());
    }
    proxy.set(Faults { rate: 0.25, operations: vec![], server_errors: false });
    let pool: Vec<String> = (0..60).map(|i| format!("+4420799{i:05}")).collect();
    let mut rng = fastrand::Rng::with_seed(3);
    let mut statuses: HashMap<u16, usize> = HashMap::new();
    for round in 0..80 {
        let a = accounts[rng.usize(..accounts.len())];
        let tn = &pool[rng.usize(..pool.len())];
        let r = match round % 5 {
            0 | 1 => s.admin("PUT", &format!("/accounts/{a}/numbers/{tn}"), Some(dr_number(a, tn))).await,
            2 => s.admin("DELETE", &format!("/accounts/{a}/numbers/{tn}"), None).await,
            3 => {
                let start = rng.usize(..50);
                let batch: Vec<Value> = pool[start..start + 10].iter().map(|t| dr_number(a, t)).collect();
                s.admin("POST", &format!("/accounts/{a}:createOrUpdateNumbers"), Some(json!({ "numbers": batch })))
                    .await
            }
            _ => {
                let ids: Vec<Value> =
                    pool.iter().skip(rng.usize(..50)).take(8).map(|t| json!({"telephoneNumber": t})).collect();
                s.admin("POST", &format!("/accounts/{a}:deleteNumbers"), Some(json!({ "numbers": ids }))).await
            }
        };
        let code = r.status.as_u16();
        assert!(
            matches!(code, 200 | 201 | 204 | 404 | 409 | 503 | 429),
            "round {round}: unexpected {code} {:?}",
            r.body
        );
        if code == 503 || code == 429 {
            assert!(r.header("retry-after").is_some(), "round {round}: no Retry-After");
        }
        *statuses.entry(code).or_default() += 1;
    }
    // Imports under faults too: each either lands whole or not at all.
    for (i, a) in accounts.iter().enumerate() {
        let r = s.import_csv(a, &csv_rows(900_000 + i as u64 * 1000, 300)).await;
        assert!(matches!(r.status.as_u16(), 200 | 503 | 429), "{:?}", r.body);
    }
    proxy.set(Faults::default());
    // A dead import's slot is recovered by the sync's sweep; here, none may be left half-done.
    s.repo().recover_imports(std::time::Duration::ZERO).await.unwrap();
    for (i, a) in accounts.iter().enumerate() {
        let listed = s.all(&format!("/accounts/{a}/numbers?maxpagesize=100")).await;
        let imported = listed
            .iter()
            .filter(|n| n["telephoneNumber"].as_str().unwrap().starts_with(&format!("+442070{}", 900 + i)))
            .count();
        assert!(imported == 0 || imported == 300, "{a}: a partial import is visible ({imported} of 300)");
    }
    invariants::check(&s, &accounts).await;
    let (injected, passed) = proxy.counts();
    assert!(
        injected > 20 && passed > 100,
        "faults really happened: {injected} injected, {passed} passed; {statuses:?}"
    );
}
