//! What the sync keeps between and during runs: the lease, open backend orders, releases still
//! to send, run reports, the queue of pending items, and the results it writes back.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use switchboard_domain::number::AssignmentStatus;
use switchboard_domain::{Account, ErrorDetail, Number, ProvisioningStatus};

use crate::audit::{Entity, Scope};
use crate::batch::{self, Item};
use crate::error::StoreError;
use crate::expr::Placeholders;
use crate::keys::{self, Queue, DOC, ETAG, GSI3PK, GSI3SK, PK};
use crate::paging::{Listing, Page, PageRequest};
use crate::{item, new_etag, Repository, Stored};

/// Transactions in flight at once when the sync writes results back.
const WRITE_CONCURRENCY: usize = 16;

/// A number before and after a sync result, and the tag it must still have.
type Replacement = (Number, Number, String);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderedNumber {
    pub telephone_number: String,
    /// The number's entity tag when it was sent; a result only lands if it is still this.
    pub etag: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenOrder {
    pub id: String,
    /// `upload` | `release`
    pub kind: String,
    pub tenant_id: String,
    pub account_name: String,
    pub numbers: Vec<OrderedNumber>,
    pub created_ms: u64,
}

pub use switchboard_domain::holding::PendingRelease;

/// What the sync learned about one number.
#[derive(Debug, Clone)]
pub struct NumberResult {
    pub telephone_number: String,
    /// Only land if the number still has this tag (`None`: whatever it has now).
    pub expected_etag: Option<String>,
    /// `None` clears the status (the number is not synced at all).
    pub status: Option<ProvisioningStatus>,
    pub errors: Vec<ErrorDetail>,
    /// What the backend reports of the number, mirrored onto its Teams configuration.
    pub mirror: Option<Mirror>,
}

#[derive(Debug, Clone, Default)]
pub struct Mirror {
    pub assignment_status: Option<AssignmentStatus>,
    pub acquired_capabilities: Vec<String>,
    pub available_capabilities: Vec<String>,
}

pub use crate::retry::now_ms;

/// Number results one transaction lands: conditional puts plus the run's audit event.
const RESULTS_PER_TX: usize = crate::tx::MAX_ACTIONS - 2;

/// A release tombstone written by a journaled delete names the write, so its roll-back removes
/// only its own tombstone.
pub(crate) const RELEASED_BY: &str = "releasedBy";

impl Repository {
    /// Takes the sync lease (one planner at a time) if it is free, expired or already ours.
    pub async fn acquire_lease(&self, owner: &str, ttl_secs: u64) -> Result<bool, StoreError> {
        self.take_lease(keys::lease(), owner, ttl_secs).await
    }

    pub async fn release_lease(&self, owner: &str) -> Result<(), StoreError> {
        self.give_back_lease(keys::lease(), owner).await
    }

    pub(crate) async fn take_lease(&self, key: keys::Key, owner: &str, ttl_secs: u64) -> Result<bool, StoreError> {
        let now = now_ms() / 1000;
        let mut item = key;
        item.insert("owner".into(), AttributeValue::S(owner.into()));
        item.insert("leaseUntil".into(), AttributeValue::N((now + ttl_secs).to_string()));
        let mut p = Placeholders::default();
        let cond = format!(
            "attribute_not_exists({}) OR {} < {} OR {} = {}",
            p.path(PK),
            p.path("leaseUntil"),
            p.value(AttributeValue::N(now.to_string())),
            p.path("owner"),
            p.value(AttributeValue::S(owner.into()))
        );
        self.put_if(item, cond, &p).await
    }

    pub(crate) async fn give_back_lease(&self, key: keys::Key, owner: &str) -> Result<(), StoreError> {
        let mut p = Placeholders::default();
        let cond = format!("{} = {}", p.path("owner"), p.value(AttributeValue::S(owner.into())));
        // Already taken over by another run: nothing of ours to release.
        self.delete_if(key, cond, &p).await.map(|_| ())
    }

    /// Puts `item` unconditionally.
    pub(crate) async fn put_plain(&self, item: Item) -> Result<(), StoreError> {
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .send()
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    pub(crate) async fn delete_plain(&self, key: Item) -> Result<(), StoreError> {
        self.client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key))
            .send()
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    /// Every item of a listing (for the sync's own bounded queues).
    pub async fn all_items(&self, listing: &Listing) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self.query_page(listing, &PageRequest { page_size: 500, start, ..Default::default() }).await?;
            out.extend(page.items);
            match page.next {
                Some(n) => start = Some(n),
                None => return Ok(out),
            }
        }
    }

    pub async fn put_order(&self, order: &OpenOrder) -> Result<(), StoreError> {
        self.put_plain(item::record_item(keys::order(&order.tenant_id, &order.id), order)?).await
    }

    pub async fn open_orders(&self) -> Result<Vec<OpenOrder>, StoreError> {
        self.all_items(&Listing::Orders).await?.iter().map(item::record).collect()
    }

    pub async fn close_order(&self, order: &OpenOrder) -> Result<(), StoreError> {
        self.delete_plain(keys::order(&order.tenant_id, &order.id)).await
    }

    /// Files orders written before they were filed by tenant (`ORDERS`/`<orderId>`) under their
    /// tenant, once: a marker item says it is done (nothing writes the old keys any more).
    pub async fn refile_orders(&self) -> Result<usize, StoreError> {
        let marker = || keys::upgrade_done("orders-by-tenant");
        if self.get_item(marker()).await?.is_some() {
            return Ok(0);
        }
        let mut moved = 0;
        for raw in self.all_items(&Listing::Orders).await? {
            let order: OpenOrder = item::record(&raw)?;
            let key = keys::order(&order.tenant_id, &order.id);
            if item::string(&raw, keys::SK) == item::string(&key, keys::SK) {
                continue;
            }
            self.put_order(&order).await?;
            self.delete_plain(raw.into_iter().filter(|(k, _)| k == PK || k == keys::SK).collect()).await?;
            moved += 1;
        }
        self.put_plain(marker()).await?;
        Ok(moved)
    }

    pub async fn pending_releases(&self) -> Result<Vec<PendingRelease>, StoreError> {
        self.all_items(&Listing::Releases).await?.iter().map(item::record).collect()
    }

    pub async fn release_sent(&self, r: &PendingRelease) -> Result<(), StoreError> {
        self.delete_plain(keys::release(&r.tenant_id, &r.telephone_number)).await
    }

    /// Stores a run report (kept for `ttl_days`).
    pub async fn put_sync_run<T: Serialize>(
        &self,
        started_ms: u64,
        id: &str,
        report: &T,
        ttl_days: u64,
    ) -> Result<(), StoreError> {
        let mut item = item::record_item(keys::sync_run(started_ms, id), report)?;
        item.insert(keys::EXPIRES_AT.into(), AttributeValue::N((started_ms / 1000 + ttl_days * 86_400).to_string()));
        self.put_plain(item).await
    }

    pub async fn list_sync_runs(&self, req: &PageRequest) -> Result<Page<serde_json::Value>, StoreError> {
        self.query_page(&Listing::SyncRuns, req).await?.map(|i| item::record(&i))
    }

    /// The keys of up to `limit` pending items of one kind, oldest queue position first.
    async fn pending_keys(&self, queue: Queue, limit: usize) -> Result<Vec<Item>, StoreError> {
        let page = self
            .query_page(
                &Listing::Pending(queue.prefix().into()),
                &PageRequest { page_size: limit, ..Default::default() },
            )
            .await?;
        Ok(page.items.into_iter().map(|i| i.into_iter().filter(|(k, _)| k == PK || k == keys::SK).collect()).collect())
    }

    pub async fn pending_numbers(&self, limit: usize) -> Result<Vec<Stored<Number>>, StoreError> {
        let keys = self.pending_keys(Queue::Numbers, limit).await?;
        let items = batch::get_all(self.client(), self.table(), keys).await?;
        let mut numbers: Vec<Stored<Number>> = items.iter().map(item::number).collect::<Result<_, _>>()?;
        numbers.retain(|n| n.value.service_provisioning_status == Some(ProvisioningStatus::Pending));
        numbers.sort_by(|a, b| a.value.telephone_number.cmp(&b.value.telephone_number));
        Ok(numbers)
    }

    pub async fn pending_accounts(&self, limit: usize) -> Result<Vec<String>, StoreError> {
        let keys = self.pending_keys(Queue::Accounts, limit).await?;
        Ok(keys
            .iter()
            .filter_map(|k| item::string(k, PK))
            .filter_map(|pk| pk.strip_prefix("ACCT#").map(str::to_string))
            .collect())
    }

    pub async fn pending_rfis(&self, limit: usize) -> Result<Vec<String>, StoreError> {
        let keys = self.pending_keys(Queue::Rfis, limit).await?;
        Ok(keys
            .iter()
            .filter_map(|k| item::string(k, PK))
            .filter_map(|pk| pk.strip_prefix("RFI#").map(str::to_string))
            .collect())
    }

    /// Every account (the sync walks them all; accounts are few next to numbers).
    pub async fn all_accounts(&self) -> Result<Vec<Stored<Account>>, StoreError> {
        self.all_items(&Listing::Accounts).await?.iter().map(item::account).collect()
    }

    /// Every number of an account.
    pub async fn account_numbers(&self, account: &str) -> Result<Vec<Stored<Number>>, StoreError> {
        self.all_items(&Listing::AccountNumbers(account.to_string())).await?.iter().map(item::number).collect()
    }

    /// Writes sync results onto numbers. A result whose number changed since it was read (other
    /// tag) is skipped: the newer change is still pending and goes next run. Returns how many landed.
    pub async fn apply_number_results(&self, results: Vec<NumberResult>) -> Result<usize, StoreError> {
        let mut landed = 0;
        for chunk in results.chunks(batch::GET_LIMIT) {
            let keys = chunk.iter().map(|r| keys::number(&r.telephone_number)).collect();
            let current: std::collections::HashMap<String, Item> = batch::get_all(self.client(), self.table(), keys)
                .await?
                .into_iter()
                .filter_map(|i| item::number(&i).ok().map(|n| (n.value.telephone_number, i)))
                .collect();
            let writes = chunk.iter().filter_map(|r| {
                let item = current.get(&r.telephone_number)?;
                let etag = item::etag(item)?;
                if r.expected_etag.as_ref().is_some_and(|e| *e != etag) {
                    return None;
                }
                let before = item::number(item).ok()?.value;
                let mut n = before.clone();
                n.service_provisioning_status = r.status;
                n.service_provisioning_errors = r.errors.clone();
                if let Some(m) = &r.mirror {
                    let sd = &mut n.service_details;
                    for svc in [&mut sd.teams_operator_connect, &mut sd.teams_phone_mobile]
                        .into_iter()
                        .flatten()
                        .filter(|s| s.enabled)
                    {
                        svc.assignment_status = m.assignment_status.or(svc.assignment_status);
                        let cfg = svc.configuration.get_or_insert_with(Default::default);
                        cfg.acquired_capabilities = m.acquired_capabilities.clone();
                        cfg.available_capabilities = m.available_capabilities.clone();
                    }
                }
                Some((before, n, etag))
            });
            // One transaction (and one audit event) per account's share of the chunk.
            let mut by_account: BTreeMap<String, Vec<Replacement>> = BTreeMap::new();
            for w in writes {
                by_account.entry(w.1.account_name.clone()).or_default().push(w);
            }
            let groups = by_account
                .into_values()
                .flat_map(|g| g.chunks(RESULTS_PER_TX).map(<[Replacement]>::to_vec).collect::<Vec<_>>());
            let outcomes: Vec<Result<usize, StoreError>> = stream::iter(groups)
                .map(|group| async move { self.replace_numbers_if(group).await })
                .buffer_unordered(WRITE_CONCURRENCY)
                .collect()
                .await;
            for o in outcomes {
                landed += o?;
            }
        }
        Ok(landed)
    }

    /// Replaces one account's numbers whose tags are still as read, in one transaction. If any
    /// changed meanwhile the transaction is cancelled whole; then each goes alone, so only the
    /// changed ones are skipped. Returns how many landed.
    async fn replace_numbers_if(&self, group: Vec<Replacement>) -> Result<usize, StoreError> {
        if group.len() > 1 && self.transact(self.replacements(&group)?).await? {
            return Ok(group.len());
        }
        let mut landed = 0;
        for one in group.chunks(1) {
            if self.transact(self.replacements(one)?).await? {
                landed += 1;
            }
        }
        Ok(landed)
    }

    /// Conditional puts of `group` (counters unchanged: same services) and their audit event.
    fn replacements(&self, group: &[Replacement]) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut actions = Vec::with_capacity(group.len() + 1);
        let mut changed = Vec::with_capacity(group.len());
        for (before, n, expected) in group {
            let mut p = Placeholders::default();
            let cond = format!("{} = {}", p.path(ETAG), p.value(AttributeValue::S(expected.clone())));
            actions.push(self.tx_put(item::number_item(n, &new_etag())?, Some(cond), &p)?);
            changed.push(Entity::new("number", &n.telephone_number, Some(before), Some(n)));
        }
        if let Some((_, n, _)) = group.first() {
            actions.extend(self.audit_action("sync.numberResult", Scope::account(&n.account_name), changed)?);
        }
        Ok(actions)
    }

    /// Sets an account's sync status (and takes it out of the queue) if its tag is still `expected`.
    pub async fn set_account_sync(
        &self,
        name: &str,
        expected: &str,
        status: Option<ProvisioningStatus>,
        errors: &[ErrorDetail],
    ) -> Result<bool, StoreError> {
        let current = match self.get_account_item(name).await? {
            Some(i) if item::etag(&i).as_deref() == Some(expected) => i,
            _ => return Ok(false),
        };
        let before = item::account(&current)?.value;
        let mut account = before.clone();
        account.clear_read_only();
        account.service_provisioning_status = status;
        account.service_provisioning_errors = errors.to_vec();
        // As the API shows it (with its counts), so the event names only the status change.
        let mut shown = account.clone();
        shown.set_counts(&item::counts(&current));
        let changed = Entity::new("account", name, Some(&before), Some(&shown));
        let mut p = Placeholders::default();
        let update = format!(
            "SET {} = {}, {} = {} REMOVE {}, {}",
            p.path(DOC),
            p.value(item::to_doc(&account)?),
            p.path(ETAG),
            p.value(AttributeValue::S(new_etag())),
            p.path(GSI3PK),
            p.path(GSI3SK)
        );
        let cond = format!("{} = {}", p.path(ETAG), p.value(AttributeValue::S(expected.into())));
        let mut actions = vec![self.tx_update(keys::account(name), update, Some(cond), &p)?];
        actions.extend(self.audit_action("sync.accountStatus", Scope::account(name), vec![changed])?);
        self.transact(actions).await
    }
}

impl Repository {
    /// A release tombstone as a transaction action: written with the number's delete so a synced
    /// number deleted here is released upstream even if the process stops right after.
    pub(crate) fn release_put(
        &self,
        r: &PendingRelease,
        by: Option<&str>,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        let mut item = item::record_item(keys::release(&r.tenant_id, &r.telephone_number), r)?;
        if let Some(id) = by {
            item.insert(RELEASED_BY.into(), aws_sdk_dynamodb::types::AttributeValue::S(id.to_string()));
        }
        self.tx_put(item, None, &Placeholders::default())
    }
}
