//! The `search` query parameter (an extension; ACG had only `filter`): plain text that a list
//! item matches when one of its resource's search fields contains it, ignoring case. Staff type
//! "woodgrove", "+44 20" or a tenant id fragment; they need not know OData.
//!
//! Telephone numbers also match on their digits alone, so "+1 425 555" and "(425) 555" find
//! `+14255550102`; a search that starts with `+` is the start of the number ("+44" finds UK
//! numbers, not every number with 44 in it). The match runs over the stored document of each item a listing reads, after
//! DynamoDB has applied any `filter` (DynamoDB's own `contains` is case-sensitive).

use crate::error::FieldError;

const TARGET: &str = "search";
pub const MAX_LEN: usize = 100;

/// A parsed search: the lowercased text and, if it looks like part of a phone number, its digits.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    text: String,
    digits: Option<String>,
    /// The digits are the start of the number (the search began with `+`).
    from_start: bool,
    fields: &'static [&'static str],
}

impl Search {
    /// `None` for blank input. `fields` are the dotted paths the resource is searched by.
    pub fn parse(input: &str, fields: &'static [&'static str]) -> Result<Option<Search>, FieldError> {
        let text = input.trim();
        if text.chars().count() > MAX_LEN {
            return Err(FieldError::new(TARGET, format!("a search may be at most {MAX_LEN} characters")));
        }
        if text.is_empty() {
            return Ok(None);
        }
        let phone_like = text.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        Ok(Some(Search {
            text: text.to_lowercase(),
            digits: (phone_like && !digits.is_empty()).then_some(digits),
            from_start: text.starts_with('+'),
            fields,
        }))
    }

    /// The paths an item is searched by.
    pub fn fields(&self) -> &'static [&'static str] {
        self.fields
    }

    /// Whether an item matches, given its values of the search fields as (field, value) pairs
    /// (none for a field it lacks, several for a field inside a list).
    pub fn matches<'a>(&self, values: impl IntoIterator<Item = (&'a str, &'a str)>) -> bool {
        values.into_iter().any(|(field, value)| {
            if value.to_lowercase().contains(&self.text) {
                return true;
            }
            match &self.digits {
                Some(d) if field.ends_with("telephoneNumber") => {
                    let number: String = value.chars().filter(char::is_ascii_digit).collect();
                    if self.from_start {
                        number.starts_with(d.as_str())
                    } else {
                        number.contains(d.as_str())
                    }
                }
                _ => false,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[&str] = &["telephoneNumber", "accountName"];

    fn hit(q: &str, number: &str, account: &str) -> bool {
        let s = Search::parse(q, FIELDS).unwrap().unwrap();
        s.matches([("telephoneNumber", number), ("accountName", account)])
    }

    #[test]
    fn matches_text_ignoring_case_and_numbers_by_digits() {
        assert!(hit("WOODgrove", "+14255550102", "woodgrove-bank"));
        assert!(hit("+1 425 555", "+14255550102", "a"));
        assert!(hit("(425) 555-01", "+14255550102", "a"));
        assert!(hit("+44", "+442071234567", "a"));
        assert!(!hit("+44", "+14255550102", "a"));
        assert!(!hit("+44", "+15105854401", "a"), "+ anchors the digits at the number's start");
        assert!(hit("44 01", "+15105854401", "a"));
        assert!(!hit("contoso", "+14255550102", "woodgrove"));
        // Digits alone match numbers only, not other fields' digits.
        assert!(!hit("12", "+44207", "x-1-2"));
        assert!(hit("x-1", "+44207", "x-1-2"));
    }

    #[test]
    fn blank_is_no_search_and_length_is_bounded() {
        assert_eq!(Search::parse("  ", FIELDS), Ok(None));
        let err = Search::parse(&"a".repeat(MAX_LEN + 1), FIELDS).unwrap_err();
        assert_eq!(err.target, "search");
    }

    #[test]
    fn an_item_without_the_fields_does_not_match() {
        let s = Search::parse("a", FIELDS).unwrap().unwrap();
        assert!(!s.matches([]));
    }
}
