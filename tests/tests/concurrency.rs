//! Concurrent writers on the real engine: ownership and counts hold.

use futures::future::join_all;
use serde_json::json;
use std::sync::Arc;
use switchboard_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_accounts_claim_the_same_number_and_exactly_one_wins() {
    let s = Arc::new(Stack::start().await);
    s.admin("PUT", "/accounts/a", Some(full_account_body("a"))).await;
    s.admin("PUT", "/accounts/b", Some(full_account_body("b"))).await;
    for round in 0..20u64 {
        let tn = format!("+44207100{round:04}");
        let (ra, rb) = tokio::join!(
            {
                let s = s.clone();
                let tn = tn.clone();
                async move { s.admin("PUT", &format!("/accounts/a/numbers/{tn}"), Some(dr_number("a", &tn))).await }
            },
            {
                let s = s.clone();
                let tn = tn.clone();
                async move { s.admin("PUT", &format!("/accounts/b/numbers/{tn}"), Some(dr_number("b", &tn))).await }
            }
        );
        let wins = [&ra, &rb].iter().filter(|r| r.status == 201).count();
        let losses = [&ra, &rb].iter().filter(|r| r.status == 409 && r.code() == "NumberOwnedByAnotherAccount").count();
        assert_eq!((wins, losses), (1, 1), "round {round}: {:?} / {:?}", ra.body, rb.body);
    }
    let count = |acct: &'static str| {
        let s = s.clone();
        async move {
            s.admin("GET", &format!("/accounts/{acct}"), None).await.body["serviceDetails"]["teamsDirectRouting"]
                ["numberCount"]
                .as_i64()
                .unwrap()
        }
    };
    let (a, b) = (count("a").await, count("b").await);
    assert_eq!(a + b, 20);
    let listed = |acct: &'static str| {
        let s = s.clone();
        async move {
            s.admin("GET", &format!("/accounts/{acct}/numbers"), None).await.body["value"].as_array().unwrap().len()
                as i64
        }
    };
    assert_eq!((listed("a").await, listed("b").await), (a, b), "counts match what each account owns");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overlapping_batches_keep_counts_exact() {
    let s = Arc::new(Stack::start().await);
    s.admin("PUT", "/accounts/a", Some(full_account_body("a"))).await;
    // Eight writers send overlapping batches of the same 60 numbers, alternating services.
    let writers = (0..8).map(|w| {
        let s = s.clone();
        async move {
            let numbers: Vec<_> = uk_numbers(0, 60)
                .iter()
                .map(|tn| if w % 2 == 0 { dr_number("a", tn) } else { json!({"telephoneNumber": tn, "accountName": "a", "serviceDetails": {"zoomPhoneCloudPeering": {"enabled": true}}}) })
                .collect();
            s.admin("POST", "/accounts/a:createOrUpdateNumbers", Some(json!({"numbers": numbers}))).await.status.as_u16()
        }
    });
    let statuses = join_all(writers).await;
    assert!(statuses.iter().all(|s| *s == 200 || *s == 503), "{statuses:?}");
    let acct = s.admin("GET", "/accounts/a", None).await.body;
    let dr = acct["serviceDetails"]["teamsDirectRouting"]["numberCount"].as_i64().unwrap();
    let zoom = acct["serviceDetails"]["zoomPhoneCloudPeering"]["numberCount"].as_i64().unwrap();
    let listed_dr = s
        .admin(
            "GET",
            "/accounts/a/numbers?filter=serviceDetails/teamsDirectRouting/enabled%20eq%20true&countRecords=true",
            None,
        )
        .await;
    let listed_zoom = s
        .admin(
            "GET",
            "/accounts/a/numbers?filter=serviceDetails/zoomPhoneCloudPeering/enabled%20eq%20true&countRecords=true",
            None,
        )
        .await;
    assert_eq!(dr + zoom, 60);
    assert_eq!(listed_dr.header("x-ms-record-count"), Some(dr.to_string().as_str()));
    assert_eq!(listed_zoom.header("x-ms-record-count"), Some(zoom.to_string().as_str()));
}
