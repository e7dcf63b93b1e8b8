//! Persian-aware folding of names, shared by the server's search and the
//! PWA's offline search so both find the same children.
//!
//! Names are typed on many keyboards: Arabic ي/ك instead of Persian ی/ک,
//! diacritics, tatweel (ـ), a zero-width non-joiner or a space inside
//! compound names, Persian or Arabic digits. [`normalise`] folds all of these
//! to one spelling.

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
