//! Paging over more than 500 numbers with nextLink, top, skip and maxpagesize.

use serde_json::{json, Value};
use switchboard_tests::*;

/// Follows nextLink from `first` to the end; returns every telephone number and the page sizes.
async fn follow(s: &Stack, first: &str) -> (Vec<String>, Vec<usize>) {
    let pages = s.pages(first.trim_start_matches("http://localhost")).await;
    let sizes = pages.iter().map(|p| p.body["value"].as_array().map_or(0, Vec::len)).collect();
    let numbers = pages
        .iter()
        .flat_map(|p| p.body["value"].as_array().cloned().unwrap_or_default())
        .map(|n| n["telephoneNumber"].as_str().unwrap_or_default().to_string())
        .collect();
    (numbers, sizes)
}

async fn stack_with_numbers(n: u64) -> Stack {
    let s = Stack::start().await;
    s.setup("PUT", "/accounts/big", Some(full_account_body("big"))).await;
    let all = uk_numbers(0, n);
    for chunk in all.chunks(100) {
        let numbers: Vec<Value> = chunk.iter().map(|tn| dr_number("big", tn)).collect();
        assert_eq!(
            s.admin("POST", "/accounts/big:createOrUpdateNumbers", Some(json!({"numbers": numbers}))).await.status,
            200
        );
    }
    s
}

#[tokio::test]
async fn pages_through_1234_numbers() {
    let s = stack_with_numbers(1234).await;
    let expected = uk_numbers(0, 1234);
    let (got, pages) = follow(&s, "/accounts/big/numbers?api-version=2024-02-29-preview").await;
    assert_eq!(pages, [200, 200, 200, 200, 200, 200, 34], "default page size is 200");
    assert_eq!(got, expected);
    let (got, pages) = follow(&s, "/accounts/big/numbers?api-version=2024-02-29-preview&maxpagesize=500").await;
    assert_eq!(pages, [500, 500, 234]);
    assert_eq!(got, expected);
    let (got, pages) = follow(&s, "/numbers?api-version=2024-02-29-preview&maxpagesize=500").await;
    assert_eq!((got.len(), pages.len()), (1234, 3));
    let r = s.admin("GET", "/accounts/big/numbers?maxpagesize=501", None).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "maxpagesize"));
    let r = s.admin("GET", "/accounts/big/numbers?maxpagesize=0", None).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "maxpagesize"));
}

#[tokio::test]
async fn top_skip_count_and_tokens() {
    let s = stack_with_numbers(620).await;
    let expected = uk_numbers(0, 620);
    let (got, pages) = follow(&s, "/accounts/big/numbers?api-version=2024-02-29-preview&top=450&maxpagesize=200").await;
    assert_eq!(pages, [200, 200, 50]);
    assert_eq!(got, expected[..450]);
    let (got, pages) = follow(&s, "/accounts/big/numbers?api-version=2024-02-29-preview&maxpagesize=310").await;
    assert_eq!((got.len(), pages), (620, vec![310, 310]), "no empty page after the last");
    let (got, _) = follow(&s, "/accounts/big/numbers?api-version=2024-02-29-preview&skip=610").await;
    assert_eq!(got, expected[610..]);
    let (got, pages) = follow(&s, "/accounts/big/numbers?api-version=2024-02-29-preview&top=0").await;
    assert_eq!((got.len(), pages), (0, vec![0]));
    let r = s.admin("GET", "/accounts/big/numbers?countRecords=true&top=5", None).await;
    assert_eq!(r.header("x-ms-record-count"), Some("620"));
    // A filtered listing pages over matches only.
    let filtered = "/accounts/big/numbers?api-version=2024-02-29-preview&maxpagesize=7&filter=startswith(telephoneNumber,'%2B44207000000')";
    let (got, pages) = follow(&s, filtered).await;
    assert_eq!(got, expected[..10]);
    assert_eq!(pages, [7, 3]);
    // A search pages over its matches too, with no empty page after an exact last one, and skip
    // passes over matches.
    let searched = "/accounts/big/numbers?api-version=2024-02-29-preview&maxpagesize=50&search=%2B44%20207%20000%2000";
    let (got, pages) = follow(&s, searched).await;
    assert_eq!((got.as_slice(), pages), (&expected[..100], vec![50, 50]));
    let (got, _) = follow(&s, &format!("{searched}&skip=60")).await;
    assert_eq!(got, expected[60..100]);
    // A token from one listing does not continue another, and garbage is a 400.
    let first = s.admin("GET", "/accounts/big/numbers", None).await;
    let link = first.body["nextLink"].as_str().unwrap();
    let token_param = link.split("skipToken=").nth(1).unwrap();
    let r = s.admin("GET", &format!("/numbers?skipToken={token_param}"), None).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "skipToken"));
    let r = s.admin("GET", "/accounts/big/numbers?skipToken=garbage", None).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "skipToken"));
    for (p, v) in [("top", "-1"), ("skip", "x"), ("countRecords", "yes")] {
        let r = s.admin("GET", &format!("/accounts/big/numbers?{p}={v}"), None).await;
        assert_eq!((r.status.as_u16(), r.target()), (400, p));
    }
}

/// `GET /numbers` reads the 16 shards of the all-numbers index and merges them: every number of
/// every account exactly once, in number order, whatever the page size, with skip, top, a filter
/// and a count; numbers indexed before the sharding are listed from the old partition until the
/// sync has moved them to their shard.
#[tokio::test]
async fn the_sharded_index_pages_through_every_number_exactly_once() {
    let s = stack_with_numbers(1234).await;
    s.setup("PUT", "/accounts/small", Some(full_account_body("small"))).await;
    let small: Vec<String> = (0..40).map(|i| format!("+1510585{i:04}")).collect();
    let numbers: Vec<Value> = small.iter().map(|tn| dr_number("small", tn)).collect();
    assert_eq!(
        s.admin("POST", "/accounts/small:createOrUpdateNumbers", Some(json!({"numbers": numbers}))).await.status,
        200
    );
    let mut expected = uk_numbers(0, 1234);
    expected.extend(small.iter().cloned());
    expected.sort();

    // The numbers really are spread over the shards.
    let shards: std::collections::BTreeSet<u32> =
        expected.iter().map(|tn| switchboard_store::keys::shard_of(tn)).collect();
    assert_eq!(shards.len(), switchboard_store::keys::SHARDS as usize);

    for size in [50, 500] {
        let (got, pages) = follow(&s, &format!("/numbers?api-version=2024-02-29-preview&maxpagesize={size}")).await;
        assert_eq!(got, expected, "page size {size}: every number once, in order");
        assert_eq!(pages.len(), expected.len().div_ceil(size), "page size {size}: no empty last page");
    }
    // Small pages, where each shard gives at most one or two numbers a page.
    let (got, pages) = follow(&s, "/numbers?api-version=2024-02-29-preview&top=200&maxpagesize=3").await;
    assert_eq!((got.as_slice(), pages.len()), (&expected[..200], 67));
    let (got, _) = follow(&s, "/numbers?api-version=2024-02-29-preview&skip=1200&top=50&maxpagesize=9").await;
    assert_eq!(got, expected[1200..1250]);
    let filtered = "/numbers?api-version=2024-02-29-preview&maxpagesize=6&filter=startswith(telephoneNumber,'%2B1510')";
    let (got, pages) = follow(&s, filtered).await;
    assert_eq!((got, pages), (small.clone(), vec![6, 6, 6, 6, 6, 6, 4]));
    // `search` (the extension): the number as staff type it, or the account in any case; it
    // goes on in nextLink, combines with a filter, and counts what it finds.
    let searched = "/numbers?api-version=2024-02-29-preview&maxpagesize=6&search=%2B1%20(510)%20585";
    let (got, pages) = follow(&s, searched).await;
    assert_eq!((got, pages), (small.clone(), vec![6, 6, 6, 6, 6, 6, 4]));
    let (got, _) = follow(&s, "/numbers?api-version=2024-02-29-preview&maxpagesize=500&search=SMall").await;
    assert_eq!(got, small);
    let both = "/numbers?api-version=2024-02-29-preview&search=BIG&filter=startswith(telephoneNumber,'%2B1510')";
    assert_eq!(follow(&s, both).await.0, Vec::<String>::new());
    let r = s.admin("GET", "/numbers?countRecords=true&top=1&search=(510)%20585", None).await;
    assert_eq!(r.header("x-ms-record-count"), Some("40"));
    let r = s
        .admin("GET", "/accounts/big/numbers?countRecords=true&maxpagesize=2&search=%2B44%20207%20000%20001", None)
        .await;
    assert_eq!((r.header("x-ms-record-count"), r.body["value"].as_array().map(Vec::len)), (Some("10"), Some(2)));
    let r = s.admin("GET", "/accounts?search=sMaLl", None).await;
    let names: Vec<&str> = r.body["value"].as_array().unwrap().iter().filter_map(|a| a["name"].as_str()).collect();
    assert_eq!(names, ["small"]);
    let r = s.admin("GET", &format!("/numbers?search={}", "x".repeat(101)), None).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "search"));
    let r = s.admin("GET", "/syncRuns?search=x", None).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "search"));
    let r = s.admin("GET", "/numbers?countRecords=true&top=1", None).await;
    assert_eq!(r.header("x-ms-record-count"), Some("1274"));
    // A token of the merged listing does not continue an account's, nor the other way round.
    let first = s.admin("GET", "/numbers?maxpagesize=5", None).await;
    let token = first.body["nextLink"].as_str().unwrap().split("skipToken=").nth(1).unwrap().split('&').next().unwrap();
    let r = s.admin("GET", &format!("/accounts/big/numbers?skipToken={token}"), None).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "skipToken"));

    // Numbers indexed before the sharding (`GSI2PK = NUMS`) are moved to their shard.
    s.unshard(&small, "GSI2PK", "NUMS").await;
    let repo = s.repo();
    // Listed meanwhile from the old partition, merged with the shards: nothing missing or doubled.
    let (got, _) = follow(&s, "/numbers?api-version=2024-02-29-preview&maxpagesize=9").await;
    assert_eq!(got, expected, "numbers not yet moved are still listed, once");
    let r = s.admin("GET", "/numbers?countRecords=true&top=1", None).await;
    assert_eq!(r.header("x-ms-record-count"), Some("1274"));
    assert_eq!(repo.reshard(25).await.expect("reshard"), 25);
    assert_eq!(repo.reshard(1000).await.expect("reshard"), 15);
    assert_eq!(repo.reshard(1000).await.expect("reshard"), 0);
    let (got, _) = follow(&s, "/numbers?api-version=2024-02-29-preview&maxpagesize=500").await;
    assert_eq!(got, expected);
}
