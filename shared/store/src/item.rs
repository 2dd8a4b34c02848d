//! Mapping between domain entities and stored items. The entity itself is one `doc` map
//! (serde_dynamo); keys, entity tag and counters sit beside it as top-level attributes.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{de::DeserializeOwned, Serialize};

use switchboard_domain::civic::CivicAddress;
use switchboard_domain::rfi::RequestForInformation;
use switchboard_domain::{Account, Number, ProvisioningStatus, Service, ServiceCounts};

use crate::batch::Item;
use crate::error::StoreError;
use crate::keys::{self, Queue, ACCT, DELETING, DOC, ETAG, TOTAL};
use crate::Stored;

pub fn to_doc<T: Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(value).map_err(|e| StoreError::Backend(format!("encoding item: {e}")))
}

fn from_doc<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    let doc = item.get(DOC).cloned().ok_or_else(|| StoreError::Backend("stored item has no doc".into()))?;
    serde_dynamo::from_attribute_value(doc).map_err(|e| StoreError::Backend(format!("decoding item: {e}")))
}

pub fn string(item: &Item, attr: &str) -> Option<String> {
    item.get(attr).and_then(|v| v.as_s().ok()).cloned()
}

/// The text values at the dotted `path` inside the item's `doc`: several where the path crosses
/// a list (`contacts.companyName`), none where the item lacks it.
pub fn doc_strings<'a>(item: &'a Item, path: &str) -> Vec<&'a str> {
    let mut at: Vec<&AttributeValue> = item.get(DOC).into_iter().collect();
    for part in path.split('.') {
        at = at
            .into_iter()
            .flat_map(|v| match v {
                AttributeValue::M(m) => m.get(part).into_iter().collect::<Vec<_>>(),
                AttributeValue::L(l) => l.iter().filter_map(|e| e.as_m().ok()?.get(part)).collect(),
                _ => Vec::new(),
            })
            .collect();
    }
    at.into_iter()
        .flat_map(|v| match v {
            AttributeValue::S(s) => vec![s.as_str()],
            AttributeValue::L(l) => l.iter().filter_map(|e| e.as_s().ok().map(String::as_str)).collect(),
            _ => Vec::new(),
        })
        .collect()
}

fn int(item: &Item, attr: &str) -> i64 {
    item.get(attr).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0)
}

pub fn etag(item: &Item) -> Option<String> {
    string(item, ETAG)
}

pub fn counts(item: &Item) -> ServiceCounts {
    let mut c = ServiceCounts::default();
    for s in Service::ALL {
        c.0[s.index()] = int(item, keys::count_attr(s));
    }
    c
}

pub fn total(item: &Item) -> i64 {
    int(item, TOTAL)
}

pub fn is_deleting(item: &Item) -> bool {
    item.contains_key(DELETING)
}

/// The account of a stored account item, with its read-only counts filled in.
pub fn account(item: &Item) -> Result<Stored<Account>, StoreError> {
    let mut value: Account = from_doc(item)?;
    value.set_counts(&counts(item));
    Ok(Stored { value, etag: etag(item).unwrap_or_default() })
}

pub fn number(item: &Item) -> Result<Stored<Number>, StoreError> {
    Ok(Stored { value: from_doc(item)?, etag: etag(item).unwrap_or_default() })
}

/// The whole stored item of a number; a `pending` number also joins the sync's queue, and a
/// `failed` one its account's failed entries.
pub fn number_item(n: &Number, etag: &str) -> Result<Item, StoreError> {
    let mut item = keys::number(&n.telephone_number);
    item.extend(keys::number_index(&n.account_name, &n.telephone_number));
    match n.service_provisioning_status {
        Some(ProvisioningStatus::Pending) => {
            item.extend(keys::pending(Queue::Numbers, &format!("{}#{}", n.account_name, n.telephone_number)));
        }
        Some(ProvisioningStatus::Failed) => item.extend(keys::failed(&n.account_name, &n.telephone_number)),
        _ => {}
    }
    item.insert(DOC.into(), to_doc(n)?);
    item.insert(ETAG.into(), AttributeValue::S(etag.into()));
    item.insert(ACCT.into(), AttributeValue::S(n.account_name.clone()));
    Ok(item)
}

/// The owning account of a stored number item.
pub fn owner(item: &Item) -> Option<String> {
    string(item, ACCT)
}

pub fn rfi(item: &Item) -> Result<Stored<RequestForInformation>, StoreError> {
    Ok(Stored { value: from_doc(item)?, etag: etag(item).unwrap_or_default() })
}

/// The whole stored item of a request for information; `pending` joins the sync's queue.
pub fn rfi_item(r: &RequestForInformation, etag: &str) -> Result<Item, StoreError> {
    let mut item = keys::rfi(&r.tenant_id);
    item.extend(keys::rfi_index(&r.tenant_id));
    if r.service_provisioning_status == Some(ProvisioningStatus::Pending) {
        item.extend(keys::pending(Queue::Rfis, &r.tenant_id));
    }
    item.insert(DOC.into(), to_doc(r)?);
    item.insert(ETAG.into(), AttributeValue::S(etag.into()));
    Ok(item)
}

pub fn civic(item: &Item) -> Result<Stored<CivicAddress>, StoreError> {
    Ok(Stored { value: from_doc(item)?, etag: etag(item).unwrap_or_default() })
}

pub fn civic_item(tenant: &str, a: &CivicAddress, etag: &str) -> Result<Item, StoreError> {
    let mut item = keys::civic_address(tenant, &a.id);
    item.insert(DOC.into(), to_doc(a)?);
    item.insert(ETAG.into(), AttributeValue::S(etag.into()));
    Ok(item)
}

/// Any serialisable value as a plain stored item under `key` (orders, reports, tombstones).
pub fn record_item<T: Serialize>(mut key: Item, value: &T) -> Result<Item, StoreError> {
    key.insert(DOC.into(), to_doc(value)?);
    Ok(key)
}

pub fn record<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    from_doc(item)
}
