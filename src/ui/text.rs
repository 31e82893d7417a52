//! Small text helpers shared by the views and the CLI's plain output.
use unicode_width::UnicodeWidthChar;

/// Cuts `s` to at most `width` columns, ending with `…` when cut.
pub fn clip(s: &str, width: usize) -> String {
    let mut used = 0;
    let mut out = String::new();
    let total: usize = s.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= width {
        return s.to_string();
    }
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::clip;

    #[test]
    fn clips_by_display_width() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("exactly10!", 10), "exactly10!");
        assert_eq!(clip("much longer text", 8), "much lo…");
        assert_eq!(clip("证书管理工具", 7), "证书管…");
    }
}
