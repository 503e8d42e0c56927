//! A minimal SVG writer for figures that are boxes, lines, dots and text (the MCM, box plots,
//! pairwise scatter): faster and simpler than a plotting backend, and the text stays `<text>`.

use std::fmt::Write;

use super::FAMILY;

/// Escapes text for SVG content and attributes.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `#rrggbb` of an RGB triple.
pub(crate) fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Matplotlib's "coolwarm" at `t` in [−1, 1] (blue, white, red), by linear interpolation
/// through its two ends and centre.
pub(crate) fn coolwarm(t: f64) -> (u8, u8, u8) {
    let t = if t.is_finite() { t.clamp(-1.0, 1.0) } else { 0.0 };
    let (lo, mid, hi) = ((59.0, 76.0, 192.0), (221.0, 221.0, 221.0), (180.0, 4.0, 38.0));
    let (a, b, u) = if t < 0.0 { (mid, lo, -t) } else { (mid, hi, t) };
    let c = |x: f64, y: f64| (x + (y - x) * u).round() as u8;
    (c(a.0, b.0), c(a.1, b.1), c(a.2, b.2))
}

pub(crate) struct Svg {
    out: String,
}

impl Svg {
    pub(crate) fn new(width: f64, height: f64) -> Svg {
        let mut out = String::new();
        let _ = write!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"{FAMILY}\">\n<rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>\n",
            w = width.ceil(),
            h = height.ceil()
        );
        Svg { out }
    }

    pub(crate) fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, stroke: Option<&str>) {
        let s = stroke.map(|s| format!(" stroke=\"{s}\"")).unwrap_or_default();
        let _ = writeln!(
            self.out,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{fill}\"{s}/>"
        );
    }

    pub(crate) fn line(&mut self, (x1, y1): (f64, f64), (x2, y2): (f64, f64), stroke: &str, width: f64) {
        let _ = writeln!(
            self.out,
            "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{stroke}\" stroke-width=\"{width}\"/>"
        );
    }

    pub(crate) fn dashed(&mut self, a: (f64, f64), b: (f64, f64), stroke: &str) {
        let _ = writeln!(
            self.out,
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{stroke}\" stroke-dasharray=\"4 3\"/>",
            a.0, a.1, b.0, b.1
        );
    }

    pub(crate) fn circle(&mut self, (x, y): (f64, f64), r: f64, fill: &str, title: &str) {
        let _ = writeln!(
            self.out,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r}\" fill=\"{fill}\" fill-opacity=\"0.75\"><title>{}</title></circle>",
            esc(title)
        );
    }

    /// Text at (x, y): `anchor` is start, middle or end; `y` is the baseline's middle (the text
    /// is shifted by a third of its size so that it sits centred on `y`).
    pub(crate) fn text(&mut self, (x, y): (f64, f64), size: f64, anchor: &str, bold: bool, text: &str) {
        let w = if bold { " font-weight=\"bold\"" } else { "" };
        let _ = writeln!(
            self.out,
            "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"{size}\" text-anchor=\"{anchor}\"{w}>{}</text>",
            y + size / 3.0,
            esc(text)
        );
    }

    /// Text read bottom to top, centred on (x, y).
    pub(crate) fn text_up(&mut self, (x, y): (f64, f64), size: f64, text: &str) {
        let _ = writeln!(
            self.out,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{size}\" text-anchor=\"middle\" transform=\"rotate(-90 {x:.1} {y:.1})\">{}</text>",
            esc(text)
        );
    }

    pub(crate) fn finish(mut self) -> String {
        self.out.push_str("</svg>\n");
        self.out
    }
}

/// Width of `text` at `size` px in the bundled font (the layouts' measure).
pub(crate) fn width(text: &str, size: f64) -> f64 {
    // plotters' sizes are 1.24 × the em size the SVG shows
    super::text_width(text, size * 1.24)
}

/// "Nice" axis ticks covering [lo, hi]: about five round steps.
pub(crate) fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() * step;
    (0..)
        .map(|i| first + i as f64 * step)
        .take_while(|v| *v <= hi + step * 1e-9)
        .map(|v| if v.abs() < step * 1e-9 { 0.0 } else { v })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        let t = ticks(0.0, 1.0);
        assert_eq!((t.len(), t[0], t[5]), (6, 0.0, 1.0));
        assert_eq!(ticks(0.5, 0.9).len(), 5);
        assert_eq!(coolwarm(0.0), (221, 221, 221));
        assert_eq!(coolwarm(-1.0), (59, 76, 192));
        assert_eq!(esc("a<b&\"c\""), "a&lt;b&amp;&quot;c&quot;");
    }
}
