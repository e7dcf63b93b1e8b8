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

/// The fold is shared with the PWA (its offline search of the working set),
/// so it lives in the API crate.
pub use kudakyar_api::names::normalise;

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

/// The distinct trigrams of a normalised name as sorted character triples:
/// the same set as [`trigrams`], without a string per trigram.
fn gram_keys(normalised: &str) -> Vec<[char; 3]> {
    let mut keys = Vec::new();
    let mut padded = Vec::new();
    for word in normalised.split(' ').filter(|w| !w.is_empty()) {
        padded.clear();
        padded.push(' ');
        padded.extend(word.chars());
        padded.push(' ');
        keys.extend(padded.windows(3).map(|w| [w[0], w[1], w[2]]));
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// [`best_match`] against one query for many candidates: the query is
/// normalised and split into trigrams once. Scores are exactly those of
/// [`best_match`].
pub struct Matcher {
    query: Vec<[char; 3]>,
}

impl Matcher {
    pub fn new(query: &str) -> Matcher {
        Matcher {
            query: gram_keys(&normalise(query)),
        }
    }

    /// The best similarity of the query to any of `names`, 0–1.
    pub fn best_match<S: AsRef<str>>(&self, names: &[S]) -> f64 {
        names
            .iter()
            .map(|n| self.similarity(&gram_keys(&normalise(n.as_ref()))))
            .fold(0.0, f64::max)
    }

    fn similarity(&self, other: &[[char; 3]]) -> f64 {
        let (a, b) = (&self.query, other);
        if a.is_empty() || b.is_empty() {
            return 0.0;
        }
        // Both sorted and distinct: count the common triples in one pass.
        let (mut i, mut j, mut shared) = (0, 0, 0_usize);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    shared += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        let shared = shared as f64;
        shared / (a.len() as f64 + b.len() as f64 - shared)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matcher_scores_exactly_as_best_match() {
        let names: Vec<String> = [
            "علی",
            "رضایی",
            "علی کوچولو",
            "علی رضایی",
            "عبد\u{200C}الله",
            "مُحَمَّد",
            "",
            "  ",
            "حسن گل‌فروش",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for query in ["علي كوچلو", "رضايي", "حسن", "x", "عبدالله", "محمد علی"]
        {
            let m = Matcher::new(query);
            for n in &names {
                let one = std::slice::from_ref(n);
                assert_eq!(
                    m.best_match(one).to_bits(),
                    best_match(query, one).to_bits(),
                    "{query} / {n}"
                );
            }
            assert_eq!(
                m.best_match(&names).to_bits(),
                best_match(query, &names).to_bits()
            );
        }
    }

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
