//! `GET /auditEvents`: the audit trail, newest first, by `accountName`, `telephoneNumber`,
//! `actor` (`appId/subject` or subject) and a `from`/`to` time range (RFC 3339), paged.

use lambda_http::Request;

use switchboard_domain::{audit, names, telephone};
use switchboard_store::AuditQuery;

use super::Result;
use crate::paging::{list_params, list_response};
use crate::request::query;
use crate::state::App;

pub async fn list(app: &App, req: Request) -> Result {
    let mut params = list_params(&req, audit::FILTER_FIELDS, &[])?;
    let q = AuditQuery {
        account: query(&req, "accountName"),
        telephone_number: query(&req, "telephoneNumber"),
        actor: query(&req, "actor"),
        from: query(&req, "from"),
        to: query(&req, "to"),
    };
    if let Some(a) = &q.account {
        names::account_name("accountName", a)?;
    }
    if let Some(tn) = &q.telephone_number {
        telephone::validate("telephoneNumber", tn)?;
    }
    for (name, value) in [
        ("accountName", &q.account),
        ("telephoneNumber", &q.telephone_number),
        ("actor", &q.actor),
        ("from", &q.from),
        ("to", &q.to),
    ] {
        if let Some(v) = value {
            params.carry.push((name, v.clone()));
        }
    }
    let page = app.repo.list_audit(&q, &params.page).await?;
    Ok(list_response(&req, &params, page, None))
}
