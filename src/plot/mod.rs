//! Figures for statistics reports, drawn in Rust (plotters) so that a report needs no Python and no
//! external program.
//!
//! - [`cd_diagram`]: critical-difference diagram (Demšar 2006) of average ranks, SVG and PNG;
//! - [`line_chart`]: training curves (loss, accuracy, learning rate per epoch);
//! - [`heatmap`]: confusion matrix (rows = true class, columns = predicted class);
//! - [`attention`]: per-channel attention weights of an ALSTM-FCN, one panel per example.
//! - [`scatter`]: 2-D embeddings (t-SNE of series or learned features), coloured by class.
//! - [`mcm`]: the multiple comparison matrix of an analysis (mean differences, W/T/L, p-values);
//! - [`box_plot`]: each method's scores over datasets;
//! - [`pairwise_scatter`]: two methods' scores, one point per dataset.
//!
//! SVG output keeps text as `<text>` elements (searchable, no font embedded). PNG output draws text
//! with DejaVu Sans, bundled under `assets/fonts/`, so it renders the same on any machine. Canvas
//! sizes come from text widths measured with that font: it is wider than most sans-serif fonts a
//! browser substitutes, so SVG text that fits by this measure fits when shown.

pub mod attention;
pub mod box_plot;
pub mod cd_diagram;
#[cfg(test)]
mod gallery;
pub mod heatmap;
pub mod line_chart;
pub mod mcm;
pub mod pairwise_scatter;
pub mod scatter;
mod svg;

use std::io::Write;
use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontDesc, FontFamily, FontStyle, FontTransform};

/// Why a figure could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// There is nothing to draw (no methods, no series, no examples...).
    #[error("nothing to plot: {0}")]
    Empty(String),
    /// The input is inconsistent (NaN rank, index out of range, ragged matrix...).
    #[error("invalid plot input: {0}")]
    InvalidInput(String),
    /// A value that a logarithmic axis cannot show.
    #[error("series `{series}`: value {value} cannot be drawn on a logarithmic axis (it must be > 0)")]
    NonPositiveOnLogScale { series: String, value: f64 },
    /// The drawing backend failed (should not happen with valid input).
    #[error("drawing the figure failed: {0}")]
    Draw(String),
    /// The rendered bitmap could not be encoded as PNG.
    #[error("encoding the PNG failed: {0}")]
    Png(String),
}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for PlotError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        PlotError::Draw(e.to_string())
    }
}

/// DejaVu Sans (Bitstream Vera licence, see `assets/fonts/DejaVuSans-LICENSE.txt`).
const FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Font family written into SVG: the bundled font by name where installed (so SVG and PNG look
/// alike), else the viewer's sans-serif, which is narrower, so measured layouts still fit.
pub(crate) const FAMILY: &str = "DejaVu Sans, sans-serif";

/// Largest canvas side we agree to draw; protects against absurd inputs allocating gigabytes.
const MAX_SIDE: u32 = 20_000;

/// The bundled font, parsed once. `None` only if the bundled file were corrupt.
fn bundled_font() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).ok()).as_ref()
}

/// Font of the given size, in plotters' units: an SVG shows it at `size / 1.24` pixels per em.
pub(crate) fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FAMILY), size, FontStyle::Normal)
}

/// Pixels per em of text of plotters size `size`, as plotters' SVG backend writes it.
fn em(size: f64) -> f32 {
    (size / 1.24) as f32
}

/// Width in pixels of `text` at plotters size `size` in the bundled font (as SVG and PNG show it).
/// Falls back to a generous per-character estimate should the font be unusable.
pub(crate) fn text_width(text: &str, size: f64) -> f64 {
    let Some(f) = bundled_font() else {
        return text.chars().count() as f64 * em(size) as f64 * 0.7;
    };
    let sf = f.as_scaled(px_scale(f, size));
    let mut w = 0.0f32;
    let mut prev = None;
    for c in text.chars() {
        let id = sf.glyph_id(c);
        if let Some(p) = prev {
            w += sf.kern(p, id);
        }
        w += sf.h_advance(id);
        prev = Some(id);
    }
    f64::from(w)
}

/// ab_glyph scales by ascent-to-descent height; convert from the em size the SVG uses.
fn px_scale(f: &FontRef<'_>, size: f64) -> PxScale {
    let units_per_em = f.units_per_em().unwrap_or(2048.0);
    PxScale::from(em(size) * f.height_unscaled() / units_per_em)
}

/// Widest of several texts at one size (0 when there are none).
pub(crate) fn max_text_width<'s>(texts: impl IntoIterator<Item = &'s str>, size: f64) -> f64 {
    texts.into_iter().map(|t| text_width(t, size)).fold(0.0, f64::max)
}

/// Pixel coordinate from layout floats (layouts are computed in `f64`, backends take `i32`).
pub(crate) fn px(x: f64, y: f64) -> (i32, i32) {
    (x.round() as i32, y.round() as i32)
}

/// Stroke width in whole pixels, at least 1.
pub(crate) fn stroke(w: f64) -> u32 {
    w.round().max(1.0) as u32
}

/// Categorical colours (matplotlib's "tab10"), familiar from the TSC literature's figures.
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Linear blend of two colours, `t` in [0, 1] (clamped).
pub(crate) fn mix(a: RGBColor, b: RGBColor, t: f64) -> RGBColor {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let c = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * t).round() as u8;
    RGBColor(c(a.0, b.0), c(a.1, b.1), c(a.2, b.2))
}

/// How a text is placed: which point of its box sits at the given position, and its rotation.
#[derive(Clone, Copy)]
pub(crate) struct Anchor {
    pub h: HPos,
    pub v: VPos,
    /// Rotated a quarter turn counter-clockwise (reads bottom to top), for vertical axis titles.
    pub up: bool,
}

impl Anchor {
    pub(crate) const fn new(h: HPos, v: VPos) -> Self {
        Anchor { h, v, up: false }
    }
    pub(crate) const fn up(h: HPos, v: VPos) -> Self {
        Anchor { h, v, up: true }
    }
}

/// A drawing area plus the way its text is drawn: as SVG `<text>` elements, or rasterised here with
/// the bundled font (plotters' own bitmap text would need its font features, see Cargo.toml).
pub(crate) struct Canvas<'a, DB: DrawingBackend> {
    pub area: &'a DrawingArea<DB, Shift>,
    raster_text: bool,
}

impl<DB: DrawingBackend> Canvas<'_, DB> {
    /// A figure's title: black, centred across `width`, its middle `margin + size / 2` from the
    /// top (nothing when empty).
    pub(crate) fn title(&self, title: &str, width: f64, margin: f64, size: f64) -> Result<(), PlotError> {
        let at = (width / 2.0, margin + size / 2.0);
        self.text(title, at, size, RGBColor(0, 0, 0), Anchor::new(HPos::Center, VPos::Center))
    }

    /// Draws `text` at `(x, y)` with plotters size `size`.
    pub(crate) fn text(
        &self,
        text: &str,
        (x, y): (f64, f64),
        size: f64,
        color: RGBColor,
        a: Anchor,
    ) -> Result<(), PlotError> {
        if text.is_empty() {
            return Ok(());
        }
        if !self.raster_text {
            let mut f = font(size);
            if a.up {
                f = f.transform(FontTransform::Rotate270);
            }
            let style = f.color(&color).pos(Pos::new(a.h, a.v));
            self.area.draw(&Text::new(text, px(x, y), style))?;
            return Ok(());
        }
        let Some(f) = bundled_font() else {
            return Err(PlotError::Draw("the bundled font could not be parsed".into()));
        };
        let scale = px_scale(f, size);
        let sf = f.as_scaled(scale);
        let width = text_width(text, size) as f32;
        // Same placement as plotters' SVG backend: text-anchor for h, dy 0.76em / 0.5ex / -0.5ex for v.
        let e = em(size);
        let ex = f.outline_glyph(sf.scaled_glyph('x')).map_or(0.55 * e, |o| o.px_bounds().height());
        let start = match a.h {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let baseline = match a.v {
            VPos::Top => 0.76 * e,
            VPos::Center => 0.5 * ex,
            VPos::Bottom => -0.5 * ex,
        };
        // Glyph pixels in text coordinates (origin at the anchor), then rotated onto the canvas.
        let (ox, oy) = (x as f32, y as f32);
        let put = |dx: f32, dy: f32, coverage: f32| -> Result<(), PlotError> {
            let (cx, cy) = if a.up { (ox + dy, oy - dx) } else { (ox + dx, oy + dy) };
            let c = color.mix(f64::from(coverage.clamp(0.0, 1.0)));
            self.area.draw_pixel((cx.round() as i32, cy.round() as i32), &c)?;
            Ok(())
        };
        let mut caret = start;
        let mut prev = None;
        let mut result = Ok(());
        for ch in text.chars() {
            let id = sf.glyph_id(ch);
            if let Some(p) = prev {
                caret += sf.kern(p, id);
            }
            prev = Some(id);
            let glyph = id.with_scale_and_position(scale, point(caret, baseline));
            caret += sf.h_advance(id);
            if let Some(outline) = f.outline_glyph(glyph) {
                let b = outline.px_bounds();
                outline.draw(|gx, gy, c| {
                    if result.is_ok() && c > 0.0 {
                        result = put(b.min.x + gx as f32, b.min.y + gy as f32, c);
                    }
                });
            }
        }
        result
    }
}

/// A figure laid out once and drawn on any plotters backend (the SVG and PNG renderers share it).
pub(crate) trait Figure {
    /// Canvas size in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws onto a white canvas of [`Figure::size`].
    fn draw<DB: DrawingBackend>(&self, c: &Canvas<DB>) -> Result<(), PlotError>;
}

fn check_size((w, h): (u32, u32)) -> Result<(), PlotError> {
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE {
        return Err(PlotError::InvalidInput(format!(
            "the figure would be {w}×{h} pixels (each side must be 1..={MAX_SIDE})"
        )));
    }
    Ok(())
}

/// Renders a figure as an SVG document.
pub(crate) fn render_svg(fig: &impl Figure) -> Result<String, PlotError> {
    let size = fig.size();
    check_size(size)?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE)?;
        fig.draw(&Canvas { area: &root, raster_text: false })?;
        root.present()?;
    }
    Ok(out)
}

/// Renders a figure into PNG file bytes (8-bit RGB).
pub(crate) fn render_png(fig: &impl Figure) -> Result<Vec<u8>, PlotError> {
    let (w, h) = fig.size();
    check_size((w, h))?;
    let mut rgb = vec![255u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE)?;
        fig.draw(&Canvas { area: &root, raster_text: true })?;
        root.present()?;
    }
    encode_png(w, h, &rgb)
}

/// PNG file bytes for an 8-bit RGB image: signature, IHDR, one zlib IDAT (no row filters), IEND.
/// Written here because the `png` crate would switch flate2 to another backend (see Cargo.toml).
fn encode_png(w: u32, h: u32, rgb: &[u8]) -> Result<Vec<u8>, PlotError> {
    let row = w as usize * 3;
    if rgb.len() != row * h as usize {
        return Err(PlotError::Png(format!("{} bytes for a {w}×{h} RGB image", rgb.len())));
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    for line in rgb.chunks_exact(row) {
        z.write_all(&[0]).and_then(|()| z.write_all(line)).map_err(|e| PlotError::Png(e.to_string()))?;
    }
    let idat = z.finish().map_err(|e| PlotError::Png(e.to_string()))?;
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    // bit depth 8, colour type 2 (RGB), deflate, adaptive filtering, no interlace
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(b"IHDR", &ihdr[..]), (b"IDAT", &idat[..]), (b"IEND", &[][..])] {
        let len = u32::try_from(data.len()).map_err(|_| PlotError::Png("image too large".into()))?;
        out.extend_from_slice(&len.to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        // CRC-32 (ISO 3309) of the chunk type and data, as PNG wants.
        let crc = crc32fast::hash(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    Ok(out)
}

/// Whether an axis with these tick values reads better in scientific notation (learning rates,
/// losses near zero, huge counts). Decided per axis so its labels share one style.
pub(crate) fn needs_sci(ticks: &[f64]) -> bool {
    ticks.iter().any(|v| v.is_finite() && *v != 0.0 && !(1e-3..1e5).contains(&v.abs()))
}

/// Short, readable tick label: up to 4 significant digits and no trailing zeros, or scientific
/// notation (`2.5e-4`) when `sci`.
pub(crate) fn tick_label(v: f64, sci: bool) -> String {
    if !v.is_finite() {
        return String::new();
    }
    if v == 0.0 {
        return "0".into();
    }
    let trim = |s: &str| {
        if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s.to_string() }
    };
    if sci {
        let s = format!("{v:.2e}");
        return match s.split_once('e') {
            Some((m, e)) => format!("{}e{e}", trim(m)),
            None => s,
        };
    }
    let decimals = (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
    trim(&format!("{v:.decimals$}"))
}

/// Minimal SVG reading for tests: elements of one tag with their attributes, and text contents.
#[cfg(test)]
pub(crate) mod svg_test {
    use std::collections::HashMap;

    /// Attributes of every `<tag ...>` element, in document order.
    pub fn elements(svg: &str, tag: &str) -> Vec<HashMap<String, String>> {
        let open = format!("<{tag} ");
        let mut out = Vec::new();
        let mut rest = svg;
        while let Some(i) = rest.find(&open) {
            let after = &rest[i + open.len()..];
            let end = after.find('>').expect("unterminated tag");
            let mut attrs = HashMap::new();
            let mut s = &after[..end];
            while let Some(eq) = s.find("=\"") {
                let key = s[..eq].trim().to_string();
                let v = &s[eq + 2..];
                let close = v.find('"').expect("unterminated attribute");
                attrs.insert(key, v[..close].to_string());
                s = &v[close + 1..];
            }
            out.push(attrs);
            rest = &after[end..];
        }
        out
    }

    /// Numeric attribute (panics in tests when missing).
    pub fn num(e: &HashMap<String, String>, key: &str) -> f64 {
        e.get(key).unwrap_or_else(|| panic!("no attribute {key} in {e:?}")).parse().expect("numeric attribute")
    }

    /// Every `<text>` element: its attributes and its (unescaped) content.
    pub fn texts(svg: &str) -> Vec<(HashMap<String, String>, String)> {
        let attrs = elements(svg, "text");
        let mut contents = Vec::new();
        let mut rest = svg;
        while let Some(i) = rest.find("<text ") {
            let after = &rest[i..];
            let start = after.find('>').expect("tag end") + 1;
            let end = after.find("</text>").expect("closing text");
            let raw = after[start..end].trim();
            contents.push(
                raw.replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&apos;", "'")
                    .replace("&amp;", "&"),
            );
            rest = &after[end..];
        }
        attrs.into_iter().zip(contents).collect()
    }

    /// Canvas width and height from the root element.
    pub fn size(svg: &str) -> (f64, f64) {
        let root = &elements(svg, "svg")[0];
        (num(root, "width"), num(root, "height"))
    }

    /// Checks a PNG: signature, chunk CRCs, IHDR of positive size, IDAT inflating to the right
    /// number of bytes. Returns width, height and the RGB pixels.
    pub fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        use std::io::Read;
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
        let (mut w, mut h, mut idat, mut pos, mut kinds) = (0, 0, Vec::new(), 8, Vec::new());
        while pos < bytes.len() {
            let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
            let kind = &bytes[pos + 4..pos + 8];
            let data = &bytes[pos + 8..pos + 8 + len];
            let crc = u32::from_be_bytes(bytes[pos + 8 + len..pos + 12 + len].try_into().unwrap());
            assert_eq!(crc, crc32fast::hash(&bytes[pos + 4..pos + 8 + len]), "CRC of {kind:?}");
            if kind == b"IEND" {
                // Every PNG ends with this CRC (of the bytes `IEND`).
                assert_eq!(crc, 0xAE42_6082);
            }
            match kind {
                b"IHDR" => {
                    w = u32::from_be_bytes(data[0..4].try_into().unwrap());
                    h = u32::from_be_bytes(data[4..8].try_into().unwrap());
                    assert_eq!(&data[8..10], &[8, 2], "8-bit RGB");
                }
                b"IDAT" => idat.extend_from_slice(data),
                _ => {}
            }
            kinds.push(String::from_utf8_lossy(kind).into_owned());
            pos += 12 + len;
        }
        assert_eq!(kinds.first().map(String::as_str), Some("IHDR"));
        assert_eq!(kinds.last().map(String::as_str), Some("IEND"));
        assert!(w > 0 && h > 0);
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(&idat[..]).read_to_end(&mut raw).unwrap();
        assert_eq!(raw.len(), h as usize * (1 + 3 * w as usize));
        let rgb = raw.chunks_exact(1 + 3 * w as usize).flat_map(|r| r[1..].to_vec()).collect();
        (w, h, rgb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(tick_label(0.0, false), "0");
        assert_eq!(tick_label(0.5, false), "0.5");
        assert_eq!(tick_label(12.0, false), "12");
        assert_eq!(tick_label(0.123456, false), "0.1235");
        assert_eq!(tick_label(-3.0, false), "-3");
        assert_eq!(tick_label(1e-4, true), "1e-4");
        assert_eq!(tick_label(2.5e-5, true), "2.5e-5");
        assert_eq!(tick_label(0.001, true), "1e-3");
        assert!(needs_sci(&[0.0, 5e-4, 1e-3]) && !needs_sci(&[0.0, 0.5, 1.0]) && needs_sci(&[1e6]));
    }

    /// One text in the middle of a 240×240 canvas, to check where the PNG rasteriser puts ink.
    struct Probe(Anchor);

    impl Figure for Probe {
        fn size(&self) -> (u32, u32) {
            (240, 240)
        }
        fn draw<DB: DrawingBackend>(&self, c: &Canvas<DB>) -> Result<(), PlotError> {
            c.text("Hello, world", (120.0, 120.0), 24.0, RGBColor(0, 0, 0), self.0)
        }
    }

    /// Bounding box (x0, y0, x1, y1) of dark pixels.
    fn ink_box(a: Anchor) -> (u32, u32, u32, u32) {
        let (w, h, rgb) = svg_test::decode_png(&render_png(&Probe(a)).unwrap());
        let mut b = (u32::MAX, u32::MAX, 0, 0);
        for y in 0..h {
            for x in 0..w {
                if rgb[(y * w + x) as usize * 3] < 128 {
                    b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
                }
            }
        }
        b
    }

    #[test]
    fn png_text_lands_where_anchored() {
        let width = text_width("Hello, world", 24.0);
        let (x0, y0, x1, y1) = ink_box(Anchor::new(HPos::Center, VPos::Center));
        assert!((f64::from(x1 - x0) - width).abs() < 6.0, "{x0}..{x1} for width {width}");
        assert!(((x0 + x1) / 2).abs_diff(120) <= 3 && ((y0 + y1) / 2).abs_diff(120) <= 6);
        let (x0, _, x1, _) = ink_box(Anchor::new(HPos::Right, VPos::Center));
        assert!(x1.abs_diff(120) <= 3 && x0 < 120 - width as u32 + 6);
        // Rotated: reads upwards, so the box is tall and narrow; anchored at its end (top).
        let (x0, y0, x1, y1) = ink_box(Anchor::up(HPos::Right, VPos::Center));
        assert!(y1 - y0 > 3 * (x1 - x0), "{x0},{y0} {x1},{y1}");
        assert!(y0.abs_diff(120) <= 3 && ((x0 + x1) / 2).abs_diff(120) <= 6);
    }

    #[test]
    fn measured_text_grows_with_length_and_size() {
        let a = text_width("abc", 16.0);
        let b = text_width("abcabc", 16.0);
        let c = text_width("abc", 32.0);
        assert!(a > 0.0 && b > 1.8 * a && c > 1.8 * a, "{a} {b} {c}");
    }
}
