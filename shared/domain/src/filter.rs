//! The `filter` query parameter: a small OData-style grammar.
//!
//! ```text
//! expr       := and ('or' and)*
//! and        := term ('and' term)*
//! term       := '(' expr ')' | field ('eq'|'ne') literal | 'startswith' '(' field ',' string ')'
//! field      := name (('/'|'.') name)*          -- one of the resource's documented fields
//! literal    := 'text' ('' escapes a quote) | true | false | integer
//! ```
//! Anything else is an error naming the `filter` parameter and the position.

use crate::error::FieldError;

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Bool(bool),
    Int(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Eq(String, Literal),
    Ne(String, Literal),
    StartsWith(String, String),
    /// A list field holds the literal. Not in the query grammar: the API builds it (an audit
    /// event's `telephoneNumbers`).
    Contains(String, Literal),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

const TARGET: &str = "filter";
const MAX_LEN: usize = 2048;
const MAX_DEPTH: usize = 32;

/// Parses `input`, accepting only the dotted field paths in `fields`.
pub fn parse(input: &str, fields: &[&str]) -> Result<Filter, FieldError> {
    if input.len() > MAX_LEN {
        return Err(FieldError::new(TARGET, format!("a filter may be at most {MAX_LEN} characters")));
    }
    let tokens = lex(input)?;
    let mut p = Parser { tokens, pos: 0, fields, depth: 0 };
    let f = p.expr()?;
    match p.peek() {
        None => Ok(f),
        Some(t) => Err(p.error(format!("unexpected {}", t.describe()))),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Int(i64),
    LParen,
    RParen,
    Comma,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Word(w) => format!("'{w}'"),
            Tok::Str(s) => format!("string '{s}'"),
            Tok::Int(i) => format!("number {i}"),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::Comma => "','".into(),
        }
    }
}

fn lex(input: &str) -> Result<Vec<(usize, Tok)>, FieldError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push((start, Tok::LParen));
                i += 1;
            }
            ')' => {
                out.push((start, Tok::RParen));
                i += 1;
            }
            ',' => {
                out.push((start, Tok::Comma));
                i += 1;
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(FieldError::new(
                                TARGET,
                                format!("unterminated string starting at position {start}"),
                            ))
                        }
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push((start, Tok::Str(s)));
            }
            c if c.is_ascii_digit() || c == '-' => {
                i += 1;
                while chars.get(i).is_some_and(|c| c.is_ascii_digit()) {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let n = text
                    .parse()
                    .map_err(|_| FieldError::new(TARGET, format!("bad number {text:?} at position {start}")))?;
                out.push((start, Tok::Int(n)));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                while chars.get(i).is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '/' | '.')) {
                    i += 1;
                }
                out.push((start, Tok::Word(chars[start..i].iter().collect())));
            }
            other => {
                return Err(FieldError::new(TARGET, format!("unexpected character {other:?} at position {start}")))
            }
        }
    }
    Ok(out)
}

struct Parser<'a> {
    tokens: Vec<(usize, Tok)>,
    pos: usize,
    fields: &'a [&'a str],
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|(_, t)| t)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.tokens.get(self.pos).map(|(_, t)| t.clone());
        self.pos += 1;
        t
    }

    fn error(&self, msg: String) -> FieldError {
        let at = self.tokens.get(self.pos).map(|(p, _)| *p);
        match at {
            Some(p) => FieldError::new(TARGET, format!("{msg} at position {p}")),
            None => FieldError::new(TARGET, format!("{msg} at the end of the filter")),
        }
    }

    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
    }

    fn expect(&mut self, t: Tok) -> Result<(), FieldError> {
        if self.peek() == Some(&t) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected {}", t.describe())))
        }
    }

    fn expr(&mut self) -> Result<Filter, FieldError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("the filter is nested too deeply".into()));
        }
        let mut left = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, FieldError> {
        let mut left = self.term()?;
        while self.keyword("and") {
            self.pos += 1;
            left = Filter::And(Box::new(left), Box::new(self.term()?));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Filter, FieldError> {
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.expr()?;
            self.expect(Tok::RParen)?;
            return Ok(e);
        }
        if self.keyword("startswith") {
            self.pos += 1;
            self.expect(Tok::LParen)?;
            let field = self.field()?;
            self.expect(Tok::Comma)?;
            let Some(Tok::Str(prefix)) = self.peek().cloned() else {
                return Err(self.error("startswith needs a quoted string".into()));
            };
            self.pos += 1;
            self.expect(Tok::RParen)?;
            return Ok(Filter::StartsWith(field, prefix));
        }
        let field = self.field()?;
        let op = match self.next() {
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("eq") => "eq",
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("ne") => "ne",
            _ => {
                self.pos -= 1;
                return Err(self
                    .error("expected 'eq' or 'ne' (the supported operators are eq, ne, startswith, and, or)".into()));
            }
        };
        let lit = match self.next() {
            Some(Tok::Str(s)) => Literal::Str(s),
            Some(Tok::Int(i)) => Literal::Int(i),
            Some(Tok::Word(w)) if w == "true" => Literal::Bool(true),
            Some(Tok::Word(w)) if w == "false" => Literal::Bool(false),
            _ => {
                self.pos -= 1;
                return Err(self.error("expected a value: 'text', true, false or a number".into()));
            }
        };
        Ok(if op == "eq" { Filter::Eq(field, lit) } else { Filter::Ne(field, lit) })
    }

    fn field(&mut self) -> Result<String, FieldError> {
        match self.peek().cloned() {
            Some(Tok::Word(w)) => {
                let dotted = w.replace('/', ".");
                if self.fields.contains(&dotted.as_str()) {
                    self.pos += 1;
                    Ok(dotted)
                } else {
                    Err(self.error(format!("{w:?} is not a filterable field; use one of: {}", self.fields.join(", "))))
                }
            }
            _ => Err(self.error("expected a field name".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: &[&str] = &["name", "serviceDetails.teamsOperatorConnect.enabled", "count"];

    #[test]
    fn parses_the_grammar() {
        let f = parse(
            "name eq 'con''toso' and (serviceDetails/teamsOperatorConnect/enabled eq true or startswith(name,'fab'))",
            F,
        )
        .unwrap();
        assert_eq!(
            f,
            Filter::And(
                Box::new(Filter::Eq("name".into(), Literal::Str("con'toso".into()))),
                Box::new(Filter::Or(
                    Box::new(Filter::Eq("serviceDetails.teamsOperatorConnect.enabled".into(), Literal::Bool(true))),
                    Box::new(Filter::StartsWith("name".into(), "fab".into())),
                )),
            )
        );
        assert_eq!(parse("count ne -3", F).unwrap(), Filter::Ne("count".into(), Literal::Int(-3)));
    }

    #[test]
    fn rejects_what_it_does_not_support() {
        for bad in [
            "",
            "name gt 'a'",
            "nope eq 'a'",
            "name eq",
            "name eq 'a' xor name eq 'b'",
            "(name eq 'a'",
            "name eq 'a",
            "startswith(name, 3)",
            "name eq 'a' ;",
            &"(".repeat(100),
        ] {
            let e = parse(bad, F).unwrap_err();
            assert_eq!(e.target, "filter", "{bad}");
        }
    }
}
