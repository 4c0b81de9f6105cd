//! JUnit XML of a run, for CI systems: a test suite per scenario file, a test case per step.

use super::{FileRun, Verdict};

/// `text` fit for XML 1.0 character data and attribute values: the markup characters as
/// entities, tab/newline/carriage return as character references (an attribute would fold
/// them into spaces), and the characters XML 1.0 forbids anywhere (other C0 controls,
/// U+FFFE, U+FFFF) as U+FFFD, so CI parsers never reject the report.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// The XML document.
pub fn junit(outcomes: &[FileRun]) -> String {
    let tests: usize = outcomes
        .iter()
        .map(|o| o.steps.len() + usize::from(o.error.is_some()))
        .sum();
    let failures: usize = outcomes.iter().map(FileRun::failed).sum();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"issuer-sandbox\" tests=\"{tests}\" failures=\"{failures}\">\n"
    );
    for outcome in outcomes {
        let file = escape(&outcome.file);
        out.push_str(&format!(
            "  <testsuite name=\"{file}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\">\n",
            outcome.steps.len() + usize::from(outcome.error.is_some()),
            outcome.failed(),
            outcome.skipped(),
            outcome.elapsed.as_secs_f64()
        ));
        if let Some(error) = &outcome.error {
            out.push_str(&format!(
                "    <testcase name=\"load scenario\" classname=\"{file}\"><failure message=\"cannot run\">{}</failure></testcase>\n",
                escape(error)
            ));
        }
        for step in &outcome.steps {
            let name = escape(&step.name);
            let time = step.elapsed.as_secs_f64();
            match &step.verdict {
                Verdict::Passed => out.push_str(&format!(
                    "    <testcase name=\"{name}\" classname=\"{file}\" time=\"{time:.3}\"/>\n"
                )),
                Verdict::Failed(diff) => out.push_str(&format!(
                    "    <testcase name=\"{name}\" classname=\"{file}\" time=\"{time:.3}\"><failure message=\"{}\">{}</failure></testcase>\n",
                    escape(diff.lines().next().unwrap_or("failed")),
                    escape(diff)
                )),
                Verdict::Skipped => out.push_str(&format!(
                    "    <testcase name=\"{name}\" classname=\"{file}\"><skipped/></testcase>\n"
                )),
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_text_is_valid_xml_whatever_it_held() {
        assert_eq!(
            escape("a<b>&\"c\" 'd'\u{1b}[1m\u{7}\u{ffff}\n张"),
            "a&lt;b&gt;&amp;&quot;c&quot; &apos;d&apos;\u{fffd}[1m\u{fffd}\u{fffd}&#10;张"
        );
    }
}
