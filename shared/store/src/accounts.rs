//! Account operations.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};

use switchboard_domain::provisioning::ProvisioningStatus;
use switchboard_domain::{Account, DomainError, Service};

use crate::audit::{Entity, Scope};
use crate::batch::Item;
use crate::error::{not_found_account, StoreError};
use crate::expr::Placeholders;
use crate::keys::{self, Queue, DELETING, DOC, ETAG, GSI3PK, GSI3SK, PK, TOTAL};
use crate::paging::{Listing, Page, PageRequest};
use crate::retry::optimistic;
use crate::{item, new_etag, Precondition, Repository, Stored, Written};

fn zero() -> AttributeValue {
    AttributeValue::N("0".into())
}

/// What `put_account` did.
#[derive(Debug)]
pub struct AccountPut {
    pub written: Written,
    pub stored: Stored<Account>,
    /// Another account that already serves the account's Teams tenant (its request for
    /// information stays linked to that one).
    pub tenant_served_by: Option<String>,
}

impl Repository {
    pub(crate) async fn get_account_item(&self, name: &str) -> Result<Option<Item>, StoreError> {
        self.get_item(keys::account(name)).await
    }

    pub async fn get_account(&self, name: &str) -> Result<Stored<Account>, StoreError> {
        let item = self.get_account_item(name).await?.ok_or_else(|| not_found_account(name))?;
        item::account(&item)
    }

    /// How many of the account's numbers are `failed` (their entries in GSI3, counted).
    pub async fn failed_number_count(&self, account: &str) -> Result<i64, StoreError> {
        self.count(&Listing::FailedNumbers(account.to_string()), &PageRequest::default()).await
    }

    /// [`Self::failed_number_count`] of each account, in order, 16 counted at a time (a page
    /// of accounts may hold 500).
    pub async fn failed_number_counts(&self, accounts: &[&str]) -> Result<Vec<i64>, StoreError> {
        let mut counts = Vec::with_capacity(accounts.len());
        for some in accounts.chunks(16) {
            counts.extend(futures::future::try_join_all(some.iter().map(|a| self.failed_number_count(a))).await?);
        }
        Ok(counts)
    }

    pub async fn list_accounts(&self, req: &PageRequest) -> Result<Page<Stored<Account>>, StoreError> {
        self.query_page(&Listing::Accounts, req).await?.map(|i| item::account(&i))
    }

    /// Creates or replaces an account. Counters are kept; the Teams tenant may not change while
    /// OC/TPM numbers exist, and a service may not be turned off while numbers use it.
    pub async fn put_account(&self, mut account: Account, pre: &Precondition) -> Result<AccountPut, StoreError> {
        account.clear_read_only();
        if account.service_details.syncs() {
            account.service_provisioning_status = Some(ProvisioningStatus::Pending);
        }
        if let Some(dr) = account.service_details.teams_direct_routing.as_mut() {
            dr.subdomain_status = Some(switchboard_domain::account::SubdomainStatus::NotProvisioned);
        }
        let account = &account;
        optimistic(|| async move {
            let current = self.get_account_item(&account.name).await?;
            let current_etag = current.as_ref().and_then(item::etag);
            if !pre.allows_write(current_etag.as_deref()) {
                return Err(StoreError::PreconditionFailed);
            }
            let before = current.as_ref().map(item::account).transpose()?;
            let mut account = account.clone();
            account.set_counts(&current.as_ref().map(item::counts).unwrap_or_default());
            let account = &account;
            let etag = new_etag();
            let scope = Scope {
                account: Some(account.name.clone()),
                tenant: account.teams_tenant_id().map(str::to_string),
                correlation_id: account.correlation_id.clone(),
                ..Default::default()
            };
            let changed = Entity::new("account", &account.name, before.as_ref().map(|b| &b.value), Some(account));
            let mut actions = vec![self.account_update(account, &etag, current_etag.as_deref())?];
            actions.extend(self.audit_action("accounts.put", scope, vec![changed])?);
            if self.transact(actions).await? {
                // An account created for a consent is linked to its request for information; one
                // that moved to another tenant is no longer its old tenant's.
                let old_tenant = before.as_ref().and_then(|b| b.value.teams_tenant_id().map(str::to_string));
                if let Some(old) = old_tenant.filter(|t| Some(t.as_str()) != account.teams_tenant_id()) {
                    self.unlink_rfi(&old, &account.name).await;
                }
                let tenant_served_by = match account.teams_tenant_id() {
                    Some(tenant) => self.link_rfi(tenant, &account.name).await,
                    None => None,
                };
                let written = if current.is_some() { Written::Replaced } else { Written::Created };
                let stored = Stored { value: account.clone(), etag };
                return Ok(Some(AccountPut { written, stored, tenant_served_by }));
            }
            // Why it failed, from the item as it stands now; a mere concurrent write is retried.
            let now = self.get_account_item(&account.name).await?;
            match explain_account_conflict(now.as_ref(), account, pre) {
                StoreError::Contention => Ok(None),
                e => Err(e),
            }
        })
        .await
    }

    /// The update that writes `account` over the item whose tag is `expected` (absent: none).
    fn account_update(
        &self,
        account: &Account,
        etag: &str,
        expected: Option<&str>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut p = Placeholders::default();
        let mut sets = vec![
            format!("{} = {}", p.path(DOC), p.value(item::to_doc(account)?)),
            format!("{} = {}", p.path(ETAG), p.value(AttributeValue::S(etag.to_string()))),
        ];
        for (k, v) in keys::account_index(&account.name) {
            sets.push(format!("{} = {}", p.path(&k), p.value(v)));
        }
        // A syncing account waits in the sync's queue until the backend has it.
        let mut update = String::new();
        if account.service_provisioning_status == Some(ProvisioningStatus::Pending) {
            for (k, v) in keys::pending(Queue::Accounts, &account.name) {
                sets.push(format!("{} = {}", p.path(&k), p.value(v)));
            }
        } else {
            update = format!(" REMOVE {}, {}", p.path(GSI3PK), p.path(GSI3SK));
        }
        let zero_v = p.value(zero());
        for attr in Service::ALL.iter().map(|s| keys::count_attr(*s)).chain([TOTAL]) {
            let a = p.path(attr);
            sets.push(format!("{a} = if_not_exists({a}, {zero_v})"));
        }

        let pk = p.path(PK);
        let mut conds = vec![format!("attribute_not_exists({})", p.path(DELETING))];
        // Written over exactly the version read: the precondition held on it, and the audit
        // event's "before" is true.
        conds.push(match expected {
            Some(e) => format!("{} = {}", p.path(ETAG), p.value(AttributeValue::S(e.to_string()))),
            None => format!("attribute_not_exists({pk})"),
        });
        let (oc, tpm) = (
            p.path(keys::count_attr(Service::TeamsOperatorConnect)),
            p.path(keys::count_attr(Service::TeamsPhoneMobile)),
        );
        let tenant_path = p.path(&format!("{DOC}.serviceDetails.teamsTenantId"));
        let same_tenant = match account.teams_tenant_id() {
            Some(t) => format!("{tenant_path} = {}", p.value(AttributeValue::S(t.to_string()))),
            None => format!("attribute_not_exists({tenant_path})"),
        };
        conds.push(format!("(attribute_not_exists({pk}) OR ({oc} = {zero_v} AND {tpm} = {zero_v}) OR {same_tenant})"));
        for s in Service::ALL.into_iter().filter(|s| !account.service_details.is_enabled(*s)) {
            conds.push(format!("(attribute_not_exists({pk}) OR {} = {zero_v})", p.path(keys::count_attr(s))));
        }
        let set = format!("SET {}{update}", sets.join(", "));
        self.tx_update(keys::account(&account.name), set, Some(conds.join(" AND ")), &p)
    }

    /// Deletes an account. With `delete_numbers`, its numbers go first (the account is marked
    /// `deleting` so no new number can join it meanwhile); without, an account with numbers is a conflict.
    pub async fn delete_account(&self, name: &str, delete_numbers: bool, pre: &Precondition) -> Result<(), StoreError> {
        let current = self.get_account_item(name).await?.ok_or_else(|| not_found_account(name))?;
        if !pre.allows_write(item::etag(&current).as_deref()) {
            return Err(StoreError::PreconditionFailed);
        }
        if delete_numbers {
            if !item::is_deleting(&current) {
                self.mark_deleting(name, item::etag(&current)).await?;
            }
            self.purge_numbers(name).await?;
        }
        optimistic(|| async {
            let Some(current) = self.get_account_item(name).await? else { return Err(not_found_account(name)) };
            let etag = item::etag(&current).unwrap_or_default();
            if !pre.allows_write(Some(&etag)) {
                return Err(StoreError::PreconditionFailed);
            }
            if item::total(&current) > 0 {
                return Err(DomainError::conflict(
                    "AccountHasNumbers",
                    "deleteNumbers",
                    format!(
                        "account {name:?} has {} numbers; delete them first or pass deleteNumbers=true",
                        item::total(&current)
                    ),
                )
                .into());
            }
            let before = item::account(&current)?.value;
            let mut p = Placeholders::default();
            let cond = format!(
                "{} = {} AND {} = {}",
                p.path(ETAG),
                p.value(AttributeValue::S(etag)),
                p.path(TOTAL),
                p.value(zero())
            );
            let delete = self.tx_delete(keys::account(name), Some(cond), &p)?;
            let scope = Scope { tenant: before.teams_tenant_id().map(str::to_string), ..Scope::account(name) };
            let mut actions = vec![delete];
            actions.extend(self.audit_action(
                "accounts.delete",
                scope,
                vec![Entity::new("account", name, Some(&before), None)],
            )?);
            if !self.transact(actions).await? {
                return Ok(None);
            }
            // Its tenant's request offers to create an account again.
            if let Some(tenant) = before.teams_tenant_id() {
                self.unlink_rfi(tenant, name).await;
            }
            Ok(Some(()))
        })
        .await
    }

    async fn mark_deleting(&self, name: &str, etag: Option<String>) -> Result<(), StoreError> {
        let mut p = Placeholders::default();
        let update = format!("SET {} = {}", p.path(DELETING), p.value(AttributeValue::Bool(true)));
        let cond = match etag {
            Some(e) => format!("{} = {}", p.path(ETAG), p.value(AttributeValue::S(e))),
            None => format!("attribute_exists({})", p.path(PK)),
        };
        // Changed under us: the caller's view is stale.
        match self.update_if(keys::account(name), update, cond, &p).await? {
            true => Ok(()),
            false => Err(StoreError::PreconditionFailed),
        }
    }
}

/// Why an account write's condition failed, from the item as it stood.
fn explain_account_conflict(current: Option<&Item>, new: &Account, pre: &Precondition) -> StoreError {
    let current_etag = current.and_then(item::etag);
    if !pre.allows_write(current_etag.as_deref()) {
        return StoreError::PreconditionFailed;
    }
    let Some(current) = current else {
        return StoreError::Contention;
    };
    if item::is_deleting(current) {
        return DomainError::conflict(
            "AccountBeingDeleted",
            "name",
            format!("account {:?} is being deleted", new.name),
        )
        .into();
    }
    let counts = item::counts(current);
    let stored_tenant = item::account(current).ok().and_then(|a| a.value.service_details.teams_tenant_id);
    let teams_numbers = counts.get(Service::TeamsOperatorConnect) + counts.get(Service::TeamsPhoneMobile);
    if teams_numbers > 0 && stored_tenant.as_deref() != new.teams_tenant_id() {
        return DomainError::conflict(
            "TeamsTenantIdFrozen",
            "serviceDetails.teamsTenantId",
            format!("teamsTenantId can't change while the account has {teams_numbers} Operator Connect or Teams Phone Mobile numbers"),
        )
        .into();
    }
    for s in Service::ALL {
        if !new.service_details.is_enabled(s) && counts.get(s) > 0 {
            return DomainError::conflict(
                "ServiceHasNumbers",
                format!("serviceDetails.{}.enabled", s.field()),
                format!("{} can't be disabled while {} numbers use it", s.field(), counts.get(s)),
            )
            .into();
        }
    }
    StoreError::Contention
}
