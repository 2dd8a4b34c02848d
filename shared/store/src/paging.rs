//! Paged Queries with an opaque continuation token: the store's position (the last returned
//! item's key), so following `nextLink` costs one page, never a re-read from the start.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, Select};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use std::collections::{BTreeMap, HashMap};

use switchboard_domain::filter::Filter;
use switchboard_domain::search::Search;
use switchboard_domain::DomainError;

use crate::batch::Item;
use crate::error::StoreError;
use crate::expr::{filter_expression, Placeholders};
use crate::item;
use crate::keys::{self, GSI1, GSI1PK, GSI1SK, GSI2, GSI2PK, GSI2SK, GSI3, GSI3PK, GSI3SK, PK, SK};
use crate::Repository;

/// What a list reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    Accounts,
    AccountNumbers(String),
    /// Every number, in number order: the shards of the all-numbers index merged.
    AllNumbers,
    /// One shard of the all-numbers index (`None`: the partition from before the sharding).
    NumberShard(Option<u32>),
    Rfis,
    /// A tenant's civic addresses.
    CivicAddresses(String),
    /// Newest first.
    SyncRuns,
    /// The sync's queue of pending items whose sort key starts with this prefix (a kind, or a
    /// kind and an account: see `Queue`), keys only: its shards merged.
    Pending(String),
    /// One shard of the pending queue (`None`: the partition from before the sharding).
    PendingShard(String, Option<u32>),
    /// An account's failed numbers, keys only.
    FailedNumbers(String),
    Orders,
    Releases,
    /// One tenant's releases still to send.
    TenantReleases(String),
    /// One tenant's open orders.
    TenantOrders(String),
    /// Every tenant's sync status, by tenant.
    SyncTenants,
    /// Audit events of one scope between two sort-key bounds, newest first.
    Audit {
        scope: AuditScope,
        from: String,
        to: String,
    },
}

/// Which partition of the audit trail a listing reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditScope {
    Day(String),
    Account(String),
    Actor(String),
}

/// Where a listing lives: the index, its partition and sort keys.
struct Target {
    index: Option<&'static str>,
    pk_attr: &'static str,
    pk_value: String,
    sk_attr: &'static str,
    sk_prefix: Option<String>,
    sk_between: Option<(String, String)>,
    descending: bool,
}

impl Listing {
    fn target(&self) -> Target {
        let t = |index, pk_attr, pk_value: String, sk_attr| Target {
            index,
            pk_attr,
            pk_value,
            sk_attr,
            sk_prefix: None,
            sk_between: None,
            descending: false,
        };
        match self {
            Listing::Accounts => t(Some(GSI1), GSI1PK, keys::ACCOUNTS_PARTITION.into(), GSI1SK),
            Listing::AccountNumbers(a) => t(Some(GSI1), GSI1PK, keys::account_pk(a), GSI1SK),
            // Merged listings' Queries are their shards' (`shards`); the target names the index
            // and sort key for their tokens.
            Listing::AllNumbers => t(Some(GSI2), GSI2PK, String::new(), GSI2SK),
            Listing::NumberShard(k) => {
                let pk = k.map_or_else(|| keys::LEGACY_NUMBERS_PARTITION.into(), keys::numbers_shard_pk);
                t(Some(GSI2), GSI2PK, pk, GSI2SK)
            }
            Listing::Rfis => t(Some(GSI1), GSI1PK, keys::RFIS_PARTITION.into(), GSI1SK),
            Listing::CivicAddresses(tenant) => {
                Target { sk_prefix: Some(keys::CIVIC_PREFIX.into()), ..t(None, PK, keys::tenant_pk(tenant), SK) }
            }
            Listing::SyncRuns => Target { descending: true, ..t(None, PK, keys::SYNC_RUNS_PARTITION.into(), SK) },
            Listing::Pending(prefix) => {
                Target { sk_prefix: Some(prefix.clone()), ..t(Some(GSI3), GSI3PK, String::new(), GSI3SK) }
            }
            Listing::PendingShard(prefix, k) => {
                let pk = k.map_or_else(|| keys::LEGACY_PENDING_PARTITION.into(), keys::pending_shard_pk);
                Target { sk_prefix: Some(prefix.clone()), ..t(Some(GSI3), GSI3PK, pk, GSI3SK) }
            }
            Listing::FailedNumbers(a) => t(Some(GSI3), GSI3PK, keys::failed_pk(a), GSI3SK),
            Listing::Orders => t(None, PK, keys::ORDERS_PARTITION.into(), SK),
            Listing::Releases => t(None, PK, keys::RELEASES_PARTITION.into(), SK),
            Listing::TenantReleases(tenant) => Target {
                sk_prefix: Some(keys::releases_prefix(tenant)),
                ..t(None, PK, keys::RELEASES_PARTITION.into(), SK)
            },
            Listing::TenantOrders(tenant) => Target {
                sk_prefix: Some(keys::orders_prefix(tenant)),
                ..t(None, PK, keys::ORDERS_PARTITION.into(), SK)
            },
            Listing::SyncTenants => t(Some(GSI1), GSI1PK, keys::SYNC_TENANTS_PARTITION.into(), GSI1SK),
            Listing::Audit { scope, from, to } => {
                let base = match scope {
                    AuditScope::Day(d) => t(None, PK, keys::audit_day_pk(d), SK),
                    AuditScope::Account(a) => t(Some(GSI1), GSI1PK, keys::audit_account_pk(a), GSI1SK),
                    AuditScope::Actor(a) => t(Some(GSI2), GSI2PK, keys::audit_actor_pk(a), GSI2SK),
                };
                Target { sk_between: Some((from.clone(), to.clone())), descending: true, ..base }
            }
        }
    }

    /// The listings whose merge this one is (sharded listings), or `None`. The partition from
    /// before the sharding is one of them until the sync has moved its last entry (an empty
    /// Query then), so nothing is missing from a listing meanwhile.
    fn shards(&self) -> Option<Vec<Listing>> {
        let all = || (0..keys::SHARDS).map(Some).chain([None]);
        match self {
            Listing::AllNumbers => Some(all().map(Listing::NumberShard).collect()),
            Listing::Pending(prefix) => Some(all().map(|k| Listing::PendingShard(prefix.clone(), k)).collect()),
            _ => None,
        }
    }

    /// The attributes that make up a position in this listing (a merged listing's position is
    /// its sort key alone: every shard goes on after it).
    fn key_attrs(&self) -> Vec<&'static str> {
        let t = self.target();
        if self.shards().is_some() {
            return vec![t.sk_attr];
        }
        let mut attrs = vec![PK, SK];
        for a in [t.pk_attr, t.sk_attr] {
            if !attrs.contains(&a) {
                attrs.push(a);
            }
        }
        attrs
    }
}

/// Items a search reads for one page before it answers with what it has found (and a
/// nextLink): a selective search over a long listing stays inside a request's time.
pub const MAX_SEARCH_READ: usize = 10_000;
/// Items a search reads to count its matches (`countRecords`) before it refuses.
pub const MAX_SEARCH_COUNT: usize = 100_000;

#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub filter: Option<Filter>,
    /// Plain text an item must contain (the `search` extension), matched here, not by DynamoDB.
    pub search: Option<Search>,
    /// Items on this page (1..=500).
    pub page_size: usize,
    /// Matching items to pass over before the page starts (first page only).
    pub skip: usize,
    /// The continuation token of the previous page.
    pub start: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> Result<U, StoreError>) -> Result<Page<U>, StoreError> {
        Ok(Page { items: self.items.into_iter().map(f).collect::<Result<_, _>>()?, next: self.next })
    }
}

fn encode_token(key: &BTreeMap<String, String>) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

fn decode_token(token: &str, listing: &Listing) -> Result<Item, StoreError> {
    let bad = |why: &str| StoreError::BadToken(why.to_string());
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad("not base64url"))?;
    let key: BTreeMap<String, String> = serde_json::from_slice(&bytes).map_err(|_| bad("malformed"))?;
    let t = listing.target();
    // A token only continues the listing it came from.
    let same_attrs = key.len() == listing.key_attrs().len() && listing.key_attrs().iter().all(|a| key.contains_key(*a));
    let same_partition = listing.shards().is_some() || key.get(t.pk_attr) == Some(&t.pk_value);
    let same_prefix = t.sk_prefix.as_deref().is_none_or(|p| key.get(t.sk_attr).is_some_and(|v| v.starts_with(p)));
    if !(same_attrs && same_partition && same_prefix) {
        return Err(bad("it belongs to another listing"));
    }
    // A time-ranged listing's token must lie inside the range asked for (`from`/`to` may differ
    // from the request that made it); DynamoDB would refuse a start key outside it.
    let in_range = t.sk_between.as_ref().is_none_or(|(from, to)| {
        key.get(t.sk_attr).is_some_and(|v| v.as_str() >= from.as_str() && v.as_str() <= to.as_str())
    });
    if !in_range {
        return Err(bad("it lies outside the from/to range of this request"));
    }
    Ok(key.into_iter().map(|(k, v)| (k, AttributeValue::S(v))).collect())
}

/// A token that continues `listing` after the sort key `sort_key` (which need not exist), so a
/// reader can skip ahead: for merged listings and listings of the table itself.
pub(crate) fn token_after(listing: &Listing, sort_key: &str) -> Option<String> {
    let t = listing.target();
    let mut key = BTreeMap::from([(t.sk_attr.to_string(), sort_key.to_string())]);
    if listing.shards().is_none() {
        if t.index.is_some() {
            return None;
        }
        key.insert(t.pk_attr.to_string(), t.pk_value);
    }
    Some(encode_token(&key))
}

/// The continuation key of `item` in `listing`: table key plus index key.
fn position(item: &Item, listing: &Listing) -> BTreeMap<String, String> {
    listing
        .key_attrs()
        .into_iter()
        .filter_map(|a| item.get(a).and_then(|v| v.as_s().ok()).map(|v| (a.to_string(), v.clone())))
        .collect()
}

impl Repository {
    /// A Query over `listing`, with `filter` as its FilterExpression, from after the sort key
    /// `after` if given; callers add paging.
    fn listing_query(&self, listing: &Listing, filter: Option<&Filter>, after: Option<&str>) -> QueryFluentBuilder {
        let t = listing.target();
        let mut p = Placeholders::default();
        let mut key_cond = format!("{} = {}", p.path(t.pk_attr), p.value(AttributeValue::S(t.pk_value)));
        // DynamoDB takes one condition on the sort key: after a position inside a prefix is a
        // range from just past the position to the end of the prefix.
        let (after, prefix) = match (after, t.sk_prefix.as_deref()) {
            (Some(a), Some(prefix)) => {
                key_cond.push_str(&format!(
                    " AND {} BETWEEN {} AND {}",
                    p.path(t.sk_attr),
                    p.value(AttributeValue::S(format!("{a}\u{0}"))),
                    p.value(AttributeValue::S(format!("{prefix}\u{10ffff}")))
                ));
                (None, None)
            }
            other => other,
        };
        if let Some(prefix) = prefix {
            key_cond.push_str(&format!(
                " AND begins_with({}, {})",
                p.path(t.sk_attr),
                p.value(AttributeValue::S(prefix.into()))
            ));
        }
        if let Some(after) = after {
            key_cond.push_str(&format!(" AND {} > {}", p.path(t.sk_attr), p.value(AttributeValue::S(after.into()))));
        }
        if let Some((from, to)) = t.sk_between {
            key_cond.push_str(&format!(
                " AND {} BETWEEN {} AND {}",
                p.path(t.sk_attr),
                p.value(AttributeValue::S(from)),
                p.value(AttributeValue::S(to))
            ));
        }
        let filter = filter.map(|f| filter_expression(f, &mut p));
        self.client()
            .query()
            .table_name(self.table())
            .set_index_name(t.index.map(str::to_string))
            .key_condition_expression(key_cond)
            .set_filter_expression(filter)
            .set_expression_attribute_names(p.names_opt())
            .set_expression_attribute_values(p.values_opt())
            .scan_index_forward(!t.descending)
    }

    /// One page of `listing`, filled up to `page_size` matching items.
    pub async fn query_page(&self, listing: &Listing, req: &PageRequest) -> Result<Page<Item>, StoreError> {
        if req.page_size == 0 {
            return Ok(Page { items: Vec::new(), next: None });
        }
        if let Some(shards) = listing.shards() {
            return self.merged_page(listing, shards, req).await;
        }
        let query = self.listing_query(listing, req.filter.as_ref(), None);
        let mut start: Option<HashMap<String, AttributeValue>> = match &req.start {
            Some(t) => Some(decode_token(t, listing)?),
            None => None,
        };
        let mut to_skip = req.skip;
        let mut items = Vec::with_capacity(req.page_size + 1);
        let mut read = 0;
        loop {
            // One match more than the page needs: seeing it tells us a next page exists, so a
            // listing that ends exactly on a page boundary offers no empty last page. A search is
            // matched here, after the read, so it reads in DynamoDB's largest pages.
            let want = match req.search {
                Some(_) => 1000,
                None => (req.page_size + 1 - items.len() + to_skip).clamp(1, 1000),
            };
            let out = query
                .clone()
                .set_exclusive_start_key(start.take())
                .limit(want as i32)
                .send()
                .await
                .map_err(StoreError::backend)?;
            let last = out.last_evaluated_key;
            let got = out.items.unwrap_or_default();
            read += got.len();
            for item in got.into_iter().filter(|i| found(req.search.as_ref(), i)) {
                if to_skip > 0 {
                    to_skip -= 1;
                    continue;
                }
                items.push(item);
                if items.len() > req.page_size {
                    break;
                }
            }
            if items.len() > req.page_size {
                items.truncate(req.page_size);
                let next = items.last().map(|i| encode_token(&position(i, listing)));
                return Ok(Page { items, next });
            }
            match last {
                None => return Ok(Page { items, next: None }),
                // A search that finds little stops after so many items read, as DynamoDB's own
                // pages do: the page may be short (even empty), and nextLink goes on from the
                // last item read. (Not while passing over `skip`, which only a first page has.)
                Some(k) if req.search.is_some() && to_skip == 0 && read >= MAX_SEARCH_READ => {
                    return Ok(Page { items, next: Some(encode_token(&position(&k, listing))) });
                }
                Some(k) => start = Some(k),
            }
        }
    }

    /// One page of a sharded listing: every shard read from after the token's sort key, a few
    /// items at a time and all at once, merged in sort-key order.
    async fn merged_page(
        &self,
        listing: &Listing,
        shards: Vec<Listing>,
        req: &PageRequest,
    ) -> Result<Page<Item>, StoreError> {
        let sk = listing.target().sk_attr;
        let after = match &req.start {
            Some(t) => decode_token(t, listing)?.get(sk).and_then(|v| v.as_s().ok()).cloned(),
            None => None,
        };
        // One more than the page needs, to know whether a next page exists; a search, matched
        // here after the read, reads more at a time.
        let need = req.skip + req.page_size + 1;
        let per_shard = need.div_ceil(shards.len()) + 1;
        let limit = if req.search.is_some() { per_shard.max(200) } else { per_shard }.min(1000) as i32;
        let mut cursors: Vec<ShardCursor> = shards
            .iter()
            .map(|s| ShardCursor::new(self.listing_query(s, req.filter.as_ref(), after.as_deref()).limit(limit)))
            .collect();
        let mut to_skip = req.skip;
        let mut items = Vec::with_capacity(req.page_size);
        let mut read = 0;
        loop {
            // Every shard that may have more must show its next item before the smallest is known.
            while cursors.iter().any(ShardCursor::must_fetch) {
                let fetches = cursors.iter_mut().filter(|c| c.must_fetch()).map(ShardCursor::fetch);
                futures::future::try_join_all(fetches).await?;
            }
            let next = cursors
                .iter_mut()
                .filter(|c| !c.buffer.is_empty())
                .min_by(|a, b| sort_key(&a.buffer[0], sk).cmp(sort_key(&b.buffer[0], sk)));
            let Some(item) = next.and_then(|c| c.buffer.pop_front()) else {
                return Ok(Page { items, next: None });
            };
            read += 1;
            if !found(req.search.as_ref(), &item) {
                // As in `query_page`: a search that finds little stops after so many items.
                if to_skip == 0 && read >= MAX_SEARCH_READ {
                    return Ok(Page { items, next: Some(encode_token(&position(&item, listing))) });
                }
                continue;
            }
            if to_skip > 0 {
                to_skip -= 1;
            } else if items.len() == req.page_size {
                let next = items.last().map(|i| encode_token(&position(i, listing)));
                return Ok(Page { items, next });
            } else {
                items.push(item);
            }
        }
    }

    /// How many items of `listing` match the request's `filter` and `search` (for `countRecords`).
    pub async fn count(&self, listing: &Listing, req: &PageRequest) -> Result<i64, StoreError> {
        if let Some(shards) = listing.shards() {
            let counts = shards.iter().map(|s| Box::pin(self.count(s, req)));
            return Ok(futures::future::try_join_all(counts).await?.into_iter().sum());
        }
        let query = self.listing_query(listing, req.filter.as_ref(), None);
        // A search is matched here, so its items are read; otherwise DynamoDB counts alone.
        let query = if req.search.is_some() { query } else { query.select(Select::Count) };
        let mut start = None;
        let mut total = 0i64;
        let mut read = 0;
        loop {
            let out = query.clone().set_exclusive_start_key(start).send().await.map_err(StoreError::backend)?;
            total += match &req.search {
                Some(_) => {
                    read += out.items().len();
                    if read > MAX_SEARCH_COUNT {
                        return Err(DomainError::invalid(
                            "countRecords",
                            format!("a search can be counted over at most {MAX_SEARCH_COUNT} items; narrow it with filter, or page without countRecords"),
                        )
                        .into());
                    }
                    out.items().iter().filter(|i| found(req.search.as_ref(), i)).count() as i64
                }
                None => i64::from(out.count),
            };
            match out.last_evaluated_key {
                Some(k) => start = Some(k),
                None => return Ok(total),
            }
        }
    }
}

/// Whether `item` matches the search, if there is one.
fn found(search: Option<&Search>, item: &Item) -> bool {
    search.is_none_or(|s| {
        s.matches(s.fields().iter().flat_map(|f| item::doc_strings(item, f).into_iter().map(|v| (*f, v))))
    })
}

fn sort_key<'a>(item: &'a Item, attr: &str) -> &'a str {
    item.get(attr).and_then(|v| v.as_s().ok()).map_or("", String::as_str)
}

/// One shard's Query in a merged listing: what it has read and not yet given out, and where it
/// goes on.
struct ShardCursor {
    query: QueryFluentBuilder,
    buffer: std::collections::VecDeque<Item>,
    start: Option<HashMap<String, AttributeValue>>,
    done: bool,
}

impl ShardCursor {
    fn new(query: QueryFluentBuilder) -> Self {
        ShardCursor { query, buffer: Default::default(), start: None, done: false }
    }

    fn must_fetch(&self) -> bool {
        self.buffer.is_empty() && !self.done
    }

    async fn fetch(&mut self) -> Result<(), StoreError> {
        let out =
            self.query.clone().set_exclusive_start_key(self.start.take()).send().await.map_err(StoreError::backend)?;
        self.buffer.extend(out.items.unwrap_or_default());
        self.start = out.last_evaluated_key;
        self.done = self.start.is_none();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_only_continue_their_own_listing() {
        let listing = Listing::AccountNumbers("a".into());
        let item: Item =
            [(PK, "NUM#+1"), (SK, "N"), (GSI1PK, "ACCT#a"), (GSI1SK, "+1"), (GSI2PK, "NUMS"), (GSI2SK, "+1")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), AttributeValue::S(v.to_string())))
                .collect();
        let token = encode_token(&position(&item, &listing));
        assert!(decode_token(&token, &listing).is_ok());
        assert!(decode_token(&token, &Listing::AccountNumbers("b".into())).is_err());
        assert!(decode_token(&token, &Listing::AllNumbers).is_err());
        let all = encode_token(&position(&item, &Listing::AllNumbers));
        assert!(decode_token(&all, &Listing::AllNumbers).is_ok());
        assert!(decode_token(&all, &listing).is_err());
        assert!(decode_token("!!", &listing).is_err());
        assert!(decode_token("e30", &listing).is_err());
    }
}
