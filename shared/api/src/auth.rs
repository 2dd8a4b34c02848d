//! Authentication and role checks.
//!
//! In AWS the HTTP API's JWT authorizer has already verified signature, issuer and audience,
//! and hands the claims over in the request context (`AUTH_MODE=gateway`). Locally the function
//! verifies the bearer token itself (`AUTH_MODE=verify`) against a dev HS256 key or a configured
//! JWKS. Both paths end in the same [`Principal`], and roles are read the same way.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// What an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Read,
    Write,
    Delete,
    /// Running the product itself (Sync now): the Admin roles alone.
    Operate,
}

/// The roles of SPEC §3: API app roles and portal user roles.
pub const ROLES: &[&str] = &[
    "ProvisioningAPI.Admin",
    "ProvisioningAPI.Read",
    "ProvisioningAPI.Write",
    "ProvisioningAPI.Delete",
    "ProvisioningAPI.AdminUser",
    "ProvisioningAPI.ReadUser",
    "ProvisioningAPI.WriteUser",
    "ProvisioningAPI.DeleteUser",
];

/// Whether `role` grants `p`. Deny by default: unknown roles grant nothing.
pub fn grants(role: &str, p: Permission) -> bool {
    let Some(name) = role.strip_prefix("ProvisioningAPI.") else {
        return false;
    };
    match name.strip_suffix("User").unwrap_or(name) {
        "Admin" => true,
        "Read" => p == Permission::Read,
        "Write" => p == Permission::Write,
        "Delete" => p == Permission::Delete,
        _ => false,
    }
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
    pub app_id: Option<String>,
    pub roles: Vec<String>,
}

impl Principal {
    pub fn require(&self, p: Permission) -> Result<(), ApiError> {
        if self.roles.iter().any(|r| grants(r, p)) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this operation needs a role granting {p:?}; the token has {:?}",
                self.roles
            )))
        }
    }
}

/// The claims we read (and mint, locally).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    pub iss: String,
    pub aud: String,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
}

/// The issuer and audience of local dev tokens, unless configured otherwise.
pub const DEV_ISSUER: &str = "https://switchboard.local/dev";
pub const DEV_AUDIENCE: &str = "api://switchboard";

#[derive(Clone)]
pub enum Authenticator {
    /// Trust the claims the API Gateway JWT authorizer passed.
    Gateway,
    /// Verify bearer tokens here.
    Verify { keys: VerifyKeys, issuer: String, audience: String },
}

#[derive(Clone)]
pub enum VerifyKeys {
    Secret(Vec<u8>),
    Jwks(JwkSet),
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Authenticator::Gateway => f.write_str("Gateway"),
            Authenticator::Verify { issuer, audience, .. } => {
                write!(f, "Verify {{ issuer: {issuer}, audience: {audience} }}")
            }
        }
    }
}

impl Authenticator {
    /// From the environment: `AUTH_MODE` = `gateway` (default) | `verify`; for `verify`,
    /// `JWKS_JSON` (a JWKS document) or `DEV_SIGNING_KEY` (HS256), with `JWT_ISSUER`, `JWT_AUDIENCE`.
    pub fn from_env() -> Result<Self, String> {
        let mode = std::env::var("AUTH_MODE").unwrap_or_else(|_| "gateway".into());
        match mode.as_str() {
            "gateway" => Ok(Authenticator::Gateway),
            "verify" => {
                let keys = if let Ok(jwks) = std::env::var("JWKS_JSON") {
                    VerifyKeys::Jwks(serde_json::from_str(&jwks).map_err(|e| format!("JWKS_JSON: {e}"))?)
                } else {
                    let key = std::env::var("DEV_SIGNING_KEY")
                        .map_err(|_| "AUTH_MODE=verify needs JWKS_JSON or DEV_SIGNING_KEY")?;
                    VerifyKeys::Secret(key.into_bytes())
                };
                Ok(Authenticator::Verify {
                    keys,
                    issuer: std::env::var("JWT_ISSUER").unwrap_or_else(|_| DEV_ISSUER.into()),
                    audience: std::env::var("JWT_AUDIENCE").unwrap_or_else(|_| DEV_AUDIENCE.into()),
                })
            }
            other => Err(format!("AUTH_MODE must be gateway or verify, not {other:?}")),
        }
    }

    pub fn authenticate(&self, req: &Request) -> Result<Principal, ApiError> {
        match self {
            Authenticator::Gateway => from_gateway(req),
            Authenticator::Verify { keys, issuer, audience } => {
                let header = req
                    .headers()
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| ApiError::unauthorized("an Authorization: Bearer token is required"))?;
                let token = header
                    .strip_prefix("Bearer ")
                    .or_else(|| header.strip_prefix("bearer "))
                    .ok_or_else(|| ApiError::unauthorized("the Authorization header must be 'Bearer <token>'"))?;
                let claims = verify(token.trim(), keys, issuer, audience)?;
                Ok(Principal { subject: claims.sub, app_id: claims.appid, roles: claims.roles })
            }
        }
    }
}

fn verify(token: &str, keys: &VerifyKeys, issuer: &str, audience: &str) -> Result<Claims, ApiError> {
    let bad = |e: jsonwebtoken::errors::Error| ApiError::unauthorized(format!("the bearer token is not valid: {e}"));
    let header = jsonwebtoken::decode_header(token).map_err(bad)?;
    let (key, alg) = match keys {
        VerifyKeys::Secret(s) => (DecodingKey::from_secret(s), Algorithm::HS256),
        VerifyKeys::Jwks(set) => {
            let jwk = match header.kid.as_deref() {
                Some(kid) => set.find(kid),
                None => set.keys.first(),
            }
            .ok_or_else(|| ApiError::unauthorized("the token's key id is not in the configured JWKS"))?;
            (DecodingKey::from_jwk(jwk).map_err(bad)?, header.alg)
        }
    };
    // Only the algorithm the key is for: a token can't pick `none` or swap HS/RS.
    if header.alg != alg
        || matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) && matches!(keys, VerifyKeys::Jwks(_))
    {
        return Err(ApiError::unauthorized(format!("tokens signed with {:?} are not accepted", header.alg)));
    }
    let mut v = Validation::new(alg);
    v.set_issuer(&[issuer]);
    v.set_audience(&[audience]);
    v.validate_nbf = true;
    v.leeway = 30;
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<Claims>(token, &key, &v).map(|d| d.claims).map_err(bad)
}

fn from_gateway(req: &Request) -> Result<Principal, ApiError> {
    let claims = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => {
            ctx.authorizer.as_ref().and_then(|a| a.jwt.as_ref()).map(|j| j.claims.clone())
        }
        _ => None,
    }
    .ok_or_else(|| ApiError::unauthorized("no verified token claims reached the function"))?;
    let subject = claims.get("sub").cloned().ok_or_else(|| ApiError::unauthorized("the token has no subject"))?;
    Ok(Principal {
        subject,
        app_id: claims.get("appid").or_else(|| claims.get("azp")).cloned(),
        roles: claims.get("roles").map(|r| parse_gateway_roles(r)).unwrap_or_default(),
    })
}

/// The authorizer flattens an array claim to `[a b c]` (or passes a single string).
fn parse_gateway_roles(raw: &str) -> Vec<String> {
    let inner = raw.trim().trim_start_matches('[').trim_end_matches(']');
    inner.split([' ', ',']).map(|r| r.trim_matches('"')).filter(|r| !r.is_empty()).map(str::to_string).collect()
}

/// Mints a dev token (HS256) for local use and tests.
pub fn mint_dev_token(key: &[u8], subject: &str, roles: &[&str], ttl_secs: u64) -> Result<String, String> {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = Claims {
        sub: subject.to_string(),
        appid: Some("switchboard-dev".into()),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        iss: DEV_ISSUER.into(),
        aud: DEV_AUDIENCE.into(),
        exp: now + ttl_secs,
        nbf: Some(now.saturating_sub(5)),
        iat: Some(now),
    };
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(key))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_matrix() {
        use Permission::*;
        assert!(grants("ProvisioningAPI.Admin", Delete));
        assert!(grants("ProvisioningAPI.AdminUser", Write));
        assert!(grants("ProvisioningAPI.ReadUser", Read));
        assert!(!grants("ProvisioningAPI.Read", Write));
        assert!(!grants("ProvisioningAPI.Write", Read));
        assert!(!grants("ProvisioningAPI.Delete", Write));
        assert!(!grants("ProvisioningAPI.Superuser", Read));
        assert!(!grants("Admin", Read));
        assert!(grants("ProvisioningAPI.AdminUser", Operate) && grants("ProvisioningAPI.Admin", Operate));
        for role in ["Read", "Write", "Delete", "ReadUser", "WriteUser", "DeleteUser"] {
            assert!(!grants(&format!("ProvisioningAPI.{role}"), Operate), "{role}");
        }
    }

    #[test]
    fn gateway_roles() {
        assert_eq!(
            parse_gateway_roles("[ProvisioningAPI.Read ProvisioningAPI.Write]"),
            ["ProvisioningAPI.Read", "ProvisioningAPI.Write"]
        );
        assert_eq!(parse_gateway_roles("ProvisioningAPI.Admin"), ["ProvisioningAPI.Admin"]);
    }

    #[test]
    fn dev_tokens_verify_and_tampering_fails() {
        let key = b"k";
        let t = mint_dev_token(key, "alice", &["ProvisioningAPI.Read"], 60).unwrap();
        let keys = VerifyKeys::Secret(key.to_vec());
        let c = verify(&t, &keys, DEV_ISSUER, DEV_AUDIENCE).unwrap();
        assert_eq!(c.roles, ["ProvisioningAPI.Read"]);
        assert!(verify(&t, &VerifyKeys::Secret(b"other".to_vec()), DEV_ISSUER, DEV_AUDIENCE).is_err());
        assert!(verify(&t, &keys, "https://elsewhere", DEV_AUDIENCE).is_err());
        assert!(verify(&t, &keys, DEV_ISSUER, "api://other").is_err());
        let mut parts: Vec<String> = t.split('.').map(str::to_string).collect();
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut payload: serde_json::Value = serde_json::from_slice(&b64.decode(&parts[1]).unwrap()).unwrap();
        payload["roles"] = serde_json::json!(["ProvisioningAPI.Admin"]);
        parts[1] = b64.encode(payload.to_string());
        assert!(verify(&parts.join("."), &keys, DEV_ISSUER, DEV_AUDIENCE).is_err());
        let none = format!("{}.{}.", b64.encode(r#"{"alg":"none","typ":"JWT"}"#), parts[1]);
        assert!(verify(&none, &keys, DEV_ISSUER, DEV_AUDIENCE).is_err());
    }
}
