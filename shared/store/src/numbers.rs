//! Number operations. Every write that changes which services a number has moves the owning
//! account's counters in the same transaction, so `numberCount` is never out of step.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use std::collections::HashMap;

use switchboard_domain::provisioning::ProvisioningStatus;
use switchboard_domain::{Account, DomainError, Number, Service, ServiceCounts};

use crate::audit::{Entity, Scope};
use crate::batch::{self, Item};
use crate::error::{not_found_account, not_found_number, StoreError};
use crate::expr::Placeholders;
use crate::keys::{self, DELETING, DOC, ETAG, PK, TOTAL};
use crate::paging::{Listing, Page, PageRequest};
use crate::syncstate::PendingRelease;
use crate::{item, new_etag, Precondition, Repository, Stored, Written};

/// Numbers per transaction: the 100-action limit less the account's counters and the audit event.
pub(crate) const NUMBERS_PER_TX: usize = 98;
/// Numbers per delete transaction: each may carry a release tombstone, plus the counters and
/// the audit event.
const DELETES_PER_TX: usize = 49;
/// Retries when concurrent writers collide on the same items.
const MAX_ATTEMPTS: usize = 8;

/// The account as a number write needs it.
pub(crate) struct Owner {
    pub(crate) account: Account,
}

impl Owner {
    pub(crate) fn check_can_hold(&self, n: &Number, prefix: &str) -> Result<(), StoreError> {
        for s in n.service_details.enabled() {
            if !self.account.service_details.is_enabled(s) {
                return Err(DomainError::conflict(
                    "ServiceNotEnabled",
                    format!("{prefix}serviceDetails.{}", s.field()),
                    format!("account {:?} does not have {} enabled", self.account.name, s.field()),
                )
                .into());
            }
        }
        Ok(())
    }

    /// Prepares a number for storing: read-only fields cleared, and `pending` when one of its
    /// services is synced to the backend for this account.
    pub(crate) fn prepare(&self, mut n: Number) -> Number {
        n.clear_read_only();
        let sd = &self.account.service_details;
        if n.service_details.enabled().into_iter().any(|s| sd.syncs_service(s)) {
            n.service_provisioning_status = Some(ProvisioningStatus::Pending);
        }
        n
    }
}

/// The release tombstone for a deleted number, if the backend has (or may have) it: an OC/TPM
/// number of an account that syncs that service to a tenant.
fn release_for(account: Option<&Account>, n: &Number) -> Option<PendingRelease> {
    let account = account?;
    let sd = &account.service_details;
    let tenant = sd.teams_tenant_id.clone()?;
    let sent = n.service_details.enabled().into_iter().any(|s| sd.syncs_service(s));
    sent.then(|| PendingRelease {
        tenant_id: tenant,
        telephone_number: n.telephone_number.clone(),
        account_name: account.name.clone(),
    })
}

impl Repository {
    pub(crate) async fn owner(&self, account: &str) -> Result<Owner, StoreError> {
        let item = self.get_account_item(account).await?.ok_or_else(|| not_found_account(account))?;
        if item::is_deleting(&item) {
            return Err(DomainError::conflict(
                "AccountBeingDeleted",
                "accountName",
                format!("account {account:?} is being deleted"),
            )
            .into());
        }
        Ok(Owner { account: item::account(&item)?.value })
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
        for _ in 0..MAX_ATTEMPTS {
            let owner = self.owner(&n.account_name).await?;
            owner.check_can_hold(&n, "")?;
            let existing = self.get_number_item(&n.telephone_number).await?;
            if let Some(other) = existing.as_ref().and_then(item::owner).filter(|o| *o != n.account_name) {
                return Err(owned_elsewhere("telephoneNumber", &n.telephone_number, &other));
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
            if self.transact(actions).await? {
                let written = if existing.is_some() { Written::Replaced } else { Written::Created };
                return Ok((written, Stored { value: number, etag }));
            }
        }
        Err(StoreError::Contention)
    }

    pub async fn delete_number(&self, account: &str, tn: &str, pre: &Precondition) -> Result<(), StoreError> {
        for _ in 0..MAX_ATTEMPTS {
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
            if let Some(r) = release_for(owner.as_ref().map(|o| &o.value), &number) {
                actions.push(self.release_put(&r)?);
            }
            let changed = Entity::number(tn, Some(&existing), None);
            actions.extend(self.audit_action("numbers.delete", Scope::account(account), vec![changed])?);
            if self.transact(actions).await? {
                return Ok(());
            }
        }
        Err(StoreError::Contention)
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
    /// free of duplicates). A number owned by another account fails the whole batch before
    /// anything is written. Returns the stored numbers in request order.
    pub async fn upsert_numbers(&self, account: &str, numbers: Vec<Number>) -> Result<Vec<Stored<Number>>, StoreError> {
        let owner = self.owner(account).await?;
        for (i, n) in numbers.iter().enumerate() {
            owner.check_can_hold(n, &format!("numbers[{i}]."))?;
        }
        // Every number's owner is checked before anything is written, so a conflict anywhere in
        // the batch leaves all of it unwritten (a writer racing in between is caught per chunk).
        let tns: Vec<&str> = numbers.iter().map(|n| n.telephone_number.as_str()).collect();
        let existing = self.existing_numbers(&tns).await?;
        for (i, n) in numbers.iter().enumerate() {
            if let Some(other) = existing.get(&n.telephone_number).and_then(item::owner).filter(|o| o != account) {
                return Err(owned_elsewhere(&format!("numbers[{i}].telephoneNumber"), &n.telephone_number, &other));
            }
        }
        let numbers: Vec<Number> = numbers.into_iter().map(|n| owner.prepare(n)).collect();
        let mut stored = Vec::with_capacity(numbers.len());
        for (c, chunk) in numbers.chunks(NUMBERS_PER_TX).enumerate() {
            stored.extend(self.upsert_chunk(account, chunk, c * NUMBERS_PER_TX).await?);
        }
        Ok(stored)
    }

    async fn upsert_chunk(
        &self,
        account: &str,
        chunk: &[Number],
        offset: usize,
    ) -> Result<Vec<Stored<Number>>, StoreError> {
        for _ in 0..MAX_ATTEMPTS {
            let tns: Vec<&str> = chunk.iter().map(|n| n.telephone_number.as_str()).collect();
            let existing = self.existing_numbers(&tns).await?;
            let mut delta = ServiceCounts::default();
            let mut total = 0;
            let mut adding = Vec::new();
            let mut actions = Vec::with_capacity(chunk.len() + 2);
            let mut stored = Vec::with_capacity(chunk.len());
            let mut changed = Vec::with_capacity(chunk.len());
            for (i, n) in chunk.iter().enumerate() {
                let old = existing.get(&n.telephone_number);
                if let Some(other) = old.and_then(item::owner).filter(|o| o != account) {
                    return Err(owned_elsewhere(
                        &format!("numbers[{}].telephoneNumber", offset + i),
                        &n.telephone_number,
                        &other,
                    ));
                }
                delta.add(&n.counts());
                match old {
                    Some(o) => delta.sub(&item::number(o)?.value.counts()),
                    None => total += 1,
                }
                for s in n.service_details.enabled() {
                    if !adding.contains(&s) {
                        adding.push(s);
                    }
                }
                let etag = new_etag();
                actions.push(self.put_action(n, &etag, old.and_then(item::etag).as_deref())?);
                changed.push(Entity::number(&n.telephone_number, old, Some(n)));
                stored.push(Stored { value: n.clone(), etag });
            }
            actions.push(self.counter_action(account, &delta, total, &adding)?);
            actions.extend(self.audit_action("numbers.createOrUpdate", Scope::account(account), changed)?);
            if self.transact(actions).await? {
                return Ok(stored);
            }
            // Re-read: the account may have changed (deleted, service turned off) too.
            self.owner(account).await?;
        }
        Err(StoreError::Contention)
    }

    /// Deletes up to 100 numbers of one account. Numbers the account doesn't own are skipped,
    /// as a repeated delete is; the caller learns which were deleted.
    pub async fn delete_numbers(&self, account: &str, tns: &[&str]) -> Result<Vec<String>, StoreError> {
        let owner = self.get_account_item(account).await?.ok_or_else(|| not_found_account(account))?;
        let owner = item::account(&owner)?.value;
        let mut deleted = Vec::new();
        for chunk in tns.chunks(DELETES_PER_TX) {
            deleted.extend(self.delete_chunk(&owner, chunk).await?);
        }
        Ok(deleted)
    }

    async fn delete_chunk(&self, owner: &Account, tns: &[&str]) -> Result<Vec<String>, StoreError> {
        let account = owner.name.as_str();
        for _ in 0..MAX_ATTEMPTS {
            let existing = self.existing_numbers(tns).await?;
            let owned: Vec<(&String, &Item)> =
                existing.iter().filter(|(_, i)| item::owner(i).as_deref() == Some(account)).collect();
            if owned.is_empty() {
                return Ok(Vec::new());
            }
            let mut delta = ServiceCounts::default();
            let mut actions = Vec::with_capacity(owned.len() * 2 + 2);
            let mut changed = Vec::with_capacity(owned.len());
            for (tn, i) in &owned {
                let number = item::number(i)?.value;
                delta.sub(&number.counts());
                actions.push(self.delete_action(tn, &item::etag(i).unwrap_or_default())?);
                if let Some(r) = release_for(Some(owner), &number) {
                    actions.push(self.release_put(&r)?);
                }
                changed.push(Entity::number(tn, Some(i), None));
            }
            actions.push(self.counter_action(account, &delta, -(owned.len() as i64), &[])?);
            actions.extend(self.audit_action("numbers.delete", Scope::account(account), changed)?);
            if self.transact(actions).await? {
                return Ok(owned.into_iter().map(|(tn, _)| tn.clone()).collect());
            }
        }
        Err(StoreError::Contention)
    }

    /// Deletes every number of an account that is marked `deleting`.
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
            self.delete_chunk(&owner, &refs).await?;
        }
    }
}

pub(crate) fn owned_elsewhere(target: &str, tn: &str, other: &str) -> StoreError {
    DomainError::conflict("NumberOwnedByAnotherAccount", target, format!("{tn} already belongs to account {other:?}"))
        .into()
}
