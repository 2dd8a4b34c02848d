//! Bad input never reaches the database: every field of every writable body, and every path
//! parameter, mutated to the wrong type, too long, with control characters, null and empty. Each
//! mutation is answered 2xx (it was still valid) or 4xx naming the field (or a field on its
//! path), never 5xx and never a retryable 503. Runs on the real engine, through the handlers.

use serde_json::{json, Value};
use switchboard_tests::flow::{Flow, TENANT};
use switchboard_tests::{full_account_body, number_body, token, Reply, Stack, ADMIN};

const ACCOUNT: &str = "acme";
const TN: &str = "+15105850100";
/// Larger than any limit and than DynamoDB's 400 KB item.
const HUGE: usize = 500 * 1024;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mutation {
    WrongType,
    TooLong,
    Control,
    Bidi,
    Null,
    Empty,
}

impl Mutation {
    /// Whether the mutated body can never be valid: then the answer must be a 4xx.
    fn always_invalid(self, original: &Value) -> bool {
        match self {
            Mutation::WrongType => true,
            Mutation::TooLong | Mutation::Control | Mutation::Bidi => original.is_string(),
            Mutation::Null | Mutation::Empty => false,
        }
    }

    fn apply(self, original: &Value) -> Option<Value> {
        Some(match (self, original) {
            (Mutation::WrongType, Value::String(_)) => json!(5),
            (Mutation::WrongType, Value::Bool(_)) => json!("yes"),
            (Mutation::WrongType, Value::Array(_)) => json!({"not": "a list"}),
            (Mutation::WrongType, Value::Object(_)) => json!(1),
            (Mutation::WrongType, Value::Number(_)) => json!("many"),
            (Mutation::TooLong, Value::String(_)) => json!("x".repeat(HUGE)),
            (Mutation::Control, Value::String(s)) => json!(format!("{s}\u{1}")),
            (Mutation::Bidi, Value::String(s)) => json!(format!("\u{202e}{s}")),
            (Mutation::Null, _) => Value::Null,
            (Mutation::Empty, Value::String(_)) => json!(""),
            (Mutation::Empty, Value::Array(_)) => json!([]),
            (Mutation::Empty, Value::Object(_)) => json!({}),
            _ => return None,
        })
    }
}

const ALL: [Mutation; 6] =
    [Mutation::WrongType, Mutation::TooLong, Mutation::Control, Mutation::Bidi, Mutation::Null, Mutation::Empty];

/// Every path in `v` (objects and arrays included), as the API's targets write them:
/// `a.b[0].c`.
fn paths(v: &Value, prefix: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                out.push(p.clone());
                paths(child, &p, out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                let p = format!("{prefix}[{i}]");
                out.push(p.clone());
                paths(child, &p, out);
            }
        }
        _ => {}
    }
}

fn slot<'a>(v: &'a mut Value, path: &str) -> &'a mut Value {
    let mut cur = v;
    for part in path.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, i)) => (n, Some(i.trim_end_matches(']').parse::<usize>().unwrap())),
            None => (part, None),
        };
        cur = &mut cur[name];
        if let Some(i) = index {
            cur = &mut cur[i];
        }
    }
    cur
}

/// The error's target is the mutated field, a field inside it, or one of its parents.
fn on_path(target: &str, path: &str) -> bool {
    target == path
        || target.starts_with(&format!("{path}."))
        || target.starts_with(&format!("{path}["))
        || path.starts_with(&format!("{target}."))
        || path.starts_with(&format!("{target}["))
}

fn check(what: &str, path: &str, m: Mutation, must_fail: bool, r: &Reply) -> Option<String> {
    let s = r.status.as_u16();
    if s >= 500 {
        return Some(format!("{what} {path} {m:?}: {s} {}", r.body));
    }
    if s >= 400 {
        if !on_path(r.target(), path) {
            return Some(format!("{what} {path} {m:?}: {s} names {:?}, not the field ({})", r.target(), r.body));
        }
    } else if must_fail {
        return Some(format!("{what} {path} {m:?}: accepted with {s}"));
    }
    None
}

/// Sends every mutation of every field of `base` with `send`; returns the failures.
async fn mutate_body<F, Fut>(what: &str, base: &Value, skip: &[&str], send: F) -> (usize, Vec<String>)
where
    F: Fn(Value) -> Fut,
    Fut: std::future::Future<Output = Reply>,
{
    let mut all = Vec::new();
    paths(base, "", &mut all);
    let mut failures = Vec::new();
    let mut sent = 0;
    for path in all.iter().filter(|p| !skip.contains(&p.as_str())) {
        let original = slot(&mut base.clone(), path).clone();
        for m in ALL {
            let Some(bad) = m.apply(&original) else { continue };
            let mut body = base.clone();
            *slot(&mut body, path) = bad;
            let r = send(body).await;
            sent += 1;
            failures.extend(check(what, path, m, m.always_invalid(&original), &r));
        }
    }
    (sent, failures)
}

async fn setup() -> Stack {
    let s = Stack::start().await;
    let r = s.admin("PUT", &format!("/accounts/{ACCOUNT}"), Some(full_account_body(ACCOUNT))).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    s
}

fn full_number(tn: &str) -> Value {
    let mut n = number_body(ACCOUNT, tn);
    let cfg = &mut n["serviceDetails"]["teamsOperatorConnect"]["configuration"];
    cfg["civicAddressId"] = json!("ca-1");
    cfg["locationId"] = json!("loc-1");
    cfg["allowTenantAddressUpdate"] = json!(false);
    cfg["displayedCountryCode"] = json!("1");
    cfg["additionalUsages"] = json!(["ConferenceAssignment"]);
    n["serviceDetails"]["teamsDirectRouting"] = json!({"enabled": true});
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_of_every_body() {
    let s = setup().await;
    let mut failures = Vec::new();
    let mut sent = 0;

    let mut account = full_account_body("other");
    account["correlationId"] = json!("c7aa0070-2e35-4c1b-9a7f-e45e3e8a0b3e");
    let (n, f) = mutate_body("PUT account", &account, &[], |b| s.admin("PUT", "/accounts/other", Some(b))).await;
    sent += n;
    failures.extend(f);

    let path = format!("/accounts/{ACCOUNT}/numbers/{TN}");
    let (n, f) = mutate_body("PUT number", &full_number(TN), &[], |b| s.admin("PUT", &path, Some(b))).await;
    sent += n;
    failures.extend(f);

    let batch = json!({"numbers": [full_number("+15105850101"), full_number("+15105850102")]});
    let path = format!("/accounts/{ACCOUNT}:createOrUpdateNumbers");
    let (n, f) = mutate_body("createOrUpdateNumbers", &batch, &[], |b| s.admin("POST", &path, Some(b))).await;
    sent += n;
    failures.extend(f);

    let ids = json!({"numbers": [{"telephoneNumber": "+15105850101"}, {"telephoneNumber": "+15105850102"}]});
    let path = format!("/accounts/{ACCOUNT}:deleteNumbers");
    let (n, f) = mutate_body("deleteNumbers", &ids, &[], |b| s.admin("POST", &path, Some(b))).await;
    sent += n;
    failures.extend(f);

    assert!(sent > 200, "only {sent} mutations were sent");
    assert!(failures.is_empty(), "{} of {sent} mutations were mishandled:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relationship_patch() {
    let flow = Flow::start(switchboard_emulator::Config::default()).await;
    flow.consent(TENANT, &["US"]).await;
    flow.sync().await;
    let s = &flow.stack;
    let base = json!({"customerRelationship": {"status": "ContractTerminated", "comment": "moved", "ticketId": "T-1"}});
    let path = format!("/teamsRequestsForInformation/{TENANT}");
    let path = path.as_str();
    let send = |b: Value| async move {
        s.send("PATCH", path, Some(&token(ADMIN)), Some(b), &[("content-type", "application/merge-patch+json")]).await
    };
    let (sent, failures) = mutate_body("PATCH rfi", &base, &[], send).await;
    assert!(sent > 15, "{sent}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_path_parameter() {
    let s = setup().await;
    let long = "x".repeat(1100);
    let cases: Vec<(String, &str, String)> = vec![
        ("GET".into(), "accountName", format!("/accounts/{long}")),
        ("PUT".into(), "accountName", format!("/accounts/{}", "a%01b")),
        ("GET".into(), "accountName", "/accounts/a%E2%80%AEb".into()),
        ("GET".into(), "telephoneNumber", format!("/accounts/{ACCOUNT}/numbers/{long}")),
        ("GET".into(), "telephoneNumber", format!("/accounts/{ACCOUNT}/numbers/+1510%0A5850100")),
        ("DELETE".into(), "telephoneNumber", format!("/accounts/{ACCOUNT}/numbers/abc")),
        ("GET".into(), "tenantId", format!("/teamsRequestsForInformation/{long}")),
        ("PATCH".into(), "tenantId", "/teamsRequestsForInformation/not-a-guid".into()),
        ("GET".into(), "civicAddressId", format!("/accounts/{ACCOUNT}/teamsCivicAddresses/{long}")),
        ("GET".into(), "civicAddressId", format!("/accounts/{ACCOUNT}/teamsCivicAddresses/a%01b")),
        ("GET".into(), "civicAddressId", format!("/accounts/{ACCOUNT}/teamsCivicAddresses/a%E2%81%A6b")),
    ];
    let mut failures = Vec::new();
    for (method, param, path) in &cases {
        let body = matches!(method.as_str(), "PUT" | "PATCH").then(|| json!({}));
        let r = s.admin(method, path, body).await;
        if !(400..500).contains(&r.status.as_u16()) || r.target() != *param {
            failures.push(format!("{method} {path:.60}: {} target {:?} {}", r.status, r.target(), r.body));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_entities_name_their_own_parameter() {
    let s = setup().await;
    let r = s.admin("GET", "/teamsRequestsForInformation/00000000-0000-4000-8000-000000000000", None).await;
    assert_eq!((r.status.as_u16(), r.target()), (404, "tenantId"), "{:?}", r.body);
    let r = s.admin("GET", &format!("/accounts/{ACCOUNT}/teamsCivicAddresses/nowhere"), None).await;
    assert!(matches!(r.status.as_u16(), 404 | 409), "{:?}", r.body);
    if r.status == 404 {
        assert_eq!(r.target(), "civicAddressId", "{:?}", r.body);
    }
    let r = s.admin("GET", "/accounts/nobody", None).await;
    assert_eq!((r.status.as_u16(), r.target()), (404, "accountName"));
    let r = s.admin("GET", &format!("/accounts/{ACCOUNT}/numbers/{TN}"), None).await;
    assert_eq!((r.status.as_u16(), r.target()), (404, "telephoneNumber"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_without_a_service_is_refused_everywhere() {
    let s = setup().await;
    for sd in [json!({}), json!([]), json!({"teamsDirectRouting": null})] {
        let body = json!({"telephoneNumber": TN, "accountName": ACCOUNT, "serviceDetails": sd});
        let r = s.admin("PUT", &format!("/accounts/{ACCOUNT}/numbers/{TN}"), Some(body.clone())).await;
        assert_eq!((r.status.as_u16(), r.target()), (400, "serviceDetails"), "{sd}: {:?}", r.body);
        let batch = json!({"numbers": [body]});
        let r = s.admin("POST", &format!("/accounts/{ACCOUNT}:createOrUpdateNumbers"), Some(batch)).await;
        assert_eq!((r.status.as_u16(), r.target()), (400, "numbers[0].serviceDetails"), "{sd}: {:?}", r.body);
    }
    let r = s.import_csv(ACCOUNT, &format!("telephoneNumber\n{TN}\n")).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.target(), "line 2: serviceDetails", "{:?}", r.body);
    // Nothing of it was written.
    let r = s.admin("GET", &format!("/accounts/{ACCOUNT}/numbers"), None).await;
    assert_eq!(r.body["value"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_token_outside_its_range_is_a_400() {
    let s = setup().await;
    for i in 0..3 {
        let tn = format!("+1510585020{i}");
        let r = s.admin("PUT", &format!("/accounts/{ACCOUNT}/numbers/{tn}"), Some(number_body(ACCOUNT, &tn))).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let r = s.admin("GET", &format!("/auditEvents?accountName={ACCOUNT}&maxpagesize=1"), None).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let link = r.body["nextLink"].as_str().expect("a second page");
    let token_param = link.split(['?', '&']).find(|p| p.starts_with("skipToken=")).expect("skipToken");
    let path =
        format!("/auditEvents?accountName={ACCOUNT}&from=2001-01-01T00:00:00Z&to=2001-01-02T00:00:00Z&{token_param}");
    let r = s.admin("GET", &path, None).await;
    assert_eq!((r.status.as_u16(), r.target()), (400, "skipToken"), "{:?}", r.body);
}
