//! Numbers as the learner reads them: counts, sizes, rates, time left and loss trends. No DOM and no
//! dependencies, so the tests run natively.

/// A count: a `usize`, or a `u64` for what passes a 32-bit `usize` (the browser's), such as a large model's weights.
pub trait Count: Copy {
    fn value(self) -> u64;
}

impl Count for usize {
    fn value(self) -> u64 {
        self as u64
    }
}

impl Count for u64 {
    fn value(self) -> u64 {
        self
    }
}

/// `260032` → `"260,032"`.
pub fn format_count(n: impl Count) -> String {
    let digits = n.value().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `1` → `"1 step"`, `60` → `"60 steps"`.
pub fn count_of(n: usize, thing: &str) -> String {
    format!("{} {thing}{}", format_count(n), if n == 1 { "" } else { "s" })
}

/// Decimal units, as browsers' download bars use: `512_000` → `"512 KB"`, `1_048_576` → `"1.0 MB"`.
pub fn format_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0..1_000 => count_of(bytes as usize, "byte"),
        1_000..1_000_000 => format!("{:.0} KB", b / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", b / 1e6),
        _ => format!("{:.1} GB", b / 1e9),
    }
}

/// `part` as a share of `whole`, with two significant figures below 1% so a small share never reads as 0%.
pub fn format_percent(part: impl Count, whole: impl Count) -> String {
    let (part, whole) = (part.value(), whole.value());
    if part == 0 || whole == 0 {
        return "0%".into();
    }
    let percent = 100.0 * part as f64 / whole as f64;
    let decimals = match percent {
        p if p >= 10.0 => 0,
        p if p >= 1.0 => 1,
        p => (1.0 - p.log10().floor()) as usize,
    };
    format!("{percent:.decimals$}%")
}

/// A rate rounded to two significant figures, so it does not flicker every step: `3417.2` → `"3,400"`.
pub fn format_rate(per_second: f64) -> String {
    if !per_second.is_finite() || per_second <= 0.0 {
        return "0".into();
    }
    let magnitude = 10f64.powi(per_second.log10().floor() as i32 - 1).max(1.0);
    format_count(((per_second / magnitude).round() * magnitude) as usize)
}

/// Rounded the way a person would say it: "a few seconds left", "about 20 s left", "about 3 min left".
pub fn format_time_left(seconds: f64) -> String {
    format!("{} left", format_duration(seconds))
}

/// A duration as a person says it: "a few seconds", "about 15 s", "about 3 min", "about 1 h 5 min".
pub fn format_duration(seconds: f64) -> String {
    let seconds = seconds.max(0.0).round() as u64;
    match seconds {
        0..10 => "a few seconds".into(),
        10..60 => format!("about {} s", (seconds + 2) / 5 * 5),
        60..3600 => format!("about {} min", (seconds + 30) / 60),
        _ => {
            let minutes = (seconds + 30) / 60;
            format!("about {} h {} min", minutes / 60, minutes % 60)
        }
    }
}

/// How a series of losses moved, in words: "held-out loss fell from 2.90 to 1.40". `None` for no values.
pub fn describe_change(what: &str, values: &[f64]) -> Option<String> {
    match values {
        [] => None,
        [only] => Some(format!("{what} {only:.2}")),
        [first, .., last] => {
            let (from, to) = (format!("{first:.2}"), format!("{last:.2}"));
            Some(match () {
                _ if from == to => format!("{what} stayed at {to}"),
                _ if last < first => format!("{what} fell from {from} to {to}"),
                _ => format!("{what} rose from {from} to {to}"),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(format_count(0usize), "0");
        assert_eq!(format_count(999usize), "999");
        assert_eq!(format_count(1_000usize), "1,000");
        assert_eq!(format_count(260_032usize), "260,032");
        assert_eq!(format_count(12_345_678usize), "12,345,678");
        // Past a 32-bit usize (the browser's): Llama 3 8B's weights.
        assert_eq!(format_count(8_030_261_248u64), "8,030,261,248");
        assert_eq!(count_of(1, "step"), "1 step");
        assert_eq!(count_of(60, "step"), "60 steps");
    }

    #[test]
    fn sizes_use_the_unit_a_download_bar_would() {
        assert_eq!(format_bytes(1), "1 byte");
        assert_eq!(format_bytes(999), "999 bytes");
        assert_eq!(format_bytes(512_000), "512 KB");
        assert_eq!(format_bytes(1_048_576), "1.0 MB");
        assert_eq!(format_bytes(3_200_000_000), "3.2 GB");
    }

    #[test]
    fn small_shares_keep_two_significant_figures() {
        assert_eq!(format_percent(0usize, 100usize), "0%");
        assert_eq!(format_percent(260_032usize, 260_032usize), "100%");
        assert_eq!(format_percent(10_240usize, 260_032usize), "3.9%");
        assert_eq!(format_percent(900usize, 260_032usize), "0.35%");
        assert_eq!(format_percent(90usize, 260_032usize), "0.035%");
    }

    #[test]
    fn rates_round_to_two_significant_figures() {
        assert_eq!(format_rate(3_417.2), "3,400");
        assert_eq!(format_rate(87.4), "87");
        assert_eq!(format_rate(4.4), "4");
        assert_eq!(format_rate(f64::NAN), "0");
    }

    #[test]
    fn time_left_is_rounded_like_speech() {
        assert_eq!(format_time_left(3.0), "a few seconds left");
        assert_eq!(format_time_left(19.0), "about 20 s left");
        assert_eq!(format_time_left(150.0), "about 3 min left");
        assert_eq!(format_time_left(3_900.0), "about 1 h 5 min left");
    }

    #[test]
    fn loss_trends_are_described_in_words() {
        assert_eq!(describe_change("training loss", &[]), None);
        assert_eq!(describe_change("held-out loss", &[1.4]).unwrap(), "held-out loss 1.40");
        assert_eq!(describe_change("training loss", &[3.1, 2.0, 1.2]).unwrap(), "training loss fell from 3.10 to 1.20");
        assert_eq!(
            describe_change("drift from the base model", &[1.3, 1.6]).unwrap(),
            "drift from the base model rose from 1.30 to 1.60"
        );
        assert_eq!(describe_change("loss", &[1.301, 1.299]).unwrap(), "loss stayed at 1.30");
    }
}
