//! Open documents: their text in a rope, their version, and (for Elixir) a
//! syntax tree kept up to date incrementally.

pub mod position;

use ropey::Rope;
use tree_sitter::{InputEdit, Point, Tree};

use crate::cancellation::Cancellation;
use crate::elixir::parser::with_parser;
pub use position::{byte_offset, position_at, PositionEncoding, TextPosition};

/// What a document holds, which decides how it is analysed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentKind {
    Elixir,
    /// A pipeline_ex YAML file.
    Pipeline,
    Other,
}

impl DocumentKind {
    /// Decide from the editor's language id, the file name and the text;
    /// `configured_pipeline` says whether the configured globs match it.
    pub fn detect(language_id: &str, path: &str, text: &str, configured_pipeline: bool) -> Self {
        match language_id {
            "elixir" => DocumentKind::Elixir,
            _ if crate::elixir::is_elixir_path(path) => DocumentKind::Elixir,
            _ if configured_pipeline || crate::pipeline::is_pipeline_file(path, text) => DocumentKind::Pipeline,
            _ => DocumentKind::Other,
        }
    }
}

/// One edit as the editor sends it: a range to replace, or the whole text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextChange {
    pub range: Option<(TextPosition, TextPosition)>,
    pub text: String,
}

/// An open document. Its tree (Elixir only) is told about every edit with
/// `Tree::edit` but re-parsed only when analysed, off the editor's path:
/// see [`Snapshot::parse`].
pub struct Document {
    text: Rope,
    version: i32,
    kind: DocumentKind,
    /// The last parsed tree, with every later edit applied to it.
    tree: Option<Tree>,
    /// Whether `tree` was parsed from the current text.
    tree_is_current: bool,
}

/// An immutable view of a document at one version, cheap to take (rope and
/// tree are reference counted) and safe to analyse on another thread.
#[derive(Clone)]
pub struct Snapshot {
    pub text: Rope,
    pub version: i32,
    pub kind: DocumentKind,
    tree: Option<Tree>,
    tree_is_current: bool,
}

impl Snapshot {
    /// The syntax tree of this text (Elixir only), re-parsing incrementally
    /// from the document's last tree if edits came since.
    pub fn parse(&mut self) -> Option<&Tree> {
        self.parse_unless_cancelled(&Cancellation::default())
    }

    /// [`Snapshot::parse`], giving up (`None`, the old tree kept) once `cancel` is set.
    pub fn parse_unless_cancelled(&mut self, cancel: &Cancellation) -> Option<&Tree> {
        if self.kind != DocumentKind::Elixir {
            return None;
        }
        if !self.tree_is_current {
            let tree = with_parser(|parser| parser.parse_rope_unless_cancelled(&self.text, self.tree.as_ref(), cancel))?;
            self.tree = Some(tree);
            self.tree_is_current = true;
        }
        self.tree.as_ref()
    }

    /// The tree, once [`Snapshot::parse`] has run.
    pub fn tree(&self) -> Option<&Tree> {
        self.tree.as_ref().filter(|_| self.tree_is_current)
    }
}

impl Document {
    pub fn new(text: &str, version: i32, kind: DocumentKind) -> Self {
        Self { text: Rope::from_str(text), version, kind, tree: None, tree_is_current: false }
    }

    pub fn text(&self) -> &Rope {
        &self.text
    }

    pub fn version(&self) -> i32 {
        self.version
    }

    pub fn kind(&self) -> DocumentKind {
        self.kind
    }

    /// Apply the edits of one `didChange`, in order, and take its version.
    pub fn apply_changes(&mut self, version: i32, changes: &[TextChange], encoding: PositionEncoding) {
        for change in changes {
            self.apply_change(change, encoding);
        }
        self.version = version;
    }

    /// Apply one edit to the text and tell the tree about it.
    pub fn apply_change(&mut self, change: &TextChange, encoding: PositionEncoding) {
        self.tree_is_current = false;
        let Some((start, end)) = change.range else {
            self.text = Rope::from_str(&change.text);
            self.tree = None; // nothing worth reusing
            return;
        };
        let start_byte = byte_offset(&self.text, start, encoding);
        let old_end_byte = byte_offset(&self.text, end, encoding).max(start_byte);
        let start_position = tree_point(&self.text, start_byte);
        let old_end_position = tree_point(&self.text, old_end_byte);

        let start_char = self.text.byte_to_char(start_byte);
        let old_end_char = self.text.byte_to_char(old_end_byte);
        self.text.remove(start_char..old_end_char);
        self.text.insert(start_char, &change.text);

        let new_end_byte = start_byte + change.text.len();
        if let Some(tree) = &mut self.tree {
            tree.edit(&InputEdit {
                start_byte,
                old_end_byte,
                new_end_byte,
                start_position,
                old_end_position,
                new_end_position: tree_point(&self.text, new_end_byte),
            });
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            text: self.text.clone(),
            version: self.version,
            kind: self.kind,
            tree: self.tree.clone(),
            tree_is_current: self.tree_is_current,
        }
    }

    /// Keep the tree parsed from a snapshot, if no edit came since it was taken,
    /// so the next parse starts from it.
    pub fn keep_tree(&mut self, snapshot: &Snapshot) {
        if snapshot.version == self.version && !self.tree_is_current {
            if let Some(tree) = snapshot.tree() {
                self.tree = Some(tree.clone());
                self.tree_is_current = true;
            }
        }
    }

    /// The syntax tree of the current text (Elixir only), parsed now if needed.
    pub fn tree(&mut self) -> Option<&Tree> {
        let mut snapshot = self.snapshot();
        snapshot.parse();
        self.keep_tree(&snapshot);
        self.tree.as_ref().filter(|_| self.kind == DocumentKind::Elixir)
    }
}

/// A tree-sitter point: row and byte column. Rows follow the rope's lines,
/// which agree with tree-sitter's for `\n` and `\r\n` text; only the offsets
/// matter for re-parsing, and we read every range from byte offsets.
fn tree_point(text: &Rope, byte: usize) -> Point {
    let row = text.byte_to_line(byte);
    Point { row, column: byte - text.line_to_byte(row) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(start: (u32, u32), end: (u32, u32), text: &str) -> TextChange {
        TextChange {
            range: Some((TextPosition::new(start.0, start.1), TextPosition::new(end.0, end.1))),
            text: text.to_string(),
        }
    }

    #[test]
    fn incremental_edits_update_text_and_tree() {
        let mut doc = Document::new("defmodule A do\n  def f, do: :ok\nend\n", 1, DocumentKind::Elixir);
        doc.apply_changes(2, &[change((1, 13), (1, 16), "{:ok, \"é\"}")], PositionEncoding::Utf16);
        assert_eq!(doc.text().to_string(), "defmodule A do\n  def f, do: {:ok, \"é\"}\nend\n");
        assert_eq!(doc.version(), 2);
        let fresh = crate::elixir::parser::ElixirParser::new().parse_str(&doc.text().to_string(), None);
        assert_eq!(doc.tree().unwrap().root_node().to_sexp(), fresh.root_node().to_sexp());
    }

    #[test]
    fn a_change_without_range_replaces_everything() {
        let mut doc = Document::new("x = 1", 1, DocumentKind::Elixir);
        doc.apply_changes(5, &[TextChange { range: None, text: "y = 2\n".into() }], PositionEncoding::Utf8);
        assert_eq!(doc.text().to_string(), "y = 2\n");
        assert!(!doc.tree().unwrap().root_node().has_error());
    }
}
