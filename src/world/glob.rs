//! Case-insensitive shell-style patterns for scenario rules (KYC and audit decisions).

/// Case-insensitive glob: `*` matches any run of characters, `?` exactly one.
pub fn matches(pattern: &str, value: &str) -> bool {
    // Fault rules match every request against their globs: the usual all-ASCII case compares
    // bytes in place; anything else is lower-cased into chars first.
    if pattern.is_ascii() && value.is_ascii() {
        wildcard(pattern.as_bytes(), value.as_bytes(), |p, v| {
            p.eq_ignore_ascii_case(&v)
        })
    } else {
        let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
        let value: Vec<char> = value.to_lowercase().chars().collect();
        wildcard(&pattern, &value, |p, v| p == v)
    }
}

/// Characters that can stand in a glob: `*` and `?` are its wildcards.
trait GlobChar: Copy {
    fn is(self, wildcard: char) -> bool;
}

impl GlobChar for u8 {
    fn is(self, wildcard: char) -> bool {
        char::from(self) == wildcard
    }
}

impl GlobChar for char {
    fn is(self, wildcard: char) -> bool {
        self == wildcard
    }
}

/// Classic two-pointer wildcard match with backtracking to the last `*`.
fn wildcard<C: GlobChar>(pattern: &[C], value: &[C], same: impl Fn(C, C) -> bool) -> bool {
    let (mut p, mut v, mut star, mut mark) = (0, 0, None, 0);
    while v < value.len() {
        if p < pattern.len() && (pattern[p].is('?') || same(pattern[p], value[v])) {
            p += 1;
            v += 1;
        } else if p < pattern.len() && pattern[p].is('*') {
            star = Some(p);
            mark = v;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            v = mark;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| c.is('*'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_shell_patterns_ignoring_case() {
        assert!(matches("*@reject.test", "Bob@REJECT.test"));
        assert!(matches("REJECT*", "reject me"));
        assert!(matches("a?c", "abc"));
        assert!(matches("*", ""));
        assert!(!matches("a?c", "ac"));
        assert!(!matches("*@reject.test", "bob@example.com"));
        assert!(matches("*x*y*", "axbyc"));
    }

    #[test]
    fn non_ascii_text_matches_by_character_ignoring_case() {
        assert!(matches("张*", "张伟"));
        assert!(matches("??", "张伟"));
        assert!(!matches("?", "张伟"));
        assert!(matches("émile*", "ÉMILE ZOLA"));
        assert!(matches("*@reject.test", "Zoë@REJECT.test"));
        assert!(!matches("zoe*", "Zoë"));
    }
}
