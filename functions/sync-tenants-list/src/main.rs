//! `GET /syncTenants`: wiring only; the handler is `switchboard_api::ops`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    switchboard_api::run(switchboard_api::Op::SyncTenantsList).await
}
