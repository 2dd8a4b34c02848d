//! Civic addresses: a per-tenant mirror of the enterprise's emergency addresses, read through an
//! account (which names the tenant).

use aws_sdk_dynamodb::types::TransactWriteItem;
use std::collections::HashMap;

use switchboard_domain::civic::CivicAddress;

use crate::audit::{Entity, Scope};
use crate::error::{Missing, StoreError};
use crate::expr::Placeholders;
use crate::keys;
use crate::paging::{Listing, Page, PageRequest};
use crate::{item, new_etag, Repository, Stored};

/// Address writes per transaction: the 100-action limit less the audit event.
const ADDRESSES_PER_TX: usize = 99;

impl Repository {
    /// The Teams tenant of an account (404 if the account doesn't exist; `None` if it has none).
    pub async fn account_tenant(&self, account: &str) -> Result<Option<String>, StoreError> {
        let a = self.get_account(account).await?;
        Ok(a.value.service_details.teams_tenant_id)
    }

    pub async fn list_civic_addresses(
        &self,
        account: &str,
        req: &PageRequest,
    ) -> Result<Page<Stored<CivicAddress>>, StoreError> {
        match self.account_tenant(account).await? {
            Some(tenant) => self.query_page(&Listing::CivicAddresses(tenant), req).await?.map(|i| item::civic(&i)),
            None => Ok(Page { items: Vec::new(), next: None }),
        }
    }

    pub async fn get_civic_address(&self, account: &str, id: &str) -> Result<Stored<CivicAddress>, StoreError> {
        let missing = || StoreError::NotFound(Missing::CivicAddress(id.to_string()));
        let tenant = self.account_tenant(account).await?.ok_or_else(missing)?;
        let item = self.get_item(keys::civic_address(&tenant, id)).await?;
        item::civic(&item.ok_or_else(missing)?)
    }

    /// Every stored address of a tenant.
    pub async fn tenant_addresses(&self, tenant: &str) -> Result<Vec<CivicAddress>, StoreError> {
        let listing = Listing::CivicAddresses(tenant.to_string());
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self.query_page(&listing, &PageRequest { page_size: 500, start, ..Default::default() }).await?;
            for i in &page.items {
                out.push(item::civic(i)?.value);
            }
            match page.next {
                Some(n) => start = Some(n),
                None => return Ok(out),
            }
        }
    }

    /// Makes the mirror of `tenant` equal `pulled`, a complete pull: changed addresses are
    /// rewritten and addresses no longer there are removed. Only call it with a complete pull.
    pub async fn replace_addresses(&self, tenant: &str, pulled: &[CivicAddress]) -> Result<AddressChanges, StoreError> {
        let before: HashMap<String, CivicAddress> =
            self.tenant_addresses(tenant).await?.into_iter().map(|a| (a.id.clone(), a)).collect();
        let mut changes = AddressChanges::default();
        // Each write with what the address was before and after, for the audit trail.
        let mut writes: Vec<(TransactWriteItem, Entity)> = Vec::new();
        for a in pulled {
            let old = before.get(&a.id);
            match old {
                Some(old) if old == a => continue,
                Some(_) => changes.changed.push(a.id.clone()),
                None => changes.added.push(a.id.clone()),
            }
            let put = self.tx_put(item::civic_item(tenant, a, &new_etag())?, None, &Placeholders::default())?;
            writes.push((put, Entity::new("civicAddress", &a.id, old, Some(a))));
        }
        for (id, old) in before.iter().filter(|(id, _)| !pulled.iter().any(|a| &a.id == *id)) {
            changes.removed.push(id.clone());
            let del = self.tx_delete(keys::civic_address(tenant, id), None, &Placeholders::default())?;
            writes.push((del, Entity::new("civicAddress", id, Some(old), None)));
        }
        // A mirror of upstream data: no conditions, last writer wins; each chunk with its audit event.
        let scope = Scope { tenant: Some(tenant.to_string()), ..Default::default() };
        while !writes.is_empty() {
            let rest = writes.split_off(writes.len().min(ADDRESSES_PER_TX));
            let (mut actions, entities): (Vec<_>, Vec<_>) = std::mem::replace(&mut writes, rest).into_iter().unzip();
            actions.extend(self.audit_action("sync.civicAddresses", scope.clone(), entities)?);
            if !self.transact(actions).await? {
                return Err(StoreError::Contention);
            }
        }
        Ok(changes)
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AddressChanges {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}
