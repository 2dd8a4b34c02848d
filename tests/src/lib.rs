//! Test harness: the real embedded engine (in memory), the real handlers, real requests.
//!
//! [`Stack`] runs handlers in-process through the same `App::handle` the Lambda runtime calls,
//! routed by the same route table the template and the watch router declare. The end-to-end
//! test (`tests/e2e_watch.rs`) goes over real HTTP through `cargo lambda watch` instead.

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt};
use serde_json::Value;
use std::collections::HashMap;

use switchboard_api::auth::{mint_dev_token, Authenticator, VerifyKeys, DEV_AUDIENCE, DEV_ISSUER};
use switchboard_api::{App, API_VERSION, ROUTES};
use switchboard_devtools::{schema, Engine, Storage};
use switchboard_store::Repository;

pub const TEST_KEY: &[u8] = b"switchboard-test-key";
pub const ADMIN: &[&str] = &["ProvisioningAPI.Admin"];

pub struct Stack {
    pub app: App,
    pub engine: Db,
    pub table: String,
}

/// The DynamoDB the tests run on: the embedded engine, or any other DynamoDB-compatible server
/// named by `SWITCHBOARD_DYNAMODB_ENDPOINT` (the test command runs the suite a second time
/// against moto_server that way, so nothing leans on one engine's quirks). Each stack makes
/// its own table, so one server serves every test.
pub struct Db {
    endpoint: String,
    _embedded: Option<Engine>,
}

impl Db {
    pub async fn start() -> Db {
        match std::env::var("SWITCHBOARD_DYNAMODB_ENDPOINT").ok().filter(|e| !e.is_empty()) {
            Some(endpoint) => Db { endpoint, _embedded: None },
            None => {
                let engine = Engine::start(Storage::Memory, "127.0.0.1:0").await.expect("engine");
                Db { endpoint: engine.endpoint(), _embedded: Some(engine) }
            }
        }
    }

    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    pub fn client(&self) -> aws_sdk_dynamodb::Client {
        switchboard_devtools::engine::client_for(&self.endpoint)
    }
}

/// A response as a client sees it.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: lambda_http::http::HeaderMap,
    pub body: Value,
    /// The body as sent (a CSV export, say).
    pub raw: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `target` of an error reply.
    pub fn target(&self) -> &str {
        self.body["error"]["target"].as_str().unwrap_or("")
    }

    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

pub fn token(roles: &[&str]) -> String {
    mint_dev_token(TEST_KEY, "test-user", roles, 600).expect("mint")
}

impl Stack {
    pub async fn start() -> Stack {
        let engine = Db::start().await;
        let client = engine.client();
        Self::on(engine, client).await
    }

    /// The stack with the repository talking to the engine through a fault-injecting proxy
    /// (faults off until [`faults::FaultProxy::set`]).
    pub async fn start_with_faults(seed: u64) -> (Stack, faults::FaultProxy) {
        let engine = Db::start().await;
        let proxy = faults::FaultProxy::start(&engine.endpoint(), seed).await;
        let client = switchboard_devtools::engine::client_for(&proxy.endpoint);
        (Self::on(engine, client).await, proxy)
    }

    async fn on(engine: Db, client: aws_sdk_dynamodb::Client) -> Stack {
        switchboard_api::app::init_tracing();
        let table = format!("switchboard-{}", uuid::Uuid::new_v4().simple());
        schema::ensure_table(&engine.client(), &table).await.expect("table");
        let repo = Repository::new(client, &table);
        let auth = Authenticator::Verify {
            keys: VerifyKeys::Secret(TEST_KEY.to_vec()),
            issuer: DEV_ISSUER.into(),
            audience: DEV_AUDIENCE.into(),
        };
        Stack { app: App::new(repo, auth), engine, table }
    }

    pub fn repo(&self) -> &Repository {
        &self.app.repo
    }

    /// Puts numbers back in an index partition from before the sharding, as a table written by
    /// an older release holds them: `attr` (`GSI2PK`, `GSI3PK`) set to `legacy` (`NUMS`, `PENDING`).
    pub async fn unshard(&self, tns: &[String], attr: &str, legacy: &str) {
        let repo = self.repo();
        for tn in tns {
            repo.client()
                .update_item()
                .table_name(repo.table())
                .set_key(Some(switchboard_store::keys::number(tn)))
                .update_expression("SET #attr = :legacy")
                .expression_attribute_names("#attr", attr)
                .expression_attribute_values(":legacy", aws_sdk_dynamodb::types::AttributeValue::S(legacy.into()))
                .send()
                .await
                .expect("unshard");
        }
    }

    /// Sends `method path` (path may carry a query; `api-version` is added unless present).
    pub async fn send(
        &self,
        method: &str,
        path_and_query: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let req = build_request(method, path_and_query, token, body.map(|b| b.to_string()), headers, true);
        self.dispatch(req).await
    }

    /// As [`Stack::send`], with a raw body and nothing added.
    pub async fn send_raw(
        &self,
        method: &str,
        path_and_query: &str,
        token: Option<&str>,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let req = build_request(method, path_and_query, token, body.map(str::to_string), headers, false);
        self.dispatch(req).await
    }

    /// Routes and handles a request built by the caller (for bytes the helpers above can't send).
    pub async fn dispatch(&self, req: Request) -> Reply {
        let path = req.uri().path().to_string();
        let method = req.method().as_str().to_string();
        let (route, params) = ROUTES
            .iter()
            .filter(|r| r.method == method)
            .find_map(|r| match_path(r.path, &path).map(|p| (r, p)))
            .unwrap_or_else(|| panic!("no route for {method} {path}"));
        let req = req.with_path_parameters(params);
        let resp = self.app.handle(route.op, req).await;
        let status = resp.status();
        let headers = resp.headers().clone();
        let raw = match resp.body() {
            Body::Text(t) => t.as_bytes().to_vec(),
            Body::Binary(b) => b.clone(),
            _ => Vec::new(),
        };
        let body = serde_json::from_slice(&raw).unwrap_or_else(|_| {
            if raw.is_empty() {
                Value::Null
            } else {
                Value::String(String::from_utf8_lossy(&raw).into())
            }
        });
        Reply { status, headers, body, raw }
    }

    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.send(method, path, Some(&token(ADMIN)), body, &[]).await
    }

    /// A setup step, as Admin: the test can't mean anything unless it succeeded.
    pub async fn setup(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let r = self.admin(method, path, body).await;
        assert!(r.status.is_success(), "setup {method} {path}: {} {:?}", r.status, r.body);
        r
    }

    /// Every page of a listing, as Admin, following `nextLink` (each page must be a 200).
    pub async fn pages(&self, first: &str) -> Vec<Reply> {
        let mut out = Vec::new();
        let mut path = first.to_string();
        loop {
            let r = self.send_raw("GET", &path, Some(&token(ADMIN)), None, &[]).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {:?}", r.body);
            let next = r.body["nextLink"].as_str().map(|l| l.trim_start_matches("http://localhost").to_string());
            out.push(r);
            assert!(out.len() < 1000, "runaway paging at {path}");
            match next {
                Some(n) => path = n,
                None => return out,
            }
        }
    }

    /// Every item of a listing (`first` needs its `api-version`; [`Stack::all`] adds it).
    pub async fn all(&self, first: &str) -> Vec<Value> {
        let sep = if first.contains('?') { '&' } else { '?' };
        let first = if first.contains("api-version=") {
            first.to_string()
        } else {
            format!("{first}{sep}api-version={API_VERSION}")
        };
        self.pages(&first).await.iter().flat_map(|r| r.body["value"].as_array().cloned().unwrap_or_default()).collect()
    }

    /// `POST /accounts/{account}:importNumbers` with a CSV body, as Admin.
    pub async fn import_csv(&self, account: &str, body: &str) -> Reply {
        let path = format!("/accounts/{account}:importNumbers?api-version={API_VERSION}");
        self.send_raw("POST", &path, Some(&token(ADMIN)), Some(body), &[("content-type", "text/csv")]).await
    }
}

fn build_request(
    method: &str,
    path_and_query: &str,
    token: Option<&str>,
    body: Option<String>,
    headers: &[(&str, &str)],
    add_version: bool,
) -> Request {
    let (path, q) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let mut query: HashMap<String, Vec<String>> = HashMap::new();
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let dec =
            |s: &str| percent_encoding::percent_decode_str(&s.replace('+', "%2B")).decode_utf8_lossy().into_owned();
        query.entry(dec(k)).or_default().push(dec(v));
    }
    if add_version && !query.contains_key("api-version") {
        query.insert("api-version".into(), vec![API_VERSION.into()]);
    }
    let mut b = lambda_http::http::Request::builder()
        .method(Method::from_bytes(method.as_bytes()).expect("method"))
        .uri(format!("http://localhost{path}"));
    b = b.header("host", "localhost");
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    let has_ct = headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    if body.is_some() && !has_ct && add_version {
        b = b.header("content-type", "application/json");
    }
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let body = body.map(Body::Text).unwrap_or(Body::Empty);
    b.body(body).expect("request").with_query_string_parameters(query)
}

/// Matches `/accounts/{accountName}` style patterns; returns the parameters.
pub fn match_path(pattern: &str, path: &str) -> Option<HashMap<String, String>> {
    let p: Vec<&str> = pattern.trim_matches('/').split('/').collect();
    let s: Vec<&str> = path.trim_matches('/').split('/').collect();
    if p.len() != s.len() {
        return None;
    }
    let mut params = HashMap::new();
    for (pp, sp) in p.iter().zip(&s) {
        if let Some(name) = pp.strip_prefix('{').and_then(|x| x.strip_suffix('}')) {
            if sp.is_empty() {
                return None;
            }
            params.insert(name.to_string(), sp.to_string());
        } else if pp != sp {
            return None;
        }
    }
    Some(params)
}

/// The ACG example account (provisioning-api.md §3.1), for `name`.
pub fn account_body(name: &str) -> Value {
    serde_json::json!({"name": name, "correlationId":"c7aa0070-2e35-4c1b-9a7f-e45e3e8a0b3e",
        "serviceDetails":{"teamsTenantId":"a7f4bd5c-2f0e-4f0b-9a3e-1c2d3e4f5a6b","teamsOperatorConnect":{"enabled":true,"syncEnabled":true}}})
}

/// An account with every service on and no sync.
pub fn full_account_body(name: &str) -> Value {
    serde_json::json!({"name": name, "serviceDetails":{
        "teamsTenantId":"a7f4bd5c-2f0e-4f0b-9a3e-1c2d3e4f5a6b",
        "teamsOperatorConnect":{"enabled":true,"syncEnabled":false},
        "teamsPhoneMobile":{"enabled":true,"syncEnabled":false},
        "zoomPhoneCloudPeering":{"enabled":true,"syncEnabled":false},
        "teamsDirectRouting":{"enabled":true,"syncEnabled":false,"configuration":{"callScreening":true,"subdomain":"contoso","subdomainTokens":{"region1Token":"tok1=","region2Token":"tok2="}}},
        "azureOperatorCallProtection":{"enabled":true}}})
}

/// The ACG example number (provisioning-api.md §3.2), for `account` and `tn`.
pub fn number_body(account: &str, tn: &str) -> Value {
    serde_json::json!({"telephoneNumber": tn, "accountName": account,
        "serviceDetails":{"teamsOperatorConnect":{"enabled":true,"assignmentStatus":"assigned","configuration":{"usage":"CallingUserAssignment","choosableCapabilities":["InboundCalling"]}}},
        "configuration":{"customSipHeader":"contoso-commsgw"}})
}

/// A Direct Routing number.
pub fn dr_number(account: &str, tn: &str) -> Value {
    serde_json::json!({"telephoneNumber": tn, "accountName": account, "serviceDetails":{"teamsDirectRouting":{"enabled":true}}})
}

/// A CSV of `count` numbers from `+44207<start>`: every third an Operator Connect number with a
/// custom SIP header and two capabilities, the rest Direct Routing.
pub fn csv_rows(start: u64, count: u64) -> String {
    let mut body = String::from("telephoneNumber,configuration_customSipHeader,serviceDetails_teamsOperatorConnect_enabled,serviceDetails_teamsOperatorConnect_assignmentStatus,serviceDetails_teamsOperatorConnect_configuration_usage,serviceDetails_teamsOperatorConnect_configuration_choosableCapabilities,serviceDetails_teamsDirectRouting_enabled\n");
    for i in start..start + count {
        if i % 3 == 0 {
            body.push_str(&format!(
                "+44207{i:07},hdr-{i},true,assigned,CallingUserAssignment,InboundCalling;OutboundCalling,\n"
            ));
        } else {
            body.push_str(&format!("+44207{i:07},,,,,,true\n"));
        }
    }
    body
}

/// `count` distinct valid UK numbers starting at `start`.
pub fn uk_numbers(start: u64, count: u64) -> Vec<String> {
    (start..start + count).map(|i| format!("+44207{i:07}")).collect()
}

/// The stack plus the backend emulator, with the API's Teams actions and the sync wired to it.
pub mod flow {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;
    use switchboard_backend::{BackendConfig, HttpBackend};
    use switchboard_emulator::{Config, Emulator};
    use switchboard_sync::{Deadline, SyncConfig, SyncReport};

    pub const TENANT: &str = "a7f4bd5c-2f0e-4f0b-9a3e-1c2d3e4f5a6b";

    /// Sync now, in process: the planner's run on this stack, started and not waited for, as
    /// Lambda runs an asynchronous invocation (`cargo lambda watch` stacks invoke the real
    /// function).
    struct InProcessPlanner {
        repo: switchboard_store::Repository,
        backend: Arc<HttpBackend>,
        cfg: SyncConfig,
    }

    #[async_trait::async_trait]
    impl switchboard_api::StartPlanner for InProcessPlanner {
        async fn start(&self, _event: Value) -> Result<(), String> {
            let (repo, backend, cfg) = (self.repo.clone(), self.backend.clone(), self.cfg.clone());
            tokio::spawn(async move { switchboard_sync::run(&repo, backend.as_ref(), Deadline::none(), &cfg).await });
            Ok(())
        }
    }

    pub struct Flow {
        pub stack: Stack,
        pub emu: Emulator,
        pub backend: Arc<HttpBackend>,
        pub sync: SyncConfig,
        pub http: reqwest::Client,
    }

    impl Flow {
        pub async fn start(config: Config) -> Flow {
            Self::on(Stack::start().await, config).await
        }

        /// The flow on a given stack (one behind the fault proxy, say, to count DynamoDB calls).
        pub async fn on(mut stack: Stack, config: Config) -> Flow {
            let emu = Emulator::start("127.0.0.1:0", config).await.expect("emulator");
            let mut cfg = BackendConfig::new(emu.url());
            // Stay under the emulator's limit (its config says how far).
            cfg.requests_per_minute = 60_000;
            cfg.timeout = Duration::from_millis(1000);
            let backend = Arc::new(HttpBackend::new(cfg));
            let sync = SyncConfig { poll_rounds: 3, poll_pause: Duration::from_millis(20), ..SyncConfig::default() };
            let planner =
                Arc::new(InProcessPlanner { repo: stack.repo().clone(), backend: backend.clone(), cfg: sync.clone() });
            stack.app = stack.app.clone().with_backend(backend.clone()).with_planner(planner);
            Flow { stack, emu, backend, sync, http: reqwest::Client::new() }
        }

        /// Paces our client at `per_minute` (keep it under the emulator's `rateLimitPerMinute`).
        pub fn pace(&mut self, per_minute: u32) {
            let mut cfg = BackendConfig::new(self.emu.url());
            cfg.requests_per_minute = per_minute;
            cfg.timeout = Duration::from_millis(1000);
            self.backend = Arc::new(HttpBackend::new(cfg));
        }

        pub async fn sync(&self) -> SyncReport {
            switchboard_sync::run(self.stack.repo(), self.backend.as_ref(), Deadline::none(), &self.sync)
                .await
                .expect("sync run")
        }

        /// Runs the sync until nothing is pending or in flight, at most `max` times.
        pub async fn sync_until_settled(&self, max: usize) -> Vec<SyncReport> {
            let mut reports = Vec::new();
            for _ in 0..max {
                let r = self.sync().await;
                reports.push(r);
                let pending = self.stack.repo().pending_numbers(1).await.unwrap();
                let open = self.stack.repo().open_orders().await.unwrap();
                let releases = self.stack.repo().pending_releases().await.unwrap();
                if pending.is_empty() && open.is_empty() && releases.is_empty() {
                    break;
                }
            }
            reports
        }

        pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Value {
            let mut req = self.http.request(method.parse().unwrap(), format!("{}{path}", self.emu.url()));
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = req.send().await.expect("emulator admin");
            assert!(resp.status().is_success(), "{method} {path}: {}", resp.status());
            resp.json().await.unwrap_or(Value::Null)
        }

        pub async fn consent(&self, tenant: &str, countries: &[&str]) {
            self.admin(
                "POST",
                "/admin/consents",
                Some(
                    serde_json::json!({"tenantId": tenant, "companyName": "Contoso", "consentedCountries": countries}),
                ),
            )
            .await;
        }

        pub async fn tenant_numbers(&self, tenant: &str) -> Vec<String> {
            let v = self.admin("GET", &format!("/admin/tenants/{tenant}/numbers"), None).await;
            v["value"].as_array().unwrap().iter().map(|n| n["telephoneNumber"].as_str().unwrap().to_string()).collect()
        }

        /// A syncing Operator Connect account for `tenant`.
        pub async fn syncing_account(&self, name: &str, tenant: &str) {
            let body = serde_json::json!({"name": name, "serviceDetails": {"teamsTenantId": tenant,
                "teamsOperatorConnect": {"enabled": true, "syncEnabled": true},
                "teamsDirectRouting": {"enabled": true, "syncEnabled": false}}});
            let r = self.stack.admin("PUT", &format!("/accounts/{name}"), Some(body)).await;
            assert!(r.status.is_success(), "{:?}", r.body);
        }

        /// Uploads Operator Connect numbers through the API, 100 per batch.
        pub async fn add_oc_numbers(&self, account: &str, tns: &[String]) {
            for chunk in tns.chunks(100) {
                let numbers: Vec<Value> = chunk
                    .iter()
                    .map(|tn| serde_json::json!({"telephoneNumber": tn, "accountName": account, "serviceDetails": {"teamsOperatorConnect": {"enabled": true,
                        "configuration": {"usage": "CallingUserAssignment", "choosableCapabilities": ["InboundCalling", "OutboundCalling"], "allowTenantAddressUpdate": true}}}}))
                    .collect();
                let r = self
                    .stack
                    .admin(
                        "POST",
                        &format!("/accounts/{account}:createOrUpdateNumbers"),
                        Some(serde_json::json!({"numbers": numbers})),
                    )
                    .await;
                assert_eq!(r.status, 200, "{:?}", r.body);
            }
        }

        /// Every number of an account as the API shows it.
        pub async fn numbers(&self, account: &str) -> Vec<Value> {
            self.stack.all(&format!("/accounts/{account}/numbers?maxpagesize=500")).await
        }
    }

    /// US numbers (the consent in the tests covers US).
    pub fn us_numbers(start: u64, count: u64) -> Vec<String> {
        (start..start + count).map(|i| format!("+1510585{i:04}")).collect()
    }
}

/// Running the product for real: `cargo lambda watch` serving every function over HTTP.
///
/// Needs cargo-lambda: `CARGO_LAMBDA` (path to the binary) or the repo's `.venv/bin/cargo-lambda`
/// that `scripts/test` installs. Without it a test using this fails rather than skips.
pub mod e2e {
    use serde_json::Value;
    use std::path::PathBuf;
    use std::process::{Child, Command, Stdio};

    pub const V: &str = "api-version=2024-02-29-preview";

    /// `cargo lambda watch` and the file its output goes to.
    pub struct Watch(Child, PathBuf);

    impl Drop for Watch {
        fn drop(&mut self) {
            // watchexec starts each function instance (`cargo run` and the binary) in a process
            // group of its own, so the watch's group doesn't reach them: end the whole tree.
            crate::procs::kill_tree(self.0.id());
            let _ = self.0.wait();
            // A failed test shows what the functions logged last (CI keeps only the test output).
            if std::thread::panicking() {
                let log = std::fs::read_to_string(&self.1).unwrap_or_default();
                let lines: Vec<&str> = log.lines().collect();
                eprintln!("--- last lines of {} ---", self.1.display());
                for line in &lines[lines.len().saturating_sub(40)..] {
                    eprintln!("{line}");
                }
            }
        }
    }

    pub fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    /// A local SQS: moto_server (from `.venv`, which `scripts/bootstrap` fills), stopped on drop.
    pub struct LocalSqs {
        child: Child,
        pub endpoint: String,
    }

    impl LocalSqs {
        pub async fn start() -> LocalSqs {
            let bin = root().join(".venv/bin/moto_server");
            assert!(bin.exists(), "moto_server not found at {} (run scripts/bootstrap)", bin.display());
            let port = free_port();
            let child = Command::new(bin)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start moto_server");
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(std::time::Instant::now() < deadline, "moto_server did not start");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            LocalSqs { child, endpoint: format!("http://127.0.0.1:{port}") }
        }

        /// A queue URL on it, as moto names queues (its default account).
        pub fn queue_url(&self, name: &str) -> String {
            format!("{}/123456789012/{name}", self.endpoint)
        }
    }

    impl Drop for LocalSqs {
        fn drop(&mut self) {
            crate::procs::kill_tree(self.child.id());
            let _ = self.child.wait();
        }
    }

    pub fn cargo_lambda() -> PathBuf {
        std::env::var_os("CARGO_LAMBDA").map(PathBuf::from).unwrap_or_else(|| root().join(".venv/bin/cargo-lambda"))
    }

    pub fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    }

    /// `cargo lambda watch` on `port`, its functions on `table` at `endpoint`, each function run
    /// by up to `concurrency` instances at once.
    pub fn start_watch(port: u16, endpoint: &str, table: &str, extra_env: &[(&str, &str)], concurrency: u32) -> Watch {
        let bin = cargo_lambda();
        assert!(bin.exists(), "cargo-lambda not found at {} (run scripts/test, or set CARGO_LAMBDA)", bin.display());
        let log_path = std::env::temp_dir().join(format!("switchboard-watch-{port}.log"));
        let log = std::fs::File::create(&log_path).unwrap();
        let mut cmd = Command::new(bin);
        cmd.current_dir(root())
            .args(["lambda", "watch", "--ignore-changes", "-A", "127.0.0.1", "-P", &port.to_string()])
            .args(["--concurrency", &concurrency.to_string()])
            .args([
                "--env-var",
                &format!("AWS_ENDPOINT_URL_DYNAMODB={endpoint}"),
                "--env-var",
                &format!("TABLE_NAME={table}"),
                // Sync now invokes the planner through the watch's own Invoke API.
                "--env-var",
                &format!("AWS_ENDPOINT_URL_LAMBDA=http://127.0.0.1:{port}"),
                "--env-var",
                "SYNC_PLANNER_FUNCTION=sync",
            ])
            .args(extra_env.iter().flat_map(|(k, v)| ["--env-var".to_string(), format!("{k}={v}")]))
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .stdin(Stdio::null());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        Watch(cmd.spawn().expect("start cargo lambda watch"), log_path)
    }

    pub struct Client {
        pub http: reqwest::Client,
        pub base: String,
        pub token: String,
    }

    impl Client {
        pub async fn call(
            &self,
            method: &str,
            path: &str,
            body: Option<Value>,
        ) -> (u16, reqwest::header::HeaderMap, Value) {
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = format!("{}{path}{sep}{V}", self.base);
            self.call_url(method, &url, body).await
        }

        pub async fn call_url(
            &self,
            method: &str,
            url: &str,
            body: Option<Value>,
        ) -> (u16, reqwest::header::HeaderMap, Value) {
            let mut req = self
                .http
                .request(method.parse().unwrap(), url)
                .bearer_auth(&self.token)
                .header("x-ms-client-request-id", "e2e-1");
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = req.send().await.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let text = resp.text().await.unwrap();
            (status, headers, serde_json::from_str(&text).unwrap_or(Value::Null))
        }
    }

    /// The product running for real: the embedded engine and every function behind `cargo lambda
    /// watch`, with an admin client. Dropping it stops both.
    pub struct Gateway {
        pub client: Client,
        pub port: u16,
        _watch: Watch,
        _engine: Option<super::Db>,
    }

    impl Gateway {
        /// The watch's log (the functions' output too).
        pub fn log(&self) -> &std::path::Path {
            &self._watch.1
        }

        /// The watch on a new table of its own engine, up to two instances per function (so a
        /// page's parallel requests to one route run at once, as on Lambda).
        pub async fn start(table: &str, extra_env: &[(&str, &str)]) -> Gateway {
            let engine = super::Db::start().await;
            switchboard_devtools::schema::ensure_table(&engine.client(), table).await.expect("table");
            Self::launch(&engine.endpoint(), table, extra_env, 2, Some(engine)).await
        }

        /// The watch on `stack`'s table (so the test can check the stack's invariants), each
        /// function run by up to `concurrency` instances.
        pub async fn on_stack(stack: &super::Stack, concurrency: u32) -> Gateway {
            Self::launch(&stack.engine.endpoint(), &stack.table, &[], concurrency, None).await
        }

        async fn launch(
            endpoint: &str,
            table: &str,
            extra_env: &[(&str, &str)],
            concurrency: u32,
            engine: Option<super::Db>,
        ) -> Gateway {
            let port = free_port();
            let watch = start_watch(port, endpoint, table, extra_env, concurrency);
            let client = Client {
                http: reqwest::Client::builder().timeout(std::time::Duration::from_secs(300)).build().expect("http"),
                base: format!("http://127.0.0.1:{port}"),
                token: switchboard_api::auth::mint_dev_token(
                    switchboard_devtools::DEV_SIGNING_KEY.as_bytes(),
                    "e2e",
                    &["ProvisioningAPI.Admin"],
                    600,
                )
                .expect("token"),
            };
            client.wait_until_up(port).await;
            Gateway { client, port, _watch: watch, _engine: engine }
        }
    }

    impl Client {
        /// Waits until the gateway accepts connections.
        pub async fn wait_until_up(&self, port: u16) {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(std::time::Instant::now() < deadline, "cargo lambda watch did not start");
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }

        /// Invokes a non-HTTP function (the sync) through the gateway's Lambda invoke API.
        pub async fn invoke(&self, function: &str, event: &Value) -> Value {
            let url = format!("{}/2015-03-31/functions/{function}/invocations", self.base);
            let resp = self.http.post(url).json(event).send().await.expect("invoke");
            assert!(resp.status().is_success(), "invoke {function}: {}", resp.status());
            resp.json().await.expect("the function's JSON answer")
        }
    }
}

pub mod faults;
pub mod invariants;
pub mod procs;

/// Serves `app` on a free loopback port until the returned sender is dropped; returns its URL.
pub async fn serve(app: axum::Router) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    (url, stop)
}
pub mod idp;

/// A real browser: Debian's headless Chromium driven through chromedriver (WebDriver), for the
/// portal's end-to-end test. `scripts/test` installs both packages.
pub mod browser {
    use fantoccini::elements::Element;
    use fantoccini::{Client, ClientBuilder, Locator};
    use serde_json::{json, Value};
    use std::path::PathBuf;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
    const CHROMIUM: &str = "/usr/bin/chromium";
    const WAIT: Duration = Duration::from_secs(60);

    struct Driver(Child);

    impl Drop for Driver {
        fn drop(&mut self) {
            // chromedriver's Chromium (and Chromium's own helpers) go with it, also when the
            // test failed before it could close the session.
            crate::procs::kill_tree(self.0.id());
            let _ = self.0.wait();
        }
    }

    pub struct Browser {
        pub client: Client,
        artifacts: PathBuf,
        shots: usize,
        _driver: Driver,
        _profile: PathBuf,
        /// Where the browser saves downloads (inside its profile).
        downloads: PathBuf,
    }

    /// The axe-core release the portal's pages are checked with.
    pub const AXE_CORE: &str = "4.11.0";

    /// axe-core's script, installed from npm into `.tools/axe` the first time (as `scripts/test`
    /// would), so that `cargo test` alone runs the accessibility checks too.
    fn axe_core_source() -> String {
        static SOURCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        SOURCE
            .get_or_init(|| {
                let dir = crate::e2e::root().join(".tools/axe");
                let file = dir.join("node_modules/axe-core/axe.min.js");
                let pinned = dir.join(format!("axe-core-{AXE_CORE}"));
                if !pinned.exists() {
                    let status = Command::new("npm")
                        .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
                        .arg(&dir)
                        .arg(format!("axe-core@{AXE_CORE}"))
                        .status()
                        .expect("npm (scripts/test installs nodejs and npm)");
                    assert!(status.success(), "npm install axe-core@{AXE_CORE} failed");
                    std::fs::write(&pinned, "").unwrap();
                }
                std::fs::read_to_string(&file).expect("axe.min.js")
            })
            .clone()
    }

    /// `[data-testid="…"]`, the portal's stable hooks for tests.
    pub fn tid(id: &str) -> String {
        format!("[data-testid=\"{id}\"]")
    }

    impl Browser {
        /// Starts chromedriver and a fresh headless Chromium; screenshots go to `tests/artifacts/<name>/`.
        pub async fn start(name: &str) -> Browser {
            assert!(
                std::path::Path::new(CHROMEDRIVER).exists(),
                "{CHROMEDRIVER} is missing: scripts/test installs Debian's chromium and chromium-driver"
            );
            let port = crate::e2e::free_port();
            let log = std::fs::File::create(std::env::temp_dir().join(format!("chromedriver-{port}.log"))).unwrap();
            let child = Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdout(Stdio::from(log.try_clone().unwrap()))
                .stderr(Stdio::from(log))
                .spawn()
                .expect("start chromedriver");
            let driver = Driver(child);
            let profile = std::env::temp_dir().join(format!("switchboard-chromium-{}", uuid::Uuid::new_v4().simple()));
            let downloads = profile.join("downloads");
            std::fs::create_dir_all(&downloads).unwrap();
            let caps = json!({
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": CHROMIUM,
                    // The machine's network is closed: no background fetches, no first-run dialogs.
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                             "--disable-quic", "--no-first-run", "--disable-background-networking",
                             "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
                             format!("--user-data-dir={}", profile.display())],
                    "prefs": {"download.default_directory": downloads.display().to_string(),
                              "download.prompt_for_download": false},
                }
            });
            let caps = caps.as_object().unwrap().clone();
            let deadline = Instant::now() + Duration::from_secs(30);
            let client = loop {
                let attempt = ClientBuilder::rustls()
                    .expect("tls")
                    .capabilities(caps.clone())
                    .connect(&format!("http://127.0.0.1:{port}"))
                    .await;
                match attempt {
                    Ok(c) => break c,
                    Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(200)).await,
                    Err(e) => panic!("chromedriver did not start a session: {e}"),
                }
            };
            let artifacts = crate::e2e::root().join("tests/artifacts").join(name);
            let _ = std::fs::remove_dir_all(&artifacts);
            std::fs::create_dir_all(&artifacts).unwrap();
            Browser { client, artifacts, shots: 0, _driver: driver, _profile: profile, downloads }
        }

        pub async fn goto(&self, url: &str) {
            self.client.goto(url).await.unwrap_or_else(|e| panic!("goto {url}: {e}"));
        }

        /// Waits until the current page says it has loaded `route` (`body[data-ready]`).
        pub async fn ready(&self, route: &str) {
            let deadline = Instant::now() + WAIT;
            loop {
                let now = self.js("return document.body.dataset.ready || ''").await;
                if now == route {
                    return;
                }
                if Instant::now() > deadline {
                    let flash = self.text_of("flash").await.unwrap_or_default();
                    panic!("page {route:?} never became ready (now {now:?}, flash {flash:?})");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }

        pub async fn js(&self, script: &str) -> Value {
            self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{script}: {e}"))
        }

        /// The element with this test id, waiting for it to appear.
        pub async fn el(&self, id: &str) -> Element {
            self.client
                .wait()
                .at_most(WAIT)
                .for_element(Locator::Css(&tid(id)))
                .await
                .unwrap_or_else(|e| panic!("no element {id}: {e}"))
        }

        /// Whether an element with this test id is on the page now (no waiting).
        pub async fn has(&self, id: &str) -> bool {
            !self.client.find_all(Locator::Css(&tid(id))).await.unwrap_or_default().is_empty()
        }

        pub async fn click(&self, id: &str) {
            self.el(id).await.click().await.unwrap_or_else(|e| panic!("click {id}: {e}"));
        }

        pub async fn fill(&self, id: &str, text: &str) {
            let e = self.el(id).await;
            e.clear().await.unwrap_or_else(|err| panic!("clear {id}: {err}"));
            e.send_keys(text).await.unwrap_or_else(|err| panic!("type into {id}: {err}"));
        }

        /// Sets a text box or text area at once (typing thousands of characters is slow).
        pub async fn set_value(&self, id: &str, text: &str) {
            let e = self.el(id).await;
            let arg = serde_json::to_value(&e).unwrap();
            self.client
                .execute(
                    "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
                    vec![arg, json!(text)],
                )
                .await
                .unwrap_or_else(|err| panic!("set {id}: {err}"));
        }

        pub async fn select(&self, id: &str, value: &str) {
            self.el(id).await.select_by_value(value).await.unwrap_or_else(|e| panic!("select {value} in {id}: {e}"));
        }

        pub async fn check(&self, id: &str, on: bool) {
            let e = self.el(id).await;
            let checked = e.prop("checked").await.ok().flatten().as_deref() == Some("true");
            if checked != on {
                e.click().await.unwrap_or_else(|err| panic!("tick {id}: {err}"));
            }
        }

        pub async fn text_of(&self, id: &str) -> Option<String> {
            let found = self.client.find_all(Locator::Css(&tid(id))).await.ok()?;
            let first = found.into_iter().next()?;
            first.text().await.ok()
        }

        /// The flash message once it is shown, with its kind (`ok` or `error`).
        pub async fn flash(&self) -> (String, String) {
            let deadline = Instant::now() + WAIT;
            loop {
                let v = self
                    .js("const f = document.querySelector('[data-testid=flash]'); return f && !f.hidden && f.textContent ? [f.className, f.textContent] : null")
                    .await;
                if let Some(pair) = v.as_array() {
                    return (pair[0].as_str().unwrap_or("").into(), pair[1].as_str().unwrap_or("").into());
                }
                assert!(Instant::now() < deadline, "no flash message appeared");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }

        /// The `data-key`s of a table's rows.
        pub async fn row_keys(&self, table: &str) -> Vec<String> {
            let script = format!(
                "return [...document.querySelectorAll('[data-testid=\"{table}-table\"] [data-testid=row]')].map(r => r.dataset.key)"
            );
            serde_json::from_value(self.js(&script).await).unwrap_or_default()
        }

        /// The text of one cell (`cell-<field>`) in the row with `key`.
        pub async fn cell(&self, table: &str, key: &str, field: &str) -> String {
            let script = format!(
                "const r = [...document.querySelectorAll('[data-testid=\"{table}-table\"] [data-testid=row]')].find(r => r.dataset.key === {key}); const c = r && r.querySelector('[data-testid=\"cell-{field}\"]'); return c ? c.textContent.trim() : null",
                key = json!(key)
            );
            match self.js(&script).await.as_str() {
                Some(text) => text.to_string(),
                None => panic!("no cell {field} in {table} row {key}; the page: {}", self.describe(table).await),
            }
        }

        /// Clicks something inside the row with `key`: a test id such as `row-select` or `account-delete`.
        /// Waits for the row (a list may still be re-rendering); if it never shows, the panic
        /// describes the page and a screenshot is saved as `failure-<table>.png`.
        pub async fn click_in_row(&self, table: &str, key: &str, id: &str) {
            let script = format!(
                "const r = [...document.querySelectorAll('[data-testid=\"{table}-table\"] [data-testid=row]')].find(r => r.dataset.key === {key}); const e = r && r.querySelector('[data-testid=\"{id}\"]'); if (!e) return false; e.scrollIntoView({{block: 'center'}}); e.click(); return true",
                key = json!(key)
            );
            let deadline = Instant::now() + WAIT;
            while self.js(&script).await != json!(true) {
                if Instant::now() > deadline {
                    if let Ok(png) = self.client.screenshot().await {
                        let _ = std::fs::write(self.artifacts.join(format!("failure-{table}.png")), png);
                    }
                    panic!("no {id} in {table} row {key}; the page: {}", self.describe(table).await);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }

        /// What the page shows, for a failure message: URL, ready marker, flash, pager and rows.
        pub async fn describe(&self, table: &str) -> Value {
            let script = format!(
                "const t = (id) => {{ const e = document.querySelector(`[data-testid=\"${{id}}\"]`); return e ? e.textContent.trim() : null; }}; const rows = [...document.querySelectorAll('[data-testid=\"{table}-table\"] tbody tr')]; return {{url: location.href, ready: document.body.dataset.ready || null, flash: t('flash'), pageInfo: t('page-info'), rows: rows.length, firstRows: rows.slice(0, 8).map(r => r.dataset.key || r.textContent.trim())}}"
            );
            self.js(&script).await
        }

        /// The page's accessibility violations of impact serious or critical, by axe-core
        /// (npm, pinned: `AXE_CORE`), one line each: rule, impact, and the elements.
        pub async fn axe_violations(&self) -> Vec<String> {
            let script = axe_core_source();
            let loaded = self.js(&format!("{script}; return typeof window.axe")).await;
            assert_eq!(loaded, "object", "axe-core did not load");
            let result = self
                .client
                .execute_async(
                    "const done = arguments[arguments.length - 1]; axe.run(document, {resultTypes: ['violations']}).then((r) => done(r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' '))})))).catch((e) => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));",
                    vec![],
                )
                .await
                .expect("axe.run");
            result
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
                .map(|v| format!("{} ({}): {} at {}", v["id"], v["impact"], v["help"], v["nodes"]))
                .collect()
        }

        /// The text of a file the page downloaded, once it is complete (waiting for it). The file
        /// is removed, so that the next download of that name lands under it again (not as
        /// `<name> (1)`).
        pub async fn downloaded(&self, name: &str) -> String {
            let path = self.downloads.join(name);
            let deadline = Instant::now() + WAIT;
            loop {
                // Chromium writes `<name>.crdownload` and renames it when done.
                if let Ok(text) = std::fs::read_to_string(&path) {
                    std::fs::remove_file(&path).unwrap_or_else(|e| panic!("remove {}: {e}", path.display()));
                    return text;
                }
                assert!(Instant::now() < deadline, "{name} was never downloaded");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }

        /// Saves a screenshot as the next numbered artifact.
        pub async fn shot(&mut self, name: &str) {
            self.shots += 1;
            let png = self.client.screenshot().await.expect("screenshot");
            std::fs::write(self.artifacts.join(format!("{:02}-{name}.png", self.shots)), png).unwrap();
        }

        pub async fn close(self) {
            let _ = self.client.close().await;
            let _ = std::fs::remove_dir_all(&self._profile);
        }
    }
}
