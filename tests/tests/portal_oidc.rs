//! The portal's production sign-in in a real browser: OIDC authorization code with PKCE against
//! an identity provider (a stand-in on loopback), then the API called with the token it issued.

use switchboard_tests::browser::Browser;
use switchboard_tests::e2e::Gateway;
use switchboard_tests::idp::Idp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signs_in_with_authorization_code_and_pkce() {
    let idp = Idp::start("portal-client", "carol@operator.example", &["ProvisioningAPI.ReadUser"]).await;
    let gw = Gateway::start(
        "switchboard-portal-oidc",
        &[
            ("PORTAL_OIDC_ISSUER", &idp.url),
            ("PORTAL_OIDC_CLIENT_ID", "portal-client"),
            ("PORTAL_OIDC_SCOPE", "openid api://switchboard/.default"),
        ],
    )
    .await;
    let base = &gw.client.base;
    let (status, _, _) =
        gw.client.call("PUT", "/accounts/contoso", Some(switchboard_tests::account_body("contoso"))).await;
    assert_eq!(status, 201);

    let mut b = Browser::start("portal-oidc").await;
    b.goto(&format!("{base}/portal/")).await;
    b.ready("signin").await;
    assert!(!b.has("signin-role").await, "no role picker outside local dev");
    b.shot("oidc-sign-in").await;
    b.click("signin-submit").await;

    // Round trip through the provider: back on the portal, signed in with the provider's roles,
    // and the API answers with the provider's token.
    b.ready("accounts").await;
    let roles = b.text_of("user-roles").await.unwrap_or_default();
    assert!(roles.contains("ProvisioningAPI.ReadUser"), "{roles}");
    assert_eq!(b.row_keys("account").await, ["contoso"]);
    assert!(!b.has("account-create").await, "a reader gets no write actions");
    assert_eq!(idp.tokens_issued(), 1, "one code exchanged, its PKCE verifier checked");
    let url = b.client.current_url().await.unwrap();
    assert!(url.query().is_none(), "the code and state are cleared from the address bar: {url}");
    b.shot("oidc-signed-in").await;
    b.close().await;
}
