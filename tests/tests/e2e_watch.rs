//! End to end over real HTTP: the embedded engine on a loopback port, every function served by
//! `cargo lambda watch` through the router in Cargo.toml, and a client speaking plain HTTP.
//!
//! Needs cargo-lambda: `CARGO_LAMBDA` (path to the binary) or the repo's `.venv/bin/cargo-lambda`
//! that `scripts/test` installs. Without it this test fails rather than skips.

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use switchboard_tests::e2e::{Gateway, V};
use switchboard_tests::{dr_number, full_account_body, uk_numbers};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_walkthrough_over_real_http() {
    let gw = Gateway::start("switchboard-e2e", &[]).await;
    let c = &gw.client;

    // No token: 401 in the error envelope.
    let resp = c.http.get(format!("{}/accounts?{V}", c.base)).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()["x-ms-error-code"], "Unauthorized");

    let (status, headers, body) = c.call("PUT", "/accounts/contoso", Some(full_account_body("contoso"))).await;
    assert_eq!(status, 201, "{body}");
    assert!(headers.contains_key("etag"));
    assert_eq!(headers["x-ms-client-request-id"], "e2e-1");

    let all = uk_numbers(0, 150);
    for chunk in all.chunks(100) {
        let numbers: Vec<Value> = chunk.iter().map(|tn| dr_number("contoso", tn)).collect();
        let (status, _, body) =
            c.call("POST", "/accounts/contoso:createOrUpdateNumbers", Some(json!({"numbers": numbers}))).await;
        assert_eq!(status, 200, "{body}");
    }

    // Page through with nextLink, as a client would.
    let mut seen = Vec::new();
    let (status, headers, mut page) =
        c.call("GET", "/accounts/contoso/numbers?maxpagesize=100&countRecords=true", None).await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-ms-record-count"], "150");
    loop {
        seen.extend(
            page["value"].as_array().unwrap().iter().map(|n| n["telephoneNumber"].as_str().unwrap().to_string()),
        );
        let Some(next) = page["nextLink"].as_str().map(str::to_string) else {
            break;
        };
        assert!(next.starts_with(&c.base), "{next}");
        page = c.call_url("GET", &next, None).await.2;
    }
    assert_eq!(seen, all);

    let (status, _, n) = c.call("GET", "/accounts/contoso/numbers/%2B442070000007", None).await;
    assert_eq!((status, n["telephoneNumber"].as_str()), (200, Some("+442070000007")));
    let (status, _, err) =
        c.call("PUT", "/accounts/contoso/numbers/+99912345", Some(dr_number("contoso", "+99912345"))).await;
    assert_eq!((status, err["error"]["target"].as_str()), (400, Some("telephoneNumber")));

    let ids: Vec<Value> = all[..50].iter().map(|tn| json!({"telephoneNumber": tn})).collect();
    assert_eq!(c.call("POST", "/accounts/contoso:deleteNumbers", Some(json!({"numbers": ids}))).await.0, 204);
    let (_, _, acct) = c.call("GET", "/accounts/contoso", None).await;
    assert_eq!(acct["serviceDetails"]["teamsDirectRouting"]["numberCount"], 100);

    assert_eq!(c.call("DELETE", "/accounts/contoso", None).await.0, 409);
    assert_eq!(c.call("DELETE", "/accounts/contoso?deleteNumbers=true", None).await.0, 204);
    assert_eq!(c.call("GET", "/accounts/contoso", None).await.0, 404);
    let (_, headers, _) = c.call("GET", "/numbers?countRecords=true", None).await;
    assert_eq!(headers["x-ms-record-count"], "0");
}

/// A caller that gives up while its function is still answering must not take the function
/// down. cargo lambda watch 1.9.2 answered the function's late response with a 500 and closed the
/// connection without reading the response body; the function's runtime client had pooled that
/// connection, sent its next `/next` on it, died on `IncompleteMessage`, and the watch never
/// started it again, so every later request to it hung. `scripts/bootstrap` installs the watch
/// with that fixed (tests/cargo-lambda-watch).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_that_give_up_leave_the_function_running() {
    const ABANDONED: u64 = 60;
    let gw = Gateway::start("switchboard-giveup", &[]).await;
    let c = &gw.client;
    let (status, _, body) = c.call("PUT", "/accounts/big", Some(full_account_body("big"))).await;
    assert_eq!(status, 201, "{body}");
    // 1,000 numbers make the export an answer of about a hundred kilobytes that takes a while.
    for chunk in uk_numbers(0, 1000).chunks(100) {
        let numbers: Vec<Value> = chunk.iter().map(|tn| dr_number("big", tn)).collect();
        let (status, _, body) =
            c.call("POST", "/accounts/big:createOrUpdateNumbers", Some(json!({"numbers": numbers}))).await;
        assert_eq!(status, 200, "{body}");
    }
    let url = format!("{}/accounts/big/numbers:export?{V}", c.base);
    // How long one export takes on this engine, on this machine, now.
    let url = &url;
    let export = |timeout: Duration| {
        let client = reqwest::Client::builder().timeout(timeout).build().expect("client");
        async move {
            let resp = client.get(url).bearer_auth(&c.token).send().await.expect("the export function answers");
            assert_eq!(resp.status(), 200);
            assert_eq!(resp.text().await.expect("body").lines().count(), 1001);
        }
    };
    let started = Instant::now();
    export(Duration::from_secs(120)).await;
    let one = started.elapsed();
    for i in 0..ABANDONED {
        // Gives up somewhere between the request and the end of the answer.
        let impatient =
            reqwest::Client::builder().timeout(Duration::from_millis(20 + (i * 37) % 400)).build().expect("client");
        let _ = impatient.get(url).bearer_auth(&c.token).send().await.and_then(|r| r.error_for_status());
    }
    // The function still answers. The watch still runs every abandoned invocation, so the answer
    // comes after them: the deadline allows each of them three times what one export took (a
    // slow engine or a busy machine makes every export slow alike), while a dead function never
    // answers at all.
    export(Duration::from_secs(60).max(one * 3 * (ABANDONED as u32 + 1))).await;
}
