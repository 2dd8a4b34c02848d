//! Concurrent writers on the real engine: ownership and counts hold.

use futures::future::join_all;
use serde_json::json;
use std::sync::Arc;
use switchboard_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_accounts_claim_the_same_number_and_exactly_one_wins() {
    let s = Arc::new(Stack::start().await);
    s.setup("PUT", "/accounts/a", Some(full_account_body("a"))).await;
    s.setup("PUT", "/accounts/b", Some(full_account_body("b"))).await;
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
    s.setup("PUT", "/accounts/a", Some(full_account_body("a"))).await;
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

/// The number's custom SIP header used as a counter: `c<n>`.
fn counter_of(r: &Reply) -> u64 {
    r.body["configuration"]["customSipHeader"].as_str().unwrap().trim_start_matches('c').parse().unwrap()
}

fn with_counter(tn: &str, n: u64) -> serde_json::Value {
    let mut body = dr_number("a", tn);
    body["configuration"] = json!({ "customSipHeader": format!("c{n}") });
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_writers_with_stale_etags_lose_no_update() {
    let s = Arc::new(Stack::start().await);
    s.setup("PUT", "/accounts/a", Some(full_account_body("a"))).await;
    let tn = "+442071009999";
    let path = format!("/accounts/a/numbers/{tn}");
    let first = s.admin("PUT", &path, Some(with_counter(tn, 0))).await;
    assert_eq!(first.status, 201);
    let stale = first.header("etag").unwrap().to_string();

    // Fifty writers with the same (soon stale) tag: exactly one wins, the rest get 412.
    let t = token(ADMIN);
    let attempts =
        join_all(
            (1..=50u64).map(|i| {
                let (s, path, stale, t) = (s.clone(), path.clone(), stale.clone(), t.clone());
                async move {
                    s.send("PUT", &path, Some(&t), Some(with_counter(tn, 1000 + i)), &[("if-match", &stale)]).await
                }
            }),
        )
        .await;
    let won = attempts.iter().filter(|r| r.status == 200).count();
    let refused = attempts.iter().filter(|r| r.status == 412).count();
    assert_eq!((won, refused), (1, 49));

    // Fifty read-modify-write loops on one counter, each retrying on 412: none is lost.
    s.setup("PUT", &path, Some(with_counter(tn, 0))).await;
    join_all((0..50).map(|_| {
        let (s, path, t) = (s.clone(), path.clone(), t.clone());
        async move {
            for _ in 0..500 {
                let cur = s.send("GET", &path, Some(&t), None, &[]).await;
                let etag = cur.header("etag").unwrap().to_string();
                let next = with_counter(tn, counter_of(&cur) + 1);
                let r = s.send("PUT", &path, Some(&t), Some(next), &[("if-match", &etag)]).await;
                match r.status.as_u16() {
                    200 => return,
                    412 => continue,
                    other => panic!("unexpected {other}: {:?}", r.body),
                }
            }
            panic!("a writer never got its turn");
        }
    }))
    .await;
    assert_eq!(counter_of(&s.admin("GET", &path, None).await), 50, "every increment landed exactly once");
    let a = s.admin("GET", "/accounts/a", None).await;
    assert_eq!(a.body["serviceDetails"]["teamsDirectRouting"]["numberCount"], 1);
}
