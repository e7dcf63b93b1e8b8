//! Persian names of Iran's 31 provinces by ISO 3166-2:IR code (`IR-00` …
//! `IR-30`, the numeric codes ISO adopted in place of the old ones).
//!
//! The server stores codes; names are for display — the PWA's screens (one
//! small table in the wasm instead of a lookup call) and the server's
//! built-in province outlines and printed maps.

const NAMES: [&str; 31] = [
    "مرکزی",
    "گیلان",
    "مازندران",
    "آذربایجان شرقی",
    "آذربایجان غربی",
    "کرمانشاه",
    "خوزستان",
    "فارس",
    "کرمان",
    "خراسان رضوی",
    "اصفهان",
    "سیستان و بلوچستان",
    "کردستان",
    "همدان",
    "چهارمحال و بختیاری",
    "لرستان",
    "ایلام",
    "کهگیلویه و بویراحمد",
    "بوشهر",
    "زنجان",
    "سمنان",
    "یزد",
    "هرمزگان",
    "تهران",
    "اردبیل",
    "قم",
    "قزوین",
    "گلستان",
    "خراسان شمالی",
    "خراسان جنوبی",
    "البرز",
];

/// `IR-23` → «تهران»; `None` for anything that is not a known code.
pub fn province_name(code: &str) -> Option<&'static str> {
    let num = code.strip_prefix("IR-").filter(|n| n.len() == 2)?;
    let n: usize = num.parse().ok()?;
    NAMES.get(n).copied()
}

/// Every province as (`IR-xx`, name), in code order.
pub fn provinces() -> impl Iterator<Item = (String, &'static str)> {
    NAMES
        .iter()
        .enumerate()
        .map(|(n, name)| (format!("IR-{n:02}"), *name))
}
