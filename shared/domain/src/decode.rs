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
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| field_error::<T>(bytes, e))?;
    de.end().map_err(|e| DecodeError::Syntax(format!("trailing data after the JSON body: {e}")))?;
    Ok(value)
}

fn field_error<T: DeserializeOwned>(bytes: &[u8], e: serde_path_to_error::Error<serde_json::Error>) -> DecodeError {
    let inner = e.inner();
    if inner.is_syntax() || inner.is_eof() || inner.is_io() {
        // serde_json reports a number or bool where an enum's string belongs as a syntax error,
        // though the JSON is fine: name the field and its allowed values instead.
        if let Ok(body) = serde_json::from_slice::<serde_json::Value>(bytes) {
            return wrong_type::<T>(body, e.path());
        }
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

/// A field holds valid JSON of the wrong type. Puts a string no enum accepts there and decodes
/// again, so serde names the variants it expects.
fn wrong_type<T: DeserializeOwned>(mut body: serde_json::Value, path: &serde_path_to_error::Path) -> DecodeError {
    use serde_path_to_error::Segment;
    let target = path.to_string();
    let mut slot = Some(&mut body);
    for seg in path.iter() {
        slot = match (seg, slot) {
            (Segment::Map { key }, Some(v)) => v.get_mut(key.as_str()),
            (Segment::Seq { index }, Some(v)) => v.get_mut(*index),
            _ => None,
        };
    }
    let expected = match slot {
        Some(v) => {
            *v = serde_json::Value::String("\u{1}".into());
            let retry = serde_path_to_error::deserialize::<_, T>(&body);
            let msg = retry.err().map(|e| e.inner().to_string()).unwrap_or_default();
            msg.split_once("expected ").map(|(_, allowed)| allowed.to_string())
        }
        None => None,
    };
    let message = match expected {
        Some(allowed) => format!("{target}: wrong type; expected {allowed}"),
        None => format!("{target}: wrong type"),
    };
    DecodeError::Field(FieldError::new(&target, message))
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
        // Valid JSON of the wrong type where an enum belongs names the field and its values.
        let body = br#"{"telephoneNumber":"+15105850321","accountName":"a","serviceDetails":{"teamsOperatorConnect":{"enabled":true,"assignmentStatus":1,"configuration":{"usage":5}}}}"#;
        let DecodeError::Field(f) = json::<Number>(body).unwrap_err() else { panic!() };
        assert_eq!(f.target, "serviceDetails.teamsOperatorConnect.assignmentStatus");
        assert!(f.message.contains("`assigned` or `unassigned`"), "{}", f.message);
        let body = br#"{"telephoneNumber":"+15105850321","accountName":"a","serviceDetails":{"teamsOperatorConnect":{"enabled":true,"configuration":{"usage":5}}}}"#;
        let DecodeError::Field(f) = json::<Number>(body).unwrap_err() else { panic!() };
        assert_eq!(f.target, "serviceDetails.teamsOperatorConnect.configuration.usage");
        assert!(f.message.contains("CallingUserAssignment"), "{}", f.message);
        assert_eq!(json::<Number>(b"  "), Err(DecodeError::Empty));
    }
}
