//! Key design: the one place keys are built.
//!
//! One table, generic key attributes `PK`/`SK`, two overloaded global secondary indexes.
//!
//! | Entity  | PK            | SK  | GSI1PK        | GSI1SK        | GSI2PK | GSI2SK        |
//! |---------|---------------|-----|---------------|---------------|--------|---------------|
//! | Account | `ACCT#<name>` | `A` | `ACCTS`       | `<name>`      | –      | –             |
//! | Number  | `NUM#<e164>`  | `N` | `ACCT#<name>` | `<e164>`      | `NUMS` | `<e164>`      |
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
//! | list all numbers (`GET /numbers`)| Query GSI2 `GSI2PK = NUMS`                                  |
//! | create/replace number            | TransactWriteItems: number put (conditional on its etag or absence) + account counter update (conditional on the account existing with the service enabled) |
//! | batch numbers                    | BatchGetItem of the numbers, then TransactWriteItems in chunks of 99 numbers + 1 counter update |
//! | delete account + numbers         | mark the account `deleting` (blocks new numbers), Query GSI1, conditional transactional deletes, then delete the account if its total is 0 |
//!
//! Per-service `numberCount` lives on the account item (`n_oc`, `n_tpm`, …, `n_all`) and is only
//! ever changed in the same transaction as the number items it counts.
//!
//! `GSI2PK = NUMS` puts every number in one index partition. That is fine to a few thousand
//! writes a second; an operator past that would shard it (`NUMS#<0..n>`) and merge on read.

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

/// Attributes beside the keys.
pub const DOC: &str = "doc";
pub const ETAG: &str = "etag";
/// A number's owning account (top level, so conditions can test it cheaply).
pub const ACCT: &str = "acct";
/// Set while an account is being deleted with its numbers; number writes refuse it.
pub const DELETING: &str = "deleting";
pub const TOTAL: &str = "n_all";

pub const ACCOUNTS_PARTITION: &str = "ACCTS";
pub const NUMBERS_PARTITION: &str = "NUMS";

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
    HashMap::from([
        (GSI1PK.into(), s(ACCOUNTS_PARTITION)),
        (GSI1SK.into(), s(name)),
    ])
}

/// The index attributes of a number item.
pub fn number_index(account: &str, tn: &str) -> Key {
    HashMap::from([
        (GSI1PK.into(), s(account_pk(account))),
        (GSI1SK.into(), s(tn)),
        (GSI2PK.into(), s(NUMBERS_PARTITION)),
        (GSI2SK.into(), s(tn)),
    ])
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
