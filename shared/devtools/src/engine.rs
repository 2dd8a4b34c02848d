//! The embedded DynamoDB-compatible engine (dynoxide), served over HTTP on loopback so the
//! functions reach it exactly as they reach DynamoDB: through the SDK and an endpoint URL.

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::Client;
use std::net::SocketAddr;
use tokio::sync::oneshot;

pub enum Storage {
    /// In memory: gone when the engine stops (tests).
    Memory,
    /// A SQLite file that survives restarts (the local stack).
    File(String),
}

/// A running engine. Dropping it stops the server.
pub struct Engine {
    pub addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl Engine {
    /// Starts the engine on `addr` (port 0 picks a free one) inside the current Tokio runtime.
    pub async fn start(storage: Storage, addr: &str) -> Result<Engine, String> {
        let db = match storage {
            Storage::Memory => dynoxide::Database::memory(),
            Storage::File(path) => dynoxide::Database::new(&path),
        }
        .map_err(|e| e.to_string())?;
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = dynoxide::server::serve_with_shutdown(listener, db, async {
                let _ = stopped.await;
            })
            .await;
        });
        Ok(Engine { addr, _stop: stop })
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// An SDK client pointed at this engine with dummy credentials.
    pub fn client(&self) -> Client {
        client_for(&self.endpoint())
    }
}

/// An SDK client for a local endpoint (the engine, or moto).
pub fn client_for(endpoint: &str) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "switchboard-local"))
        .endpoint_url(endpoint)
        .build();
    Client::from_conf(config)
}
