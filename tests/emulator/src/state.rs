//! The emulator's state and its rules.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use switchboard_backend::*;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Config {
    /// Share of /v1 requests answered 429 (0.0–1.0).
    pub fault429: f64,
    /// Share answered 500.
    pub fault500: f64,
    /// Share answered only after `slow_ms` (the work is still done).
    pub fault_slow: f64,
    pub slow_ms: u64,
    /// Polls of an order before it finishes.
    pub polls_to_complete: u32,
    /// Requests per rolling minute past which the answer is 429.
    pub rate_limit_per_minute: usize,
    /// How long the emulator's minute is, in real milliseconds (its time scale: 6000 makes a day
    /// of rate limit pass in 2.4 hours). Our client's `BACKEND_MINUTE_MS` must match it.
    pub minute_ms: u64,
    pub page_size: usize,
    /// Seeds the fault dice, so a test's faults fall the same way every run.
    pub seed: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            fault429: 0.0,
            fault500: 0.0,
            fault_slow: 0.0,
            slow_ms: 1500,
            polls_to_complete: 2,
            rate_limit_per_minute: 100,
            minute_ms: 60_000,
            page_size: 100,
            seed: None,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub requests: u64,
    pub injected429: u64,
    pub injected500: u64,
    pub injected_slow: u64,
    /// Requests refused because the client went past the rate limit.
    pub rate_limit_violations: u64,
    /// The most requests seen in any rolling minute.
    pub max_per_minute: usize,
    pub orders_created: u64,
    /// Access tokens issued (clients should cache theirs).
    pub tokens_issued: u64,
    pub numbers_by_tenant: BTreeMap<String, usize>,
}

pub struct OrderState {
    pub order: Order,
    pub polls: u32,
    pub uploads: Vec<UploadNumber>,
}

pub struct State {
    pub config: Config,
    pub consents: BTreeMap<String, Consent>,
    /// tn → (tenant, number); change it through `put_number` / `drop_number`, which keep
    /// `by_tenant` in step.
    pub numbers: BTreeMap<String, (String, TenantNumber)>,
    /// tenant → its numbers, in number order: a tenant's listing reads only its own (the
    /// emulator holds a million numbers across thousands of tenants).
    pub by_tenant: HashMap<String, BTreeSet<String>>,
    /// tenant → address id → address
    pub addresses: BTreeMap<String, BTreeMap<String, CivicAddress>>,
    pub orders: BTreeMap<String, OrderState>,
    pub tokens: HashSet<String>,
    pub window: VecDeque<Instant>,
    pub stats: Stats,
    dice: fastrand::Rng,
}

/// What the gate decided for one request.
pub enum Gate {
    Pass,
    Slow(Duration),
    TooMany { injected: bool },
    ServerError,
}

/// The time now in RFC 3339 (UTC), as the contract's timestamps are.
pub fn now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// The ISO region of a number ("US", "GB"), from libphonenumber's metadata.
fn region(tn: &str) -> Option<String> {
    let parsed = phonenumber::parse(None, tn).ok()?;
    parsed.country().id().map(|id| id.as_ref().to_string())
}

fn covers(countries: &[String], tn: &str) -> bool {
    let Some(r) = region(tn) else { return false };
    countries.iter().any(|c| c.eq_ignore_ascii_case(&r) || (c.eq_ignore_ascii_case("UK") && r == "GB"))
}

impl State {
    pub fn new(config: Config) -> Self {
        State {
            dice: config.seed.map(fastrand::Rng::with_seed).unwrap_or_default(),
            config,
            consents: BTreeMap::new(),
            numbers: BTreeMap::new(),
            by_tenant: HashMap::new(),
            addresses: BTreeMap::new(),
            orders: BTreeMap::new(),
            tokens: HashSet::new(),
            window: VecDeque::new(),
            stats: Stats::default(),
        }
    }

    /// New settings; a seed restarts the dice.
    pub fn configure(&mut self, config: Config) {
        if let Some(seed) = config.seed {
            self.dice = fastrand::Rng::with_seed(seed);
        }
        self.config = config;
    }

    /// Rate limit first (a real limit), then injected faults.
    pub fn gate(&mut self, inject: bool) -> Gate {
        self.stats.requests += 1;
        let now = Instant::now();
        let minute = Duration::from_millis(self.config.minute_ms);
        while self.window.front().is_some_and(|t| now.duration_since(*t) > minute) {
            self.window.pop_front();
        }
        if self.window.len() >= self.config.rate_limit_per_minute {
            self.stats.rate_limit_violations += 1;
            return Gate::TooMany { injected: false };
        }
        self.window.push_back(now);
        self.stats.max_per_minute = self.stats.max_per_minute.max(self.window.len());
        if !inject {
            return Gate::Pass;
        }
        let roll = self.dice.f64();
        let c = &self.config;
        if roll < c.fault429 {
            self.stats.injected429 += 1;
            Gate::TooMany { injected: true }
        } else if roll < c.fault429 + c.fault500 {
            self.stats.injected500 += 1;
            Gate::ServerError
        } else if roll < c.fault429 + c.fault500 + c.fault_slow {
            self.stats.injected_slow += 1;
            Gate::Slow(Duration::from_millis(c.slow_ms))
        } else {
            Gate::Pass
        }
    }

    pub fn stats(&self) -> Stats {
        let mut s = self.stats.clone();
        s.numbers_by_tenant = BTreeMap::new();
        for (tenant, _) in self.numbers.values() {
            *s.numbers_by_tenant.entry(tenant.clone()).or_default() += 1;
        }
        s
    }

    pub fn new_order(&mut self, kind: OrderKind, tenant: &str, tns: Vec<String>, uploads: Vec<UploadNumber>) -> Order {
        let order = Order {
            id: format!("o-{}", uuid::Uuid::new_v4().simple()),
            kind,
            tenant_id: tenant.to_string(),
            status: OrderStatus::Pending,
            created_on: Some(now()),
            numbers: tns
                .into_iter()
                .map(|t| OrderNumber { telephone_number: t, status: NumberResultStatus::Pending, error: None })
                .collect(),
        };
        self.stats.orders_created += 1;
        self.orders.insert(order.id.clone(), OrderState { order: order.clone(), polls: 0, uploads });
        order
    }

    /// One poll of an order: it moves on, and finishes after `polls_to_complete` polls.
    pub fn poll(&mut self, id: &str) -> Option<Order> {
        let needed = self.config.polls_to_complete;
        let st = self.orders.get_mut(id)?;
        if st.order.status.is_final() {
            return Some(st.order.clone());
        }
        st.polls += 1;
        if st.polls < needed {
            st.order.status = OrderStatus::InProgress;
            return Some(st.order.clone());
        }
        let (kind, tenant, uploads) = (st.order.kind, st.order.tenant_id.clone(), st.uploads.clone());
        let tns: Vec<String> = st.order.numbers.iter().map(|n| n.telephone_number.clone()).collect();
        let results: Vec<Result<(), ErrorInfo>> = match kind {
            OrderKind::Upload => uploads.iter().map(|u| self.apply_upload(&tenant, u)).collect(),
            OrderKind::Release => tns.iter().map(|tn| self.apply_release(&tenant, tn)).collect(),
        };
        let st = self.orders.get_mut(id)?;
        for (n, r) in st.order.numbers.iter_mut().zip(results) {
            match r {
                Ok(()) => n.status = NumberResultStatus::Succeeded,
                Err(e) => {
                    n.status = NumberResultStatus::Failed;
                    n.error = Some(e);
                }
            }
        }
        let ok = st.order.numbers.iter().filter(|n| n.status == NumberResultStatus::Succeeded).count();
        st.order.status = match ok {
            0 => OrderStatus::Failed,
            n if n == st.order.numbers.len() => OrderStatus::Succeeded,
            _ => OrderStatus::PartiallySucceeded,
        };
        Some(st.order.clone())
    }

    fn apply_upload(&mut self, tenant: &str, u: &UploadNumber) -> Result<(), ErrorInfo> {
        let err = |code: &str, message: String| Err(ErrorInfo { code: code.into(), message });
        let Some(consent) = self.consents.get(tenant) else {
            return err("ConsentNotActive", format!("tenant {tenant} has not consented"));
        };
        if consent.status != ConsentStatus::Active {
            return err("ConsentNotActive", format!("tenant {tenant}'s consent is {:?}", consent.status));
        }
        if !covers(&consent.consented_countries, &u.telephone_number) {
            return err(
                "CountryNotCovered",
                format!(
                    "the consent covers {:?}, not the country of {}",
                    consent.consented_countries, u.telephone_number
                ),
            );
        }
        let addresses = self.addresses.get(tenant);
        if let Some(id) = &u.civic_address_id {
            if !addresses.is_some_and(|a| a.contains_key(id)) {
                return err("CivicAddressNotFound", format!("tenant {tenant} has no civic address {id}"));
            }
        }
        if let Some(loc) = &u.location_id {
            if !addresses.is_some_and(|a| a.values().any(|ad| ad.locations.iter().any(|l| &l.id == loc))) {
                return err("LocationNotFound", format!("tenant {tenant} has no location {loc}"));
            }
        }
        if let Some((owner, _)) = self.numbers.get(&u.telephone_number) {
            if owner != tenant {
                return err("NumberOwnedByAnotherTenant", format!("{} belongs to another tenant", u.telephone_number));
            }
        }
        let previous = self.numbers.get(&u.telephone_number).and_then(|(_, n)| n.assignment_status.clone());
        self.put_number(
            tenant,
            TenantNumber {
                telephone_number: u.telephone_number.clone(),
                service: u.service,
                assignment_status: Some(previous.unwrap_or_else(|| "unassigned".into())),
                acquired_capabilities: u.choosable_capabilities.clone(),
                available_capabilities: u.choosable_capabilities.clone(),
                civic_address_id: u.civic_address_id.clone(),
                location_id: u.location_id.clone(),
                usage: u.usage.clone(),
            },
        );
        Ok(())
    }

    fn apply_release(&mut self, tenant: &str, tn: &str) -> Result<(), ErrorInfo> {
        match self.numbers.get(tn) {
            Some((owner, _)) if owner != tenant => Err(ErrorInfo {
                code: "NumberOwnedByAnotherTenant".into(),
                message: format!("{tn} belongs to another tenant"),
            }),
            // Releasing what is already gone is done.
            None => Ok(()),
            Some(_) => {
                self.drop_number(tn);
                Ok(())
            }
        }
    }

    pub fn put_number(&mut self, tenant: &str, n: TenantNumber) {
        self.by_tenant.entry(tenant.to_string()).or_default().insert(n.telephone_number.clone());
        if let Some((old, _)) = self.numbers.insert(n.telephone_number.clone(), (tenant.to_string(), n.clone())) {
            if old != tenant {
                self.by_tenant.entry(old).or_default().remove(&n.telephone_number);
            }
        }
    }

    pub fn drop_number(&mut self, tn: &str) {
        if let Some((tenant, _)) = self.numbers.remove(tn) {
            if let Some(set) = self.by_tenant.get_mut(&tenant) {
                set.remove(tn);
            }
        }
    }

    /// One page of a tenant's numbers in number order, after the number `token` names (a
    /// keyset token: a number released between pages moves nothing, so a listing can be
    /// carried on later from where it stopped).
    pub fn tenant_page(&self, tenant: &str, token: Option<&str>) -> ListPage<TenantNumber> {
        use std::ops::Bound::{Excluded, Unbounded};
        let size = self.config.page_size.max(1);
        let Some(set) = self.by_tenant.get(tenant) else {
            return ListPage { value: vec![], continuation_token: None };
        };
        let from = token.map_or(Unbounded, |t| Excluded(t.to_string()));
        let mut tns = set.range::<String, _>((from, Unbounded));
        let value: Vec<TenantNumber> =
            tns.by_ref().take(size).filter_map(|tn| self.numbers.get(tn).map(|(_, n)| n.clone())).collect();
        let more = tns.next().is_some();
        let last = value.last().map(|n| n.telephone_number.clone());
        ListPage { value, continuation_token: last.filter(|_| more) }
    }

    pub fn page<T: Clone>(&self, all: Vec<T>, token: Option<&str>) -> Result<ListPage<T>, ()> {
        let start: usize = match token {
            Some(t) => t.parse().map_err(|_| ())?,
            None => 0,
        };
        let size = self.config.page_size.max(1);
        let end = (start + size).min(all.len());
        let value = all.get(start..end).map(<[T]>::to_vec).unwrap_or_default();
        Ok(ListPage { value, continuation_token: (end < all.len()).then(|| end.to_string()) })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_are_rfc3339() {
        let t = super::now();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.starts_with("20") && t.ends_with('Z') && &t[10..11] == "T", "{t}");
    }
}
