//! The three declarations of the API's routes agree: the handler route table, the
//! `cargo lambda watch` router in Cargo.toml, and the SAM template.

use std::collections::BTreeSet;
use switchboard_api::ROUTES;

type RouteSet = BTreeSet<(String, String, String)>;

fn from_table() -> RouteSet {
    let api = ROUTES.iter().map(|r| (r.method.to_string(), r.path.to_string(), r.function.to_string()));
    let portal = portal::ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string(), "portal".to_string()));
    let openapi = std::iter::once(("GET".to_string(), "/openapi.json".to_string(), "openapi".to_string()));
    api.chain(portal).chain(openapi).collect()
}

fn from_cargo() -> RouteSet {
    let manifest: toml::Table = include_str!("../../Cargo.toml").parse().expect("Cargo.toml");
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"].as_table().expect("router");
    let mut out = RouteSet::new();
    for (path, targets) in router {
        // matchit's catch-all `{*name}` is API Gateway's greedy `{name+}`.
        // A trailing slash is the same route to API Gateway; matchit needs it spelled out.
        let path = match path.split_once("{*") {
            Some((head, name)) => format!("{head}{{{}+}}", name.trim_end_matches('}')),
            None if path.len() > 1 => path.trim_end_matches('/').to_string(),
            None => path.clone(),
        };
        if let Some(function) = targets.as_str() {
            out.insert(("ANY".into(), path, function.into())); // every method
            continue;
        }
        for t in targets.as_array().expect("routes are arrays of {method, function}") {
            out.insert((t["method"].as_str().unwrap().into(), path.clone(), t["function"].as_str().unwrap().into()));
        }
    }
    out
}

fn from_template() -> RouteSet {
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(switchboard_devtools::schema::TEMPLATE).expect("template");
    let mut out = RouteSet::new();
    for (_, res) in doc["Resources"].as_mapping().unwrap() {
        if res["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let code = res["Properties"]["CodeUri"].as_str().unwrap();
        let function = code.trim_end_matches('/').rsplit('/').next().unwrap().to_string();
        let Some(events) = res["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for (_, ev) in events {
            if ev["Type"].as_str() == Some("HttpApi") {
                let p = &ev["Properties"];
                out.insert((
                    p["Method"].as_str().unwrap().into(),
                    p["Path"].as_str().unwrap().into(),
                    function.clone(),
                ));
            }
        }
    }
    out
}

#[test]
fn router_template_and_handlers_declare_the_same_routes() {
    let table = from_table();
    assert_eq!(from_cargo(), table, "Cargo.toml watch router vs switchboard_api::ROUTES");
    assert_eq!(from_template(), table, "infra/template.yaml vs switchboard_api::ROUTES");
}

#[test]
fn every_function_crate_is_routed() {
    let functions: BTreeSet<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        // Not behind the gateway: the scheduled sync planner and its queue's workers.
        .filter(|f| f != "sync" && f != "sync-worker")
        .collect();
    let mut routed: BTreeSet<String> = ROUTES.iter().map(|r| r.function.to_string()).collect();
    routed.insert("portal".into());
    routed.insert("openapi".into());
    assert_eq!(functions, routed);
}

/// Every function crate is deployed by the template (its `CodeUri` is the crate's build), and
/// the template deploys nothing else.
#[test]
fn every_function_crate_is_in_the_template() {
    let functions: BTreeSet<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(switchboard_devtools::schema::TEMPLATE).expect("template");
    let deployed: BTreeSet<String> = doc["Resources"]
        .as_mapping()
        .expect("resources")
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .filter_map(|r| r["Properties"]["CodeUri"].as_str())
        .map(|uri| uri.trim_start_matches("../target/lambda/").trim_end_matches('/').to_string())
        .collect();
    assert_eq!(functions, deployed);
}

/// The CSV headings the portal's template offers (`model.js` `csvHeadings`, checked against this
/// file by `tests/portal-js/model.test.mjs`) are the ones the server reads and writes.
#[test]
fn the_portals_csv_headings_are_the_servers() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/portal-js/csv-headings.json");
    let built = serde_json::to_string_pretty(&switchboard_domain::number_csv::headings()).unwrap() + "\n";
    if std::fs::read_to_string(path).ok().as_deref() != Some(built.as_str()) {
        std::fs::write(path, built).unwrap();
        panic!("tests/portal-js/csv-headings.json was stale; it has been rewritten: review and commit it");
    }
}

/// The committed OpenAPI document is the one the code builds, and documents exactly the routes
/// the handlers serve (each `:action` as its own operation).
#[test]
fn the_openapi_document_is_current_and_complete() {
    let built = switchboard_api::openapi::document();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("docs/openapi.json")).expect("JSON");
    if committed != built {
        std::fs::write(path, serde_json::to_string_pretty(&built).unwrap() + "\n").unwrap();
        panic!("docs/openapi.json was stale; it has been rewritten: review and commit it");
    }
    let documented: BTreeSet<(String, String)> = built["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(p, ops)| ops.as_object().unwrap().keys().map(move |m| (m.to_uppercase(), p.clone())))
        .collect();
    let mut served = BTreeSet::new();
    for r in ROUTES {
        if r.op == switchboard_api::Op::AccountActions {
            for a in switchboard_api::routes::Action::ALL {
                served.insert(("POST".to_string(), format!("/accounts/{{accountName}}:{}", a.name())));
            }
        } else {
            served.insert((r.method.to_string(), r.path.to_string()));
        }
    }
    assert_eq!(documented, served);
    assert_eq!(built["openapi"], "3.1.0");
}

/// A job that keeps failing must reach the dead-letter queue (and its alarm) before SQS's
/// retention drops it: retention outlasts every delivery the redrive policy allows, and a
/// delivery outlasts the worker's timeout (or a job still running would be delivered again).
#[test]
fn a_failing_sync_job_reaches_the_dead_letter_queue() {
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(switchboard_devtools::schema::TEMPLATE).expect("template");
    let queue = &doc["Resources"]["SyncJobQueue"]["Properties"];
    let n = |v: &serde_yaml_ng::Value| v.as_u64().expect("a number");
    let (visibility, retention) = (n(&queue["VisibilityTimeout"]), n(&queue["MessageRetentionPeriod"]));
    let receives = n(&queue["RedrivePolicy"]["maxReceiveCount"]);
    assert!(retention > (receives + 1) * visibility, "retention {retention} s, {receives} × {visibility} s");
    let worker = n(&doc["Resources"]["SyncWorkerFunction"]["Properties"]["Timeout"]);
    assert!(visibility > worker, "visibility {visibility} s, worker timeout {worker} s");
    let watched = format!("{:?}", doc["Resources"]["SyncJobDeadLetterAlarm"]["Properties"]["Dimensions"]);
    assert!(watched.contains("SyncJobDeadLetterQueue.QueueName"), "the alarm watches {watched}");
}
