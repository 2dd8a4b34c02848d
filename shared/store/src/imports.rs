//! CSV imports: up to 10,000 numbers of one account, written completely or not at all.
//!
//! DynamoDB has no transaction of 10,000 items, so an import is journaled. Its head item
//! (`IMPORT#<account>`/`I`) is claimed first and makes it the account's one live import. Each
//! transaction then writes 98 numbers, the account's counters and a journal item holding the
//! items those numbers replaced. Deleting the head commits. Any failure rolls the written chunks
//! back from the journal; if the writer dies instead, its head outlives [`IMPORT_LEASE`] and the
//! next import of the account, or the next sync run, rolls it back. No response ever reports a
//! partly written file as imported.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use serde::Serialize;
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use switchboard_domain::number_csv::{Row, MAX_REPORTED};
use switchboard_domain::{DomainError, FieldError, Number, Service, ServiceCounts};

use crate::audit::{Entity, Scope};
use crate::batch::{self, Item};
use crate::error::StoreError;
use crate::expr::Placeholders;
use crate::keys::{self, ETAG, EXPIRES_AT, GSI3, GSI3PK, IMPORTING_PARTITION, PK, SK};
use crate::numbers::owned_elsewhere;
use crate::{item, new_etag, Repository};

/// How long an import may run before others may take it for dead: the longest a Lambda runs.
pub const IMPORT_LEASE: Duration = Duration::from_secs(15 * 60);
/// Numbers per transaction: 100 actions less the counter update, the journal item and the
/// audit event.
const NUMBERS_PER_CHUNK: usize = 97;
/// Journal items outlive a committed import by a day (TTL), then go.
const JOURNAL_TTL: Duration = Duration::from_secs(24 * 3600);
const MAX_ATTEMPTS: usize = 8;

const ID: &str = "importId";
const STARTED: &str = "startedAt";
const ENTRIES: &str = "entries";
const TN: &str = "tn";
const BEFORE: &str = "before";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportOutcome {
    pub import_id: String,
    pub imported: usize,
    pub created: usize,
    pub updated: usize,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// One number a chunk wrote: the tag it wrote it with, and the item it replaced.
struct Entry {
    tn: String,
    etag: String,
    before: Option<Item>,
}

impl Entry {
    fn to_attr(&self) -> AttributeValue {
        let mut m = HashMap::from([(TN.to_string(), s(&self.tn)), (ETAG.to_string(), s(&self.etag))]);
        if let Some(b) = &self.before {
            m.insert(BEFORE.to_string(), AttributeValue::M(b.clone()));
        }
        AttributeValue::M(m)
    }

    fn from_attr(v: &AttributeValue) -> Option<Entry> {
        let m = v.as_m().ok()?;
        Some(Entry {
            tn: m.get(TN)?.as_s().ok()?.clone(),
            etag: m.get(ETAG)?.as_s().ok()?.clone(),
            before: m.get(BEFORE).and_then(|b| b.as_m().ok()).cloned(),
        })
    }
}

fn counts_of(item: Option<&Item>) -> Result<ServiceCounts, StoreError> {
    Ok(match item {
        Some(i) => item::number(i)?.value.counts(),
        None => ServiceCounts::default(),
    })
}

impl Repository {
    /// Imports checked rows (see `number_csv::parse`) into `account`. Rows the account can't hold
    /// (a service it hasn't enabled, a number another account owns) reject the whole file.
    pub async fn import_numbers(&self, account: &str, rows: Vec<Row>) -> Result<ImportOutcome, StoreError> {
        let owner = self.owner(account).await?;
        let tns: Vec<&str> = rows.iter().map(|r| r.number.telephone_number.as_str()).collect();
        let mut existing = self.existing_numbers(&tns).await?;
        let mut problems = Vec::new();
        for r in &rows {
            for svc in r.number.service_details.enabled() {
                if !owner.account.service_details.is_enabled(svc) {
                    problems.push(FieldError::new(
                        format!("line {}: serviceDetails_{}_enabled", r.line, svc.field()),
                        format!("account {account:?} does not have {} enabled", svc.field()),
                    ));
                }
            }
            let tn = &r.number.telephone_number;
            if let Some(other) = existing.get(tn).and_then(item::owner).filter(|o| o != account) {
                problems.push(FieldError::new(
                    format!("line {}: telephoneNumber", r.line),
                    format!("{tn} already belongs to account {other:?}"),
                ));
            }
        }
        if !problems.is_empty() {
            problems.truncate(MAX_REPORTED);
            return Err(DomainError::Invalid(problems).into());
        }

        let id = new_etag();
        self.claim_import(account, &id, rows.len()).await?;
        let numbers: Vec<Number> = rows.into_iter().map(|r| owner.prepare(r.number)).collect();
        let mut created = 0;
        for (c, chunk) in numbers.chunks(NUMBERS_PER_CHUNK).enumerate() {
            let written = self.write_import_chunk(account, &id, c, chunk, &mut existing).await;
            let committed = match written {
                Ok(n) => n,
                Err(e) => return Err(self.abandon_import(account, &id, e).await),
            };
            created += committed;
        }
        if let Err(e) = self.commit_import(account, &id).await {
            return Err(self.abandon_import(account, &id, e).await);
        }
        Ok(ImportOutcome { import_id: id, imported: numbers.len(), created, updated: numbers.len() - created })
    }

    /// Rolls back after `cause`; a roll-back that fails too is left to the next import or sync.
    async fn abandon_import(&self, account: &str, id: &str, cause: StoreError) -> StoreError {
        if let Err(e) = self.roll_back_import(account, id).await {
            tracing::error!(account, import = id, error = %e, "rolling back the import failed; it is retried later");
        }
        cause
    }

    /// Makes `id` the account's one live import, rolling back a dead one first.
    pub(crate) async fn claim_import(&self, account: &str, id: &str, rows: usize) -> Result<(), StoreError> {
        for _ in 0..MAX_ATTEMPTS {
            let mut head = keys::import_head(account);
            head.extend(keys::importing(account));
            head.insert(ID.into(), s(id));
            head.insert(STARTED.into(), AttributeValue::N(now_ms().to_string()));
            head.insert("rows".into(), AttributeValue::N(rows.to_string()));
            let mut p = Placeholders::default();
            let cond = format!("attribute_not_exists({})", p.path(PK));
            if self.put_if(head, cond, &p).await? {
                return Ok(());
            }
            let Some(live) = self.get_item(keys::import_head(account)).await? else { continue };
            if !is_stale(&live, IMPORT_LEASE) {
                return Err(DomainError::conflict(
                    "ImportInProgress",
                    "accountName",
                    format!("account {account:?} already has an import in progress; retry when it has finished"),
                )
                .into());
            }
            let dead = item::string(&live, ID).unwrap_or_default();
            tracing::warn!(account, import = %dead, "rolling back an import whose writer died");
            self.roll_back_import(account, &dead).await?;
        }
        Err(StoreError::Contention)
    }

    /// Writes one chunk with its journal item; returns how many numbers were new.
    pub(crate) async fn write_import_chunk(
        &self,
        account: &str,
        id: &str,
        index: usize,
        chunk: &[Number],
        existing: &mut HashMap<String, Item>,
    ) -> Result<usize, StoreError> {
        for _ in 0..MAX_ATTEMPTS {
            let mut delta = ServiceCounts::default();
            let mut created = 0;
            let mut adding: Vec<Service> = Vec::new();
            let mut entries = Vec::with_capacity(chunk.len());
            let mut changed = Vec::with_capacity(chunk.len());
            let mut actions = Vec::with_capacity(chunk.len() + 3);
            for n in chunk {
                let old = existing.get(&n.telephone_number);
                if let Some(other) = old.and_then(item::owner).filter(|o| o != account) {
                    return Err(owned_elsewhere("telephoneNumber", &n.telephone_number, &other));
                }
                delta.add(&n.counts());
                delta.sub(&counts_of(old)?);
                if old.is_none() {
                    created += 1;
                }
                for svc in n.service_details.enabled() {
                    if !adding.contains(&svc) {
                        adding.push(svc);
                    }
                }
                let etag = new_etag();
                actions.push(self.put_action(n, &etag, old.and_then(item::etag).as_deref())?);
                changed.push(Entity::number(&n.telephone_number, old, Some(n)));
                entries.push(Entry { tn: n.telephone_number.clone(), etag, before: old.cloned() });
            }
            actions.push(self.counter_action(account, &delta, created as i64, &adding)?);
            actions.push(self.journal_put(account, id, index, &entries)?);
            actions.extend(self.audit_action("numbers.import", import_scope(account, id), changed)?);
            if self.transact(actions).await? {
                return Ok(created);
            }
            // Someone wrote one of these numbers, or the account changed: re-read and retry.
            self.owner(account).await?;
            let tns: Vec<&str> = chunk.iter().map(|n| n.telephone_number.as_str()).collect();
            let fresh = self.existing_numbers(&tns).await?;
            for tn in tns {
                match fresh.get(tn) {
                    Some(i) => existing.insert(tn.to_string(), i.clone()),
                    None => existing.remove(tn),
                };
            }
        }
        Err(StoreError::Contention)
    }

    fn journal_put(
        &self,
        account: &str,
        id: &str,
        index: usize,
        entries: &[Entry],
    ) -> Result<TransactWriteItem, StoreError> {
        let mut item = keys::import_chunk(account, id, index);
        item.insert(ENTRIES.into(), AttributeValue::L(entries.iter().map(Entry::to_attr).collect()));
        let expires = (now_ms() / 1000) + JOURNAL_TTL.as_secs();
        item.insert(EXPIRES_AT.into(), AttributeValue::N(expires.to_string()));
        self.tx_put(item, None, &Placeholders::default())
    }

    /// Deletes the head: from here on the import is done.
    pub(crate) async fn commit_import(&self, account: &str, id: &str) -> Result<(), StoreError> {
        if self.release_import_slot(account, id).await? {
            Ok(())
        } else {
            // Someone took our import for dead and rolled it back.
            Err(StoreError::Contention)
        }
    }

    /// Restores every chunk `id` wrote from its journal, then frees the account's import slot.
    /// A number changed by someone else since the import wrote it keeps that later change.
    pub(crate) async fn roll_back_import(&self, account: &str, id: &str) -> Result<(), StoreError> {
        for journal in self.journal(account, id).await? {
            self.roll_back_chunk(account, id, &journal).await?;
        }
        self.release_import_slot(account, id).await.map(|_| ())
    }

    /// Deletes the head if it is still import `id`'s. `Ok(false)`: another writer had taken it.
    async fn release_import_slot(&self, account: &str, id: &str) -> Result<bool, StoreError> {
        let mut p = Placeholders::default();
        let cond = format!("{} = {}", p.path(ID), p.value(s(id)));
        self.delete_if(keys::import_head(account), cond, &p).await
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
        for _ in 0..MAX_ATTEMPTS {
            let tns: Vec<&str> = entries.iter().map(|e| e.tn.as_str()).collect();
            let current = self.existing_numbers(&tns).await?;
            let mut delta = ServiceCounts::default();
            let mut total = 0i64;
            let mut actions = Vec::with_capacity(entries.len() + 3);
            let mut changed = Vec::with_capacity(entries.len());
            for e in &entries {
                let Some(now) = current.get(&e.tn).filter(|i| item::etag(i).as_deref() == Some(e.etag.as_str())) else {
                    continue; // changed or deleted since: the later write stands
                };
                delta.sub(&counts_of(Some(now))?);
                delta.add(&counts_of(e.before.as_ref())?);
                let restored = e.before.as_ref().map(item::number).transpose()?.map(|s| s.value);
                changed.push(Entity::number(&e.tn, Some(now), restored.as_ref()));
                match &e.before {
                    Some(b) => actions.push(self.restore_action(b.clone(), &e.etag)?),
                    None => {
                        total -= 1;
                        actions.push(self.delete_action(&e.tn, &e.etag)?);
                    }
                }
            }
            let adding: Vec<Service> = Service::ALL.into_iter().filter(|svc| delta.get(*svc) > 0).collect();
            actions.push(self.counter_action(account, &delta, total, &adding)?);
            actions.extend(self.audit_action("numbers.importRollback", import_scope(account, id), changed)?);
            actions.push(self.tx_delete(journal_key.clone(), None, &Placeholders::default())?);
            if self.transact(actions).await? {
                return Ok(());
            }
        }
        Err(StoreError::Contention)
    }

    /// Puts back a number's previous item, if the item is still the one the import wrote.
    fn restore_action(&self, before: Item, written: &str) -> Result<TransactWriteItem, StoreError> {
        let mut p = Placeholders::default();
        let cond = format!("{} = {}", p.path(ETAG), p.value(s(written)));
        self.tx_put(before, Some(cond), &p)
    }

    /// Rolls back every import whose writer has been gone longer than `stale_after` (the sync
    /// calls this each run). Returns the accounts whose import was rolled back.
    pub async fn recover_imports(&self, stale_after: Duration) -> Result<Vec<String>, StoreError> {
        let heads: Vec<Item> = self.importing_keys().await?.into_iter().map(|(_, k)| k).collect();
        let mut recovered = Vec::new();
        for head in batch::get_all(self.client(), self.table(), heads).await? {
            if !is_stale(&head, stale_after) {
                continue;
            }
            let Some(account) = item::string(&head, keys::GSI3SK) else { continue };
            let id = item::string(&head, ID).unwrap_or_default();
            tracing::warn!(%account, import = %id, "rolling back an import whose writer died");
            self.roll_back_import(&account, &id).await?;
            recovered.push(account);
        }
        Ok(recovered)
    }

    /// Accounts with an import in progress: the sync leaves their numbers until it is over.
    pub async fn accounts_importing(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.importing_keys().await?.into_iter().map(|(a, _)| a).collect())
    }

    /// The live imports' accounts and head keys (a handful: one per account at most).
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

/// An import's events share its id as their correlation id.
fn import_scope(account: &str, id: &str) -> Scope {
    Scope { correlation_id: Some(format!("import:{id}")), ..Scope::account(account) }
}

fn is_stale(head: &Item, after: Duration) -> bool {
    let started: u64 = item::string(head, STARTED)
        .or_else(|| head.get(STARTED).and_then(|v| v.as_n().ok()).cloned())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    now_ms().saturating_sub(started) >= after.as_millis() as u64
}
