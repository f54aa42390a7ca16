//! The agent console: one static page, its script and its style, served by
//! the gateway. The page holds no secret and needs no login to load; every
//! call it makes goes to the REST API with the agent's bearer token, so it
//! can do exactly what that token may do and nothing more.
//!
//! Customers write what they like, and the console shows it: the script only
//! ever sets `textContent`, and the Content-Security-Policy refuses inline
//! scripts, images and other origins, so a message holding markup stays
//! text even if a later change forgets that.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

/// The page (`GET /console`).
pub const PAGE: &str = include_str!("../console/index.html");
/// Its script (`GET /console/app.js`).
pub const SCRIPT: &str = include_str!("../console/app.js");
/// Its style (`GET /console/console.css`).
pub const STYLE: &str = include_str!("../console/console.css");

/// What the page may load and where it may connect: its own script, style
/// and API, nothing inline, nothing from elsewhere, never inside a frame.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'none'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// The console's routes, merged into the API's router.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route(
            "/console",
            get(|| async { asset("text/html; charset=utf-8", PAGE) }),
        )
        .route(
            "/console/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route(
            "/console/console.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut r = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
