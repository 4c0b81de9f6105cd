//! Case-insensitive shell-style patterns for scenario rules (KYC and audit decisions).

/// Case-insensitive glob: `*` matches any run of characters, `?` exactly one.
pub fn matches(pattern: &str, value: &str) -> bool {
    let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
    let value: Vec<char> = value.to_lowercase().chars().collect();
    // Classic two-pointer wildcard match with backtracking to the last `*`.
    let (mut p, mut v, mut star, mut mark) = (0, 0, None, 0);
    while v < value.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == value[v]) {
            p += 1;
            v += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
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
    pattern[p..].iter().all(|c| *c == '*')
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
}
