//! Reads the table definition out of the SAM template, so local tables and the deployed
//! table can't drift apart.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;
use serde::Deserialize;

/// The SAM template, compiled in.
pub const TEMPLATE: &str = include_str!("../../../infra/template.yaml");

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("infra/template.yaml: {0}")]
    Template(String),
    #[error("creating the table: {0}")]
    Create(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TableProperties {
    attribute_definitions: Vec<AttrDef>,
    key_schema: Vec<KeyDef>,
    #[serde(default)]
    global_secondary_indexes: Vec<IndexDef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttrDef {
    attribute_name: String,
    attribute_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyDef {
    attribute_name: String,
    key_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct IndexDef {
    index_name: String,
    key_schema: Vec<KeyDef>,
    projection: ProjectionDef,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProjectionDef {
    projection_type: String,
}

fn table_properties() -> Result<TableProperties, SchemaError> {
    let doc: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(TEMPLATE).map_err(|e| SchemaError::Template(e.to_string()))?;
    let props = doc
        .get("Resources")
        .and_then(|r| r.get("Table"))
        .and_then(|t| t.get("Properties"))
        .cloned()
        .ok_or_else(|| SchemaError::Template("no Resources.Table.Properties".into()))?;
    serde_yaml_ng::from_value(props).map_err(|e| SchemaError::Template(e.to_string()))
}

fn keys(defs: &[KeyDef]) -> Result<Vec<KeySchemaElement>, SchemaError> {
    defs.iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(&k.attribute_name)
                .key_type(KeyType::from(k.key_type.as_str()))
                .build()
                .map_err(|e| SchemaError::Template(e.to_string()))
        })
        .collect()
}

/// Creates `table` as the template defines it; an existing table is left as it is.
pub async fn ensure_table(client: &Client, table: &str) -> Result<(), SchemaError> {
    let existing = client.list_tables().send().await.map_err(|e| SchemaError::Create(format!("{e:?}")))?;
    if existing.table_names().iter().any(|t| t == table) {
        return Ok(());
    }
    let props = table_properties()?;
    let mut req = client.create_table().table_name(table).billing_mode(BillingMode::PayPerRequest);
    for a in &props.attribute_definitions {
        req = req.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(&a.attribute_name)
                .attribute_type(ScalarAttributeType::from(a.attribute_type.as_str()))
                .build()
                .map_err(|e| SchemaError::Template(e.to_string()))?,
        );
    }
    req = req.set_key_schema(Some(keys(&props.key_schema)?));
    for g in &props.global_secondary_indexes {
        req = req.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(&g.index_name)
                .set_key_schema(Some(keys(&g.key_schema)?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(g.projection.projection_type.as_str()))
                        .build(),
                )
                .build()
                .map_err(|e| SchemaError::Template(e.to_string()))?,
        );
    }
    req.send().await.map_err(|e| SchemaError::Create(format!("{e:?}")))?;
    Ok(())
}
