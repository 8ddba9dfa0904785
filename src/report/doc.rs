//! A typed document: headings, paragraphs, notes, lists, tables and
//! figures, built by the modules that have something to say (reports,
//! `verify`, `compare`, `check`, `load`, the end-of-run table) and turned
//! into Markdown, HTML, terminal text or CSV by one small renderer each.
//! Builders say *what* a cell is (strong, code, a link); renderers decide
//! how that looks. Nothing here reads results or computes a figure.
//!
//! Every `--format` of every command is one [`super::format::Format`]
//! name from one registry, so `verify --format html` works because the
//! HTML renderer exists, not because `verify` learned HTML. The renderers
//! live in [`super::render`].

/// A whole document: its title (the one level-1 heading) and its blocks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    pub title: String,
    pub blocks: Vec<Block>,
}

/// One block of a document, in reading order.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A section heading, level 2 (section) to 4; the title is level 1.
    Heading {
        level: u8,
        text: String,
    },
    Paragraph(Rich),
    /// A note that qualifies the figures around it (a blockquote in
    /// Markdown and HTML, a "note:" line on a terminal).
    Note(Rich),
    /// A bulleted list.
    List(Vec<Rich>),
    Table(Table),
    Figure(Figure),
    /// Preformatted text, shown as is.
    Code(String),
}

/// A run of text with emphasis: the content of a paragraph, note, list
/// item or table cell. Never contains markup of any format: `Span::Text`
/// is literal text, escaped by each renderer as its format needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rich(pub Vec<Span>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Span {
    Text(String),
    Strong(String),
    Emph(String),
    /// Inline code: a command, a file, a config key.
    Code(String),
    Link {
        text: String,
        href: String,
    },
}

/// A table: its columns and rows of cells (each row as long as `columns`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Rich>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub title: String,
    pub align: Align,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Align {
    #[default]
    Left,
    Right,
    Center,
}

/// A chart: its PNG (linked by Markdown, named by text) and its SVG
/// (inlined by HTML, which then needs no other file).
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Shown above the chart.
    pub caption: Rich,
    /// The chart's title: Markdown's alt text, HTML's figcaption.
    pub alt: String,
    /// Link to the PNG, relative to the document (e.g. `charts/x.png`).
    pub png: String,
    /// The SVG document, for HTML; None when only the PNG exists.
    pub svg: Option<String>,
}

impl Rich {
    /// Plain text.
    pub fn text(s: impl Into<String>) -> Self {
        Rich(vec![Span::Text(s.into())])
    }
    pub fn strong(s: impl Into<String>) -> Self {
        Rich(vec![Span::Strong(s.into())])
    }
    pub fn code(s: impl Into<String>) -> Self {
        Rich(vec![Span::Code(s.into())])
    }
    /// Appends plain text.
    pub fn and(mut self, s: impl Into<String>) -> Self {
        self.0.push(Span::Text(s.into()));
        self
    }
    pub fn and_strong(mut self, s: impl Into<String>) -> Self {
        self.0.push(Span::Strong(s.into()));
        self
    }
    pub fn and_emph(mut self, s: impl Into<String>) -> Self {
        self.0.push(Span::Emph(s.into()));
        self
    }
    pub fn and_code(mut self, s: impl Into<String>) -> Self {
        self.0.push(Span::Code(s.into()));
        self
    }
    pub fn and_link(mut self, text: impl Into<String>, href: impl Into<String>) -> Self {
        self.0.push(Span::Link {
            text: text.into(),
            href: href.into(),
        });
        self
    }
    /// Appends every span of `other`.
    pub fn and_rich(mut self, other: Rich) -> Self {
        self.0.extend(other.0);
        self
    }
    /// The text without emphasis (links keep their text): for CSV, widths
    /// and tests.
    pub fn plain(&self) -> String {
        self.0
            .iter()
            .map(|s| match s {
                Span::Text(t) | Span::Strong(t) | Span::Emph(t) | Span::Code(t) => t.as_str(),
                Span::Link { text, .. } => text.as_str(),
            })
            .collect()
    }
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|s| match s {
            Span::Text(t) | Span::Strong(t) | Span::Emph(t) | Span::Code(t) => t.is_empty(),
            Span::Link { text, .. } => text.is_empty(),
        })
    }
}

impl From<&str> for Rich {
    fn from(s: &str) -> Self {
        Rich::text(s)
    }
}

impl From<String> for Rich {
    fn from(s: String) -> Self {
        Rich::text(s)
    }
}

impl Column {
    pub fn left(title: impl Into<String>) -> Self {
        Column {
            title: title.into(),
            align: Align::Left,
        }
    }
    pub fn right(title: impl Into<String>) -> Self {
        Column {
            title: title.into(),
            align: Align::Right,
        }
    }
}

impl Table {
    pub fn new(columns: Vec<Column>) -> Self {
        Table {
            columns,
            rows: Vec::new(),
        }
    }
    /// Appends a row; a short row is padded with empty cells.
    pub fn row(&mut self, cells: impl IntoIterator<Item = Rich>) {
        let mut row: Vec<Rich> = cells.into_iter().collect();
        row.resize(self.columns.len().max(row.len()), Rich::default());
        self.rows.push(row);
    }
}

impl Document {
    pub fn new(title: impl Into<String>) -> Self {
        Document {
            title: title.into(),
            blocks: Vec::new(),
        }
    }
    pub fn heading(&mut self, level: u8, text: impl Into<String>) {
        self.blocks.push(Block::Heading {
            level,
            text: text.into(),
        });
    }
    pub fn paragraph(&mut self, text: impl Into<Rich>) {
        self.blocks.push(Block::Paragraph(text.into()));
    }
    pub fn note(&mut self, text: impl Into<Rich>) {
        self.blocks.push(Block::Note(text.into()));
    }
    pub fn list(&mut self, items: Vec<Rich>) {
        if !items.is_empty() {
            self.blocks.push(Block::List(items));
        }
    }
    pub fn table(&mut self, table: Table) {
        self.blocks.push(Block::Table(table));
    }
    pub fn figure(&mut self, figure: Figure) {
        self.blocks.push(Block::Figure(figure));
    }
    /// Appends `other`'s blocks (its title is dropped).
    pub fn extend(&mut self, other: Document) {
        self.blocks.extend(other.blocks);
    }
}
