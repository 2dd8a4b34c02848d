//! Writes of many numbers that need more than one transaction, done completely or not at all.
//!
//! DynamoDB commits at most 100 actions at once. A write that needs more (a 100-number batch,
//! a 100-number delete, a 10,000-row CSV import) is journaled:
//!
//! 1. A head item under the account's import partition is put first. It sits in GSI3 under
//!    `IMPORTING`, so while it lives the sync leaves the account's numbers alone, and if the
//!    writer dies the sync finds it once its lease is over and rolls the write back.
//! 2. Each transaction writes its numbers (every put or delete conditional on the entity tag that
//!    was read, so a number changed meanwhile fails the transaction instead of being overwritten),
//!    the account's counters, one audit event, and a journal item holding the items it replaced.
//! 3. Deleting the head (conditional on its id) commits. Any failure before that — a conflict
//!    found in a later transaction, throttling, a crash — restores every committed transaction
//!    from its journal, newest first, each restore conditional on the number still holding the
//!    tag this write gave it (a later writer's change stands), with its own audit event.
//!
//! So no response reports a partial write, and none is left behind: a write either commits whole
//! or is rolled back before its error is answered (or, if the writer died, by the next sync run).
//! A reader may see the first transactions for the moments before a roll-back; the audit trail
//! shows them and their roll-back under the same correlation id.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use std::collections::HashMap;
use std::time::Duration;

use switchboard_domain::{Account, Number, Service, ServiceCounts};

use crate::audit::{Entity, Scope};
use crate::batch::{self, Item};
use crate::error::StoreError;
use crate::expr::Placeholders;
use crate::keys::{self, Key, ETAG, EXPIRES_AT, GSI3, GSI3PK, IMPORTING_PARTITION, PK, SK};
use crate::retry::{now_ms, optimistic};
use crate::syncstate::RELEASED_BY;
use crate::tx::MAX_ACTIONS;
use crate::{item, new_etag, Repository};
use switchboard_domain::holding::owned_elsewhere;

/// Numbers one transaction puts: the action limit less the counter update, the journal item
/// and the audit event.
pub(crate) const PUTS_PER_TX: usize = MAX_ACTIONS - 3;
/// Numbers one transaction deletes: each delete may carry a release tombstone.
pub(crate) const DELETES_PER_TX: usize = (MAX_ACTIONS - 3) / 2;
/// Journal items outlive a committed write by a day (TTL), then go.
const JOURNAL_TTL: Duration = Duration::from_secs(24 * 3600);

const ID: &str = "importId";
const STARTED: &str = "startedAt";
const LEASE: &str = "leaseMs";
const ENTRIES: &str = "entries";
const TN: &str = "tn";
const BEFORE: &str = "before";
const RELEASED: &str = "released";
const OP: &str = "op";

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// One journaled write: its head, id and what its audit events are called.
pub(crate) struct Journal {
    pub(crate) account: String,
    pub(crate) id: String,
    head: Key,
    /// The operation its events record (`numbers.import`, `numbers.createOrUpdate`, …).
    op: &'static str,
}

/// What one write changes about one number.
pub(crate) enum Change {
    Put(Box<Number>),
    Delete(String),
}

impl Change {
    fn tn(&self) -> &str {
        match self {
            Change::Put(n) => &n.telephone_number,
            Change::Delete(tn) => tn,
        }
    }
}

/// One number a transaction changed: the tag it wrote (none: it deleted it), the item it
/// replaced, and the tenant of the release tombstone it wrote, if it wrote one.
struct Entry {
    tn: String,
    etag: Option<String>,
    before: Option<Item>,
    released: Option<String>,
}

impl Entry {
    fn to_attr(&self) -> AttributeValue {
        let mut m = HashMap::from([(TN.to_string(), s(&self.tn))]);
        if let Some(t) = &self.released {
            m.insert(RELEASED.to_string(), s(t));
        }
        if let Some(e) = &self.etag {
            m.insert(ETAG.to_string(), s(e));
        }
        if let Some(b) = &self.before {
            m.insert(BEFORE.to_string(), AttributeValue::M(b.clone()));
        }
        AttributeValue::M(m)
    }

    fn from_attr(v: &AttributeValue) -> Option<Entry> {
        let m = v.as_m().ok()?;
        Some(Entry {
            tn: m.get(TN)?.as_s().ok()?.clone(),
            etag: m.get(ETAG).and_then(|e| e.as_s().ok()).cloned(),
            before: m.get(BEFORE).and_then(|b| b.as_m().ok()).cloned(),
            released: m.get(RELEASED).and_then(|r| r.as_s().ok()).cloned(),
        })
    }
}

fn counts_of(item: Option<&Item>) -> Result<ServiceCounts, StoreError> {
    Ok(match item {
        Some(i) => item::number(i)?.value.counts(),
        None => ServiceCounts::default(),
    })
}

impl Journal {
    /// The audit scope of the write's events: its id is their correlation id.
    fn scope(&self) -> Scope {
        Scope { correlation_id: Some(correlation(self.op, &self.id)), ..Scope::account(&self.account) }
    }
}

/// What one transaction of a write did: numbers it created, and which it touched, each with the
/// tag it wrote (none: deleted).
#[derive(Default)]
pub(crate) struct ChunkOutcome {
    pub(crate) created: usize,
    pub(crate) changed: Vec<(String, Option<String>)>,
}

impl Repository {
    /// Opens a journaled write with head `head`. An `exclusive` head must not exist yet (an
    /// account's one import slot): `Ok(None)` when it does.
    pub(crate) async fn open_journal(
        &self,
        account: &str,
        op: &'static str,
        head: Key,
        exclusive: bool,
        lease: Duration,
        rows: usize,
    ) -> Result<Option<Journal>, StoreError> {
        let id = new_etag();
        let mut item = head.clone();
        item.extend(keys::importing(account));
        item.insert(ID.into(), s(&id));
        item.insert(STARTED.into(), AttributeValue::N(now_ms().to_string()));
        item.insert(LEASE.into(), AttributeValue::N(lease.as_millis().to_string()));
        item.insert("rows".into(), AttributeValue::N(rows.to_string()));
        item.insert(OP.into(), s(op));
        let written = if exclusive {
            let mut p = Placeholders::default();
            let cond = format!("attribute_not_exists({})", p.path(PK));
            self.put_if(item, cond, &p).await?
        } else {
            // A fresh id: no other write can hold this head.
            self.put_plain(item).await?;
            true
        };
        Ok(written.then(|| Journal { account: account.to_string(), id, head, op }))
    }

    /// Writes `changes` of one account in one transaction (journaled when `journal` is given;
    /// a write that fits one transaction needs none). `existing` holds the numbers' current
    /// items and is refreshed when a concurrent writer got in first; `target(i)` names the
    /// i-th change in errors.
    pub(crate) async fn write_chunk(
        &self,
        owner: &Account,
        op: &'static str,
        journal: Option<(&Journal, usize)>,
        changes: &[Change],
        existing: &HashMap<String, Item>,
        target: &(dyn Fn(usize) -> String + Sync),
    ) -> Result<ChunkOutcome, StoreError> {
        let account = owner.name.as_str();
        let tns: Vec<&str> = changes.iter().map(Change::tn).collect();
        // The first attempt uses what the caller read; a retry reads again.
        let mut prefetched: Option<HashMap<String, Item>> =
            Some(tns.iter().filter_map(|tn| existing.get(*tn).map(|i| (tn.to_string(), i.clone()))).collect());
        optimistic(|| {
            let snapshot = prefetched.take();
            let tns = &tns;
            async move {
                let existing = match snapshot {
                    Some(e) => e,
                    None => {
                        // The account may have changed too (deleted, a service turned off).
                        self.owner(account).await?;
                        self.existing_numbers(tns).await?
                    }
                };
                let mut delta = ServiceCounts::default();
                let mut total = 0i64;
                let mut out = ChunkOutcome::default();
                let mut adding: Vec<Service> = Vec::new();
                let mut entries = Vec::with_capacity(changes.len());
                let mut audited = Vec::with_capacity(changes.len());
                let mut actions = Vec::with_capacity(changes.len() + 3);
                for (i, change) in changes.iter().enumerate() {
                    let tn = change.tn();
                    let old = existing.get(tn);
                    let old_owner = old.and_then(item::owner);
                    match change {
                        Change::Put(n) => {
                            if let Some(other) = old_owner.filter(|o| o != account) {
                                return Err(owned_elsewhere(&target(i), tn, &other).into());
                            }
                            delta.add(&n.counts());
                            delta.sub(&counts_of(old)?);
                            if old.is_none() {
                                total += 1;
                                out.created += 1;
                            }
                            for svc in n.service_details.enabled() {
                                if !adding.contains(&svc) {
                                    adding.push(svc);
                                }
                            }
                            let etag = new_etag();
                            actions.push(self.put_action(n, &etag, old.and_then(item::etag).as_deref())?);
                            audited.push(Entity::number(tn, old, Some(n)));
                            out.changed.push((tn.to_string(), Some(etag.clone())));
                            entries.push(Entry {
                                tn: tn.to_string(),
                                etag: Some(etag),
                                before: old.cloned(),
                                released: None,
                            });
                        }
                        Change::Delete(_) => {
                            // A number the account doesn't own is skipped, as a repeated delete is.
                            let Some(old) = old.filter(|_| old_owner.as_deref() == Some(account)) else { continue };
                            let number = item::number(old)?.value;
                            delta.sub(&number.counts());
                            total -= 1;
                            actions.push(self.delete_action(tn, &item::etag(old).unwrap_or_default())?);
                            let release = owner.release_for(&number);
                            if let Some(r) = &release {
                                actions.push(self.release_put(r, journal.map(|(j, _)| j.id.as_str()))?);
                            }
                            audited.push(Entity::number(tn, Some(old), None));
                            out.changed.push((tn.to_string(), None));
                            entries.push(Entry {
                                tn: tn.to_string(),
                                etag: None,
                                before: Some(old.clone()),
                                released: release.map(|r| r.tenant_id),
                            });
                        }
                    }
                }
                if actions.is_empty() {
                    return Ok(Some(out));
                }
                actions.push(self.counter_action(account, &delta, total, &adding)?);
                let scope = match journal {
                    Some((j, index)) => {
                        actions.push(self.journal_put(j, index, &entries)?);
                        j.scope()
                    }
                    None => Scope::account(account),
                };
                actions.extend(self.audit_action(op, scope, audited)?);
                // A failed condition: someone wrote one of these numbers, or the account changed.
                Ok(self.transact(actions).await?.then_some(out))
            }
        })
        .await
    }

    fn journal_put(&self, j: &Journal, index: usize, entries: &[Entry]) -> Result<TransactWriteItem, StoreError> {
        let mut item = keys::import_chunk(&j.account, &j.id, index);
        item.insert(ENTRIES.into(), AttributeValue::L(entries.iter().map(Entry::to_attr).collect()));
        item.insert(OP.into(), s(j.op));
        let expires = (now_ms() / 1000) + JOURNAL_TTL.as_secs();
        item.insert(EXPIRES_AT.into(), AttributeValue::N(expires.to_string()));
        self.tx_put(item, None, &Placeholders::default())
    }

    /// Deletes the head: from here on the write is done. Fails if someone took the write for
    /// dead and rolled it back.
    pub(crate) async fn commit_journal(&self, j: &Journal) -> Result<(), StoreError> {
        if self.release_head(&j.head, &j.id).await? {
            Ok(())
        } else {
            Err(StoreError::Contention)
        }
    }

    /// Rolls `j` back after `cause` and returns `cause`; a roll-back that fails too is left to
    /// the next sync run (the head outlives its lease).
    pub(crate) async fn abandon_journal(&self, j: &Journal, cause: StoreError) -> StoreError {
        if let Err(e) = Box::pin(self.roll_back(&j.account, &j.id, &j.head)).await {
            tracing::error!(account = %j.account, write = %j.id, error = %e, "rolling back failed; the sync retries it");
        }
        cause
    }

    /// Restores every transaction write `id` committed from its journal, newest first, then
    /// frees its head. A number changed by someone else since keeps that later change.
    pub(crate) async fn roll_back(&self, account: &str, id: &str, head: &Key) -> Result<(), StoreError> {
        let mut chunks = self.journal(account, id).await?;
        chunks.reverse();
        for chunk in chunks {
            Box::pin(self.roll_back_chunk(account, id, &chunk)).await?;
        }
        self.release_head(head, id).await.map(|_| ())
    }

    /// Deletes the head if it is still write `id`'s. `Ok(false)`: another writer had taken it.
    async fn release_head(&self, head: &Key, id: &str) -> Result<bool, StoreError> {
        let mut p = Placeholders::default();
        let cond = format!("{} = {}", p.path(ID), p.value(s(id)));
        self.delete_if(head.clone(), cond, &p).await
    }

    async fn journal(&self, account: &str, id: &str) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut p = Placeholders::default();
            let cond = format!(
                "{} = {} AND begins_with({}, {})",
                p.path(PK),
                p.value(s(keys::import_pk(account))),
                p.path(SK),
                p.value(s(keys::import_chunk_prefix(id)))
            );
            let out = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression(cond)
                .set_expression_attribute_names(p.names_opt())
                .set_expression_attribute_values(p.values_opt())
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(StoreError::backend)?;
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    async fn roll_back_chunk(&self, account: &str, id: &str, journal: &Item) -> Result<(), StoreError> {
        let entries: Vec<Entry> = journal
            .get(ENTRIES)
            .and_then(|v| v.as_l().ok())
            .map(|l| l.iter().filter_map(Entry::from_attr).collect())
            .unwrap_or_default();
        let journal_key: Item =
            [PK, SK].iter().filter_map(|k| journal.get(*k).map(|v| (k.to_string(), v.clone()))).collect();
        let op = item::string(journal, OP).unwrap_or_else(|| "numbers.write".to_string());
        let scope = Scope { correlation_id: Some(correlation(&op, id)), ..Scope::account(account) };
        optimistic(|| async {
            let tns: Vec<&str> = entries.iter().map(|e| e.tn.as_str()).collect();
            let current = self.existing_numbers(&tns).await?;
            let mut delta = ServiceCounts::default();
            let mut total = 0i64;
            let mut actions = Vec::with_capacity(entries.len() * 2 + 3);
            let mut audited = Vec::with_capacity(entries.len());
            for e in &entries {
                let now = current.get(&e.tn);
                match (&e.etag, now) {
                    // We wrote it and it is still ours: put back what was there.
                    (Some(written), Some(now)) if item::etag(now).as_deref() == Some(written.as_str()) => {
                        delta.sub(&counts_of(Some(now))?);
                        delta.add(&counts_of(e.before.as_ref())?);
                        let restored = e.before.as_ref().map(item::number).transpose()?.map(|s| s.value);
                        audited.push(Entity::number(&e.tn, Some(now), restored.as_ref()));
                        match &e.before {
                            Some(b) => actions.push(self.restore_action(b.clone(), Some(written))?),
                            None => {
                                total -= 1;
                                actions.push(self.delete_action(&e.tn, written)?);
                            }
                        }
                    }
                    // We deleted it and nobody has taken the number since: bring it back.
                    (None, None) => {
                        let Some(before) = &e.before else { continue };
                        delta.add(&counts_of(Some(before))?);
                        total += 1;
                        let restored = item::number(before)?.value;
                        audited.push(Entity::number(&e.tn, None, Some(&restored)));
                        actions.push(self.restore_action(before.clone(), None)?);
                        if let Some(tenant) = &e.released {
                            actions.push(self.unrelease_action(tenant, &e.tn, id)?);
                        }
                    }
                    // Changed or re-created since: the later write stands.
                    _ => {}
                }
            }
            let adding: Vec<Service> = Service::ALL.into_iter().filter(|svc| delta.get(*svc) > 0).collect();
            if !actions.is_empty() {
                actions.push(self.counter_action(account, &delta, total, &adding)?);
                actions.extend(self.audit_action(&rollback_op(&op), scope.clone(), audited)?);
            }
            actions.push(self.tx_delete(journal_key.clone(), None, &Placeholders::default())?);
            Ok(self.transact(actions).await?.then_some(()))
        })
        .await
    }

    /// Puts back a number's previous item: over the item this write gave it (tag `written`), or
    /// where this write deleted it and the number is still free.
    fn restore_action(&self, before: Item, written: Option<&str>) -> Result<TransactWriteItem, StoreError> {
        let mut p = Placeholders::default();
        let cond = match written {
            Some(w) => format!("{} = {}", p.path(ETAG), p.value(s(w))),
            None => format!("attribute_not_exists({})", p.path(PK)),
        };
        self.tx_put(before, Some(cond), &p)
    }

    /// Removes the release tombstone write `id` left for a number it deleted (unless a later
    /// delete has written it again).
    fn unrelease_action(&self, tenant: &str, tn: &str, id: &str) -> Result<TransactWriteItem, StoreError> {
        let mut p = Placeholders::default();
        let cond = format!("{} = {}", p.path(RELEASED_BY), p.value(s(id)));
        self.tx_delete(keys::release(tenant, tn), Some(cond), &p)
    }

    /// Rolls back every journaled write whose writer has been gone longer than its lease (or
    /// than `stale_after`, if shorter). The sync calls this each run. Returns the accounts.
    pub async fn recover_imports(&self, stale_after: Duration) -> Result<Vec<String>, StoreError> {
        let heads: Vec<Item> = self.importing_keys().await?.into_iter().map(|(_, k)| k).collect();
        let mut recovered = Vec::new();
        for head in batch::get_all(self.client(), self.table(), heads).await? {
            if !is_stale(&head, stale_after) {
                continue;
            }
            let Some(account) = item::string(&head, keys::GSI3SK) else { continue };
            let id = item::string(&head, ID).unwrap_or_default();
            let key: Key = [PK, SK].iter().filter_map(|k| head.get(*k).map(|v| (k.to_string(), v.clone()))).collect();
            tracing::warn!(%account, write = %id, "rolling back a write whose writer died");
            Box::pin(self.roll_back(&account, &id, &key)).await?;
            recovered.push(account);
        }
        Ok(recovered)
    }

    /// Accounts with a journaled write in progress: the sync leaves their numbers until it is over.
    pub async fn accounts_importing(&self) -> Result<Vec<String>, StoreError> {
        let mut accounts: Vec<String> = self.importing_keys().await?.into_iter().map(|(a, _)| a).collect();
        accounts.dedup();
        Ok(accounts)
    }

    /// The live writes' accounts and head keys (a handful: they last seconds, imports minutes).
    async fn importing_keys(&self) -> Result<Vec<(String, Item)>, StoreError> {
        let mut p = Placeholders::default();
        let cond = format!("{} = {}", p.path(GSI3PK), p.value(s(IMPORTING_PARTITION)));
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(GSI3)
            .key_condition_expression(cond)
            .set_expression_attribute_names(p.names_opt())
            .set_expression_attribute_values(p.values_opt())
            .send()
            .await
            .map_err(StoreError::backend)?;
        Ok(out
            .items
            .unwrap_or_default()
            .into_iter()
            .filter_map(|k| {
                let account = item::string(&k, keys::GSI3SK)?;
                Some((account, [PK, SK].iter().filter_map(|a| k.get(*a).map(|v| (a.to_string(), v.clone()))).collect()))
            })
            .collect())
    }
}

/// The correlation id a write's events (and its roll-back's) share: `import:<id>`,
/// `createOrUpdate:<id>`, `delete:<id>`.
fn correlation(op: &str, id: &str) -> String {
    format!("{}:{id}", op.rsplit('.').next().unwrap_or(op))
}

fn rollback_op(op: &str) -> String {
    format!("{op}Rollback")
}

/// Whether a head's writer is gone: older than its own lease, or than `after` if shorter.
pub(crate) fn is_stale(head: &Item, after: Duration) -> bool {
    let num = |name: &str| -> Option<u64> {
        item::string(head, name).or_else(|| head.get(name).and_then(|v| v.as_n().ok()).cloned())?.parse().ok()
    };
    let started = num(STARTED).unwrap_or(0);
    let lease = num(LEASE).map_or(after, |l| Duration::from_millis(l).min(after));
    now_ms().saturating_sub(started) >= lease.as_millis() as u64
}
