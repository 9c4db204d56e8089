//! One share in detail (`GET /app/shares/{uuid}`): its link with a copy button and a QR code,
//! when it opens and expires (in their zones), who was mailed and how that went, what it holds
//! and how it is set, views and downloads per day as a chart with its table, the latest
//! activity, and the actions (the destructive ones in a menu).

use super::{day, state};
use crate::domain::auth::WebUser;
use crate::domain::library::Page;
use crate::domain::shares::{Access, DayCount, Share};
use crate::domain::window::display_in;
use crate::error::AppError;
use crate::web::page;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

/// Days the chart shows, today included.
const CHART_DAYS: i64 = 14;
/// Items named on the page (a share may hold thousands of files: the rest are counted).
const ITEMS_SHOWN: usize = 50;

struct Bar {
    label: String,
    views: i64,
    downloads: i64,
    /// x of the day's pair of bars, and their heights, in the SVG's units.
    x: usize,
    view_h: i64,
    download_h: i64,
}

#[derive(Template)]
#[template(path = "app/share_detail.html")]
struct Detail {
    email: String,
    csrf: String,
    s: Share,
    state: &'static str,
    qr: String,
    starts: Option<String>,
    expires: Option<String>,
    /// (email, delivery) of each user and recipient.
    mailed: Vec<(String, String)>,
    /// Names of the items (folders end in `/`), and how many more there are.
    items: Vec<String>,
    more_items: usize,
    /// "12 files, 3.4 MiB": all the items hold, at any depth.
    contents: String,
    limit: Option<String>,
    bars: Vec<Bar>,
    /// The chart's scale: its tallest count.
    top: i64,
    activity: Vec<(String, String, String)>,
    /// What the last action did ("Share “Q3” created.").
    notice: Option<String>,
}

/// The link as a QR code: inline SVG, dark on light whatever the theme (scanners want it so).
fn qr_svg(link: &str) -> Result<String, AppError> {
    let code = qrcode::QrCode::new(link.as_bytes())
        .map_err(|e| AppError::internal(format!("no QR code: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(180, 180)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    // Inline in HTML: no XML prolog, and a name for screen readers.
    let start = svg.find("<svg").unwrap_or(0);
    Ok(svg[start..].replacen(
        "<svg",
        "<svg class=\"qr\" role=\"img\" aria-label=\"QR code of the share link\"",
        1,
    ))
}

fn bars(days: &[DayCount]) -> (Vec<Bar>, i64) {
    let top = days
        .iter()
        .map(|d| d.views.max(d.downloads))
        .max()
        .unwrap_or(0)
        .max(1);
    let bars = days
        .iter()
        .enumerate()
        .map(|(i, d)| Bar {
            label: d.day.format("%-d %b").to_string(),
            views: d.views,
            downloads: d.downloads,
            x: i * 40 + 4,
            view_h: d.views * 100 / top,
            download_h: d.downloads * 100 / top,
        })
        .collect();
    (bars, top)
}

pub async fn share_detail(
    req: HttpRequest,
    user: WebUser,
    path: web::Path<String>,
    params: crate::api::Params,
) -> Result<HttpResponse, AppError> {
    let state = state(&req)?;
    let uuid = path.into_inner();
    let s = state.shares.get(user.org_id, &uuid).await?;
    let days = state.shares.per_day(user.org_id, &uuid, CHART_DAYS).await?;
    let (files, bytes) = state.shares.totals(user.org_id, &uuid).await?;
    let (activity, _) = state
        .shares
        .activity(
            user.org_id,
            &uuid,
            Page {
                limit: 10,
                offset: 0,
            },
        )
        .await?;
    let mut items = Vec::new();
    for it in s.items.iter().take(ITEMS_SHOWN) {
        let name = match it.folder {
            Some(o) => state
                .assets
                .get_folder(
                    user.org_id,
                    crate::domain::assets::FolderRef::Uuid(it.uuid.clone()),
                )
                .await
                .map(|f| {
                    format!(
                        "{}/ ({}{})",
                        f.path.trim_end_matches('/'),
                        if o.recursive {
                            "with sub-folders, "
                        } else {
                            ""
                        },
                        match o.visibility {
                            crate::domain::types::FolderVisibility::All => "all files",
                            crate::domain::types::FolderVisibility::Pub => "PUB files",
                            crate::domain::types::FolderVisibility::Org => "ORG files",
                        }
                    )
                }),
            None => state
                .assets
                .get_file(user.org_id, it.uuid.clone())
                .await
                .map(|f| f.path()),
        };
        // An item deleted from the library is no longer part of the share.
        if let Ok(n) = name {
            items.push(n);
        }
    }
    let (bars, top) = bars(&days);
    let notice = params
        .get("done")
        .and_then(|code| super::shares::flash(code, Some(&s)));
    let pg = Detail {
        email: user.email.clone(),
        csrf: user.csrf.clone(),
        state: s.state.as_str(),
        qr: qr_svg(&s.share_uri)?,
        starts: s.starts_at.map(|t| display_in(t, &s.starts_tz)),
        expires: s.expires_at.map(|t| display_in(t, &s.expires_tz)),
        contents: crate::web::contents_label(files, bytes),
        mailed: s
            .users
            .iter()
            .map(|u| (u.email.clone(), u.delivery.clone()))
            .chain(
                s.recipients
                    .iter()
                    .map(|r| (r.email.clone(), r.delivery.clone())),
            )
            .map(|(e, d)| (e, d.unwrap_or_else(|| "not mailed".into())))
            .collect(),
        more_items: s.items.len().saturating_sub(ITEMS_SHOWN),
        items,
        limit: s
            .max_downloads
            .map(|m| format!("{} of {m} downloads used", s.downloads)),
        bars,
        top,
        notice,
        activity: activity
            .into_iter()
            .map(|a| {
                (
                    day(a.at),
                    a.kind,
                    a.file_uuid.unwrap_or_else(|| "the zip".into()),
                )
            })
            .collect(),
        s,
    };
    page(&pg)
}

impl Detail {
    fn users_only(&self) -> bool {
        self.s.access == Access::Users
    }
}
