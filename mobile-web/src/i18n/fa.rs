//! The Persian string table (the default UI language).
//!
//! Vocabulary follows the welfare organization's own usage (مددکار اجتماعی,
//! استان, شهرستان). The zero-width non-joiner (U+200C) is written
//! as `\u{200c}` so it stays visible in review.

use super::Strings;

pub static FA: Strings = Strings {
    app_name: "کودک\u{200c}یار",
    tagline: "سامانهٔ ثبت و پیگیری کودکان کار و خیابان",
    loading: "در حال بارگذاری…",
    login_title: "ورود به کودک\u{200c}یار",
    username: "نام کاربری",
    password: "گذرواژه",
    show_password: "نمایش گذرواژه",
    login: "ورود",
    logging_in: "در حال ورود…",
    fill_both: "نام کاربری و گذرواژه را وارد کنید.",
    wrong_credentials: "نام کاربری یا گذرواژه نادرست است",
    session_expired: "نشست شما به پایان رسیده است؛ لطفاً دوباره وارد شوید.",
    logged_out: "از حساب خود خارج شدید.",
    home_title: "خوش آمدید",
    name: "نام",
    role: "نقش",
    province: "استان",
    county: "شهرستان",
    whole_country: "سراسر کشور",
    logout: "خروج از حساب",
    logging_out: "در حال خروج…",
    retry: "تلاش دوباره",
    stale_user: "ارتباط با سرور برقرار نشد؛ اطلاعات ذخیره\u{200c}شده نمایش داده می\u{200c}شود.",
    network: "ارتباط با سرور برقرار نشد. اتصال اینترنت را بررسی کنید و دوباره تلاش کنید.",
    forbidden: "اجازهٔ انجام این کار را ندارید.",
    invalid: "اطلاعات فرستاده\u{200c}شده پذیرفته نشد.",
    server: "خطایی در سرور رخ داد. کمی بعد دوباره تلاش کنید.",
    unexpected: "پاسخ غیرمنتظره\u{200c}ای از سرور رسید. کمی بعد دوباره تلاش کنید.",
    request_id: "کد پیگیری",
    wait_for: "تلاش\u{200c}های ناموفق زیاد بود. لطفاً {} صبر کنید و سپس دوباره تلاش کنید.",
    wait_a_moment: "تلاش\u{200c}های ناموفق زیاد بود. لطفاً کمی صبر کنید و سپس دوباره تلاش کنید.",
    wait_button: "{} صبر کنید",
    seconds: "{} ثانیه",
    minutes: "{} دقیقه",
};
