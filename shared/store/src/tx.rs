//! Transactions: the one place a `TransactWriteItem` is built, so every write path spells a put,
//! update, delete or condition check the same way (a `None` condition writes blindly), and the
//! one place one is run, so every caller reads a cancellation the same way.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem, Update};

use crate::batch::Item;
use crate::error::StoreError;
use crate::expr::Placeholders;
use crate::keys::Key;
use crate::Repository;

fn build_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("building request: {e}"))
}

/// DynamoDB's limit of actions in one `TransactWriteItems`.
pub(crate) const MAX_ACTIONS: usize = 100;

impl Repository {
    /// Runs a transaction. `Ok(true)`: committed; `Ok(false)`: a condition failed or another
    /// transaction collided, so the caller re-reads and tries again. A cancellation for
    /// throttling is [`StoreError::Throttled`]; one for a malformed item (too large, an empty
    /// key) is [`StoreError::Rejected`], since no retry can mend it.
    pub(crate) async fn transact(&self, actions: Vec<TransactWriteItem>) -> Result<bool, StoreError> {
        debug_assert!(actions.len() <= MAX_ACTIONS, "{} actions in one transaction", actions.len());
        let err = match self.client().transact_write_items().set_transact_items(Some(actions)).send().await {
            Ok(_) => return Ok(true),
            Err(err) => err,
        };
        let Some(TransactWriteItemsError::TransactionCanceledException(e)) = err.as_service_error() else {
            return Err(StoreError::backend(err));
        };
        let reasons = e.cancellation_reasons();
        let code = |want: &dyn Fn(&str) -> bool| reasons.iter().find(|r| r.code().is_some_and(want));
        if code(&|c| c.contains("Throttl") || c == "ProvisionedThroughputExceeded").is_some() {
            return Err(StoreError::Throttled);
        }
        if let Some(r) = code(&|c| c == "ValidationError") {
            return Err(StoreError::Rejected(r.message().unwrap_or("ValidationError").to_string()));
        }
        Ok(false)
    }

    pub(crate) fn tx_put(
        &self,
        item: Item,
        cond: Option<String>,
        p: &Placeholders,
    ) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(item))
            .set_condition_expression(cond)
            .set_expression_attribute_names(p.names_opt())
            .set_expression_attribute_values(p.values_opt())
            .build()
            .map_err(build_err)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    pub(crate) fn tx_update(
        &self,
        key: Key,
        update: String,
        cond: Option<String>,
        p: &Placeholders,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key))
            .update_expression(update)
            .set_condition_expression(cond)
            .set_expression_attribute_names(p.names_opt())
            .set_expression_attribute_values(p.values_opt())
            .build()
            .map_err(build_err)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    pub(crate) fn tx_delete(
        &self,
        key: Key,
        cond: Option<String>,
        p: &Placeholders,
    ) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(self.table())
            .set_key(Some(key))
            .set_condition_expression(cond)
            .set_expression_attribute_names(p.names_opt())
            .set_expression_attribute_values(p.values_opt())
            .build()
            .map_err(build_err)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    pub(crate) fn tx_check(&self, key: Key, cond: String, p: &Placeholders) -> Result<TransactWriteItem, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(self.table())
            .set_key(Some(key))
            .condition_expression(cond)
            .set_expression_attribute_names(p.names_opt())
            .set_expression_attribute_values(p.values_opt())
            .build()
            .map_err(build_err)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }
}
