//! `GET /portal/*`, `POST /portal/dev-token`: wiring only; the handler is `portal::handle`.

use lambda_http::{service_fn, Request};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    switchboard_api::app::init_tracing();
    let portal = portal::Portal::from_env();
    let portal = &portal;
    lambda_http::run(service_fn(
        move |req: Request| async move { Ok::<_, std::convert::Infallible>(portal.handle(req)) },
    ))
    .await
}
