//! Same-route races over real HTTP: `cargo lambda watch --concurrency 3` runs several instances of
//! one function at once (by default it runs one at a time, which would serialise these races).
//! Each round, two accounts' 100-number batches go to the same route at the same moment and
//! contest one number, while a third caller claims another of one batch's numbers with a single
//! PUT. Every batch is all or nothing: a 200 wrote its 100 numbers, a 409 wrote none. The
//! invariant checker (ownership, counts, audit trail) holds after all rounds. The test command
//! runs this on the embedded engine and again on moto_server.

use serde_json::{json, Value};
use switchboard_tests::e2e::Gateway;
use switchboard_tests::{full_account_body, invariants, number_body, Stack};

const ROUNDS: usize = 50;

fn batch(account: &str, tns: &[String]) -> Value {
    json!({"numbers": tns.iter().map(|tn| number_body(account, tn)).collect::<Vec<Value>>()})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_route_batches_race_through_concurrent_function_instances() {
    let s = Stack::start().await;
    let gw = Gateway::on_stack(&s, 3).await;
    let c = &gw.client;
    for a in ["alpha", "beta", "gamma"] {
        let (status, _, body) = c.call("PUT", &format!("/accounts/{a}"), Some(full_account_body(a))).await;
        assert_eq!(status, 201, "{body}");
    }
    let mut held = std::collections::HashMap::from([("alpha", 0usize), ("beta", 0), ("gamma", 0)]);
    let (mut alpha_won, mut beta_won) = (0, 0);
    for round in 0..ROUNDS {
        let alpha: Vec<String> = (0..100).map(|i| format!("+1510{:03}{i:04}", 200 + round)).collect();
        // Beta's batch shares one number with alpha's, somewhere in either of alpha's transactions.
        let contested = [99, 0, 97, 50, 98][round % 5];
        let mut beta: Vec<String> = (0..99).map(|i| format!("+1520{:03}{i:04}", 200 + round)).collect();
        beta.insert(round % 100, alpha[contested].clone());
        // Gamma claims, alone, another number of alpha's or of beta's batch (a single PUT is
        // quick, so it mostly wins: it goes after a different batch each round).
        let gamma_vs_alpha = round % 2 == 0;
        let claimed =
            if gamma_vs_alpha { alpha[(contested + 1) % 100].clone() } else { beta[(round + 1) % 100].clone() };
        let claim_path = format!("/accounts/gamma/numbers/{claimed}");
        let ((sa, _, ba), (sb, _, bb), (sg, _, bg)) = tokio::join!(
            c.call("POST", "/accounts/alpha:createOrUpdateNumbers", Some(batch("alpha", &alpha))),
            c.call("POST", "/accounts/beta:createOrUpdateNumbers", Some(batch("beta", &beta))),
            c.call("PUT", &claim_path, Some(number_body("gamma", &claimed))),
        );
        for (status, body) in [(sa, &ba), (sb, &bb), (sg, &bg)] {
            assert!(matches!(status, 200 | 201 | 409), "round {round}: {status} {body}");
            if status == 409 {
                assert_eq!(body["error"]["code"], "NumberOwnedByAnotherAccount", "round {round}: {body}");
            }
        }
        // Alpha and beta contest one number, so at most one of them succeeded; and a batch that
        // succeeded must have beaten gamma to its number.
        assert!(!(sa == 200 && sb == 200), "round {round}: both batches wrote the contested number");
        let gammas_batch = if gamma_vs_alpha { sa } else { sb };
        assert!(!(gammas_batch == 200 && sg == 201), "round {round}: a batch and gamma's claim both won");
        alpha_won += usize::from(sa == 200);
        beta_won += usize::from(sb == 200);
        *held.get_mut("alpha").expect("alpha") += if sa == 200 { 100 } else { 0 };
        *held.get_mut("beta").expect("beta") += if sb == 200 { 100 } else { 0 };
        *held.get_mut("gamma").expect("gamma") += usize::from(sg == 201);
        for (a, n) in &held {
            let (status, headers, body) =
                c.call("GET", &format!("/accounts/{a}/numbers?countRecords=true&maxpagesize=1"), None).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(headers["x-ms-record-count"], n.to_string().as_str(), "round {round}: {a} holds a half batch");
        }
    }
    // Both batches won some rounds: the races were real, not one side always first.
    assert!(alpha_won > 0 && beta_won > 0, "alpha won {alpha_won}, beta won {beta_won} of {ROUNDS}");
    invariants::check(&s, &["alpha", "beta", "gamma"]).await;
    // And the watch ran more than one instance of the batch route's function.
    let log = std::fs::read_to_string(gw.log()).expect("the watch's log");
    let instances = log.matches("spawning function instance function=\"account-actions\"").count();
    assert!(instances >= 2, "account-actions ran in {instances} instance(s): the races were serialised");
}
