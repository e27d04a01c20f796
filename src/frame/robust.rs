//! A robust score of a value against baseline values: how many scaled median absolute
//! deviations it lies above their median. One burst in the baseline moves neither the median
//! nor the MAD much, unlike a mean and standard deviation.

/// 1.4826 × MAD estimates the standard deviation of normally distributed values.
pub const MAD_SCALE: f64 = 1.4826;

/// √(π/2) ≈ 1.2533 × the mean absolute deviation estimates it too: the fallback scale when
/// more than half the baseline values are equal (MAD 0), as in the modified z-score.
pub const MEAN_AD_SCALE: f64 = 1.2533;

/// The baseline of one hour: its median, and the spread a score is measured in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Baseline {
    /// The median of the baseline values.
    pub median: f64,
    /// 1.4826 × MAD; when the MAD is 0, 1.2533 × the mean absolute deviation from the median;
    /// when that is 0 too (every baseline value equal), 1 — the score is then the excess over
    /// the median in the values' unit (bytes).
    pub scale: f64,
}

impl Baseline {
    /// The baseline of `values` (none: a median and MAD of 0).
    pub fn of(values: &[f64]) -> Self {
        let median = median(values);
        let deviations: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
        let mad = median_of(deviations);
        let scale = if mad > 0.0 {
            MAD_SCALE * mad
        } else {
            let mean =
                values.iter().map(|v| (v - median).abs()).sum::<f64>() / values.len().max(1) as f64;
            if mean > 0.0 {
                MEAN_AD_SCALE * mean
            } else {
                1.0
            }
        };
        Baseline { median, scale }
    }

    /// `(value − median) / scale`.
    pub fn score(&self, value: f64) -> f64 {
        (value - self.median) / self.scale
    }

    /// The value whose score is `score`: the upper edge of the band.
    pub fn upper(&self, score: f64) -> f64 {
        self.median + score * self.scale
    }
}

/// The median (the mean of the middle two of an even count; 0 for none).
pub fn median(values: &[f64]) -> f64 {
    median_of(values.to_vec())
}

fn median_of(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_score_counts_scaled_deviations_above_the_median() {
        let b = Baseline::of(&[10.0, 12.0, 11.0, 9.0, 100.0, 10.0, 11.0]);
        // Median 11; deviations 1 1 0 2 89 1 0 → MAD 1.
        assert_eq!(b.median, 11.0);
        assert_eq!(b.scale, MAD_SCALE);
        assert!((b.score(11.0 + 4.0 * MAD_SCALE) - 4.0).abs() < 1e-12);
        assert_eq!(b.upper(4.0), 11.0 + 4.0 * MAD_SCALE);
        assert_eq!(median(&[1.0, 2.0, 3.0, 10.0]), 2.5);
    }

    #[test]
    fn a_zero_mad_falls_back_to_the_mean_deviation_then_to_one() {
        // Five of seven equal: MAD 0, mean deviation (7 + 14) / 7 = 3.
        let b = Baseline::of(&[0.0, 0.0, 0.0, 0.0, 0.0, 7.0, 14.0]);
        assert_eq!(b.median, 0.0);
        assert!((b.scale - MEAN_AD_SCALE * 3.0).abs() < 1e-12);
        let flat = Baseline::of(&[5.0; 7]);
        assert_eq!((flat.median, flat.scale), (5.0, 1.0));
        assert_eq!(flat.score(5.0), 0.0);
        assert_eq!(flat.score(1_005.0), 1_000.0);
        assert_eq!(
            Baseline::of(&[]),
            Baseline {
                median: 0.0,
                scale: 1.0
            }
        );
    }
}
