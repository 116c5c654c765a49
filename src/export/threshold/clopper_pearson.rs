//! Exact one-sided Clopper-Pearson upper bounds.

use statrs::distribution::{Beta, Continuous, ContinuousCDF};

/// Exact one-sided Clopper-Pearson upper confidence bound: the `1 − δ` quantile of
/// `Beta(k + 1, n − k)`, which covers the true error probability with probability
/// at least `1 − δ` given `k` errors in `n` trials. `1` when `k = n` (including `n = 0`).
pub fn clopper_pearson_upper(k: usize, n: usize, delta: f64) -> f64 {
    if k >= n {
        return 1.0;
    }
    if k == 0 {
        // Beta(1, n): the quantile is 1 − δ^(1/n), written to keep full precision.
        return -(delta.ln() / n as f64).exp_m1();
    }
    beta_quantile(k as f64 + 1.0, (n - k) as f64, 1.0 - delta)
}

/// Quantile of `Beta(a, b)` at `p`. statrs' inverse (AS 64/109) is accurate to about
/// 1e-8 relative; three Newton steps on `I_x(a, b) − p` bring it to the accuracy of
/// the regularised incomplete beta function itself.
fn beta_quantile(a: f64, b: f64, p: f64) -> f64 {
    let Ok(beta) = Beta::new(a, b) else {
        // Only for non-positive or non-finite shapes, which callers never pass.
        return f64::NAN;
    };
    let mut x = beta.inverse_cdf(p);
    for _ in 0..3 {
        let density = beta.pdf(x);
        if !(density.is_finite() && density > 0.0) {
            break;
        }
        let next = x - (beta.cdf(x) - p) / density;
        if !(next > 0.0 && next < 1.0) {
            break;
        }
        x = next;
    }
    x
}

/// Fewest accepted rows for which zero errors pass at level `a`: `UCB(0, n; a) =
/// 1 − a^(1/n) ≤ R` ⟺ `n ≥ ln a / ln(1 − R)`.
pub fn min_accepted(target_risk: f64, a: f64) -> usize {
    let approx = (a.ln() / (1.0 - target_risk).ln()).ceil().max(1.0) as usize;
    // Settle rounding at the boundary with the bound itself.
    (approx.saturating_sub(1).max(1)..)
        .find(|&n| clopper_pearson_upper(0, n, a) <= target_risk)
        .unwrap_or(approx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_errors_has_closed_form() {
        // UCB(0, n) = 1 − δ^(1/n).
        for n in [1usize, 7, 100, 5000] {
            let want = 1.0 - 0.05f64.powf(1.0 / n as f64);
            let got = clopper_pearson_upper(0, n, 0.05);
            assert!((got - want).abs() < 1e-12, "n={n}: {got} vs {want}");
        }
        assert_eq!(clopper_pearson_upper(3, 3, 0.1), 1.0);
        assert_eq!(clopper_pearson_upper(0, 0, 0.1), 1.0);
        // ln 0.1 / ln 0.9 = 21.85.
        assert_eq!(min_accepted(0.1, 0.1), 22);
    }
}
