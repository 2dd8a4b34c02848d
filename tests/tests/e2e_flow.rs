//! The flow-through loop end to end over real HTTP: the embedded engine, the backend emulator,
//! every function behind `cargo lambda watch`, the sync invoked through the gateway (once with the
//! README's `cargo lambda invoke` command), and the enterprise played through the emulator's admin API.

use serde_json::{json, Value};
use switchboard_emulator::{Config, Emulator};
use switchboard_tests::e2e::{cargo_lambda, root, Gateway};
use switchboard_tests::flow::us_numbers;

const TENANT: &str = "b1c2d3e4-0000-4000-8000-00000000abcd";

async fn emu_admin(http: &reqwest::Client, emu: &Emulator, method: &str, path: &str, body: Option<Value>) -> Value {
    let mut req = http.request(method.parse().unwrap(), format!("{}{path}", emu.url()));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    assert!(resp.status().is_success(), "{method} {path}: {}", resp.status());
    resp.json().await.unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_to_synced_numbers_and_drift_over_real_http() {
    let emu =
        Emulator::start("127.0.0.1:0", Config { rate_limit_per_minute: 3000, ..Config::default() }).await.unwrap();
    let gw =
        Gateway::start("switchboard-e2e-flow", &[("BACKEND_URL", &emu.url()), ("BACKEND_RATE_PER_MINUTE", "2400")])
            .await;
    let (c, port) = (&gw.client, gw.port);
    let event = json!({"source": "e2e", "detail": {}});

    // The enterprise consents in the Teams Admin Center; the README's invoke command runs a sync.
    emu_admin(
        &c.http,
        &emu,
        "POST",
        "/admin/consents",
        Some(json!({"tenantId": TENANT, "companyName": "Fabrikam", "consentedCountries": ["US"]})),
    )
    .await;
    let out = tokio::process::Command::new(cargo_lambda())
        .current_dir(root())
        .args([
            "lambda",
            "invoke",
            "sync",
            "--data-file",
            "tests/fixtures/sync-event.json",
            "-A",
            "127.0.0.1",
            "-P",
            &port.to_string(),
        ])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "succeeded", "{report}");

    let (status, _, rfis) = c.call("GET", "/teamsRequestsForInformation", None).await;
    assert_eq!(status, 200);
    assert_eq!(rfis["value"][0]["tenantId"], TENANT);
    assert_eq!(rfis["value"][0]["contacts"][0]["companyName"], "Fabrikam");

    let patch = json!({"customerRelationship": {"status": "AgreementSigned", "ticketId": "CRM-7"}});
    let resp = c
        .http
        .patch(format!("{}/teamsRequestsForInformation/{TENANT}?api-version=2024-02-29-preview", c.base))
        .bearer_auth(&c.token)
        .header("content-type", "application/merge-patch+json")
        .body(patch.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // An account from the request, syncing with the backend, and 250 numbers.
    let account = json!({"name": "fabrikam", "serviceDetails": {"teamsTenantId": TENANT, "teamsOperatorConnect": {"enabled": true, "syncEnabled": true}}});
    assert_eq!(c.call("PUT", "/accounts/fabrikam", Some(account)).await.0, 201);
    let tns = us_numbers(0, 250);
    for chunk in tns.chunks(100) {
        let numbers: Vec<Value> = chunk
            .iter()
            .map(|tn| json!({"telephoneNumber": tn, "accountName": "fabrikam", "serviceDetails": {"teamsOperatorConnect": {"enabled": true,
                "configuration": {"usage": "CallingUserAssignment", "choosableCapabilities": ["InboundCalling"], "allowTenantAddressUpdate": true}}}}))
            .collect();
        let (status, _, body) =
            c.call("POST", "/accounts/fabrikam:createOrUpdateNumbers", Some(json!({"numbers": numbers}))).await;
        assert_eq!(status, 200, "{body}");
    }
    let synced_count = || async {
        let (_, h, _) = c.call("GET", "/accounts/fabrikam/numbers?countRecords=true&maxpagesize=1&filter=serviceProvisioningStatus%20eq%20'synced'", None).await;
        h["x-ms-record-count"].to_str().unwrap().parse::<usize>().unwrap()
    };
    let mut runs = 0;
    while synced_count().await < 250 {
        runs += 1;
        assert!(runs <= 6, "not all synced after {runs} runs");
        let report = c.invoke("sync", &event).await;
        assert!(report["errors"].as_array().unwrap().is_empty(), "{report}");
    }
    let held = emu_admin(&c.http, &emu, "GET", &format!("/admin/tenants/{TENANT}/numbers"), None).await;
    assert_eq!(held["value"].as_array().unwrap().len(), 250);
    let rfi = c.call("GET", &format!("/teamsRequestsForInformation/{TENANT}"), None).await.2;
    assert_eq!(
        (rfi["accountName"].as_str(), rfi["customerRelationship"]["status"].as_str()),
        (Some("fabrikam"), Some("AgreementSigned"))
    );

    // The enterprise releases three numbers and suspends its consent; the next sync flags exactly that.
    for tn in &tns[100..103] {
        emu_admin(&c.http, &emu, "POST", &format!("/admin/tenants/{TENANT}/numbers/{tn}:release"), None).await;
    }
    emu_admin(&c.http, &emu, "POST", &format!("/admin/consents/{TENANT}:suspend"), None).await;
    c.invoke("sync", &event).await;
    let (_, _, runs) = c.call("GET", "/syncRuns?maxpagesize=1", None).await;
    let drift = runs["value"][0]["drift"].as_array().unwrap().clone();
    let mut released: Vec<&str> = drift
        .iter()
        .filter(|d| d["kind"] == "numberReleased")
        .map(|d| d["telephoneNumber"].as_str().unwrap())
        .collect();
    released.sort();
    assert_eq!(released, tns[100..103].iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(drift.iter().filter(|d| d["kind"] == "consentSuspended").count(), 1);
    assert_eq!(drift.len(), 4, "{drift:?}");
    let (_, h, failed) = c
        .call(
            "GET",
            "/accounts/fabrikam/numbers?countRecords=true&filter=serviceProvisioningStatus%20eq%20'failed'",
            None,
        )
        .await;
    assert_eq!(h["x-ms-record-count"], "3");
    assert!(failed["value"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["serviceProvisioningErrors"][0]["code"] == "NumberReleasedByTenant"));
    let (_, _, acct) = c.call("GET", "/accounts/fabrikam", None).await;
    assert_eq!(acct["serviceProvisioningErrors"][0]["code"], "ConsentSuspended");
    assert_eq!(emu.stats().rate_limit_violations, 0);
}

/// The sync fanned out as in AWS: the planner, invoked through the gateway, puts one job per
/// tenant on a real SQS queue (moto_server); the relay (Lambda's event source mapping, locally)
/// hands each to the worker function behind the gateway; a job the worker can't do is delivered
/// again and then lands in the dead-letter queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_planner_fans_out_to_workers_through_sqs() {
    use switchboard_devtools::relay::{create_queues, queue_depth, sqs_client, Relay};
    use switchboard_tests::e2e::LocalSqs;

    let emu =
        Emulator::start("127.0.0.1:0", Config { rate_limit_per_minute: 3000, ..Config::default() }).await.unwrap();
    let sqs = LocalSqs::start().await;
    let queue_url = sqs.queue_url("sync-jobs");
    let client = sqs_client(&sqs.endpoint);
    // A short visibility timeout and two deliveries, so the dead-letter path runs in seconds.
    let dlq_url = create_queues(&client, &queue_url, 2, 2).await.expect("queues");
    let env = [
        ("BACKEND_URL", emu.url()),
        ("BACKEND_RATE_PER_MINUTE", "2400".to_string()),
        ("SYNC_QUEUE_URL", queue_url.clone()),
        ("AWS_ENDPOINT_URL_SQS", sqs.endpoint.clone()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let gw = Gateway::start("switchboard-e2e-fanout", &env).await;
    let c = &gw.client;
    let relay = Relay::new(client.clone(), &queue_url, &c.base, "sync-worker");

    let tenant = |i: usize| format!("{i:08x}-0000-4000-8000-0000000fa000");
    let sizes = [150, 20, 5];
    let mut all = Vec::new();
    for (i, n) in sizes.iter().enumerate() {
        emu_admin(
            &c.http,
            &emu,
            "POST",
            "/admin/consents",
            Some(json!({"tenantId": tenant(i), "consentedCountries": ["US"]})),
        )
        .await;
        let name = format!("tenant{i}");
        let account = json!({"name": name, "serviceDetails": {"teamsTenantId": tenant(i), "teamsOperatorConnect": {"enabled": true, "syncEnabled": true}}});
        assert_eq!(c.call("PUT", &format!("/accounts/{name}"), Some(account)).await.0, 201);
        let tns = us_numbers(1000 * i as u64, *n);
        for chunk in tns.chunks(100) {
            let numbers: Vec<Value> = chunk
                .iter()
                .map(|tn| json!({"telephoneNumber": tn, "accountName": name, "serviceDetails": {"teamsOperatorConnect": {"enabled": true, "configuration": {"usage": "CallingUserAssignment", "choosableCapabilities": ["InboundCalling"]}}}}))
                .collect();
            let (status, _, body) = c
                .call("POST", &format!("/accounts/{name}:createOrUpdateNumbers"), Some(json!({"numbers": numbers})))
                .await;
            assert_eq!(status, 200, "{body}");
        }
        all.push((name, tns));
    }
    let synced = |name: String| async move {
        let path = format!(
            "/accounts/{name}/numbers?countRecords=true&maxpagesize=1&filter=serviceProvisioningStatus%20eq%20'synced'"
        );
        let (_, h, _) = c.call("GET", &path, None).await;
        h["x-ms-record-count"].to_str().unwrap().parse::<usize>().unwrap()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    let mut plans = 0;
    loop {
        let mut done = true;
        for (name, tns) in &all {
            done &= synced(name.clone()).await == tns.len();
        }
        if done {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not all synced after {plans} plans");
        let report = c.invoke("sync", &json!({"source": "e2e"})).await;
        plans += 1;
        assert!(report["errors"].as_array().unwrap().is_empty(), "{report}");
        assert_eq!(report["planned"]["sent"], report["planned"]["jobs"], "{report}");
        if plans == 1 {
            assert_eq!(report["planned"]["jobs"], 3, "one job per tenant: {report}");
        }
        // The relay delivers until the queue is empty (jobs in flight included).
        while queue_depth(&client, &queue_url).await.unwrap() > 0 {
            assert!(std::time::Instant::now() < deadline, "the queue never drained");
            relay.relay_once(1).await.expect("relay");
        }
    }
    for (i, (_, tns)) in all.iter().enumerate() {
        let held = emu_admin(&c.http, &emu, "GET", &format!("/admin/tenants/{}/numbers", tenant(i)), None).await;
        assert_eq!(held["value"].as_array().unwrap().len(), tns.len());
    }
    assert_eq!(emu.stats().rate_limit_violations, 0);

    // A job the worker can't do (not a job at all) is reported failed, delivered again after the
    // visibility timeout, and after its second delivery moved to the dead-letter queue.
    assert_eq!(queue_depth(&client, &dlq_url).await.unwrap(), 0, "a good job went to the dead-letter queue");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    client.send_message().queue_url(&queue_url).message_body("{\"not\": \"a job\"}").send().await.expect("send");
    while queue_depth(&client, &dlq_url).await.unwrap() == 0 {
        assert!(std::time::Instant::now() < deadline, "the bad job never reached the dead-letter queue");
        assert_eq!(relay.relay_once(1).await.expect("relay"), 0, "the bad job was not reported failed");
    }
    assert_eq!(queue_depth(&client, &queue_url).await.unwrap(), 0);
}
