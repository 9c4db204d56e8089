//! Signing in and out, and the session as an extractor.

use super::{see_other, state};
use crate::api::client::is_https;
use crate::api::{client_addr, Params};
use crate::domain::auth::{self, WebUser};
use crate::error::AppError;
use crate::web::guard::{form_body, last, parse_form, CsrfForm};
use crate::web::page;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use askama::Template;
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;

pub const SESSION_COOKIE: &str = "sb_session";
const LOGIN_CSRF_COOKIE: &str = "sb_login_csrf";

impl FromRequest for WebUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<WebUser, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state(req);
        let cookie = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
        let next = crate::web::path_and_query(req);
        Box::pin(async move {
            let state = state?;
            let user = match cookie {
                Some(c) => state.auth.web_session(&c).await?,
                None => None,
            };
            user.ok_or(AppError::LoginRequired {
                login_url: crate::web::login_url(&next),
            })
        })
    }
}

/// Only local paths: `/x`, never `//host`, `/\host` or a scheme.
pub fn safe_next(next: &str) -> String {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.contains(['\r', '\n']);
    if ok {
        next.to_string()
    } else {
        "/app".into()
    }
}

#[derive(Template)]
#[template(path = "app/login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    next: &'a str,
    email: &'a str,
    error: Option<&'a str>,
}

fn login_page(
    csrf: &str,
    next: &str,
    email: &str,
    error: Option<&str>,
    status: StatusCode,
    req: &HttpRequest,
) -> Result<HttpResponse, AppError> {
    let mut res = page(&LoginPage {
        csrf,
        next,
        email,
        error,
    })?;
    *res.status_mut() = status;
    // A pre-session token: the form must come from this site (double submit).
    let cookie = Cookie::build(LOGIN_CSRF_COOKIE, csrf.to_string())
        .path("/login")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(is_https(req))
        .finish();
    res.add_cookie(&cookie).map_err(AppError::internal)?;
    Ok(res)
}

pub async fn login_form(req: HttpRequest, params: Params) -> Result<HttpResponse, AppError> {
    let next = safe_next(params.get("next").unwrap_or("/app"));
    login_page(&auth::new_secret(""), &next, "", None, StatusCode::OK, &req)
}

/// The sign-in form. It comes before any session, so its CSRF token is checked here against
/// the `/login` cookie (double submit), not by `CsrfForm`.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    #[serde(deserialize_with = "last")]
    next: String,
    #[serde(deserialize_with = "last")]
    csrf_token: String,
    #[serde(deserialize_with = "last")]
    email: String,
    #[serde(deserialize_with = "last")]
    password: String,
}

impl FromRequest for LoginForm {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<LoginForm, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = form_body(req, payload);
        Box::pin(async move { parse_form(&body.await?) })
    }
}

pub async fn login(req: HttpRequest, form: LoginForm) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let next = safe_next(&form.next);
    let expected = req
        .cookie(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    if expected.is_empty() || form.csrf_token != expected {
        return Err(AppError::CsrfFailed);
    }
    let email = form.email.as_str();
    match state
        .auth
        .web_login(email, &form.password, &client_addr(&req))
        .await
    {
        Ok(sid) => {
            let mut res = see_other(&next);
            let cookie = Cookie::build(SESSION_COOKIE, sid)
                .path("/")
                .http_only(true)
                .same_site(SameSite::Lax)
                .secure(is_https(&req))
                .max_age(actix_web::cookie::time::Duration::seconds(
                    auth::WEB_SESSION_SECS,
                ))
                .finish();
            res.add_cookie(&cookie).map_err(AppError::internal)?;
            Ok(res)
        }
        Err(AppError::InvalidCredentials) => login_page(
            &expected,
            &next,
            email,
            Some("The email or password is wrong."),
            StatusCode::UNAUTHORIZED,
            &req,
        ),
        Err(AppError::TooManyAttempts { retry_after }) => {
            let msg = format!(
                "Too many failed attempts. Try again in {} minutes.",
                retry_after.div_ceil(60)
            );
            let mut res = login_page(
                &expected,
                &next,
                email,
                Some(&msg),
                StatusCode::TOO_MANY_REQUESTS,
                &req,
            )?;
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after));
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

pub async fn logout(req: HttpRequest, post: CsrfForm) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let user = post.user;
    state.auth.web_logout(user.session_id).await?;
    let mut res = see_other("/login");
    let mut gone = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(is_https(&req))
        .finish();
    gone.make_removal();
    res.add_cookie(&gone).map_err(AppError::internal)?;
    Ok(res)
}
