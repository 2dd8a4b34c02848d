//! Repeatable requests (`Repeatability-Request-ID`): the first response to each id, kept for a
//! day, so a client's retry gets that response again instead of a second change.
//!
//! A record is claimed with a conditional put before the request runs, so two copies of one
//! request arriving together can't both run: the second sees the claim and is told to retry.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::StoreError;
use crate::expr::Placeholders;
use crate::keys::{self, EXPIRES_AT, PK};
use crate::retry::optimistic;
use crate::{item, Repository};

/// How long a first response is kept (DynamoDB TTL removes it later; reads ignore it sooner).
pub const REPEATABILITY_WINDOW_SECS: u64 = 24 * 3600;
/// A claim without a response older than this was abandoned (the function timed out or died).
const ABANDONED_AFTER_SECS: u64 = 60;

const FINGERPRINT: &str = "fingerprint";
const CLAIMED: &str = "claimedAt";
const STATUS: &str = "status";
const HEADERS: &str = "headers";
const BODY: &str = "body";

/// A response as first sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What a claim found.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// The id is new (or its record expired): run the request, then [`Repository::finish_request`].
    New,
    /// The same request ran before: here is its response.
    Done(StoredResponse),
    /// The same request is running now.
    InProgress,
    /// The id was used for a different request.
    Mismatch,
}

fn now_secs() -> u64 {
    crate::retry::now_ms() / 1000
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

impl Repository {
    /// Claims request `id` of `caller` for the request whose digest is `fingerprint`.
    pub async fn claim_request(&self, caller: &str, id: &str, fingerprint: &str) -> Result<Claim, StoreError> {
        let key = keys::repeatable_request(caller, id);
        let now = now_secs();
        let key = &key;
        optimistic(|| async move {
            let mut record = key.clone();
            record.insert(FINGERPRINT.into(), AttributeValue::S(fingerprint.into()));
            record.insert(CLAIMED.into(), n(now));
            record.insert(EXPIRES_AT.into(), n(now + REPEATABILITY_WINDOW_SECS));
            let mut p = Placeholders::default();
            // Absent, expired (TTL deletes lazily), or abandoned without a response.
            let cond = format!(
                "attribute_not_exists({pk}) OR {exp} < {now} OR (attribute_not_exists({status}) AND {claimed} < {stale} AND {fp} = {mine})",
                pk = p.path(PK),
                exp = p.path(EXPIRES_AT),
                now = p.value(n(now)),
                status = p.path(STATUS),
                claimed = p.path(CLAIMED),
                stale = p.value(n(now.saturating_sub(ABANDONED_AFTER_SECS))),
                fp = p.path(FINGERPRINT),
                mine = p.value(AttributeValue::S(fingerprint.into())),
            );
            if self.put_if(record, cond, &p).await? {
                return Ok(Some(Claim::New));
            }
            // Gone between the two reads (expired): claim again.
            let Some(found) = self.get_item(key.clone()).await? else { return Ok(None) };
            if item::string(&found, FINGERPRINT).as_deref() != Some(fingerprint) {
                return Ok(Some(Claim::Mismatch));
            }
            let Some(status) = found.get(STATUS).and_then(|v| v.as_n().ok()).and_then(|s| s.parse().ok()) else {
                return Ok(Some(Claim::InProgress));
            };
            let headers = found
                .get(HEADERS)
                .and_then(|v| v.as_m().ok())
                .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_s().ok()?.clone()))).collect())
                .unwrap_or_default();
            let body = found.get(BODY).and_then(|v| v.as_b().ok()).map(|b| b.as_ref().to_vec()).unwrap_or_default();
            Ok(Some(Claim::Done(StoredResponse { status, headers, body })))
        })
        .await
    }

    /// Records the first response to a claimed request.
    pub async fn finish_request(&self, caller: &str, id: &str, response: &StoredResponse) -> Result<(), StoreError> {
        let mut p = Placeholders::default();
        let headers = response.headers.iter().map(|(k, v)| (k.clone(), AttributeValue::S(v.clone()))).collect();
        let update = format!(
            "SET {} = {}, {} = {}, {} = {}",
            p.path(STATUS),
            p.value(n(response.status.into())),
            p.path(HEADERS),
            p.value(AttributeValue::M(headers)),
            p.path(BODY),
            p.value(AttributeValue::B(response.body.clone().into())),
        );
        let cond = format!("attribute_exists({})", p.path(PK));
        self.update_if(keys::repeatable_request(caller, id), update, cond, &p).await.map(|_| ())
    }

    /// Gives a claim up: the request changed nothing (it failed before or without writing), so
    /// a retry with the same id runs it again.
    pub async fn release_request(&self, caller: &str, id: &str) -> Result<(), StoreError> {
        let mut p = Placeholders::default();
        let cond = format!("attribute_not_exists({})", p.path(STATUS));
        self.delete_if(keys::repeatable_request(caller, id), cond, &p).await.map(|_| ())
    }
}
