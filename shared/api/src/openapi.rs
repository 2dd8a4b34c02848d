//! The OpenAPI 3.1 document of the whole API, built from the route table and the domain types'
//! own JSON Schemas (schemars reads the same serde attributes the API decodes with), so the
//! document can't drift from the handlers. `docs/openapi.json` is this, committed; a test
//! keeps the two equal, and `GET /openapi.json` serves it.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{json, Map, Value};

use switchboard_domain::audit::AuditEvent;
use switchboard_domain::civic::{AvailableCapabilities, CapabilityPlans, CivicAddress};
use switchboard_domain::rfi::{RelationshipStatus, RequestForInformation};
use switchboard_domain::{search, telephone, text, Account, Number};

use crate::ops::actions::{MAX_BATCH, MAX_CANDIDATE_LEN};
use crate::paging::MAX_PAGE_SIZE;
use crate::repeatability::{FIRST_SENT, REQUEST_ID};
use crate::routes::{Action, Op, ROUTES};
use crate::API_VERSION;

fn schema<T: JsonSchema>(gen: &mut SchemaGenerator) -> Value {
    serde_json::to_value(gen.subschema_for::<T>()).unwrap_or(Value::Null)
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn list_of(item: Value) -> Value {
    json!({
        "type": "object",
        "required": ["value"],
        "properties": { "value": { "type": "array", "items": item }, "nextLink": { "type": "string" } }
    })
}

fn json_body(schema: Value) -> Value {
    json!({ "content": { "application/json": { "schema": schema } } })
}

fn ok(schema: Value, description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

/// Extension: an account written whose Teams tenant another account already serves.
fn second_account_warning(mut response: Value) -> Value {
    response["headers"] = json!({"Warning": {
        "description": "Extension: `299 switchboard \"Teams tenant <id> already has account <name>\"` when another account already serves the tenant (allowed, as in ACG, but most often a mistake; the tenant's request for information stays linked to the first)",
        "schema": {"type": "string"}}});
    response
}

fn param(name: &str, location: &str, required: bool, schema: Value, description: &str) -> Value {
    json!({ "name": name, "in": location, "required": required, "schema": schema, "description": description })
}

/// A list's query parameters; a `searchable` one takes the `search` extension.
fn list_params(filterable: bool, searchable: bool) -> Vec<Value> {
    let mut p = vec![
        param(
            "maxpagesize",
            "query",
            false,
            json!({"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}),
            "Items per page",
        ),
        param("top", "query", false, json!({"type": "integer", "minimum": 0, "maximum": i32::MAX}), "Items in all"),
        param(
            "skip",
            "query",
            false,
            json!({"type": "integer", "minimum": 0, "maximum": i32::MAX}),
            "Items to pass over",
        ),
        param("skipToken", "query", false, json!({"type": "string"}), "Continuation token from nextLink"),
        param("countRecords", "query", false, json!({"type": "boolean"}), "Return the total in x-ms-record-count"),
    ];
    if filterable {
        p.push(param(
            "filter",
            "query",
            false,
            json!({"type": "string"}),
            "eq, ne, startswith, and, or over documented fields",
        ));
    }
    if searchable {
        p.push(search_param("the list"));
    }
    p
}

fn search_param(what: &str) -> Value {
    param(
        "search",
        "query",
        false,
        json!({"type": "string", "maxLength": search::MAX_LEN}),
        &format!(
            "Extension: only items of {what} whose name, number or id fields contain this text, ignoring case (a \
             telephone number also matches by its digits alone, e.g. \"+1 425 555\"); with filter, both must hold"
        ),
    )
}

/// The longest value each path parameter takes (the same limits the handlers check).
fn path_max(name: &str) -> usize {
    match name {
        "telephoneNumber" => telephone::MAX_LEN,
        "tenantId" => text::MAX_TENANT_ID,
        "civicAddressId" => text::MAX_ADDRESS_ID,
        _ => text::MAX_NAME,
    }
}

fn path_params(path: &str) -> Vec<Value> {
    path.split(['{', '}'])
        .skip(1)
        .step_by(2)
        .map(|name| {
            param(name, "path", true, json!({"type": "string", "minLength": 1, "maxLength": path_max(name)}), name)
        })
        .collect()
}

/// Headers every write takes.
fn write_headers() -> Vec<Value> {
    vec![
        param("If-Match", "header", false, json!({"type": "string"}), "Write only over this entity tag"),
        param(
            REQUEST_ID,
            "header",
            false,
            json!({"type": "string", "minLength": 1, "maxLength": 128}),
            "Repeatable request id",
        ),
        param(FIRST_SENT, "header", false, json!({"type": "string"}), "When the request was first sent (HTTP date)"),
    ]
}

/// Method, path, operation id, summary, extra parameters, request body, success responses.
struct Operation {
    method: &'static str,
    path: String,
    id: String,
    summary: String,
    params: Vec<Value>,
    body: Option<Value>,
    responses: Map<String, Value>,
}

fn responses(list: &[(&str, Value)]) -> Map<String, Value> {
    list.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn operations(gen: &mut SchemaGenerator) -> Vec<Operation> {
    let account = schema::<Account>(gen);
    let number = schema::<Number>(gen);
    let rfi = schema::<RequestForInformation>(gen);
    let civic = schema::<CivicAddress>(gen);
    let audit = schema::<AuditEvent>(gen);
    // Written by the sync workers (switchboard_store::TenantSync); times are milliseconds since the epoch.
    let tenant_sync = json!({
        "type": "object",
        "required": ["tenantId", "reconcileSoon"],
        "properties": {
            "tenantId": {"type": "string"},
            "lastRunMs": {"type": "integer", "description": "When a worker last finished a job for this tenant"},
            "lastStatus": {"type": "string", "enum": ["succeeded", "partial"]},
            "lastReconciledMs": {"type": "integer", "description": "When its numbers and addresses were last compared with the backend's, completely"},
            "reconcileSoon": {"type": "boolean", "description": "Pushes, errors or a consent change since then: its reconciliation is brought forward"},
            "lastErrors": {"type": "array", "items": {"type": "string"}}
        }
    });
    let plans = schema::<CapabilityPlans>(gen);
    let available = schema::<AvailableCapabilities>(gen);
    let empty = json!({ "description": "Done" });
    let not_modified = json!({ "description": "Not modified (If-None-Match)" });
    let batch = json!({"type": "object", "required": ["numbers"], "properties": {"numbers": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH, "items": number.clone()}}});
    let ids = json!({"type": "object", "required": ["numbers"], "properties": {"numbers": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH, "items": {"type": "object", "required": ["telephoneNumber"], "properties": {"telephoneNumber": {"type": "string", "maxLength": telephone::MAX_LEN}}}}}});
    let candidates = json!({"type": "object", "required": ["numbers"], "properties": {"numbers": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH, "items": {"type": "object", "required": ["telephoneNumber"], "properties": {"telephoneNumber": {"type": "string", "maxLength": MAX_CANDIDATE_LEN}}}}}});
    let verdicts = json!({"type": "object", "required": ["numbers"], "properties": {"numbers": {"type": "array", "items": {
        "type": "object", "required": ["telephoneNumber", "problems"], "properties": {
            "telephoneNumber": {"type": "string"},
            "problems": {"type": "array", "items": {"type": "object", "required": ["code", "severity", "message"], "properties": {
                "code": {"type": "string"}, "severity": {"type": "string", "enum": ["error", "warning"]}, "message": {"type": "string"}}}}}}}}});
    let import = json!({"type": "object", "required": ["importId", "imported", "created", "updated"], "properties": {"importId": {"type": "string"}, "imported": {"type": "integer"}, "created": {"type": "integer"}, "updated": {"type": "integer"}}});
    let csv = json!({"type": "string"});
    let status = schema::<RelationshipStatus>(gen);
    let patch = json!({"type": "object", "properties": {"customerRelationship": {"type": "object", "properties": {
        "status": status, "comment": {"type": ["string", "null"], "maxLength": text::MAX_COMMENT}, "ticketId": {"type": ["string", "null"], "maxLength": text::MAX_TICKET_ID}}}}});

    let mut out = Vec::new();
    for r in ROUTES {
        let mut params = path_params(r.path);
        let (summary, body, resp, extra): (&str, Option<Value>, Map<String, Value>, Vec<Value>) = match r.op {
            Op::AccountsList => (
                "List accounts",
                None,
                responses(&[("200", ok(list_of(account.clone()), "Accounts"))]),
                list_params(true, true),
            ),
            Op::AccountsGet => (
                "Get an account",
                None,
                responses(&[("200", ok(account.clone(), "The account")), ("304", not_modified.clone())]),
                vec![param("If-None-Match", "header", false, json!({"type": "string"}), "Entity tag held")],
            ),
            Op::AccountsPut => (
                "Create or replace an account",
                Some(json_body(account.clone())),
                responses(&[
                    ("200", second_account_warning(ok(account.clone(), "Replaced"))),
                    ("201", second_account_warning(ok(account.clone(), "Created"))),
                ]),
                [
                    write_headers(),
                    vec![param("If-None-Match", "header", false, json!({"type": "string"}), "* to create only")],
                ]
                .concat(),
            ),
            Op::AccountsDelete => (
                "Delete an account",
                None,
                responses(&[("204", empty.clone())]),
                [
                    write_headers(),
                    vec![param("deleteNumbers", "query", false, json!({"type": "boolean"}), "Delete its numbers too")],
                ]
                .concat(),
            ),
            Op::AccountActions => {
                // One gateway route, one documented operation per action.
                for a in Action::ALL {
                    let (summary, body, resp) = match a {
                        Action::CreateOrUpdateNumbers => (
                            "Create or update up to 100 numbers",
                            Some(json_body(batch.clone())),
                            responses(&[("200", ok(batch.clone(), "The numbers as stored"))]),
                        ),
                        Action::DeleteNumbers => (
                            "Delete up to 100 numbers",
                            Some(json_body(ids.clone())),
                            responses(&[("204", empty.clone())]),
                        ),
                        Action::GetTeamsCapabilityPlans => (
                            "The tenant's Teams capability plans",
                            None,
                            responses(&[("200", ok(plans.clone(), "Plans"))]),
                        ),
                        Action::GetTeamsAvailableCapabilities => (
                            "Capabilities available to numbers",
                            Some(json_body(ids.clone())),
                            responses(&[("200", ok(available.clone(), "Capabilities"))]),
                        ),
                        Action::ImportNumbers => (
                            "Import up to 10,000 numbers from CSV, all or nothing",
                            Some(json!({"content": {"text/csv": {"schema": csv.clone()}}})),
                            responses(&[("200", ok(import.clone(), "Imported"))]),
                        ),
                        Action::ValidateNumbers => (
                            "Extension: pre-flight checks of up to 100 numbers, writing nothing: what the API would refuse (not E.164, owned by another account) and what the backend would refuse at the next sync (outside the tenant's consented countries, no consent)",
                            Some(json_body(candidates.clone())),
                            responses(&[("200", ok(verdicts.clone(), "Each number's problems, in request order"))]),
                        ),
                    };
                    out.push(Operation {
                        method: "post",
                        path: format!("/accounts/{{accountName}}:{}", a.name()),
                        id: a.name().to_string(),
                        summary: summary.to_string(),
                        params: [path_params("/accounts/{accountName}"), write_headers()].concat(),
                        body,
                        responses: resp,
                    });
                }
                continue;
            }
            Op::NumbersList => (
                "List an account's numbers",
                None,
                responses(&[("200", ok(list_of(number.clone()), "Numbers"))]),
                list_params(true, true),
            ),
            Op::NumbersListAll => (
                "List all numbers",
                None,
                responses(&[("200", ok(list_of(number.clone()), "Numbers"))]),
                list_params(true, true),
            ),
            Op::NumbersGet => (
                "Get a number",
                None,
                responses(&[("200", ok(number.clone(), "The number")), ("304", not_modified.clone())]),
                vec![param("If-None-Match", "header", false, json!({"type": "string"}), "Entity tag held")],
            ),
            Op::NumbersPut => (
                "Create or replace a number",
                Some(json_body(number.clone())),
                responses(&[("200", ok(number.clone(), "Replaced")), ("201", ok(number.clone(), "Created"))]),
                [
                    write_headers(),
                    vec![param("If-None-Match", "header", false, json!({"type": "string"}), "* to create only")],
                ]
                .concat(),
            ),
            Op::NumbersDelete => ("Delete a number", None, responses(&[("204", empty.clone())]), write_headers()),
            Op::NumbersExport => (
                "Export an account's numbers as CSV",
                None,
                responses(&[(
                    "200",
                    json!({"description": "CSV with every heading", "content": {"text/csv": {"schema": csv.clone()}}}),
                )]),
                vec![
                    param(
                        "filter",
                        "query",
                        false,
                        json!({"type": "string"}),
                        "Extension: only the numbers this list filter matches (as on GET .../numbers)",
                    ),
                    search_param("the account's numbers"),
                    param(
                        "includeStatus",
                        "query",
                        false,
                        json!({"type": "boolean"}),
                        "Extension: add serviceProvisioningStatus and serviceProvisioningErrors columns (an import skips them)",
                    ),
                ],
            ),
            Op::RfisList => (
                "List requests for information",
                None,
                responses(&[("200", ok(list_of(rfi.clone()), "Requests"))]),
                list_params(true, true),
            ),
            Op::RfisGet => (
                "Get a request for information",
                None,
                responses(&[("200", ok(rfi.clone(), "The request")), ("304", not_modified.clone())]),
                vec![param("If-None-Match", "header", false, json!({"type": "string"}), "Entity tag held")],
            ),
            Op::RfisPatch => (
                "Update the customer relationship (merge patch)",
                Some(
                    json!({"content": {"application/merge-patch+json": {"schema": patch.clone()}, "application/json": {"schema": patch.clone()}}}),
                ),
                responses(&[("200", ok(rfi.clone(), "Updated"))]),
                write_headers(),
            ),
            Op::CivicAddressesList => (
                "List the account's civic addresses",
                None,
                responses(&[("200", ok(list_of(civic.clone()), "Addresses"))]),
                list_params(false, true),
            ),
            Op::CivicAddressesGet => {
                ("Get a civic address", None, responses(&[("200", ok(civic.clone(), "The address"))]), vec![])
            }
            Op::SyncRunsList => (
                "List sync runs, newest first",
                None,
                responses(&[("200", ok(list_of(json!({"type": "object"})), "Runs"))]),
                list_params(false, false),
            ),
            Op::SyncRunsStart => (
                "Extension (AdminUser, Admin): Sync now; starts the sync planner at once instead of at its next schedule",
                None,
                responses(&[(
                    "202",
                    ok(
                        json!({"type": "object", "required": ["status", "requestedBy"], "properties": {
                            "status": {"type": "string", "enum": ["Started"]}, "requestedBy": {"type": "string"}}}),
                        "Started; the run is listed by GET /syncRuns when it has finished",
                    ),
                )]),
                vec![],
            ),
            Op::SyncTenantsList => (
                "Extension: each tenant's sync status (last run, last reconciliation), by tenant",
                None,
                responses(&[("200", ok(list_of(tenant_sync.clone()), "Tenants"))]),
                list_params(false, false),
            ),
            Op::AuditEventsList => (
                "List audit events, newest first",
                None,
                responses(&[("200", ok(list_of(audit.clone()), "Events"))]),
                [
                    list_params(true, false),
                    vec![
                        param("accountName", "query", false, json!({"type": "string"}), "Events of this account"),
                        param("telephoneNumber", "query", false, json!({"type": "string"}), "Events of this number"),
                        param("actor", "query", false, json!({"type": "string"}), "appId/subject or subject"),
                        param("from", "query", false, json!({"type": "string"}), "RFC 3339 start"),
                        param("to", "query", false, json!({"type": "string"}), "RFC 3339 end"),
                    ],
                ]
                .concat(),
            ),
        };
        params.extend(extra);
        out.push(Operation {
            method: match r.method {
                "GET" => "get",
                "PUT" => "put",
                "PATCH" => "patch",
                "DELETE" => "delete",
                _ => "post",
            },
            path: r.path.to_string(),
            id: r.function.to_string(),
            summary: summary.to_string(),
            params,
            body,
            responses: resp,
        });
    }
    out
}

/// The whole document.
pub fn document() -> Value {
    let mut gen =
        SchemaSettings::draft2020_12().with(|s| s.definitions_path = "/components/schemas/".into()).into_generator();
    let ops = operations(&mut gen);
    let mut paths = Map::new();
    let api_version =
        param("api-version", "query", true, json!({"type": "string", "enum": [API_VERSION]}), "The API version");
    for op in ops {
        let mut params = vec![api_version.clone()];
        params.extend(op.params);
        let mut responses = op.responses;
        responses.insert("default".into(), ok(reference("ErrorResponse"), "An error"));
        let mut o =
            json!({ "operationId": op.id, "summary": op.summary, "parameters": params, "responses": responses });
        if let Some(b) = op.body {
            let mut b = b;
            b["required"] = json!(true);
            o["requestBody"] = b;
        }
        let entry = paths.entry(op.path).or_insert_with(|| json!({}));
        entry[op.method] = o;
    }
    let mut schemas: Map<String, Value> = gen.take_definitions(true).into_iter().collect();
    schemas.insert(
        "ErrorResponse".into(),
        json!({"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"}, "target": {"type": "string"},
            "details": {"type": "array", "items": {"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "target": {"type": "string"}}}}}}}}),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Switchboard Provisioning API",
            "version": API_VERSION,
            "description": "Number management and flow-through provisioning for Teams calling, Zoom Phone and Call Protection; the Azure Communications Gateway Provisioning API shape, with Switchboard's extensions (CSV import/export, sync runs, audit events, repeatable requests)."
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" } }
        }
    })
}
