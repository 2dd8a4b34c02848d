//! `POST /syncRuns` (an extension): "Sync now". Wiring, and the one adapter only this function
//! needs: starting the planner as an asynchronous Lambda invocation of `SYNC_PLANNER_FUNCTION`
//! (its name or ARN). Lambda answers once it has queued the event; the planner then runs as it
//! does on its schedule. The endpoint is the SDK's (`AWS_ENDPOINT_URL_LAMBDA` points it at
//! `cargo lambda watch` locally, whose Invoke API runs the planner before it answers).

use std::sync::Arc;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use switchboard_api::{App, Op, StartPlanner};

struct LambdaPlanner {
    client: aws_sdk_lambda::Client,
    function: String,
}

#[async_trait::async_trait]
impl StartPlanner for LambdaPlanner {
    async fn start(&self, event: serde_json::Value) -> Result<(), String> {
        self.client
            .invoke()
            .function_name(&self.function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(event.to_string()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("{}", aws_sdk_lambda::error::DisplayErrorContext(e)))
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    switchboard_api::app::init_tracing();
    let mut app = App::from_env().await?;
    if let Some(function) = std::env::var("SYNC_PLANNER_FUNCTION").ok().filter(|f| !f.is_empty()) {
        let client = aws_sdk_lambda::Client::new(&switchboard_store::aws_config_from_env().await);
        app = app.with_planner(Arc::new(LambdaPlanner { client, function }));
    }
    switchboard_api::serve(Op::SyncRunsStart, app).await
}
