//! Bytes that aren't text where text is expected: a body that isn't UTF-8, header values that
//! aren't visible ASCII. The handlers refuse them with a 400 naming the part. (The local gateway,
//! cargo lambda watch, can't carry such bytes to a function at all, so this is tested here.)

use lambda_http::http::{HeaderValue, Method, StatusCode};
use lambda_http::{Body, RequestExt};
use std::collections::HashMap;

use switchboard_api::API_VERSION;
use switchboard_tests::{dr_number, full_account_body, token, Stack, ADMIN};

fn request(method: Method, path: &str, body: Body, headers: &[(&str, &[u8])]) -> lambda_http::Request {
    let mut b = lambda_http::http::Request::builder()
        .method(method)
        .uri(format!("http://localhost{path}"))
        .header("authorization", format!("Bearer {}", token(ADMIN)))
        .header("content-type", "application/json");
    for (k, v) in headers {
        b = b.header(*k, HeaderValue::from_bytes(v).unwrap());
    }
    b.body(body)
        .unwrap()
        .with_query_string_parameters(HashMap::from([("api-version".to_string(), vec![API_VERSION.to_string()])]))
}

#[tokio::test]
async fn bytes_that_are_not_text_are_refused_with_a_400() {
    let s = Stack::start().await;
    s.setup("PUT", "/accounts/contoso", Some(full_account_body("contoso"))).await;
    s.setup("PUT", "/accounts/contoso/numbers/+442071230001", Some(dr_number("contoso", "+442071230001"))).await;

    let r =
        s.dispatch(request(Method::POST, "/accounts/contoso:deleteNumbers", Body::Binary(vec![0xff, 0xfe]), &[])).await;
    assert_eq!((r.status, r.code(), r.target()), (StatusCode::BAD_REQUEST, "InvalidJson", "body"));

    let body = Body::Text(dr_number("contoso", "+442071230001").to_string());
    let r = s
        .dispatch(request(
            Method::PUT,
            "/accounts/contoso/numbers/+442071230001",
            body,
            &[("if-match", b"\xd7\xf8\xc2\x9b")],
        ))
        .await;
    assert_eq!(
        (r.status, r.target()),
        (StatusCode::BAD_REQUEST, "If-Match"),
        "an unreadable precondition is not ignored"
    );

    let r = s
        .dispatch(request(
            Method::DELETE,
            "/accounts/contoso/numbers/+442071230001",
            Body::Empty,
            &[("repeatability-request-id", b"\xd7\xf8")],
        ))
        .await;
    assert_eq!((r.status, r.target()), (StatusCode::BAD_REQUEST, "Repeatability-Request-ID"));
    assert_eq!(r.header("repeatability-result"), Some("rejected"));
    assert_eq!(
        s.admin("GET", "/accounts/contoso/numbers/+442071230001", None).await.status,
        StatusCode::OK,
        "nothing was deleted"
    );
}
