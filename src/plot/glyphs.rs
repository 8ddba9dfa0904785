//! Text rendering for the bitmap (PNG) charts.
//!
//! plotters 0.3.7's `ab_glyph` renderer draws each glyph at its pen position
//! without the glyph's left side bearing and shifts every glyph vertically by
//! its own bounds, so PNG words come out with uneven gaps ("djan go") and text
//! sits too high (titles get clipped at the top). [`TextRaster`] wraps a
//! backend and draws text itself with `ab_glyph` — bearings, kerning, one
//! baseline — passing every other drawing call through. SVG output is not
//! affected: there the viewer lays out the text.

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont, point};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

/// Height of the text box relative to the font size, as plotters assumes
/// when it lays out labels (its ab_glyph estimate uses size / 1.24).
const BOX_HEIGHT: f64 = 1.0 / 1.24;
/// Where the baseline sits within the text box (top = 0, bottom = 1): capitals
/// fill the box, descenders hang just below it.
const BASELINE: f32 = 0.78;

/// A drawing backend whose text is laid out correctly with an embedded font.
pub(crate) struct TextRaster<B> {
    inner: B,
    font: FontRef<'static>,
}

impl<B: DrawingBackend> TextRaster<B> {
    /// None if `font` is not a usable TrueType/OpenType font.
    pub fn new(inner: B, font: &'static [u8]) -> Option<Self> {
        let font = FontRef::try_from_slice(font).ok()?;
        Some(TextRaster { inner, font })
    }

    /// Advance width (with kerning) and box height, in pixels.
    fn measure(&self, text: &str, size: f64) -> (i32, i32) {
        let scaled = self.font.as_scaled(PxScale::from(size as f32));
        let mut width = 0.0f32;
        let mut prev: Option<GlyphId> = None;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                width += scaled.kern(p, id);
            }
            width += scaled.h_advance(id);
            prev = Some(id);
        }
        (width.round() as i32, (size * BOX_HEIGHT).round() as i32)
    }

    /// Covered pixels of the text, relative to the top-left of its box.
    fn rasterize(&self, text: &str, size: f64, height: i32) -> Vec<(i32, i32, f32)> {
        let scale = PxScale::from(size as f32);
        let scaled = self.font.as_scaled(scale);
        let baseline = height as f32 * BASELINE;
        let mut pixels = Vec::new();
        let mut pen = 0.0f32;
        let mut prev: Option<GlyphId> = None;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                pen += scaled.kern(p, id);
            }
            let glyph = id.with_scale_and_position(scale, point(pen, baseline));
            if let Some(outline) = self.font.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                let (x0, y0) = (bounds.min.x as i32, bounds.min.y as i32);
                outline.draw(|x, y, coverage| {
                    if coverage > 0.0 {
                        pixels.push((x0 + x as i32, y0 + y as i32, coverage.min(1.0)));
                    }
                });
            }
            pen += scaled.h_advance(id);
            prev = Some(id);
        }
        pixels
    }
}

impl<B: DrawingBackend> DrawingBackend for TextRaster<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        let (w, h) = self.measure(text, style.size());
        Ok((w.max(0) as u32, h.max(0) as u32))
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 || text.is_empty() {
            return Ok(());
        }
        let (width, height) = self.measure(text, style.size());
        let anchor = style.anchor();
        let dx = match anchor.h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match anchor.v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let transform = style.transform();
        let (w, h) = self.inner.get_size();
        for (x, y, coverage) in self.rasterize(text, style.size(), height) {
            let (tx, ty) = transform.transform(x + dx, y + dy);
            let (px, py) = (pos.0 + tx, pos.1 + ty);
            if px >= 0 && py >= 0 && px < w as i32 && py < h as i32 {
                self.inner.draw_pixel(
                    (px, py),
                    BackendColor {
                        alpha: color.alpha * f64::from(coverage),
                        rgb: color.rgb,
                    },
                )?;
            }
        }
        Ok(())
    }
}
