//! The DynamoDB repository. One table holds every entity; `keys` is the one place keys are
//! built, and the access patterns are listed there next to the key design.

pub mod batch;
mod budget;
pub mod config;
pub mod error;
pub mod expr;
pub mod item;
pub mod keys;
pub mod paging;

mod accounts;
mod audit;
mod civic;
mod imports;
mod journal;
mod numbers;
mod repeatability;
mod reshard;
mod retry;
mod rfis;
mod syncstate;
mod tx;
mod work;

pub use accounts::AccountPut;
pub use audit::AuditQuery;
pub use budget::TableBudget;
pub use civic::AddressChanges;
pub use config::{aws_config_from_env, client_from_env, table_name_from_env};
pub use error::{Missing, StoreError};
pub use imports::{ImportOutcome, IMPORT_LEASE};
pub use paging::{AuditScope, Listing, Page, PageRequest};
pub use repeatability::{Claim, StoredResponse, REPEATABILITY_WINDOW_SECS};
pub use syncstate::*;
pub use work::{pending_cursor_past, PlannerState, TenantSync};

use aws_sdk_dynamodb::Client;
use switchboard_domain::audit::AuditContext;

/// An entity with its entity tag.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored<T> {
    pub value: T,
    pub etag: String,
}

/// What a conditional request asked for (`If-Match` / `If-None-Match`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Precondition {
    #[default]
    None,
    IfMatch(String),
    IfNoneMatch(String),
}

impl Precondition {
    /// Whether a write may go ahead given the current entity tag (`None`: no entity).
    pub fn allows_write(&self, current: Option<&str>) -> bool {
        match self {
            Precondition::None => true,
            Precondition::IfMatch(want) => current.is_some_and(|c| want == "*" || want == c),
            Precondition::IfNoneMatch(want) => match current {
                None => true,
                Some(c) => want != "*" && want != c,
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Created,
    Replaced,
}

/// The repository over one DynamoDB table. Cheap to clone (the SDK client is shared).
#[derive(Clone, Debug)]
pub struct Repository {
    client: Client,
    table: String,
    /// Who the writes of this handle are made for; every write records it in the audit trail.
    audit: std::sync::Arc<AuditContext>,
    /// How long audit events are kept (TTL).
    audit_retention_days: u64,
}

impl Repository {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        let audit_retention_days =
            std::env::var("AUDIT_RETENTION_DAYS").ok().and_then(|d| d.parse().ok()).unwrap_or(365);
        Self {
            client,
            table: table.into(),
            audit: std::sync::Arc::new(AuditContext::system("switchboard", None)),
            audit_retention_days,
        }
    }

    /// The same repository, writing on behalf of `ctx` (one request, or one sync run).
    pub fn acting(&self, ctx: AuditContext) -> Self {
        Self { audit: std::sync::Arc::new(ctx), ..self.clone() }
    }

    /// On whose behalf this repository writes.
    pub fn audit_context(&self) -> &AuditContext {
        &self.audit
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Puts `item` if `cond` holds. `Ok(false)`: the condition failed.
    pub(crate) async fn put_if(
        &self,
        item: batch::Item,
        cond: String,
        p: &expr::Placeholders,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(cond)
            .set_expression_attribute_names(p.names_opt())
            .set_expression_attribute_values(p.values_opt())
            .send()
            .await;
        error::conditional(result)
    }

    /// Applies `update` to the item at `key` if `cond` holds. `Ok(false)`: the condition failed.
    pub(crate) async fn update_if(
        &self,
        key: keys::Key,
        update: String,
        cond: String,
        p: &expr::Placeholders,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(update)
            .condition_expression(cond)
            .set_expression_attribute_names(p.names_opt())
            .set_expression_attribute_values(p.values_opt())
            .send()
            .await;
        error::conditional(result)
    }

    /// Deletes the item at `key` if `cond` holds. `Ok(false)`: the condition failed.
    pub(crate) async fn delete_if(
        &self,
        key: keys::Key,
        cond: String,
        p: &expr::Placeholders,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression(cond)
            .set_expression_attribute_names(p.names_opt())
            .set_expression_attribute_values(p.values_opt())
            .send()
            .await;
        error::conditional(result)
    }

    /// A strongly consistent GetItem.
    pub(crate) async fn get_item(&self, key: keys::Key) -> Result<Option<batch::Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::backend)?;
        Ok(out.item)
    }
}

/// A fresh entity tag: random, so a deleted-and-recreated entity never matches an old tag.
pub(crate) fn new_etag() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
