//! JUnit XML of a run, for CI systems: a test suite per scenario file, a test case per step.

use super::{Outcome, Verdict};

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The XML document.
pub fn junit(outcomes: &[Outcome]) -> String {
    let tests: usize = outcomes
        .iter()
        .map(|o| o.steps.len() + usize::from(o.error.is_some()))
        .sum();
    let failures: usize = outcomes.iter().map(Outcome::failed).sum();
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
