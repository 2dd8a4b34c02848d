//! (e) Operator scale: a million numbers across five thousand tenants, one of them holding
//! 200,000, synced by the planner and concurrent workers through the shared upstream budget
//! against the emulator with its rate limit on. Time is scaled (`SCALE_MINUTE_MS`: one budget
//! minute in that many real milliseconds, in the emulator's limiter, our budget and every
//! interval of the sync alike), so hours of budget pass in minutes; every time figure is given in
//! emulated time. Sizes come from `SCALE_NUMBERS`, `SCALE_TENANTS`, `SCALE_BIG` (defaults: the
//! issue's), so the same code runs small while it is being worked on.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use switchboard_backend::{BackendConfig, CallStats, HttpBackend};
use switchboard_domain::ProvisioningStatus;
use switchboard_store::{now_ms, TableBudget};
use switchboard_sync::{Deadline, JobSender, SyncConfig, SyncReport, TenantJob};
use switchboard_tests::flow::Flow;
use switchboard_tests::Stack;
use tokio::sync::mpsc;

use super::{oc_csv, runtime_api, secs};

/// The budget the operator is given (as `BACKEND_RATE_PER_MINUTE` in the template) and the
/// backend's own limit just above it (the emulator refuses past it and counts a violation).
const BUDGET_PER_MINUTE: u32 = 90;
const BACKEND_LIMIT: usize = 100;
/// Concurrent workers (the template's `SyncWorkerConcurrency` default).
const WORKERS: usize = 4;
/// The worker's memory in the template (for the cost).
const WORKER_MB: f64 = 256.0;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Sizes {
    numbers: u64,
    tenants: u64,
    big: u64,
    minute_ms: u64,
    /// The steady-state window, in emulated minutes.
    steady_minutes: u64,
}

impl Sizes {
    fn from_env() -> Sizes {
        Sizes {
            numbers: env_u64("SCALE_NUMBERS", 1_000_000),
            tenants: env_u64("SCALE_TENANTS", 5_000),
            big: env_u64("SCALE_BIG", 200_000),
            minute_ms: env_u64("SCALE_MINUTE_MS", 8_000),
            steady_minutes: env_u64("SCALE_STEADY_MINUTES", 60),
        }
    }

    /// Each tenant's count: the first holds `big`, the rest share the others evenly.
    fn per_tenant(&self) -> Vec<u64> {
        let rest = self.tenants - 1;
        let share = (self.numbers - self.big) / rest;
        let extra = (self.numbers - self.big) % rest;
        std::iter::once(self.big).chain((0..rest).map(|i| share + u64::from(i < extra))).collect()
    }

    /// Real time for an emulated span.
    fn real(&self, emulated: Duration) -> Duration {
        emulated.mul_f64(self.minute_ms as f64 / 60_000.0)
    }

    /// Emulated minutes for a real span.
    fn emulated_min(&self, real: Duration) -> f64 {
        real.as_secs_f64() * 1000.0 / self.minute_ms as f64
    }
}

fn tenant(i: usize) -> String {
    format!("{i:08x}-5ca1-4e00-8000-{i:012x}")
}

fn account(i: usize) -> String {
    format!("ent-{i:05}")
}

/// What the workers did in one phase.
#[derive(Default, Clone)]
struct Tally {
    jobs: u64,
    busy: Duration,
    upstream: CallStats,
    synced: usize,
    failed: usize,
    errors: Vec<String>,
}

impl Tally {
    fn add(&mut self, r: &SyncReport, took: Duration) {
        self.jobs += 1;
        self.busy += took;
        self.add_calls(r);
        self.synced += r.results.numbers_synced;
        self.failed += r.results.numbers_failed;
        if self.errors.len() < 5 {
            self.errors.extend(r.errors.iter().take(5 - self.errors.len()).cloned());
        }
    }

    fn add_calls(&mut self, r: &SyncReport) {
        let u = &r.upstream;
        self.upstream.calls += u.calls;
        self.upstream.retries += u.retries;
        self.upstream.by_class.poll += u.by_class.poll;
        self.upstream.by_class.change += u.by_class.change;
        self.upstream.by_class.consent += u.by_class.consent;
        self.upstream.by_class.reconcile += u.by_class.reconcile;
    }

    /// "poll p, change c, consent n, reconcile r"
    fn by_class(&self) -> String {
        let c = &self.upstream.by_class;
        format!("poll {}, change {}, consent {}, reconcile {}", c.poll, c.change, c.consent, c.reconcile)
    }
}

/// The queue: jobs go to the workers as SQS would hand them over.
struct Queue(mpsc::UnboundedSender<TenantJob>);

#[async_trait::async_trait]
impl JobSender for Queue {
    async fn send(&self, jobs: &[TenantJob]) -> Result<(), String> {
        let count = |f: fn(&TenantJob) -> bool| jobs.iter().filter(|j| f(j)).count();
        eprintln!(
            "plan at {} ms: {} jobs (poll {}, push {}, reconcile {})",
            now_ms() % 10_000_000,
            jobs.len(),
            count(|j| j.poll),
            count(|j| j.push),
            count(|j| j.reconcile)
        );
        jobs.iter().try_for_each(|j| self.0.send(j.clone()).map_err(|e| e.to_string()))
    }
}

/// The planner on its schedule and `WORKERS` workers on its queue, until `stop`. Each has its
/// own client (as each Lambda instance would), all spending the one budget in the table.
struct Estate {
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
    /// The planner's own calls (consent pulls, relationship pushes).
    plans: Arc<Mutex<Tally>>,
    last_plan: Arc<Mutex<Option<SyncReport>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Estate {
    fn start(f: &Flow, backend: impl Fn() -> HttpBackend, cfg: SyncConfig, worker_timeout: Duration) -> Estate {
        let stop = Arc::new(AtomicBool::new(false));
        let tally = Arc::new(Mutex::new(Tally::default()));
        let plans = Arc::new(Mutex::new(Tally::default()));
        let last_plan = Arc::new(Mutex::new(None));
        let (tx, rx) = mpsc::unbounded_channel();
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let mut tasks = Vec::new();
        for _ in 0..WORKERS {
            let (repo, backend, cfg, rx, stop, tally) =
                (f.stack.repo().clone(), backend(), cfg.clone(), rx.clone(), stop.clone(), tally.clone());
            tasks.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let next = tokio::time::timeout(Duration::from_millis(200), async { rx.lock().await.recv().await });
                    let Ok(Some(job)) = next.await else { continue };
                    let t = Instant::now();
                    let r =
                        Box::pin(switchboard_sync::work_job(&repo, &backend, Deadline::in_(worker_timeout), &cfg, job))
                            .await;
                    match r {
                        Ok(r) => tally.lock().unwrap().add(&r, t.elapsed()),
                        Err(e) => tally.lock().unwrap().errors.push(format!("job failed: {e}")),
                    }
                }
            }));
        }
        let (repo, stop2, plan, plan_tally) = (f.stack.repo().clone(), stop.clone(), last_plan.clone(), plans.clone());
        let backend = backend();
        tasks.push(tokio::spawn(async move {
            let queue = Queue(tx);
            let mut tick = tokio::time::interval(cfg.schedule);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !stop2.load(Ordering::Relaxed) {
                tick.tick().await;
                let deadline = Deadline::in_(cfg.schedule);
                match switchboard_sync::plan_and_send(&repo, &backend, deadline, &cfg, &queue).await {
                    Ok(r) => {
                        plan_tally.lock().unwrap().add_calls(&r);
                        *plan.lock().unwrap() = Some(r);
                    }
                    Err(e) => eprintln!("plan failed: {e}"),
                }
            }
        }));
        Estate { stop, tally, plans, last_plan, tasks }
    }

    /// This phase's tallies (workers, planner), and fresh ones for the next.
    fn take(&self) -> (Tally, Tally) {
        (std::mem::take(&mut *self.tally.lock().unwrap()), std::mem::take(&mut *self.plans.lock().unwrap()))
    }

    /// Stops after the jobs in hand (their leases are given back).
    async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Waits for `done` (checked every `every`), at most `limit`.
async fn wait_for<F, Fut>(limit: Duration, every: Duration, mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if done().await {
            return true;
        }
        tokio::time::sleep(every).await;
    }
    false
}

async fn settled(f: &Flow) -> bool {
    let repo = f.stack.repo();
    repo.pending_numbers(1).await.map(|p| p.is_empty()).unwrap_or(false)
        && repo.open_orders().await.map(|o| o.is_empty()).unwrap_or(false)
        && repo.pending_releases().await.map(|r| r.is_empty()).unwrap_or(false)
}

async fn status_of(f: &Flow, account: &str, tn: &str) -> Option<ProvisioningStatus> {
    f.stack.repo().get_number(account, tn).await.ok().and_then(|n| n.value.service_provisioning_status)
}

/// Peak RSS (MiB) of the release `sync-worker` binary working one job, handed to it as Lambda's
/// SQS event source would, with `real` to work in.
async fn worker_rss(f: &Flow, sizes: &Sizes, job: &TenantJob, real: Duration) -> Option<(f64, Value)> {
    let bin = switchboard_tests::e2e::root().join("target/release/sync-worker");
    if !bin.exists() {
        return None;
    }
    let event = json!({"Records": [{"messageId": "bench", "body": serde_json::to_string(job).ok()?,
        "eventSource": "aws:sqs", "attributes": {}, "messageAttributes": {}}]});
    let (api, state) = runtime_api::start_with_deadline(event.to_string(), now_ms() + real.as_millis() as u64).await;
    let mut child = tokio::process::Command::new(&bin)
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "sync-worker")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
        .env("RUST_LOG", "warn")
        .env("AWS_ENDPOINT_URL_DYNAMODB", f.stack.engine.endpoint())
        .env("TABLE_NAME", &f.stack.table)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env("BACKEND_URL", f.emu.url())
        .env("BACKEND_CLIENT_ID", "bench")
        .env("BACKEND_CLIENT_SECRET", "bench")
        .env("BACKEND_RATE_PER_MINUTE", BUDGET_PER_MINUTE.to_string())
        .env("BACKEND_MINUTE_MS", sizes.minute_ms.to_string())
        .env("SYNC_STOP_MARGIN_MS", (real.as_millis() / 5).to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let pid = child.id()?;
    let answered = wait_for(real * 2, Duration::from_millis(50), || async {
        state.lock().map(|s| s.answered.is_some()).unwrap_or(false)
    })
    .await;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let _ = child.kill().await;
    assert!(answered, "sync-worker never answered");
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    // The worker's own report, as it stored it.
    let req = switchboard_store::PageRequest { page_size: 50, ..Default::default() };
    let runs = f.stack.repo().list_sync_runs(&req).await.ok()?;
    let report = runs.items.into_iter().find(|r| r["unit"].as_str() == Some(job.unit.as_str()))?;
    Some((kib / 1024.0, report))
}

fn job_for(i: usize, reconcile: bool) -> TenantJob {
    TenantJob {
        unit: tenant(i),
        tenant_id: Some(tenant(i)),
        accounts: vec![account(i)],
        poll: false,
        push: false,
        reconcile,
        consent: switchboard_sync::ConsentSeen::Unknown,
        planned_ms: now_ms(),
    }
}

pub async fn bench_scale() -> String {
    let sizes = Sizes::from_env();
    let per_tenant = sizes.per_tenant();
    let n = sizes.numbers;
    let minute = Duration::from_millis(sizes.minute_ms);
    eprintln!(
        "scale: {n} numbers, {} tenants, the largest {}, a minute in {} ms",
        sizes.tenants, sizes.big, sizes.minute_ms
    );

    let (stack, proxy) = Stack::start_with_faults(1).await;
    let emu_config = switchboard_emulator::Config {
        rate_limit_per_minute: BACKEND_LIMIT,
        minute_ms: sizes.minute_ms,
        page_size: 100,
        polls_to_complete: 1,
        ..Default::default()
    };
    let f = Flow::on(stack, emu_config).await;
    let mut bc = BackendConfig::new(f.emu.url());
    bc.requests_per_minute = BUDGET_PER_MINUTE;
    bc.minute = minute;
    bc.timeout = Duration::from_secs(10);
    let budget = Arc::new(TableBudget::new(f.stack.repo().clone(), bc.rate(), sizes.real(Duration::from_secs(15))));
    let backend = || HttpBackend::new(bc.clone()).with_pacer(budget.clone());
    let cfg = SyncConfig {
        lease: sizes.real(Duration::from_secs(330)),
        stop_margin: sizes.real(Duration::from_secs(20)),
        poll_pause: sizes.real(Duration::from_secs(2)),
        reconcile_interval: sizes.real(Duration::from_secs(24 * 3600)),
        schedule: sizes.real(Duration::from_secs(300)),
        budget_per_minute: BUDGET_PER_MINUTE,
        budget_minute: minute,
        consent_interval: sizes.real(Duration::from_secs(15 * 60)),
        ..SyncConfig::default()
    };
    let worker_timeout = sizes.real(Duration::from_secs(300));

    // The estate: consents, accounts, numbers (pending) through the API.
    let t = Instant::now();
    for i in 0..per_tenant.len() {
        f.consent(&tenant(i), &["GB"]).await;
        f.syncing_account(&account(i), &tenant(i)).await;
    }
    eprintln!("{} tenants with accounts in {}", per_tenant.len(), secs(t.elapsed()));
    proxy.meter();
    let (_, db0) = proxy.counts();
    let t = Instant::now();
    let mut next = 0u64;
    for (i, &count) in per_tenant.iter().enumerate() {
        let mut left = count;
        while left > 0 {
            let rows = left.min(10_000);
            let r = f.stack.import_csv(&account(i), &oc_csv(next, rows)).await;
            assert_eq!(r.status, 200, "{:?}", r.body);
            next += rows;
            left -= rows;
        }
        if i % 500 == 0 {
            eprintln!("imported {next} numbers ({} tenants) in {}", i + 1, secs(t.elapsed()));
        }
    }
    let load_wall = t.elapsed();
    let (_, db1) = proxy.counts();
    let cap1 = proxy.capacity();

    // (1) The initial load: everything synced.
    let floor: u64 = per_tenant.iter().map(|c| 2 * c.div_ceil(100)).sum();
    let emu0 = f.emu.stats();
    let t = Instant::now();
    let estate = Estate::start(&f, backend, cfg.clone(), worker_timeout);
    let limit = sizes.real(Duration::from_secs(60)).mul_f64(floor as f64 / f64::from(BUDGET_PER_MINUTE) * 3.0)
        + Duration::from_secs(1800);
    let done = wait_for(limit, Duration::from_secs(1), || settled(&f)).await;
    let initial_wall = t.elapsed();
    let emu1 = f.emu.stats();
    let (_, db2) = proxy.counts();
    let cap2 = proxy.capacity();
    let (initial, initial_plans) = estate.take();
    eprintln!("initial load: settled={done} in {} ({} upstream)", secs(initial_wall), emu1.requests - emu0.requests);
    let held: usize = emu1.numbers_by_tenant.values().sum();

    // After its load every tenant is reconciled once (its pushes ask for it soon): the first
    // comparison mirrors the backend's view of each number, a write each. Timed, and kept out
    // of the steady state, which it would make look like a day of full cycles.
    let t = Instant::now();
    let all_tenants = per_tenant.len();
    let limit = sizes.real(Duration::from_secs(60)).mul_f64(floor as f64 / f64::from(BUDGET_PER_MINUTE) * 2.0)
        + Duration::from_secs(900);
    let first_done = wait_for(limit, Duration::from_secs(1), || async {
        let syncs = f.stack.repo().all_tenant_syncs().await.unwrap_or_default();
        syncs.iter().filter(|s| s.last_reconciled_ms.is_some()).count() >= all_tenants
    })
    .await;
    let first_wall = t.elapsed();
    let emu_first = f.emu.stats();
    let (_, db_first) = proxy.counts();
    let cap_first = proxy.capacity();
    let (first, first_plans) = estate.take();
    eprintln!("first reconciliation: done={first_done} in {}", secs(first_wall));

    // (2) and (3) Steady state: no changes but two, one on a small tenant and one on the big
    // one, each timed until it is synced while the estate is reconciled.
    let steady_start = Instant::now();
    let steady_start_ms = now_ms();
    let window = sizes.real(Duration::from_secs(60 * sizes.steady_minutes));
    let small = (per_tenant.len() - 1).min(1);
    let mut push_times = Vec::new();
    for (i, tn) in [(small, "+442089990001"), (0, "+442089990002")] {
        tokio::time::sleep(sizes.real(Duration::from_secs(600))).await;
        let t = Instant::now();
        f.add_oc_numbers(&account(i), &[tn.to_string()]).await;
        let synced = wait_for(window, Duration::from_millis(100), || async {
            status_of(&f, &account(i), tn).await == Some(ProvisioningStatus::Synced)
        })
        .await;
        push_times.push((i, synced.then(|| t.elapsed())));
    }
    let rest = window.saturating_sub(steady_start.elapsed());
    tokio::time::sleep(rest).await;
    let steady_wall = steady_start.elapsed();
    let (steady, steady_plans) = estate.take();
    let emu2 = f.emu.stats();
    let (_, db3) = proxy.counts();
    let cap3 = proxy.capacity();
    let plan = estate.last_plan.lock().unwrap().clone();
    estate.stop().await;
    let syncs = f.stack.repo().all_tenant_syncs().await.expect("tenant syncs");
    let reconciled: HashSet<&str> = syncs
        .iter()
        .filter(|s| s.last_reconciled_ms.is_some_and(|ms| ms >= steady_start_ms))
        .map(|s| s.tenant_id.as_str())
        .collect();
    let numbers_reconciled: u64 =
        per_tenant.iter().enumerate().filter(|(i, _)| reconciled.contains(tenant(*i).as_str())).map(|(_, c)| c).sum();

    // (5) A worker's peak memory, small tenant and big, reconciling for a (real) 40 s.
    let rss_small = worker_rss(&f, &sizes, &job_for(small, true), Duration::from_secs(40)).await;
    let rss_big = worker_rss(&f, &sizes, &job_for(0, true), Duration::from_secs(40)).await;

    // Figures.
    let steady_min = sizes.emulated_min(steady_wall);
    let rec_calls = steady.upstream.by_class.reconcile;
    let rec_per_min = rec_calls as f64 / steady_min;
    let planned = plan.as_ref().and_then(|p| p.planned.clone());
    let cycle_calls = planned.as_ref().map(|p| p.full_cycle_calls).unwrap_or(0);
    let steady_calls = emu2.requests - emu_first.requests;
    let first_calls = emu_first.requests - emu1.requests;
    // What the steady state spends on anything but reconciliation leaves the rest for it.
    let other_per_min = (steady_calls.saturating_sub(rec_calls)) as f64 / steady_min;
    let left_per_min = (f64::from(BUDGET_PER_MINUTE) - other_per_min).max(f64::MIN_POSITIVE);
    let cycle_hours = cycle_calls as f64 / left_per_min / 60.0;
    // The load's own calls (uploads and their polls), without the reconciliations of tenants
    // already up and the planner's consent pulls that the same hours hold.
    let load_calls =
        initial.upstream.by_class.change + initial.upstream.by_class.poll + initial_plans.upstream.by_class.poll;
    let initial_calls = emu1.requests - emu0.requests;
    let initial_hours = sizes.emulated_min(initial_wall) / 60.0;
    let first_hours = sizes.emulated_min(first_wall) / 60.0;
    let first_note = if first_done { "" } else { " (not finished: the bench stopped waiting)" };
    let floor_hours = floor as f64 / f64::from(BUDGET_PER_MINUTE) / 60.0;
    let per_day = |x: f64| x * 1440.0 / steady_min;
    let (load_db, sync_db, first_db, steady_db) = (db1 - db0, db2 - db1, db_first - db2, db3 - db_first);
    let (load_cap, sync_cap) = ((cap1.0, cap1.1), (cap2.0 - cap1.0, cap2.1 - cap1.1));
    let first_cap = (cap_first.0 - cap2.0, cap_first.1 - cap2.1);
    let steady_cap = (cap3.0 - cap_first.0, cap3.1 - cap_first.1);
    let nf = n as f64;
    let fmt_push = |(i, t): &(usize, Option<Duration>)| match t {
        Some(t) => format!(
            "{:.1} emulated min ({} real) for a tenant of {} numbers",
            sizes.emulated_min(*t),
            secs(*t),
            per_tenant[*i]
        ),
        None => format!("not synced within the window, tenant of {} numbers", per_tenant[*i]),
    };
    let fmt_rss = |r: &Option<(f64, Value)>| match r {
        Some((mib, rep)) => format!(
            "{mib:.1} MiB ({} reconcile calls in its run, stopped early: {})",
            rep["upstream"]["byClass"]["reconcile"], rep["stoppedEarly"]
        ),
        None => "not measured (no release build of sync-worker)".into(),
    };

    // (6) Cost a month (30 days) of the steady state, at the prices below.
    const LAMBDA_GB_S: f64 = 0.000_013_333_4; // arm64, us-east-1
    const LAMBDA_REQ: f64 = 0.20 / 1e6;
    const RRU: f64 = 0.125 / 1e6; // on-demand read request unit
    const WRU: f64 = 0.625 / 1e6; // on-demand write request unit
    const STORAGE_GB: f64 = 0.25;
    const SQS_REQ: f64 = 0.40 / 1e6;
    let month = |per_window: f64| per_day(per_window) * 30.0;
    // Lambda bills real time: a scaled second of the bench is 1/scale seconds in AWS.
    let scale = sizes.minute_ms as f64 / 60_000.0;
    let worker_gb_s = month(steady.busy.as_secs_f64() / scale) * WORKER_MB / 1024.0;
    let invocations = month(steady.jobs as f64) + 30.0 * 288.0;
    let lambda = worker_gb_s * LAMBDA_GB_S + invocations * LAMBDA_REQ;
    let dynamo = month(steady_cap.0) * RRU + month(steady_cap.1) * WRU;
    let table_gb = load_cap.1 / 1024.0 / 1024.0 * 1.0; // ≈ 1 KB per write unit written at load
    let storage = table_gb * STORAGE_GB;
    let sqs = month(steady.jobs as f64) * 3.0 * SQS_REQ; // send, receive, delete
    let total = lambda + dynamo + storage + sqs;
    let big_count = per_tenant[0];
    let small_count = per_tenant[small];

    let upstream_target = if (initial_calls as f64) <= 1.1 * floor as f64 { "met" } else { "not met" };
    let violations = emu2.rate_limit_violations;
    format!(
        "## (e) Operator scale: {n} numbers, {tenants} tenants\n\n\
Reproduce: `scripts/bench scale` (sizes from `SCALE_NUMBERS`, `SCALE_TENANTS`, `SCALE_BIG`; time scale \
`SCALE_MINUTE_MS`). {n} pending Operator Connect numbers across {tenants} tenants (one account each; the \
largest holds {big_count}, the others {small_count} or so) are imported through the API (`:importNumbers`, \
10,000 rows a call), then synced by the planner on its 5-minute schedule and {WORKERS} workers on its queue, \
all spending the one upstream budget ({BUDGET_PER_MINUTE} calls a minute) in the table, against the \
emulator with its limit on ({BACKEND_LIMIT} a minute; orders finish on their first poll). One minute of \
budget passes in {minute_ms} ms, in the emulator's limiter, our budget and the sync's intervals alike, so \
every time below is emulated time (real time in brackets). The embedded engine serves DynamoDB behind a \
proxy that counts requests and asks each for its consumed capacity. Release build.\n\n\
| # | Figure | Value | Target |\n|---|---|---|---|\n\
| 1 | Initial load: upstream calls | {initial_calls} against a floor of {floor} (Σ ⌈n/100⌉ uploads + one poll each): **{:.3}×**; of them uploads and polls {load_calls} (**{:.3}×**) | ≤ 1.1×: {upstream_target} |\n\
| 1 | Initial load: until every number is synced | {initial_hours:.1} emulated h ({}), the floor's calls at the budget take {floor_hours:.1} h | |\n\
| 1 | Numbers synced / held by the emulator | {} / {held} ({} failed) | all |\n\
| 1 | After the load, every tenant reconciled once | {first_hours:.1} emulated h ({}), {first_calls} upstream calls{first_note} | |\n\
| 2 | Steady state, reconciliation | {rec_calls} calls in {steady_min:.0} emulated min ({rec_per_min:.1} a minute of {BUDGET_PER_MINUTE}); {} tenants ({numbers_reconciled} numbers) reconciled in it | |\n\
| 2 | Calls a day for reconciliation (the estate once a day) | {cycle_calls} | ≤ {} (the day's budget) |\n\
| 2 | Full cycle at the budget left over ({left_per_min:.1} a minute of {BUDGET_PER_MINUTE}) | {cycle_hours:.1} h; the planner spreads it over the 24-h interval | ≤ 24 h |\n\
| 3 | A change, until pushed and synced | {}; {} | ≤ 5 min + the order's time |\n\
| 4 | DynamoDB requests a number: import / initial sync / first reconciliation / steady day | {:.2} / {:.2} / {:.2} / {:.3} | |\n\
| 4 | Capacity units a number (read + write): import / initial sync / first reconciliation / steady day | {:.2}+{:.2} / {:.2}+{:.2} / {:.2}+{:.2} / {:.3}+{:.3} | |\n\
| 5 | Worker peak RSS, tenant of {small_count} | {} | flat |\n\
| 5 | Worker peak RSS, tenant of {big_count} | {} | flat |\n\
| 6 | AWS cost a month, steady state | **${total:.2}**: Lambda ${lambda:.2} ({:.0} invocations, {worker_gb_s:.0} GB-s), DynamoDB requests ${dynamo:.2}, storage ${storage:.2} ({table_gb:.2} GB), SQS ${sqs:.2} | |\n\n\
Also measured: rate-limit violations at the emulator {violations}; upstream calls by class in the initial \
load (workers: {}; planner: {}), in the first reconciliation (workers: {}; planner: {}) and in the steady window ({steady_calls} in all; workers: {}; planner: {}); \
worker jobs {} in the initial load, {} in the steady window; import {} real ({} requests). First worker \
errors: {:?}.\n\n\
Prices assumed (us-east-1, on-demand, December 2026 list): Lambda arm64 $0.0000133334 a GB-second and \
$0.20 a million requests (the worker at {WORKER_MB} MB, billed for its real time, most of it waiting for \
budget slots; the planner 288 runs a day); DynamoDB $0.125 a million read request units, $0.625 a million \
write request units, $0.25 a GB-month; SQS $0.40 a million requests (send, receive, delete a job). Free \
tiers not counted. The month is 30 steady days; an estate that changes pays its changes on top.\n",
        initial_calls as f64 / floor as f64,
        load_calls as f64 / floor as f64,
        secs(initial_wall),
        initial.synced + first.synced + steady.synced,
        initial.failed + first.failed + steady.failed,
        secs(first_wall),
        reconciled.len(),
        u64::from(BUDGET_PER_MINUTE) * 1440,
        fmt_push(&push_times[0]),
        fmt_push(&push_times[1]),
        load_db as f64 / nf,
        sync_db as f64 / nf,
        first_db as f64 / nf,
        per_day(steady_db as f64) / nf,
        load_cap.0 / nf,
        load_cap.1 / nf,
        sync_cap.0 / nf,
        sync_cap.1 / nf,
        first_cap.0 / nf,
        first_cap.1 / nf,
        per_day(steady_cap.0) / nf,
        per_day(steady_cap.1) / nf,
        fmt_rss(&rss_small),
        fmt_rss(&rss_big),
        invocations,
        initial.by_class(),
        initial_plans.by_class(),
        first.by_class(),
        first_plans.by_class(),
        steady.by_class(),
        steady_plans.by_class(),
        initial.jobs,
        steady.jobs,
        secs(load_wall),
        load_db,
        initial.errors.iter().chain(steady.errors.iter()).take(3).collect::<Vec<_>>(),
        tenants = sizes.tenants,
        minute_ms = sizes.minute_ms,
    )
}
