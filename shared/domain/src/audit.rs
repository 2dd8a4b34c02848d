//! The audit trail: who changed what, when, under which request, ticket or correlation id.
//! An event is written in the same transaction as the change it records.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Who made a change: the token's subject and app id, and the roles it carried.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

impl Actor {
    /// The key the trail is listed by (`actor=` filter): `appId/subject`, or the subject.
    pub fn key(&self) -> String {
        match &self.app_id {
            Some(app) => format!("{app}/{}", self.subject),
            None => self.subject.clone(),
        }
    }
}

/// What every change made under one request shares.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditContext {
    pub actor: Actor,
    pub request_id: Option<String>,
    pub correlation_id: Option<String>,
}

impl AuditContext {
    /// Changes the service makes itself (the sync, recovery), with what ran them.
    pub fn system(component: &str, run_id: Option<String>) -> Self {
        AuditContext {
            actor: Actor { subject: component.to_string(), app_id: Some("switchboard".into()), roles: Vec::new() },
            request_id: run_id,
            correlation_id: None,
        }
    }
}

/// One field of one entity, before and after (absent: the field wasn't there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

/// The changes to one account, number or request for information.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntityChange {
    /// `account`, `number` or `requestForInformation`.
    pub kind: String,
    pub id: String,
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub id: String,
    /// RFC 3339, UTC.
    pub time: String,
    pub actor: Actor,
    /// What was done, e.g. `numbers.put`, `numbers.import`, `sync.numberResult`.
    pub operation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub telephone_numbers: Vec<String>,
    pub entities: Vec<EntityChange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Fields the `auditEvents` listing can be narrowed by.
pub const FILTER_FIELDS: &[&str] = &["operation", "accountName", "tenantId"];

/// The fields that differ between two versions of an entity's JSON (`None`: it didn't exist),
/// as dotted paths; arrays are compared whole.
pub fn diff(before: Option<&Value>, after: Option<&Value>) -> Vec<Change> {
    let mut b = Map::new();
    let mut a = Map::new();
    if let Some(v) = before {
        flatten("", v, &mut b);
    }
    if let Some(v) = after {
        flatten("", v, &mut a);
    }
    let mut fields: Vec<&String> = b.keys().chain(a.keys()).collect();
    fields.sort();
    fields.dedup();
    fields
        .into_iter()
        .filter(|f| b.get(*f) != a.get(*f))
        .map(|f| Change { field: f.clone(), before: b.get(f).cloned(), after: a.get(f).cloned() })
        .collect()
}

fn flatten(prefix: &str, v: &Value, out: &mut Map<String, Value>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, child) in m {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&path, child, out);
            }
        }
        Value::Object(_) => {}
        _ => {
            out.insert(prefix.to_string(), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_only_the_fields_that_changed() {
        let before = json!({"a": 1, "b": {"c": "x", "d": [1, 2]}, "gone": true});
        let after = json!({"a": 1, "b": {"c": "y", "d": [1, 2]}, "new": "n"});
        let d = diff(Some(&before), Some(&after));
        let fields: Vec<&str> = d.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["b.c", "gone", "new"]);
        assert_eq!(d[0].before, Some(json!("x")));
        assert_eq!(d[1].after, None);
        assert_eq!(diff(None, Some(&json!({"x": 1})))[0].before, None);
        assert!(diff(Some(&before), Some(&before)).is_empty());
    }
}
