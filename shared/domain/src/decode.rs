//! Decoding a JSON request body into a domain type, with an error that names the field. The
//! API uses this for every body; it is also a fuzz target.

use serde::de::DeserializeOwned;

use crate::error::FieldError;

/// Why a body didn't decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// No body, or nothing but whitespace.
    Empty,
    /// Not JSON.
    Syntax(String),
    /// JSON, but a field is missing or has the wrong type or value; `target` names it.
    Field(FieldError),
}

/// Decodes `bytes` as one JSON value of type `T`.
pub fn json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(DecodeError::Empty);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(field_error)?;
    de.end().map_err(|e| DecodeError::Syntax(format!("trailing data after the JSON body: {e}")))?;
    Ok(value)
}

fn field_error(e: serde_path_to_error::Error<serde_json::Error>) -> DecodeError {
    let inner = e.inner();
    if inner.is_syntax() || inner.is_eof() || inner.is_io() {
        return DecodeError::Syntax(format!("the body is not valid JSON: {inner}"));
    }
    let path = e.path().to_string();
    let msg = inner.to_string();
    // serde reports a missing field at its parent; name the field itself.
    let target = match msg.split('`').nth(1).filter(|_| msg.starts_with("missing field")) {
        Some(field) if path == "." => field.to_string(),
        Some(field) => format!("{path}.{field}"),
        None if path == "." => "body".to_string(),
        None => path,
    };
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    DecodeError::Field(FieldError::new(&target, format!("{target}: {msg}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Number;

    #[test]
    fn names_the_field() {
        let e = json::<Number>(br#"{"telephoneNumber":"+1","accountName":"a","serviceDetails":{"teamsOperatorConnect":{"enabled":"yes"}}}"#)
            .unwrap_err();
        let DecodeError::Field(f) = e else { panic!("{e:?}") };
        assert_eq!(f.target, "serviceDetails.teamsOperatorConnect.enabled");
        let DecodeError::Field(f) = json::<Number>(br#"{"accountName":"a","serviceDetails":{}}"#).unwrap_err() else {
            panic!()
        };
        assert_eq!(f.target, "telephoneNumber");
        assert!(matches!(json::<Number>(b"{"), Err(DecodeError::Syntax(_))));
        assert_eq!(json::<Number>(b"  "), Err(DecodeError::Empty));
    }
}
