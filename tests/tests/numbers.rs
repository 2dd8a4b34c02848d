//! Numbers through the real handlers on the real engine.

use serde_json::json;
use switchboard_tests::*;

async fn stack_with_account() -> Stack {
    let s = Stack::start().await;
    let r = s.admin("PUT", "/accounts/contoso", Some(full_account_body("contoso"))).await;
    assert_eq!(r.status, 201);
    s
}

#[tokio::test]
async fn acg_number_example_is_accepted_unchanged() {
    let s = Stack::start().await;
    s.setup("PUT", "/accounts/contoso", Some(account_body("contoso"))).await;
    let r =
        s.admin("PUT", "/accounts/contoso/numbers/+15105850321", Some(number_body("contoso", "+15105850321"))).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["serviceProvisioningStatus"], "pending", "the account syncs");
    assert!(r.header("etag").is_some());
    let g = s.admin("GET", "/accounts/contoso/numbers/%2B15105850321", None).await;
    assert_eq!(g.status, 200);
    assert_eq!(g.body["configuration"]["customSipHeader"], "contoso-commsgw");
    let a = s.admin("GET", "/accounts/contoso", None).await;
    assert_eq!(a.body["serviceDetails"]["teamsOperatorConnect"]["numberCount"], 1);
}

#[tokio::test]
async fn acg_batch_example_is_accepted() {
    let s = Stack::start().await;
    s.setup("PUT", "/accounts/contoso", Some(account_body("contoso"))).await;
    let batch = json!({"numbers":[number_body("contoso","+15105850321"), number_body("contoso","+15105850322")]});
    let r = s.admin("POST", "/accounts/contoso:createOrUpdateNumbers", Some(batch)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["numbers"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["numbers"][1]["telephoneNumber"], "+15105850322");
    let del = json!({"numbers":[{"telephoneNumber":"+15105850321"},{"telephoneNumber":"+15105850322"}]});
    assert_eq!(s.admin("POST", "/accounts/contoso:deleteNumbers", Some(del)).await.status, 204);
    let a = s.admin("GET", "/accounts/contoso", None).await;
    assert_eq!(a.body["serviceDetails"]["teamsOperatorConnect"]["numberCount"], 0);
}

#[tokio::test]
async fn e164_rules() {
    let s = stack_with_account().await;
    for bad in ["15105850321", "+0105850321", "+1510585032a", "+99912345678", "+12345678901234567"] {
        let path = format!("/accounts/contoso/numbers/{}", bad.replace('+', "%2B"));
        let r = s.admin("PUT", &path, Some(dr_number("contoso", bad))).await;
        assert_eq!((r.status.as_u16(), r.target()), (400, "telephoneNumber"), "{bad}: {:?}", r.body);
    }
    let r =
        s.admin("PUT", "/accounts/contoso/numbers/+442071234567", Some(dr_number("contoso", "+442071234568"))).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "telephoneNumber"));
    let r = s.admin("PUT", "/accounts/contoso/numbers/+442071234567", Some(dr_number("other", "+442071234567"))).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "accountName"));
}

#[tokio::test]
async fn service_rules() {
    let s = stack_with_account().await;
    let tn = "+442071234567";
    let path = format!("/accounts/contoso/numbers/{tn}");
    // OC/TPM need usage and capabilities.
    let body = json!({"telephoneNumber":tn,"accountName":"contoso","serviceDetails":{"teamsPhoneMobile":{"enabled":true,"configuration":{"choosableCapabilities":["Mobile"]}}}});
    let r = s.admin("PUT", &path, Some(body)).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "serviceDetails.teamsPhoneMobile.configuration.usage"));
    let body = json!({"telephoneNumber":tn,"accountName":"contoso","serviceDetails":{"teamsOperatorConnect":{"enabled":true,"configuration":{"usage":"ConferenceAssignment"}}}});
    let r = s.admin("PUT", &path, Some(body)).await;
    assert_eq!(
        (r.status.as_u16(), r.target()),
        (400, "serviceDetails.teamsOperatorConnect.configuration.choosableCapabilities")
    );
    // A calling-user number whose address the tenant may not change needs one.
    let mut body = number_body("contoso", tn);
    body["serviceDetails"]["teamsOperatorConnect"]["configuration"]["allowTenantAddressUpdate"] = json!(false);
    let r = s.admin("PUT", &path, Some(body.clone())).await;
    assert_eq!(
        (r.status.as_u16(), r.target()),
        (400, "serviceDetails.teamsOperatorConnect.configuration.civicAddressId")
    );
    body["serviceDetails"]["teamsOperatorConnect"]["configuration"]["civicAddressId"] = json!("ca-1");
    assert_eq!(s.admin("PUT", &path, Some(body)).await.status, 201);
    // No custom SIP header for Teams Phone Mobile.
    let body = json!({"telephoneNumber":"+442071234568","accountName":"contoso","configuration":{"customSipHeader":"x"},
        "serviceDetails":{"teamsPhoneMobile":{"enabled":true,"configuration":{"usage":"FirstPartyAppAssignment","choosableCapabilities":["Mobile"]}}}});
    let r = s.admin("PUT", "/accounts/contoso/numbers/+442071234568", Some(body)).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "configuration.customSipHeader"));
    // Custom SIP header pattern.
    let mut body = dr_number("contoso", "+442071234569");
    body["configuration"] = json!({"customSipHeader":"has space"});
    let r = s.admin("PUT", "/accounts/contoso/numbers/+442071234569", Some(body)).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "configuration.customSipHeader"));
    // Unknown enum value.
    let body = json!({"telephoneNumber":tn,"accountName":"contoso","serviceDetails":{"teamsOperatorConnect":{"enabled":true,"configuration":{"usage":"Fax","choosableCapabilities":["InboundCalling"]}}}});
    let r = s.admin("PUT", &path, Some(body)).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "serviceDetails.teamsOperatorConnect.configuration.usage"));
    let body = json!({"telephoneNumber":tn,"accountName":"contoso"});
    let r = s.admin("PUT", &path, Some(body)).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "serviceDetails"));
}

#[tokio::test]
async fn a_number_needs_its_service_enabled_on_the_account() {
    let s = Stack::start().await;
    s.setup("PUT", "/accounts/oc-only", Some(account_body("oc-only"))).await;
    let r =
        s.admin("PUT", "/accounts/oc-only/numbers/+442071234567", Some(dr_number("oc-only", "+442071234567"))).await;
    assert_eq!(
        (r.status.as_u16(), r.target(), r.code()),
        (409, "serviceDetails.teamsDirectRouting", "ServiceNotEnabled")
    );
    let r =
        s.admin("PUT", "/accounts/missing/numbers/+442071234567", Some(dr_number("missing", "+442071234567"))).await;
    assert_eq!((r.status.as_u16(), r.target()), (404, "accountName"));
}

#[tokio::test]
async fn a_number_belongs_to_one_account() {
    let s = stack_with_account().await;
    s.setup("PUT", "/accounts/fabrikam", Some(full_account_body("fabrikam"))).await;
    let tn = "+442071234567";
    assert_eq!(
        s.admin("PUT", &format!("/accounts/contoso/numbers/{tn}"), Some(dr_number("contoso", tn))).await.status,
        201
    );
    let r = s.admin("PUT", &format!("/accounts/fabrikam/numbers/{tn}"), Some(dr_number("fabrikam", tn))).await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "NumberOwnedByAnotherAccount"));
    assert_eq!(s.admin("GET", &format!("/accounts/fabrikam/numbers/{tn}"), None).await.status, 404);
    assert_eq!(s.admin("DELETE", &format!("/accounts/fabrikam/numbers/{tn}"), None).await.status, 404);
    let batch = json!({"numbers":[dr_number("fabrikam","+442071234500"), dr_number("fabrikam", tn)]});
    let r = s.admin("POST", "/accounts/fabrikam:createOrUpdateNumbers", Some(batch)).await;
    assert_eq!((r.status.as_u16(), r.target()), (409, "numbers[1].telephoneNumber"));
    assert_eq!(
        s.admin("GET", "/accounts/fabrikam/numbers/+442071234500", None).await.status,
        404,
        "nothing of a refused batch is written"
    );
    // Deleting a number of another account in a batch leaves it alone.
    let del = json!({"numbers":[{"telephoneNumber":tn}]});
    assert_eq!(s.admin("POST", "/accounts/fabrikam:deleteNumbers", Some(del)).await.status, 204);
    assert_eq!(s.admin("GET", &format!("/accounts/contoso/numbers/{tn}"), None).await.status, 200);
}

#[tokio::test]
async fn number_counts_follow_every_change() {
    let s = stack_with_account().await;
    let counts = |b: &serde_json::Value| {
        let sd = &b["serviceDetails"];
        [
            "teamsOperatorConnect",
            "teamsPhoneMobile",
            "teamsDirectRouting",
            "zoomPhoneCloudPeering",
            "azureOperatorCallProtection",
        ]
        .map(|k| sd[k]["numberCount"].as_i64().unwrap())
    };
    let tn = "+442071234567";
    let path = format!("/accounts/contoso/numbers/{tn}");
    s.setup("PUT", &path, Some(dr_number("contoso", tn))).await;
    assert_eq!(counts(&s.admin("GET", "/accounts/contoso", None).await.body), [0, 0, 1, 0, 0]);
    let both = json!({"telephoneNumber":tn,"accountName":"contoso","serviceDetails":{"zoomPhoneCloudPeering":{"enabled":true},"azureOperatorCallProtection":{"enabled":true},"teamsDirectRouting":{"enabled":false}}});
    assert_eq!(s.admin("PUT", &path, Some(both)).await.status, 200);
    assert_eq!(counts(&s.admin("GET", "/accounts/contoso", None).await.body), [0, 0, 0, 1, 1]);
    let batch: Vec<_> = uk_numbers(500, 30).iter().map(|n| number_body("contoso", n)).collect();
    assert_eq!(
        s.admin("POST", "/accounts/contoso:createOrUpdateNumbers", Some(json!({"numbers": batch}))).await.status,
        200
    );
    assert_eq!(counts(&s.admin("GET", "/accounts/contoso", None).await.body), [30, 0, 0, 1, 1]);
    // Re-sending the same batch changes nothing.
    let batch: Vec<_> = uk_numbers(500, 30).iter().map(|n| number_body("contoso", n)).collect();
    assert_eq!(
        s.admin("POST", "/accounts/contoso:createOrUpdateNumbers", Some(json!({"numbers": batch}))).await.status,
        200
    );
    assert_eq!(counts(&s.admin("GET", "/accounts/contoso", None).await.body), [30, 0, 0, 1, 1]);
    let del: Vec<_> = uk_numbers(500, 10).iter().map(|n| json!({"telephoneNumber": n})).collect();
    assert_eq!(s.admin("POST", "/accounts/contoso:deleteNumbers", Some(json!({"numbers": del}))).await.status, 204);
    assert_eq!(s.admin("DELETE", &path, None).await.status, 204);
    assert_eq!(counts(&s.admin("GET", "/accounts/contoso", None).await.body), [20, 0, 0, 0, 0]);
}

#[tokio::test]
async fn batch_limits_and_per_row_errors() {
    let s = stack_with_account().await;
    let too_many: Vec<_> = uk_numbers(0, 101).iter().map(|n| dr_number("contoso", n)).collect();
    let r = s.admin("POST", "/accounts/contoso:createOrUpdateNumbers", Some(json!({"numbers": too_many}))).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "numbers"));
    let r = s.admin("POST", "/accounts/contoso:createOrUpdateNumbers", Some(json!({"numbers": []}))).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "numbers"));
    let rows = json!({"numbers":[dr_number("contoso","+442071234567"), dr_number("contoso","+44"), dr_number("other","+442071234568")]});
    let r = s.admin("POST", "/accounts/contoso:createOrUpdateNumbers", Some(rows)).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "numbers[1].telephoneNumber"));
    let targets: Vec<_> = r.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["target"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(targets, ["numbers[1].telephoneNumber", "numbers[2].accountName"]);
    let dup = json!({"numbers":[dr_number("contoso","+442071234567"), dr_number("contoso","+442071234567")]});
    let r = s.admin("POST", "/accounts/contoso:createOrUpdateNumbers", Some(dup)).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "numbers[1].telephoneNumber"));
    let r = s.admin("POST", "/accounts/contoso:bogusAction", Some(json!({}))).await;
    assert_eq!((r.status.as_u16(), r.target()), (404, "action"));
    let r = s.admin("POST", "/accounts/contoso", Some(json!({}))).await;
    assert_eq!(r.status, 405);
    assert_eq!(
        s.admin("GET", "/accounts/contoso/numbers?countRecords=true", None).await.header("x-ms-record-count"),
        Some("0")
    );
}

#[tokio::test]
async fn number_etags() {
    let s = stack_with_account().await;
    let tn = "+442071234567";
    let path = format!("/accounts/contoso/numbers/{tn}");
    let t = token(ADMIN);
    let r = s.send("PUT", &path, Some(&t), Some(dr_number("contoso", tn)), &[("if-none-match", "*")]).await;
    assert_eq!(r.status, 201);
    let etag = r.header("etag").unwrap().to_string();
    assert_eq!(
        s.send("PUT", &path, Some(&t), Some(dr_number("contoso", tn)), &[("if-none-match", "*")]).await.status,
        412
    );
    assert_eq!(s.send("GET", &path, Some(&t), None, &[("if-none-match", &etag)]).await.status, 304);
    assert_eq!(s.send("DELETE", &path, Some(&t), None, &[("if-match", "\"old\"")]).await.status, 412);
    assert_eq!(s.send("DELETE", &path, Some(&t), None, &[("if-match", &etag)]).await.status, 204);
}

#[tokio::test]
async fn list_numbers_filters_and_all_accounts() {
    let s = stack_with_account().await;
    s.setup("PUT", "/accounts/fabrikam", Some(full_account_body("fabrikam"))).await;
    let mine: Vec<_> = uk_numbers(0, 5).iter().map(|n| dr_number("contoso", n)).collect();
    let theirs: Vec<_> = uk_numbers(100, 3).iter().map(|n| number_body("fabrikam", n)).collect();
    s.setup("POST", "/accounts/contoso:createOrUpdateNumbers", Some(json!({"numbers": mine}))).await;
    s.setup("POST", "/accounts/fabrikam:createOrUpdateNumbers", Some(json!({"numbers": theirs}))).await;
    let r = s.admin("GET", "/accounts/contoso/numbers?countRecords=true", None).await;
    assert_eq!((r.header("x-ms-record-count"), r.body["value"].as_array().unwrap().len()), (Some("5"), 5));
    let r = s.admin("GET", "/numbers?countRecords=true", None).await;
    assert_eq!(r.header("x-ms-record-count"), Some("8"));
    let r = s.admin("GET", "/numbers?filter=accountName%20eq%20'fabrikam'%20and%20serviceDetails/teamsOperatorConnect/configuration/usage%20eq%20'CallingUserAssignment'&countRecords=true", None).await;
    assert_eq!(r.header("x-ms-record-count"), Some("3"), "{:?}", r.body);
    let r = s.admin("GET", "/numbers?filter=serviceDetails/teamsDirectRouting/enabled%20ne%20true", None).await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 3);
    assert_eq!(s.admin("GET", "/accounts/nobody/numbers", None).await.status, 404);
}

#[tokio::test]
async fn only_numbers_of_synced_services_are_pending() {
    let s = Stack::start().await;
    let mut body = account_body("contoso");
    body["serviceDetails"]["teamsDirectRouting"] = json!({"enabled": true, "syncEnabled": false});
    s.setup("PUT", "/accounts/contoso", Some(body)).await;
    let oc =
        s.admin("PUT", "/accounts/contoso/numbers/+15105850321", Some(number_body("contoso", "+15105850321"))).await;
    assert_eq!(oc.body["serviceProvisioningStatus"], "pending");
    let dr =
        s.admin("PUT", "/accounts/contoso/numbers/+442071234567", Some(dr_number("contoso", "+442071234567"))).await;
    assert_eq!(dr.status, 201);
    assert!(dr.body.get("serviceProvisioningStatus").is_none(), "{:?}", dr.body);
    // Direct Routing has a syncEnabled flag but no flow-through: such an account never waits.
    let body = json!({"name": "dr", "serviceDetails": {"teamsDirectRouting": {"enabled": true, "syncEnabled": true}}});
    let r = s.admin("PUT", "/accounts/dr", Some(body)).await;
    assert_eq!(r.status, 201);
    assert!(r.body.get("serviceProvisioningStatus").is_none(), "{:?}", r.body);
}

#[tokio::test]
async fn a_conflict_anywhere_in_a_full_batch_writes_nothing() {
    let s = stack_with_account().await;
    s.setup("PUT", "/accounts/fabrikam", Some(full_account_body("fabrikam"))).await;
    let taken = uk_numbers(99, 1)[0].clone();
    assert_eq!(
        s.admin("PUT", &format!("/accounts/fabrikam/numbers/{taken}"), Some(dr_number("fabrikam", &taken)))
            .await
            .status,
        201
    );
    // 100 numbers span two transactions; the last one belongs to another account.
    let batch: Vec<_> = uk_numbers(0, 100).iter().map(|n| dr_number("contoso", n)).collect();
    let r = s.admin("POST", "/accounts/contoso:createOrUpdateNumbers", Some(json!({"numbers": batch}))).await;
    assert_eq!((r.status.as_u16(), r.target()), (409, "numbers[99].telephoneNumber"));
    let listed = s.admin("GET", "/accounts/contoso/numbers?countRecords=true", None).await;
    assert_eq!(listed.header("x-ms-record-count"), Some("0"), "nothing of the batch was written");
    let acct = s.admin("GET", "/accounts/contoso", None).await;
    assert_eq!(acct.body["serviceDetails"]["teamsDirectRouting"]["numberCount"], 0);
}

/// `:validateNumbers` (the pre-flight extension): per number, what the API would refuse and what
/// the backend would refuse at the next sync, with nothing written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_numbers_names_what_would_fail_and_writes_nothing() {
    use switchboard_tests::flow::{Flow, TENANT};
    let flow = Flow::start(switchboard_emulator::Config::default()).await;
    flow.consent(TENANT, &["US"]).await;
    flow.sync().await;
    flow.syncing_account("contoso", TENANT).await;
    let s = &flow.stack;
    s.setup("PUT", "/accounts/other", Some(full_account_body("other"))).await;
    s.setup("PUT", "/accounts/other/numbers/+14255550199", Some(dr_number("other", "+14255550199"))).await;

    let ask =
        |tns: &[&str]| json!({"numbers": tns.iter().map(|tn| json!({"telephoneNumber": tn})).collect::<Vec<_>>()});
    let codes = |body: &serde_json::Value| -> Vec<Vec<String>> {
        body["numbers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                v["problems"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap().to_string()).collect()
            })
            .collect()
    };
    let tns = ["+14255550102", "+442071838750", "+14165550123", "+14255550199", "+1 425"];
    let r = s.admin("POST", "/accounts/contoso:validateNumbers", Some(ask(&tns))).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        codes(&r.body),
        [
            vec![],
            vec!["OutsideConsentedCountries".to_string()],
            vec!["OutsideConsentedCountries".to_string()],
            vec!["NumberOwnedByAnotherAccount".to_string()],
            vec!["InvalidInput".to_string()],
        ]
    );
    assert_eq!(r.body["numbers"][1]["problems"][0]["severity"], "warning");
    assert_eq!(r.body["numbers"][3]["problems"][0]["severity"], "error");
    assert_eq!(r.body["numbers"][0]["telephoneNumber"], tns[0]);
    // Nothing was written.
    assert_eq!(s.admin("GET", "/accounts/contoso/numbers/+14255550102", None).await.status, 404);
    // An account without a Teams tenant has no consent to check; one whose tenant has not
    // consented is warned.
    let dr = json!({"name": "dr", "serviceDetails": {"teamsDirectRouting": {"enabled": true, "syncEnabled": false}}});
    s.setup("PUT", "/accounts/dr", Some(dr)).await;
    let r = s.admin("POST", "/accounts/dr:validateNumbers", Some(ask(&["+442071838750"]))).await;
    assert_eq!(codes(&r.body), [Vec::<String>::new()]);
    let stranger = "0b0b0b0b-0000-4000-8000-000000000000";
    flow.syncing_account("stranger", stranger).await;
    let r = s.admin("POST", "/accounts/stranger:validateNumbers", Some(ask(&["+14255550102"]))).await;
    assert_eq!(codes(&r.body), [vec!["ConsentNotGiven".to_string()]]);
    // Bad requests are 400s naming the field; an unknown account is a 404.
    let many: Vec<String> = (0..101).map(|i| format!("+1425555{i:04}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let r = s.admin("POST", "/accounts/contoso:validateNumbers", Some(ask(&many))).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "numbers"));
    let r = s.admin("POST", "/accounts/contoso:validateNumbers", Some(ask(&[&"9".repeat(65)]))).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "numbers[0].telephoneNumber"));
    let r = s.admin("POST", "/accounts/nobody:validateNumbers", Some(ask(&["+14255550102"]))).await;
    assert_eq!(r.status, 404);
}
