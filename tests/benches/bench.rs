//! `scripts/bench [section…]`: the benchmarks of BENCHMARKS.md, each figure a ratio against a
//! floor measured on the same engine in the same run (these machines are shared and noisy).
//! Sections: `import` (a: 10,000 numbers through `:createOrUpdateNumbers` and `:importNumbers`,
//! over HTTP and through the portal, vs raw BatchWriteItem), `get` (b: GET of a number through
//! the handler vs a raw GetItem, p50/p99), `sync` (d: a sync of 100,000 numbers against the
//! emulator), `coldstart` (c: each release binary's cold start vs a bare `lambda_runtime` one,
//! its size and peak memory), `scale` (e: a million numbers across five thousand tenants, fanned out,
//! against the emulator's limit on a scaled clock). No argument: all of them. Each rewrites its own section of BENCHMARKS.md.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use serde_json::{json, Value};
use switchboard_api::API_VERSION;
use switchboard_domain::number_csv;
use switchboard_store::batch::write_all;
use switchboard_store::item::number_item;
use switchboard_tests::browser::Browser;
use switchboard_tests::e2e::Gateway;
use switchboard_tests::flow::{Flow, TENANT};
use switchboard_tests::{csv_rows, full_account_body, token, Stack, ADMIN};

#[path = "bench/scale.rs"]
mod scale;

const ROWS: u64 = 10_000;
const ROUNDS: usize = 3;

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn percentile(v: &[Duration], p: f64) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1]
}

/// The raw-write floor: `body`'s numbers as stored items, written with BatchWriteItem.
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

/// One round: the floor, then the same numbers through `:importNumbers` and through 100 calls of
/// `:createOrUpdateNumbers`, each on a fresh account of the same engine.
async fn import_round(body: &str) -> (Duration, Duration, Duration) {
    let s = Stack::start().await;
    for a in ["contoso", "batched"] {
        assert!(s.admin("PUT", &format!("/accounts/{a}"), Some(full_account_body(a))).await.status.is_success());
    }
    let floor = floor(&s, body).await;
    let t = Instant::now();
    let r = s.import_csv("contoso", body).await;
    let import = t.elapsed();
    assert_eq!(r.status, 200, "{:?}", r.body);
    // Other numbers of the same shapes: the imported ones belong to contoso now.
    let numbers: Vec<Value> = number_csv::parse("batched", csv_rows(500_000, ROWS).as_bytes())
        .unwrap()
        .into_iter()
        .map(|r| serde_json::to_value(r.number).unwrap())
        .collect();
    let t = Instant::now();
    for chunk in numbers.chunks(100) {
        let r = s.admin("POST", "/accounts/batched:createOrUpdateNumbers", Some(json!({ "numbers": chunk }))).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    (floor, import, t.elapsed())
}

async fn bench_import() -> String {
    let body = csv_rows(0, ROWS);
    let (mut floors, mut imports, mut batches) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (f, i, b) = import_round(&body).await;
        eprintln!("round {round}: floor {} import {} batches {}", secs(f), secs(i), secs(b));
        floors.push(f);
        imports.push(i);
        batches.push(b);
    }
    let (floor, import, batch) = (median(floors), median(imports), median(batches));

    // The local stack: over HTTP, then through the portal.
    let gw = Gateway::start("switchboard-bench", &[]).await;
    let c = &gw.client;
    for name in ["viahttp", "viaportal"] {
        let (status, _, body) = c.call("PUT", &format!("/accounts/{name}"), Some(full_account_body(name))).await;
        assert!(status < 300, "{body}");
    }
    let t = Instant::now();
    let resp = c
        .http
        .post(format!("{}/accounts/viahttp:importNumbers?api-version={API_VERSION}", c.base))
        .bearer_auth(&c.token)
        .header("content-type", "text/csv")
        .body(csv_rows(100_000, ROWS))
        .send()
        .await
        .expect("import over HTTP");
    let http = t.elapsed();
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);

    let file = std::env::temp_dir().join("switchboard-bench-10000.csv");
    std::fs::write(&file, csv_rows(200_000, ROWS)).unwrap();
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
    format!(
        "## (a) 10,000 numbers written\n\n\
Reproduce: `scripts/bench import`. Engine: the embedded dynoxide engine over loopback HTTP, in memory. \
Floor: the same 10,000 number items written raw with BatchWriteItem (25 per request, unprocessed items \
retried), on the same engine, in the same run. Target: ≤ 1.5× the floor.\n\n\
| Path | Time | × floor |\n|---|---|---|\n\
| Floor: raw BatchWriteItem, 10,000 items (median of {ROUNDS}) | {} | 1.00 |\n\
| `:importNumbers`, one 10,000-row CSV, through the API handler, release build (median of {ROUNDS}) | {} | {:.2} |\n\
| `:createOrUpdateNumbers`, 100 calls of 100, through the API handler, release build (median of {ROUNDS}) | {} | {:.2} |\n\
| `:importNumbers` over HTTP through `cargo lambda watch` (debug functions) | {} | {:.2} |\n\
| File upload in the portal, headless Chromium, click to result shown (debug functions) | {} | {:.2} |\n\n\
What the API does beyond the floor, by design: it reads every number first (BatchGetItem, 100 keys a \
request) to check ownership; it writes conditional transactions of 97 numbers \
with the account's counters and the audit event in each; a write that needs more than one \
transaction (the import, and a batch of more than 97 numbers) is journaled, so any failure rolls back: \
a head item put first and deleted to commit, and in each transaction a journal item with the items it \
replaced; the import also claims and releases the account's import slot.\n",
        secs(floor),
        secs(import),
        ratio(import),
        secs(batch),
        ratio(batch),
        secs(http),
        ratio(http),
        secs(portal),
        ratio(portal),
    )
}

async fn bench_get() -> String {
    const N: usize = 2000;
    let s = Stack::start().await;
    s.admin("PUT", "/accounts/contoso", Some(full_account_body("contoso"))).await;
    let body = switchboard_tests::number_body("contoso", "+15105850321");
    assert_eq!(s.admin("PUT", "/accounts/contoso/numbers/+15105850321", Some(body)).await.status, 201);
    let client = s.engine.client();
    let key = switchboard_store::keys::number("+15105850321");
    let t = token(ADMIN);
    let (mut handler, mut raw) = (Vec::with_capacity(N), Vec::with_capacity(N));
    for i in 0..N + 200 {
        // Alternate, so both see the same machine noise.
        let a = Instant::now();
        let r = s.send("GET", "/accounts/contoso/numbers/+15105850321", Some(&t), None, &[]).await;
        let h = a.elapsed();
        assert_eq!(r.status, 200);
        let a = Instant::now();
        let out = client.get_item().table_name(&s.table).set_key(Some(key.clone())).consistent_read(true).send().await;
        let g = a.elapsed();
        assert!(out.unwrap().item.is_some());
        if i >= 200 {
            handler.push(h);
            raw.push(g);
        }
    }
    let (h50, h99, r50, r99) =
        (percentile(&handler, 0.5), percentile(&handler, 0.99), percentile(&raw, 0.5), percentile(&raw, 0.99));
    format!(
        "## (b) GET of one number\n\n\
Reproduce: `scripts/bench get`. {N} requests after 200 warm-up, alternating: `GET /accounts/{{a}}/numbers/{{tn}}` \
through the API handler (JWT check, routing, GetItem, JSON) vs a raw consistent GetItem of the same item, \
release build, embedded engine over loopback HTTP. Target: ≤ 1.3×.\n\n\
| | p50 | p99 |\n|---|---|---|\n\
| Floor: raw GetItem | {} | {} |\n\
| Handler | {} | {} |\n\
| × floor | {:.2} | {:.2} |\n",
        ms(r50),
        ms(r99),
        ms(h50),
        ms(h99),
        h50.as_secs_f64() / r50.as_secs_f64(),
        h99.as_secs_f64() / r99.as_secs_f64(),
    )
}

/// `count` Operator Connect numbers from `+44207<start>` as a CSV.
fn oc_csv(start: u64, count: u64) -> String {
    let mut body = String::from("telephoneNumber,serviceDetails_teamsOperatorConnect_enabled,serviceDetails_teamsOperatorConnect_assignmentStatus,serviceDetails_teamsOperatorConnect_configuration_usage,serviceDetails_teamsOperatorConnect_configuration_choosableCapabilities\n");
    for i in start..start + count {
        body.push_str(&format!("+44207{i:07},true,unassigned,CallingUserAssignment,InboundCalling\n"));
    }
    body
}

async fn bench_sync() -> String {
    const TOTAL: u64 = 100_000;
    let (stack, proxy) = Stack::start_with_faults(1).await;
    let config = switchboard_emulator::Config {
        rate_limit_per_minute: 1_000_000,
        page_size: 1000,
        polls_to_complete: 1,
        ..Default::default()
    };
    let mut f = Flow::on(stack, config).await;
    f.pace(1_000_000);
    f.sync.poll_pause = Duration::from_millis(5);
    f.sync.poll_rounds = 50;
    f.consent(TENANT, &["GB"]).await;
    f.syncing_account("contoso", TENANT).await;
    for part in 0..TOTAL / ROWS {
        let r = f.stack.import_csv("contoso", &oc_csv(part * ROWS, ROWS)).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let (_, db_before) = proxy.counts();
    let emu_before = f.emu.stats();
    let t = Instant::now();
    let reports = f.sync_until_settled(50).await;
    let wall = t.elapsed();
    let (_, db_after) = proxy.counts();
    let emu_after = f.emu.stats();
    let synced: usize = reports.iter().map(|r| r.results.numbers_synced).sum();
    let orders: usize = reports.iter().map(|r| r.pushed.upload_orders).sum();
    let upstream: u64 = reports.iter().map(|r| r.upstream.calls).sum();
    assert_eq!(synced as u64, TOTAL, "every number synced");
    let held = f.tenant_numbers(TENANT).await.len();
    assert_eq!(held as u64, TOTAL);
    let db_calls = db_after - db_before;
    format!(
        "## (d) Sync of 100,000 numbers\n\n\
Reproduce: `scripts/bench sync`. 100,000 pending Operator Connect numbers of one syncing account (imported \
first), synced against the backend emulator (no rate limit in the way, orders complete on the first poll), \
release build; DynamoDB calls counted by a proxy in front of the embedded engine.\n\n\
| Figure | Value |\n|---|---|\n\
| Wall time, until nothing is pending or in flight | {} |\n\
| Sync runs (10,000 numbers a run) | {} |\n\
| Upload orders (≤ 100 numbers each) | {orders} |\n\
| Upstream calls (our client's count) | {upstream} |\n\
| Upstream requests (the emulator's count) | {} |\n\
| DynamoDB calls | {db_calls} |\n\
| DynamoDB calls per number | {:.2} |\n\
| Numbers per second | {:.0} |\n",
        secs(wall),
        reports.len(),
        emu_after.requests.saturating_sub(emu_before.requests),
        db_calls as f64 / TOTAL as f64,
        TOTAL as f64 / wall.as_secs_f64(),
    )
}

/// A minimal Lambda Runtime API: hands out one event, then records when its response arrives.
mod runtime_api {
    use axum::extract::{Path, State};
    use axum::http::HeaderMap;
    use axum::routing::{get, post};
    use axum::Router;
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    #[derive(Default)]
    pub struct Shared {
        pub event: String,
        pub answered: Option<Instant>,
        pub served: bool,
        pub deadline_ms: u64,
    }

    pub type Handle = Arc<Mutex<Shared>>;

    async fn next(State(s): State<Handle>) -> (HeaderMap, String) {
        let first = {
            let mut g = s.lock().unwrap();
            let first = !g.served;
            g.served = true;
            first.then(|| (g.event.clone(), g.deadline_ms))
        };
        let Some((event, deadline_ms)) = first else {
            // One invocation per process: park the next poll until the process is killed.
            std::future::pending::<()>().await;
            unreachable!()
        };
        let mut h = HeaderMap::new();
        h.insert("lambda-runtime-aws-request-id", "bench-1".parse().unwrap());
        h.insert("lambda-runtime-deadline-ms", deadline_ms.to_string().parse().unwrap());
        h.insert(
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:000000000000:function:bench".parse().unwrap(),
        );
        h.insert("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000".parse().unwrap());
        (h, event)
    }

    async fn response(State(s): State<Handle>, Path(_id): Path<String>) -> &'static str {
        s.lock().unwrap().answered = Some(Instant::now());
        "{}"
    }

    pub async fn start(event: String) -> (String, Handle) {
        start_with_deadline(event, u64::MAX / 2).await
    }

    /// As `start`, the invocation's deadline `deadline_ms` (since the epoch).
    pub async fn start_with_deadline(event: String, deadline_ms: u64) -> (String, Handle) {
        let state: Handle = Arc::new(Mutex::new(Shared { event, deadline_ms, ..Default::default() }));
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(response))
            .route("/2018-06-01/runtime/init/error", post(|| async { "{}" }))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (addr, state)
    }
}

/// One cold start of `bin`: exec to the first completed invocation, and the process's peak RSS (KiB).
async fn cold_start(bin: &std::path::Path, event: &Value, env: &[(String, String)]) -> (Duration, u64) {
    let (api, state) = runtime_api::start(event.to_string()).await;
    let start = Instant::now();
    let mut child = tokio::process::Command::new(bin)
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
        .env("RUST_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let pid = child.id().expect("pid");
    let answered = loop {
        if let Some(t) = state.lock().unwrap().answered {
            break t;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{} never answered", bin.display());
        tokio::time::sleep(Duration::from_micros(200)).await;
    };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss_kb = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let _ = child.kill().await;
    (answered - start, rss_kb)
}

/// An API Gateway (HTTP API, payload 2.0) event for `method route`, parameters filled in.
fn http_event(method: &str, route: &str, token: &str) -> Value {
    let params: serde_json::Map<String, Value> = route
        .split(['{', '}'])
        .skip(1)
        .step_by(2)
        .map(|p| {
            let v = match p {
                "accountName" => "contoso",
                "telephoneNumber" => "+15105850321",
                "tenantId" => TENANT,
                "civicAddressId" => "ca-1",
                _ => "x",
            };
            (p.to_string(), json!(v))
        })
        .collect();
    let mut path = route.to_string();
    for (k, v) in &params {
        path = path.replace(&format!("{{{k}}}"), v.as_str().unwrap());
    }
    json!({
        "version": "2.0", "routeKey": format!("{method} {route}"), "rawPath": path,
        "rawQueryString": format!("api-version={API_VERSION}"),
        "headers": {"authorization": format!("Bearer {token}"), "host": "localhost"},
        "queryStringParameters": {"api-version": API_VERSION},
        "pathParameters": params,
        "requestContext": {"accountId": "000000000000", "apiId": "bench", "domainName": "localhost", "domainPrefix": "localhost",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "bench"},
            "requestId": "bench", "routeKey": format!("{method} {route}"), "stage": "$default", "time": "27/Nov/2026:00:00:00 +0000", "timeEpoch": 0},
        "isBase64Encoded": false
    })
}

async fn bench_coldstart() -> String {
    const RUNS: usize = 15;
    let release = switchboard_tests::e2e::root().join("target/release");
    let engine =
        switchboard_devtools::Engine::start(switchboard_devtools::Storage::Memory, "127.0.0.1:0").await.unwrap();
    switchboard_devtools::schema::ensure_table(&engine.client(), "switchboard").await.unwrap();
    // The sync's first invocation is a whole run: against the emulator with nothing to do, that is
    // start-up plus pulling consents and finding no work. Its upstream pacing (90 requests a
    // minute by default, so 667 ms between calls) is lifted: it is policy, not start-up.
    let emu =
        switchboard_emulator::Emulator::start("127.0.0.1:0", switchboard_emulator::Config::default()).await.unwrap();
    let token =
        switchboard_api::auth::mint_dev_token(switchboard_devtools::DEV_SIGNING_KEY.as_bytes(), "bench", ADMIN, 600)
            .unwrap();
    let env: Vec<(String, String)> = [
        ("AWS_ENDPOINT_URL_DYNAMODB", engine.endpoint()),
        ("TABLE_NAME", "switchboard".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "local".into()),
        ("AWS_SECRET_ACCESS_KEY", "local".into()),
        ("AUTH_MODE", "verify".into()),
        ("DEV_SIGNING_KEY", switchboard_devtools::DEV_SIGNING_KEY.into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    // As in infra/template.yaml, only these two are given the backend service (building its
    // HTTP client is ~2.5 ms of start-up).
    let with_backend = |name: &str| {
        let mut env = env.clone();
        if name == "account-actions" || name == "sync" {
            env.extend(
                [
                    ("BACKEND_URL", emu.url()),
                    ("BACKEND_RATE_PER_MINUTE", "60000".into()),
                    ("BACKEND_CLIENT_ID", "bench".into()),
                    ("BACKEND_CLIENT_SECRET", "bench".into()),
                ]
                .map(|(k, v)| (k.to_string(), v)),
            );
        }
        env
    };
    // Each function's starts alternate with the floor's, so a busy moment of this shared machine
    // weighs on both sides of its ratio alike.
    let floor_bin = release.join("lambda-hello");
    let floor_event = json!({"hello": "world"});
    let measure = |bin: std::path::PathBuf, event: Value, env: Vec<(String, String)>| {
        let (floor_bin, floor_event, floor_env) = (floor_bin.clone(), floor_event.clone(), env.clone());
        async move {
            let (mut times, mut floors) = (Vec::new(), Vec::new());
            let (mut rss, mut floor_rss) = (0, 0);
            for _ in 0..RUNS {
                let (f, fr) = cold_start(&floor_bin, &floor_event, &floor_env).await;
                floors.push(f);
                floor_rss = floor_rss.max(fr);
                let (t, r) = cold_start(&bin, &event, &env).await;
                times.push(t);
                rss = rss.max(r);
            }
            let size = std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);
            (median(times), median(floors), rss, floor_rss, size)
        }
    };
    let (floor, _, floor_rss, _, floor_size) = measure(floor_bin.clone(), floor_event.clone(), env.clone()).await;
    let mut functions: Vec<(String, Value)> = switchboard_api::ROUTES
        .iter()
        .map(|r| (r.function.to_string(), http_event(r.method, r.path, &token)))
        .collect();
    functions.push(("portal".into(), http_event("GET", "/portal/", &token)));
    functions.push(("openapi".into(), http_event("GET", "/openapi.json", &token)));
    functions.push(("sync".into(), json!({"source": "aws.scheduler", "detail": {}})));
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    for (name, event) in functions {
        if !release.join(&name).exists() {
            missing.push(format!("`{name}`"));
            continue;
        }
        let (t, paired_floor, rss, _, size) = measure(release.join(&name), event, with_backend(&name)).await;
        let ratio = t.as_secs_f64() / paired_floor.as_secs_f64();
        eprintln!("{name}: {} ({ratio:.2}x), {rss} KiB peak, {size} bytes", ms(t));
        let mib = |b: u64| b as f64 / 1_048_576.0;
        rows.push(format!(
            "| `{name}` | {} | {ratio:.2} | {:.1} MiB | {:.1} MiB |",
            ms(t),
            mib(size),
            rss as f64 / 1024.0
        ));
    }
    format!(
        "## (c) Cold start, binary size, peak memory\n\n\
Reproduce: `scripts/bench coldstart` (it builds the release binaries first). Each release binary (x86_64 \
here; AWS runs the arm64 build of the same code) is started {RUNS} times against a minimal Lambda Runtime API \
in the bench; the time is from exec to its first invocation's response arriving (median), with the embedded \
engine serving DynamoDB on loopback. The floor is a bare `lambda_runtime` function \
(`tests/src/bin/lambda_hello.rs`) echoing its event, same profile. Each start of a function alternates with a \
start of the floor, and its ratio is over the median of those floor starts (the floor row is its own {RUNS}). Sizes are of the stripped binaries; \
memory is the process's peak RSS (VmHWM). Target: ≤ 2× the floor.\n\n\
| Function | Cold start | × floor | Size | Peak RSS |\n|---|---|---|---|---|\n\
| floor: `lambda-hello` | {} | 1.00 | {:.1} MiB | {:.1} MiB |\n{}\n\n\
What a function does before its first answer beyond the floor: builds the DynamoDB client (credentials and \
region from the environment; its TLS client trusts the five Amazon roots built in, not the system store), reads \
its configuration, checks the token and answers its event, which for most routes is one or two requests to the \
engine (`numbers-list-all` queries every shard of the all-numbers index). As in `infra/template.yaml`, only \
`account-actions` and `sync` are given the backend service, whose HTTP client is built at its first call. The \
`sync` row is its first invocation, a whole planner run (lease, consents, the pending cursor, its report).\n",
        ms(floor),
        floor_size as f64 / 1_048_576.0,
        floor_rss as f64 / 1024.0,
        rows.join("\n"),
    ) + &if missing.is_empty() {
        String::new()
    } else {
        format!(
            "\nNot measured in this run (no release binary built): {}. They run the same `switchboard_api::run` \
start-up as the API functions above.\n",
            missing.join(", ")
        )
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let wanted: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let run = |name: &str| wanted.is_empty() || wanted.iter().any(|w| w == name);
    let path = switchboard_tests::e2e::root().join("BENCHMARKS.md");
    for (name, heading) in [
        ("import", "## (a) 10,000 numbers written"),
        ("get", "## (b) GET of one number"),
        ("coldstart", "## (c) Cold start, binary size, peak memory"),
        ("sync", "## (d) Sync of 100,000 numbers"),
        ("scale", "## (e) Operator scale"),
    ] {
        if !run(name) {
            continue;
        }
        let section = match name {
            "import" => bench_import().await,
            "get" => bench_get().await,
            "coldstart" => bench_coldstart().await,
            "sync" => bench_sync().await,
            _ => scale::bench_scale().await,
        };
        println!("{section}");
        let doc = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".into());
        std::fs::write(&path, replace_section(&doc, heading, &section)).unwrap();
    }
}

/// Replaces the section starting with `heading` (up to the next `## `), or appends it.
fn replace_section(doc: &str, heading: &str, section: &str) -> String {
    let section = format!("{}\n\n", section.trim_end());
    match doc.find(heading) {
        Some(start) => {
            let rest = &doc[start + heading.len()..];
            let end = rest.find("\n## ").map(|i| start + heading.len() + i + 1).unwrap_or(doc.len());
            format!("{}{}{}", &doc[..start], section, &doc[end..])
        }
        None => format!("{}\n\n{section}", doc.trim_end()),
    }
}
