//! `dev-token [ROLE ...]`: prints a local dev token (HS256, 12 h) for the given roles, e.g.
//! `dev-token Admin` or `dev-token ReadUser WriteUser`. Short names get the
//! `ProvisioningAPI.` prefix. The key is `DEV_SIGNING_KEY` or the local default in `Cargo.toml`.

use switchboard_devtools::DEV_SIGNING_KEY;

fn main() -> Result<(), String> {
    let roles: Vec<String> =
        std::env::args().skip(1).map(|r| if r.contains('.') { r } else { format!("ProvisioningAPI.{r}") }).collect();
    if roles.is_empty() {
        return Err("usage: dev-token ROLE [ROLE ...]   (Admin, Read, Write, Delete, AdminUser, ReadUser, WriteUser, DeleteUser)".into());
    }
    let key = std::env::var("DEV_SIGNING_KEY").unwrap_or_else(|_| DEV_SIGNING_KEY.to_string());
    let refs: Vec<&str> = roles.iter().map(String::as_str).collect();
    let token = switchboard_api::auth::mint_dev_token(key.as_bytes(), "dev-user", &refs, 12 * 3600)?;
    println!("{token}");
    Ok(())
}
