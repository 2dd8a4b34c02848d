//! What the sync's planner and workers read and write to split the work per tenant: the work
//! leases, one unit's pending numbers and releases, the units that have any, and each tenant's
//! sync status (its last run and last reconciliation).

use serde::{Deserialize, Serialize};

use switchboard_domain::{Number, ProvisioningStatus};

use crate::batch;
use crate::error::StoreError;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::expr::Placeholders;
use crate::keys::{self, Queue, GSI1PK, GSI1SK, GSI3SK, PK, SK};
use crate::paging::{token_after, Listing, PageRequest};
use crate::syncstate::{OpenOrder, PendingRelease};
use crate::{item, now_ms, Repository, Stored};

/// The pending-queue cursor just past an account's numbers: where a scan that has given that
/// account goes on.
pub fn pending_cursor_past(account: &str) -> String {
    format!("{}\u{10ffff}", Queue::account_numbers_prefix(account))
}

/// What the planner keeps between plans (only the planner holding the lease writes it).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PlannerState {
    /// Its last complete consent pull (0: none yet), and how many consents it listed.
    #[serde(default)]
    pub consents_at_ms: u64,
    #[serde(default)]
    pub consents: usize,
    /// Where its next look for accounts with pending numbers starts (a queue cursor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_after: Option<String>,
}

/// A tenant's sync status, written by the worker that last worked it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TenantSync {
    pub tenant_id: String,
    /// When a worker last finished a run on this tenant, and how it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<String>,
    /// When its numbers and addresses were last compared with the backend's, completely.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reconciled_ms: Option<u64>,
    /// When its last reconciliation was tried (one that failed waits its turn again from then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reconcile_attempt_ms: Option<u64>,
    /// When the comparison cycle in progress started (with `reconcile_after`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cycle_started_ms: Option<u64>,
    /// Since when `reconcile_soon` has been asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soon_since_ms: Option<u64>,
    /// Where its comparison of numbers with the backend's stopped (the last number compared),
    /// to carry on from there: a large tenant takes more than one run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconcile_after: Option<String>,
    /// Pushes or errors since then: its reconciliation is brought forward.
    #[serde(default)]
    pub reconcile_soon: bool,
    /// The last run's errors (the backend's, not personal data).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub last_errors: Vec<String>,
}

/// On a work lease: a job that found the unit held asks its holder to push, for these accounts
/// (see `ask_holder_to_push`). Taking the lease (a put) clears them.
const PUSH_ASKED: &str = "pushAsked";
const PUSH_ACCOUNTS: &str = "pushAccounts";

/// How many distinct units a skip-scan reads per page.
const SKIP_PAGE: usize = 100;

impl Repository {
    /// Takes the lease on one unit of sync work (a tenant) if it is free, expired or already ours.
    pub async fn acquire_work_lease(&self, unit: &str, owner: &str, ttl_secs: u64) -> Result<bool, StoreError> {
        self.take_lease(keys::work_lease(unit), owner, ttl_secs).await
    }

    pub async fn release_work_lease(&self, unit: &str, owner: &str) -> Result<(), StoreError> {
        self.give_back_lease(keys::work_lease(unit), owner).await
    }

    /// Asks the worker that holds `unit` (not `asker`) to push the changes of `accounts` (the
    /// asking job's, which the holder may not know yet) at its next step, instead of leaving
    /// them to the next plan. `Ok(false)`: no other worker holds it now (the asker may take it).
    pub async fn ask_holder_to_push(&self, unit: &str, asker: &str, accounts: &[String]) -> Result<bool, StoreError> {
        let mut p = Placeholders::default();
        let mut update = format!("SET {} = {}", p.path(PUSH_ASKED), p.value(AttributeValue::Bool(true)));
        if !accounts.is_empty() {
            update += &format!(" ADD {} {}", p.path(PUSH_ACCOUNTS), p.value(AttributeValue::Ss(accounts.to_vec())));
        }
        // Missing (released), expired or ours: the condition fails, nothing is written.
        let cond = format!(
            "{} <> {} AND {} >= {}",
            p.path("owner"),
            p.value(AttributeValue::S(asker.into())),
            p.path("leaseUntil"),
            p.value(AttributeValue::N((now_ms() / 1000).to_string()))
        );
        self.update_if(keys::work_lease(unit), update, cond, &p).await
    }

    /// The accounts whose push was asked of `owner`, the holder of `unit`'s lease, since it last
    /// looked (`None`: no request). A consistent read; a request found is cleared.
    pub async fn take_push_request(&self, unit: &str, owner: &str) -> Result<Option<Vec<String>>, StoreError> {
        let key = keys::work_lease(unit);
        let Some(lease) = self.get_item(key.clone()).await? else { return Ok(None) };
        let asked = matches!(lease.get(PUSH_ASKED), Some(AttributeValue::Bool(true)));
        if !asked || item::string(&lease, "owner").as_deref() != Some(owner) {
            return Ok(None);
        }
        let accounts = match lease.get(PUSH_ACCOUNTS) {
            Some(AttributeValue::Ss(names)) => names.clone(),
            _ => vec![],
        };
        let mut p = Placeholders::default();
        let update = format!("REMOVE {}, {}", p.path(PUSH_ASKED), p.path(PUSH_ACCOUNTS));
        let cond = format!("{} = {}", p.path("owner"), p.value(AttributeValue::S(owner.into())));
        Ok(self.update_if(key, update, cond, &p).await?.then_some(accounts))
    }

    /// Up to `limit` pending numbers of one account, in number order.
    pub async fn pending_numbers_of(&self, account: &str, limit: usize) -> Result<Vec<Stored<Number>>, StoreError> {
        let listing = Listing::Pending(Queue::account_numbers_prefix(account));
        let page = self.query_page(&listing, &PageRequest { page_size: limit, ..Default::default() }).await?;
        let keys =
            page.items.into_iter().map(|i| i.into_iter().filter(|(k, _)| k == PK || k == SK).collect()).collect();
        let items = batch::get_all(self.client(), self.table(), keys).await?;
        let mut numbers: Vec<Stored<Number>> = items.iter().map(item::number).collect::<Result<_, _>>()?;
        numbers.retain(|n| n.value.service_provisioning_status == Some(ProvisioningStatus::Pending));
        numbers.sort_by(|a, b| a.value.telephone_number.cmp(&b.value.telephone_number));
        Ok(numbers)
    }

    /// Up to `limit` accounts with pending numbers, in name order from the cursor `after` (a
    /// queue sort key, see `pending_cursor_past`; `None`: from the first), going round to the
    /// first when the end comes first. It reads one queue entry per account, then skips past the
    /// rest of that account's, so a big account costs no more than a small one. The planner
    /// keeps the cursor, so that each plan reads only as many accounts as it can send, and all
    /// of them get their turn.
    pub async fn accounts_with_pending_numbers(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let prefix = Queue::Numbers.prefix();
        let listing = Listing::Pending(prefix.into());
        let unit_of = |sk: &str| {
            let rest = sk.strip_prefix(prefix)?;
            // `N#<account>#<e164>`: an account name may hold `#`, the number never does.
            rest.rsplit_once('#').map(|(account, _)| account.to_string())
        };
        let mut accounts = self.distinct_units(&listing, GSI3SK, after, limit, unit_of, pending_cursor_past).await?;
        if accounts.len() < limit && after.is_some() {
            let more = self.distinct_units(&listing, GSI3SK, None, limit, unit_of, pending_cursor_past).await?;
            for a in more {
                if accounts.len() == limit || accounts.contains(&a) {
                    break;
                }
                accounts.push(a);
            }
        }
        Ok(accounts)
    }

    /// Up to `limit` tenants that have releases to send.
    pub async fn tenants_with_releases(&self, limit: usize) -> Result<Vec<String>, StoreError> {
        self.distinct_units(
            &Listing::Releases,
            SK,
            None,
            limit,
            |sk| sk.rsplit_once('#').map(|(tenant, _)| tenant.to_string()),
            |tenant| format!("{}\u{10ffff}", keys::releases_prefix(tenant)),
        )
        .await
    }

    /// The distinct units (`unit_of` a sort key) of a listing, after the sort key `from` if
    /// given, skipping past each unit's entries (`past` a unit is a sort key after all of them).
    async fn distinct_units(
        &self,
        listing: &Listing,
        sk_attr: &str,
        from: Option<&str>,
        limit: usize,
        unit_of: impl Fn(&str) -> Option<String>,
        past: impl Fn(&str) -> String,
    ) -> Result<Vec<String>, StoreError> {
        let mut units: Vec<String> = Vec::new();
        let mut start = from.and_then(|f| token_after(listing, f));
        let mut after = from.unwrap_or_default().to_string();
        while units.len() < limit {
            let req = PageRequest { page_size: SKIP_PAGE, start: start.take(), ..Default::default() };
            let page = self.query_page(listing, &req).await?;
            let mut last_sk = None;
            for sk in page.items.iter().filter_map(|i| item::string(i, sk_attr)) {
                if let Some(unit) = unit_of(&sk) {
                    if units.last() != Some(&unit) && units.len() < limit {
                        units.push(unit);
                    }
                }
                last_sk = Some(sk);
            }
            let (Some(_), Some(last_sk)) = (page.next, last_sk) else { break };
            // The last unit may go on in the next page (a big account fills pages): skip past
            // it. Always move forward, past entries that name no unit too.
            let next = units.last().map(|u| past(u)).filter(|p| *p > last_sk).unwrap_or(last_sk);
            if next <= after {
                break;
            }
            start = token_after(listing, &next);
            if start.is_none() {
                break;
            }
            after = next;
        }
        Ok(units)
    }

    /// Up to `limit` numbers of an account after the number `after` and up to `upto` (both
    /// optional), in number order: the account's side of one page of a tenant's comparison.
    pub async fn account_numbers_in(
        &self,
        account: &str,
        after: Option<&str>,
        upto: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Stored<Number>>, StoreError> {
        let mut p = Placeholders::default();
        // Every number starts with '+': the range from just past `after` to `upto`, inclusive.
        let from = after.map_or_else(|| "+".to_string(), |a| format!("{a}\u{0}"));
        let to = upto.map_or_else(|| "+\u{10ffff}".to_string(), str::to_string);
        if from > to {
            return Ok(vec![]);
        }
        let cond = format!(
            "{} = {} AND {} BETWEEN {} AND {}",
            p.path(GSI1PK),
            p.value(AttributeValue::S(keys::account_pk(account))),
            p.path(GSI1SK),
            p.value(AttributeValue::S(from)),
            p.value(AttributeValue::S(to))
        );
        let mut out = Vec::new();
        let mut start = None;
        while out.len() < limit {
            let page = self
                .client()
                .query()
                .table_name(self.table())
                .index_name(keys::GSI1)
                .key_condition_expression(&cond)
                .set_expression_attribute_names(p.names_opt())
                .set_expression_attribute_values(p.values_opt())
                .set_exclusive_start_key(start.take())
                .limit((limit - out.len()).min(1000) as i32)
                .send()
                .await
                .map_err(StoreError::backend)?;
            for i in page.items.unwrap_or_default() {
                out.push(item::number(&i)?);
            }
            match page.last_evaluated_key {
                Some(k) => start = Some(k),
                None => break,
            }
        }
        Ok(out)
    }

    /// One tenant's releases still to send.
    pub async fn pending_releases_of(&self, tenant: &str) -> Result<Vec<PendingRelease>, StoreError> {
        self.all_items(&Listing::TenantReleases(tenant.into())).await?.iter().map(item::record).collect()
    }

    /// One tenant's open orders.
    pub async fn open_orders_of(&self, tenant: &str) -> Result<Vec<OpenOrder>, StoreError> {
        self.all_items(&Listing::TenantOrders(tenant.into())).await?.iter().map(item::record).collect()
    }

    /// Up to `limit` tenants that have open orders.
    pub async fn tenants_with_open_orders(&self, limit: usize) -> Result<Vec<String>, StoreError> {
        self.distinct_units(
            &Listing::Orders,
            SK,
            None,
            limit,
            |sk| sk.split_once('#').map(|(tenant, _)| tenant.to_string()),
            |tenant| format!("{}\u{10ffff}", keys::orders_prefix(tenant)),
        )
        .await
    }

    pub async fn tenant_sync(&self, tenant: &str) -> Result<Option<TenantSync>, StoreError> {
        self.get_item(keys::tenant_sync(tenant)).await?.map(|i| item::record(&i)).transpose()
    }

    /// Written only by the worker holding the tenant's lease.
    pub async fn put_tenant_sync(&self, status: &TenantSync) -> Result<(), StoreError> {
        let mut item = item::record_item(keys::tenant_sync(&status.tenant_id), status)?;
        item.extend(keys::tenant_sync_index(&status.tenant_id));
        self.put_plain(item).await
    }

    pub async fn planner_state(&self) -> Result<PlannerState, StoreError> {
        Ok(self.get_item(keys::planner_state()).await?.map(|i| item::record(&i)).transpose()?.unwrap_or_default())
    }

    pub async fn set_planner_state(&self, state: &PlannerState) -> Result<(), StoreError> {
        self.put_plain(item::record_item(keys::planner_state(), state)?).await
    }

    /// Every tenant's sync status, by tenant (the planner reads them all: one small item each).
    pub async fn all_tenant_syncs(&self) -> Result<Vec<TenantSync>, StoreError> {
        self.all_items(&Listing::SyncTenants).await?.iter().map(item::record).collect()
    }

    pub async fn list_tenant_syncs(&self, req: &PageRequest) -> Result<crate::Page<TenantSync>, StoreError> {
        self.query_page(&Listing::SyncTenants, req).await?.map(|i| item::record(&i))
    }
}
