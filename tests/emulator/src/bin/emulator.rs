//! `emulator [--port 8010]`: the backend-service emulator for the local stack.

use switchboard_emulator::{Config, Emulator};

#[tokio::main]
async fn main() -> Result<(), String> {
    let mut port = "8010".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().ok_or("--port needs a value")?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let emu = Emulator::start(&format!("127.0.0.1:{port}"), Config::default()).await.map_err(|e| e.to_string())?;
    eprintln!("backend emulator on {} (admin: {}/admin/stats)", emu.url(), emu.url());
    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    Ok(())
}
