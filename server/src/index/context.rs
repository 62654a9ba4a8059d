//! Project context for AI prompts about one file: where its processes sit
//! in the supervision tree, who calls it, how it is tested, and the APIs it
//! calls. Each section is a function returning text, so the pipeline layer
//! can offer it as a template variable; [`WorkspaceIndex::context_for`]
//! puts them together, most relevant first, cut to a token budget.

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;

use super::{Call, SupervisorRef, WorkspaceIndex};

/// The sections, most relevant first: how the process lives (short, and
/// what a model cannot guess), what must keep working (callers), how it is
/// checked (tests), then the APIs it calls (often guessable from names).
/// The last ones are cut first.
pub const SECTIONS: [(&str, &str); 4] = [
    ("project.supervision", "Supervision tree"),
    ("project.callers", "Callers"),
    ("project.tests", "Tests"),
    ("project.dependencies", "Modules this file calls"),
];

const MAX_CALLERS_PER_FUNCTION: usize = 10;
const MAX_FUNCTIONS_PER_DEPENDENCY: usize = 30;
/// Ancestors shown above a supervisor, and a guard against cycles.
const MAX_TREE_DEPTH: usize = 8;

/// Tokens, estimated as bytes / 4.
pub fn estimate_tokens(text: &str) -> usize {
    text.len().div_ceil(4)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fit {
    Whole,
    /// Kept in part; says how (e.g. "test names only").
    Shortened(String),
    /// Left out to fit the budget.
    Cut,
}

#[derive(Clone, Debug)]
pub struct ContextSection {
    /// The template variable, e.g. `project.callers`.
    pub variable: &'static str,
    pub title: &'static str,
    /// Empty when there is nothing to say, or when cut.
    pub text: String,
    pub fit: Fit,
}

impl ContextSection {
    /// What the section costs in the rendered context, its title included.
    pub fn tokens(&self) -> usize {
        if self.text.is_empty() { 0 } else { estimate_tokens(&self.heading()) + estimate_tokens(&self.text) + 1 }
    }

    fn heading(&self) -> String {
        format!("## {}\n", self.title)
    }
}

#[derive(Clone, Debug)]
pub struct ProjectContext {
    pub budget_tokens: usize,
    /// In [`SECTIONS`] order.
    pub sections: Vec<ContextSection>,
}

impl ProjectContext {
    pub fn section(&self, variable: &str) -> Option<&ContextSection> {
        self.sections.iter().find(|s| s.variable == variable)
    }

    /// The estimated size of [`ProjectContext::render`].
    pub fn tokens(&self) -> usize {
        estimate_tokens(&self.render())
    }

    fn sections_tokens(&self) -> usize {
        self.sections.iter().map(ContextSection::tokens).sum()
    }

    /// The sections that were shortened or left out, least relevant first.
    pub fn cuts(&self) -> Vec<&ContextSection> {
        self.sections.iter().rev().filter(|s| s.fit != Fit::Whole).collect()
    }

    /// The sections as one text, with a closing note on what was cut.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for section in self.sections.iter().filter(|s| !s.text.is_empty()) {
            out.push_str(&section.heading());
            out.push_str(&section.text);
            out.push('\n');
        }
        out.push_str(&self.note());
        out
    }

    /// `(Cut to fit N tokens: ...)`, or nothing when all sections are whole.
    fn note(&self) -> String {
        let notes: Vec<String> = self
            .sections
            .iter()
            .filter_map(|s| match &s.fit {
                Fit::Whole => None,
                Fit::Shortened(how) => Some(format!("{} shortened ({how})", s.variable)),
                Fit::Cut => Some(format!("{} left out", s.variable)),
            })
            .collect();
        if notes.is_empty() {
            return String::new();
        }
        format!("(Cut to fit {} tokens: {}.)\n", self.budget_tokens, notes.join("; "))
    }

    /// Shorten or drop sections, the least relevant first, until the
    /// sections and the note saying what was cut fit the budget. The note
    /// grows with each cut, so its room is found by trying again.
    fn fit_to_budget(&mut self, test_names: impl FnOnce() -> String) {
        if self.sections_tokens() <= self.budget_tokens {
            return;
        }
        let test_names = test_names();
        let whole = self.sections.clone();
        let mut reserve = 0;
        loop {
            self.sections = whole.clone();
            self.cut_to(self.budget_tokens.saturating_sub(reserve), &test_names);
            let note = estimate_tokens(&self.note());
            if note <= reserve || self.sections_tokens() + note <= self.budget_tokens {
                return;
            }
            reserve = note;
        }
    }

    fn cut_to(&mut self, target: usize, test_names: &str) {
        for i in (0..self.sections.len()).rev() {
            let total = self.sections_tokens();
            if total <= target {
                return;
            }
            let section = &mut self.sections[i];
            let cost = section.tokens();
            if cost == 0 {
                continue;
            }
            let allowed = cost.saturating_sub(total - target);
            if section.variable == "project.tests" && !test_names.is_empty() {
                let shorter = ContextSection { text: test_names.to_string(), ..section.clone() };
                if shorter.tokens() <= allowed {
                    *section = ContextSection { fit: Fit::Shortened("test names only".into()), ..shorter };
                    continue;
                }
                if shorter.tokens() < cost {
                    section.text = shorter.text;
                }
            }
            let heading = estimate_tokens(&section.heading()) + 1;
            match keep_lines(&section.text, allowed.saturating_sub(heading) * 4) {
                Some((kept, dropped)) => {
                    section.text = kept;
                    section.fit = Fit::Shortened(format!("{dropped} lines dropped"));
                }
                None => {
                    section.text.clear();
                    section.fit = Fit::Cut;
                }
            }
        }
    }
}

/// The first lines of `text` that fit in `bytes`, with a last line saying
/// how many were dropped; `None` when not even one line fits.
pub(super) fn keep_lines(text: &str, bytes: usize) -> Option<(String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut kept = String::new();
    for (i, line) in lines.iter().enumerate() {
        let note = format!("… {} more lines\n", lines.len() - i);
        if kept.len() + line.len() + 1 + note.len() > bytes {
            if i == 0 {
                return None;
            }
            kept.push_str(&note);
            return Some((kept, lines.len() - i));
        }
        kept.push_str(line);
        kept.push('\n');
    }
    Some((kept, 0))
}

impl WorkspaceIndex {
    /// Context for a prompt about `path` (and, within it, `focus`, a byte
    /// range), cut to about `budget_tokens` tokens.
    pub fn context_for(&self, path: &Path, focus: Option<Range<usize>>, budget_tokens: usize) -> ProjectContext {
        let texts = [
            self.supervision_section(path),
            self.callers_section(path, focus.clone()),
            self.tests_section(path),
            self.dependencies_section(path, focus),
        ];
        let sections = SECTIONS
            .iter()
            .zip(texts)
            .map(|((variable, title), text)| ContextSection { variable, title, text, fit: Fit::Whole })
            .collect();
        let mut context = ProjectContext { budget_tokens, sections };
        context.fit_to_budget(|| self.test_names_section(path));
        context
    }

    /// `project.supervision`: the children lists that start this file's
    /// modules (with their siblings and the supervisors above), and those
    /// this file's modules hold.
    pub fn supervision_section(&self, path: &Path) -> String {
        let own: Vec<&str> = self.modules_in(path).iter().map(|m| m.name.as_str()).collect();
        let mut lists: Vec<SupervisorRef> = Vec::new();
        for module in &own {
            lists.extend(self.supervisors_of(module).into_iter().map(|(list, _)| list));
            lists.extend(self.supervisors().into_iter().filter(|s| s.list.holder == *module));
        }
        let mut seen = HashSet::new();
        lists.retain(|s| seen.insert((s.file, s.list.line)));
        lists.iter().map(|s| self.render_children(*s, &own)).collect::<Vec<_>>().join("\n")
    }

    fn render_children(&self, list: SupervisorRef, own: &[&str]) -> String {
        let mut chain = vec![list.list.holder.clone()];
        while chain.len() < MAX_TREE_DEPTH {
            let last = chain.last().expect("starts with one");
            let above = self.supervisors_of(last).into_iter().next().map(|(s, _)| s.list.holder.clone());
            match above.filter(|a| !chain.contains(a)) {
                Some(above) => chain.push(above),
                None => break,
            }
        }
        chain.reverse();
        let mut out = format!("{} starts ({}:{}):\n", chain.join(" > "), self.relative(list.file).display(), list.list.line);
        for child in &list.list.children {
            out.push_str(&format!("  - {}", child.written));
            if let Some(module) = child.module.as_deref().filter(|m| *m != child.written) {
                out.push_str(&format!(" (starts {module})"));
            }
            let this_file = [&child.module, &child.name].into_iter().flatten().any(|m| own.contains(&m.as_str()));
            if this_file {
                out.push_str("  <- this file");
            } else if let Some(found) = child.module.as_deref().and_then(|m| self.module(m)) {
                out.push_str(&format!("  [{}]", self.relative(found.file).display()));
            }
            out.push('\n');
        }
        out
    }

    /// `project.callers`: calls from other files to this file's public
    /// functions, those inside `focus` first, each with its calling line.
    pub fn callers_section(&self, path: &Path, focus: Option<Range<usize>>) -> String {
        let path = self.key(path);
        let mut blocks: Vec<(bool, String)> = Vec::new();
        for module in self.modules_in(&path) {
            let calls: Vec<Call> = self.callers(&module.name).into_iter().filter(|c| c.file != path).collect();
            for function in &module.functions {
                let to_it: Vec<&Call> =
                    calls.iter().filter(|c| c.function == function.name && c.arity == function.arity).collect();
                if to_it.is_empty() {
                    continue;
                }
                let focused = focus.as_ref().is_some_and(|f| overlaps(f, &function.range));
                let mut block = format!("{}.{}/{} is called from:\n", module.name, function.name, function.arity);
                for call in to_it.iter().take(MAX_CALLERS_PER_FUNCTION) {
                    block.push_str(&format!("  {}:{}{}: {}\n", self.relative(&call.file).display(), call.line, caller_label(call), call.code));
                }
                if to_it.len() > MAX_CALLERS_PER_FUNCTION {
                    block.push_str(&format!("  … and {} more\n", to_it.len() - MAX_CALLERS_PER_FUNCTION));
                }
                blocks.push((focused, block));
            }
        }
        blocks.sort_by_key(|(focused, _)| !focused); // stable: source order otherwise
        blocks.into_iter().map(|(_, b)| b).collect()
    }

    /// `project.tests`: the test file of this file, whole.
    pub fn tests_section(&self, path: &Path) -> String {
        let Some(test) = self.test_file_for(path) else { return String::new() };
        match std::fs::read_to_string(&test) {
            Ok(text) => format!("{}:\n{}", self.relative(&test).display(), text),
            Err(_) => self.test_names_section(path),
        }
    }

    /// `project.tests` when the whole file does not fit: its test names.
    pub fn test_names_section(&self, path: &Path) -> String {
        let Some(test) = self.test_file_for(path) else { return String::new() };
        let names = self.file(&test).map(|f| f.tests.as_slice()).unwrap_or_default();
        let mut out = format!("{} (test names only):\n", self.relative(&test).display());
        for name in names {
            out.push_str(&format!("  test \"{name}\"\n"));
        }
        out
    }

    /// `project.dependencies`: the public API of the workspace modules this
    /// file calls (those called inside `focus` first), called functions first.
    pub fn dependencies_section(&self, path: &Path, focus: Option<Range<usize>>) -> String {
        let own: HashSet<&str> = self.modules_in(path).iter().map(|m| m.name.as_str()).collect();
        let calls = self.calls_from(path);
        let mut order: Vec<(bool, &str)> = Vec::new();
        for call in &calls {
            let focused = focus.as_ref().is_some_and(|f| f.contains(&call.offset));
            match order.iter_mut().find(|(_, m)| *m == call.module) {
                Some(entry) => entry.0 |= focused,
                None if !own.contains(call.module.as_str()) => order.push((focused, &call.module)),
                None => {}
            }
        }
        order.sort_by_key(|(focused, _)| !focused);
        let mut out = String::new();
        for (_, name) in order {
            let Some(found) = self.module(name) else { continue };
            let module = found.module;
            let behaviour = module.otp_behaviour().map(|b| format!(", use {b}")).unwrap_or_default();
            out.push_str(&format!("{} ({}{behaviour}):\n", module.name, self.relative(found.file).display()));
            let called = |f: &&super::FunctionInfo| calls.iter().any(|c| c.module == name && c.function == f.name && c.arity == f.arity);
            let (mut listed, rest): (Vec<_>, Vec<_>) = module.functions.iter().partition(called);
            let called_count = listed.len();
            listed.extend(rest);
            for (i, function) in listed.iter().enumerate().take(MAX_FUNCTIONS_PER_DEPENDENCY.max(called_count)) {
                let mark = if i < called_count { "  # called here" } else { "" };
                out.push_str(&format!("  {} {}{mark}\n", function.kind.keyword(), function.signature));
            }
            if listed.len() > MAX_FUNCTIONS_PER_DEPENDENCY.max(called_count) {
                out.push_str(&format!("  … and {} more\n", listed.len() - MAX_FUNCTIONS_PER_DEPENDENCY.max(called_count)));
            }
        }
        out
    }
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end || (a.is_empty() && b.contains(&a.start))
}

/// ` in App.Client.get/1`, or ` in App.Client` at module level.
fn caller_label(call: &Call) -> String {
    match (&call.caller_module, &call.caller_function) {
        (Some(module), Some((name, arity))) => format!(" in {module}.{name}/{arity}"),
        (Some(module), None) => format!(" in {module}"),
        _ => String::new(),
    }
}
