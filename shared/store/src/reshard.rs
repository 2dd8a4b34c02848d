//! Items indexed before the all-numbers index and the pending queue were sharded carry
//! `GSI2PK = NUMS` or `GSI3PK = PENDING`; this moves them to their shard. The sync does it at the
//! start of each run, so a deployment (or a local database) upgrades itself; once none is left it
//! costs two empty Queries.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::expr::Placeholders;
use crate::keys::{self, GSI2, GSI2PK, GSI2SK, GSI3, GSI3PK, GSI3SK, PK, SK};
use crate::{item, Repository, StoreError};

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
}
