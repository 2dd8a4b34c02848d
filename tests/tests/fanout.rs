//! The sync fanned out: a planner's jobs worked by workers side by side, on the real engine
//! against the backend emulator (real HTTP). The queue between them is tested end to end in
//! `e2e_flow`; here the jobs are handed over directly, so that workers can be raced and killed.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use switchboard_emulator::Config;
use switchboard_sync::{Deadline, JobSender, RunStatus, SyncConfig, SyncReport, TenantJob};
use switchboard_tests::flow::*;

fn quiet() -> Config {
    Config { rate_limit_per_minute: 100_000, polls_to_complete: 2, ..Config::default() }
}

/// Keeps the jobs a plan sends.
#[derive(Default)]
struct Collect(Mutex<Vec<TenantJob>>);

#[async_trait::async_trait]
impl JobSender for Collect {
    async fn send(&self, jobs: &[TenantJob]) -> Result<(), String> {
        self.0.lock().expect("jobs").extend_from_slice(jobs);
        Ok(())
    }
}

/// Plans once, as the scheduled planner does: its report and the jobs it sent.
async fn plan_all(f: &Flow, cfg: &SyncConfig) -> (SyncReport, Vec<TenantJob>) {
    let sent = Collect::default();
    let r = switchboard_sync::plan_and_send(f.stack.repo(), f.backend.as_ref(), Deadline::none(), cfg, &sent)
        .await
        .expect("plan");
    (r, sent.0.into_inner().expect("jobs"))
}

/// The accounts of the jobs that push, in name order.
fn pushing(jobs: &[TenantJob]) -> Vec<String> {
    let mut accounts: Vec<String> = jobs.iter().filter(|j| j.push).flat_map(|j| j.accounts.clone()).collect();
    accounts.sort();
    accounts
}

/// Plans once and returns the one job for `tenant`.
async fn plan(f: &Flow, cfg: &SyncConfig, tenant: &str) -> TenantJob {
    let (r, jobs) = plan_all(f, cfg).await;
    assert_eq!(r.status, RunStatus::Succeeded, "{r:?}");
    assert_eq!(r.planned.as_ref().map(|p| p.sent), Some(jobs.len()), "{r:?}");
    jobs.into_iter().find(|j| j.tenant_id.as_deref() == Some(tenant)).expect("a job for the tenant")
}

async fn all_synced(f: &Flow, account: &str, expected: usize) -> bool {
    let numbers = f.numbers(account).await;
    numbers.len() == expected && numbers.iter().all(|n| n["serviceProvisioningStatus"] == "synced")
}

/// Eight workers given the same tenant's job at once: one works it, the others see its lease and
/// step aside, so every number goes up in exactly one upload order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_never_hold_one_tenant_at_once() {
    let mut f = Flow::start(quiet()).await;
    f.consent(TENANT, &["US"]).await;
    f.syncing_account("contoso", TENANT).await;
    let tns = us_numbers(0, 300);
    f.add_oc_numbers("contoso", &tns).await;
    let job = plan(&f, &f.sync, TENANT).await;
    assert!(job.push && !job.reconcile, "a first load is compared once it is up: {job:?}");
    // A slow budget (100 ms a call) keeps the first worker busy while the others try.
    f.pace(600);
    let orders_before = f.emu.stats().orders_created;
    let f = Arc::new(f);
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (f, job) = (f.clone(), job.clone());
            tokio::spawn(async move {
                switchboard_sync::work_job(f.stack.repo(), f.backend.as_ref(), Deadline::none(), &f.sync, job)
                    .await
                    .expect("worker")
            })
        })
        .collect();
    let mut reports = Vec::new();
    for w in workers {
        reports.push(w.await.expect("worker task"));
    }
    let worked: Vec<_> = reports.iter().filter(|r| r.status != RunStatus::Skipped).collect();
    let skipped = reports.len() - worked.len();
    assert!(skipped >= 1, "no worker found the tenant held: {reports:?}");
    assert!(reports.iter().filter(|r| r.status == RunStatus::Skipped).all(|r| r.pushed.numbers_uploaded == 0));
    // Whoever worked it (one, or one after another), each number went up once: 3 orders of 100.
    assert_eq!(worked.iter().map(|r| r.pushed.numbers_uploaded).sum::<usize>(), 300, "{worked:?}");
    assert_eq!(f.emu.stats().orders_created - orders_before, 3);
    // Nothing is left held: a worker after them gets the lease (and finishes any polls).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = switchboard_sync::work_job(f.stack.repo(), f.backend.as_ref(), Deadline::none(), &f.sync, job.clone())
            .await
            .expect("worker");
        assert_ne!(r.status, RunStatus::Skipped, "the lease was left held: {r:?}");
        assert_eq!(r.pushed.numbers_uploaded, 0, "a number went up twice: {r:?}");
        if all_synced(&f, "contoso", 300).await {
            break;
        }
        assert!(Instant::now() < deadline, "numbers never all synced");
    }
    // Its first load up, the next plan compares it with the backend.
    let job = plan(&f, &f.sync, TENANT).await;
    assert!(job.reconcile && !job.push, "{job:?}");
    switchboard_sync::work_job(f.stack.repo(), f.backend.as_ref(), Deadline::none(), &f.sync, job)
        .await
        .expect("worker");
    let status = f.stack.repo().tenant_sync(TENANT).await.expect("status").expect("a status");
    assert!(status.last_run_ms.is_some() && status.last_reconciled_ms.is_some(), "{status:?}");
    // The same through the API's extension.
    let listed = f.stack.all("/syncTenants").await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["tenantId"], TENANT);
    assert_eq!(listed[0]["lastReconciledMs"].as_u64(), status.last_reconciled_ms);
}

/// A worker stopped dead in the middle of its job (its task dropped, as a Lambda timeout or a
/// crash would) leaves its lease to expire; the next worker then takes the tenant and carries
/// on from what is in the table: every number ends up synced, none lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_run_loses_nothing_and_the_next_carries_on() {
    let mut f = Flow::start(quiet()).await;
    f.consent(TENANT, &["US"]).await;
    f.syncing_account("contoso", TENANT).await;
    let tns = us_numbers(0, 500);
    f.add_oc_numbers("contoso", &tns).await;
    // A short lease, so the test need not wait long for it to expire.
    let lease = Duration::from_secs(8);
    f.sync.lease = lease;
    let job = plan(&f, &f.sync, TENANT).await;
    // 500 ms a call: the five upload orders take seconds, so the kill lands between them.
    f.pace(120);
    let orders_before = f.emu.stats().orders_created;
    let f = Arc::new(f);
    let started = Instant::now();
    let doomed = {
        let (f, job) = (f.clone(), job.clone());
        tokio::spawn(async move {
            switchboard_sync::work_job(f.stack.repo(), f.backend.as_ref(), Deadline::none(), &f.sync, job).await
        })
    };
    // Killed once its first upload order is out, before its last.
    let deadline = Instant::now() + Duration::from_secs(60);
    while f.emu.stats().orders_created == orders_before {
        assert!(Instant::now() < deadline, "the worker sent no order");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    doomed.abort();
    assert!(doomed.await.expect_err("killed").is_cancelled());
    let sent_by_killed = f.emu.stats().orders_created - orders_before;
    assert!(sent_by_killed < 5, "the worker finished before it was killed");
    // Its lease still holds the tenant (it took it after `started`): the next worker steps aside
    // until it expires. (On an engine too slow to get here within the lease, it has expired.)
    let r = switchboard_sync::work_job(f.stack.repo(), f.backend.as_ref(), Deadline::none(), &f.sync, job.clone())
        .await
        .expect("worker");
    if started.elapsed() < lease {
        assert_eq!(r.status, RunStatus::Skipped, "{r:?}");
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut uploaded = 0;
    while !all_synced(&f, "contoso", 500).await {
        assert!(Instant::now() < deadline, "numbers never all synced");
        let r = switchboard_sync::work_job(f.stack.repo(), f.backend.as_ref(), Deadline::none(), &f.sync, job.clone())
            .await
            .expect("worker");
        uploaded += r.pushed.numbers_uploaded;
        if r.status == RunStatus::Skipped {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    // The next workers sent what the killed one had not (an order it sent but had not yet
    // recorded is sent again: the backend takes an upload of a number it holds as a no-op).
    assert!(uploaded >= 500 - 100 * sent_by_killed as usize, "uploaded {uploaded} after the kill");
    let mut held = f.tenant_numbers(TENANT).await;
    held.sort();
    assert_eq!(held, tns);
}

/// Planning reads the queues one tenant at a time: jobs for tenants with pending numbers and
/// releases, none for a quiet tenant once it has been reconciled, and a job that brings a
/// tenant's reconciliation forward after a push.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_has_one_job_per_tenant_with_work() {
    let f = Flow::start(quiet()).await;
    let tenant = |i: usize| format!("{i:08x}-0000-4000-8000-{i:012x}");
    for i in 0..3 {
        f.consent(&tenant(i), &["US"]).await;
        f.syncing_account(&format!("acct{i}"), &tenant(i)).await;
    }
    f.add_oc_numbers("acct0", &us_numbers(0, 250)).await;
    f.add_oc_numbers("acct2", &us_numbers(1000, 3)).await;
    f.sync_until_settled(5).await;
    // One more run reconciles those whose pushes asked for it; then nothing is left to do.
    f.sync().await;
    let (r, jobs) = plan_all(&f, &f.sync).await;
    let planned = r.planned.expect("planned");
    assert_eq!(planned.tenants_syncing, 3);
    // 1 address call + 3 pages for acct0, 1 + 1 for each of the others.
    assert_eq!(planned.full_cycle_calls, 8, "{planned:?}");
    // Reconciled since their last pushes: a quiet tenant waits for its interval.
    assert!(jobs.is_empty(), "{jobs:?}");
    // A new number for acct1 and a deleted one of acct2: one job each, nothing for acct0.
    f.add_oc_numbers("acct1", &us_numbers(2000, 1)).await;
    f.stack.setup("DELETE", &format!("/accounts/acct2/numbers/{}", us_numbers(1000, 1)[0]), None).await;
    let (_, jobs) = plan_all(&f, &f.sync).await;
    assert_eq!(pushing(&jobs), ["acct1", "acct2"], "{jobs:?}");
    // With every tenant due, the jobs with changes are sent first, ahead of acct0's
    // reconciliation, whose turn comes first: on the queue they must not wait behind it.
    let all_due = SyncConfig { reconcile_interval: f.sync.schedule, ..f.sync.clone() };
    let (_, jobs) = plan_all(&f, &all_due).await;
    let sent: Vec<(String, bool, bool)> = jobs.iter().map(|j| (j.accounts.join(","), j.push, j.reconcile)).collect();
    let expected = [("acct1", true, true), ("acct2", true, true), ("acct0", false, true)];
    assert_eq!(sent, expected.map(|(a, p, r)| (a.to_string(), p, r)), "{jobs:?}");
}

/// Orders written before they were filed by tenant (`ORDERS`/`<orderId>`) are refiled by the
/// next plan, then polled and closed like the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_filed_before_the_upgrade_are_still_polled() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let mut f = Flow::start(quiet()).await;
    f.consent(TENANT, &["US"]).await;
    f.syncing_account("contoso", TENANT).await;
    f.add_oc_numbers("contoso", &us_numbers(0, 150)).await;
    // One run that sends the orders and does not wait for them.
    f.sync.poll_rounds = 0;
    f.sync().await;
    let repo = f.stack.repo();
    let open = repo.open_orders().await.expect("orders");
    assert_eq!(open.len(), 2);
    // As the previous release filed them, and before the one-time refiling has run.
    let (db, table) = (repo.client(), repo.table());
    let key = |pk: &str, sk: String| {
        std::collections::HashMap::from([
            ("PK".to_string(), AttributeValue::S(pk.into())),
            ("SK".to_string(), AttributeValue::S(sk)),
        ])
    };
    for o in &open {
        let new_key = key("ORDERS", format!("{TENANT}#{}", o.id));
        let item = db.get_item().table_name(table).set_key(Some(new_key.clone())).send().await.expect("get").item;
        let mut item = item.expect("the order item");
        item.insert("SK".into(), AttributeValue::S(o.id.clone()));
        db.put_item().table_name(table).set_item(Some(item)).send().await.expect("put");
        db.delete_item().table_name(table).set_key(Some(new_key)).send().await.expect("delete");
    }
    let marker = key("SYNC#UPGRADE", "orders-by-tenant".into());
    db.delete_item().table_name(table).set_key(Some(marker)).send().await.expect("delete marker");
    assert!(repo.open_orders_of(TENANT).await.expect("orders").is_empty());
    f.sync.poll_rounds = 3;
    f.sync_until_settled(5).await;
    assert!(all_synced(&f, "contoso", 150).await);
    assert!(repo.open_orders().await.expect("orders").is_empty(), "every order closed, old keys too");
}

/// A tenant too big to compare in one run: each run compares some pages of its numbers and
/// records where it stopped; the next carries on from there (it does not start again), and the
/// run that reaches the end marks the tenant reconciled. Exactly the numbers the enterprise
/// released are reported (one at a page's end, one inside, one in the last page), none falsely.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_tenant_is_reconciled_across_runs_from_where_the_last_stopped() {
    let mut f = Flow::start(Config { page_size: 10, ..quiet() }).await;
    f.consent(TENANT, &["US"]).await;
    f.syncing_account("contoso", TENANT).await;
    let tns = us_numbers(0, 200);
    f.add_oc_numbers("contoso", &tns).await;
    f.sync_until_settled(5).await;
    assert!(all_synced(&f, "contoso", 200).await);
    let released = [&tns[9], &tns[105], &tns[199]];
    for tn in released {
        f.admin("POST", &format!("/admin/tenants/{TENANT}/numbers/{tn}:release"), None).await;
    }
    let mut job = plan(&f, &f.sync, TENANT).await;
    job.reconcile = true;
    job.planned_ms = switchboard_store::now_ms();
    // 100 ms a call and 1.2 s a run: a few of the 20 pages per run.
    f.pace(600);
    let cfg = SyncConfig { stop_margin: Duration::ZERO, ..f.sync.clone() };
    let (mut stops, mut drift, mut runs) = (Vec::new(), Vec::new(), 0);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "the last page was never reached; stops: {stops:?}");
        let run_deadline = Deadline::in_(Duration::from_millis(1200));
        let r = switchboard_sync::work_job(f.stack.repo(), f.backend.as_ref(), run_deadline, &cfg, job.clone())
            .await
            .expect("worker");
        runs += 1;
        drift.extend(r.drift.iter().filter_map(|d| d.telephone_number.clone()));
        let status = f.stack.repo().tenant_sync(TENANT).await.expect("status").expect("a status");
        match status.reconcile_after {
            Some(at) => stops.push(at),
            None if status.last_reconciled_ms >= Some(job.planned_ms) => break,
            None => {}
        }
    }
    assert!(runs >= 2 && !stops.is_empty(), "the comparison fitted one run: make the tenant bigger");
    // Each run went on from the last one's stop: no stop is behind the one before.
    assert!(stops.windows(2).all(|w| w[0] <= w[1]), "{stops:?}");
    drift.sort();
    assert_eq!(drift, released.map(|s| s.to_string()), "exactly the released numbers, once each");
    let synced = f.numbers("contoso").await.iter().filter(|n| n["serviceProvisioningStatus"] == "synced").count();
    assert_eq!(synced, 197);
}

/// A plan sends only the jobs one schedule interval's budget pays for; the others wait
/// (`heldBack`) and are the first sent by the next plan, as the units worked least recently.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_sends_only_what_the_budget_pays_for() {
    let f = Flow::start(quiet()).await;
    let tenant = |i: usize| format!("{i:08x}-0000-4000-8000-{i:012x}");
    for i in 0..4 {
        f.consent(&tenant(i), &["US"]).await;
        f.syncing_account(&format!("acct{i}"), &tenant(i)).await;
        f.add_oc_numbers(&format!("acct{i}"), &us_numbers(i as u64 * 1000, 150)).await;
    }
    // 2 calls a minute and a plan every 5 minutes: 10 calls a plan. Each tenant's push is two
    // uploads and their polls (4); a first load is not compared yet.
    let cfg = SyncConfig { budget_per_minute: 2, ..f.sync.clone() };
    let (r, jobs) = plan_all(&f, &cfg).await;
    let planned = r.planned.expect("planned");
    assert_eq!(pushing(&jobs), ["acct0", "acct1"], "{planned:?} {jobs:?}");
    assert_eq!(planned.held_back, 2, "{planned:?}");
    assert!(jobs.iter().all(|j| !j.reconcile), "{jobs:?}");
    // The look for pending numbers goes on from a cursor and round to the first.
    let past_acct1 = switchboard_store::pending_cursor_past("acct1");
    let scan = f.stack.repo().accounts_with_pending_numbers(Some(&past_acct1), 3).await.expect("scan");
    assert_eq!(scan, ["acct2", "acct3", "acct0"]);
    for job in jobs {
        let r = switchboard_sync::work_job(f.stack.repo(), f.backend.as_ref(), Deadline::none(), &f.sync, job)
            .await
            .expect("worker");
        assert_eq!(r.pushed.numbers_uploaded, 150, "{r:?}");
    }
    let (r, jobs) = plan_all(&f, &cfg).await;
    assert_eq!(pushing(&jobs), ["acct2", "acct3"], "{:?} {jobs:?}", r.planned);
}

/// A consent list longer than a page is pulled at most every `consent_interval`: a plan in
/// between makes no consent call; one with the interval passed pulls again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_consent_list_is_pulled_at_its_interval() {
    let f = Flow::start(quiet()).await;
    for i in 0..101 {
        f.consent(&format!("{i:08x}-0000-4000-8000-{i:012x}"), &["US"]).await;
    }
    let first = plan_all(&f, &f.sync).await.0;
    assert_eq!(first.pulled.consents, 101, "{first:?}");
    assert!(first.upstream.by_class.consent >= 2, "two pages: {first:?}");
    let second = plan_all(&f, &f.sync).await.0;
    assert_eq!((second.pulled.consents, second.upstream.by_class.consent), (0, 0), "{second:?}");
    let due = plan_all(&f, &SyncConfig { consent_interval: Duration::ZERO, ..f.sync.clone() }).await.0;
    assert_eq!(due.pulled.consents, 101, "{due:?}");
}

/// An account bigger than one run's push is sent in every plan while it has pending numbers,
/// ahead of the rotation the others take turns in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_account_goes_every_plan_ahead_of_the_rotation() {
    let f = Flow::start(quiet()).await;
    let tenant = |i: usize| format!("{i:08x}-0000-4000-8000-{i:012x}");
    let account = |i: usize| format!("acct{i:02}");
    for i in 0..13 {
        f.consent(&tenant(i), &["US"]).await;
        f.syncing_account(&account(i), &tenant(i)).await;
        f.add_oc_numbers(&account(i), &us_numbers(i as u64 * 1000, if i == 0 { 250 } else { 50 })).await;
    }
    // 10 calls a plan (5 accounts looked at), and 100 numbers a run: acct00 is big.
    let cfg = SyncConfig { budget_per_minute: 2, max_numbers_per_run: 100, ..f.sync.clone() };
    assert_eq!(pushing(&plan_all(&f, &cfg).await.1), ["acct00", "acct01", "acct02", "acct03", "acct04"]);
    // The next plan goes on with the rotation, and the big account again.
    assert_eq!(pushing(&plan_all(&f, &cfg).await.1), ["acct00", "acct05", "acct06", "acct07", "acct08"]);
}

/// A change made while a worker reconciles its tenant (for a tenant of 200,000 it holds the lease
/// for its whole run, up to the worker's 5-minute timeout) waits neither for the end nor for the
/// next plan: the job that brings the change finds the tenant held and asks the holder, which
/// pushes it between two pages (for an account it did not know of too), polls its orders, and
/// carries on comparing from where it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_jumps_its_tenants_running_reconciliation() {
    let mut f = Flow::start(Config { page_size: 10, ..quiet() }).await;
    f.consent(TENANT, &["US"]).await;
    f.syncing_account("contoso", TENANT).await;
    let mut tns = us_numbers(0, 300);
    // Added later, ahead of the comparison's cursor: it must not be taken as released.
    let late = tns.remove(150);
    f.add_oc_numbers("contoso", &tns).await;
    f.sync_until_settled(5).await;
    assert!(all_synced(&f, "contoso", 299).await);
    let mut reconcile = plan(&f, &f.sync, TENANT).await;
    reconcile.reconcile = true;
    reconcile.planned_ms = switchboard_store::now_ms();
    // 500 ms a call: its 30 pages take fifteen seconds.
    f.pace(120);
    let f = Arc::new(f);
    let requests_before = f.emu.stats().requests;
    let holder = {
        let (f, job) = (f.clone(), reconcile.clone());
        tokio::spawn(async move {
            switchboard_sync::work_job(f.stack.repo(), f.backend.as_ref(), Deadline::none(), &f.sync, job).await
        })
    };
    // It holds the tenant once it has read a page.
    let deadline = Instant::now() + Duration::from_secs(60);
    while f.emu.stats().requests < requests_before + 2 {
        assert!(Instant::now() < deadline, "the reconciliation never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The changes: a number in the account it is comparing, and a new account of the tenant.
    f.add_oc_numbers("contoso", std::slice::from_ref(&late)).await;
    f.syncing_account("fabrikam", TENANT).await;
    f.add_oc_numbers("fabrikam", &us_numbers(900, 1)).await;
    let push = TenantJob {
        accounts: vec!["contoso".into(), "fabrikam".into()],
        push: true,
        reconcile: false,
        planned_ms: switchboard_store::now_ms(),
        ..reconcile.clone()
    };
    let asker = switchboard_sync::work_job(f.stack.repo(), f.backend.as_ref(), Deadline::none(), &f.sync, push.clone())
        .await
        .expect("worker");
    assert_eq!(asker.status, RunStatus::Skipped, "{asker:?}");
    assert!(asker.errors.iter().any(|e| e.contains("asked to push")), "{asker:?}");
    // Synced while the holder is still comparing.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(all_synced(&f, "contoso", 300).await && all_synced(&f, "fabrikam", 1).await) {
        assert!(!holder.is_finished(), "the changes were not synced before the reconciliation ended");
        assert!(Instant::now() < deadline, "the changes were never synced");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!holder.is_finished(), "the changes were not synced before the reconciliation ended");
    let r = holder.await.expect("worker task").expect("worker");
    assert_eq!(r.status, RunStatus::Succeeded, "{r:?}");
    assert_eq!((r.pushed.upload_orders, r.pushed.numbers_uploaded), (2, 2), "{r:?}");
    assert!(r.drift.is_empty(), "{:?}", r.drift);
    let status = f.stack.repo().tenant_sync(TENANT).await.expect("status").expect("a status");
    assert_eq!(status.reconcile_after, None, "{status:?}");
    assert!(status.last_reconciled_ms.is_some_and(|ms| ms >= reconcile.planned_ms), "{status:?}");
    // Nothing is left asked or held: the next worker takes the tenant and finds nothing to push.
    let r = switchboard_sync::work_job(f.stack.repo(), f.backend.as_ref(), Deadline::none(), &f.sync, push)
        .await
        .expect("worker");
    assert_ne!(r.status, RunStatus::Skipped, "{r:?}");
    assert_eq!(r.pushed.numbers_uploaded, 0, "{r:?}");
}

/// A job that pushes and then reconciles a big tenant polls its own order between the
/// comparison's pages: the change is synced while the comparison goes on, not after it (at the
/// issue's size a comparison outlasts the run, and the order waited for the next plan).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jobs_own_push_lands_before_its_reconciliation_ends() {
    let mut f = Flow::start(Config { page_size: 10, ..quiet() }).await;
    f.consent(TENANT, &["US"]).await;
    f.syncing_account("contoso", TENANT).await;
    let mut tns = us_numbers(0, 300);
    let change = tns.remove(150);
    f.add_oc_numbers("contoso", &tns).await;
    f.sync_until_settled(5).await;
    assert!(all_synced(&f, "contoso", 299).await);
    f.add_oc_numbers("contoso", std::slice::from_ref(&change)).await;
    let mut job = plan(&f, &f.sync, TENANT).await;
    assert!(job.push, "{job:?}");
    job.reconcile = true;
    // 500 ms a call: its 30 pages take fifteen seconds.
    f.pace(120);
    let f = Arc::new(f);
    let worker = {
        let (f, job) = (f.clone(), job.clone());
        tokio::spawn(async move {
            switchboard_sync::work_job(f.stack.repo(), f.backend.as_ref(), Deadline::none(), &f.sync, job).await
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !all_synced(&f, "contoso", 300).await {
        assert!(!worker.is_finished(), "the change was not synced before the reconciliation ended");
        assert!(Instant::now() < deadline, "the change was never synced");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Synced while the comparison had most of its pages still to read (after the pages, only a
    // few final polls would be left).
    let calls_when_synced = f.emu.stats().requests;
    let r = worker.await.expect("worker task").expect("worker");
    let calls_after = f.emu.stats().requests - calls_when_synced;
    assert!(calls_after >= 10, "only {calls_after} backend calls after the change was synced");
    assert_eq!(r.status, RunStatus::Succeeded, "{r:?}");
    assert_eq!((r.pushed.upload_orders, r.pushed.numbers_uploaded), (1, 1), "{r:?}");
    assert!(r.drift.is_empty(), "{:?}", r.drift);
    // Its report names the accounts it worked, beside the tenant.
    assert_eq!((r.unit.as_deref(), r.accounts.as_slice()), (Some(TENANT), &["contoso".to_string()][..]));
    let status = f.stack.repo().tenant_sync(TENANT).await.expect("status").expect("a status");
    assert!(status.last_reconciled_ms.is_some_and(|ms| ms >= job.planned_ms), "{status:?}");
}
