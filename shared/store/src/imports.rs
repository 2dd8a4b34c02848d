//! CSV imports: up to 10,000 numbers of one account, written completely or not at all.
//!
//! An import is a journaled write (`journal`) whose head is the account's one import slot
//! (`IMPORT#<account>`/`I`), so one account has at most one import at a time. Rows the account
//! can't hold reject the whole file before anything is written.

use serde::Serialize;
use std::time::Duration;

use switchboard_domain::number_csv::{Row, MAX_REPORTED};
use switchboard_domain::{DomainError, FieldError, Number};

use crate::error::StoreError;
use crate::journal::{is_stale, Change, Journal, PUTS_PER_TX};
use crate::keys;
use crate::retry::optimistic;
use crate::{item, Repository};

/// How long an import may run before others may take it for dead: the longest a Lambda runs.
pub const IMPORT_LEASE: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportOutcome {
    pub import_id: String,
    pub imported: usize,
    pub created: usize,
    pub updated: usize,
}

impl Repository {
    /// Imports checked rows (see `number_csv::parse`) into `account`. Rows the account can't hold
    /// (a service it hasn't enabled, a number another account owns) reject the whole file.
    pub async fn import_numbers(&self, account: &str, rows: Vec<Row>) -> Result<ImportOutcome, StoreError> {
        let owner = self.owner(account).await?;
        let tns: Vec<&str> = rows.iter().map(|r| r.number.telephone_number.as_str()).collect();
        let existing = self.existing_numbers(&tns).await?;
        let mut problems = Vec::new();
        for r in &rows {
            for svc in r.number.service_details.enabled() {
                if !owner.service_details.is_enabled(svc) {
                    problems.push(FieldError::new(
                        format!("line {}: serviceDetails_{}_enabled", r.line, svc.field()),
                        format!("account {account:?} does not have {} enabled", svc.field()),
                    ));
                }
            }
            let tn = &r.number.telephone_number;
            if let Some(other) = existing.get(tn).and_then(item::owner).filter(|o| o != account) {
                problems.push(FieldError::new(
                    format!("line {}: telephoneNumber", r.line),
                    format!("{tn} already belongs to account {other:?}"),
                ));
            }
        }
        if !problems.is_empty() {
            problems.truncate(MAX_REPORTED);
            return Err(DomainError::Invalid(problems).into());
        }

        let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
        let target = |i: usize| format!("line {}: telephoneNumber", lines.get(i).copied().unwrap_or(0));
        let journal = self.claim_import(account, rows.len()).await?;
        let numbers: Vec<Number> = rows.into_iter().map(|r| owner.prepare(r.number)).collect();
        let changes: Vec<Change> = numbers.into_iter().map(|n| Change::Put(Box::new(n))).collect();
        let mut created = 0;
        for (c, chunk) in changes.chunks(PUTS_PER_TX).enumerate() {
            let at = |i: usize| target(c * PUTS_PER_TX + i);
            match Box::pin(self.write_chunk(&owner, "numbers.import", Some((&journal, c)), chunk, &existing, &at)).await
            {
                Ok(out) => created += out.created,
                Err(e) => return Err(Box::pin(self.abandon_journal(&journal, e)).await),
            }
        }
        if let Err(e) = self.commit_journal(&journal).await {
            return Err(Box::pin(self.abandon_journal(&journal, e)).await);
        }
        let imported = changes.len();
        Ok(ImportOutcome { import_id: journal.id, imported, created, updated: imported - created })
    }

    /// Takes the account's one import slot, rolling back a dead import that held it first.
    async fn claim_import(&self, account: &str, rows: usize) -> Result<Journal, StoreError> {
        optimistic(|| async {
            let head = keys::import_head(account);
            if let Some(j) =
                self.open_journal(account, "numbers.import", head.clone(), true, IMPORT_LEASE, rows).await?
            {
                return Ok(Some(j));
            }
            let Some(live) = self.get_item(head.clone()).await? else { return Ok(None) };
            if !is_stale(&live, IMPORT_LEASE) {
                return Err(DomainError::conflict(
                    "ImportInProgress",
                    "accountName",
                    format!("account {account:?} already has an import in progress; retry when it has finished"),
                )
                .into());
            }
            let dead = item::string(&live, "importId").unwrap_or_default();
            tracing::warn!(account, import = %dead, "rolling back an import whose writer died");
            Box::pin(self.roll_back(account, &dead, &head)).await?;
            Ok(None)
        })
        .await
    }
}
