//! Building the SDK clients once per cold start. The endpoint comes from the standard
//! `AWS_ENDPOINT_URL_DYNAMODB` (`_SQS`), so the same code talks to AWS or the local engines.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_sdk_dynamodb::Client;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider, TlsContext, TrustStore};

/// The roots AWS service endpoints chain to: Amazon Root CA 1–4 and the Starfield Services root
/// that cross-signs them (Amazon Trust Services, https://www.amazontrust.com/repository/).
/// Trusting only these, instead of the system store, takes reading the system bundle and every
/// file of `/etc/ssl/certs` (~290 files on Debian) out of every cold start (the largest part of
/// it beyond a bare `lambda_runtime`; see BENCHMARKS.md (c)). The trade: an endpoint whose chain leaves Amazon Trust Services (a
/// TLS-inspecting proxy, a future re-rooting) is refused until `TLS_ROOTS=system` is set.
const AWS_ROOTS: &[u8] = include_bytes!("aws_roots.pem");

/// The table name from `TABLE_NAME` (default `switchboard`).
pub fn table_name_from_env() -> String {
    std::env::var("TABLE_NAME").unwrap_or_else(|_| "switchboard".to_string())
}

/// The SDK configuration every client here is built from: region and credentials from the
/// environment, and an HTTPS client trusting the AWS roots (`TLS_ROOTS=system`: the system's).
pub async fn aws_config_from_env() -> SdkConfig {
    let system = std::env::var("TLS_ROOTS").is_ok_and(|v| v.eq_ignore_ascii_case("system"));
    aws_config::defaults(BehaviorVersion::latest()).http_client(https_client(system)).load().await
}

pub async fn client_from_env() -> Client {
    Client::new(&aws_config_from_env().await)
}

fn https_client(system_roots: bool) -> SharedHttpClient {
    let roots = if system_roots { TrustStore::default() } else { TrustStore::empty().with_pem_certificate(AWS_ROOTS) };
    // `build` only fails for contexts other providers reject; rustls takes any trust store.
    let tls = TlsContext::builder().with_trust_store(roots).build().unwrap_or_default();
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(tls)
        .build_https()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    use sha2::{Digest, Sha256};

    /// SHA-256 of each root as Amazon Trust Services publishes it.
    const PUBLISHED: [&str; 5] = [
        "8ecde6884f3d87b1125ba31ac3fcb13d7016de7f57cc904fe1cb97c6ae98196e", // Amazon Root CA 1
        "1ba5b2aa8c65401a82960118f80bec4f62304d83cec4713a19c39c011ea46db4", // Amazon Root CA 2
        "18ce6cfe7bf14e60b2e347b8dfe868cb31d02ebb3ada271569f50343b46db3a4", // Amazon Root CA 3
        "e35d28419ed02025cfa69038cd623962458da5c695fbdea3c22b0bfb25897092", // Amazon Root CA 4
        "568d6905a2c88708a4b3025190edcfedb1974a606a13c6e5290fcb2ae63edab5", // Starfield Services G2
    ];

    #[test]
    fn the_embedded_roots_are_the_five_amazon_trust_services_roots() {
        let certs: Vec<_> = CertificateDer::pem_slice_iter(AWS_ROOTS).collect::<Result<_, _>>().unwrap();
        let digests: Vec<String> =
            certs.iter().map(|c| Sha256::digest(c.as_ref()).iter().map(|b| format!("{b:02x}")).collect()).collect();
        assert_eq!(digests, PUBLISHED);
    }
}
