//! Located scenario errors: every problem names the file, line and column and shows the snippet.

use std::fmt;

use serde::Serialize;
use serde_saphyr::Location;

/// One thing wrong with a scenario file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// 1-based; 0 when the problem has no position (an unreadable file).
    pub line: u64,
    pub column: u64,
    pub message: String,
    /// The offending lines, rendered as in the terminal output.
    pub snippet: String,
}

/// Everything wrong with one scenario source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScenarioError {
    /// File path, or a label such as `<request body>`.
    pub origin: String,
    pub problems: Vec<Problem>,
}

impl ScenarioError {
    /// An error with no source position (the file could not be read, ...).
    pub fn unlocated(origin: &str, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            origin: origin.to_owned(),
            problems: vec![Problem {
                line: 0,
                column: 0,
                message: message.into(),
                snippet: String::new(),
            }],
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            if problem.line == 0 {
                writeln!(f, "error: {}: {}", self.origin, problem.message)?;
                continue;
            }
            writeln!(f, "error: {}", problem.message)?;
            writeln!(
                f,
                " --> {}:{}:{}",
                self.origin, problem.line, problem.column
            )?;
            f.write_str(&problem.snippet)?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// Collects problems against one source text.
#[derive(Debug)]
pub struct Problems<'a> {
    source: &'a str,
    problems: Vec<Problem>,
}

impl<'a> Problems<'a> {
    pub fn new(source: &'a str) -> Problems<'a> {
        Problems {
            source,
            problems: Vec::new(),
        }
    }

    /// Records `message` at `location`.
    pub fn at(&mut self, location: Location, message: impl Into<String>) {
        self.at_line_column(location.line(), location.column(), message.into());
    }

    /// Records `message` at an explicit 1-based position.
    pub fn at_line_column(&mut self, line: u64, column: u64, message: String) {
        let snippet = snippet(self.source, line, column, &message);
        self.problems.push(Problem {
            line,
            column,
            message,
            snippet,
        });
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    /// The collected problems as an error for `origin`, sorted by position.
    pub fn into_error(mut self, origin: &str) -> ScenarioError {
        self.problems.sort_by_key(|p| (p.line, p.column));
        ScenarioError {
            origin: origin.to_owned(),
            problems: self.problems,
        }
    }
}

/// Renders up to two lines of context, the offending line and a caret under the column:
///
/// ```text
///    |
/// 11 |   - id: demo
/// 12 |     nmae: Demo
///    |     ^ unknown field `nmae`
/// ```
pub fn snippet(source: &str, line: u64, column: u64, message: &str) -> String {
    let lines: Vec<&str> = source.lines().collect();
    let Some(index) = usize::try_from(line).ok().and_then(|l| l.checked_sub(1)) else {
        return String::new();
    };
    if index >= lines.len() {
        return String::new();
    }
    let first = index.saturating_sub(2);
    let width = (index + 1).to_string().len();
    let mut out = format!("{:width$} |\n", "");
    for (offset, text) in lines[first..=index].iter().enumerate() {
        out.push_str(&format!("{:>width$} | {}\n", first + offset + 1, text));
    }
    let caret_pad = " ".repeat(column.saturating_sub(1) as usize);
    out.push_str(&format!("{:width$} | {caret_pad}^ {message}\n", ""));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_shows_context_and_caret() {
        let source = "a: 1\nb: 2\nc: 3\nd: 4\n";
        let rendered = snippet(source, 3, 4, "bad value");
        assert_eq!(
            rendered,
            "  |\n1 | a: 1\n2 | b: 2\n3 | c: 3\n  |    ^ bad value\n"
        );
    }

    #[test]
    fn display_names_origin_line_and_column() {
        let mut problems = Problems::new("x: 1\n");
        problems.at_line_column(1, 4, "no".into());
        let text = problems.into_error("s.yaml").to_string();
        assert!(text.starts_with("error: no\n --> s.yaml:1:4\n"), "{text}");
    }
}
