//! Chart geometry: "nice" axis scales in the data's own integer unit (micros for money, whole
//! calls or minutes for counts), so tick labels are exact values, and band positions for bars.
//! Pixel positions are `f64`; values never are.

/// A linear axis from `min` to `max` (both multiples of `step`), with its ticks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scale {
    pub min: i64,
    pub max: i64,
    pub step: i64,
}

impl Scale {
    /// A scale that includes 0 and every value, with about `target_ticks` intervals of 1, 2
    /// or 5 × 10ⁿ units, `unit` being the smallest step allowed (1 cent = 10 000 micros).
    pub fn nice(values: impl IntoIterator<Item = i64>, target_ticks: u32, unit: i64) -> Scale {
        let (mut lo, mut hi) = (0i64, 0i64);
        for v in values {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        let unit = unit.max(1);
        let span = (hi as i128 - lo as i128).max(1);
        let raw = (span / i128::from(target_ticks.max(1))).max(1);
        let step: i128;
        let mut magnitude: i128 = i128::from(unit);
        'search: loop {
            for m in [1i128, 2, 5] {
                let candidate = magnitude * m;
                if candidate >= raw {
                    step = candidate;
                    break 'search;
                }
            }
            match magnitude.checked_mul(10) {
                Some(next) if next < i128::from(i64::MAX) => magnitude = next,
                _ => {
                    step = magnitude;
                    break;
                }
            }
        }
        let floor = |v: i128| v.div_euclid(step) * step;
        let ceil = |v: i128| -(-v).div_euclid(step) * step;
        let clamp = |v: i128| v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        let min = clamp(floor(i128::from(lo)));
        let mut max = clamp(ceil(i128::from(hi)));
        if max == min {
            max = clamp(i128::from(min) + step);
        }
        Scale {
            min,
            max,
            step: clamp(step),
        }
    }

    /// The tick values from `min` to `max`.
    pub fn ticks(&self) -> Vec<i64> {
        let mut out = Vec::new();
        let mut v = self.min;
        while v <= self.max && out.len() < 50 {
            out.push(v);
            match v.checked_add(self.step.max(1)) {
                Some(n) => v = n,
                None => break,
            }
        }
        out
    }

    /// Where `value` falls on an axis `length` pixels long, 0 at `min` (callers flip y).
    pub fn position(&self, value: i64, length: f64) -> f64 {
        let span = (self.max as f64 - self.min as f64).max(1.0);
        ((value as f64 - self.min as f64) / span * length).clamp(0.0, length)
    }
}

/// One band of a bar chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    pub start: f64,
    pub width: f64,
}

/// `n` equal bands over `length` pixels, each leaving `gap` (a fraction, 0..1) empty.
pub fn bands(n: usize, length: f64, gap: f64) -> Vec<Band> {
    if n == 0 {
        return Vec::new();
    }
    let slot = length / n as f64;
    let gap = gap.clamp(0.0, 0.9);
    (0..n)
        .map(|i| Band {
            start: slot * i as f64 + slot * gap / 2.0,
            width: slot * (1.0 - gap),
        })
        .collect()
}

/// Label every k-th band so labels `label_px` wide do not overlap on `length` pixels.
pub fn label_stride(n: usize, length: f64, label_px: f64) -> usize {
    if n == 0 || length <= 0.0 {
        return 1;
    }
    let fits = (length / label_px.max(1.0)).floor().max(1.0) as usize;
    n.div_ceil(fits).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const CENT: i64 = 10_000;

    #[test]
    fn nice_money_scales() {
        // 1,234.56 in micros, 5 ticks → steps of 500 units (500,000,000 micros).
        let s = Scale::nice([1_234_560_000], 5, CENT);
        assert_eq!((s.min, s.max, s.step), (0, 1_500_000_000, 500_000_000));
        assert_eq!(s.ticks(), [0, 500_000_000, 1_000_000_000, 1_500_000_000]);
        // Tiny amounts never go below a cent.
        let s = Scale::nice([30_000], 5, CENT);
        assert_eq!((s.max, s.step), (30_000, 10_000));
        // Nothing at all still makes an axis.
        let s = Scale::nice([], 4, CENT);
        assert_eq!((s.min, s.max, s.step), (0, CENT, CENT));
        let s = Scale::nice([0, 0], 4, 1);
        assert_eq!((s.min, s.max), (0, 1));
    }

    #[test]
    fn scales_include_zero_and_negatives() {
        let s = Scale::nice([-7, 23], 5, 1);
        assert!(s.min <= -7 && s.max >= 23);
        assert_eq!(s.min % s.step, 0);
        assert!(s.ticks().contains(&0));
        let s = Scale::nice([i64::MAX, i64::MIN], 5, 1);
        assert!(s.ticks().len() >= 2);
    }

    #[test]
    fn every_value_is_inside_and_positions_are_linear() {
        for max in [1, 9, 10, 11, 99, 101, 12_345, 987_654_321] {
            let s = Scale::nice([max], 5, 1);
            assert!(s.max >= max && s.ticks().len() <= 12, "{max}: {s:?}");
            assert_eq!(s.position(s.min, 200.0), 0.0);
            assert_eq!(s.position(s.max, 200.0), 200.0);
        }
        let s = Scale::nice([100], 4, 1);
        assert_eq!(s.position(50, 100.0), 50.0);
        assert_eq!(s.position(1_000, 100.0), 100.0, "clamped");
    }

    #[test]
    fn bands_and_label_stride() {
        let b = bands(4, 400.0, 0.2);
        assert_eq!(b.len(), 4);
        assert!((b[0].start - 10.0).abs() < 1e-9 && (b[0].width - 80.0).abs() < 1e-9);
        assert!((b[3].start - 310.0).abs() < 1e-9);
        assert!(bands(0, 100.0, 0.1).is_empty());
        assert_eq!(label_stride(31, 600.0, 40.0), 3);
        assert_eq!(label_stride(12, 600.0, 40.0), 1);
        assert_eq!(label_stride(0, 600.0, 40.0), 1);
    }
}
