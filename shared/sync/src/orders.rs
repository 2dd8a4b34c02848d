//! Open backend orders: polled until final, then their results land on the numbers.

use std::collections::HashMap;

use switchboard_backend::{NumberResultStatus, Order, OrderKind};
use switchboard_domain::ProvisioningStatus;
use switchboard_store::{NumberResult, OpenOrder, StoreError};

use crate::{err_detail, Run};

impl Run<'_> {
    /// Polls open orders once and lands the finished ones. Returns the still-open orders.
    pub(crate) async fn poll_orders(&mut self, orders: Vec<OpenOrder>) -> Result<Vec<OpenOrder>, StoreError> {
        let mut still_open = Vec::new();
        for open in orders {
            if self.out_of_time() {
                still_open.push(open);
                continue;
            }
            match self.backend.get_order(&open.id).await {
                Ok(order) if order.status.is_final() => self.land(&open, &order).await?,
                Ok(_) => still_open.push(open),
                Err(e) if e.is_not_found() => {
                    // The backend forgot it: its numbers are still pending (or tombstoned) and go again.
                    self.error(format!("order {} is unknown to the backend; its numbers will be sent again", open.id));
                    self.repo.close_order(&open).await?;
                }
                Err(e) => {
                    self.backend_error(&format!("order {}", open.id), &e);
                    still_open.push(open);
                }
            }
        }
        Ok(still_open)
    }

    pub(crate) async fn land(&mut self, open: &OpenOrder, order: &Order) -> Result<(), StoreError> {
        let etags: HashMap<&str, &str> =
            open.numbers.iter().map(|n| (n.telephone_number.as_str(), n.etag.as_str())).collect();
        match order.kind {
            OrderKind::Upload => {
                let results: Vec<NumberResult> = order
                    .numbers
                    .iter()
                    .filter(|n| n.status != NumberResultStatus::Pending)
                    .map(|n| {
                        let ok = n.status == NumberResultStatus::Succeeded;
                        NumberResult {
                            telephone_number: n.telephone_number.clone(),
                            expected_etag: etags.get(n.telephone_number.as_str()).map(|e| e.to_string()),
                            status: Some(if ok { ProvisioningStatus::Synced } else { ProvisioningStatus::Failed }),
                            errors: n.error.iter().map(|e| err_detail(&e.code, e.message.clone())).collect(),
                            mirror: None,
                        }
                    })
                    .collect();
                let synced = results.iter().filter(|r| r.status == Some(ProvisioningStatus::Synced)).count();
                self.results.numbers_synced += synced;
                self.results.numbers_failed += results.len() - synced;
                self.repo.apply_number_results(results).await?;
            }
            OrderKind::Release => {
                let releases = self.repo.pending_releases_of(&order.tenant_id).await?;
                for n in &order.numbers {
                    if n.status == NumberResultStatus::Failed {
                        let e = n.error.as_ref().map(|e| format!("{}: {}", e.code, e.message)).unwrap_or_default();
                        self.error(format!("release of {} failed: {e}", n.telephone_number));
                    }
                    if let Some(r) = releases
                        .iter()
                        .find(|r| r.telephone_number == n.telephone_number && r.tenant_id == order.tenant_id)
                    {
                        self.repo.release_sent(r).await?;
                    }
                }
            }
        }
        self.results.orders_completed += 1;
        self.repo.close_order(open).await
    }
}
