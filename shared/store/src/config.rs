//! Building the SDK client once per cold start. The endpoint comes from the standard
//! `AWS_ENDPOINT_URL_DYNAMODB`, so the same code talks to DynamoDB or the embedded engine.

use aws_sdk_dynamodb::Client;

/// The table name from `TABLE_NAME` (default `switchboard`).
pub fn table_name_from_env() -> String {
    std::env::var("TABLE_NAME").unwrap_or_else(|_| "switchboard".to_string())
}

pub async fn client_from_env() -> Client {
    let config = aws_config::load_from_env().await;
    Client::new(&config)
}
