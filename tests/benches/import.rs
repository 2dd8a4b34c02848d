//! `scripts/bench`: CSV import of 10,000 numbers, each figure beside the raw-write floor — the
//! same 10,000 items written with BatchWriteItem (25 per request, unprocessed items retried) on
//! the same engine in the same run. Writes the figures to BENCHMARKS.md.
//!
//! - handler: `POST /accounts/{a}:importNumbers` through the API handler in this process
//!   (release build), three rounds on fresh tables, alternating with the floor; medians.
//! - HTTP: the same request over real HTTP through `cargo lambda watch` (the local stack's debug
//!   build of the functions).
//! - portal: the same file uploaded in headless Chromium through the portal's File upload page.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use switchboard_api::API_VERSION;
use switchboard_domain::number_csv;
use switchboard_store::batch::write_all;
use switchboard_store::item::number_item;
use switchboard_tests::browser::Browser;
use switchboard_tests::e2e::Gateway;
use switchboard_tests::{full_account_body, token, Stack, ADMIN};

const ROWS: u64 = 10_000;
const ROUNDS: usize = 3;

fn csv(start: u64) -> String {
    switchboard_tests::csv_rows(start, ROWS)
}

async fn floor(s: &Stack, body: &str) -> Duration {
    let table = format!("floor-{}", uuid::Uuid::new_v4().simple());
    let client = s.engine.client();
    switchboard_devtools::schema::ensure_table(&client, &table).await.expect("table");
    let requests: Vec<WriteRequest> = number_csv::parse("contoso", body.as_bytes())
        .expect("csv")
        .into_iter()
        .map(|r| {
            let item = number_item(&r.number, "etag").expect("item");
            WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(item)).build().unwrap()).build()
        })
        .collect();
    let t = Instant::now();
    write_all(&client, &table, requests).await.expect("batch write");
    t.elapsed()
}

async fn handler(body: &str) -> (Duration, Duration) {
    let s = Stack::start().await;
    let r = s.admin("PUT", "/accounts/contoso", Some(full_account_body("contoso"))).await;
    assert!(r.status.is_success());
    let floor = floor(&s, body).await;
    let t = Instant::now();
    let r = s
        .send_raw(
            "POST",
            &format!("/accounts/contoso:importNumbers?api-version={API_VERSION}"),
            Some(&token(ADMIN)),
            Some(body),
            &[("content-type", "text/csv")],
        )
        .await;
    let took = t.elapsed();
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["imported"], ROWS);
    (floor, took)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let body = csv(0);
    let (mut floors, mut imports) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (f, i) = handler(&body).await;
        eprintln!("round {round}: floor {} import {}", secs(f), secs(i));
        floors.push(f);
        imports.push(i);
    }
    let (floor, import) = (median(floors), median(imports));

    // The local stack: over HTTP, then through the portal.
    let gw = Gateway::start("switchboard-bench", &[]).await;
    let c = &gw.client;
    for name in ["viahttp", "viaportal"] {
        let (status, _, body) = c.call("PUT", &format!("/accounts/{name}"), Some(full_account_body(name))).await;
        assert!(status < 300, "{body}");
    }
    let http_body = csv(100_000);
    let t = Instant::now();
    let resp = c
        .http
        .post(format!("{}/accounts/viahttp:importNumbers?api-version={API_VERSION}", c.base))
        .bearer_auth(&c.token)
        .header("content-type", "text/csv")
        .body(http_body)
        .send()
        .await
        .expect("import over HTTP");
    let http = t.elapsed();
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);

    let file = std::env::temp_dir().join("switchboard-bench-10000.csv");
    std::fs::write(&file, csv(200_000)).unwrap();
    let mut b = Browser::start("bench").await;
    b.goto(&format!("{}/portal/#/signin", c.base)).await;
    b.ready("signin").await;
    b.select("signin-role", "ProvisioningAPI.AdminUser").await;
    b.click("signin-submit").await;
    b.el("user-roles").await;
    b.goto(&format!("{}/portal/#/accounts/viaportal/numbers/upload", c.base)).await;
    b.ready("number-upload").await;
    b.el("csv-file").await.send_keys(file.to_str().unwrap()).await.unwrap();
    let t = Instant::now();
    b.click("csv-submit").await;
    loop {
        let text = b.text_of("csv-result").await.unwrap_or_default();
        if text.contains(&ROWS.to_string()) {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(600), "portal upload never finished: {text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let portal = t.elapsed();
    b.shot("upload-10000-done").await;
    b.close().await;
    let (_, headers, _) = c.call("GET", "/accounts/viaportal/numbers?countRecords=true&maxpagesize=1", None).await;
    assert_eq!(headers["x-ms-record-count"], ROWS.to_string().as_str());

    let ratio = |d: Duration| d.as_secs_f64() / floor.as_secs_f64();
    let section = format!(
        "## CSV import of 10,000 numbers\n\n\
Reproduce: `scripts/bench` (`cargo bench -p switchboard-tests --bench import`). Engine: the embedded \
dynoxide engine over loopback HTTP, in-memory. Floor: the same 10,000 number items written raw with \
BatchWriteItem (25 per request, unprocessed items retried), on the same engine, in the same run.\n\n\
| Path | Time | × floor |\n|---|---|---|\n\
| Floor: raw BatchWriteItem, 10,000 items (median of {ROUNDS}) | {} | 1.00 |\n\
| `:importNumbers` through the API handler, release build (median of {ROUNDS}) | {} | {:.2} |\n\
| `:importNumbers` over HTTP through `cargo lambda watch` (debug functions) | {} | {:.2} |\n\
| File upload in the portal, headless Chromium, click to result shown | {} | {:.2} |\n\n\
The import does more than the floor by design: it reads every number first (BatchGetItem, 100 keys a \
request) to check ownership, writes conditional transactions of 98 numbers plus the account's counters \
plus a journal item with the previous items (so a failure rolls back), and claims and releases the \
account's import slot.\n",
        secs(floor),
        secs(import),
        ratio(import),
        secs(http),
        ratio(http),
        secs(portal),
        ratio(portal),
    );
    let path = switchboard_tests::e2e::root().join("BENCHMARKS.md");
    let existing = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n\n".into());
    let updated = replace_section(&existing, "## CSV import of 10,000 numbers", &section);
    std::fs::write(&path, updated).unwrap();
    println!("{section}");
}

/// Replaces the section starting with `heading` (up to the next `## `), or appends it.
fn replace_section(doc: &str, heading: &str, section: &str) -> String {
    match doc.find(heading) {
        Some(start) => {
            let rest = &doc[start + heading.len()..];
            let end = rest.find("\n## ").map(|i| start + heading.len() + i + 1).unwrap_or(doc.len());
            format!("{}{}{}", &doc[..start], section, &doc[end..])
        }
        None => format!("{}\n\n{section}", doc.trim_end()),
    }
}
