//! `check --format github`: GitHub Actions workflow commands, one per
//! problem, which the runner turns into annotations on the changed files.
//! <https://docs.github.com/actions/reference/workflow-commands-for-github-actions>

use crate::check::Report;
use crate::finding::Severity;

use super::paths;

pub fn report(report: &Report) -> String {
    let mut out = String::new();
    for file in &report.files {
        let path = property(&paths::shown(&file.path));
        if let Some(error) = &file.error {
            out.push_str(&format!("::error file={path},line=1,title={}::{}\n", property("io unreadable-file"), data(error)));
        }
        for problem in &file.problems {
            let finding = &problem.finding;
            let (start, end) = (problem.start, problem.end);
            out.push_str(&format!(
                "::{} file={path},line={},col={},endLine={},endColumn={},title={}::{}\n",
                level(finding.severity),
                start.line,
                start.character,
                end.line,
                end.character,
                property(&format!("{} {}", finding.code, finding.name)),
                data(&finding.message),
            ));
        }
    }
    // A plain line: the summary in the job's log.
    out.push_str(&super::summary(report));
    out
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Information | Severity::Hint => "notice",
    }
}

/// A command's message: `%`, CR and LF escaped (as `@actions/core` does).
pub fn data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A command's property value: also `:` and `,`, which end a property.
pub fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}
