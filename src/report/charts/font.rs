//! The embedded chart font (a Noto Sans CJK SC subset) and its registration with plotters.

use std::sync::OnceLock;

use plotters::style::FontStyle;

use super::ChartError;

/// Family name under which the embedded font is registered; every chart uses only it.
pub const FONT_FAMILY: &str = "cpsim-sans";

/// The embedded font: Noto Sans CJK SC Regular subset to ASCII, Latin-1, common
/// punctuation and the 3,755 GB2312 level-1 hanzi (see `assets/fonts/README.md`).
pub static FONT_BYTES: &[u8] = include_bytes!("../../../assets/fonts/NotoSansCJKsc-Regular-subset.otf");

static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();

/// Registers the embedded font with plotters under [`FONT_FAMILY`] (other styles such
/// as bold fall back to it). Idempotent and thread-safe; call it before building any
/// plotters text style that uses the family.
pub fn ensure_font() -> Result<(), ChartError> {
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES)
                .map_err(|_| "not a valid OpenType font".to_string())
        })
        .clone()
        .map_err(ChartError::Font)
}
