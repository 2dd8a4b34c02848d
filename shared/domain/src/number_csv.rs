//! Numbers as CSV, the portal's file format (`provisioning-api.md` §6): each heading is a JSON
//! path of the number with `.` written `_`; several values in one cell are separated by `;`.
//!
//! A row is turned into the number's JSON and decoded by the same serde types as the API, then
//! checked by the same rules, so a file can hold nothing an API call couldn't.

use serde_json::{Map, Value};
use std::collections::HashMap;

use crate::error::{DomainError, FieldError};
use crate::Number;

/// Rows one file may hold.
pub const MAX_ROWS: usize = 10_000;
/// Row errors listed in one response; a file wrong throughout needs no more to be fixed.
pub const MAX_REPORTED: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Bool,
    List,
    /// Written by an export with `includeStatus`, skipped by an import: only the sync sets it.
    ReadOnly,
}

/// The read-only columns an export may add after the others: the number's sync status and its
/// errors (`code: message`, separated by `; `). An import skips them, so such a file re-imports.
pub const STATUS_HEADINGS: [&str; 2] = ["serviceProvisioningStatus", "serviceProvisioningErrors"];

const TEAMS_SUFFIXES: [(&str, Kind); 9] = [
    ("enabled", Kind::Bool),
    ("assignmentStatus", Kind::Text),
    ("configuration_usage", Kind::Text),
    ("configuration_choosableCapabilities", Kind::List),
    ("configuration_additionalUsages", Kind::List),
    ("configuration_civicAddressId", Kind::Text),
    ("configuration_locationId", Kind::Text),
    ("configuration_allowTenantAddressUpdate", Kind::Bool),
    ("configuration_displayedCountryCode", Kind::Text),
];

/// Every column, in the order an export writes them.
pub fn headings() -> Vec<String> {
    columns().into_iter().map(|(h, _)| h).collect()
}

fn columns() -> Vec<(String, Kind)> {
    let mut cols = vec![
        ("telephoneNumber".to_string(), Kind::Text),
        ("accountName".to_string(), Kind::Text),
        ("configuration_customSipHeader".to_string(), Kind::Text),
    ];
    for service in ["teamsOperatorConnect", "teamsPhoneMobile"] {
        for (suffix, kind) in TEAMS_SUFFIXES {
            cols.push((format!("serviceDetails_{service}_{suffix}"), kind));
        }
    }
    for service in ["teamsDirectRouting", "zoomPhoneCloudPeering", "azureOperatorCallProtection"] {
        cols.push((format!("serviceDetails_{service}_enabled"), Kind::Bool));
    }
    cols
}

/// A JSON path (`a.b.c`, as rule targets name fields) as its CSV heading (`a_b_c`).
fn heading_of(path: &str) -> String {
    path.replace('.', "_")
}

/// One good row: its line in the file (the headings are line 1) and its number.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: u64,
    pub number: Number,
}

/// Reads a whole file for `account`. Every row is checked; any problem rejects the file with one
/// error per bad field, each targeted `line N: heading`.
pub fn parse(account: &str, body: &[u8]) -> Result<Vec<Row>, DomainError> {
    let lines = LineIndex::of(body);
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(body);
    let known: HashMap<String, Kind> = columns().into_iter().collect();
    let headers = reader.headers().map_err(|e| file_error(&e.to_string()))?.clone();
    let mut problems = Vec::new();
    let mut kinds = Vec::with_capacity(headers.len());
    for h in headers.iter() {
        match known.get(h) {
            Some(k) => kinds.push(*k),
            None if STATUS_HEADINGS.contains(&h) => kinds.push(Kind::ReadOnly),
            None => problems.push(FieldError::new(
                format!("line 1: {h}"),
                format!(
                    "unknown heading {h:?}; headings are: {} (and, skipped, {})",
                    headings().join(", "),
                    STATUS_HEADINGS.join(", ")
                ),
            )),
        }
    }
    let tn_column = headers.iter().position(|h| h == "telephoneNumber");
    if tn_column.is_none() {
        problems.push(FieldError::new("line 1: telephoneNumber", "the file needs a telephoneNumber column"));
    }
    if !problems.is_empty() {
        return Err(DomainError::Invalid(problems));
    }

    let mut rows = Vec::new();
    let mut first_line: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| lines.line_at(p.byte())).unwrap_or(0);
                problems.push(FieldError::new(format!("line {line}"), csv_reason(&e)));
                continue;
            }
        };
        let line = record.position().map(|p| lines.line_at(p.byte())).unwrap_or(0);
        if record.iter().all(str::is_empty) {
            continue; // a blank line, as spreadsheets leave at the end
        }
        if rows.len() + problems.len() >= MAX_ROWS {
            return Err(file_error(&format!("the file holds more than {MAX_ROWS} rows")));
        }
        if let Some(tn) = tn_column.and_then(|i| record.get(i)).filter(|tn| !tn.is_empty()) {
            if let Some(first) = first_line.get(tn) {
                problems.push(FieldError::new(
                    format!("line {line}: telephoneNumber"),
                    format!("{tn} is also on line {first}"),
                ));
            } else {
                first_line.insert(tn.to_string(), line);
            }
        }
        match row_number(account, &headers, &kinds, &record, line) {
            Ok(number) => rows.push(Row { line, number }),
            Err(mut errs) => problems.append(&mut errs),
        }
    }
    if problems.is_empty() && rows.is_empty() {
        return Err(file_error("the file holds no numbers"));
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        problems.truncate(MAX_REPORTED);
        Err(DomainError::Invalid(problems))
    }
}

/// Where each physical line of a file starts, so a record is named by the line a spreadsheet
/// shows (headings are line 1) whatever ends its lines (LF, CRLF or CR), with blank lines
/// counted and a quoted multi-line cell's record named by its first line.
struct LineIndex<'a> {
    starts: Vec<u64>,
    /// The csv reader places a record where the previous one ended, before the line ends (and
    /// blank lines) in between; the body lets [`LineIndex::line_at`] step past them.
    body: &'a [u8],
}

impl<'a> LineIndex<'a> {
    fn of(body: &'a [u8]) -> LineIndex<'a> {
        let mut starts = vec![0];
        let mut i = 0;
        while i < body.len() {
            match body[i] {
                b'\r' if body.get(i + 1) == Some(&b'\n') => {
                    starts.push(i as u64 + 2);
                    i += 2;
                    continue;
                }
                b'\r' | b'\n' => starts.push(i as u64 + 1),
                _ => {}
            }
            i += 1;
        }
        LineIndex { starts, body }
    }

    /// The 1-based line of the record the reader placed at byte `offset`: its first character
    /// past any line ends.
    fn line_at(&self, offset: u64) -> u64 {
        let mut at = offset as usize;
        while matches!(self.body.get(at), Some(b'\r' | b'\n')) {
            at += 1;
        }
        self.starts.partition_point(|start| *start <= at as u64) as u64
    }
}

/// The characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection).
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell as exported: one that a spreadsheet would run as a formula gets a leading `'`
/// (shown as text, not evaluated), and so does one that already starts with `'`, so that
/// [`unguard`] restores every value exactly.
fn guard(value: &str) -> String {
    if value.starts_with(FORMULA_START) || value.starts_with('\'') {
        format!("'{value}")
    } else {
        value.to_string()
    }
}

/// The value of an imported text cell: a guard [`guard`] added is removed; a `'` a person typed
/// before ordinary text stays.
fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) || rest.starts_with('\'') => rest,
        _ => cell,
    }
}

fn file_error(message: &str) -> DomainError {
    DomainError::invalid("body", message)
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("the row has {len} cells; the headings have {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8".to_string(),
        _ => e.to_string(),
    }
}

/// One row as a number: its cells as the number's JSON, decoded and checked.
fn row_number(
    account: &str,
    headers: &csv::StringRecord,
    kinds: &[Kind],
    record: &csv::StringRecord,
    line: u64,
) -> Result<Number, Vec<FieldError>> {
    let at = |heading: &str| format!("line {line}: {heading}");
    let mut json = Map::new();
    let mut errors = Vec::new();
    for ((heading, kind), cell) in headers.iter().zip(kinds).zip(record.iter()) {
        if cell.is_empty() {
            continue;
        }
        let value = match kind {
            Kind::ReadOnly => continue,
            Kind::Text => Value::String(unguard(cell).to_string()),
            Kind::List => Value::Array(
                cell.split(';').map(str::trim).filter(|v| !v.is_empty()).map(|v| Value::String(v.into())).collect(),
            ),
            Kind::Bool => match cell.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => {
                    errors.push(FieldError::new(at(heading), format!("must be true or false, not {cell:?}")));
                    continue;
                }
            },
        };
        insert_path(&mut json, heading, value);
    }
    json.entry("accountName").or_insert_with(|| Value::String(account.to_string()));
    json.entry("serviceDetails").or_insert_with(|| Value::Object(Map::new()));
    if !errors.is_empty() {
        return Err(errors);
    }
    let number: Number = serde_path_to_error::deserialize(Value::Object(json)).map_err(|e| {
        let msg = e.inner().to_string();
        // serde names a missing field at its parent; name the field itself.
        let path = match msg.split('`').nth(1).filter(|_| msg.starts_with("missing field")) {
            Some(field) => format!("{}.{field}", e.path()),
            None => e.path().to_string(),
        };
        let heading = heading_of(path.trim_start_matches('.'));
        vec![FieldError::new(at(&heading), msg)]
    })?;
    number.validate(account, None).map_err(|e| match e {
        DomainError::Invalid(list) => {
            list.into_iter().map(|f| FieldError::new(at(&heading_of(&f.target)), f.message)).collect()
        }
        DomainError::Conflict { target, message, .. } => vec![FieldError::new(at(&heading_of(&target)), message)],
    })?;
    Ok(number)
}

fn insert_path(root: &mut Map<String, Value>, heading: &str, value: Value) {
    let mut parts: Vec<&str> = heading.split('_').collect();
    let last = parts.pop().unwrap_or_default();
    let mut node = root;
    for p in parts {
        let entry = node.entry(p).or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else { return };
        node = next;
    }
    node.insert(last.to_string(), value);
}

/// Writes numbers with every heading, in [`headings`] order. Read-only fields (provisioning
/// status and errors, capabilities the backend reports) are not part of the file.
pub fn write<'a>(numbers: impl IntoIterator<Item = &'a Number>) -> Result<Vec<u8>, String> {
    write_with(numbers, false)
}

/// As [`write`]; with `status`, the [`STATUS_HEADINGS`] columns follow the others.
pub fn write_with<'a>(numbers: impl IntoIterator<Item = &'a Number>, status: bool) -> Result<Vec<u8>, String> {
    let cols = columns();
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    let extra: &[&str] = if status { &STATUS_HEADINGS } else { &[] };
    w.write_record(cols.iter().map(|(h, _)| h.as_str()).chain(extra.iter().copied())).map_err(|e| e.to_string())?;
    for n in numbers {
        let json = serde_json::to_value(n).map_err(|e| e.to_string())?;
        // Telephone numbers are `+` and digits, which spreadsheets read as a number, never a
        // formula; every other text cell is guarded.
        let mut cells: Vec<String> = cols
            .iter()
            .map(|(h, kind)| match kind {
                Kind::Text if h != "telephoneNumber" => guard(&cell(&json, h)),
                _ => cell(&json, h),
            })
            .collect();
        if status {
            cells.push(cell(&json, STATUS_HEADINGS[0]));
            let errors: Vec<String> =
                n.service_provisioning_errors.iter().map(|e| format!("{}: {}", e.code, e.message)).collect();
            cells.push(guard(&errors.join("; ")));
        }
        w.write_record(cells).map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

fn cell(json: &Value, heading: &str) -> String {
    let value = heading.split('_').try_fold(json, |v, p| v.get(p));
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(";"),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "telephoneNumber,serviceDetails_teamsOperatorConnect_enabled,serviceDetails_teamsOperatorConnect_configuration_usage,serviceDetails_teamsOperatorConnect_configuration_choosableCapabilities,serviceDetails_teamsDirectRouting_enabled";

    #[test]
    fn reads_rows_with_lists_and_fills_the_account() {
        let body = format!(
            "{HEAD}\n+15105550001,true,CallingUserAssignment,InboundCalling;OutboundCalling,\n+15105550002,,,,TRUE\n"
        );
        let rows = parse("contoso", body.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        let oc = rows[0].number.service_details.teams_operator_connect.as_ref().unwrap();
        assert_eq!(oc.configuration.as_ref().unwrap().choosable_capabilities.len(), 2);
        assert_eq!(rows[1].number.account_name, "contoso");
        assert!(rows[1].number.service_details.teams_direct_routing.as_ref().unwrap().enabled);
    }

    #[test]
    fn every_bad_row_is_named_by_line_and_heading() {
        let body = format!(
            "{HEAD}\n+15105550001,true,,InboundCalling,\n15105550002,,,,true\n+15105550003,yes,,,\n+15105550001,,,,true\n"
        );
        let Err(DomainError::Invalid(errors)) = parse("contoso", body.as_bytes()) else { panic!("accepted") };
        let targets: Vec<&str> = errors.iter().map(|e| e.target.as_str()).collect();
        assert!(targets.contains(&"line 2: serviceDetails_teamsOperatorConnect_configuration_usage"), "{targets:?}");
        assert!(targets.contains(&"line 3: telephoneNumber"), "{targets:?}");
        assert!(targets.contains(&"line 4: serviceDetails_teamsOperatorConnect_enabled"), "{targets:?}");
        assert!(targets.contains(&"line 5: telephoneNumber"), "{targets:?}");
    }

    #[test]
    fn unknown_headings_and_ragged_rows_are_refused() {
        let Err(DomainError::Invalid(e)) = parse("a", b"telephoneNumber,colour\n+15105550001,red\n") else { panic!() };
        assert_eq!(e[0].target, "line 1: colour");
        let Err(DomainError::Invalid(e)) = parse("a", b"telephoneNumber\n+15105550001,x\n") else { panic!() };
        assert_eq!(e[0].target, "line 2");
    }

    #[test]
    fn another_accounts_name_is_refused() {
        let Err(DomainError::Invalid(e)) = parse(
            "contoso",
            b"telephoneNumber,accountName,serviceDetails_teamsDirectRouting_enabled\n+15105550001,fabrikam,true\n",
        ) else {
            panic!()
        };
        assert_eq!(e[0].target, "line 2: accountName");
    }

    #[test]
    fn an_export_with_status_reimports_its_numbers() {
        let body = format!("{HEAD}\n+15105550001,true,CallingUserAssignment,InboundCalling,\n");
        let mut numbers: Vec<Number> =
            parse("contoso", body.as_bytes()).unwrap().into_iter().map(|r| r.number).collect();
        numbers[0].service_provisioning_status = Some(crate::ProvisioningStatus::Failed);
        numbers[0].service_provisioning_errors = vec![crate::ErrorDetail {
            code: "CountryNotCovered".into(),
            message: "not in the consented countries".into(),
            target: None,
        }];
        let file = String::from_utf8(write_with(&numbers, true).unwrap()).unwrap();
        let mut lines = file.lines();
        assert!(lines.next().unwrap().ends_with(",serviceProvisioningStatus,serviceProvisioningErrors"));
        assert!(lines.next().unwrap().ends_with(",failed,CountryNotCovered: not in the consented countries"), "{file}");
        let again = parse("contoso", file.as_bytes()).unwrap();
        numbers[0].service_provisioning_status = None;
        numbers[0].service_provisioning_errors.clear();
        assert_eq!(again.into_iter().map(|r| r.number).collect::<Vec<_>>(), numbers);
    }

    #[test]
    fn export_reimports_to_the_same_bytes() {
        let body = format!(
            "{HEAD}\n+15105550001,true,CallingUserAssignment,InboundCalling;OutboundCalling,\n+15105550002,,,,true\n"
        );
        let rows = parse("contoso", body.as_bytes()).unwrap();
        let first = write(rows.iter().map(|r| &r.number)).unwrap();
        let again = parse("contoso", &first).unwrap();
        let second = write(again.iter().map(|r| &r.number)).unwrap();
        assert_eq!(first, second);
        assert!(String::from_utf8(first)
            .unwrap()
            .starts_with("telephoneNumber,accountName,configuration_customSipHeader,"));
    }

    /// The line each error names, for the same file with LF, CRLF and CR line ends.
    fn error_lines(body: &str) -> Vec<String> {
        let mut out = Vec::new();
        for ending in ["\n", "\r\n", "\r"] {
            let b = body.replace('\n', ending);
            let Err(DomainError::Invalid(errors)) = parse("contoso", b.as_bytes()) else { panic!("accepted") };
            let lines: Vec<String> = errors.iter().map(|e| e.target.clone()).collect();
            if let Some(first) = out.first() {
                assert_eq!(&lines.join("|"), first, "with {ending:?}");
            }
            out.push(lines.join("|"));
        }
        out.remove(0).split('|').map(str::to_string).collect()
    }

    #[test]
    fn errors_name_the_physical_line_for_any_line_ending() {
        // Line 3 is blank, line 4 a bad number, lines 5-6 one quoted two-line cell, line 7 a
        // duplicate of line 2.
        let body = "telephoneNumber,configuration_customSipHeader,serviceDetails_teamsDirectRouting_enabled\n\
            +15105550001,a,true\n\
            \n\
            15105550002,b,true\n\
            +15105550003,\"two\nlines\",true\n\
            +15105550001,c,true\n";
        let targets = error_lines(body);
        assert_eq!(
            targets,
            ["line 4: telephoneNumber", "line 5: configuration_customSipHeader", "line 7: telephoneNumber",],
            "{targets:?}"
        );
    }

    #[test]
    fn a_duplicate_names_its_first_line() {
        let body = "telephoneNumber,serviceDetails_teamsDirectRouting_enabled\r\n\r\n+15105550001,true\r\n+15105550001,true\r\n";
        let Err(DomainError::Invalid(e)) = parse("a", body.as_bytes()) else { panic!() };
        assert_eq!(e[0].target, "line 4: telephoneNumber");
        assert!(e[0].message.contains("line 3"), "{}", e[0].message);
    }

    #[test]
    fn formula_like_values_export_guarded_and_reimport_unchanged() {
        let mut n: Number = serde_json::from_value(serde_json::json!({"telephoneNumber": "+15105550001", "accountName": "contoso",
            "serviceDetails": {"teamsOperatorConnect": {"enabled": true, "configuration": {"usage": "CallingUserAssignment",
                "choosableCapabilities": ["InboundCalling"], "civicAddressId": "=HYPERLINK(\"http://x\")", "locationId": "'@loc"}}},
            "configuration": {"customSipHeader": "-cmd"}}))
        .unwrap();
        n.clear_read_only();
        let file = write([&n]).unwrap();
        let text = String::from_utf8(file.clone()).unwrap();
        for cell in text.lines().nth(1).unwrap().split(',') {
            let cell = cell.trim_start_matches('"');
            assert!(!cell.starts_with(['=', '-', '@']), "{cell:?} in {text}");
        }
        let rows = parse("contoso", &file).unwrap();
        assert_eq!(rows[0].number, n);
        assert_eq!(write([&rows[0].number]).unwrap(), file);
        // A quote a person typed before plain text is kept.
        assert_eq!(unguard("'abc"), "'abc");
        for v in ["=1", "+1", "-1", "@a", "'", "''=", "plain", ""] {
            assert_eq!(unguard(&guard(v)), v);
        }
    }

    #[test]
    fn too_many_rows_is_one_error() {
        let mut body = String::from("telephoneNumber,serviceDetails_teamsDirectRouting_enabled\n");
        for i in 0..=MAX_ROWS {
            body.push_str(&format!("+1510{i:07},true\n"));
        }
        let Err(DomainError::Invalid(e)) = parse("a", body.as_bytes()) else { panic!() };
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].target, "body");
    }
}
