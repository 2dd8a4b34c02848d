//! A write that spans transactions is all or nothing, under real races: another account's claim
//! lands exactly at each transaction boundary of a 100-number batch (the batch's transaction is
//! held at a proxy in front of the engine while the claim is made), and a 100-number delete fails
//! at each of its transactions. Every 409 and every 503 leaves nothing behind, every success
//! leaves everything, and the invariant checker (ownership, counts, audit trail) holds after all
//! rounds. The test command runs this on the embedded engine and again on moto_server.

use serde_json::{json, Value};

use switchboard_tests::{account_body, full_account_body, invariants, number_body, Reply, Stack};

const ROUNDS: u64 = 50;

/// Counts `needle` in `body`.
fn occurrences(body: &[u8], needle: &str) -> usize {
    body.windows(needle.len()).filter(|w| *w == needle.as_bytes()).count()
}

/// One of a batch upsert's own transactions (not its roll-back, not a single PUT).
fn batch_tx(op: &str, body: &[u8]) -> bool {
    op == "TransactWriteItems" && occurrences(body, "\"numbers.createOrUpdate\"") > 0
}

/// One of a batch delete's own transactions.
fn delete_tx(op: &str, body: &[u8]) -> bool {
    op == "TransactWriteItems" && occurrences(body, "\"numbers.delete\"") > 0
}

fn numbers_of(round: u64) -> Vec<String> {
    (0..100).map(|i| format!("+1510{:03}{:04}", 200 + round, i)).collect()
}

async fn count(s: &Stack, account: &str) -> usize {
    let r = s.admin("GET", &format!("/accounts/{account}/numbers?countRecords=true&maxpagesize=1"), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.header("x-ms-record-count").and_then(|c| c.parse().ok()).expect("a record count")
}

async fn owner_of(s: &Stack, accounts: &[&str], tn: &str) -> Option<String> {
    for a in accounts {
        if s.admin("GET", &format!("/accounts/{a}/numbers/{tn}"), None).await.status == 200 {
            return Some(a.to_string());
        }
    }
    None
}

fn assert_ok(r: &Reply, what: &str) {
    assert!(r.status.is_success(), "{what}: {} {:?}", r.status, r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_at_every_transaction_boundary_leaves_a_409_with_nothing_written() {
    let (s, proxy) = Stack::start_with_faults(11).await;
    assert_ok(&s.admin("PUT", "/accounts/alpha", Some(full_account_body("alpha"))).await, "alpha");
    assert_ok(&s.admin("PUT", "/accounts/beta", Some(full_account_body("beta"))).await, "beta");
    let (mut conflicts, mut wins) = (0, 0);
    let mut alpha_holds = 0;
    for round in 0..ROUNDS {
        let tns = numbers_of(round);
        // The boundary: before the batch's first transaction, or between its first and second.
        let boundary = 1 + (round % 2) as usize;
        // The claimed number: in the first transaction (97 numbers) or in the second.
        let claimed = [99, 0, 97, 50, 98][(round / 2 % 5) as usize];
        let batch = json!({"numbers": tns.iter().map(|tn| number_body("alpha", tn)).collect::<Vec<Value>>()});
        let held = proxy.hold(batch_tx, boundary);
        let claim_tn = tns[claimed].clone();
        let (batch_reply, claim_reply) =
            tokio::join!(s.admin("POST", "/accounts/alpha:createOrUpdateNumbers", Some(batch)), async {
                held.reached().await;
                let r = s
                    .admin("PUT", &format!("/accounts/beta/numbers/{claim_tn}"), Some(number_body("beta", &claim_tn)))
                    .await;
                held.release();
                r
            });
        match batch_reply.status.as_u16() {
            409 => {
                conflicts += 1;
                assert_eq!(batch_reply.code(), "NumberOwnedByAnotherAccount", "{:?}", batch_reply.body);
                assert_eq!(batch_reply.target(), format!("numbers[{claimed}].telephoneNumber"));
                assert_eq!(claim_reply.status, 201, "round {round}: {:?}", claim_reply.body);
                assert_eq!(count(&s, "alpha").await, alpha_holds, "round {round}: the 409 left numbers behind");
                assert_eq!(owner_of(&s, &["alpha", "beta"], &claim_tn).await.as_deref(), Some("beta"));
            }
            200 => {
                // The claim came too late (its number was in a transaction already committed).
                wins += 1;
                assert_eq!(claim_reply.status, 409, "round {round}: {:?}", claim_reply.body);
                alpha_holds += 100;
                assert_eq!(count(&s, "alpha").await, alpha_holds, "round {round}");
            }
            other => panic!("round {round}: batch answered {other}: {:?}", batch_reply.body),
        }
    }
    // Both outcomes happened, and the conflicts include ones after a committed transaction.
    assert!(conflicts >= ROUNDS / 2, "{conflicts} conflicts, {wins} wins");
    assert!(wins > 0, "{conflicts} conflicts, {wins} wins");
    invariants::check(&s, &["alpha", "beta"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_failing_in_any_transaction_leaves_every_number_and_release() {
    let (s, proxy) = Stack::start_with_faults(13).await;
    // A syncing Operator Connect account: each delete writes a release tombstone too.
    assert_ok(&s.admin("PUT", "/accounts/gamma", Some(account_body("gamma"))).await, "gamma");
    let tns: Vec<String> = (0..100).map(|i| format!("+1510300{i:04}")).collect();
    let batch = json!({"numbers": tns.iter().map(|tn| number_body("gamma", tn)).collect::<Vec<Value>>()});
    assert_ok(&s.admin("POST", "/accounts/gamma:createOrUpdateNumbers", Some(batch)).await, "numbers");
    let ids: Vec<Value> = tns.iter().map(|tn| json!({"telephoneNumber": tn})).collect();
    let releases_before = s.repo().pending_releases().await.unwrap().len();
    for round in 0..ROUNDS.min(12) {
        // 100 deletes take three transactions (48 each, every delete with its tombstone).
        let failing = 1 + (round % 3) as usize;
        proxy.fail_from(delete_tx, failing);
        let r = s.admin("POST", "/accounts/gamma:deleteNumbers", Some(json!({"numbers": ids.clone()}))).await;
        proxy.set(Default::default());
        assert!(matches!(r.status.as_u16(), 429 | 503), "round {round}: {} {:?}", r.status, r.body);
        assert_eq!(count(&s, "gamma").await, 100, "round {round}: the failed delete removed numbers");
        assert_eq!(s.repo().pending_releases().await.unwrap().len(), releases_before, "round {round}: tombstones left");
    }
    invariants::check(&s, &["gamma"]).await;
    // And without a fault the same delete goes through whole.
    let r = s.admin("POST", "/accounts/gamma:deleteNumbers", Some(json!({"numbers": ids}))).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    assert_eq!(count(&s, "gamma").await, 0);
    assert_eq!(s.repo().pending_releases().await.unwrap().len(), releases_before + 100);
    invariants::check(&s, &["gamma"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_failing_in_a_later_transaction_leaves_nothing() {
    let (s, proxy) = Stack::start_with_faults(17).await;
    assert_ok(&s.admin("PUT", "/accounts/delta", Some(full_account_body("delta"))).await, "delta");
    fn import_tx(op: &str, body: &[u8]) -> bool {
        op == "TransactWriteItems" && occurrences(body, "\"numbers.import\"") > 0
    }
    for failing in [2, 3] {
        proxy.fail_from(import_tx, failing);
        let r = s.import_csv("delta", &switchboard_tests::csv_rows(0, 250)).await;
        proxy.set(Default::default());
        assert!(matches!(r.status.as_u16(), 429 | 503), "{} {:?}", r.status, r.body);
        assert_eq!(count(&s, "delta").await, 0, "the failed import left numbers");
    }
    invariants::check(&s, &["delta"]).await;
}
