//! The audit trail on the real engine: every change, from the API, a batch, a CSV import or the
//! sync, writes an event in the same transaction, with who, what, before and after; refused
//! writes leave none; `GET /auditEvents` finds them by account, number, actor and time.

use lambda_http::http::StatusCode;
use serde_json::{json, Value};
use std::collections::HashSet;

use switchboard_api::API_VERSION;
use switchboard_tests::flow::{us_numbers, Flow, TENANT};
use switchboard_tests::{csv_rows, dr_number, full_account_body, token, Stack, ADMIN};

async fn events(s: &Stack, query: &str) -> Vec<Value> {
    let r = s.admin("GET", &format!("/auditEvents?{query}"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {:?}", r.body);
    r.body["value"].as_array().unwrap().clone()
}

/// Every event of a listing, following nextLink over small pages.
async fn all_events(s: &Stack, query: &str) -> Vec<Value> {
    s.all(&format!("/auditEvents?{query}&maxpagesize=7")).await
}

fn change<'a>(event: &'a Value, id: &str, field: &str) -> Option<&'a Value> {
    event["entities"].as_array()?.iter().find(|e| e["id"] == id)?["changes"]
        .as_array()?
        .iter()
        .find(|c| c["field"] == field)
}

#[tokio::test]
async fn api_changes_are_recorded_with_who_what_and_before_after() {
    let s = Stack::start().await;
    let t = token(ADMIN);
    let created = s
        .send(
            "PUT",
            "/accounts/contoso",
            Some(&t),
            Some(full_account_body("contoso")),
            &[("x-ms-client-request-id", "bss-42")],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let put =
        s.admin("PUT", "/accounts/contoso/numbers/+442071230001", Some(dr_number("contoso", "+442071230001"))).await;
    assert_eq!(put.status, StatusCode::CREATED);
    let mut changed = dr_number("contoso", "+442071230001");
    changed["configuration"] = json!({"customSipHeader": "gw-2"});
    let update = s.admin("PUT", "/accounts/contoso/numbers/+442071230001", Some(changed)).await;
    assert_eq!(update.status, StatusCode::OK);
    assert_eq!(s.admin("DELETE", "/accounts/contoso/numbers/+442071230001", None).await.status, StatusCode::NO_CONTENT);

    let trail = events(&s, "accountName=contoso").await;
    let ops: Vec<&str> = trail.iter().map(|e| e["operation"].as_str().unwrap()).collect();
    assert_eq!(ops, ["numbers.delete", "numbers.put", "numbers.put", "accounts.put"], "newest first");

    let account = &trail[3];
    assert_eq!(account["actor"]["subject"], "test-user");
    assert_eq!(account["actor"]["appId"], "switchboard-dev");
    assert_eq!(account["actor"]["roles"], json!(["ProvisioningAPI.Admin"]));
    assert_eq!(account["correlationId"], "bss-42");
    assert_eq!(account["requestId"].as_str(), created.header("x-ms-request-id"));
    assert!(account["time"].as_str().unwrap().ends_with('Z'));
    let enabled = change(account, "contoso", "serviceDetails.teamsDirectRouting.enabled").unwrap();
    assert_eq!((enabled.get("before"), &enabled["after"]), (None, &json!(true)));

    // An update names only what changed.
    let upd = &trail[1];
    let fields: Vec<&str> =
        upd["entities"][0]["changes"].as_array().unwrap().iter().map(|c| c["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["configuration.customSipHeader"]);
    assert_eq!(change(upd, "+442071230001", "configuration.customSipHeader").unwrap()["after"], "gw-2");
    let del = &trail[0];
    assert_eq!(change(del, "+442071230001", "serviceDetails.teamsDirectRouting.enabled").unwrap()["before"], true);
    assert_eq!(del["telephoneNumbers"], json!(["+442071230001"]));

    // By number, by actor, by time.
    assert_eq!(events(&s, "telephoneNumber=%2B442071230001&accountName=contoso").await.len(), 3);
    assert_eq!(events(&s, "actor=switchboard-dev/test-user").await.len(), 4);
    assert_eq!(events(&s, "actor=switchboard-dev/someone-else").await.len(), 0);
    assert_eq!(events(&s, "from=2000-01-01T00:00:00Z&to=2000-01-01T23:59:59Z&accountName=contoso").await.len(), 0);
    assert_eq!(events(&s, "").await.len(), 4, "today's events, with no other filter");
    let r = s.admin("GET", "/auditEvents?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", None).await;
    assert_eq!((r.status, r.target()), (StatusCode::BAD_REQUEST, "from"), "a day at most without a scope");
    let r = s.admin("GET", "/auditEvents?from=yesterday&accountName=contoso", None).await;
    assert_eq!((r.status, r.target()), (StatusCode::BAD_REQUEST, "from"));
    let reader = token(&["ProvisioningAPI.Read"]);
    assert_eq!(s.send("GET", "/auditEvents", Some(&reader), None, &[]).await.status, StatusCode::OK);
    assert_eq!(
        s.send("GET", "/auditEvents", Some(&token(&["ProvisioningAPI.Write"])), None, &[]).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn refused_writes_leave_no_event() {
    let s = Stack::start().await;
    s.setup("PUT", "/accounts/contoso", Some(full_account_body("contoso"))).await;
    s.setup("PUT", "/accounts/fabrikam", Some(full_account_body("fabrikam"))).await;
    s.setup("PUT", "/accounts/fabrikam/numbers/+442071230009", Some(dr_number("fabrikam", "+442071230009"))).await;
    let before = events(&s, "accountName=contoso").await.len();
    // Owned elsewhere (409), stale tag (412), a batch with one foreign number (409).
    let r =
        s.admin("PUT", "/accounts/contoso/numbers/+442071230009", Some(dr_number("contoso", "+442071230009"))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let t = token(ADMIN);
    let r = s
        .send("PUT", "/accounts/contoso", Some(&t), Some(full_account_body("contoso")), &[("if-match", "\"stale\"")])
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    let batch = json!({"numbers": [dr_number("contoso", "+442071230010"), dr_number("contoso", "+442071230009")]});
    assert_eq!(
        s.admin("POST", "/accounts/contoso:createOrUpdateNumbers", Some(batch)).await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(events(&s, "accountName=contoso").await.len(), before);
    // A write that changes nothing records nothing either.
    s.setup("PUT", "/accounts/contoso", Some(full_account_body("contoso"))).await;
    assert_eq!(events(&s, "accountName=contoso").await.len(), before);
}

#[tokio::test]
async fn batches_and_imports_record_every_number_once() {
    let s = Stack::start().await;
    s.setup("PUT", "/accounts/contoso", Some(full_account_body("contoso"))).await;
    let numbers: Vec<Value> = (0..150).map(|i| dr_number("contoso", &format!("+4420712{i:05}"))).collect();
    // Two calls of 75: one event each (a call's numbers fit one transaction).
    for part in numbers.chunks(75) {
        let r = s.admin("POST", "/accounts/contoso:createOrUpdateNumbers", Some(json!({ "numbers": part }))).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let r = s
        .send_raw(
            "POST",
            &format!("/accounts/contoso:importNumbers?api-version={API_VERSION}"),
            Some(&token(ADMIN)),
            Some(&csv_rows(5000, 300)),
            &[("content-type", "text/csv")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let import_id = r.body["importId"].as_str().unwrap().to_string();

    let trail = all_events(&s, "accountName=contoso").await;
    let batches: Vec<&Value> = trail.iter().filter(|e| e["operation"] == "numbers.createOrUpdate").collect();
    assert_eq!(batches.len(), 2);
    let imports: Vec<&Value> = trail.iter().filter(|e| e["operation"] == "numbers.import").collect();
    assert_eq!(imports.len(), 4, "300 rows in transactions of 97");
    assert!(imports.iter().all(|e| e["correlationId"] == format!("import:{import_id}")));
    let mut seen = HashSet::new();
    for e in batches.iter().chain(imports.iter()) {
        for tn in e["telephoneNumbers"].as_array().unwrap() {
            assert!(seen.insert(tn.as_str().unwrap().to_string()), "{tn} recorded twice");
        }
    }
    assert_eq!(seen.len(), 450);
    // One number's history through its account.
    let one = events(&s, "telephoneNumber=%2B442070005001").await;
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["operation"], "numbers.import");

    // Retention: each event carries its expiry (DynamoDB TTL).
    let out = s
        .engine
        .client()
        .query()
        .table_name(&s.table)
        .index_name("GSI1")
        .key_condition_expression("GSI1PK = :p")
        .expression_attribute_values(":p", aws_sdk_dynamodb::types::AttributeValue::S("AUDITA#contoso".into()))
        .limit(1)
        .send()
        .await
        .unwrap();
    let item = &out.items.unwrap()[0];
    let full = s
        .engine
        .client()
        .get_item()
        .table_name(&s.table)
        .set_key(Some([("PK".to_string(), item["PK"].clone()), ("SK".to_string(), item["SK"].clone())].into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let expires: u64 = full["expiresAt"].as_n().unwrap().parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(expires > now + 300 * 24 * 3600, "kept for the retention period");
}

#[tokio::test]
async fn the_sync_records_its_changes_as_its_own() {
    let f = Flow::start(switchboard_emulator::Config { rate_limit_per_minute: 3000, ..Default::default() }).await;
    f.consent(TENANT, &["US"]).await;
    f.syncing_account("contoso", TENANT).await;
    let tns = us_numbers(0, 5);
    f.add_oc_numbers("contoso", &tns).await;
    f.sync_until_settled(6).await;
    let sync = all_events(&f.stack, "actor=switchboard/sync").await;
    let ops: HashSet<&str> = sync.iter().map(|e| e["operation"].as_str().unwrap()).collect();
    assert!(
        ops.contains("sync.consent") && ops.contains("sync.numberResult") && ops.contains("sync.accountStatus"),
        "{ops:?}"
    );
    let results: Vec<&Value> = sync.iter().filter(|e| e["operation"] == "sync.numberResult").collect();
    for tn in &tns {
        let e = results
            .iter()
            .find(|e| e["telephoneNumbers"].as_array().unwrap().iter().any(|t| t == tn.as_str()))
            .expect("a result event");
        assert_eq!(change(e, tn, "serviceProvisioningStatus").unwrap()["after"], "synced");
        assert!(e["requestId"].is_string(), "the run's id");
    }
}
