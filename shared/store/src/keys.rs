//! Key design: the one place keys are built.
//!
//! One table, generic key attributes `PK`/`SK`, two overloaded global secondary indexes.
//!
//! | Entity              | PK                | SK                    | GSI1PK        | GSI1SK     | GSI2PK | GSI2SK   |
//! |---------------------|-------------------|-----------------------|---------------|------------|--------|----------|
//! | Account             | `ACCT#<name>`     | `A`                   | `ACCTS`       | `<name>`   | –      | –        |
//! | Number              | `NUM#<e164>`      | `N`                   | `ACCT#<name>` | `<e164>`   | `NUMS#<shard>` | `<e164>` |
//! | Request for info    | `RFI#<tenant>`    | `R`                   | `RFIS`        | `<tenant>` | –      | –        |
//! | Civic address       | `TENANT#<tenant>` | `CA#<id>`             | –             | –          | –      | –        |
//! | Open backend order  | `ORDERS`          | `<tenant>#<orderId>`  | –             | –          | –      | –        |
//! | Release to send     | `RELEASES`        | `<tenant>#<e164>`     | –             | –          | –      | –        |
//! | Sync run report     | `SYNCRUNS`        | `<startedMs>#<runId>` | –             | –          | –      | –        |
//! | Sync lease          | `SYNC#LEASE`      | `L`                   | –             | –          | –      | –        |
//! | Tenant work lease   | `SYNC#LEASE#<tenant>` | `L`               | –             | –          | –      | –        |
//! | Upgrade step done   | `SYNC#UPGRADE`    | `<step>`              | –             | –          | –      | –        |
//! | Tenant sync status  | `TENANT#<tenant>` | `SYNC`                | `SYNCTENANTS` | `<tenant>` | –      | –        |
//! | Upstream budget     | `BUDGET#UPSTREAM` | `B`                   | –             | –          | –      | –        |
//! | Planner state       | `SYNC#PLANNER`    | `P`                   | –             | –          | –      | –        |
//! | Audit event         | `AUDIT#<yyyy-mm-dd>` | `<ms>#<id>`        | `AUDITA#<account>` / `AUDITT#<tenant>` | `<ms>#<id>` | `AUDITBY#<actor>` | `<ms>#<id>` |
//! | Repeatable request  | `REQ#<caller>#<id>` | `Q`                 | –             | –          | –      | –        |
//! | CSV import (live)   | `IMPORT#<name>`   | `I`                   | –             | –          | –      | –        |
//! | Batch write (live)  | `IMPORT#<name>`   | `W#<writeId>`         | –             | –          | –      | –        |
//! | Write journal       | `IMPORT#<name>`   | `C#<writeId>#<n>`     | –             | –          | –      | –        |
//!
//! GSI3 is the sync's work queue, sparse and keys-only: an account, number or request for
//! information waiting for the backend carries `GSI3PK = PENDING#<shard>` (sharded as the
//! all-numbers index is, by its sort key) and `GSI3SK = A#<name>` /
//! `N#<account>#<e164>` / `R#<tenant>`; the sync removes both when the item is `synced` or `failed`.
//! A `failed` number carries `GSI3PK = FAILED#<account>`, `GSI3SK = <e164>` instead, so an
//! account's failed numbers are counted without reading the others (unsharded: failures are few,
//! and a burst of them lands at the rate the sync writes results).
//! A journaled write in progress (an import or a batch of more than one transaction) also sits in
//! GSI3, under `GSI3PK = IMPORTING`, `GSI3SK = <account>`, so the sync finds writes whose writer
//! died and rolls them back.
//!
//! Why a journaled write is all or nothing: every transaction is conditional on the tags it read,
//! so it either applies exactly the change computed from what was read or nothing; the journal
//! item commits in the same transaction as the numbers it describes, so every committed change
//! has its undo record; the roll-back restores only items still holding this write's tags (it
//! never undoes another writer); and the head is deleted conditionally on the write's id, so a
//! write is either committed (head gone, by its writer) or rolled back (head gone, by the
//! roll-back), never both.
//!
//! A number's item is keyed by the number alone, so "a number belongs to exactly one account"
//! is a property of the key: creating it is a conditional put (`attribute_not_exists(PK)`), and
//! no read-then-write window exists between two accounts claiming it.
//!
//! Access patterns (every request path is a GetItem, Query or a conditional write; no Scan):
//!
//! | Pattern                          | Operation                                                   |
//! |----------------------------------|-------------------------------------------------------------|
//! | get account                      | GetItem `ACCT#<name>`/`A`                                   |
//! | list accounts (paged, by name)   | Query GSI1 `GSI1PK = ACCTS`                                 |
//! | get number of an account         | GetItem `NUM#<e164>`/`N`, then check its `acct`             |
//! | list an account's numbers        | Query GSI1 `GSI1PK = ACCT#<name>`                           |
//! | list all numbers (`GET /numbers`)| Query GSI2 `GSI2PK = NUMS#<shard>` for each of the 16 shards and the old `NUMS` (`GSI2SK > <last number>` when continuing), merged in number order |
//! | create/replace number            | TransactWriteItems: number put (conditional on its etag or absence) + account counter update (conditional on the account existing with the service enabled) |
//! | batch numbers (≤100)             | BatchGetItem of the numbers; one TransactWriteItems (≤97 puts / ≤48 deletes + counter + event), or a journaled write (below) |
//! | delete account + numbers         | mark the account `deleting` (blocks new numbers), Query GSI1, conditional transactional deletes, then delete the account if its total is 0 |
//! | list / get requests for info     | Query GSI1 `GSI1PK = RFIS` / GetItem `RFI#<tenant>`                     |
//! | `search` on any of those lists   | the list's own Query; the text is matched in the function on what it reads (as a FilterExpression costs: items read, not returned) |
//! | pre-flight (`:validateNumbers`)  | GetItem the account, GetItem `RFI#<tenant>`, BatchGetItem of the numbers (their owners); writes nothing |
//! | list / get an account's addresses| GetItem the account for its tenant, Query `TENANT#<tenant>` `begins_with(SK, CA#)` / GetItem |
//! | list sync runs (newest first)    | Query `SYNCRUNS` descending                                             |
//! | sync: pending work               | Query GSI3 `PENDING#<shard>` `begins_with(GSI3SK, N#|A#|R#)` for the 16 shards and the old `PENDING`, merged, then BatchGetItem |
//! | sync: open orders, releases      | Query `ORDERS`, Query `RELEASES`                                        |
//! | sync: one planner at a time      | conditional put of `SYNC#LEASE` (free, expired, or ours)                |
//! | sync: one worker per tenant      | conditional put of `SYNC#LEASE#<tenant>` (free, expired, or ours)       |
//! | sync: a change for a held tenant | conditional UpdateItem `SET pushAsked ADD pushAccounts` on `SYNC#LEASE#<tenant>` (held by another); the holder GetItems it between its steps and `REMOVE`s them when set |
//! | sync: an account's pending numbers | Query GSI3 `PENDING#<shard>` `begins_with(GSI3SK, N#<account>#)` for each shard, merged, then BatchGetItem |
//! | sync: accounts with pending numbers | the merged pending Query, one account at a time: after an account's first key it goes on past `N#<account>#\u{10ffff}`; from the planner's cursor, as many as a plan can send |
//! | sync: a tenant's open orders, releases | Query `ORDERS` / `RELEASES` `begins_with(SK, <tenant>#)` |
//! | sync: tenants with open orders, releases | Query `ORDERS` / `RELEASES`, one tenant at a time: after a tenant's first item it goes on past `<tenant>#\u{10ffff}` |
//! | count an account's failed numbers| Query GSI3 `GSI3PK = FAILED#<account>`, `Select COUNT` (with `GET /accounts`, one per account listed) |
//! | sync: tenants' status            | GetItem / PutItem `TENANT#<tenant>`/`SYNC`; all of them: Query GSI1 `SYNCTENANTS` |
//! | sync: index old failed numbers   | once: per account (from a cursor in `SYNC#UPGRADE`/`failed-index`), Query GSI1 `ACCT#<name>` filtered on `failed`, UpdateItem each without an entry (conditional on its tag) |
//! | sync: reshard old entries        | Query GSI2 `NUMS` / GSI3 `PENDING` (≤1,000 a run), UpdateItem each to its shard if still unsharded |
//! | sync: planner's state (consent pull, push cursor) | GetItem / PutItem `SYNC#PLANNER`/`P`                   |
//! | upstream budget: book a call     | GetItem `BUDGET#UPSTREAM` (consistent), conditional put of its next `tat` (GCRA) |
//! | sync: number results             | BatchGetItem of the numbers, then per account TransactWriteItems of ≤98 puts conditional on each tag + one audit event (cancelled: one by one) |
//! | journaled write (batch, import)  | put the head (`IMPORT#<name>`/`W#<id>` for a batch; conditional `IMPORT#<name>`/`I` for an import: one per account); TransactWriteItems of 97 puts or 48 deletes (+ releases) + counter update + journal item holding their previous items + event; delete the head to commit; roll back from the journal on any failure |
//! | audit: write an event            | a Put in the same TransactWriteItems as the change it records; `doc` holds what listings filter on, `changes` the deflated before/after |
//! | audit: by account (and number)   | Query GSI1 `AUDITA#<account>` `GSI1SK BETWEEN <from> AND <to>`, newest first; a number adds `contains(telephoneNumbers, :tn)` |
//! | audit: by actor / by day         | Query GSI2 `AUDITBY#<actor>` / Query `AUDIT#<day>`, `BETWEEN` the times                   |
//! | repeatable request (retry)       | conditional put of `REQ#<caller>#<id>` (absent, expired or abandoned), else GetItem for the first response; TTL `expiresAt` after 24 h |
//! | roll back a dead import          | Query GSI3 `IMPORTING` (sync) or GetItem `IMPORT#<name>`/`I`; Query `IMPORT#<name>` `begins_with(SK, C#<id>#)`; transactions restoring each chunk |
//!
//! Per-service `numberCount` lives on the account item (`n_oc`, `n_tpm`, …, `n_all`) and is only
//! ever changed in the same transaction as the number items it counts.
//!
//! The all-numbers index is sharded: a number's `GSI2PK` is `NUMS#<shard>`, its shard a stable hash
//! of the number modulo [`SHARDS`] (16); the pending queue likewise (`PENDING#<shard>`). One index partition takes about 1,000 writes a
//! second, so one shared key would throttle a large import or a sync landing its results; 16
//! shards take 16 times that, more than the table's other limits let a single account write, while
//! a page of `GET /numbers` is still 16 small Queries run at once. They are merged in number order
//! (each number is in exactly one shard), and the continuation token is the last number returned:
//! every shard goes on after it, so `nextLink` visits every number exactly once. Until the sync
//! has moved every entry of the old unsharded partitions, listings read them as one more shard.

use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

use switchboard_domain::Service;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const GSI2: &str = "GSI2";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";
pub const GSI3: &str = "GSI3";
pub const GSI3PK: &str = "GSI3PK";
pub const GSI3SK: &str = "GSI3SK";
/// Where the pending queue was before it was sharded (`reshard` moves its entries).
pub const LEGACY_PENDING_PARTITION: &str = "PENDING";
pub const RFIS_PARTITION: &str = "RFIS";
pub const ORDERS_PARTITION: &str = "ORDERS";
pub const RELEASES_PARTITION: &str = "RELEASES";
pub const SYNC_RUNS_PARTITION: &str = "SYNCRUNS";
pub const IMPORTING_PARTITION: &str = "IMPORTING";
/// Items that expire carry this (DynamoDB TTL, epoch seconds).
pub const EXPIRES_AT: &str = "expiresAt";

/// Attributes beside the keys.
pub const DOC: &str = "doc";
pub const ETAG: &str = "etag";
/// An audit event's entity changes: deflated JSON (they are most of an event's bytes).
pub const CHANGES: &str = "changes";
/// A number's owning account (top level, so conditions can test it cheaply).
pub const ACCT: &str = "acct";
/// Set while an account is being deleted with its numbers; number writes refuse it.
pub const DELETING: &str = "deleting";
pub const TOTAL: &str = "n_all";

pub const ACCOUNTS_PARTITION: &str = "ACCTS";
/// Shards of each index partition that every item of a kind would otherwise share: all numbers
/// and the sync's pending queue (see the module notes). Changing it needs the items' index keys
/// rewritten, as `Repository::reshard` does for the unsharded `NUMS` and `PENDING`.
pub const SHARDS: u32 = 16;

/// The shard of an index entry: FNV-1a of its sort key, so it is the same in every process and release.
pub fn shard_of(text: &str) -> u32 {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    (hash % u64::from(SHARDS)) as u32
}

/// Where all numbers were indexed before the index was sharded (`reshard` moves them).
pub const LEGACY_NUMBERS_PARTITION: &str = "NUMS";

/// The index partition of one shard of all numbers.
pub fn numbers_shard_pk(shard: u32) -> String {
    format!("NUMS#{shard:02}")
}

pub type Key = HashMap<String, AttributeValue>;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn account_pk(name: &str) -> String {
    format!("ACCT#{name}")
}

pub fn account(name: &str) -> Key {
    HashMap::from([(PK.into(), s(account_pk(name))), (SK.into(), s("A"))])
}

pub fn number(tn: &str) -> Key {
    HashMap::from([(PK.into(), s(format!("NUM#{tn}"))), (SK.into(), s("N"))])
}

/// The index attributes of an account item.
pub fn account_index(name: &str) -> Key {
    HashMap::from([(GSI1PK.into(), s(ACCOUNTS_PARTITION)), (GSI1SK.into(), s(name))])
}

/// The index attributes of a number item.
pub fn number_index(account: &str, tn: &str) -> Key {
    HashMap::from([
        (GSI1PK.into(), s(account_pk(account))),
        (GSI1SK.into(), s(tn)),
        (GSI2PK.into(), s(numbers_shard_pk(shard_of(tn)))),
        (GSI2SK.into(), s(tn)),
    ])
}

pub fn rfi(tenant: &str) -> Key {
    HashMap::from([(PK.into(), s(format!("RFI#{tenant}"))), (SK.into(), s("R"))])
}

pub fn rfi_index(tenant: &str) -> Key {
    HashMap::from([(GSI1PK.into(), s(RFIS_PARTITION)), (GSI1SK.into(), s(tenant))])
}

pub fn tenant_pk(tenant: &str) -> String {
    format!("TENANT#{tenant}")
}

pub const CIVIC_PREFIX: &str = "CA#";

pub fn civic_address(tenant: &str, id: &str) -> Key {
    HashMap::from([(PK.into(), s(tenant_pk(tenant))), (SK.into(), s(format!("{CIVIC_PREFIX}{id}")))])
}

/// An open order, filed under its tenant so a worker finds its tenant's orders.
pub fn order(tenant: &str, id: &str) -> Key {
    HashMap::from([(PK.into(), s(ORDERS_PARTITION)), (SK.into(), s(format!("{}{id}", orders_prefix(tenant))))])
}

/// The sort-key prefix of a tenant's open orders (a tenant id is a GUID: it holds no `#`).
pub fn orders_prefix(tenant: &str) -> String {
    format!("{tenant}#")
}

pub fn release(tenant: &str, tn: &str) -> Key {
    HashMap::from([(PK.into(), s(RELEASES_PARTITION)), (SK.into(), s(format!("{tenant}#{tn}")))])
}

pub fn sync_run(started_ms: u64, id: &str) -> Key {
    HashMap::from([(PK.into(), s(SYNC_RUNS_PARTITION)), (SK.into(), s(format!("{started_ms:015}#{id}")))])
}

/// The one item holding the shared upstream budget.
pub fn budget() -> Key {
    HashMap::from([(PK.into(), s("BUDGET#UPSTREAM")), (SK.into(), s("B"))])
}

/// Marks a one-time upgrade step done.
pub fn upgrade_done(step: &str) -> Key {
    HashMap::from([(PK.into(), s("SYNC#UPGRADE")), (SK.into(), s(step))])
}

/// What the planner keeps between plans: its last consent pull, its push cursor.
pub fn planner_state() -> Key {
    HashMap::from([(PK.into(), s("SYNC#PLANNER")), (SK.into(), s("P"))])
}

pub fn lease() -> Key {
    HashMap::from([(PK.into(), s("SYNC#LEASE")), (SK.into(), s("L"))])
}

/// The lease of one unit of sync work (a tenant, or an account without one): a worker holds it
/// while it works that unit.
pub fn work_lease(unit: &str) -> Key {
    HashMap::from([(PK.into(), s(format!("SYNC#LEASE#{unit}"))), (SK.into(), s("L"))])
}

/// Where the tenants' sync status items are indexed (GSI1), one per tenant.
pub const SYNC_TENANTS_PARTITION: &str = "SYNCTENANTS";

/// One tenant's sync status: its last worker run and its last reconciliation.
pub fn tenant_sync(tenant: &str) -> Key {
    HashMap::from([(PK.into(), s(tenant_pk(tenant))), (SK.into(), s("SYNC"))])
}

pub fn tenant_sync_index(tenant: &str) -> Key {
    HashMap::from([(GSI1PK.into(), s(SYNC_TENANTS_PARTITION)), (GSI1SK.into(), s(tenant))])
}

/// The sort-key prefix of a tenant's releases still to send.
pub fn releases_prefix(tenant: &str) -> String {
    format!("{tenant}#")
}

pub fn import_pk(account: &str) -> String {
    format!("IMPORT#{account}")
}

/// The one live import of an account.
pub fn import_head(account: &str) -> Key {
    HashMap::from([(PK.into(), s(import_pk(account))), (SK.into(), s("I"))])
}

/// The head of one journaled batch write (several may run at once in one account).
pub fn write_head(account: &str, id: &str) -> Key {
    HashMap::from([(PK.into(), s(import_pk(account))), (SK.into(), s(format!("W#{id}")))])
}

/// The sort-key prefix of one import's journal items.
pub fn import_chunk_prefix(id: &str) -> String {
    format!("C#{id}#")
}

/// One journal item of an import: the previous state of the numbers one transaction wrote.
pub fn import_chunk(account: &str, id: &str, n: usize) -> Key {
    HashMap::from([(PK.into(), s(import_pk(account))), (SK.into(), s(format!("{}{n:05}", import_chunk_prefix(id))))])
}

/// An audit event's sort key: time, then id (ms padded so the order is the time order).
pub fn audit_sort(ms: u64, id: &str) -> String {
    format!("{ms:015}#{id}")
}

/// The sort-key bound of a time range: from `ms` (inclusive) or up to the end of `ms`.
pub fn audit_sort_bound(ms: u64, upper: bool) -> String {
    if upper {
        format!("{ms:015}#~")
    } else {
        format!("{ms:015}#")
    }
}

/// An audit event, filed under its UTC day.
pub fn audit_event(day: &str, sort: &str) -> Key {
    HashMap::from([(PK.into(), s(format!("AUDIT#{day}"))), (SK.into(), s(sort))])
}

pub fn audit_day_pk(day: &str) -> String {
    format!("AUDIT#{day}")
}

pub fn audit_account_pk(account: &str) -> String {
    format!("AUDITA#{account}")
}

pub fn audit_actor_pk(actor: &str) -> String {
    format!("AUDITBY#{actor}")
}

/// The index attributes of an audit event: by account (or tenant) and by actor.
pub fn audit_index(account: Option<&str>, tenant: Option<&str>, actor: &str, sort: &str) -> Key {
    let mut k = HashMap::from([(GSI2PK.into(), s(audit_actor_pk(actor))), (GSI2SK.into(), s(sort))]);
    let owner = match (account, tenant) {
        (Some(a), _) => Some(audit_account_pk(a)),
        (None, Some(t)) => Some(format!("AUDITT#{t}")),
        (None, None) => None,
    };
    if let Some(o) = owner {
        k.insert(GSI1PK.into(), s(o));
        k.insert(GSI1SK.into(), s(sort));
    }
    k
}

/// The first response to a caller's `Repeatability-Request-ID`.
pub fn repeatable_request(caller: &str, id: &str) -> Key {
    HashMap::from([(PK.into(), s(format!("REQ#{caller}#{id}"))), (SK.into(), s("Q"))])
}

/// The queue attributes that let the sync find a live import.
pub fn importing(account: &str) -> Key {
    HashMap::from([(GSI3PK.into(), s(IMPORTING_PARTITION)), (GSI3SK.into(), s(account))])
}

/// What kind of item waits in the sync's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    Accounts,
    Numbers,
    Rfis,
}

impl Queue {
    /// The sort-key prefix of an account's pending numbers.
    pub fn account_numbers_prefix(account: &str) -> String {
        format!("{}{account}#", Queue::Numbers.prefix())
    }

    pub fn prefix(self) -> &'static str {
        match self {
            Queue::Accounts => "A#",
            Queue::Numbers => "N#",
            Queue::Rfis => "R#",
        }
    }
}

/// The queue attributes of a pending item (`id`: account name, `account#e164`, or tenant).
pub fn pending(queue: Queue, id: &str) -> Key {
    let sort = format!("{}{id}", queue.prefix());
    HashMap::from([(GSI3PK.into(), s(pending_shard_pk(shard_of(&sort)))), (GSI3SK.into(), s(sort))])
}

/// A failed number's entry in GSI3 (`FAILED#<account>`, `<e164>`): an account's failed numbers
/// are counted (and found) without reading the rest.
pub fn failed(account: &str, tn: &str) -> Key {
    HashMap::from([(GSI3PK.into(), s(failed_pk(account))), (GSI3SK.into(), s(tn.to_string()))])
}

pub fn failed_pk(account: &str) -> String {
    format!("FAILED#{account}")
}

/// The index partition of one shard of the pending queue.
pub fn pending_shard_pk(shard: u32) -> String {
    format!("PENDING#{shard:02}")
}

/// The attribute holding an account's count of numbers with `service` enabled.
pub fn count_attr(service: Service) -> &'static str {
    match service {
        Service::TeamsOperatorConnect => "n_oc",
        Service::TeamsPhoneMobile => "n_tpm",
        Service::TeamsDirectRouting => "n_dr",
        Service::ZoomPhoneCloudPeering => "n_zoom",
        Service::AzureOperatorCallProtection => "n_aocp",
    }
}
