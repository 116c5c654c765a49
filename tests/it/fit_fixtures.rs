//! The fit engine on the committed real fixtures: with the default grid the fitted UE head's
//! TEST error ROC-AUC is compared with the softmax response's against the margin measured
//! for each case (bbc-minilm-score does NOT beat it, see [`margin`]), the random-init
//! reader-coverage cases keep their non-regression bounds, and the written head is
//! byte-identical across runs and thread counts.

use adue_compile::fit::{encode_head, fit, AdueParams, FitData, FitOutcome};
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

    fn errors(&self) -> Vec<bool> {
        self.logits
            .rows()
            .into_iter()
            .zip(&self.set.labels)
            .map(|(z, &y)| {
                z.iter()
                    .enumerate()
                    .fold(0, |b, (i, &v)| if v > z[b] { i } else { b })
                    != y
            })
            .collect()
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
            .head
            .uncertainty(self.set.features.view(), &out.spec)
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
/// the default grid and seed 0 (seeds 1 and 2 within 0.003 of it):
/// bbc-roberta +0.0649 (0.8937 vs 0.8288), bbc-bert-linear +0.0126 (0.8587 vs 0.8461),
/// bbc-minilm-score −0.0013 (0.8184 vs 0.8197; paired bootstrap 95% CI of the difference
/// [−0.0114, +0.0087]; seeds 1 and 2: −0.0007, −0.0007).
/// On bbc-minilm-score AdUE does NOT beat the softmax response: the twelve default-grid
/// configurations score 0.8381–0.8387 on validation against the softmax response's 0.8375,
/// so selection has almost nothing to go on; its bound only guards against regressions.
/// Reader-coverage cases (random-init weights, not fixtures): tiny-electra-gelu +0.0066
/// (0.7303 vs 0.7237), tiny-llama-576 −0.0211 (0.7692 vs 0.7903; 75 validation rows on
/// which the softmax response scores 0.59, so selection follows noise).
pub fn margin(case: &str) -> f64 {
    match case {
        "bbc-roberta" => 0.055,
        "bbc-bert-linear" => 0.010,
        "bbc-minilm-score" => -0.005,
        "tiny-electra-gelu" => 0.005,
        "tiny-llama-576" => -0.03,
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
        assert!(
            adue - sr > margin(name),
            "{name}: AdUE {adue:.4} vs SR {sr:.4} ({:?})",
            out.selected
        );
    }
}

#[test]
fn head_bytes_identical_across_runs_and_thread_counts() {
    for name in MAIN_CASES {
        let c = case(name);
        let bytes = |out: &FitOutcome| {
            encode_head(name.as_ref(), &out.head, &out.spec, &Default::default()).unwrap()
        };
        let one = fit_default(&c, 1);
        let two = fit_default(&c, 2);
        let again = fit_default(&c, 2);
        assert_eq!(one.grid, two.grid, "{name}");
        assert_eq!(bytes(&one), bytes(&two), "{name}: 1 vs 2 threads");
        assert_eq!(bytes(&two), bytes(&again), "{name}: two runs");
    }
}
