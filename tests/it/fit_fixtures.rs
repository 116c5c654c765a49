//! The fit engine on the committed real fixtures: with the default grid the fitted UE head's
//! TEST error ROC-AUC beats the softmax response's by the margin measured for each real
//! fixture (see [`margin`]), the random-init reader-coverage cases keep their bounds, and the
//! written head is byte-identical across runs and thread counts.

use adue_compile::fit::{fit, AdueParams, FitData, FitOutcome};
use adue_compile::head::encode_head;
use adue_compile::head::Head;
use adue_compile::load::{read_checkpoint, read_features, FeatureSet};
use adue_compile::score::{roc_auc, LogitStats};
use ndarray::Array2;

use crate::util::{fixture, fixture_cases, MAIN_CASES, READER_COVERAGE_CASES};

struct Split {
    set: FeatureSet,
    logits: Array2<f32>,
}

impl Split {
    fn read(case: &str, name: &str, head: &Head) -> Split {
        let path = fixture(case, &format!("{name}.safetensors"));
        let set = read_features(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let logits = set
            .reference_logits(head)
            .expect("fixture logits fit the head");
        Split { set, logits }
    }

    fn data(&self) -> FitData<'_> {
        FitData {
            features: self.set.features.view(),
            labels: self.set.labels.view(),
            original_logits: self.logits.view(),
        }
    }

    /// `e`: where the original head is wrong (first-index argmax, as everywhere).
    fn errors(&self) -> Vec<bool> {
        let stats = LogitStats::new(self.logits.view(), self.set.labels.view(), 1.0);
        stats.errors.to_vec()
    }

    /// Softmax response `1 − max softmax`, in f64 from the stored logits (CONTRACT §5).
    fn sr_roc_auc(&self) -> f64 {
        let u = LogitStats::new(self.logits.view(), self.set.labels.view(), 1.0)
            .softmax_response()
            .to_vec();
        roc_auc(&u, &self.errors()).expect("test split has errors and correct rows")
    }

    fn adue_roc_auc(&self, out: &FitOutcome) -> f64 {
        let u: Vec<f64> = out
            .ue
            .uncertainty(self.set.features.view())
            .iter()
            .map(|&v| f64::from(v))
            .collect();
        roc_auc(&u, &self.errors()).expect("test split has errors and correct rows")
    }
}

struct Case {
    head: Head,
    train: Split,
    val: Split,
    test: Split,
}

fn case(name: &str) -> Case {
    let head = read_checkpoint(&fixture(name, "adapter"), None)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .head;
    let (train, val, test) = (
        Split::read(name, "train", &head),
        Split::read(name, "val", &head),
        Split::read(name, "test", &head),
    );
    Case {
        head,
        train,
        val,
        test,
    }
}

fn fit_default(c: &Case, threads: usize) -> FitOutcome {
    let params = AdueParams::new()
        .threads(threads)
        .quiet(true)
        .check()
        .unwrap();
    fit(&params, &c.head, &c.train.data(), &c.val.data()).unwrap()
}

/// TEST error ROC-AUC of AdUE minus the softmax response's must exceed this. Measured with
/// the default grid (18 configurations, lr up to 1e-2) and seed 0, seeds 1–2 in brackets:
/// bbc-roberta +0.0613 (0.8901 vs 0.8288; paired bootstrap 95% CI [+0.039, +0.083];
/// seeds 1–2 +0.072, +0.073), bbc-bert-linear +0.0466 (0.8927 vs 0.8461; CI [+0.023, +0.074];
/// +0.049, +0.050), bbc-minilm-score +0.0386 (0.8583 vs 0.8197; CI [+0.006, +0.071];
/// +0.037, +0.030). With the earlier default (lr ≤ 1e-3) bbc-minilm-score tied (−0.0013).
/// Reader-coverage case tiny-electra-gelu (random-init, 50 validation rows): +0.0219
/// (0.7456 vs 0.7237; +0.033, +0.035).
/// `None` for tiny-llama-576: its 75 validation rows hold 22 errors, the default grid
/// overfits them (test 0.41 vs 0.79 for seed 0; `fit` warns about exactly this), so only
/// what selection sees is asserted (see [`adue_vs_softmax_response_on_test_data`]).
pub fn margin(case: &str) -> Option<f64> {
    match case {
        "bbc-roberta" => Some(0.05),
        "bbc-bert-linear" => Some(0.035),
        "bbc-minilm-score" => Some(0.025),
        "tiny-electra-gelu" => Some(0.01),
        "tiny-llama-576" => None,
        other => panic!("case `{other}` has no measured margin in tests/it/fit_fixtures.rs"),
    }
}

#[test]
fn adue_vs_softmax_response_on_test_data() {
    let cases = fixture_cases();
    assert_eq!(cases.len(), MAIN_CASES.len(), "{cases:?}");
    for name in cases
        .iter()
        .map(String::as_str)
        .chain(READER_COVERAGE_CASES)
    {
        let c = case(name);
        let out = fit_default(&c, 2);
        let (adue, sr) = (c.test.adue_roc_auc(&out), c.test.sr_roc_auc());
        eprintln!("{name}: AdUE {adue:.4} vs SR {sr:.4} ({:+.4})", adue - sr);
        match margin(name) {
            Some(m) => assert!(
                adue - sr > m,
                "{name}: AdUE {adue:.4} vs SR {sr:.4} ({:?})",
                out.selected
            ),
            // Selection must at least win where it looks: on the validation split.
            None => {
                let (val_adue, val_sr) = (c.val.adue_roc_auc(&out), c.val.sr_roc_auc());
                assert!(val_adue > val_sr, "{name}: val {val_adue} vs {val_sr}");
            }
        }
    }
}

#[test]
fn head_bytes_identical_across_runs_and_thread_counts() {
    for name in MAIN_CASES {
        let c = case(name);
        let bytes =
            |out: &FitOutcome| encode_head(name.as_ref(), &out.ue, &Default::default()).unwrap();
        let one = fit_default(&c, 1);
        let two = fit_default(&c, 2);
        let again = fit_default(&c, 2);
        assert_eq!(one.grid, two.grid, "{name}");
        assert_eq!(bytes(&one), bytes(&two), "{name}: 1 vs 2 threads");
        assert_eq!(bytes(&two), bytes(&again), "{name}: two runs");
    }
}
