//! The Number Management Portal in a real browser (Debian's headless Chromium through
//! chromedriver) against the local stack: the embedded engine, the backend emulator and every
//! function behind `cargo lambda watch`. It walks the walkthrough of
//! `../shared/reference/000_36025083351eac08.txt` and saves a screenshot of each page in
//! `tests/artifacts/portal/`.

use serde_json::{json, Value};
use switchboard_emulator::{Config, Emulator};
use switchboard_tests::browser::Browser;
use switchboard_tests::e2e::{Client, Gateway};
use switchboard_tests::flow::us_numbers;

const TENANT: &str = "c0ffee00-0000-4000-8000-00000000b0b0";

async fn emu_admin(http: &reqwest::Client, emu: &Emulator, method: &str, path: &str, body: Value) {
    let resp = http.request(method.parse().unwrap(), format!("{}{path}", emu.url())).json(&body).send().await.unwrap();
    assert!(resp.status().is_success(), "{method} {path}: {}", resp.status());
}

async fn sync(c: &Client) -> Value {
    let report = c.invoke("sync", &json!({"source": "portal-test"})).await;
    assert_ne!(report["status"], "skipped", "{report}");
    report
}

/// A CSV of Operator Connect numbers in the walkthrough's headings.
fn oc_csv(tns: &[String]) -> String {
    let mut body = String::from("telephoneNumber,serviceDetails_teamsOperatorConnect_enabled,serviceDetails_teamsOperatorConnect_assignmentStatus,serviceDetails_teamsOperatorConnect_configuration_usage,serviceDetails_teamsOperatorConnect_configuration_choosableCapabilities\n");
    for tn in tns {
        body.push_str(&format!("{tn},true,unassigned,CallingUserAssignment,InboundCalling;OutboundCalling\n"));
    }
    body
}

async fn sign_in(b: &Browser, base: &str, role: &str) {
    b.goto(&format!("{base}/portal/#/signin")).await;
    b.ready("signin").await;
    b.select("signin-role", role).await;
    b.fill("signin-subject", "alice@operator.example").await;
    b.click("signin-submit").await;
    b.el("user-roles").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_walkthrough_in_a_real_browser() {
    let emu =
        Emulator::start("127.0.0.1:0", Config { rate_limit_per_minute: 3000, ..Config::default() }).await.unwrap();
    let gw =
        Gateway::start("switchboard-portal", &[("BACKEND_URL", &emu.url()), ("BACKEND_RATE_PER_MINUTE", "2400")]).await;
    let c = &gw.client;
    let base = c.base.clone();
    let csv_dir = tempdir();

    // A consent appears: the enterprise asks for service in the Teams Admin Center, and the
    // tenant has a civic address with a location and its ELIN.
    emu_admin(
        &c.http,
        &emu,
        "POST",
        "/admin/consents",
        json!({"tenantId": TENANT, "companyName": "Woodgrove Bank", "consentedCountries": ["US"]}),
    )
    .await;
    emu_admin(&c.http, &emu, "PUT", &format!("/admin/tenants/{TENANT}/civicAddresses/ca-1"), json!({"id": "ca-1", "country": "US", "cityOrTown": "Reston", "companyName": "Woodgrove Bank", "description": "Head office", "validationStatus": "Validated", "locations": [{"id": "loc-1", "civicAddressId": "ca-1", "elin": "5105850000", "description": "Floor 1"}]})).await;
    sync(c).await;

    let mut b = Browser::start("portal").await;
    sign_in(&b, &base, "ProvisioningAPI.AdminUser").await;
    b.click("nav-rfis").await;
    b.ready("rfis").await;
    assert_eq!(b.row_keys("rfi").await, [TENANT]);
    b.shot("requests-for-information").await;
    // Search by the company's name, in any case; a company not there finds nothing.
    for (text, found) in
        [("woodgrove BANK", vec![TENANT.to_string()]), ("fabrikam", vec![]), ("", vec![TENANT.to_string()])]
    {
        b.fill("search-input", text).await;
        b.click("search-apply").await;
        b.ready("rfis").await;
        assert_eq!(b.row_keys("rfi").await, found, "search {text:?}");
    }

    // Update relationship status: Consent declined needs a reason; the portal refuses without one.
    b.click_in_row("rfi", TENANT, "row-link").await;
    b.ready("rfi").await;
    b.shot("request-detail").await;
    b.select("rfi-status", "ConsentDeclined").await;
    b.fill("rfi-reason", "").await;
    b.click("rfi-save").await;
    let (kind, text) = b.flash().await;
    assert_eq!(kind, "error", "{text}");
    assert!(text.to_lowercase().contains("reason"), "{text}");
    // Said in words, at the field: no error code, no "target:".
    assert!(!text.contains("InvalidInput:") && !text.contains("target:"), "{text}");
    let invalid =
        |id: &str| format!("return document.querySelector('[data-testid={id}]').getAttribute('aria-invalid')");
    assert_eq!(b.js(&invalid("rfi-reason")).await, "true");
    assert!(b.text_of("field-error").await.unwrap_or_default().contains("reason"));
    b.shot("declined-needs-a-reason").await;
    let (_, _, rfi) = c.call("GET", &format!("/teamsRequestsForInformation/{TENANT}"), None).await;
    assert_ne!(rfi["customerRelationship"]["status"], "ConsentDeclined", "nothing was sent");

    // A 70-character ticket ID is refused, not silently cut to 64.
    b.select("rfi-status", "AgreementSigned").await;
    b.fill("rfi-ticket", &"T".repeat(70)).await;
    b.click("rfi-save").await;
    let (kind, text) = b.flash().await;
    assert!(kind == "error" && text.contains("70") && text.contains("64"), "{kind}: {text}");
    assert_eq!(b.js(&invalid("rfi-ticket")).await, "true");
    assert_eq!(b.js("return document.querySelector('[data-testid=rfi-ticket]').value.length").await, 70);
    b.fill("rfi-ticket", "CRM-1042").await;
    b.click("rfi-save").await;
    let (kind, text) = b.flash().await;
    assert_eq!(kind, "ok", "{text}");
    let (_, _, rfi) = c.call("GET", &format!("/teamsRequestsForInformation/{TENANT}"), None).await;
    assert_eq!(rfi["customerRelationship"]["status"], "AgreementSigned");
    assert_eq!(rfi["customerRelationship"]["ticketId"], "CRM-1042");

    // Create account from the request, syncing Operator Connect with the backend.
    b.click("rfi-create-account").await;
    b.ready("account-form").await;
    b.fill("account-name", "woodgrove").await;
    b.check("svc-teamsOperatorConnect", true).await;
    b.check("svc-teamsDirectRouting", true).await;
    b.check("account-sync", true).await;
    b.shot("create-account").await;
    b.click("account-submit").await;
    // Created: the portal lands on the new account.
    b.ready("numbers").await;
    let (kind, text) = b.flash().await;
    assert!(kind == "ok" && text.contains("woodgrove"), "{kind}: {text}");
    let (status, _, account) = c.call("GET", "/accounts/woodgrove", None).await;
    assert_eq!(status, 200);
    assert_eq!(account["serviceDetails"]["teamsTenantId"], TENANT);
    assert_eq!(account["serviceDetails"]["teamsOperatorConnect"]["syncEnabled"], true);

    // The request now links to its account rather than offering another; a second account for
    // the tenant is warned about, and asked about before it is made.
    b.goto(&format!("{base}/portal/#/rfis/{TENANT}")).await;
    b.ready("rfi").await;
    assert!(!b.has("rfi-create-account").await, "Create account is still offered");
    b.click("rfi-open-account").await;
    b.ready("numbers").await;
    assert!(b.js("return location.hash").await.as_str().unwrap_or("").starts_with("#/accounts/woodgrove/numbers"));
    b.goto(&format!("{base}/portal/#/accounts/new?tenant={TENANT}")).await;
    b.ready("account-form").await;
    let note = b.text_of("tenant-has-account").await.unwrap_or_default();
    assert!(note.contains("woodgrove"), "{note:?}");
    b.fill("account-name", "woodgrove-again").await;
    b.click("account-submit").await;
    b.el("confirm-dialog").await;
    b.shot("second-account-asked").await;
    b.click("confirm-cancel").await;
    let (status, _, _) = c.call("GET", "/accounts/woodgrove-again", None).await;
    assert_eq!(status, 404, "a second account was made though the user cancelled");

    // Leaving a form with unsaved changes asks first; staying keeps what was typed.
    b.click("nav-accounts").await;
    let asked = b.el("confirm-dialog").await.text().await.unwrap();
    assert!(asked.contains("not been saved"), "{asked}");
    b.click("confirm-cancel").await;
    assert_eq!(b.js("return document.querySelector('[data-testid=account-name]').value").await, "woodgrove-again");
    assert!(b.js("return location.hash").await.as_str().unwrap_or("").starts_with("#/accounts/new"));
    b.click("nav-accounts").await;
    b.el("confirm-dialog").await;
    b.click("confirm-ok").await;
    b.ready("accounts").await;
    assert!(b.row_keys("account").await.contains(&"woodgrove".to_string()));
    b.shot("accounts").await;

    // On a slow network (every API answer held 1.5 s in the page, the civic addresses 4 s) the
    // list says it is loading (aria-busy), and a form draws before its civic addresses arrive.
    b.js("window.__fetch = window.fetch; window.fetch = (...a) => new Promise((r) => setTimeout(r, String(a[0]).includes('teamsCivicAddresses') ? 4000 : 1500)).then(() => window.__fetch(...a)); return true").await;
    b.js("location.hash = '#/accounts/woodgrove/numbers'; return true").await;
    let loading = "return !!document.querySelector('.listview[aria-busy=true] [data-testid=loading]') && document.body.dataset.ready !== 'numbers'";
    wait_js(&b, loading).await;
    b.shot("numbers-loading").await;
    b.ready("numbers").await;
    assert_eq!(b.js("return document.querySelectorAll('[aria-busy=true]').length").await, 0);
    b.js("location.hash = '#/accounts/woodgrove/numbers/new'; return true").await;
    let drawing = "return !!document.querySelector('[data-testid=num-list]') && !!document.querySelector('[data-testid=num-civic-loading].loading') && document.body.dataset.ready !== 'number-create'";
    wait_js(&b, drawing).await;
    b.ready("number-create").await;
    b.js("window.fetch = window.__fetch; return true").await;
    b.goto(&format!("{base}/portal/#/accounts")).await;
    b.ready("accounts").await;

    // Numbers: manual input of several at once.
    b.click_in_row("account", "woodgrove", "account-numbers").await;
    b.ready("numbers").await;
    b.click("numbers-create-manual").await;
    b.ready("number-create").await;
    let manual = us_numbers(0, 5);
    b.select("num-service", "teamsOperatorConnect").await;
    b.select("num-usage", "CallingUserAssignment").await;
    b.check("num-cap-InboundCalling", true).await;
    b.fill("num-sip-header", "woodgrove-gw").await;
    // As people write them: "+1 510 585 0000" is one number, "+1 (510) 585-0001" another.
    let typed = |tn: &str| format!("{} ({}) {}-{}", &tn[..2], &tn[2..5], &tn[5..8], &tn[8..]);
    let mut lines: Vec<String> = manual.iter().map(|tn| tn.to_string()).collect();
    lines[0] = format!("{} {} {} {}", &manual[0][..2], &manual[0][2..5], &manual[0][5..8], &manual[0][8..]);
    lines[1] = typed(&manual[1]);
    b.set_value("num-list", &lines.join("\n")).await;
    b.shot("create-numbers-manual").await;
    b.click("num-submit").await;
    b.ready("numbers").await;
    for tn in &manual {
        assert_eq!(b.cell("number", tn, "status").await, "pending");
    }
    b.shot("numbers-after-manual").await;

    // File upload: a CSV of 1,000 rows.
    let bulk = us_numbers(100, 1000);
    let good = csv_dir.join("woodgrove-1000.csv");
    std::fs::write(&good, oc_csv(&bulk)).unwrap();
    b.click("numbers-create-file").await;
    b.ready("number-upload").await;
    b.el("csv-file").await.send_keys(good.to_str().unwrap()).await.unwrap();
    b.click("csv-submit").await;
    let result = wait_text(&b, "csv-result", "1000").await;
    assert!(result.contains("1000"), "{result}");
    b.shot("upload-1000-done").await;
    let (_, headers, _) = c.call("GET", "/accounts/woodgrove/numbers?countRecords=true&maxpagesize=1", None).await;
    assert_eq!(headers["x-ms-record-count"], "1005");

    // A bad CSV is refused whole, its row errors shown.
    let mut bad = oc_csv(&us_numbers(2000, 3));
    bad = bad
        .replace("+15105852001,true", "15105852001,true")
        .replace("+15105852002,true,unassigned,CallingUserAssignment", "+15105852002,true,unassigned,");
    let bad_file = csv_dir.join("bad.csv");
    std::fs::write(&bad_file, bad).unwrap();
    // Still on the upload page: a browser-initiated navigation to the same URL may reload it.
    b.ready("number-upload").await;
    b.el("csv-file").await.send_keys(bad_file.to_str().unwrap()).await.unwrap();
    b.click("csv-submit").await;
    wait_for(&b, "csv-error").await;
    let errors: Vec<String> = serde_json::from_value(
        b.js("return [...document.querySelectorAll('[data-testid=csv-error]')].map(e => e.textContent)").await,
    )
    .unwrap();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].contains("line 3") && errors[0].contains("telephoneNumber"), "{errors:?}");
    assert!(errors[1].contains("line 4") && errors[1].contains("usage"), "{errors:?}");
    b.shot("upload-refused-with-row-errors").await;
    // A file with numbers only, no service columns: each line is asked for a service, by line
    // (not a retry-later database error).
    let bare = csv_dir.join("numbers-only.csv");
    std::fs::write(&bare, "telephoneNumber\n+15105852101\n+15105852102\n").unwrap();
    b.el("csv-file").await.send_keys(bare.to_str().unwrap()).await.unwrap();
    b.click("csv-submit").await;
    wait_js(
        &b,
        "return [...document.querySelectorAll('[data-testid=csv-error]')].some(e => e.textContent.includes('service'))",
    )
    .await;
    let errors: Vec<String> = serde_json::from_value(
        b.js("return [...document.querySelectorAll('[data-testid=csv-error]')].map(e => e.textContent)").await,
    )
    .unwrap();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].contains("line 2") && errors[0].contains("at least one service"), "{errors:?}");
    assert!(errors.iter().all(|e| !e.contains("retry") && !e.contains("Database")), "{errors:?}");
    let (_, headers, _) = c.call("GET", "/accounts/woodgrove/numbers?countRecords=true&maxpagesize=1", None).await;
    assert_eq!(headers["x-ms-record-count"], "1005", "nothing of the bad files was written");

    // Manage number: its custom SIP header.
    b.goto(&format!("{base}/portal/#/accounts/woodgrove/numbers")).await;
    b.ready("numbers").await;
    // The number is a link that opens it.
    b.click_in_row("number", &manual[0], "number-link").await;
    b.ready("number-manage").await;
    b.fill("num-sip-header", "woodgrove-gw-2").await;
    b.shot("manage-number").await;
    b.click("num-save").await;
    b.ready("numbers").await;
    let (_, _, n) = c.call("GET", &format!("/accounts/woodgrove/numbers/{}", manual[0]), None).await;
    assert_eq!(n["configuration"]["customSipHeader"], "woodgrove-gw-2");

    // The number's history: who changed what, before and after.
    b.click_in_row("number", &manual[0], "row-select").await;
    b.click("number-history").await;
    b.ready("history").await;
    let changes: Vec<String> = serde_json::from_value(
        b.js("return [...document.querySelectorAll('[data-testid=audit-change]')].map(e => e.textContent)").await,
    )
    .unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c.contains("configuration.customSipHeader") && c.contains("woodgrove-gw → woodgrove-gw-2")),
        "{changes:?}"
    );
    let who = b.cell("audit", &b.row_keys("audit").await[0], "actor").await;
    assert!(who.contains("alice@operator.example") && who.contains("ProvisioningAPI.AdminUser"), "{who}");
    b.shot("number-history").await;
    b.goto(&format!("{base}/portal/#/accounts/woodgrove/history")).await;
    b.ready("history").await;
    let ops: Vec<String> = serde_json::from_value(
        b.js("return [...document.querySelectorAll('[data-testid=audit-table] [data-testid=cell-operation]')].map(e => e.textContent)").await,
    )
    .unwrap();
    for op in ["accounts.put", "numbers.createOrUpdate", "numbers.import", "numbers.put"] {
        assert!(ops.iter().any(|o| o == op), "{op} missing from {ops:?}");
    }
    b.shot("account-history").await;
    b.goto(&format!("{base}/portal/#/accounts/woodgrove/numbers")).await;
    b.ready("numbers").await;

    // Delete numbers: several ticked, confirmed.
    for tn in &manual[1..4] {
        b.click_in_row("number", tn, "row-select").await;
    }
    b.click("numbers-delete").await;
    let confirm = b.el("confirm-dialog").await.text().await.unwrap();
    assert!(confirm.contains('3'), "{confirm}");
    // The focus starts on Cancel: Enter does no harm.
    assert_eq!(b.js("return document.activeElement.dataset.testid").await, "confirm-cancel");
    b.shot("delete-numbers-confirm").await;
    b.click("confirm-ok").await;
    b.ready("numbers").await;
    let keys = b.row_keys("number").await;
    for tn in &manual[1..4] {
        assert!(!keys.contains(tn), "{tn} still listed");
    }
    let (_, headers, _) = c.call("GET", "/accounts/woodgrove/numbers?countRecords=true&maxpagesize=1", None).await;
    assert_eq!(headers["x-ms-record-count"], "1002");

    // A search as staff type it (the number with spaces) lives in the URL (a reload keeps it),
    // and Export exports what the list shows, with each number's sync status and errors.
    b.fill("search-input", "+1 510 585 00").await;
    b.click("search-apply").await;
    b.ready("numbers").await;
    let filtered = [manual[0].clone(), manual[4].clone()];
    assert_eq!(b.row_keys("number").await, filtered);
    assert!(b.js("return location.hash").await.as_str().unwrap_or("").contains("search="));
    b.js("location.reload()").await;
    b.ready("numbers").await;
    assert_eq!(b.row_keys("number").await, filtered, "the search did not survive a reload");
    b.click("numbers-export").await;
    let csv = b.downloaded("woodgrove-numbers-filtered.csv").await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].ends_with("serviceProvisioningStatus,serviceProvisioningErrors"), "{csv}");
    assert!(lines[1].starts_with(&manual[0]) && lines[2].starts_with(&manual[4]), "{csv}");

    // A point-and-click filter: field, operator, value, shown as a chip that reads as a sentence
    // and goes with the search; Back returns to the list before it.
    b.click("filter-add").await;
    b.select("chip-field", "telephoneNumber").await;
    b.select("chip-op", "eq").await;
    b.fill("chip-value", &manual[4]).await;
    b.click("chip-add").await;
    b.ready("numbers").await;
    assert_eq!(b.row_keys("number").await, [manual[4].clone()]);
    assert_eq!(
        b.text_of("filter-chip").await.unwrap_or_default().trim_end_matches('×').trim(),
        format!("Number is {}", manual[4])
    );
    assert!(b.js("return location.hash").await.as_str().unwrap_or("").contains("filter="));
    // The filter survives a reload, still a chip, and Export exports what it shows.
    b.js("location.reload()").await;
    b.ready("numbers").await;
    assert_eq!(b.row_keys("number").await, [manual[4].clone()], "the filter did not survive a reload");
    assert!(b.has("filter-chip").await);
    b.click("numbers-export").await;
    let csv = b.downloaded("woodgrove-numbers-filtered.csv").await;
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.lines().nth(1).is_some_and(|l| l.starts_with(&manual[4])), "{csv}");
    b.js("history.back(); return true").await;
    wait_js(
        &b,
        "return !document.querySelector('[data-testid=filter-chip]') && document.body.dataset.ready === 'numbers'",
    )
    .await;
    assert_eq!(b.row_keys("number").await, filtered, "Back did not return to the search alone");
    // The OData box is still there for power users; what chips cannot show stays as text.
    b.js("document.querySelector('[data-testid=filter-advanced]').open = true; return true").await;
    b.fill("filter-input", &format!("telephoneNumber eq '{}' or telephoneNumber eq '+1'", manual[0])).await;
    b.click("filter-apply").await;
    b.ready("numbers").await;
    assert_eq!(b.row_keys("number").await, [manual[0].clone()]);
    assert!(!b.has("filter-chip").await);
    b.fill("filter-input", "").await;
    b.click("filter-apply").await;
    b.ready("numbers").await;
    b.fill("search-input", "").await;
    b.click("search-apply").await;
    b.ready("numbers").await;

    // Page-number jumps: straight to the last of 21 pages of 50, and Prev from there.
    b.click("page-jump-21").await;
    b.ready("numbers").await;
    assert_eq!(b.row_keys("number").await.len(), 2);
    assert!(b.text_of("page-info").await.unwrap_or_default().contains("page 21"));
    b.click("page-prev").await;
    b.ready("numbers").await;
    assert_eq!(b.row_keys("number").await.len(), 50);
    assert!(
        b.text_of("page-info").await.unwrap_or_default().contains("951–1000 of 1002 numbers"),
        "{:?}",
        b.text_of("page-info").await
    );
    b.click("page-jump-1").await;
    b.ready("numbers").await;

    // Export over HTTP (the gateway's `numbers:export` route), re-import it, export again: the same bytes.
    let export = || async {
        let resp = c
            .http
            .get(format!("{base}/accounts/woodgrove/numbers:export?api-version=2024-02-29-preview"))
            .bearer_auth(&c.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        resp.bytes().await.unwrap().to_vec()
    };
    let first = export().await;
    assert_eq!(first.iter().filter(|b| **b == b'\n').count(), 1003, "headings and 1,002 numbers");
    let resp = c
        .http
        .post(format!("{base}/accounts/woodgrove:importNumbers?api-version=2024-02-29-preview"))
        .bearer_auth(&c.token)
        .header("content-type", "text/csv")
        .body(first.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(export().await, first, "export → import → export is byte-for-byte the same");

    // A UK number, outside the consented countries: the backend will refuse it.
    // A number outside the tenant's consented countries (US) is asked about before it is saved
    // (the API's pre-flight): Cancel saves nothing, Save anyway saves it (and the sync fails it).
    let uk = "+442079990009";
    b.goto(&format!("{base}/portal/#/accounts/woodgrove/numbers/new")).await;
    b.ready("number-create").await;
    b.select("num-service", "teamsOperatorConnect").await;
    b.select("num-usage", "CallingUserAssignment").await;
    b.check("num-cap-InboundCalling", true).await;
    b.set_value("num-list", uk).await;
    b.click("num-submit").await;
    b.el("preflight-warnings").await;
    let warned = b.text_of("preflight-warnings").await.unwrap_or_default();
    assert!(warned.contains(uk) && warned.contains("GB") && warned.contains("US"), "{warned}");
    b.shot("number-outside-consent").await;
    assert_eq!(b.js("return document.activeElement.dataset.testid").await, "confirm-cancel");
    b.click("confirm-cancel").await;
    let (status, _, _) = c.call("GET", &format!("/accounts/woodgrove/numbers/{}", uk.replace('+', "%2B")), None).await;
    assert_eq!(status, 404, "Cancel saved the number");
    b.click("num-submit").await;
    b.el("preflight-warnings").await;
    b.click("confirm-ok").await;
    b.ready("numbers").await;
    let (status, _, _) = c.call("GET", &format!("/accounts/woodgrove/numbers/{}", uk.replace('+', "%2B")), None).await;
    assert_eq!(status, 200);

    // Sync runs: the numbers turn synced, and the tenant's civic addresses are mirrored.
    for _ in 0..8 {
        let (_, _, pending) = c
            .call(
                "GET",
                "/accounts/woodgrove/numbers?filter=serviceProvisioningStatus%20eq%20'pending'&maxpagesize=1",
                None,
            )
            .await;
        if pending["value"].as_array().is_some_and(|v| v.is_empty()) {
            break;
        }
        sync(c).await;
    }
    // Its first load up, the next run compares the tenant and mirrors its addresses.
    sync(c).await;
    // Civic addresses with their ELIN.
    b.goto(&format!("{base}/portal/#/accounts/woodgrove/civic")).await;
    b.ready("civic").await;
    assert_eq!(b.row_keys("civic").await, ["ca-1"]);
    b.shot("civic-addresses").await;
    b.click_in_row("civic", "ca-1", "row-link").await;
    b.ready("civic-detail").await;
    assert_eq!(b.cell("location", "loc-1", "elin").await, "5105850000");
    // The backend says "Validated"; its casing does not turn it into "Not validated".
    assert_eq!(b.text_of("civic-validated").await.as_deref(), Some("Validated"));
    b.shot("civic-address-detail").await;

    b.goto(&format!("{base}/portal/#/accounts/woodgrove/numbers")).await;
    b.ready("numbers").await;
    assert_eq!(b.cell("number", &manual[0], "status").await, "synced");
    assert_eq!(b.cell("number", &manual[4], "status").await, "synced");
    b.shot("numbers-synced").await;

    // The account says how many of its numbers failed, and the count opens them; the page says
    // when the sync last ran.
    b.click("nav-accounts").await;
    b.ready("accounts").await;
    let health = wait_text(&b, "sync-health", "Last sync").await;
    assert!(health.contains("ago") || health.contains("just now"), "{health}");
    assert_eq!(b.cell("account", "woodgrove", "failed").await, "1 failed number");
    b.click_in_row("account", "woodgrove", "account-failed").await;
    b.ready("numbers").await;
    assert_eq!(b.row_keys("number").await, [uk]);
    assert_eq!(b.cell("number", uk, "status").await, "failed");

    // Every account's numbers on one page (GET /numbers), in number order, each with its
    // account; "+44" finds the UK number among a thousand American ones.
    b.click("nav-numbers").await;
    b.ready("all-numbers").await;
    let all = b.row_keys("all-number").await;
    assert_eq!(all.first(), Some(&manual[0]), "{all:?}");
    b.fill("search-input", "+44").await;
    b.click("search-apply").await;
    b.ready("all-numbers").await;
    assert_eq!(b.row_keys("all-number").await, [uk]);
    assert_eq!(b.cell("all-number", uk, "accountName").await, "woodgrove");
    b.shot("all-numbers").await;
    b.click("nav-sync").await;
    b.ready("sync").await;
    let runs = b.row_keys("sync").await;
    assert!(!runs.is_empty());
    b.shot("sync-runs").await;
    // A run's details come into view, with the focus, when it is opened from the list.
    b.click_in_row("sync", &runs[runs.len() - 1], "cell-kind").await;
    b.el("sync-run").await;
    let seen = b
        .js("const d = document.querySelector('[data-testid=sync-run]'); const r = d.getBoundingClientRect(); return document.activeElement === d && r.top >= 0 && r.top < innerHeight")
        .await;
    assert_eq!(seen, true, "the run's details are not in view and focused");
    // Sync now (AdminUser): the planner is invoked at once, and its run joins the list.
    let newest = runs[0].clone();
    b.click("sync-now").await;
    // Locally the Invoke API answers when the planner's run is over, which takes its time on a
    // busy machine: a longer deadline than the helpers' own.
    let started = "const f = document.querySelector('[data-testid=flash]'); return !!f && !f.hidden && f.textContent.includes('started')";
    let new_run = format!("const r = document.querySelector('[data-testid=sync-table] [data-testid=row]'); return !!r && r.dataset.key !== {}", json!(newest));
    for (script, what) in [(started, "the started message"), (new_run.as_str(), "a new run listed")] {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
        while b.js(script).await != json!(true) {
            assert!(std::time::Instant::now() < deadline, "Sync now: no {what}");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    // Delete an account: the confirmation says how many numbers go with it.
    let (status, _, _) = c.call("PUT", "/accounts/closing", Some(json!({"name": "closing", "serviceDetails": {"teamsDirectRouting": {"enabled": true, "syncEnabled": false}}}))).await;
    assert_eq!(status, 201);
    let dr = |tn: &str| json!({"telephoneNumber": tn, "accountName": "closing", "serviceDetails": {"teamsDirectRouting": {"enabled": true}}});
    let (status, _, _) = c
        .call(
            "POST",
            "/accounts/closing:createOrUpdateNumbers",
            Some(json!({"numbers": [dr("+442079990001"), dr("+442079990002")]})),
        )
        .await;
    assert_eq!(status, 200);
    b.goto(&format!("{base}/portal/#/accounts")).await;
    b.ready("accounts").await;
    b.click_in_row("account", "closing", "account-delete").await;
    let confirm = b.el("confirm-dialog").await.text().await.unwrap();
    assert!(confirm.contains("closing") && confirm.contains("2 numbers"), "{confirm}");
    // Deleting an account takes typing its name.
    let enabled = "return !document.querySelector('[data-testid=confirm-ok]').disabled";
    assert_eq!(b.js(enabled).await, false);
    b.fill("confirm-type", "closin").await;
    assert_eq!(b.js(enabled).await, false);
    b.fill("confirm-type", "closing").await;
    assert_eq!(b.js(enabled).await, true);
    b.shot("delete-account-confirm").await;
    let in_dialog = b.axe_violations().await;
    assert!(in_dialog.is_empty(), "axe-core, the delete dialog open: {in_dialog:#?}");
    b.click("confirm-ok").await;
    b.ready("accounts").await;
    assert!(!b.row_keys("account").await.contains(&"closing".to_string()));
    assert_eq!(c.call("GET", "/accounts/closing", None).await.0, 404);

    let pages = [
        ("rfis", "#/rfis".to_string()),
        ("rfi", format!("#/rfis/{TENANT}")),
        ("accounts", "#/accounts".to_string()),
        ("account-form", "#/accounts/woodgrove/manage".to_string()),
        ("numbers", "#/accounts/woodgrove/numbers".to_string()),
        ("number-create", "#/accounts/woodgrove/numbers/new".to_string()),
        ("number-upload", "#/accounts/woodgrove/numbers/upload".to_string()),
        ("number-manage", format!("#/accounts/woodgrove/numbers/{}", manual[0])),
        ("history", "#/accounts/woodgrove/history".to_string()),
        ("civic", "#/accounts/woodgrove/civic".to_string()),
        ("civic-detail", "#/accounts/woodgrove/civic/ca-1".to_string()),
        ("all-numbers", "#/numbers".to_string()),
        ("sync", "#/sync".to_string()),
    ];
    // Every page, at desktop size and on a phone, passes axe-core with nothing serious or
    // critical.
    let mut violations = Vec::new();
    for (ready, hash) in &pages {
        b.goto(&format!("{base}/portal/{hash}")).await;
        b.ready(ready).await;
        violations.extend(b.axe_violations().await.into_iter().map(|v| format!("{hash} (1400 px): {v}")));
    }
    // On a phone (390×844): nothing scrolls sideways, the navigation is a menu, and Sign out
    // stays in reach. Each page is kept as a screenshot at this size too.
    b.client.set_window_size(390, 844).await.expect("resize");
    for (ready, hash) in &pages {
        b.goto(&format!("{base}/portal/{hash}")).await;
        b.ready(ready).await;
        let fits = b
            .js("const s = document.querySelector('[data-testid=signout]').getBoundingClientRect(); return [document.documentElement.scrollWidth, innerWidth, s.right <= innerWidth && s.width > 0]")
            .await;
        assert!(fits[0].as_i64() <= fits[1].as_i64() && fits[2] == true, "{hash} at 390 px: {fits}");
        b.shot(&format!("phone-{ready}")).await;
        violations.extend(b.axe_violations().await.into_iter().map(|v| format!("{hash} (390 px): {v}")));
    }
    assert!(violations.is_empty(), "axe-core: {violations:#?}");
    assert!(!b
        .js("return !!document.querySelector('[data-testid=nav-accounts]').offsetParent")
        .await
        .as_bool()
        .unwrap_or(true));
    b.click("menu-toggle").await;
    b.shot("phone-menu").await;
    b.click("nav-accounts").await;
    b.ready("accounts").await;
    assert_eq!(b.js("return document.body.classList.contains('nav-open')").await, false, "the menu stays open");
    b.client.set_window_size(1400, 1000).await.expect("resize");

    // A read-only user sees no write actions.
    b.click("signout").await;
    b.ready("signin").await;
    let signin = b.axe_violations().await;
    assert!(signin.is_empty(), "axe-core, the sign-in page: {signin:#?}");
    sign_in(&b, &base, "ProvisioningAPI.ReadUser").await;
    b.goto(&format!("{base}/portal/#/accounts")).await;
    b.ready("accounts").await;
    for hidden in ["account-create", "account-manage", "account-delete"] {
        assert!(!b.has(hidden).await, "a reader sees {hidden}");
    }
    b.shot("reader-accounts").await;
    b.goto(&format!("{base}/portal/#/accounts/woodgrove/numbers")).await;
    b.ready("numbers").await;
    for hidden in ["numbers-create-manual", "numbers-create-file", "numbers-manage", "numbers-delete"] {
        assert!(!b.has(hidden).await, "a reader sees {hidden}");
    }
    assert!(b.has("numbers-export").await, "a reader may export");
    b.shot("reader-numbers").await;
    b.goto(&format!("{base}/portal/#/rfis/{TENANT}")).await;
    b.ready("rfi").await;
    for hidden in ["rfi-save", "rfi-create-account"] {
        assert!(!b.has(hidden).await, "a reader sees {hidden}");
    }
    b.goto(&format!("{base}/portal/#/sync")).await;
    b.ready("sync").await;
    assert!(!b.has("sync-now").await, "a reader sees sync-now");
    b.close().await;
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("switchboard-portal-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn wait_for(b: &Browser, id: &str) {
    b.el(id).await;
}

/// Waits until the element's text contains `needle`; returns the text.
async fn wait_text(b: &Browser, id: &str, needle: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let text = b.text_of(id).await.unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        if std::time::Instant::now() > deadline {
            let (_, flash) = b.flash().await;
            panic!("{id} never showed {needle:?}: {text:?} / {flash:?}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Waits (at most 20 s) until `script` returns true.
async fn wait_js(b: &Browser, script: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while b.js(script).await != serde_json::json!(true) {
        assert!(std::time::Instant::now() < deadline, "never true: {script}");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}
