//! Number operations. Every write that changes which services a number has moves the owning
//! account's counters in the same transaction, so `numberCount` is never out of step.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use std::collections::HashMap;
use std::time::Duration;

use switchboard_domain::holding::owned_elsewhere;
use switchboard_domain::{Account, DomainError, Number, Service, ServiceCounts};

use crate::audit::{Entity, Scope};
use crate::batch::{self, Item};
use crate::error::{not_found_account, not_found_number, StoreError};
use crate::expr::Placeholders;
use crate::journal::{Change, DELETES_PER_TX, PUTS_PER_TX};
use crate::keys::{self, DELETING, DOC, ETAG, PK, TOTAL};
use crate::paging::{Listing, Page, PageRequest};
use crate::retry::optimistic;
use crate::{item, new_etag, Precondition, Repository, Stored, Written};

/// How long a batch's writer may hold its journal before the sync takes it for dead: well past
/// the account-actions function's timeout.
const BATCH_LEASE: Duration = Duration::from_secs(120);

impl Repository {
    /// The account a number write goes to, if it is live.
    pub(crate) async fn owner(&self, account: &str) -> Result<Account, StoreError> {
        let item = self.get_account_item(account).await?.ok_or_else(|| not_found_account(account))?;
        if item::is_deleting(&item) {
            return Err(DomainError::conflict(
                "AccountBeingDeleted",
                "accountName",
                format!("account {account:?} is being deleted"),
            )
            .into());
        }
        Ok(item::account(&item)?.value)
    }

    async fn get_number_item(&self, tn: &str) -> Result<Option<Item>, StoreError> {
        self.get_item(keys::number(tn)).await
    }

    /// The number, if `account` owns it.
    pub async fn get_number(&self, account: &str, tn: &str) -> Result<Stored<Number>, StoreError> {
        match self.get_number_item(tn).await? {
            Some(i) if item::owner(&i).as_deref() == Some(account) => item::number(&i),
            _ => Err(not_found_number(tn)),
        }
    }

    /// An account's numbers, or with `None` every account's.
    pub async fn list_numbers(
        &self,
        account: Option<&str>,
        req: &PageRequest,
    ) -> Result<Page<Stored<Number>>, StoreError> {
        let listing = match account {
            Some(a) => {
                // A missing account is a 404, not an empty list.
                self.get_account_item(a).await?.ok_or_else(|| not_found_account(a))?;
                Listing::AccountNumbers(a.to_string())
            }
            None => Listing::AllNumbers,
        };
        self.query_page(&listing, req).await?.map(|i| item::number(&i))
    }

    /// The counter update (or, with no change, a condition check) on the owning account.
    /// Additions require the account to be live with each service enabled; removals only that it exists.
    pub(crate) fn counter_action(
        &self,
        account: &str,
        delta: &ServiceCounts,
        total: i64,
        adding: &[Service],
    ) -> Result<TransactWriteItem, StoreError> {
        let mut p = Placeholders::default();
        let mut conds = vec![format!("attribute_exists({})", p.path(PK))];
        if total > 0 || !adding.is_empty() {
            conds.push(format!("attribute_not_exists({})", p.path(DELETING)));
            let yes = p.value(AttributeValue::Bool(true));
            for s in adding {
                conds.push(format!("{} = {yes}", p.path(&format!("{DOC}.serviceDetails.{}.enabled", s.field()))));
            }
        }
        let mut adds = Vec::new();
        for s in Service::ALL {
            if delta.get(s) != 0 {
                adds.push(format!(
                    "{} {}",
                    p.path(keys::count_attr(s)),
                    p.value(AttributeValue::N(delta.get(s).to_string()))
                ));
            }
        }
        if total != 0 {
            adds.push(format!("{} {}", p.path(TOTAL), p.value(AttributeValue::N(total.to_string()))));
        }
        let cond = conds.join(" AND ");
        let key = keys::account(account);
        if adds.is_empty() {
            self.tx_check(key, cond, &p)
        } else {
            self.tx_update(key, format!("ADD {}", adds.join(", ")), Some(cond), &p)
        }
    }

    /// A put of `n` that only succeeds if the stored item is still the one we read.
    pub(crate) fn put_action(
        &self,
        n: &Number,
        etag: &str,
        expected: Option<&str>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut p = Placeholders::default();
        let cond = match expected {
            Some(e) => format!("{} = {}", p.path(ETAG), p.value(AttributeValue::S(e.to_string()))),
            None => format!("attribute_not_exists({})", p.path(PK)),
        };
        self.tx_put(item::number_item(n, etag)?, Some(cond), &p)
    }

    pub(crate) fn delete_action(&self, tn: &str, expected: &str) -> Result<TransactWriteItem, StoreError> {
        let mut p = Placeholders::default();
        let cond = format!("{} = {}", p.path(ETAG), p.value(AttributeValue::S(expected.to_string())));
        self.tx_delete(keys::number(tn), Some(cond), &p)
    }

    /// Creates or replaces one number of `n.account_name`.
    pub async fn put_number(&self, n: Number, pre: &Precondition) -> Result<(Written, Stored<Number>), StoreError> {
        optimistic(|| async {
            let owner = self.owner(&n.account_name).await?;
            owner.check_can_hold(&n, "")?;
            let existing = self.get_number_item(&n.telephone_number).await?;
            if let Some(other) = existing.as_ref().and_then(item::owner).filter(|o| *o != n.account_name) {
                return Err(owned_elsewhere("telephoneNumber", &n.telephone_number, &other).into());
            }
            let current_etag = existing.as_ref().and_then(item::etag);
            if !pre.allows_write(current_etag.as_deref()) {
                return Err(StoreError::PreconditionFailed);
            }
            let number = owner.prepare(n.clone());
            let mut delta = number.counts();
            if let Some(old) = existing.as_ref().map(item::number).transpose()? {
                delta.sub(&old.value.counts());
            }
            let total = if existing.is_some() { 0 } else { 1 };
            let etag = new_etag();
            let mut actions = vec![
                self.put_action(&number, &etag, current_etag.as_deref())?,
                self.counter_action(&number.account_name, &delta, total, &number.service_details.enabled())?,
            ];
            let changed = Entity::number(&number.telephone_number, existing.as_ref(), Some(&number));
            actions.extend(self.audit_action("numbers.put", Scope::account(&number.account_name), vec![changed])?);
            if !self.transact(actions).await? {
                return Ok(None);
            }
            let written = if existing.is_some() { Written::Replaced } else { Written::Created };
            Ok(Some((written, Stored { value: number, etag })))
        })
        .await
    }

    pub async fn delete_number(&self, account: &str, tn: &str, pre: &Precondition) -> Result<(), StoreError> {
        optimistic(|| async {
            let existing = match self.get_number_item(tn).await? {
                Some(i) if item::owner(&i).as_deref() == Some(account) => i,
                _ => return Err(not_found_number(tn)),
            };
            let etag = item::etag(&existing).unwrap_or_default();
            if !pre.allows_write(Some(&etag)) {
                return Err(StoreError::PreconditionFailed);
            }
            let number = item::number(&existing)?.value;
            let mut delta = ServiceCounts::default();
            delta.sub(&number.counts());
            let owner = self.get_account_item(account).await?.map(|i| item::account(&i)).transpose()?;
            let mut actions = vec![self.delete_action(tn, &etag)?, self.counter_action(account, &delta, -1, &[])?];
            if let Some(r) = owner.as_ref().and_then(|o| o.value.release_for(&number)) {
                actions.push(self.release_put(&r, None)?);
            }
            let changed = Entity::number(tn, Some(&existing), None);
            actions.extend(self.audit_action("numbers.delete", Scope::account(account), vec![changed])?);
            Ok(self.transact(actions).await?.then_some(()))
        })
        .await
    }

    /// The account that holds each of `tns` here (numbers held by none are absent).
    pub async fn number_owners(&self, tns: &[&str]) -> Result<HashMap<String, String>, StoreError> {
        let existing = self.existing_numbers(tns).await?;
        Ok(existing.into_iter().filter_map(|(tn, i)| item::owner(&i).map(|o| (tn, o))).collect())
    }

    pub(crate) async fn existing_numbers(&self, tns: &[&str]) -> Result<HashMap<String, Item>, StoreError> {
        let keys = tns.iter().map(|tn| keys::number(tn)).collect();
        let items = batch::get_all(self.client(), self.table(), keys).await?;
        Ok(items
            .into_iter()
            .filter_map(|i| item::number(&i).ok().map(|n| (n.value.telephone_number.clone(), i)))
            .collect())
    }

    /// Creates or replaces up to 100 numbers of one account (`numbers` already validated and
    /// free of duplicates), all or nothing (see `journal`). Returns the stored numbers in
    /// request order.
    pub async fn upsert_numbers(&self, account: &str, numbers: Vec<Number>) -> Result<Vec<Stored<Number>>, StoreError> {
        let owner = self.owner(account).await?;
        for (i, n) in numbers.iter().enumerate() {
            owner.check_can_hold(n, &format!("numbers[{i}]."))?;
        }
        // Every number's owner is checked before anything is written, so the usual conflict is
        // answered without writing at all; one that races in later is caught by its transaction.
        let tns: Vec<&str> = numbers.iter().map(|n| n.telephone_number.as_str()).collect();
        let existing = self.existing_numbers(&tns).await?;
        for (i, n) in numbers.iter().enumerate() {
            if let Some(other) = existing.get(&n.telephone_number).and_then(item::owner).filter(|o| o != account) {
                return Err(
                    owned_elsewhere(&format!("numbers[{i}].telephoneNumber"), &n.telephone_number, &other).into()
                );
            }
        }
        let numbers: Vec<Number> = numbers.into_iter().map(|n| owner.prepare(n)).collect();
        let changes: Vec<Change> = numbers.iter().cloned().map(|n| Change::Put(Box::new(n))).collect();
        let target = |i: usize| format!("numbers[{i}].telephoneNumber");
        let written =
            self.write_all(&owner, "numbers.createOrUpdate", &changes, PUTS_PER_TX, &existing, &target).await?;
        let tags: HashMap<String, String> = written.into_iter().filter_map(|(tn, tag)| Some((tn, tag?))).collect();
        Ok(numbers
            .into_iter()
            .map(|n| {
                let etag = tags.get(&n.telephone_number).cloned().unwrap_or_default();
                Stored { value: n, etag }
            })
            .collect())
    }

    /// Deletes up to 100 numbers of one account, all or nothing. Numbers the account doesn't
    /// own are skipped, as a repeated delete is; the caller learns which were deleted.
    pub async fn delete_numbers(&self, account: &str, tns: &[&str]) -> Result<Vec<String>, StoreError> {
        let owner = self.get_account_item(account).await?.ok_or_else(|| not_found_account(account))?;
        let owner = item::account(&owner)?.value;
        let existing = self.existing_numbers(tns).await?;
        let changes: Vec<Change> = tns.iter().map(|tn| Change::Delete(tn.to_string())).collect();
        let target = |i: usize| format!("numbers[{i}].telephoneNumber");
        let deleted = self.write_all(&owner, "numbers.delete", &changes, DELETES_PER_TX, &existing, &target).await?;
        Ok(deleted.into_iter().map(|(tn, _)| tn).collect())
    }

    /// Writes `changes` in transactions of `per_tx`: one transaction needs no journal; more are
    /// journaled under a head of their own, so several batches of one account may run at once.
    async fn write_all(
        &self,
        owner: &Account,
        op: &'static str,
        changes: &[Change],
        per_tx: usize,
        existing: &HashMap<String, Item>,
        target: &(dyn Fn(usize) -> String + Sync),
    ) -> Result<Vec<(String, Option<String>)>, StoreError> {
        if changes.len() <= per_tx {
            return Ok(Box::pin(self.write_chunk(owner, op, None, changes, existing, target)).await?.changed);
        }
        let head = keys::write_head(&owner.name, &new_etag());
        let journal = self
            .open_journal(&owner.name, op, head, false, BATCH_LEASE, changes.len())
            .await?
            .ok_or(StoreError::Contention)?;
        let mut changed = Vec::with_capacity(changes.len());
        for (c, chunk) in changes.chunks(per_tx).enumerate() {
            let offset = c * per_tx;
            let at = |i: usize| target(offset + i);
            match Box::pin(self.write_chunk(owner, op, Some((&journal, c)), chunk, existing, &at)).await {
                Ok(out) => changed.extend(out.changed),
                Err(e) => return Err(Box::pin(self.abandon_journal(&journal, e)).await),
            }
        }
        if let Err(e) = self.commit_journal(&journal).await {
            return Err(Box::pin(self.abandon_journal(&journal, e)).await);
        }
        Ok(changed)
    }

    /// Deletes every number of an account that is marked `deleting`. Roll-forward, not
    /// roll-back: the mark is the commit point (no number can join the account after it), so a
    /// failure here leaves the account marked and the next `DELETE` finishes the job.
    pub(crate) async fn purge_numbers(&self, account: &str) -> Result<(), StoreError> {
        let listing = Listing::AccountNumbers(account.to_string());
        let owner = self.get_account_item(account).await?.ok_or_else(|| not_found_account(account))?;
        let owner = item::account(&owner)?.value;
        loop {
            let page =
                self.query_page(&listing, &PageRequest { page_size: DELETES_PER_TX, ..Default::default() }).await?;
            if page.items.is_empty() {
                return Ok(());
            }
            let tns: Vec<String> =
                page.items.iter().filter_map(|i| item::number(i).ok()).map(|n| n.value.telephone_number).collect();
            let refs: Vec<&str> = tns.iter().map(String::as_str).collect();
            let existing = self.existing_numbers(&refs).await?;
            let changes: Vec<Change> = tns.iter().cloned().map(Change::Delete).collect();
            self.write_chunk(&owner, "numbers.delete", None, &changes, &existing, &|_| "accountName".into()).await?;
        }
    }
}
