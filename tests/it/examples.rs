//! The worked examples under `scenarios/` run through `issuer-sandbox test`'s runner: each
//! passes, and a deliberately broken twin of each is reported as failed with a useful diff.

use std::path::{Path, PathBuf};

use issuer_sandbox::runner::{self, Verdict};
use issuer_sandbox::scenario::Scenario;

/// Every example with steps.
fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .filter(|p| std::fs::read_to_string(p).unwrap().contains("\nsteps:"))
        .collect();
    files.sort();
    files
}

#[test]
fn at_least_eight_examples_all_pass() {
    let files = examples();
    assert!(files.len() >= 8, "{files:?}");
    for file in files {
        let outcome = runner::run_file(&file);
        let report = runner::report(std::slice::from_ref(&outcome));
        assert_eq!(outcome.failed(), 0, "{report}");
        assert!(outcome.passed() >= 3, "{report}");
        assert_eq!(outcome.skipped(), 0, "{report}");
    }
}

/// The file with its first inline `expect: { code: …` or `expect: { status: …` made wrong, and
/// which of the two it was.
fn break_first_expectation(text: &str) -> (String, &'static str) {
    let found = [("code", "\"WRONG\""), ("status", "599")]
        .into_iter()
        .filter_map(|(field, wrong)| {
            text.find(&format!("expect: {{ {field}: "))
                .map(|at| (at + "expect: { ".len() + field.len() + 2, field, wrong))
        })
        .min_by_key(|(at, _, _)| *at);
    let (start, field, wrong) = found.expect("an inline expectation to break");
    let end = start + text[start..].find([',', '}']).unwrap();
    let mut broken = text.to_owned();
    broken.replace_range(start..end, &format!("{wrong} "));
    (broken, field)
}

#[test]
fn a_broken_twin_of_each_example_fails_with_a_diff() {
    for file in examples() {
        let text = std::fs::read_to_string(&file).unwrap();
        let (broken, field) = break_first_expectation(&text);
        let scenario = match Scenario::from_source(&broken, &file.display().to_string(), None) {
            Ok(scenario) => scenario,
            Err(error) => panic!(
                "the twin of {} does not load: {error}\n{broken}",
                file.display()
            ),
        };
        let outcome = runner::run(scenario, "twin");
        let report = runner::report(std::slice::from_ref(&outcome));
        assert_eq!(outcome.failed(), 1, "{}: {report}", file.display());
        let failed = outcome
            .steps
            .iter()
            .find_map(|s| match &s.verdict {
                Verdict::Failed(diff) => Some(diff.clone()),
                _ => None,
            })
            .unwrap();
        assert!(
            failed.contains(&format!("{field}: expected")),
            "{}: {failed}",
            file.display()
        );
        assert!(failed.contains("but got"), "{failed}");
        assert!(
            report.contains("✗") && report.contains("1 failed"),
            "{report}"
        );
        let junit = runner::junit(std::slice::from_ref(&outcome));
        assert!(
            junit.contains("<failure message=") && junit.contains("failures=\"1\""),
            "{junit}"
        );
    }
}
