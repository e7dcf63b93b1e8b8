//! Persian-aware name matching that behaves the same on SQLite and PostgreSQL.
//!
//! Names are typed on many keyboards: Arabic ي/ك instead of Persian ی/ک,
//! diacritics, tatweel (ـ), a zero-width non-joiner or a space inside
//! compound names, Persian or Arabic digits. [`normalise`] folds all of these
//! to one spelling. Fuzzy matching uses character trigrams of the normalised
//! words: the database stores each child's distinct trigrams
//! (`child_name_grams`), a search finds candidates sharing trigrams with the
//! query in plain SQL, and [`similarity`] ranks them here — so the result does
//! not depend on a backend extension such as `pg_trgm`.

use std::collections::BTreeSet;

/// Folds a name to its canonical searchable form.
pub fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let mapped = match c {
            'ي' | 'ى' | 'ئ' => Some('ی'),
            'ك' => Some('ک'),
            'ة' => Some('ه'),
            'أ' | 'إ' | 'ٱ' => Some('ا'),
            'ؤ' => Some('و'),
            // Diacritics (harakat, tanwin, shadda, sukun, superscript alef) and tatweel.
            '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}' => None,
            // ZWNJ, ZWJ and other invisible joiners become a word break.
            '\u{200C}' | '\u{200D}' | '\u{200E}' | '\u{200F}' | '\u{00A0}' => Some(' '),
            '۰'..='۹' => char::from_digit(c as u32 - '۰' as u32, 10),
            '٠'..='٩' => char::from_digit(c as u32 - '٠' as u32, 10),
            c if c.is_whitespace() => Some(' '),
            c => Some(c),
        };
        if let Some(m) = mapped {
            out.extend(m.to_lowercase());
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The distinct trigrams of a normalised name, each word padded with one
/// space on each side so that word starts and ends count as well.
pub fn trigrams(normalised: &str) -> BTreeSet<String> {
    let mut grams = BTreeSet::new();
    for word in normalised.split(' ').filter(|w| !w.is_empty()) {
        let padded: Vec<char> = std::iter::once(' ')
            .chain(word.chars())
            .chain(std::iter::once(' '))
            .collect();
        for window in padded.windows(3) {
            grams.insert(window.iter().collect());
        }
    }
    grams
}

/// Trigram similarity (Jaccard index) between two normalised names, 0–1.
pub fn similarity(a: &str, b: &str) -> f64 {
    let (ga, gb) = (trigrams(a), trigrams(b));
    if ga.is_empty() || gb.is_empty() {
        return 0.0;
    }
    let shared = ga.intersection(&gb).count() as f64;
    shared / (ga.len() as f64 + gb.len() as f64 - shared)
}

/// How well a query matches any of a child's names: the best similarity over
/// each name alone and the full name.
pub fn best_match(query: &str, names: &[String]) -> f64 {
    let q = normalise(query);
    names
        .iter()
        .map(|n| similarity(&q, &normalise(n)))
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_arabic_letters_digits_and_joiners() {
        assert_eq!(normalise("علي"), "علی");
        assert_eq!(normalise("كريم"), "کریم");
        assert_eq!(normalise("مُحَمَّد"), "محمد");
        assert_eq!(normalise("محـــمد"), "محمد");
        assert_eq!(normalise("عبد\u{200C}الله"), normalise("عبد الله"));
        assert_eq!(normalise("۱۲۳ ٤٥"), "123 45");
        assert_eq!(normalise("  Reza   KARIMI "), "reza karimi");
    }

    #[test]
    fn similar_spellings_score_high_and_others_low() {
        let alias = normalise("علی کوچولو");
        assert!(
            similarity(&normalise("علي كوچولو"), &alias) > 0.99,
            "same after folding"
        );
        let misspelt = similarity(&normalise("علي کوچلو"), &alias);
        assert!(misspelt > 0.4, "misspelt alias still matches: {misspelt}");
        let other = similarity(&normalise("حسن"), &alias);
        assert!(other < 0.1, "unrelated name: {other}");
    }
}
