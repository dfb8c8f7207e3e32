//! A chart axis with round tick values (1, 2 or 5 × 10ⁿ apart), as a person would label it by hand. No DOM, so
//! the tests run natively.

/// A linear axis from `min` to `max`, both multiples of `gap`, with a tick every `gap`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Axis {
    pub min: f64,
    pub max: f64,
    pub gap: f64,
}

impl Axis {
    /// The smallest round axis covering `low..=high` with about `target_ticks` gaps, none smaller than
    /// `smallest_gap` (1 for an axis of whole steps).
    pub fn covering(low: f64, high: f64, target_ticks: usize, smallest_gap: f64) -> Axis {
        // A single value still gets an axis around it.
        let span = if high > low { high - low } else { low.abs().max(1.0) / 10.0 };
        let rough = span / target_ticks.max(1) as f64;
        let magnitude = 10f64.powf(rough.log10().floor());
        let nice = match rough / magnitude {
            r if r <= 1.0 => 1.0,
            r if r <= 2.0 => 2.0,
            r if r <= 5.0 => 5.0,
            _ => 10.0,
        };
        let gap = (nice * magnitude).max(smallest_gap);
        let min = (low / gap).floor() * gap;
        let max = ((high / gap).ceil() * gap).max(min + gap);
        Axis { min, max, gap }
    }

    pub fn ticks(&self) -> Vec<f64> {
        let count = ((self.max - self.min) / self.gap).round() as usize;
        (0..=count).map(|i| self.min + i as f64 * self.gap).collect()
    }

    /// Where `value` falls, from 0 at `min` to 1 at `max`.
    pub fn fraction(&self, value: f64) -> f64 {
        (value - self.min) / (self.max - self.min)
    }

    /// A tick's label with just the decimals the gap needs: `0.5` → `"0.5"`, `10` → `"10"`.
    pub fn label(&self, value: f64) -> String {
        let decimals = if self.gap >= 1.0 { 0 } else { (-self.gap.log10()).ceil() as usize };
        format!("{value:.decimals$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_axis_uses_round_whole_gaps() {
        let axis = Axis::covering(0.0, 60.0, 6, 1.0);
        assert_eq!((axis.min, axis.max, axis.gap), (0.0, 60.0, 10.0));
        assert_eq!(axis.ticks(), vec![0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0]);
        let short = Axis::covering(0.0, 3.0, 6, 1.0);
        assert_eq!(short.gap, 1.0);
        assert_eq!(short.ticks(), vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(short.label(2.0), "2");
    }

    #[test]
    fn loss_axis_covers_the_values_with_round_ends() {
        let axis = Axis::covering(1.23, 3.08, 5, 0.0);
        assert_eq!(axis.gap, 0.5);
        assert_eq!((axis.min, axis.max), (1.0, 3.5));
        assert_eq!(
            axis.ticks().iter().map(|t| axis.label(*t)).collect::<Vec<_>>(),
            ["1.0", "1.5", "2.0", "2.5", "3.0", "3.5"]
        );
    }

    #[test]
    fn one_value_still_gets_an_axis_around_it() {
        let axis = Axis::covering(1.3, 1.3, 5, 0.0);
        assert!(axis.min <= 1.3 && axis.max > 1.3);
        assert!(axis.fraction(1.3).is_finite());
        assert_eq!(axis.label(axis.min), "1.30");
    }

    #[test]
    fn fraction_maps_the_ends_to_zero_and_one() {
        let axis = Axis { min: 1.0, max: 3.0, gap: 0.5 };
        assert_eq!(axis.fraction(1.0), 0.0);
        assert_eq!(axis.fraction(2.0), 0.5);
        assert_eq!(axis.fraction(3.0), 1.0);
    }
}
