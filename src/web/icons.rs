//! Inline SVG icons, drawn in `currentColor` (the themes colour them). Emoji are not used: a
//! machine without an emoji font shows them as empty boxes. Each is hidden from screen readers;
//! the name beside it says what the entry is.

macro_rules! icon {
    ($name:ident, $paths:literal) => {
        pub const $name: &str = concat!(
            r#"<svg class="ico" viewBox="0 0 16 16" aria-hidden="true" focusable="false">"#,
            $paths,
            "</svg>"
        );
    };
}

icon!(
    FOLDER,
    r#"<path d="M1.5 4.5v8a1 1 0 0 0 1 1h11a1 1 0 0 0 1-1v-6.5a1 1 0 0 0-1-1H8L6.5 3.5h-4a1 1 0 0 0-1 1z"/>"#
);
icon!(
    FILE,
    r#"<path d="M3.5 1.5h6l3 3v10h-9z"/><path d="M9.5 1.5v3h3"/>"#
);
icon!(
    TEXT,
    r#"<path d="M3.5 1.5h6l3 3v10h-9z"/><path d="M9.5 1.5v3h3M5.5 8h5M5.5 10.5h5M5.5 13h3"/>"#
);
icon!(
    IMAGE,
    r#"<rect x="1.5" y="2.5" width="13" height="11" rx="1"/><circle cx="5.5" cy="6" r="1.2"/><path d="M2 12l4-4 3 3 2-2 3.5 3.5"/>"#
);
icon!(
    VIDEO,
    r#"<rect x="1.5" y="3" width="13" height="10" rx="1"/><path d="M6.5 5.8v4.4L10.3 8z"/>"#
);
icon!(
    AUDIO,
    r#"<path d="M6 12V3.5l7-1.5V10.5"/><circle cx="4.3" cy="12" r="1.7"/><circle cx="11.3" cy="10.5" r="1.7"/>"#
);
icon!(
    PDF,
    r#"<path d="M3.5 1.5h6l3 3v10h-9z"/><path d="M9.5 1.5v3h3"/><path d="M5.5 11.5c1.5-1 3-4 2.6-5.6-.3-1-1.4-.4-1 .9.5 1.7 2.4 3.6 3.9 3.7 1 .1.9-.9-.2-1-1.4-.1-3.5.9-5.3 2z"/>"#
);
icon!(
    ARCHIVE,
    r#"<rect x="1.5" y="2.5" width="13" height="3" rx=".5"/><path d="M2.5 5.5v8h11v-8M6.5 8h3"/>"#
);

#[cfg(test)]
mod tests {
    #[test]
    fn icons_are_whole_svg_elements() {
        for i in [
            super::FOLDER,
            super::FILE,
            super::TEXT,
            super::IMAGE,
            super::VIDEO,
            super::AUDIO,
            super::PDF,
            super::ARCHIVE,
        ] {
            assert!(i.starts_with("<svg class=\"ico\"") && i.ends_with("</svg>"));
            assert!(i.contains("aria-hidden=\"true\""));
        }
    }
}
