//! CSV import and export on the real engine: round trips, whole-file rejection, and no half
//! import left behind by a failure or by a writer that dies mid-way.

use lambda_http::http::StatusCode;
use std::time::Duration;

use switchboard_api::API_VERSION;
use switchboard_tests::{csv_rows, full_account_body, token, Stack, ADMIN};

async fn export(s: &Stack, account: &str) -> Vec<u8> {
    let r = s.admin("GET", &format!("/accounts/{account}/numbers:export"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    r.raw
}

async fn total(s: &Stack, account: &str) -> (i64, i64, i64) {
    let a = s.admin("GET", &format!("/accounts/{account}"), None).await.body;
    let sd = &a["serviceDetails"];
    let n = |svc: &str| sd[svc]["numberCount"].as_i64().unwrap_or(0);
    (n("teamsOperatorConnect") + n("teamsDirectRouting"), n("teamsOperatorConnect"), n("teamsDirectRouting"))
}

/// Waits (at most a minute) until an import into contoso, which holds one number already, has
/// written a chunk.
async fn until_writing(s: &Stack) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while total(s, "contoso").await.0 <= 1 {
        assert!(std::time::Instant::now() < deadline, "the import never wrote a chunk");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn account(s: &Stack, name: &str) {
    let r = s.admin("PUT", &format!("/accounts/{name}"), Some(full_account_body(name))).await;
    assert!(r.status.is_success(), "{:?}", r.body);
}

#[tokio::test]
async fn an_export_reimports_unchanged_byte_for_byte() {
    let s = Stack::start().await;
    account(&s, "contoso").await;
    let r = s.import_csv("contoso", &csv_rows(0, 1000)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!((r.body["imported"].as_u64(), r.body["created"].as_u64()), (Some(1000), Some(1000)));
    assert_eq!(total(&s, "contoso").await, (1000, 334, 666));

    let first = export(&s, "contoso").await;
    let text = String::from_utf8(first.clone()).unwrap();
    assert_eq!(text.lines().count(), 1001, "headings and one line per number");
    assert!(text
        .contains("+442070000003,contoso,hdr-3,true,assigned,CallingUserAssignment,InboundCalling;OutboundCalling,"));

    let again = s.import_csv("contoso", &text).await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!((again.body["created"].as_u64(), again.body["updated"].as_u64()), (Some(0), Some(1000)));
    assert_eq!(export(&s, "contoso").await, first);
    assert_eq!(total(&s, "contoso").await, (1000, 334, 666), "re-import moves no counter");
}

/// Extensions: an export takes the list's `filter`, and `includeStatus` adds the sync's status
/// and errors as two trailing columns, which an import skips.
#[tokio::test]
async fn an_export_honours_the_filter_and_can_carry_the_sync_status() {
    let s = Stack::start().await;
    let body = serde_json::json!({"name": "contoso", "serviceDetails": {"teamsTenantId": "a7f4bd5c-2f0e-4f0b-9a3e-1c2d3e4f5a6b",
        "teamsOperatorConnect": {"enabled": true, "syncEnabled": true}, "teamsDirectRouting": {"enabled": true, "syncEnabled": false}}});
    assert_eq!(s.admin("PUT", "/accounts/contoso", Some(body)).await.status, StatusCode::CREATED);
    let r = s.import_csv("contoso", &csv_rows(0, 30)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = s
        .admin("GET", "/accounts/contoso/numbers:export?filter=startswith(telephoneNumber,'%2B44207000001')", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let text = String::from_utf8(r.raw).unwrap();
    let tns: Vec<&str> = text.lines().skip(1).map(|l| l.split(',').next().unwrap_or("")).collect();
    assert_eq!(tns, (10..20).map(|i| format!("+4420700000{i}")).collect::<Vec<_>>(), "{text}");
    let r = s.admin("GET", "/accounts/contoso/numbers:export?filter=nope%20eq%20'x'", None).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "filter"));

    let r = s.admin("GET", "/accounts/contoso/numbers:export?includeStatus=true", None).await;
    let text = String::from_utf8(r.raw).unwrap();
    assert!(text.lines().next().unwrap().ends_with(",serviceProvisioningStatus,serviceProvisioningErrors"), "{text}");
    let again = s.import_csv("contoso", &text).await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!(again.body["updated"].as_u64(), Some(30));
    // The status column says what the API says of the number.
    let line = text.lines().nth(1).unwrap();
    let cells: Vec<&str> = line.split(',').collect();
    let n = s.admin("GET", &format!("/accounts/contoso/numbers/{}", cells[0].replace('+', "%2B")), None).await;
    assert_eq!(cells[cells.len() - 2], "pending", "{line}");
    assert_eq!(n.body["serviceProvisioningStatus"], "pending", "{:?}", n.body);
}

#[tokio::test]
async fn a_bad_file_is_refused_whole_with_every_bad_row_named() {
    let s = Stack::start().await;
    account(&s, "contoso").await;
    account(&s, "fabrikam").await;
    assert!(s
        .admin(
            "PUT",
            "/accounts/fabrikam/numbers/+442070000005",
            Some(switchboard_tests::dr_number("fabrikam", "+442070000005"))
        )
        .await
        .status
        .is_success());

    let mut body = csv_rows(0, 10);
    body = body.replace("+442070000002,,,,,,true", "442070000002,,,,,,true"); // line 4: no +
    body =
        body.replace("+442070000006,hdr-6,true,assigned,CallingUserAssignment", "+442070000006,hdr-6,true,assigned,"); // line 8: usage
    body = body.replace("+442070000007,,,,,,true", "+442070000007,,,,,,maybe"); // line 9
    let r = s.import_csv("contoso", &body).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    let targets: Vec<&str> =
        r.body["error"]["details"].as_array().unwrap().iter().map(|d| d["target"].as_str().unwrap()).collect();
    assert_eq!(
        targets,
        [
            "line 4: telephoneNumber",
            "line 8: serviceDetails_teamsOperatorConnect_configuration_usage",
            "line 9: serviceDetails_teamsDirectRouting_enabled"
        ]
    );
    assert_eq!(total(&s, "contoso").await, (0, 0, 0), "nothing of a refused file is written");

    // A file that parses but holds a number another account owns is refused the same way.
    let r = s.import_csv("contoso", &csv_rows(0, 10)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(r.body["error"]["details"][0]["target"], "line 7: telephoneNumber");
    assert!(r.body["error"]["details"][0]["message"].as_str().unwrap().contains("fabrikam"));
    assert_eq!(total(&s, "contoso").await, (0, 0, 0));

    // Wrong content type, wrong role.
    let r = s
        .send_raw(
            "POST",
            &format!("/accounts/contoso:importNumbers?api-version={API_VERSION}"),
            Some(&token(ADMIN)),
            Some("x"),
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!((r.status, r.target()), (StatusCode::BAD_REQUEST, "Content-Type"));
    let r = s
        .send_raw(
            "POST",
            &format!("/accounts/contoso:importNumbers?api-version={API_VERSION}"),
            Some(&token(&["ProvisioningAPI.Read"])),
            Some(&csv_rows(100, 2)),
            &[("content-type", "text/csv")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_failure_mid_import_rolls_back_what_was_written() {
    let s = Stack::start().await;
    account(&s, "contoso").await;
    account(&s, "fabrikam").await;
    // A number the import will change: it must come back exactly as it was.
    let before = s
        .admin(
            "PUT",
            "/accounts/contoso/numbers/+442070000001",
            Some(switchboard_tests::dr_number("contoso", "+442070000001")),
        )
        .await;
    assert!(before.status.is_success());

    // Another account claims the file's last number while the import is writing.
    let last = "+442070001999";
    let file = csv_rows(0, 2000);
    let (r, ()) = tokio::join!(s.import_csv("contoso", &file), async {
        until_writing(&s).await;
        let r = s
            .admin(
                "PUT",
                &format!("/accounts/fabrikam/numbers/{last}"),
                Some(switchboard_tests::dr_number("fabrikam", last)),
            )
            .await;
        assert!(r.status.is_success(), "{:?}", r.body);
    });
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.code(), "NumberOwnedByAnotherAccount");
    assert_eq!(total(&s, "contoso").await, (1, 0, 1), "every chunk written was rolled back");
    let after = s.admin("GET", "/accounts/contoso/numbers/+442070000001", None).await;
    assert_eq!(after.body, before.body);
    assert_eq!(after.header("etag"), before.header("etag"), "the very item that was there is back");
    // The account's import slot is free again.
    let r = s.import_csv("contoso", &csv_rows(5000, 10)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}

#[tokio::test]
async fn an_import_whose_writer_dies_is_rolled_back_by_the_next_one() {
    let s = Stack::start().await;
    account(&s, "contoso").await;
    let before = s
        .admin(
            "PUT",
            "/accounts/contoso/numbers/+442070000001",
            Some(switchboard_tests::dr_number("contoso", "+442070000001")),
        )
        .await;
    let rows = switchboard_domain::number_csv::parse("contoso", csv_rows(0, 3000).as_bytes()).unwrap();

    // The writer is dropped between two of its requests: a Lambda killed mid-import.
    let repo = s.repo().clone();
    let writer = tokio::spawn(async move { repo.import_numbers("contoso", rows).await });
    until_writing(&s).await;
    writer.abort();
    let _ = writer.await;
    let (half, _, _) = total(&s, "contoso").await;
    assert!(half > 1 && half < 3000, "the writer died part-way ({half} numbers)");

    // While its lease runs, the account's import slot stays taken.
    let r = s.import_csv("contoso", &csv_rows(5000, 10)).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "ImportInProgress"));

    // The sync's recovery (here with the lease already over) restores the account.
    let recovered = s.repo().recover_imports(Duration::ZERO).await.unwrap();
    assert_eq!(recovered, ["contoso"]);
    assert_eq!(total(&s, "contoso").await, (1, 0, 1));
    let after = s.admin("GET", "/accounts/contoso/numbers/+442070000001", None).await;
    assert_eq!((after.body.clone(), after.header("etag")), (before.body.clone(), before.header("etag")));
    let listed = s.admin("GET", "/accounts/contoso/numbers?countRecords=true", None).await;
    assert_eq!(listed.header("x-ms-record-count"), Some("1"));
    assert_eq!(s.import_csv("contoso", &csv_rows(5000, 10)).await.status, StatusCode::OK);
}
