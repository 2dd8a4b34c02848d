//! A stand-in OpenID Connect provider for the portal's production sign-in: discovery, an
//! authorization endpoint that signs the configured user straight in, and a token endpoint that
//! checks the PKCE verifier (S256) against the challenge, the client and the redirect URI, and
//! hands out a token the local API accepts. It answers with CORS headers, as Entra ID does for
//! single-page apps.

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub struct Idp {
    pub url: String,
    state: Arc<Mutex<IdpState>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

#[derive(Default)]
struct IdpState {
    base: String,
    client_id: String,
    subject: String,
    roles: Vec<String>,
    codes: HashMap<String, Grant>,
    tokens_issued: usize,
}

struct Grant {
    challenge: String,
    redirect_uri: String,
    client_id: String,
}

type Shared = Arc<Mutex<IdpState>>;

impl Idp {
    /// Serves on a free loopback port; signs in `subject` with `roles` for `client_id`.
    pub async fn start(client_id: &str, subject: &str, roles: &[&str]) -> Idp {
        let state = Arc::new(Mutex::new(IdpState {
            client_id: client_id.into(),
            subject: subject.into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            ..Default::default()
        }));
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(state.clone());
        let (url, stop) = crate::serve(app).await;
        if let Ok(mut s) = state.lock() {
            s.base = url.clone();
        }
        Idp { url, state, _stop: stop }
    }

    /// Access tokens handed out so far (each after a verified PKCE exchange).
    pub fn tokens_issued(&self) -> usize {
        self.state.lock().map(|s| s.tokens_issued).unwrap_or(0)
    }
}

fn cors(mut r: Response) -> Response {
    r.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    r
}

fn oauth_error(code: &str, description: &str) -> Response {
    cors((StatusCode::BAD_REQUEST, Json(json!({"error": code, "error_description": description}))).into_response())
}

async fn discovery(State(s): State<Shared>) -> Response {
    let base = s.lock().map(|s| s.base.clone()).unwrap_or_default();
    cors(
        Json(json!({
            "issuer": base,
            "authorization_endpoint": format!("{base}/authorize"),
            "token_endpoint": format!("{base}/token"),
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
        }))
        .into_response(),
    )
}

async fn authorize(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let Ok(mut st) = s.lock() else { return StatusCode::INTERNAL_SERVER_ERROR.into_response() };
    if get("response_type") != "code" || get("code_challenge_method") != "S256" || get("code_challenge").len() < 43 {
        return (StatusCode::BAD_REQUEST, "authorization code with PKCE S256 only").into_response();
    }
    if get("client_id") != st.client_id {
        return (StatusCode::BAD_REQUEST, "unknown client_id").into_response();
    }
    let code = uuid::Uuid::new_v4().simple().to_string();
    st.codes.insert(
        code.clone(),
        Grant { challenge: get("code_challenge"), redirect_uri: get("redirect_uri"), client_id: get("client_id") },
    );
    let sep = if get("redirect_uri").contains('?') { '&' } else { '?' };
    let state = percent_encoding::utf8_percent_encode(&get("state"), percent_encoding::NON_ALPHANUMERIC).to_string();
    let location = format!("{}{sep}code={code}&state={state}", get("redirect_uri"));
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: String,
    code: String,
    redirect_uri: String,
    client_id: String,
    code_verifier: String,
}

async fn token(State(s): State<Shared>, Form(t): Form<TokenRequest>) -> Response {
    let Ok(mut st) = s.lock() else { return StatusCode::INTERNAL_SERVER_ERROR.into_response() };
    if t.grant_type != "authorization_code" {
        return oauth_error("unsupported_grant_type", "authorization_code only");
    }
    let Some(grant) = st.codes.remove(&t.code) else { return oauth_error("invalid_grant", "unknown or used code") };
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(t.code_verifier.as_bytes()));
    if computed != grant.challenge {
        return oauth_error("invalid_grant", "code_verifier does not match code_challenge");
    }
    if t.redirect_uri != grant.redirect_uri || t.client_id != grant.client_id {
        return oauth_error("invalid_grant", "redirect_uri or client_id differ from the authorization request");
    }
    let roles: Vec<&str> = st.roles.iter().map(String::as_str).collect();
    let key = switchboard_devtools::DEV_SIGNING_KEY.as_bytes();
    let Ok(access) = switchboard_api::auth::mint_dev_token(key, &st.subject, &roles, 3600) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    st.tokens_issued += 1;
    cors(Json(json!({"access_token": access, "token_type": "Bearer", "expires_in": 3600})).into_response())
}
