//! Numbers written before the all-numbers index was sharded carry `GSI2PK = NUMS`; this moves them
//! to their shard. The sync does it at the start of each run, so a deployment (or a local
//! database) upgrades itself; once none is left it costs one empty Query.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::expr::Placeholders;
use crate::keys::{self, GSI2, GSI2PK, GSI2SK, PK, SK};
use crate::{item, Repository, StoreError};

impl Repository {
    /// Moves up to `max` numbers from the unsharded index partition to their shards; returns how many.
    pub async fn reshard_numbers(&self, max: usize) -> Result<usize, StoreError> {
        let legacy = AttributeValue::S(keys::LEGACY_NUMBERS_PARTITION.into());
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(GSI2)
            .key_condition_expression("#pk = :legacy")
            .expression_attribute_names("#pk", GSI2PK)
            .expression_attribute_values(":legacy", legacy.clone())
            .limit(max.clamp(1, 1000) as i32)
            .send()
            .await
            .map_err(StoreError::backend)?;
        let mut moved = 0;
        for found in out.items.unwrap_or_default() {
            let (Some(pk), Some(sk), Some(tn)) =
                (item::string(&found, PK), item::string(&found, SK), item::string(&found, GSI2SK))
            else {
                continue;
            };
            let key = [(PK.to_string(), AttributeValue::S(pk)), (SK.to_string(), AttributeValue::S(sk))].into();
            let mut p = Placeholders::default();
            let shard = keys::numbers_shard_pk(keys::number_shard(&tn));
            let update = format!("SET {} = {}", p.path(GSI2PK), p.value(AttributeValue::S(shard)));
            // Only if still unsharded: a write meanwhile has set the shard itself.
            let cond = format!("{} = {}", p.path(GSI2PK), p.value(legacy.clone()));
            if self.update_if(key, update, cond, &p).await? {
                moved += 1;
            }
        }
        Ok(moved)
    }
}
