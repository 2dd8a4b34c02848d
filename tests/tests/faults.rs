//! DynamoDB failing under us (throttling, internal errors, injected by a proxy in front of the
//! embedded engine): the API answers 503 or 429 with Retry-After, never 500/502, and leaves no
//! partial state. An invariant checker then confirms that counts, ownership and the audit trail
//! agree with the numbers stored.

use lambda_http::http::StatusCode;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};

use switchboard_tests::faults::Faults;
use switchboard_tests::{csv_rows, dr_number, full_account_body, Reply, Stack};

const SERVICES: [&str; 5] = [
    "teamsOperatorConnect",
    "teamsPhoneMobile",
    "teamsDirectRouting",
    "zoomPhoneCloudPeering",
    "azureOperatorCallProtection",
];

fn assert_unavailable(r: &Reply, what: &str) {
    assert!(
        r.status == StatusCode::SERVICE_UNAVAILABLE || r.status == StatusCode::TOO_MANY_REQUESTS,
        "{what}: {} {:?}",
        r.status,
        r.body
    );
    assert!(r.header("retry-after").is_some(), "{what}: no Retry-After");
}

async fn all_pages(s: &Stack, first: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut path = first.to_string();
    loop {
        let r = s.admin("GET", &path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {:?}", r.body);
        out.extend(r.body["value"].as_array().unwrap().iter().cloned());
        match r.body["nextLink"].as_str() {
            Some(link) => path = link.trim_start_matches("http://localhost").to_string(),
            None => return out,
        }
    }
}

/// Counts, ownership and the audit trail agree with what is stored.
async fn check_invariants(s: &Stack, accounts: &[&str]) {
    let mut owner: HashMap<String, String> = HashMap::new();
    for a in accounts {
        let acct = s.admin("GET", &format!("/accounts/{a}"), None).await;
        assert_eq!(acct.status, StatusCode::OK);
        let numbers = all_pages(s, &format!("/accounts/{a}/numbers?maxpagesize=100")).await;
        for svc in SERVICES {
            let stored = numbers.iter().filter(|n| n["serviceDetails"][svc]["enabled"] == true).count() as i64;
            let counted = acct.body["serviceDetails"][svc]["numberCount"].as_i64().unwrap_or(0);
            assert_eq!(counted, stored, "{a}: numberCount of {svc}");
        }
        for n in &numbers {
            let tn = n["telephoneNumber"].as_str().unwrap().to_string();
            assert_eq!(n["accountName"], *a);
            assert!(owner.insert(tn.clone(), a.to_string()).is_none(), "{tn} listed under two accounts");
        }
        // The trail: per number, creations less deletions is 1 exactly when the account holds it.
        let events = all_pages(s, &format!("/auditEvents?accountName={a}&maxpagesize=100")).await;
        let mut balance: HashMap<String, i64> = HashMap::new();
        for e in &events {
            for ent in e["entities"].as_array().unwrap().iter().filter(|x| x["kind"] == "number") {
                let id = ent["id"].as_str().unwrap().to_string();
                let tn_change = ent["changes"].as_array().unwrap().iter().find(|c| c["field"] == "telephoneNumber");
                if let Some(c) = tn_change {
                    let delta = match (c.get("before").is_some(), c.get("after").is_some()) {
                        (false, true) => 1,
                        (true, false) => -1,
                        _ => 0,
                    };
                    *balance.entry(id).or_default() += delta;
                }
            }
        }
        let held: HashSet<&String> = owner.iter().filter(|(_, o)| *o == a).map(|(tn, _)| tn).collect();
        for (tn, b) in &balance {
            let expected = i64::from(held.contains(tn));
            assert_eq!(*b, expected, "{a}: the trail says {tn} has balance {b}");
        }
        for tn in held {
            assert!(balance.contains_key(tn), "{a}: {tn} is stored without an audit event");
        }
    }
}

#[tokio::test]
async fn throttled_and_failing_writes_are_503_with_nothing_written() {
    let (s, proxy) = Stack::start_with_faults(7).await;
    assert!(s.admin("PUT", "/accounts/contoso", Some(full_account_body("contoso"))).await.status.is_success());
    let events_before = all_pages(&s, "/auditEvents?accountName=contoso").await.len();

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
        assert_eq!(all_pages(&s, "/auditEvents?accountName=contoso").await.len(), events_before, "no event either");
    }
    // Reads under throttling: 503 too, with Retry-After.
    proxy.set(Faults { rate: 1.0, operations: vec!["GetItem".into()], server_errors: false });
    assert_unavailable(&s.admin("GET", "/accounts/contoso", None).await, "GET");
    proxy.set(Faults::default());
    // The import slot was released: the same file goes through now.
    assert_eq!(s.import_csv("contoso", &csv_rows(0, 250)).await.status, StatusCode::OK);
    check_invariants(&s, &["contoso"]).await;
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
        let listed = all_pages(&s, &format!("/accounts/{a}/numbers?maxpagesize=100")).await;
        let imported = listed
            .iter()
            .filter(|n| n["telephoneNumber"].as_str().unwrap().starts_with(&format!("+442070{}", 900 + i)))
            .count();
        assert!(imported == 0 || imported == 300, "{a}: a partial import is visible ({imported} of 300)");
    }
    check_invariants(&s, &accounts).await;
    let (injected, passed) = proxy.counts();
    assert!(
        injected > 20 && passed > 100,
        "faults really happened: {injected} injected, {passed} passed; {statuses:?}"
    );
}
