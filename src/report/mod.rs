//! The self-contained HTML report of a run: one file, figures inline as SVG, no script and no
//! network. The `report` stage writes its deterministic part; the timing of every stage (ran vs
//! cached) depends on the run, so the run records fill it in where the marker [`TIMINGS_MARKER`]
//! stands when the report is published (after `tscpipe run`, or by `tscpipe report` from the
//! cache): see `cache::runs::RunRecord::fill_timings`. A leaf: this module imports nothing of the crate.

/// Replaced by the stage timing table when the report is published.
pub const TIMINGS_MARKER: &str = "<!--tscpipe:timings-->";

const STYLE: &str = "body{font-family:system-ui,'DejaVu Sans',sans-serif;max-width:1200px;margin:2em auto;\
padding:0 1em;color:#222}h1{border-bottom:2px solid #333}h2{margin-top:2em;border-bottom:1px solid #aaa}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em}\
td{text-align:right}td:first-child{text-align:left}th{background:#f2f2f2}strong{color:#0a5}\
figure{margin:1em 0;overflow-x:auto}figcaption{color:#555;font-size:.9em}.grid{display:flex;flex-wrap:wrap;\
gap:1em}.grid figure{flex:0 1 auto}.note{color:#666;font-size:.9em}.ran{color:#a50}.cached{color:#0a5}";

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Markdown (tables, lists, emphasis) to HTML; raw HTML in the input is escaped, not passed on.
pub fn markdown(md: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, html};
    let parser = Parser::new_ext(md, Options::ENABLE_TABLES).map(|e| match e {
        Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
        e => e,
    });
    let mut out = String::new();
    html::push_html(&mut out, parser);
    out
}

/// An SVG document as inline markup (its XML declaration dropped).
pub fn inline_svg(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

/// Builds the report page section by section.
pub struct Page {
    title: String,
    body: String,
    toc: Vec<(String, String)>,
}

impl Page {
    pub fn new(title: &str) -> Page {
        Page { title: title.to_string(), body: String::new(), toc: Vec::new() }
    }

    pub fn section(&mut self, heading: &str) {
        let id = format!("s{}", self.toc.len() + 1);
        self.body.push_str(&format!("<h2 id=\"{id}\">{}</h2>\n", escape(heading)));
        self.toc.push((id, heading.to_string()));
    }

    pub fn subheading(&mut self, text: &str) {
        self.body.push_str(&format!("<h3>{}</h3>\n", escape(text)));
    }

    pub fn markdown(&mut self, md: &str) {
        self.body.push_str(&markdown(md));
    }

    pub fn note(&mut self, text: &str) {
        self.body.push_str(&format!("<p class=\"note\">{}</p>\n", escape(text)));
    }

    /// A figure (inline SVG) with a caption.
    pub fn figure(&mut self, svg: &str, caption: &str) {
        self.body.push_str(&format!(
            "<figure>{}<figcaption>{}</figcaption></figure>\n",
            inline_svg(svg),
            escape(caption)
        ));
    }

    /// Figures side by side.
    pub fn grid(&mut self, figures: &[(String, String)]) {
        self.body.push_str("<div class=\"grid\">\n");
        for (svg, caption) in figures {
            self.figure(svg, caption);
        }
        self.body.push_str("</div>\n");
    }

    pub fn raw(&mut self, html: &str) {
        self.body.push_str(html);
    }

    pub fn finish(self) -> String {
        let toc: String = self
            .toc
            .iter()
            .map(|(id, h)| format!("<li><a href=\"#{id}\">{}</a></li>", escape(h)))
            .collect::<Vec<_>>()
            .join("");
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head>\n\
             <body><h1>{t}</h1><ul>{toc}</ul>\n{body}\n{TIMINGS_MARKER}\n</body></html>\n",
            t = escape(&self.title),
            body = self.body
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_escapes_text_and_markdown_html() {
        let mut p = Page::new("a <b> & c");
        p.section("Results");
        p.markdown("| d | m |\n|---|---:|\n| x | **0.9** |\n\n<script>alert(1)</script>\n");
        p.figure("<?xml version=\"1.0\"?>\n<svg width=\"1\"></svg>", "cap <1>");
        let html = p.finish();
        assert!(html.contains("<title>a &lt;b&gt; &amp; c</title>"));
        assert!(html.contains("<strong>0.9</strong>"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("<figure><svg width=\"1\"></svg><figcaption>cap &lt;1&gt;</figcaption>"));
        assert!(html.contains(TIMINGS_MARKER));
    }
}
