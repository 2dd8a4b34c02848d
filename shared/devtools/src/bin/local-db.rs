//! `local-db [--port 8000] [--file .local/switchboard.db | --memory]`: serves the embedded
//! engine for the local stack, persisted to a file (or in memory), with the table created from
//! the SAM template.

use switchboard_devtools::{schema, Engine, Storage};

#[tokio::main]
async fn main() -> Result<(), String> {
    let mut port = "8000".to_string();
    let mut file = ".local/switchboard.db".to_string();
    let mut memory = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().ok_or("--port needs a value")?,
            "--file" => file = args.next().ok_or("--file needs a value")?,
            "--memory" => memory = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let storage = if memory {
        file = "none: in memory".into();
        Storage::Memory
    } else {
        if let Some(dir) = std::path::Path::new(&file).parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        Storage::File(file.clone())
    };
    let engine = Engine::start(storage, &format!("127.0.0.1:{port}")).await?;
    let table = switchboard_store::table_name_from_env();
    schema::ensure_table(&engine.client(), &table).await.map_err(|e| e.to_string())?;
    eprintln!("embedded DynamoDB on {} (file {file}, table {table})", engine.endpoint());
    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    Ok(())
}
