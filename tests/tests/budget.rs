//! The shared upstream budget: eight workers (eight clients, as eight Lambda instances would
//! have) calling the backend emulator at once, on the real engine. Each paced only by itself they
//! break the emulator's limit; spending the budget in the table they never do, and the urgent
//! classes go first.

use std::sync::Arc;
use std::time::{Duration, Instant};

use switchboard_backend::{Backend, BackendConfig, CallClass, HttpBackend};
use switchboard_emulator::{Config, Emulator};
use switchboard_store::TableBudget;
use switchboard_tests::*;

/// The emulator's minute, scaled down so a test sees several minutes of budget (a slot every
/// 150 ms: booking one takes a few ms, so even a busy machine keeps the queue full).
const MINUTE: Duration = Duration::from_secs(12);
const LIMIT: usize = 100;
/// Our ceiling: under the limit, with room for a call that is sent a little after its slot.
const RATE: u32 = 80;
const WORKERS: usize = 8;

fn client(emu: &Emulator) -> HttpBackend {
    let mut cfg = BackendConfig::new(emu.url());
    cfg.requests_per_minute = RATE;
    cfg.minute = MINUTE;
    // A refused call is not retried: the emulator's count is what is being measured.
    cfg.max_attempts = 1;
    HttpBackend::new(cfg)
}

/// The worker's class: two workers per class.
fn class_of(worker: usize) -> CallClass {
    CallClass::ALL[worker % 4]
}

/// One upstream call of `class` (what the sync makes for it; unknown ids are fine, each is a request).
async fn call(backend: &HttpBackend, class: CallClass) {
    let _ = match class {
        CallClass::Poll => backend.get_order("no-such-order").await.map(|_| ()),
        CallClass::Change => backend.capability_plans(flow::TENANT).await.map(|_| ()),
        CallClass::Consent => backend.list_consents().await.map(|_| ()),
        CallClass::Reconcile => backend.list_civic_addresses(flow::TENANT).await.map(|_| ()),
    };
}

/// Runs the workers for `minutes` of the emulator's minutes; returns each worker's client.
async fn hammer(backends: Vec<Arc<HttpBackend>>, minutes: u32) -> Vec<Arc<HttpBackend>> {
    let until = Instant::now() + MINUTE * minutes;
    let tasks: Vec<_> = backends
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let b = b.clone();
            tokio::spawn(async move {
                while Instant::now() < until {
                    // A worker blocked past the end (waiting on a slot) is simply stopped there.
                    let left = until.saturating_duration_since(Instant::now());
                    let _ = tokio::time::timeout(left, call(&b, class_of(i))).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("worker");
    }
    backends
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_workers_share_one_budget_and_urgent_calls_go_first() {
    let config = Config { rate_limit_per_minute: LIMIT, minute_ms: MINUTE.as_millis() as u64, ..Config::default() };

    // Without the shared budget: eight clients at 80 a minute each go far past 100.
    let emu = Emulator::start("127.0.0.1:0", config.clone()).await.expect("emulator");
    hammer((0..WORKERS).map(|_| Arc::new(client(&emu))).collect(), 1).await;
    println!("alone: {:?}", emu.stats());
    let alone = emu.stats();
    assert!(alone.rate_limit_violations > 0, "the emulator must see the limit broken: {alone:?}");

    // With it: one item in the table paces all eight.
    let stack = Stack::start().await;
    let emu = Emulator::start("127.0.0.1:0", config).await.expect("emulator");
    let budget =
        Arc::new(TableBudget::new(stack.repo().clone(), switchboard_backend::Rate::new(RATE, MINUTE), MINUTE / 2));
    let minutes = 2;
    let started = Instant::now();
    let backends =
        hammer((0..WORKERS).map(|_| Arc::new(client(&emu).with_pacer(budget.clone()))).collect(), minutes).await;
    let elapsed = started.elapsed();
    let shared = emu.stats();
    assert_eq!(shared.rate_limit_violations, 0, "{shared:?}");
    assert!(shared.max_per_minute <= LIMIT, "{shared:?}");
    // The budget is spent, not left idle: most of the slots of the run were used.
    let slots = RATE as f64 * elapsed.as_secs_f64() / MINUTE.as_secs_f64();
    assert!(shared.requests as f64 >= 0.6 * slots, "{} requests in {slots:.0} slots", shared.requests);
    assert!(shared.requests as f64 <= slots + RATE as f64 * 0.1 + WORKERS as f64, "{shared:?}");

    // Priority: while the urgent classes keep the queue full, reconciliation (the lowest, which may
    // book only when the queue is nearly empty) gets little.
    let by_class = |class: CallClass| -> u64 { backends.iter().map(|b| b.stats().by_class.get(class)).sum() };
    let (poll, change, reconcile) =
        (by_class(CallClass::Poll), by_class(CallClass::Change), by_class(CallClass::Reconcile));
    println!(
        "shared: {shared:?} in {elapsed:?} ({slots:.0} slots); poll {poll}, change {change}, reconcile {reconcile}"
    );
    assert!(poll > 0 && change > 0, "poll {poll}, change {change}");
    assert!(reconcile * 4 < poll, "reconciliation must yield: poll {poll}, change {change}, reconcile {reconcile}");
}
