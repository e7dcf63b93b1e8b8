//! `kudakyar report quarterly`: one province's quarter as a self-contained,
//! printable HTML page for a provincial director's meeting — Persian, right
//! to left, Jalali dates, bar charts as inline SVG, no script and no
//! external resource (fonts are the reader's own; styles are inline), so it
//! opens offline and prints the same anywhere.
//!
//! The figures are the materialised ones of the quarter's last day (or of
//! yesterday, for the quarter under way), computed first if that day was
//! never materialised, and suppressed as provincial staff see them (fewer
//! than 5 children: «کمتر از ۵»).

use std::fmt::Write as _;

use kudakyar_api::indicators::{CohortTable, FigureValue, IndicatorSeries};
use kudakyar_api::users::Role;
use time::Date;

use super::definitions::Indicator;
use super::period::{self, Quarter};
use super::read::{self, Area};
use crate::auth::{Actor, Scope};
use crate::db::Db;
use crate::error::{Error, Result};

/// Persian for the figures and outcomes the report shows.
fn label(name: &str) -> &str {
    match name {
        "open_cases" => "پرونده‌های باز",
        "workers" => "مددکاران اجتماعی",
        "supervisors" => "سرپرستان تیم",
        "bucket_0_9" => "۰ تا ۹ پرونده",
        "bucket_10_19" => "۱۰ تا ۱۹ پرونده",
        "bucket_20_29" => "۲۰ تا ۲۹ پرونده",
        "bucket_30_plus" => "۳۰ پرونده و بیشتر",
        "open_cases_per_worker" => "پرونده باز به ازای هر مددکار",
        "supervisors_per_worker" => "سرپرست تیم به ازای هر مددکار",
        "centres" => "مراکز خدمات",
        "capacity" => "ظرفیت (پرونده)",
        "open_files" => "پرونده‌های پذیرفته‌شده",
        "load_share" => "نسبت بار به ظرفیت",
        "contact_to_registration_median_days" => "نخستین مواجهه تا ثبت — میانه (روز)",
        "contact_to_registration_p90_days" => "نخستین مواجهه تا ثبت — صدک ۹۰ (روز)",
        "registration_to_follow_up_median_days" => "ثبت تا نخستین پیگیری — میانه (روز)",
        "registration_to_follow_up_p90_days" => "ثبت تا نخستین پیگیری — صدک ۹۰ (روز)",
        "follow_ups_due" => "پیگیری‌های سررسیده",
        "follow_ups_on_time" => "پیگیری‌های به‌موقع",
        "on_time_share" => "سهم پیگیری به‌موقع",
        "overdue_follow_ups" => "پیگیری‌های عقب‌افتاده",
        "encounters" => "بازدیدهای میدانی",
        "food" => "غذا",
        "clothing" => "پوشاک",
        "medical_referral" => "ارجاع پزشکی",
        "school_referral" => "ارجاع به مدرسه",
        "counselling" => "مشاوره",
        "legal_aid" => "کمک حقوقی",
        "other" => "سایر",
        "sent" => "فرستاده‌شده",
        "accepted" => "پذیرفته‌شده",
        "rejected" => "ردشده",
        "completed" => "پایان‌یافته",
        "median_days_to_acceptance" => "میانهٔ زمان تا پذیرش (روز)",
        "iris_verified" => "تأییدشده با اسکن عنبیه",
        "location_verified" => "تأییدشده با موقعیت",
        "unverified" => "تأییدنشده",
        "verified_share" => "سهم بازدیدهای تأییدشده",
        "closed" => "پرونده‌های بسته یا بازگشته به خانواده",
        "reentered_6m" => "بازگشت به خیابان تا ۶ ماه",
        "reentered_6m_iris" => "… یافته با اسکن عنبیه (۶ ماه)",
        "reentered_12m" => "بازگشت به خیابان تا ۱۲ ماه",
        "reentered_12m_iris" => "… یافته با اسکن عنبیه (۱۲ ماه)",
        "rate_6m" => "نرخ بازگشت ۶ ماهه",
        "rate_12m" => "نرخ بازگشت ۱۲ ماهه",
        "registrations" => "ثبت‌ها",
        "iris_matched" => "ثبت‌های تکراری یافته با عنبیه",
        "cross_province" => "تطابق با استان دیگر",
        "matched_share" => "سهم ثبت تکراری",
        "active" => "فعال",
        "referred" => "ارجاع‌شده",
        "in_service" => "در حال دریافت خدمت",
        "reunified" => "بازگشت به خانواده",
        "moved_away" => "جابه‌جا شده",
        "in_school" => "در مدرسه",
        other => other,
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A figure as Persian text: shares as percentages, others rounded.
fn shown(name: &str, v: FigureValue) -> String {
    match v.value() {
        None => "کمتر از ۵".into(),
        Some(x) if name.ends_with("share") || name.starts_with("rate_") => {
            period::persian_digits(&format!("{:.0}٪", x * 100.0))
        }
        Some(x) if x.fract() == 0.0 => period::persian_digits(&format!("{x:.0}")),
        // The Persian decimal separator.
        Some(x) => period::persian_digits(&format!("{x:.1}")).replace('.', "٫"),
    }
}

/// Horizontal bars, one per (label, value), growing leftwards from the
/// labels on the right; suppressed values drawn empty. Text inherits the
/// page's right-to-left direction, so each text starts at its right end.
fn bars(items: &[(String, FigureValue)]) -> String {
    let max = items
        .iter()
        .filter_map(|(_, v)| v.value())
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let row = 26;
    let height = row * items.len() + 8;
    let mut svg =
        format!(r#"<svg width="640" height="{height}" viewBox="0 0 640 {height}" role="img">"#);
    for (k, (name, v)) in items.iter().enumerate() {
        let y = 4 + k * row;
        let width = v.value().map_or(0.0, |x| 380.0 * x / max);
        let _ = write!(
            svg,
            r##"<text x="632" y="{ty}" text-anchor="start" font-size="13">{label}</text><rect x="{x:.1}" y="{y}" width="{width:.1}" height="18" fill="#2b6cb0"/><text x="{vx:.1}" y="{ty}" text-anchor="start" font-size="12">{value}</text>"##,
            ty = y + 14,
            label = escape(label(name)),
            x = 420.0 - width,
            vx = 414.0 - width,
            value = escape(&shown(name, *v)),
        );
    }
    svg.push_str("</svg>");
    svg
}

fn table(series: &IndicatorSeries) -> String {
    let mut html = String::from("<table>");
    for i in &series.items {
        let _ = write!(
            html,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(label(&i.figure)),
            escape(&shown(&i.figure, i.value))
        );
    }
    html.push_str("</table>");
    html
}

fn pick(series: &IndicatorSeries, names: &[&str]) -> Vec<(String, FigureValue)> {
    names
        .iter()
        .filter_map(|n| {
            series
                .items
                .iter()
                .find(|i| i.figure == *n)
                .map(|i| (n.to_string(), i.value))
        })
        .collect()
}

fn cohort_table(t: &CohortTable) -> String {
    const OUTCOMES: [&str; 7] = [
        "active",
        "referred",
        "in_service",
        "reunified",
        "closed",
        "moved_away",
        "in_school",
    ];
    let mut html = String::from("<table><tr><th>ماه پس از ثبت</th>");
    for o in OUTCOMES {
        let _ = write!(html, "<th>{}</th>", label(o));
    }
    html.push_str("</tr>");
    for months in [3, 6, 12] {
        let _ = write!(
            html,
            "<tr><th>{}</th>",
            period::persian_digits(&months.to_string())
        );
        for o in OUTCOMES {
            let cell = t
                .items
                .iter()
                .find(|c| c.months == months && c.outcome == o)
                .map(|c| {
                    let share = c
                        .share
                        .map(|s| period::persian_digits(&format!(" ({:.0}٪)", s * 100.0)))
                        .unwrap_or_default();
                    format!("{}{share}", shown("", c.children))
                })
                .unwrap_or_else(|| "—".into());
            let _ = write!(html, "<td>{}</td>", escape(&cell));
        }
        html.push_str("</tr>");
    }
    html.push_str("</table>");
    html
}

/// The report of `province` for `quarter`, as HTML.
pub async fn quarterly(db: &Db, province: &str, quarter: Quarter) -> Result<String> {
    if !crate::geo::is_province_code(province) {
        return Err(Error::field(
            "province",
            "must be a province code IR-00…IR-30",
        ));
    }
    let yesterday = period::today() - time::Duration::days(1);
    let day = quarter.last_day().min(yesterday);
    if day < quarter.first_day() {
        return Err(Error::field("quarter", "the quarter has not begun"));
    }
    if read::latest_day(db, Some(day)).await?.as_deref() != Some(&period::day_string(day)) {
        super::job::rebuild(db, day, day, |_| {}).await?;
    }
    // As provincial staff of the province see it: small counts suppressed.
    let reader = Actor {
        user_id: String::new(),
        username: "report".into(),
        role: Role::ProvincialStaff,
        scope: Scope::Province {
            province: province.into(),
            county: None,
        },
        token_hash: String::new(),
    };
    let area = Area::of_scope(&reader.scope);
    let days = Some((day, day));
    let mut s = std::collections::HashMap::new();
    for i in Indicator::ALL {
        s.insert(*i, read::series(db, &reader, *i, &area, None, days).await?);
    }
    let cohorts = read::cohorts(db, &reader, Some(day), Some(quarter), &area, None).await?;
    Ok(render(province, quarter, day, &s, &cohorts))
}

fn render(
    province: &str,
    quarter: Quarter,
    day: Date,
    s: &std::collections::HashMap<Indicator, IndicatorSeries>,
    cohorts: &CohortTable,
) -> String {
    let get = |i: Indicator| {
        s.get(&i).cloned().unwrap_or_else(|| IndicatorSeries {
            indicator: i.name().into(),
            formula: String::new(),
            area: province.into(),
            from: String::new(),
            to: String::new(),
            items: Vec::new(),
        })
    };
    let caseload = get(Indicator::Caseload);
    let services = get(Indicator::Services);
    let referrals = get(Indicator::Referrals);
    let verification = get(Indicator::Verification);
    let quarter_text = period::persian_digits(&format!("فصل {} سال {}", quarter.q, quarter.year));
    let mut html = String::new();
    let _ = write!(
        html,
        r#"<!DOCTYPE html>
<html lang="fa" dir="rtl"><head><meta charset="utf-8">
<title>گزارش فصلی پایش برنامه — {province} — {quarter_text}</title>
<style>
body {{ font-family: Vazirmatn, Tahoma, sans-serif; margin: 2em; color: #1a202c; }}
h1 {{ font-size: 1.5em; }} h2 {{ font-size: 1.2em; border-bottom: 1px solid #cbd5e0; margin-top: 1.6em; }}
table {{ border-collapse: collapse; margin: .5em 0; }}
th, td {{ border: 1px solid #cbd5e0; padding: .3em .7em; text-align: right; }}
section {{ page-break-inside: avoid; }}
.note {{ color: #4a5568; font-size: .9em; }}
@media print {{ body {{ margin: 1cm; }} }}
</style></head><body>
<h1>گزارش فصلی پایش برنامهٔ کودکان کار و خیابان</h1>
<p>استان {province} — {quarter_text} ({from} تا {to})</p>
<p class="note">ارقام وضعیت پایان روز {as_of} است. شمارش‌های کمتر از ۵ کودک برای حفظ حریم خصوصی نمایش داده نمی‌شوند («کمتر از ۵»).</p>
"#,
        province = escape(province),
        from = period::jalali_text(quarter.first_day()),
        to = period::jalali_text(quarter.last_day()),
        as_of = period::jalali_text(day),
    );
    let sections: [(&str, String); 8] = [
        (
            "بار پرونده‌ها",
            format!(
                "{}{}",
                bars(&pick(
                    &caseload,
                    &[
                        "bucket_0_9",
                        "bucket_10_19",
                        "bucket_20_29",
                        "bucket_30_plus"
                    ]
                )),
                table(&caseload)
            ),
        ),
        ("بار مراکز خدمات", table(&get(Indicator::CentreLoad))),
        (
            "به‌موقع بودن ثبت و پیگیری",
            table(&get(Indicator::Timeliness)),
        ),
        (
            "خدمات ارائه‌شده (۳۰ روز پایانی)",
            bars(&pick(
                &services,
                &[
                    "food",
                    "clothing",
                    "medical_referral",
                    "school_referral",
                    "counselling",
                    "legal_aid",
                    "other",
                ],
            )),
        ),
        (
            "ارجاع‌ها",
            format!(
                "{}{}",
                bars(&pick(
                    &referrals,
                    &["sent", "accepted", "rejected", "completed"]
                )),
                table(&referrals)
            ),
        ),
        (
            "راستی‌آزمایی بازدیدهای میدانی (۳۰ روز پایانی)",
            format!(
                "{}{}",
                bars(&pick(
                    &verification,
                    &["iris_verified", "location_verified", "unverified"]
                )),
                table(&verification)
            ),
        ),
        ("بازگشت به خیابان", table(&get(Indicator::Reentry))),
        (
            "ثبت‌های تکراری (شناسایی با عنبیه)",
            table(&get(Indicator::Identity)),
        ),
    ];
    for (title, body) in sections {
        let _ = writeln!(html, "<section><h2>{title}</h2>{body}</section>");
    }
    let _ = writeln!(
        html,
        "<section><h2>پیامد کودکان ثبت‌شده در {quarter_text}</h2>{}</section>",
        cohort_table(cohorts)
    );
    let _ = writeln!(
        html,
        "<p class=\"note\">تهیه‌شده در {} با سامانهٔ کودک‌یار.</p></body></html>",
        period::jalali_text(period::today())
    );
    html
}
