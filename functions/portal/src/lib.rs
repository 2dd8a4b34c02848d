//! The Number Management Portal: a single-page app embedded in this binary (`assets/`), served
//! from the same gateway as the API so it calls the API on its own origin with the user's token.
//!
//! - `GET /portal/…`: the app's files, with content types, entity tags and caching headers.
//! - `GET /portal/config.json`: how to sign in (OIDC with PKCE against the issuer the gateway's
//!   JWT authorizer trusts, or the local dev sign-in) and which role grants what.
//! - `POST /portal/dev-token`: local only (`AUTH_MODE=verify` with `DEV_SIGNING_KEY`): mints a
//!   dev token for a chosen role. In AWS this route answers 404.

use lambda_http::http::{HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use rust_embed::RustEmbed;
use serde::Deserialize;
use serde_json::json;

use switchboard_api::auth::{grants, mint_dev_token, Permission, ROLES};
use switchboard_api::API_VERSION;

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

const PREFIX: &str = "/portal";

/// The gateway routes to this function (method, path in API Gateway's syntax); a test holds
/// the template and the `cargo lambda watch` router to them.
pub const ROUTES: [(&str, &str); 2] = [("ANY", "/portal"), ("ANY", "/portal/{proxy+}")];
const DEV_TOKEN_TTL_SECS: u64 = 3600;

/// How users sign in.
#[derive(Debug, Clone)]
pub enum SignIn {
    /// Local: any role, a token signed with the dev key.
    Dev { key: Vec<u8> },
    /// Production: authorization code with PKCE against the gateway's issuer.
    Oidc { issuer: String, client_id: String, scope: String },
    /// Neither is configured: the app says so.
    Unconfigured,
}

pub struct Portal {
    sign_in: SignIn,
    /// The page may call its own origin and, for sign-in, the identity provider's.
    csp: String,
}

#[derive(Deserialize)]
struct DevTokenRequest {
    role: String,
    #[serde(default)]
    subject: Option<String>,
}

impl Portal {
    pub fn new(sign_in: SignIn) -> Self {
        let idp = match &sign_in {
            SignIn::Oidc { issuer, .. } => origin(issuer).map(|o| format!(" {o}")).unwrap_or_default(),
            _ => String::new(),
        };
        let csp = format!(
            "default-src 'self'; connect-src 'self'{idp}; img-src 'self' data:; frame-ancestors 'none'; base-uri 'self'"
        );
        Self { sign_in, csp }
    }

    /// `PORTAL_OIDC_ISSUER`, `PORTAL_OIDC_CLIENT_ID`, `PORTAL_OIDC_SCOPE` in AWS; locally
    /// `AUTH_MODE=verify` with `DEV_SIGNING_KEY` turns on the dev sign-in.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let sign_in = match (var("PORTAL_OIDC_ISSUER"), var("PORTAL_OIDC_CLIENT_ID")) {
            (Some(issuer), Some(client_id)) => {
                SignIn::Oidc { issuer, client_id, scope: var("PORTAL_OIDC_SCOPE").unwrap_or_else(|| "openid".into()) }
            }
            _ => match (var("AUTH_MODE").as_deref(), var("DEV_SIGNING_KEY")) {
                (Some("verify"), Some(key)) => SignIn::Dev { key: key.into_bytes() },
                _ => SignIn::Unconfigured,
            },
        };
        Self::new(sign_in)
    }

    /// Never fails: every problem is a response.
    pub fn handle(&self, req: Request) -> Response<Body> {
        let path = req.uri().path().to_string();
        let Some(rest) = path.strip_prefix(PREFIX) else { return not_found() };
        match (req.method().clone(), rest) {
            (Method::GET, "") => redirect(&format!("{PREFIX}/")),
            (Method::GET, "/config.json") => self.config(),
            (Method::POST, "/dev-token") => self.dev_token(&req),
            (Method::GET | Method::HEAD, "/") => self.asset(&req, "index.html"),
            (Method::GET | Method::HEAD, p) => self.asset(&req, p.trim_start_matches('/')),
            _ => error(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", "the portal serves GET"),
        }
    }

    fn config(&self) -> Response<Body> {
        let (mode, oidc) = match &self.sign_in {
            SignIn::Dev { .. } => ("dev", None),
            SignIn::Oidc { issuer, client_id, scope } => {
                ("oidc", Some(json!({ "issuer": issuer, "clientId": client_id, "scope": scope })))
            }
            SignIn::Unconfigured => ("none", None),
        };
        // The app hides what a role can't do from the same table the API enforces.
        let role_grants: serde_json::Map<String, serde_json::Value> = ROLES
            .iter()
            .map(|r| {
                let perms: Vec<&str> = [
                    (Permission::Read, "read"),
                    (Permission::Write, "write"),
                    (Permission::Delete, "delete"),
                    (Permission::Operate, "operate"),
                ]
                .into_iter()
                .filter(|(p, _)| grants(r, *p))
                .map(|(_, n)| n)
                .collect();
                (r.to_string(), json!(perms))
            })
            .collect();
        let body = json!({
            "apiVersion": API_VERSION,
            "signIn": mode,
            "oidc": oidc,
            "roles": ROLES,
            "grants": role_grants,
        });
        let mut r = json_response(StatusCode::OK, &body);
        set(&mut r, "cache-control", "no-store");
        r
    }

    fn dev_token(&self, req: &Request) -> Response<Body> {
        let SignIn::Dev { key } = &self.sign_in else { return not_found() };
        let body: &[u8] = match req.body() {
            Body::Text(t) => t.as_bytes(),
            Body::Binary(b) => b,
            _ => b"",
        };
        let Ok(ask) = serde_json::from_slice::<DevTokenRequest>(body) else {
            return error(StatusCode::BAD_REQUEST, "InvalidInput", "body: expected {\"role\": \"ProvisioningAPI.…\"}");
        };
        if !ROLES.contains(&ask.role.as_str()) {
            return error(StatusCode::BAD_REQUEST, "InvalidInput", &format!("role: one of {}", ROLES.join(", ")));
        }
        let subject = ask.subject.filter(|s| !s.trim().is_empty()).unwrap_or_else(|| "portal-user".into());
        match mint_dev_token(key, &subject, &[ask.role.as_str()], DEV_TOKEN_TTL_SECS) {
            Ok(token) => {
                let mut r = json_response(StatusCode::OK, &json!({ "token": token, "expiresIn": DEV_TOKEN_TTL_SECS }));
                set(&mut r, "cache-control", "no-store");
                r
            }
            Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", &e),
        }
    }

    /// One embedded file. The app's entry page is revalidated on every load so a deploy shows at
    /// once; its scripts and styles may be reused for five minutes, then revalidated by entity tag.
    fn asset(&self, req: &Request, path: &str) -> Response<Body> {
        let Some(file) = Assets::get(path) else { return not_found() };
        let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..16]));
        let cache = if path.ends_with(".html") { "no-cache" } else { "public, max-age=300, must-revalidate" };
        let matches = req.headers().get("if-none-match").and_then(|v| v.to_str().ok()).is_some_and(|v| v == etag);
        let mut r = if matches {
            status_only(StatusCode::NOT_MODIFIED)
        } else {
            let mut r = Response::new(Body::Binary(file.data.into_owned()));
            set(&mut r, "content-type", &content_type(path, file.metadata.mimetype()));
            r
        };
        set(&mut r, "etag", &etag);
        set(&mut r, "cache-control", cache);
        set(&mut r, "x-content-type-options", "nosniff");
        set(&mut r, "referrer-policy", "no-referrer");
        set(&mut r, "x-frame-options", "DENY");
        set(&mut r, "content-security-policy", &self.csp);
        r
    }
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next().filter(|h| !h.is_empty())?;
    Some(format!("{scheme}://{host}"))
}

fn content_type(path: &str, guessed: &str) -> String {
    let text = guessed.starts_with("text/") || path.ends_with(".js") || path.ends_with(".json");
    let base = if path.ends_with(".js") { "text/javascript" } else { guessed };
    if text {
        format!("{base}; charset=utf-8")
    } else {
        base.to_string()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn set<B>(r: &mut Response<B>, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
}

fn status_only(status: StatusCode) -> Response<Body> {
    let mut r = Response::new(Body::Empty);
    *r.status_mut() = status;
    r
}

fn redirect(to: &str) -> Response<Body> {
    let mut r = status_only(StatusCode::MOVED_PERMANENTLY);
    set(&mut r, "location", to);
    r
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response<Body> {
    let mut r = Response::new(Body::Text(body.to_string()));
    *r.status_mut() = status;
    set(&mut r, "content-type", "application/json");
    r
}

/// The API's error shape, so the app reads every failure the same way.
fn error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    json_response(status, &json!({ "error": { "code": code, "message": message } }))
}

fn not_found() -> Response<Body> {
    error(StatusCode::NOT_FOUND, "NotFound", "no such page")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> Request {
        lambda_http::http::Request::builder().uri(path).body(Body::Empty).unwrap()
    }

    #[test]
    fn serves_the_app_with_types_and_tags() {
        let p = Portal::new(SignIn::Unconfigured);
        let r = p.handle(get("/portal/"));
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
        assert_eq!(r.headers()["cache-control"], "no-cache");
        let tag = r.headers()["etag"].to_str().unwrap().to_string();
        let again = lambda_http::http::Request::builder()
            .uri("/portal/index.html")
            .header("if-none-match", &tag)
            .body(Body::Empty)
            .unwrap();
        assert_eq!(p.handle(again).status(), 304);
        assert_eq!(p.handle(get("/portal/nope.js")).status(), 404);
        assert_eq!(p.handle(get("/portal")).status(), 301);
    }

    #[test]
    fn dev_tokens_only_in_dev_mode_and_for_known_roles() {
        let post = |body: &str| {
            lambda_http::http::Request::builder()
                .method("POST")
                .uri("/portal/dev-token")
                .body(Body::Text(body.into()))
                .unwrap()
        };
        let prod = Portal::new(SignIn::Oidc { issuer: "https://i".into(), client_id: "c".into(), scope: "s".into() });
        assert_eq!(prod.handle(post(r#"{"role":"ProvisioningAPI.Admin"}"#)).status(), 404);
        let dev = Portal::new(SignIn::Dev { key: b"k".to_vec() });
        assert_eq!(dev.handle(post(r#"{"role":"ProvisioningAPI.Admin"}"#)).status(), 200);
        assert_eq!(dev.handle(post(r#"{"role":"Root"}"#)).status(), 400);
    }

    #[test]
    fn config_says_how_to_sign_in_and_what_roles_grant() {
        let prod = Portal::new(SignIn::Oidc { issuer: "https://i".into(), client_id: "c".into(), scope: "s".into() });
        let r = prod.handle(get("/portal/config.json"));
        let Body::Text(t) = r.body() else { panic!() };
        let v: serde_json::Value = serde_json::from_str(t).unwrap();
        assert_eq!(v["signIn"], "oidc");
        assert_eq!(v["oidc"]["clientId"], "c");
        assert_eq!(v["grants"]["ProvisioningAPI.ReadUser"], json!(["read"]));
        assert_eq!(v["grants"]["ProvisioningAPI.Admin"], json!(["read", "write", "delete", "operate"]));
        assert_eq!(v["grants"]["ProvisioningAPI.AdminUser"], json!(["read", "write", "delete", "operate"]));
        assert_eq!(v["grants"]["ProvisioningAPI.WriteUser"], json!(["write"]));
        let page = prod.handle(get("/portal/"));
        let csp = page.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("connect-src 'self' https://i;"), "{csp}");
    }
}
