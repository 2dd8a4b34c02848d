//! Requests for information (consents): mirrored from the backend by the sync; the API may only
//! change the relationship, which then waits in the sync's queue.

use aws_sdk_dynamodb::types::AttributeValue;

use switchboard_domain::rfi::{self, RequestForInformation};
use switchboard_domain::ProvisioningStatus;

use crate::audit::{rfc3339, Entity, Scope};
use crate::batch::Item;
use crate::error::{Missing, StoreError};
use crate::expr::Placeholders;
use crate::keys::{self, DOC, ETAG, PK};
use crate::paging::{Listing, Page, PageRequest};
use crate::retry::{now_ms, optimistic};
use crate::{item, new_etag, Precondition, Repository, Stored};

fn not_found(tenant: &str) -> StoreError {
    StoreError::NotFound(Missing::RequestForInformation(tenant.to_string()))
}

impl Repository {
    pub(crate) async fn get_rfi_item(&self, tenant: &str) -> Result<Option<Item>, StoreError> {
        self.get_item(keys::rfi(tenant)).await
    }

    pub async fn get_rfi(&self, tenant: &str) -> Result<Stored<RequestForInformation>, StoreError> {
        let item = self.get_rfi_item(tenant).await?.ok_or_else(|| not_found(tenant))?;
        item::rfi(&item)
    }

    pub async fn list_rfis(&self, req: &PageRequest) -> Result<Page<Stored<RequestForInformation>>, StoreError> {
        self.query_page(&Listing::Rfis, req).await?.map(|i| item::rfi(&i))
    }

    /// Writes `rfi` over `current` (`None`: it doesn't exist yet), with its audit event for
    /// `operation`. `Ok(None)` when someone else changed it first.
    pub async fn put_rfi_if(
        &self,
        rfi: &RequestForInformation,
        current: Option<&Stored<RequestForInformation>>,
        operation: &str,
    ) -> Result<Option<String>, StoreError> {
        let etag = new_etag();
        let mut p = Placeholders::default();
        let cond = match current {
            Some(c) => format!("{} = {}", p.path(ETAG), p.value(AttributeValue::S(c.etag.clone()))),
            None => format!("attribute_not_exists({})", p.path(PK)),
        };
        let put = self.tx_put(item::rfi_item(rfi, &etag)?, Some(cond), &p)?;
        let scope = Scope {
            account: rfi.account_name.clone(),
            tenant: Some(rfi.tenant_id.clone()),
            ticket_id: rfi.customer_relationship.ticket_id.clone(),
            ..Default::default()
        };
        let changed = Entity::new("requestForInformation", &rfi.tenant_id, current.map(|c| &c.value), Some(rfi));
        let mut actions = vec![put];
        actions.extend(self.audit_action(operation, scope, vec![changed])?);
        Ok(self.transact(actions).await?.then_some(etag))
    }

    /// Applies a merge patch to the relationship and queues it for the backend.
    pub async fn patch_rfi(
        &self,
        tenant: &str,
        patch: &serde_json::Value,
        pre: &Precondition,
    ) -> Result<Stored<RequestForInformation>, StoreError> {
        optimistic(|| async {
            let current = self.get_rfi_item(tenant).await?.ok_or_else(|| not_found(tenant))?;
            let stored = item::rfi(&current)?;
            if !pre.allows_write(Some(&stored.etag)) {
                return Err(StoreError::PreconditionFailed);
            }
            let mut next = stored.value.clone();
            rfi::apply_patch(&mut next, patch)?;
            if next.customer_relationship != stored.value.customer_relationship {
                next.customer_relationship.last_modified_on = Some(rfc3339(now_ms()));
            }
            next.service_provisioning_status = Some(ProvisioningStatus::Pending);
            next.service_provisioning_errors.clear();
            let etag = self.put_rfi_if(&next, Some(&stored), "rfis.patch").await?;
            Ok(etag.map(|etag| Stored { value: next, etag }))
        })
        .await
    }

    /// Records which account serves a tenant. The first account stays linked while it exists
    /// and still names the tenant: returns `Some(name)` of that other account when `account` is a
    /// second one. Best effort, after the account's own write has committed: no request for
    /// information is nothing to link, and a failure is logged, not the caller's error.
    pub async fn link_rfi(&self, tenant: &str, account: &str) -> Option<String> {
        match self.try_link_rfi(tenant, account).await {
            Ok(other) => other,
            Err(e) => {
                tracing::warn!(tenant, account, error = %e, "could not link the request for information");
                None
            }
        }
    }

    async fn try_link_rfi(&self, tenant: &str, account: &str) -> Result<Option<String>, StoreError> {
        if self.set_rfi_link(tenant, Some(account), LinkIf::FreeOr(account)).await? {
            return Ok(None);
        }
        // No request for information (fine), or one linked to another account: is it still the
        // tenant's?
        let Some(rfi) = self.get_rfi_item(tenant).await? else { return Ok(None) };
        let Some(other) = item::rfi(&rfi)?.value.account_name.filter(|o| o != account) else { return Ok(None) };
        let serves = match self.get_account_item(&other).await? {
            Some(a) => item::account(&a)?.value.teams_tenant_id() == Some(tenant),
            None => false,
        };
        if serves {
            return Ok(Some(other));
        }
        // Gone, or moved to another tenant: this account serves the tenant now.
        self.set_rfi_link(tenant, Some(account), LinkIf::Is(&other)).await?;
        Ok(None)
    }

    /// Clears a tenant's link to `account` (deleted, or moved to another tenant), if it still
    /// points there. Best effort, as `link_rfi`.
    pub async fn unlink_rfi(&self, tenant: &str, account: &str) {
        if let Err(e) = self.set_rfi_link(tenant, None, LinkIf::Is(account)).await {
            tracing::warn!(tenant, account, error = %e, "could not unlink the request for information");
        }
    }

    /// Sets (or removes) a request for information's `accountName` if `cond` holds, with a new
    /// tag: a writer that read it before (a patch, the consent pull) then reads it again instead
    /// of putting the old link back. `Ok(false)`: no such request, or the condition failed.
    async fn set_rfi_link(&self, tenant: &str, to: Option<&str>, cond: LinkIf<'_>) -> Result<bool, StoreError> {
        let mut p = Placeholders::default();
        let link = p.path(&format!("{DOC}.accountName"));
        let tag = format!("{} = {}", p.path(ETAG), p.value(AttributeValue::S(new_etag())));
        let update = match to {
            Some(a) => format!("SET {link} = {}, {tag}", p.value(AttributeValue::S(a.into()))),
            None => format!("SET {tag} REMOVE {link}"),
        };
        let exists = format!("attribute_exists({})", p.path(PK));
        let cond = match cond {
            LinkIf::FreeOr(a) => {
                format!(
                    "{exists} AND (attribute_not_exists({link}) OR {link} = {})",
                    p.value(AttributeValue::S(a.into()))
                )
            }
            LinkIf::Is(a) => format!("{exists} AND {link} = {}", p.value(AttributeValue::S(a.into()))),
        };
        self.update_if(keys::rfi(tenant), update, cond, &p).await
    }
}

/// When `set_rfi_link` may change the link.
enum LinkIf<'a> {
    /// No account is linked, or this one is.
    FreeOr(&'a str),
    /// This account is linked.
    Is(&'a str),
}
