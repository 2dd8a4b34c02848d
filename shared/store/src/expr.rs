//! Building DynamoDB expressions: placeholders for names and values, and the translation of
//! the API's `filter` into a FilterExpression over the stored document.

use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

use switchboard_domain::filter::{Filter, Literal};

use crate::keys::DOC;

/// Collects `#name` and `:value` placeholders while an expression is written.
#[derive(Debug, Default)]
pub struct Placeholders {
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
}

impl Placeholders {
    /// A placeholder for a (possibly dotted) attribute path, e.g. `doc.serviceDetails` → `#n0.#n1`.
    pub fn path(&mut self, path: &str) -> String {
        path.split('.')
            .map(|part| {
                let existing = self.names.iter().find(|(_, v)| v.as_str() == part).map(|(k, _)| k.clone());
                existing.unwrap_or_else(|| {
                    let k = format!("#n{}", self.names.len());
                    self.names.insert(k.clone(), part.to_string());
                    k
                })
            })
            .collect::<Vec<_>>()
            .join(".")
    }

    pub fn value(&mut self, v: AttributeValue) -> String {
        let k = format!(":v{}", self.values.len());
        self.values.insert(k.clone(), v);
        k
    }

    pub fn names_opt(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    pub fn values_opt(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

fn literal(l: &Literal) -> AttributeValue {
    match l {
        Literal::Str(s) => AttributeValue::S(s.clone()),
        Literal::Bool(b) => AttributeValue::Bool(*b),
        Literal::Int(i) => AttributeValue::N(i.to_string()),
    }
}

/// Translates a parsed filter into a FilterExpression over the `doc` attribute.
pub fn filter_expression(f: &Filter, p: &mut Placeholders) -> String {
    match f {
        Filter::Eq(field, v) => {
            let path = p.path(&format!("{DOC}.{field}"));
            format!("{path} = {}", p.value(literal(v)))
        }
        Filter::Ne(field, v) => {
            // OData `ne` also matches an absent field, as DynamoDB's `<>` does.
            let path = p.path(&format!("{DOC}.{field}"));
            format!("{path} <> {}", p.value(literal(v)))
        }
        Filter::StartsWith(field, prefix) => {
            let path = p.path(&format!("{DOC}.{field}"));
            format!("begins_with({path}, {})", p.value(AttributeValue::S(prefix.clone())))
        }
        Filter::Contains(field, v) => {
            let path = p.path(&format!("{DOC}.{field}"));
            format!("contains({path}, {})", p.value(literal(v)))
        }
        Filter::And(a, b) => format!("({}) AND ({})", filter_expression(a, p), filter_expression(b, p)),
        Filter::Or(a, b) => format!("({}) OR ({})", filter_expression(a, p), filter_expression(b, p)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_domain::filter::parse;

    #[test]
    fn translates_with_placeholders() {
        let f = parse(
            "name eq 'a' or startswith(serviceDetails/teamsTenantId,'b')",
            &["name", "serviceDetails.teamsTenantId"],
        )
        .unwrap();
        let mut p = Placeholders::default();
        let e = filter_expression(&f, &mut p);
        assert_eq!(e, "(#n0.#n1 = :v0) OR (begins_with(#n0.#n2.#n3, :v1))");
        assert_eq!(p.names["#n3"], "teamsTenantId");
    }
}
