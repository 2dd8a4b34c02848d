//! Audit events: built here, written by each write path in the same transaction as its change,
//! and listed by account, number, actor and time.

use aws_sdk_dynamodb::primitives::{Blob, DateTime, DateTimeFormat};
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use serde::Serialize;
use serde_json::Value;
use std::io::{Read, Write};

use switchboard_domain::audit::{diff, AuditEvent, EntityChange};
use switchboard_domain::filter::{Filter, Literal};
use switchboard_domain::DomainError;

use crate::batch::Item;
use crate::error::StoreError;
use crate::expr::Placeholders;
use crate::keys::{self, CHANGES, DOC, EXPIRES_AT};
use crate::paging::{AuditScope, Listing, Page, PageRequest};
use crate::retry::now_ms;
use crate::{item, Repository};

/// One entity a change touched, before and after, as the API shows it.
pub(crate) struct Entity {
    pub kind: &'static str,
    pub id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl Entity {
    pub fn new<T: Serialize>(kind: &'static str, id: &str, before: Option<&T>, after: Option<&T>) -> Self {
        let json = |v: Option<&T>| v.and_then(|v| serde_json::to_value(v).ok());
        Entity { kind, id: id.to_string(), before: json(before), after: json(after) }
    }

    /// A number from its stored item (before) and its new value (after).
    pub fn number(tn: &str, before: Option<&Item>, after: Option<&switchboard_domain::Number>) -> Self {
        let before = before.and_then(|i| item::number(i).ok()).map(|s| s.value);
        Entity::new("number", tn, before.as_ref(), after)
    }
}

/// Where an event is filed: the account it concerns, or the tenant (a request for information
/// not yet linked to an account).
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    pub account: Option<String>,
    pub tenant: Option<String>,
    pub ticket_id: Option<String>,
    pub correlation_id: Option<String>,
}

impl Scope {
    pub fn account(name: &str) -> Self {
        Scope { account: Some(name.to_string()), ..Default::default() }
    }
}

/// What `GET /auditEvents` asks for.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub account: Option<String>,
    pub telephone_number: Option<String>,
    pub actor: Option<String>,
    /// RFC 3339; defaults: the start of `to`'s UTC day, and now.
    pub from: Option<String>,
    pub to: Option<String>,
}

pub(crate) fn rfc3339(ms: u64) -> String {
    DateTime::from_millis(ms as i64).fmt(DateTimeFormat::DateTime).unwrap_or_default()
}

/// `yyyy-mm-dd` of a time in ms.
fn day_of(ms: u64) -> String {
    rfc3339(ms).chars().take(10).collect()
}

fn parse_time(field: &str, v: &str) -> Result<u64, StoreError> {
    DateTime::from_str(v, DateTimeFormat::DateTime)
        .ok()
        .and_then(|t| t.to_millis().ok())
        .and_then(|ms| u64::try_from(ms).ok())
        .ok_or_else(|| {
            DomainError::invalid(field, format!("{field} must be an RFC 3339 time such as 2026-11-27T09:30:00Z")).into()
        })
}

impl Repository {
    /// The audit event recording `entities`, as one action of the change's transaction.
    /// `None` when nothing actually changed.
    pub(crate) fn audit_action(
        &self,
        operation: &str,
        scope: Scope,
        entities: Vec<Entity>,
    ) -> Result<Option<TransactWriteItem>, StoreError> {
        let changed: Vec<EntityChange> = entities
            .into_iter()
            .map(|e| EntityChange { kind: e.kind.into(), id: e.id, changes: diff(e.before.as_ref(), e.after.as_ref()) })
            .filter(|e| !e.changes.is_empty())
            .collect();
        if changed.is_empty() {
            return Ok(None);
        }
        let ctx = &self.audit;
        let ms = now_ms();
        let id = uuid::Uuid::new_v4().simple().to_string();
        let event = AuditEvent {
            id: id.clone(),
            time: rfc3339(ms),
            actor: ctx.actor.clone(),
            operation: operation.to_string(),
            account_name: scope.account.clone(),
            tenant_id: scope.tenant.clone(),
            telephone_numbers: changed.iter().filter(|e| e.kind == "number").map(|e| e.id.clone()).collect(),
            entities: changed,
            ticket_id: scope.ticket_id,
            correlation_id: scope.correlation_id.or_else(|| ctx.correlation_id.clone()),
            request_id: ctx.request_id.clone(),
        };
        let sort = keys::audit_sort(ms, &id);
        let mut item = keys::audit_event(&day_of(ms), &sort);
        item.extend(keys::audit_index(scope.account.as_deref(), scope.tenant.as_deref(), &ctx.actor.key(), &sort));
        item.extend(stored(event)?);
        let expires = ms / 1000 + self.audit_retention_days * 24 * 3600;
        item.insert(EXPIRES_AT.into(), AttributeValue::N(expires.to_string()));
        self.tx_put(item, None, &Placeholders::default()).map(Some)
    }

    /// A page of audit events, newest first.
    pub async fn list_audit(&self, q: &AuditQuery, page: &PageRequest) -> Result<Page<AuditEvent>, StoreError> {
        let to = match &q.to {
            Some(t) => parse_time("to", t)?,
            None => now_ms(),
        };
        let from = match &q.from {
            Some(f) => parse_time("from", f)?,
            None if q.account.is_none() && q.telephone_number.is_none() && q.actor.is_none() => {
                parse_time("to", &format!("{}T00:00:00Z", day_of(to)))?
            }
            None => 0,
        };
        if from > to {
            return Err(DomainError::invalid("from", "from must not be after to").into());
        }
        let mut req = page.clone();
        let scope = if let Some(tn) = &q.telephone_number {
            // A number's events are filed under its account; a number no account holds now
            // needs the account named.
            let account = match &q.account {
                Some(a) => a.clone(),
                None => self.get_item(keys::number(tn)).await?.as_ref().and_then(item::owner).ok_or_else(|| {
                    StoreError::from(DomainError::invalid(
                        "telephoneNumber",
                        format!("no account holds {tn} now; name the account with accountName"),
                    ))
                })?,
            };
            let has = Filter::Contains("telephoneNumbers".into(), Literal::Str(tn.clone()));
            req.filter = Some(match req.filter.take() {
                Some(f) => Filter::And(Box::new(f), Box::new(has)),
                None => has,
            });
            AuditScope::Account(account)
        } else if let Some(a) = &q.account {
            AuditScope::Account(a.clone())
        } else if let Some(actor) = &q.actor {
            AuditScope::Actor(actor.clone())
        } else {
            if day_of(from) != day_of(to) {
                return Err(DomainError::invalid(
                    "from",
                    "without accountName, telephoneNumber or actor, from and to must fall on one UTC day",
                )
                .into());
            }
            AuditScope::Day(day_of(to))
        };
        if let (Some(actor), AuditScope::Account(_)) = (&q.actor, &scope) {
            let by = Filter::Eq("actor.subject".into(), Literal::Str(actor.rsplit('/').next().unwrap_or(actor).into()));
            req.filter = Some(match req.filter.take() {
                Some(f) => Filter::And(Box::new(f), Box::new(by)),
                None => by,
            });
        }
        let listing =
            Listing::Audit { scope, from: keys::audit_sort_bound(from, false), to: keys::audit_sort_bound(to, true) };
        self.query_page(&listing, &req).await?.map(|i| from_stored(&i))
    }
}

/// An event's attributes: the doc holds what listings filter on (actor, operation, numbers);
/// the entity changes, nearly all of an event's bytes, are deflated JSON beside it. A
/// transaction's event covers up to 98 numbers, every field of each when they are new: as a
/// DynamoDB map that is far more to encode, send and store than the numbers themselves, and it
/// could pass the 400 KB item limit.
fn stored(mut event: AuditEvent) -> Result<Item, StoreError> {
    let entities = std::mem::take(&mut event.entities);
    let json = serde_json::to_vec(&entities).map_err(|e| StoreError::Backend(format!("encoding changes: {e}")))?;
    let mut z = DeflateEncoder::new(Vec::with_capacity(json.len() / 4), Compression::fast());
    let deflated = z.write_all(&json).and_then(|_| z.finish());
    let deflated = deflated.map_err(|e| StoreError::Backend(format!("deflating changes: {e}")))?;
    Ok(Item::from([(DOC.into(), item::to_doc(&event)?), (CHANGES.into(), AttributeValue::B(Blob::new(deflated)))]))
}

fn from_stored(i: &Item) -> Result<AuditEvent, StoreError> {
    let mut event: AuditEvent = item::record(i)?;
    if let Some(blob) = i.get(CHANGES).and_then(|v| v.as_b().ok()) {
        let mut json = Vec::new();
        DeflateDecoder::new(blob.as_ref())
            .read_to_end(&mut json)
            .map_err(|e| StoreError::Backend(format!("inflating changes: {e}")))?;
        event.entities =
            serde_json::from_slice(&json).map_err(|e| StoreError::Backend(format!("decoding changes: {e}")))?;
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_domain::audit::{Actor, Change};

    #[test]
    fn an_event_reads_back_as_it_was_stored() {
        let event = AuditEvent {
            id: "e1".into(),
            time: "2026-11-27T09:30:00Z".into(),
            actor: Actor {
                subject: "alice".into(),
                app_id: Some("bss".into()),
                roles: vec!["ProvisioningAPI.Admin".into()],
            },
            operation: "numbers.import".into(),
            account_name: Some("contoso".into()),
            tenant_id: None,
            telephone_numbers: vec!["+15105850000".into()],
            entities: vec![EntityChange {
                kind: "number".into(),
                id: "+15105850000".into(),
                changes: vec![Change { field: "configuration.usage".into(), before: None, after: Some("x".into()) }],
            }],
            ticket_id: None,
            correlation_id: Some("c".into()),
            request_id: Some("r".into()),
        };
        let item = stored(event.clone()).unwrap();
        assert!(item[DOC].as_m().unwrap().contains_key("telephoneNumbers"), "listings filter on the doc");
        assert_eq!(from_stored(&item).unwrap(), event);
    }
}
