//! QR code of an `otpauth://` URI, as a self-contained SVG document.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// Renders `data` as an SVG QR code with a quiet zone, or `None` if it is too long
/// for any QR version (about 2 KB at level M: far beyond any key URI).
pub fn qr_svg(data: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_svg() {
        let svg = qr_svg("otpauth://totp/a:b?secret=AAAA").unwrap();
        assert!(svg.starts_with("<?xml") || svg.starts_with("<svg"));
        assert!(svg.contains("</svg>"));
    }

    #[test]
    fn refuses_oversized_data() {
        assert!(qr_svg(&"x".repeat(8000)).is_none());
    }
}
