//! The system of record's invariants, checked through the API: each number listed under one
//! account only; every account's per-service counts, and its count of failed numbers, equal the
//! numbers stored; and the audit trail agrees, number by number (creations less deletions is 1
//! exactly for the numbers an account holds, roll-backs included).

use serde_json::Value;
use std::collections::{HashMap, HashSet};

use crate::Stack;

const SERVICES: [&str; 5] = [
    "teamsOperatorConnect",
    "teamsPhoneMobile",
    "teamsDirectRouting",
    "zoomPhoneCloudPeering",
    "azureOperatorCallProtection",
];

/// Panics, naming the first broken invariant, unless all hold for `accounts`.
pub async fn check(s: &Stack, accounts: &[&str]) {
    let mut owner: HashMap<String, String> = HashMap::new();
    for a in accounts {
        let acct = s.admin("GET", &format!("/accounts/{a}"), None).await;
        assert_eq!(acct.status, 200, "{a}: {:?}", acct.body);
        let numbers = s.all(&format!("/accounts/{a}/numbers?maxpagesize=500")).await;
        for svc in SERVICES {
            let stored = numbers.iter().filter(|n| n["serviceDetails"][svc]["enabled"] == true).count() as i64;
            let counted = acct.body["serviceDetails"][svc]["numberCount"].as_i64().unwrap_or(0);
            assert_eq!(counted, stored, "{a}: numberCount of {svc}");
        }
        let failed = numbers.iter().filter(|n| n["serviceProvisioningStatus"] == "failed").count() as i64;
        assert_eq!(acct.body["failedNumberCount"].as_i64(), Some(failed), "{a}: failedNumberCount");
        for n in &numbers {
            let tn = n["telephoneNumber"].as_str().unwrap_or_default().to_string();
            assert_eq!(n["accountName"], *a);
            assert!(owner.insert(tn.clone(), a.to_string()).is_none(), "{tn} listed under two accounts");
        }
        let events = s.all(&format!("/auditEvents?accountName={a}&maxpagesize=100")).await;
        let balance = balances(&events);
        let held: HashSet<&String> = owner.iter().filter(|(_, o)| *o == a).map(|(tn, _)| tn).collect();
        for (tn, b) in &balance {
            let expected = i64::from(held.contains(tn));
            assert_eq!(*b, expected, "{a}: the trail says {tn} has balance {b}");
        }
        for tn in held {
            assert!(balance.contains_key(tn), "{a}: {tn} is stored without an audit event");
        }
    }
}

/// Per number: events that created it less events that deleted it.
pub fn balances(events: &[Value]) -> HashMap<String, i64> {
    let mut balance: HashMap<String, i64> = HashMap::new();
    for e in events {
        let entities = e["entities"].as_array().cloned().unwrap_or_default();
        for ent in entities.iter().filter(|x| x["kind"] == "number") {
            let id = ent["id"].as_str().unwrap_or_default().to_string();
            let changes = ent["changes"].as_array().cloned().unwrap_or_default();
            if let Some(c) = changes.iter().find(|c| c["field"] == "telephoneNumber") {
                let delta = match (c.get("before").is_some(), c.get("after").is_some()) {
                    (false, true) => 1,
                    (true, false) => -1,
                    _ => 0,
                };
                *balance.entry(id).or_default() += delta;
            }
        }
    }
    balance
}
