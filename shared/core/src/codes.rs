//! Codes as people type them. Authenticator apps show `123 456`, printed backup
//! codes `xxxx-xxxx-xxxx`, and copy-paste brings no-break spaces along: separators
//! carry no information, so every kind of code drops them before it is checked.
//! What is still not a code after that is a malformed request, not a wrong guess.

/// Spaces of any kind (Unicode `White_Space`), the ASCII hyphen-minus and the
/// Unicode hyphens U+2010 and U+2011.
pub fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '\u{2010}' | '\u{2011}')
}

/// `input` without separators.
pub fn strip_separators(input: &str) -> String {
    input.chars().filter(|&c| !is_separator(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_what_apps_and_paper_show_between_groups() {
        for typed in [
            "123456",
            "123 456",
            "123-456",
            " 123456 ",
            "12 34 56",
            "123\u{a0}456",
            "123\u{202f}456",
            "123\u{2011}456",
            "123\t456",
        ] {
            assert_eq!(strip_separators(typed), "123456", "{typed:?}");
        }
        assert_eq!(strip_separators("12a456"), "12a456");
        assert_eq!(strip_separators("123_456"), "123_456");
    }
}
