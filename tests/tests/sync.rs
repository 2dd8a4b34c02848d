//! Flow-through provisioning: the sync against the backend emulator (real HTTP) on the real engine.

use serde_json::json;
use switchboard_emulator::Config;
use switchboard_sync::{DriftKind, RunStatus};
use switchboard_tests::flow::*;
use switchboard_tests::*;

fn quiet() -> Config {
    Config { rate_limit_per_minute: 100_000, polls_to_complete: 2, ..Config::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_to_synced_numbers_then_drift() {
    let f = Flow::start(quiet()).await;
    f.consent(TENANT, &["US"]).await;
    let r = f.sync().await;
    assert_eq!(r.status, RunStatus::Succeeded, "{:?}", r.errors);
    let rfi = f.stack.admin("GET", &format!("/teamsRequestsForInformation/{TENANT}"), None).await;
    assert_eq!(rfi.status, 200);
    assert_eq!(rfi.body["status"], "active");
    assert_eq!(rfi.body["customerRelationship"]["status"], "ConsentAcknowledged");

    let patch = json!({"customerRelationship": {"status": "AgreementSigned", "ticketId": "CRM-42"}});
    let r = f
        .stack
        .send(
            "PATCH",
            &format!("/teamsRequestsForInformation/{TENANT}"),
            Some(&token(ADMIN)),
            Some(patch),
            &[("content-type", "application/merge-patch+json")],
        )
        .await;
    assert_eq!((r.status.as_u16(), r.body["serviceProvisioningStatus"].as_str()), (200, Some("pending")));
    f.sync().await;
    // The backend now holds the relationship we set (ticketId is ours, not sent upstream).
    use switchboard_backend::Backend as _;
    let upstream = f.backend.list_consents().await.expect("consents");
    let consent = upstream.iter().find(|c| c.tenant_id == TENANT).expect("the consent");
    assert_eq!(consent.customer_relationship.status.as_deref(), Some("AgreementSigned"));
    let rfi = f.stack.admin("GET", &format!("/teamsRequestsForInformation/{TENANT}"), None).await;
    assert_eq!(rfi.body["serviceProvisioningStatus"], "synced");
    assert_eq!(rfi.body["customerRelationship"]["ticketId"], "CRM-42");

    f.syncing_account("contoso", TENANT).await;
    let rfi = f.stack.admin("GET", &format!("/teamsRequestsForInformation/{TENANT}"), None).await;
    assert_eq!(rfi.body["accountName"], "contoso", "the account is linked to the consent");
    let tns = us_numbers(0, 250);
    f.add_oc_numbers("contoso", &tns).await;
    let reports = f.sync_until_settled(10).await;
    assert!(reports.len() <= 3, "{} runs", reports.len());
    let numbers = f.numbers("contoso").await;
    assert_eq!(numbers.len(), 250);
    assert!(
        numbers.iter().all(|n| n["serviceProvisioningStatus"] == "synced"),
        "{:?}",
        numbers.iter().find(|n| n["serviceProvisioningStatus"] != "synced")
    );
    let mut held = f.tenant_numbers(TENANT).await;
    held.sort();
    assert_eq!(held, tns);
    assert!(reports.iter().all(|r| r.pushed.upload_orders <= 3));
    let acct = f.stack.admin("GET", "/accounts/contoso", None).await;
    assert_eq!(acct.body["serviceProvisioningStatus"], "synced");

    // The enterprise releases three numbers and suspends its consent.
    for tn in &tns[10..13] {
        f.admin("POST", &format!("/admin/tenants/{TENANT}/numbers/{tn}:release"), None).await;
    }
    f.admin("POST", &format!("/admin/consents/{TENANT}:suspend"), None).await;
    let r = f.sync().await;
    let released: Vec<_> = r
        .drift
        .iter()
        .filter(|d| d.kind == DriftKind::NumberReleased)
        .filter_map(|d| d.telephone_number.clone())
        .collect();
    assert_eq!(released, tns[10..13].to_vec());
    let suspended: Vec<_> = r.drift.iter().filter(|d| d.kind == DriftKind::ConsentSuspended).collect();
    assert_eq!(suspended.len(), 1);
    assert_eq!(r.drift.len(), 4, "exactly that drift: {:?}", r.drift);
    let numbers = f.numbers("contoso").await;
    let failed: Vec<_> = numbers.iter().filter(|n| n["serviceProvisioningStatus"] == "failed").collect();
    assert_eq!(failed.len(), 3);
    assert!(failed.iter().all(|n| n["serviceProvisioningErrors"][0]["code"] == "NumberReleasedByTenant"));
    let acct = f.stack.admin("GET", "/accounts/contoso", None).await;
    assert_eq!(
        (acct.body["serviceProvisioningStatus"].as_str(), acct.body["serviceProvisioningErrors"][0]["code"].as_str()),
        (Some("failed"), Some("ConsentSuspended"))
    );
    let rfi = f.stack.admin("GET", &format!("/teamsRequestsForInformation/{TENANT}"), None).await;
    assert_eq!(rfi.body["status"], "suspended");
    // The report is readable through the API, newest first.
    let runs = f.stack.admin("GET", "/syncRuns?maxpagesize=1", None).await;
    assert_eq!(runs.body["value"][0]["id"], r.id.as_str());
    assert_eq!(runs.body["value"][0]["drift"].as_array().unwrap().len(), 4);
    // Nothing new: the next run finds no further drift.
    assert!(f.sync().await.drift.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_order_failures_land_per_number() {
    let f = Flow::start(quiet()).await;
    f.consent(TENANT, &["US"]).await;
    f.admin("PUT", &format!("/admin/tenants/{TENANT}/civicAddresses/ca-1"), Some(json!({"id": "ca-1", "country": "US", "cityOrTown": "Reston", "locations": [{"id": "loc-1", "civicAddressId": "ca-1", "elin": "5105850000"}]}))).await;
    f.sync().await;
    f.syncing_account("contoso", TENANT).await;
    let us = us_numbers(0, 5);
    let uk = uk_numbers(0, 2);
    f.add_oc_numbers("contoso", &us).await;
    f.add_oc_numbers("contoso", &uk).await;
    let mut with_bad_address = number_body("contoso", "+15105859990");
    with_bad_address["serviceDetails"]["teamsOperatorConnect"]["configuration"]["civicAddressId"] = json!("ca-missing");
    with_bad_address["configuration"] = json!({});
    assert_eq!(
        f.stack.admin("PUT", "/accounts/contoso/numbers/+15105859990", Some(with_bad_address)).await.status,
        201
    );
    let mut with_address = number_body("contoso", "+15105859991");
    with_address["serviceDetails"]["teamsOperatorConnect"]["configuration"]["civicAddressId"] = json!("ca-1");
    assert_eq!(f.stack.admin("PUT", "/accounts/contoso/numbers/+15105859991", Some(with_address)).await.status, 201);
    f.sync_until_settled(5).await;
    // Its first load up, the next run compares the tenant and mirrors its addresses.
    f.sync().await;
    let numbers = f.numbers("contoso").await;
    let by = |tn: &str| numbers.iter().find(|n| n["telephoneNumber"] == tn).unwrap().clone();
    for tn in &uk {
        let n = by(tn);
        assert_eq!(
            (n["serviceProvisioningStatus"].as_str(), n["serviceProvisioningErrors"][0]["code"].as_str()),
            (Some("failed"), Some("CountryNotCovered")),
            "{n}"
        );
        assert!(n["serviceProvisioningErrors"][0]["message"].as_str().unwrap().contains("consent covers"));
    }
    assert_eq!(by("+15105859990")["serviceProvisioningErrors"][0]["code"], "CivicAddressNotFound");
    for tn in us.iter().chain(["+15105859991".to_string()].iter()) {
        assert_eq!(by(tn)["serviceProvisioningStatus"], "synced", "{tn}");
    }
    // The address mirror, with its ELIN, is readable through the account.
    let a = f.stack.admin("GET", "/accounts/contoso/teamsCivicAddresses/ca-1", None).await;
    assert_eq!((a.status.as_u16(), a.body["locations"][0]["elin"].as_str()), (200, Some("5105850000")));
    let list = f.stack.admin("GET", "/accounts/contoso/teamsCivicAddresses?countRecords=true", None).await;
    assert_eq!(list.header("x-ms-record-count"), Some("1"));

    // The account counts its failed numbers (an extension), in the list and alone; a failed
    // number sent again, or deleted, is no longer counted.
    let failed = || async {
        let one = f.stack.admin("GET", "/accounts/contoso", None).await.body["failedNumberCount"].as_i64();
        let list = f.stack.admin("GET", "/accounts?filter=name%20eq%20'contoso'", None).await;
        assert_eq!(list.body["value"][0]["failedNumberCount"].as_i64(), one, "{:?}", list.body);
        one
    };
    assert_eq!(failed().await, Some(3));
    assert_eq!(
        f.stack
            .admin("PUT", &format!("/accounts/contoso/numbers/{}", uk[0]), Some(number_body("contoso", &uk[0])))
            .await
            .status,
        200
    );
    assert_eq!(failed().await, Some(2));
    assert_eq!(f.stack.admin("DELETE", &format!("/accounts/contoso/numbers/{}", uk[1]), None).await.status, 204);
    assert_eq!(failed().await, Some(1));
    let r = f
        .stack
        .admin(
            "POST",
            "/accounts/contoso:deleteNumbers",
            Some(json!({"numbers": [{"telephoneNumber": "+15105859990"}]})),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    assert_eq!(failed().await, Some(0));
    // The number sent again fails again.
    f.sync_until_settled(5).await;
    assert_eq!(failed().await, Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_under_twenty_percent_faults_without_passing_the_rate_limit() {
    let mut f = Flow::start(quiet()).await;
    // Our ceiling sits under the emulator's limit.
    f.pace(360);
    // 20% of backend answers are faults: 7% 429, 7% 500, 6% slower than the client's timeout.
    // Seeded, so the faults fall the same way every run and the test can't pass by luck.
    let faults = Config {
        fault429: 0.07,
        fault500: 0.07,
        fault_slow: 0.06,
        slow_ms: 1300,
        polls_to_complete: 2,
        rate_limit_per_minute: 400,
        minute_ms: 60_000,
        page_size: 20,
        seed: Some(20261126),
    };
    // Set up without faults; the sync runs with them.
    f.emu.set_config(Config { fault429: 0.0, fault500: 0.0, fault_slow: 0.0, ..faults.clone() });
    f.consent(TENANT, &["US"]).await;
    f.syncing_account("contoso", TENANT).await;
    let tns = us_numbers(0, 1000);
    f.add_oc_numbers("contoso", &tns).await;
    let uk = uk_numbers(0, 10);
    f.add_oc_numbers("contoso", &uk).await;
    f.emu.set_config(faults);
    let reports = f.sync_until_settled(20).await;
    let numbers = f.numbers("contoso").await;
    assert_eq!(numbers.len(), 1010);
    let synced: Vec<String> = numbers
        .iter()
        .filter(|n| n["serviceProvisioningStatus"] == "synced")
        .map(|n| n["telephoneNumber"].as_str().unwrap().to_string())
        .collect();
    let failed: Vec<&serde_json::Value> =
        numbers.iter().filter(|n| n["serviceProvisioningStatus"] == "failed").collect();
    assert_eq!(synced.len() + failed.len(), 1010, "every number ends synced or failed");
    assert!(failed.iter().all(|n| n["serviceProvisioningErrors"][0]["code"].as_str().is_some_and(|c| !c.is_empty())));
    assert_eq!(failed.len(), 10, "only the numbers outside the consent fail");
    let mut held = f.tenant_numbers(TENANT).await;
    held.sort();
    assert_eq!(held, synced, "the backend holds exactly the synced numbers: none lost, none extra");
    let stats = f.emu.stats();
    assert_eq!(stats.rate_limit_violations, 0, "the backend's rate limit was never exceeded");
    assert!(
        stats.injected429 > 0 && stats.injected500 > 0 && stats.injected_slow > 0,
        "each kind of fault was injected: {stats:?}"
    );
    println!(
        "faults: {stats:?}; runs: {}; retries: {}",
        reports.len(),
        reports.iter().map(|r| r.upstream.retries).sum::<u64>()
    );
    assert!(reports.iter().map(|r| r.upstream.retries).sum::<u64>() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_pull_is_not_a_deletion_and_runs_do_not_overlap() {
    let f = Flow::start(quiet()).await;
    f.consent(TENANT, &["US"]).await;
    f.syncing_account("contoso", TENANT).await;
    f.add_oc_numbers("contoso", &us_numbers(0, 20)).await;
    f.sync_until_settled(5).await;
    // Every backend call fails: the run reports errors, flags nothing, deletes nothing.
    f.emu.set_config(Config { fault500: 1.0, ..quiet() });
    let r = f.sync().await;
    assert_eq!(r.status, RunStatus::Partial);
    assert!(!r.errors.is_empty());
    assert!(r.drift.is_empty(), "{:?}", r.drift);
    assert!(f.numbers("contoso").await.iter().all(|n| n["serviceProvisioningStatus"] == "synced"));
    let rfi = f.stack.admin("GET", &format!("/teamsRequestsForInformation/{TENANT}"), None).await;
    assert_eq!(rfi.body["status"], "active");
    f.emu.set_config(quiet());
    // Two runs at once: one holds the lease, the other is skipped.
    let (a, b) = tokio::join!(f.sync(), f.sync());
    let mut statuses = [a.status, b.status];
    statuses.sort_by_key(|s| format!("{s:?}"));
    assert_eq!(statuses, [RunStatus::Skipped, RunStatus::Succeeded]);
    // A run out of time stops cleanly, and the next one carries on.
    f.add_oc_numbers("contoso", &us_numbers(100, 5)).await;
    let late = switchboard_sync::run(
        f.stack.repo(),
        f.backend.as_ref(),
        switchboard_sync::Deadline::in_(std::time::Duration::ZERO),
        &f.sync,
    )
    .await
    .unwrap();
    assert!(late.stopped_early);
    assert_eq!(late.status, RunStatus::Partial);
    f.sync_until_settled(5).await;
    assert_eq!(f.tenant_numbers(TENANT).await.len(), 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_numbers_are_released_and_unsynced_accounts_never_sent() {
    let f = Flow::start(quiet()).await;
    f.consent(TENANT, &["US"]).await;
    f.syncing_account("contoso", TENANT).await;
    let tns = us_numbers(0, 8);
    f.add_oc_numbers("contoso", &tns).await;
    f.sync_until_settled(5).await;
    assert_eq!(f.tenant_numbers(TENANT).await.len(), 8);
    assert_eq!(f.stack.admin("DELETE", &format!("/accounts/contoso/numbers/{}", tns[0]), None).await.status, 204);
    let ids: Vec<_> = tns[1..3].iter().map(|t| json!({"telephoneNumber": t})).collect();
    assert_eq!(
        f.stack.admin("POST", "/accounts/contoso:deleteNumbers", Some(json!({"numbers": ids}))).await.status,
        204
    );
    assert_eq!(f.stack.repo().pending_releases().await.unwrap().len(), 3, "a release waits for each deleted number");
    let reports = f.sync_until_settled(5).await;
    assert_eq!(
        reports.iter().map(|r| r.pushed.numbers_released).sum::<usize>(),
        3,
        "{:#?}",
        reports.iter().map(|r| (&r.pushed, &r.errors, &r.results)).collect::<Vec<_>>()
    );
    let mut held = f.tenant_numbers(TENANT).await;
    held.sort();
    assert_eq!(held, tns[3..].to_vec());
    // An account that doesn't sync: its numbers are never sent.
    let other = "11111111-2222-3333-4444-555555555555";
    f.consent(other, &["US"]).await;
    let body = json!({"name": "quiet", "serviceDetails": {"teamsTenantId": other, "teamsOperatorConnect": {"enabled": true, "syncEnabled": false}}});
    assert_eq!(f.stack.admin("PUT", "/accounts/quiet", Some(body)).await.status, 201);
    f.add_oc_numbers("quiet", &us_numbers(500, 5)).await;
    f.sync_until_settled(3).await;
    assert!(f.tenant_numbers(other).await.is_empty());
    assert!(f.numbers("quiet").await.iter().all(|n| n.get("serviceProvisioningStatus").is_none()));
}

#[tokio::test]
async fn teams_capability_actions_go_to_the_backend() {
    let f = Flow::start(quiet()).await;
    f.consent(TENANT, &["US"]).await;
    f.syncing_account("contoso", TENANT).await;
    let r = f.stack.admin("POST", "/accounts/contoso:getTeamsCapabilityPlans", None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.body["capabilityPlans"].as_array().unwrap().iter().any(|p| p["usage"] == "CallingUserAssignment"));
    let r = f
        .stack
        .admin(
            "POST",
            "/accounts/contoso:getTeamsAvailableCapabilities",
            Some(json!({"numbers": [{"telephoneNumber": "+15105850321"}]})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.body["availableCapabilities"].as_array().is_some_and(|a| !a.is_empty()));
    let r = f
        .stack
        .send("POST", "/accounts/contoso:getTeamsCapabilityPlans", Some(&token(&["ProvisioningAPI.Write"])), None, &[])
        .await;
    assert_eq!(r.status, 403, "a read action needs Read");
    relationship_rules(&f).await;
}

/// The relationship's rules through PATCH, after a sync brought the consent in.
async fn relationship_rules(f: &Flow) {
    f.sync().await;
    let path = format!("/teamsRequestsForInformation/{TENANT}");
    let ct = [("content-type", "application/merge-patch+json")];
    let t = token(ADMIN);
    let r = f
        .stack
        .send("PATCH", &path, Some(&t), Some(json!({"customerRelationship": {"status": "ConsentDeclined"}})), &ct)
        .await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "customerRelationship.comment"));
    let r = f
        .stack
        .send("PATCH", &path, Some(&t), Some(json!({"customerRelationship": {"ticketId": "x".repeat(65)}})), &ct)
        .await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "customerRelationship.ticketId"));
    let r = f.stack.send("PATCH", &path, Some(&t), Some(json!({"status": "removed"})), &ct).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "status"));
    let r = f.stack.send("PATCH", "/teamsRequestsForInformation/not-a-guid", Some(&t), Some(json!({})), &ct).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "tenantId"));
    let r = f
        .stack
        .send(
            "PATCH",
            "/teamsRequestsForInformation/11111111-2222-3333-4444-555555555555",
            Some(&t),
            Some(json!({})),
            &ct,
        )
        .await;
    assert_eq!(r.status, 404);
    let r = f
        .stack
        .send(
            "PATCH",
            &path,
            Some(&t),
            Some(json!({"customerRelationship": {"status": "ConsentDeclined", "comment": "no budget"}})),
            &ct,
        )
        .await;
    assert_eq!(r.status, 200);
    // The relationship's last change is the time of this patch (to the second).
    let when = r.body["customerRelationship"]["lastModifiedOn"].as_str().unwrap_or_default().to_string();
    let parsed =
        aws_sdk_dynamodb::primitives::DateTime::from_str(&when, aws_sdk_dynamodb::primitives::DateTimeFormat::DateTime)
            .map(|t| t.to_millis().unwrap_or(0) as u64);
    let now = switchboard_store::now_ms();
    assert!(parsed.is_ok_and(|ms| ms + 2_000 >= now && ms <= now), "{when:?}");
    let list = f.stack.admin("GET", "/teamsRequestsForInformation?filter=customerRelationship/status%20eq%20'ConsentDeclined'&countRecords=true", None).await;
    assert_eq!(list.header("x-ms-record-count"), Some("1"));
}

#[tokio::test]
async fn the_backend_client_caches_its_token_and_paces_itself() {
    use switchboard_backend::Backend;
    let mut f = Flow::start(quiet()).await;
    f.consent(TENANT, &["US"]).await;
    f.pace(600);
    let started = std::time::Instant::now();
    for _ in 0..5 {
        f.backend.list_consents().await.unwrap();
    }
    // Six requests (a token, five lists) at 600 a minute take at least five 100 ms gaps.
    assert!(started.elapsed() >= std::time::Duration::from_millis(500), "{:?}", started.elapsed());
    assert_eq!(f.emu.stats().tokens_issued, 1, "one token for all calls");
    assert_eq!(f.backend.stats().calls, 6);
}

/// More reconciliation than a run has time for: an operator's change still goes out in every run
/// (pushes come before reconciliation), and runs rotate through the tenants, those waiting longest
/// first, so drift in the last account is found though no single run gets that far.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_reconciliation_starved_pushes_go_out_and_runs_rotate() {
    const ACCOUNTS: usize = 24;
    let mut f = Flow::start(quiet()).await;
    let tenant = |i: usize| format!("{i:08x}-0000-4000-8000-{i:012x}");
    for i in 0..ACCOUNTS {
        f.consent(&tenant(i), &["US"]).await;
        f.syncing_account(&format!("acct{i:02}"), &tenant(i)).await;
    }
    // A synced number in the last account, which the enterprise then releases upstream.
    let last = us_numbers(0, 1);
    f.add_oc_numbers("acct23", &last).await;
    f.sync_until_settled(5).await;
    f.admin("POST", &format!("/admin/tenants/{}/numbers/{}:release", tenant(ACCOUNTS - 1), last[0]), None).await;
    // A slow budget: each account's reconciliation (two calls) takes 400 ms, so 24 take longer
    // than a run's 8 s (which leaves room for a slow engine before the pushes).
    f.pace(300);
    // Every tenant is due at every run, so reconciliation always has more than a run can do.
    let cfg = switchboard_sync::SyncConfig {
        stop_margin: std::time::Duration::ZERO,
        reconcile_interval: std::time::Duration::ZERO,
        ..f.sync.clone()
    };
    let mut reached = Vec::new();
    for round in 0..8 {
        f.add_oc_numbers("acct00", &us_numbers(100 + round, 1)).await;
        let deadline = switchboard_sync::Deadline::in_(std::time::Duration::from_secs(8));
        let r = switchboard_sync::run(f.stack.repo(), f.backend.as_ref(), deadline, &cfg).await.expect("run");
        assert_eq!(r.pushed.numbers_uploaded, 1, "round {round}: the operator's change went out: {r:?}");
        assert!(r.stopped_early && r.pulled.accounts_reconciled < ACCOUNTS, "round {round}: reconciliation starved");
        reached.push(r.pulled.accounts_reconciled);
        if r.drift.iter().any(|d| d.kind == DriftKind::NumberReleased && d.account_name.as_deref() == Some("acct23")) {
            return;
        }
    }
    panic!("no run reached the last account (accounts reconciled per run: {reached:?})");
}

/// The pending queue is sharded; entries queued before the sharding (`GSI3PK = PENDING`) are still
/// read from there, and go out like the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_queued_before_the_sharding_still_go_out() {
    let f = Flow::start(quiet()).await;
    f.consent(TENANT, &["US"]).await;
    f.syncing_account("contoso", TENANT).await;
    let tns = us_numbers(0, 30);
    f.add_oc_numbers("contoso", &tns).await;
    f.stack.unshard(&tns[..20], "GSI3PK", "PENDING").await;
    let repo = f.stack.repo();
    assert_eq!(repo.pending_numbers(100).await.expect("pending").len(), 30, "the old partition is read as a shard");
    f.sync_until_settled(5).await;
    let numbers = f.numbers("contoso").await;
    assert!(numbers.iter().all(|n| n["serviceProvisioningStatus"] == "synced"), "{numbers:?}");
    let mut held = f.tenant_numbers(TENANT).await;
    held.sort();
    assert_eq!(held, tns);
}

/// A second account on a tenant is created (ACG allowed it) with a `Warning` naming the first,
/// and the tenant's request for information stays linked to the first while that exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_account_on_a_tenant_is_warned_about() {
    let f = Flow::start(quiet()).await;
    f.consent(TENANT, &["US"]).await;
    f.sync().await;
    let linked = || async {
        let r = f.stack.admin("GET", &format!("/teamsRequestsForInformation/{TENANT}"), None).await;
        r.body["accountName"].as_str().map(str::to_string)
    };
    let body = |name: &str| json!({"name": name, "serviceDetails": {"teamsTenantId": TENANT}});
    let first = f.stack.admin("PUT", "/accounts/contoso", Some(body("contoso"))).await;
    assert_eq!((first.status.as_u16(), first.header("warning")), (201, None), "{:?}", first.body);
    assert_eq!(linked().await.as_deref(), Some("contoso"));
    let second = f.stack.admin("PUT", "/accounts/fabrikam", Some(body("fabrikam"))).await;
    assert_eq!(second.status, 201, "{:?}", second.body);
    let warning = second.header("warning").unwrap_or_default();
    assert!(warning.starts_with("299 ") && warning.contains(TENANT) && warning.contains("contoso"), "{warning}");
    assert_eq!(linked().await.as_deref(), Some("contoso"));
    // The first replaced: no warning. Once it is gone, the second serves the tenant.
    let again = f.stack.admin("PUT", "/accounts/contoso", Some(body("contoso"))).await;
    assert_eq!((again.status.as_u16(), again.header("warning")), (200, None));
    assert_eq!(f.stack.admin("DELETE", "/accounts/contoso", None).await.status, 204);
    let after = f.stack.admin("PUT", "/accounts/fabrikam", Some(body("fabrikam"))).await;
    assert_eq!((after.status.as_u16(), after.header("warning")), (200, None));
    assert_eq!(linked().await.as_deref(), Some("fabrikam"));
    // Moved to another tenant, it is no longer this tenant's; deleted, likewise.
    let elsewhere =
        json!({"name": "fabrikam", "serviceDetails": {"teamsTenantId": "11111111-2222-4333-8444-555555555555"}});
    assert_eq!(f.stack.admin("PUT", "/accounts/fabrikam", Some(elsewhere)).await.status, 200);
    assert_eq!(linked().await, None);
    let third = f.stack.admin("PUT", "/accounts/northwind", Some(body("northwind"))).await;
    assert_eq!((third.status.as_u16(), third.header("warning")), (201, None));
    assert_eq!(linked().await.as_deref(), Some("northwind"));
    assert_eq!(f.stack.admin("DELETE", "/accounts/northwind", None).await.status, 204);
    assert_eq!(linked().await, None);
}

/// Numbers that failed before failed numbers were indexed get their entry from the planner, an
/// account at a time as far as its read allowance goes, and are then counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_from_before_the_failed_index_are_indexed() {
    let f = Flow::start(quiet()).await;
    f.consent(TENANT, &["US"]).await;
    f.sync().await;
    f.syncing_account("contoso", TENANT).await;
    f.syncing_account("fabrikam", TENANT).await;
    let (a, b) = (uk_numbers(0, 2), uk_numbers(10, 3));
    f.add_oc_numbers("contoso", &a).await;
    f.add_oc_numbers("fabrikam", &b).await;
    f.sync_until_settled(5).await;
    assert_eq!((failed_count(&f, "contoso").await, failed_count(&f, "fabrikam").await), (Some(2), Some(3)));
    // As an older release left them: no index entry, and the step not done.
    let repo = f.stack.repo();
    for tn in a.iter().chain(&b) {
        repo.client()
            .update_item()
            .table_name(repo.table())
            .set_key(Some(switchboard_store::keys::number(tn)))
            .update_expression("REMOVE GSI3PK, GSI3SK")
            .send()
            .await
            .expect("unindex");
    }
    let marker = switchboard_store::keys::upgrade_done("failed-index");
    repo.client().delete_item().table_name(repo.table()).set_key(Some(marker)).send().await.expect("unmark");
    assert_eq!((failed_count(&f, "contoso").await, failed_count(&f, "fabrikam").await), (Some(0), Some(0)));
    let names = ["contoso".to_string(), "fabrikam".to_string()];
    // One number's allowance: one account a call, from where the last stopped.
    assert_eq!(repo.index_old_failures(&names, 1).await.expect("index"), 2);
    assert_eq!((failed_count(&f, "contoso").await, failed_count(&f, "fabrikam").await), (Some(2), Some(0)));
    assert_eq!(repo.index_old_failures(&names, 1).await.expect("index"), 3);
    assert_eq!((failed_count(&f, "contoso").await, failed_count(&f, "fabrikam").await), (Some(2), Some(3)));
    // Done: nothing more is read.
    assert_eq!(repo.index_old_failures(&names, 1).await.expect("index"), 0);
    // The planner runs the step itself.
    let repo = f.stack.repo();
    repo.client()
        .update_item()
        .table_name(repo.table())
        .set_key(Some(switchboard_store::keys::number(&a[0])))
        .update_expression("REMOVE GSI3PK, GSI3SK")
        .send()
        .await
        .expect("unindex");
    let marker = switchboard_store::keys::upgrade_done("failed-index");
    repo.client().delete_item().table_name(repo.table()).set_key(Some(marker)).send().await.expect("unmark");
    assert_eq!(failed_count(&f, "contoso").await, Some(1));
    f.sync().await;
    assert_eq!(failed_count(&f, "contoso").await, Some(2));
}

async fn failed_count(f: &Flow, account: &str) -> Option<i64> {
    f.stack.admin("GET", &format!("/accounts/{account}"), None).await.body["failedNumberCount"].as_i64()
}

/// Sync now (`POST /syncRuns`, an extension): 202 with who asked, and the planner's run listed
/// once it has finished; the same request repeated (Repeatability-Request-ID) is answered from
/// its record; a deployment without a planner says so in the error envelope.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_now_starts_the_planner_or_says_why_not() {
    let bare = Stack::start().await;
    let r = bare.admin("POST", "/syncRuns", None).await;
    assert_eq!((r.status.as_u16(), r.code()), (501, "SyncNowUnavailable"));

    let flow = Flow::start(switchboard_emulator::Config::default()).await;
    let s = &flow.stack;
    let runs = |r: &Reply| r.body["value"].as_array().map_or(0, Vec::len);
    assert_eq!(runs(&s.admin("GET", "/syncRuns", None).await), 0);
    let sent = httpdate::fmt_http_date(std::time::SystemTime::now());
    let headers = [("repeatability-request-id", "sync-now-1"), ("repeatability-first-sent", sent.as_str())];
    let t = token(&["ProvisioningAPI.AdminUser"]);
    let r = s.send("POST", "/syncRuns", Some(&t), None, &headers).await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(r.body["status"], "Started");
    assert!(r.body["requestedBy"].as_str().is_some_and(|w| !w.is_empty()), "{:?}", r.body);
    let again = s.send("POST", "/syncRuns", Some(&t), None, &headers).await;
    assert_eq!((again.status.as_u16(), again.header("repeatability-result")), (202, Some("accepted")));
    // The run is the planner's own, started in the background: wait for it to be listed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while runs(&s.admin("GET", "/syncRuns", None).await) == 0 {
        assert!(std::time::Instant::now() < deadline, "no run listed after Sync now");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
