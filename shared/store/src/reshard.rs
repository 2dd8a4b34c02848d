//! Index entries an older release did not write, put right by the sync (at the start of each of
//! its runs, so a deployment, or a local database, upgrades itself):
//! - items indexed before the all-numbers index and the pending queue were sharded carry
//!   `GSI2PK = NUMS` or `GSI3PK = PENDING`; `reshard` moves them to their shard, and once none is
//!   left it costs two empty Queries;
//! - numbers that failed before failed numbers were indexed (`FAILED#<account>`) have no entry;
//!   `index_old_failures` gives them one, an account at a time, then marks the step done.

use aws_sdk_dynamodb::types::AttributeValue;

use switchboard_domain::filter::{Filter, Literal};

use crate::expr::Placeholders;
use crate::keys::{self, ETAG, GSI2, GSI2PK, GSI2SK, GSI3, GSI3PK, GSI3SK, PK, SK};
use crate::paging::{Listing, PageRequest};
use crate::{item, Repository, StoreError};

/// The upgrade step's marker: `after` is the last account done, `done` says all are.
const FAILED_INDEX_STEP: &str = "failed-index";

/// An unsharded index partition and how to name an entry's shard.
struct Legacy {
    index: &'static str,
    pk_attr: &'static str,
    sk_attr: &'static str,
    partition: &'static str,
    shard_pk: fn(u32) -> String,
}

const LEGACY: [Legacy; 2] = [
    Legacy {
        index: GSI2,
        pk_attr: GSI2PK,
        sk_attr: GSI2SK,
        partition: keys::LEGACY_NUMBERS_PARTITION,
        shard_pk: keys::numbers_shard_pk,
    },
    Legacy {
        index: GSI3,
        pk_attr: GSI3PK,
        sk_attr: GSI3SK,
        partition: keys::LEGACY_PENDING_PARTITION,
        shard_pk: keys::pending_shard_pk,
    },
];

impl Repository {
    /// Moves up to `max` entries of each unsharded partition to their shards; returns how many.
    pub async fn reshard(&self, max: usize) -> Result<usize, StoreError> {
        let mut moved = 0;
        for legacy in &LEGACY {
            moved += self.reshard_one(legacy, max).await?;
        }
        Ok(moved)
    }

    async fn reshard_one(&self, legacy: &Legacy, max: usize) -> Result<usize, StoreError> {
        let old = AttributeValue::S(legacy.partition.into());
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(legacy.index)
            .key_condition_expression("#pk = :legacy")
            .expression_attribute_names("#pk", legacy.pk_attr)
            .expression_attribute_values(":legacy", old.clone())
            .limit(max.clamp(1, 1000) as i32)
            .send()
            .await
            .map_err(StoreError::backend)?;
        let mut moved = 0;
        for found in out.items.unwrap_or_default() {
            let (Some(pk), Some(sk), Some(sort)) =
                (item::string(&found, PK), item::string(&found, SK), item::string(&found, legacy.sk_attr))
            else {
                continue;
            };
            let key = [(PK.to_string(), AttributeValue::S(pk)), (SK.to_string(), AttributeValue::S(sk))].into();
            let mut p = Placeholders::default();
            let shard = (legacy.shard_pk)(keys::shard_of(&sort));
            let update = format!("SET {} = {}", p.path(legacy.pk_attr), p.value(AttributeValue::S(shard)));
            // Only if still unsharded: a write meanwhile has set the shard itself, or taken the
            // item out of the queue.
            let cond = format!("{} = {}", p.path(legacy.pk_attr), p.value(old.clone()));
            if self.update_if(key, update, cond, &p).await? {
                moved += 1;
            }
        }
        Ok(moved)
    }

    /// Gives failed numbers written before the failed index its entry, reading at most
    /// `max_numbers` numbers (by the accounts' counts) from where the last call stopped, in
    /// account order. Returns how many it indexed. A no-op once done (one GetItem).
    pub async fn index_old_failures(&self, accounts: &[String], max_numbers: i64) -> Result<usize, StoreError> {
        let marker = keys::upgrade_done(FAILED_INDEX_STEP);
        let state = self.get_item(marker.clone()).await?;
        if state.as_ref().is_some_and(|m| m.get("done").is_some()) {
            return Ok(0);
        }
        let after = state.as_ref().and_then(|m| item::string(m, "after"));
        let mut todo: Vec<&String> = accounts.iter().filter(|a| after.as_ref().is_none_or(|x| *a > x)).collect();
        todo.sort();
        let failed = Filter::Eq("serviceProvisioningStatus".into(), Literal::Str("failed".into()));
        let (mut indexed, mut read, mut last) = (0, 0i64, None);
        for account in &todo {
            if read >= max_numbers {
                break;
            }
            read += self.get_account_item(account).await?.map_or(0, |a| item::total(&a)).max(1);
            let mut req = PageRequest { filter: Some(failed.clone()), page_size: 500, ..Default::default() };
            loop {
                let page = self.query_page(&Listing::AccountNumbers(account.to_string()), &req).await?;
                for found in &page.items {
                    indexed += usize::from(self.index_failure(found).await?);
                }
                match page.next {
                    Some(next) => req.start = Some(next),
                    None => break,
                }
            }
            last = Some(account.to_string());
        }
        let mut marker_item = marker;
        if todo.is_empty() || last.as_ref() == todo.last().map(|a| a.to_string()).as_ref() {
            marker_item.insert("done".into(), AttributeValue::Bool(true));
        } else if let Some(last) = last {
            marker_item.insert("after".into(), AttributeValue::S(last));
        } else {
            return Ok(indexed);
        }
        self.put_plain(marker_item).await?;
        Ok(indexed)
    }

    /// One failed number's index entry, if it is still the item read (a write since has set it,
    /// or the number is no longer failed).
    async fn index_failure(&self, found: &crate::batch::Item) -> Result<bool, StoreError> {
        if found.contains_key(GSI3PK) {
            return Ok(false);
        }
        let (Some(etag), Ok(n)) = (item::etag(found), item::number(found)) else { return Ok(false) };
        let n = n.value;
        let mut p = Placeholders::default();
        let sets: Vec<String> = keys::failed(&n.account_name, &n.telephone_number)
            .into_iter()
            .map(|(k, v)| format!("{} = {}", p.path(&k), p.value(v)))
            .collect();
        let update = format!("SET {}", sets.join(", "));
        let cond = format!("{} = {}", p.path(ETAG), p.value(AttributeValue::S(etag)));
        self.update_if(keys::number(&n.telephone_number), update, cond, &p).await
    }
}
