//! Pre-flight checks of numbers before they are saved (`:validateNumbers`, an extension): what
//! the API would refuse, and what it would accept but the backend would refuse at the next sync
//! (a number outside the tenant's consented countries fails there as `CountryNotCovered`).
//! Nothing is written; the caller decides.

use serde::Serialize;

use crate::telephone;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    /// The API refuses the number as it stands.
    Error,
    /// The API accepts it, but it will probably fail later.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
}

/// One number's verdict: no problems means it would be saved and is expected to sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub telephone_number: String,
    pub problems: Vec<Problem>,
}

/// What is known of the account's tenant for the consent check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consent<'a> {
    /// The account has no Teams tenant: nothing to check (Direct Routing, Zoom).
    NoTenant,
    /// The tenant has not consented (no request for information).
    NotGiven { tenant: &'a str },
    /// The tenant's consent is suspended or removed.
    NotActive { tenant: &'a str, status: &'a str },
    /// The tenant's consented countries (ISO alpha-2; `UK` is read as `GB`, as the backend does).
    Countries(&'a [String]),
}

/// Checks `tn` for `account`, given its current owner here (if any) and the tenant's consent.
pub fn check(tn: &str, account: &str, owner: Option<&str>, consent: &Consent) -> Verdict {
    let mut problems = Vec::new();
    let problem = |code, severity, message: String| Problem { code, severity, message };
    if let Err(e) = telephone::validate("telephoneNumber", tn) {
        problems.push(problem("InvalidInput", Severity::Error, e.message));
        return Verdict { telephone_number: tn.to_string(), problems };
    }
    if let Some(other) = owner.filter(|o| *o != account) {
        problems.push(problem(
            "NumberOwnedByAnotherAccount",
            Severity::Error,
            format!("{tn} belongs to account {other}"),
        ));
    }
    match consent {
        Consent::NoTenant => {}
        Consent::NotGiven { tenant } => problems.push(problem(
            "ConsentNotGiven",
            Severity::Warning,
            format!("Teams tenant {tenant} has not consented to this operator yet: the number waits, or fails, at the sync"),
        )),
        Consent::NotActive { tenant, status } => problems.push(problem(
            "ConsentNotActive",
            Severity::Warning,
            format!("Teams tenant {tenant}'s consent is {status}: the backend refuses its numbers until it is active again"),
        )),
        Consent::Countries(countries) => match telephone::region(tn) {
            Some(region) if countries.iter().any(|c| same_country(c, &region)) => {}
            Some(region) => problems.push(problem(
                "OutsideConsentedCountries",
                Severity::Warning,
                format!(
                    "{tn} is a number of {region}, but the tenant consented to {}: the backend will refuse it (CountryNotCovered)",
                    list(countries)
                ),
            )),
            None => problems.push(problem(
                "CountryUnknown",
                Severity::Warning,
                format!("the country of {tn} cannot be told from its digits; the backend may refuse it"),
            )),
        },
    }
    Verdict { telephone_number: tn.to_string(), problems }
}

fn same_country(consented: &str, region: &str) -> bool {
    consented.eq_ignore_ascii_case(region) || (consented.eq_ignore_ascii_case("UK") && region == "GB")
}

fn list(countries: &[String]) -> String {
    if countries.is_empty() {
        "no country".into()
    } else {
        countries.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(v: &Verdict) -> Vec<&str> {
        v.problems.iter().map(|p| p.code).collect()
    }

    #[test]
    fn consented_countries_are_checked_by_the_numbers_region() {
        let us = vec!["US".to_string()];
        assert_eq!(codes(&check("+14255550102", "a", None, &Consent::Countries(&us))), Vec::<&str>::new());
        let v = check("+442071838750", "a", None, &Consent::Countries(&us));
        assert_eq!(codes(&v), ["OutsideConsentedCountries"]);
        assert_eq!(v.problems[0].severity, Severity::Warning);
        assert!(v.problems[0].message.contains("GB") && v.problems[0].message.contains("US"), "{v:?}");
        // A Canadian number shares +1 with the US: its region is told from its area code.
        assert_eq!(codes(&check("+14165550123", "a", None, &Consent::Countries(&us))), ["OutsideConsentedCountries"]);
        let uk = vec!["uk".to_string()];
        assert_eq!(codes(&check("+442071838750", "a", None, &Consent::Countries(&uk))), Vec::<&str>::new());
    }

    #[test]
    fn errors_the_api_would_answer_and_other_warnings() {
        let v = check("+1 425", "a", None, &Consent::NoTenant);
        assert_eq!((codes(&v), v.problems[0].severity), (vec!["InvalidInput"], Severity::Error));
        assert_eq!(codes(&check("+14255550102", "a", Some("b"), &Consent::NoTenant)), ["NumberOwnedByAnotherAccount"]);
        assert_eq!(codes(&check("+14255550102", "a", Some("a"), &Consent::NoTenant)), Vec::<&str>::new());
        let t = Consent::NotGiven { tenant: "t" };
        assert_eq!(codes(&check("+14255550102", "a", None, &t)), ["ConsentNotGiven"]);
        let t = Consent::NotActive { tenant: "t", status: "suspended" };
        assert_eq!(codes(&check("+14255550102", "a", None, &t)), ["ConsentNotActive"]);
    }
}
