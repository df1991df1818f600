"""aprende.metrics against hand-counted confusion matrices and against scikit-learn."""

import io
import re
import warnings

import numpy as np
import pytest

import aprende
from aprende import metrics
from aprende.metrics import UndefinedMetricWarning

# Comparisons with scikit-learn on inputs where some rates are 0/0: both sides warn.
quiet = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture
def skm():
    """scikit-learn's metrics, the reference (tests using it skip where it is missing)."""
    pytest.importorskip("sklearn")
    from sklearn import metrics as sklearn_metrics

    return sklearn_metrics


def random_labels(seed, n_classes, n=60):
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_classes, n), rng.integers(0, n_classes, n), rng.random(n)


# ---------------------------------------------------------------------------------------------
# Hand-counted binary case (the slides' table)
# ---------------------------------------------------------------------------------------------

#                 index: 0  1  2  3  4  5  6  7  8  9
BINARY_TRUE = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
BINARY_PRED = np.array([1, 1, 1, 0, 1, 1, 0, 0, 0, 0])
# Counted by hand: TP = 3 (0, 1, 2), FN = 1 (3), FP = 2 (4, 5), TN = 4 (6..9); P = 4, N = 6.
# Rows = true class [0, 1], columns = predicted: [[TN, FP], [FN, TP]] = [[4, 2], [1, 3]].
# ACC = 7/10, TPR = 3/4, FNR = 1/4, TNR = 4/6, FPR = 2/6, PPV = 3/5, NPV = 4/5,
# F1 = 2*3 / (2*3 + 1 + 2) = 6/9, F2 = 5*3 / (5*3 + 4*1 + 2) = 15/21, Jaccard = 3/6.
BINARY_EXPECTED = {
    "accuracy_score": 0.7,
    "tpr": 3 / 4,
    "fnr": 1 / 4,
    "tnr": 4 / 6,
    "fpr": 2 / 6,
    "ppv": 3 / 5,
    "npv": 4 / 5,
    "f1_score": 6 / 9,
    "jaccard_score": 3 / 6,
}


def test_binary_confusion_matrix_by_hand():
    assert metrics.confusion_matrix(BINARY_TRUE, BINARY_PRED).tolist() == [[4, 2], [1, 3]]
    assert metrics.confusion_counts(BINARY_TRUE, BINARY_PRED) == (3, 2, 1, 4)
    assert metrics.true_positives(BINARY_TRUE, BINARY_PRED) == 3
    assert metrics.false_positives(BINARY_TRUE, BINARY_PRED) == 2
    assert metrics.false_negatives(BINARY_TRUE, BINARY_PRED) == 1
    assert metrics.true_negatives(BINARY_TRUE, BINARY_PRED) == 4
    # class 0 as the positive class swaps the roles: TP=4, FP=1, FN=2, TN=3
    assert metrics.confusion_counts(BINARY_TRUE, BINARY_PRED, pos_label=0) == (4, 1, 2, 3)


@pytest.mark.parametrize("name, expected", BINARY_EXPECTED.items())
def test_binary_rates_by_hand(name, expected):
    assert getattr(metrics, name)(BINARY_TRUE, BINARY_PRED) == pytest.approx(expected)


def test_binary_aliases_and_complements():
    t, p = BINARY_TRUE, BINARY_PRED
    assert metrics.recall_score(t, p) == metrics.sensitivity(t, p) == metrics.recall(t, p) == 0.75
    assert metrics.precision_score(t, p) == metrics.precision(t, p) == pytest.approx(0.6)
    assert metrics.specificity(t, p) == pytest.approx(4 / 6)
    assert metrics.miss_rate(t, p) == metrics.fnr(t, p)
    assert metrics.false_alarm_rate(t, p) == metrics.fpr(t, p)
    assert metrics.accuracy(t, p) == metrics.accuracy_score(t, p)
    assert metrics.tpr(t, p) + metrics.fnr(t, p) == pytest.approx(1.0)  # TPR = 1 - FNR
    assert metrics.tnr(t, p) + metrics.fpr(t, p) == pytest.approx(1.0)  # TNR = 1 - FPR
    assert metrics.fbeta_score(t, p, beta=2) == pytest.approx(15 / 21)
    assert metrics.balanced_accuracy_score(t, p) == pytest.approx((3 / 4 + 4 / 6) / 2)
    assert metrics.hamming_loss(t, p) == pytest.approx(0.3)
    assert metrics.accuracy_score(t, p, normalize=False) == 7


# ---------------------------------------------------------------------------------------------
# Hand-counted three-class case, string labels
# ---------------------------------------------------------------------------------------------

THREE_TRUE = ["cat", "cat", "cat", "dog", "dog", "dog", "dog", "fish", "fish", "fish"]
THREE_PRED = ["cat", "cat", "dog", "dog", "dog", "fish", "cat", "fish", "fish", "fish"]
# Rows = true (cat, dog, fish), columns = predicted:
#   cat  [2, 1, 0]      row sums (support P): 3, 4, 3
#   dog  [1, 2, 1]      column sums (predicted): 3, 3, 4
#   fish [0, 0, 3]
# One-vs-rest: TP = diagonal = (2, 2, 3); FN = row - TP = (1, 2, 0);
# FP = column - TP = (1, 1, 1); TN = 10 - TP - FN - FP = (6, 5, 6).
THREE_MATRIX = [[2, 1, 0], [1, 2, 1], [0, 0, 3]]
THREE_PER_CLASS = {
    "tpr": [2 / 3, 2 / 4, 3 / 3],
    "fnr": [1 / 3, 2 / 4, 0 / 3],
    "tnr": [6 / 7, 5 / 6, 6 / 7],
    "fpr": [1 / 7, 1 / 6, 1 / 7],
    "ppv": [2 / 3, 2 / 3, 3 / 4],
    "npv": [6 / 7, 5 / 7, 6 / 6],
    "f1_score": [4 / 6, 4 / 7, 6 / 7],  # 2TP / (2TP + FN + FP)
    "jaccard_score": [2 / 4, 2 / 5, 3 / 4],  # TP / (TP + FP + FN)
}


def test_three_class_matrix_and_counts_by_hand():
    assert metrics.confusion_matrix(THREE_TRUE, THREE_PRED).tolist() == THREE_MATRIX
    counts = metrics.confusion_counts(THREE_TRUE, THREE_PRED, average=None)
    assert [c.tolist() for c in counts] == [[2, 2, 3], [1, 1, 1], [1, 2, 0], [6, 5, 6]]
    assert metrics.confusion_counts(THREE_TRUE, THREE_PRED, average="micro") == (7, 3, 3, 17)
    mcm = metrics.multilabel_confusion_matrix(THREE_TRUE, THREE_PRED)
    assert mcm[1].tolist() == [[5, 1], [2, 2]]  # dog: [[TN, FP], [FN, TP]]
    # reordered / partial labels: rows and columns follow `labels`
    reordered = metrics.confusion_matrix(THREE_TRUE, THREE_PRED, labels=["fish", "cat"])
    assert reordered.tolist() == [[3, 0], [0, 2]]


@pytest.mark.parametrize("name, expected", THREE_PER_CLASS.items())
def test_three_class_per_class_rates_by_hand(name, expected):
    values = getattr(metrics, name)(THREE_TRUE, THREE_PRED, average=None)
    np.testing.assert_allclose(values, expected)
    assert getattr(metrics, name)(THREE_TRUE, THREE_PRED, average="macro") == pytest.approx(
        np.mean(expected)
    )
    support = np.array([3, 4, 3])
    assert getattr(metrics, name)(THREE_TRUE, THREE_PRED, average="weighted") == pytest.approx(
        np.average(expected, weights=support)
    )


def test_three_class_micro_averages_by_hand():
    t, p = THREE_TRUE, THREE_PRED
    # micro: summed counts TP=7, FP=3, FN=3, TN=17
    assert metrics.tpr(t, p, average="micro") == pytest.approx(7 / 10)
    assert metrics.ppv(t, p, average="micro") == pytest.approx(7 / 10)
    assert metrics.accuracy_score(t, p) == pytest.approx(7 / 10)  # = micro TPR = micro PPV
    assert metrics.tnr(t, p, average="micro") == pytest.approx(17 / 20)
    assert metrics.npv(t, p, average="micro") == pytest.approx(17 / 20)
    assert metrics.fpr(t, p, average="micro") == pytest.approx(3 / 20)
    assert metrics.balanced_accuracy_score(t, p) == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    assert metrics.tpr(t, p, average=None, labels=["dog"]).tolist() == [0.5]


# ---------------------------------------------------------------------------------------------
# Degenerate cases: zero divisions give a value and a warning, never a crash
# ---------------------------------------------------------------------------------------------


def test_class_never_predicted_warns_and_uses_zero_division():
    y_true, y_pred = [0, 1, 2, 2], [0, 1, 1, 1]  # class 2 is never predicted: PPV_2 = 0/0
    with pytest.warns(UndefinedMetricWarning, match="Precision is ill-defined.*no predicted"):
        values = metrics.precision_score(y_true, y_pred, average=None)
    np.testing.assert_allclose(values, [1.0, 1 / 3, 0.0])
    with pytest.warns(UndefinedMetricWarning, match="NPV is ill-defined"):
        # class 1 predicted for every sample: no predicted negatives, NPV_1 = TN/(TN+FN) = 0/0
        np.testing.assert_allclose(metrics.npv([0, 1, 1], [1, 1, 1], average=None), [2 / 3, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ones = metrics.precision_score(y_true, y_pred, average=None, zero_division=1.0)
        nans = metrics.precision_score(y_true, y_pred, average=None, zero_division=np.nan)
        macro_nan = metrics.precision_score(y_true, y_pred, average="macro", zero_division=np.nan)
    np.testing.assert_allclose(ones, [1.0, 1 / 3, 1.0])
    assert np.isnan(nans[2])
    assert macro_nan == pytest.approx((1 + 1 / 3) / 2)  # NaN left out of the average
    # F1 of class 2: 2*0 / (2*0 + 2 + 0) = 0, defined: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(metrics.f1_score(y_true, y_pred, average=None), [1, 0.5, 0])


def test_single_class_present():
    y = [1, 1, 1]
    with pytest.warns(UserWarning, match="single label"):
        assert metrics.confusion_matrix(y, y).tolist() == [[3]]
    assert metrics.confusion_matrix(y, y, labels=[0, 1]).tolist() == [[0, 0], [0, 3]]
    assert metrics.precision_score(y, y) == 1.0
    assert metrics.recall_score(y, y) == 1.0
    assert metrics.accuracy_score(y, y) == 1.0
    with pytest.warns(UndefinedMetricWarning, match="Specificity is ill-defined"):
        assert metrics.tnr(y, y) == 0.0  # no negatives: TN + FP = 0
    with pytest.warns(UndefinedMetricWarning, match="Only one class"):
        assert np.isnan(metrics.roc_auc_score(y, [0.2, 0.5, 0.9]))
    with pytest.warns(UndefinedMetricWarning, match="No negative samples"):
        false_rate, true_rate, _ = metrics.roc_curve(y, [0.2, 0.5, 0.9])
    assert np.isnan(false_rate).all() and not np.isnan(true_rate).any()


def test_all_correct_gives_perfect_rates_without_warnings():
    y = np.array([0, 1, 2, 2, 1, 0, 3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("tpr", "tnr", "ppv", "npv", "f1_score", "jaccard_score"):
            np.testing.assert_allclose(getattr(metrics, name)(y, y, average=None), 1.0)
        for name in ("fnr", "fpr"):
            np.testing.assert_allclose(getattr(metrics, name)(y, y, average="macro"), 0.0)
        assert metrics.accuracy_score(y, y) == metrics.balanced_accuracy_score(y, y) == 1.0
        assert metrics.hamming_loss(y, y) == 0.0
        assert np.array_equal(metrics.confusion_matrix(y, y), np.diag([2, 2, 2, 1]))


# ---------------------------------------------------------------------------------------------
# Against scikit-learn on random inputs
# ---------------------------------------------------------------------------------------------

SET_WISE = ("precision_score", "recall_score", "f1_score", "jaccard_score")


@quiet
@pytest.mark.parametrize("n_classes", [2, 3, 5])
@pytest.mark.parametrize("weighted", [False, True])
def test_set_wise_scores_match_sklearn(skm, n_classes, weighted):
    for seed in range(2):
        y_true, y_pred, weights = random_labels(seed, n_classes, n=40)
        w = weights if weighted else None
        averages = [None, "micro", "macro", "weighted"] + (["binary"] * (n_classes == 2))
        for name in SET_WISE:
            for average in averages:
                nan = [np.nan] if name != "jaccard_score" else []  # sklearn's jaccard: no NaN
                for zero_division in ("warn", 1.0, *nan) if seed == 0 else ("warn",):
                    kw = {"average": average, "sample_weight": w, "zero_division": zero_division}
                    ours = getattr(metrics, name)(y_true, y_pred, **kw)
                    theirs = getattr(skm, name)(y_true, y_pred, **kw)
                    np.testing.assert_allclose(ours, theirs, err_msg=f"{name} {kw}")
        for beta in (0.0, 0.5, 2.0, np.inf):
            for average in averages:
                kw = {"beta": beta, "average": average, "sample_weight": w}
                ours = metrics.precision_recall_fscore_support(y_true, y_pred, **kw)
                theirs = skm.precision_recall_fscore_support(y_true, y_pred, **kw)
                for a, b in zip(ours, theirs, strict=True):
                    np.testing.assert_allclose(
                        np.nan if a is None else a, np.nan if b is None else b
                    )
                assert metrics.fbeta_score(y_true, y_pred, **kw) == pytest.approx(
                    skm.fbeta_score(y_true, y_pred, **kw), nan_ok=True
                )


@quiet
@pytest.mark.parametrize("n_classes", [2, 4])
def test_labels_and_pos_label_match_sklearn(skm, n_classes):
    y_true, y_pred, _ = random_labels(7, n_classes, n=30)
    y_true[y_true == 1] = 0  # class 1 only appears in y_pred (absent from y_true)
    label_sets = [[1, 0], [0, n_classes + 3], list(range(n_classes))[::-1]]
    for labels in label_sets:
        for average in (None, "micro", "macro", "weighted"):
            for name in SET_WISE:
                kw = {"labels": labels, "average": average}
                np.testing.assert_allclose(
                    getattr(metrics, name)(y_true, y_pred, **kw),
                    getattr(skm, name)(y_true, y_pred, **kw),
                    err_msg=f"{name} {kw}",
                )
        np.testing.assert_array_equal(
            metrics.multilabel_confusion_matrix(y_true, y_pred, labels=labels),
            skm.multilabel_confusion_matrix(y_true, y_pred, labels=labels),
        )
    words = np.array(["no", "yes"])[np.random.default_rng(1).integers(0, 2, (2, 40))]
    for name in SET_WISE:
        assert getattr(metrics, name)(*words, pos_label="no") == pytest.approx(
            getattr(skm, name)(*words, pos_label="no")
        )


@quiet
@pytest.mark.parametrize("n_classes", [2, 3, 6])
def test_confusion_matrix_accuracy_hamming_match_sklearn(skm, n_classes):
    y_true, y_pred, weights = random_labels(11, n_classes)
    int_weights = (weights * 5).astype(np.int64)
    for w in (None, weights, int_weights):
        for normalize in (None, "true", "pred", "all"):
            ours = metrics.confusion_matrix(y_true, y_pred, sample_weight=w, normalize=normalize)
            theirs = skm.confusion_matrix(y_true, y_pred, sample_weight=w, normalize=normalize)
            np.testing.assert_allclose(ours, theirs)
            assert ours.dtype == theirs.dtype
        np.testing.assert_allclose(
            metrics.multilabel_confusion_matrix(y_true, y_pred, sample_weight=w),
            skm.multilabel_confusion_matrix(y_true, y_pred, sample_weight=w),
        )
        for normalize in (True, False):
            assert metrics.accuracy_score(
                y_true, y_pred, sample_weight=w, normalize=normalize
            ) == pytest.approx(
                skm.accuracy_score(y_true, y_pred, sample_weight=w, normalize=normalize)
            )
        for adjusted in (False, True):
            assert metrics.balanced_accuracy_score(
                y_true, y_pred, sample_weight=w, adjusted=adjusted
            ) == pytest.approx(
                skm.balanced_accuracy_score(y_true, y_pred, sample_weight=w, adjusted=adjusted)
            )
        assert metrics.hamming_loss(y_true, y_pred, sample_weight=w) == pytest.approx(
            skm.hamming_loss(y_true, y_pred, sample_weight=w)
        )
    labels = [n_classes - 1, 0]
    np.testing.assert_array_equal(
        metrics.confusion_matrix(y_true, y_pred, labels=labels),
        skm.confusion_matrix(y_true, y_pred, labels=labels),
    )


@quiet
@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_slide_rates_match_sklearn_counts(skm, average):
    """TNR, FPR, FNR, NPV (not in scikit-learn) from scikit-learn's per-class counts."""
    y_true, y_pred, _ = random_labels(3, 4)
    mcm = skm.multilabel_confusion_matrix(y_true, y_pred)
    tn, fp, fn, tp = mcm[:, 0, 0], mcm[:, 0, 1], mcm[:, 1, 0], mcm[:, 1, 1]
    expected = {
        "tnr": (tn, tn + fp),
        "fpr": (fp, fp + tn),
        "fnr": (fn, fn + tp),
        "npv": (tn, tn + fn),
        "tpr": (tp, tp + fn),
        "ppv": (tp, tp + fp),
    }
    for name, (numerator, denominator) in expected.items():
        if average == "micro":
            reference = numerator.sum() / denominator.sum()
        else:
            per_class = numerator / denominator
            reference = {None: per_class, "macro": per_class.mean()}.get(
                average, np.average(per_class, weights=tp + fn)
            )
        np.testing.assert_allclose(
            getattr(metrics, name)(y_true, y_pred, average=average), reference, err_msg=name
        )


# ---------------------------------------------------------------------------------------------
# Multi-label (N, L) 0/1 indicators
# ---------------------------------------------------------------------------------------------

ML_TRUE = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0]])
ML_PRED = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0]])
# Row 0 misses label 2, row 1 is exact, row 2 misses label 1:
#   subset accuracy = 1/3, Hamming loss = 2 wrong entries / 9.
# Per label [[TN, FP], [FN, TP]]: label 0: TP=2, TN=1; label 1: TP=1, FN=1, TN=1;
# label 2: FN=1, TN=2 (never predicted: PPV_2 = 0/0).


def test_multilabel_by_hand():
    assert metrics.multilabel_confusion_matrix(ML_TRUE, ML_PRED).tolist() == [
        [[1, 0], [0, 2]],
        [[1, 0], [1, 1]],
        [[2, 0], [1, 0]],
    ]
    assert metrics.accuracy_score(ML_TRUE, ML_PRED) == pytest.approx(1 / 3)
    assert metrics.hamming_loss(ML_TRUE, ML_PRED) == pytest.approx(2 / 9)
    np.testing.assert_allclose(metrics.recall_score(ML_TRUE, ML_PRED, average=None), [1, 0.5, 0])
    with pytest.warns(UndefinedMetricWarning, match="labels with no predicted samples"):
        np.testing.assert_allclose(metrics.ppv(ML_TRUE, ML_PRED, average=None), [1, 1, 0])
    # "samples": per row TPR = 1/2, 1/1, 1/2 -> mean 2/3
    assert metrics.tpr(ML_TRUE, ML_PRED, average="samples") == pytest.approx(2 / 3)


@quiet
@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_matches_sklearn(skm, weighted):
    rng = np.random.default_rng(5)
    y_true, y_pred = rng.integers(0, 2, (40, 5)), rng.integers(0, 2, (40, 5))
    y_pred[:, 3] = 0  # a label never predicted
    w = rng.random(40) if weighted else None
    for samplewise in (False, True):
        np.testing.assert_allclose(
            metrics.multilabel_confusion_matrix(
                y_true, y_pred, sample_weight=w, samplewise=samplewise
            ),
            skm.multilabel_confusion_matrix(y_true, y_pred, sample_weight=w, samplewise=samplewise),
        )
    np.testing.assert_array_equal(
        metrics.multilabel_confusion_matrix(y_true, y_pred, labels=[4, 0]),
        skm.multilabel_confusion_matrix(y_true, y_pred, labels=[4, 0]),
    )
    for average in (None, "micro", "macro", "weighted", "samples"):
        for name in SET_WISE:
            kw = {"average": average, "sample_weight": w}
            np.testing.assert_allclose(
                getattr(metrics, name)(y_true, y_pred, **kw),
                getattr(skm, name)(y_true, y_pred, **kw),
                err_msg=f"{name} {kw}",
            )
    assert metrics.accuracy_score(y_true, y_pred, sample_weight=w) == pytest.approx(
        skm.accuracy_score(y_true, y_pred, sample_weight=w)
    )
    assert metrics.hamming_loss(y_true, y_pred, sample_weight=w) == pytest.approx(
        skm.hamming_loss(y_true, y_pred, sample_weight=w)
    )


# ---------------------------------------------------------------------------------------------
# Per-element (a class per pixel / position)
# ---------------------------------------------------------------------------------------------

# Two 1-D signals of 4 positions, classes 0..2.
SEG_TRUE = np.array([[0, 0, 1, 1], [2, 2, 1, 0]])
SEG_PRED = np.array([[0, 1, 1, 1], [2, 0, 1, 0]])
# Wrong at (0, 1) (0 -> 1) and (1, 1) (2 -> 0): pixel accuracy 6/8.
# class 0: true at (0,0) (0,1) (1,3), predicted at (0,0) (1,1) (1,3): IoU = 2 / 4
# class 1: true at (0,2) (0,3) (1,2), predicted also at (0,1): IoU = 3 / 4
# class 2: true at (1,0) (1,1), predicted at (1,0): IoU = 1 / 2


def test_per_element_by_hand():
    assert metrics.pixel_accuracy(SEG_TRUE, SEG_PRED) == pytest.approx(6 / 8)
    np.testing.assert_allclose(metrics.per_class_iou(SEG_TRUE, SEG_PRED), [0.5, 0.75, 0.5])
    assert metrics.mean_iou(SEG_TRUE, SEG_PRED) == pytest.approx(1.75 / 3)
    # class 3 appears nowhere: NaN, left out of the mean
    iou = metrics.per_class_iou(SEG_TRUE, SEG_PRED, num_classes=4)
    assert np.isnan(iou[3])
    assert metrics.mean_iou(SEG_TRUE, SEG_PRED, num_classes=4) == pytest.approx(1.75 / 3)
    # ignore_index: the two wrong positions marked 255 in y_true no longer count
    ignored = np.where(SEG_TRUE == SEG_PRED, SEG_TRUE, 255)
    assert metrics.pixel_accuracy(ignored, SEG_PRED, ignore_index=255) == 1.0
    np.testing.assert_allclose(metrics.per_class_iou(ignored, SEG_PRED, ignore_index=255), 1.0)


@quiet
def test_per_element_matches_sklearn_jaccard(skm):
    rng = np.random.default_rng(2)
    y_true, y_pred = rng.integers(0, 4, (3, 5, 6)), rng.integers(0, 4, (3, 5, 6))
    y_pred[y_pred == 3] = 2  # class 3 never predicted
    reference = skm.jaccard_score(y_true.ravel(), y_pred.ravel(), labels=range(4), average=None)
    np.testing.assert_allclose(metrics.per_class_iou(y_true, y_pred), reference)
    assert metrics.mean_iou(y_true, y_pred) == pytest.approx(reference.mean())
    assert metrics.pixel_accuracy(y_true, y_pred) == pytest.approx(
        skm.accuracy_score(y_true.ravel(), y_pred.ravel())
    )


def test_per_element_errors():
    with pytest.raises(ValueError, match=r"same shape.*\(2, 4\) and \(2, 3\)"):
        metrics.pixel_accuracy(SEG_TRUE, SEG_PRED[:, :3])
    with pytest.raises(ValueError, match=r"y_true holds class 2, outside \[0, 2\)"):
        metrics.per_class_iou(SEG_TRUE, SEG_PRED, num_classes=2)
    with pytest.raises(ValueError, match="integer class indices.*float"):
        metrics.mean_iou(SEG_TRUE + 0.5, SEG_PRED)


# ---------------------------------------------------------------------------------------------
# ROC curve and AUC
# ---------------------------------------------------------------------------------------------


def test_roc_curve_by_hand():
    # scores sorted: 0.8 (pos), 0.4 (neg), 0.35 (pos), 0.1 (neg); 2 positives, 2 negatives.
    # threshold inf: nothing positive (0, 0); >= 0.8: TP=1 (0, 1/2); >= 0.4: FP=1 (1/2, 1/2);
    # >= 0.35: TP=2 (1/2, 1); >= 0.1: FP=2 (1, 1). AUC = 1/2*1/2 + 1/2*1 = 3/4.
    false_rate, true_rate, thresholds = metrics.roc_curve(
        [1, 1, 2, 2], [0.1, 0.4, 0.35, 0.8], pos_label=2
    )
    np.testing.assert_allclose(false_rate, [0, 0, 0.5, 0.5, 1])
    np.testing.assert_allclose(true_rate, [0, 0.5, 0.5, 1, 1])
    np.testing.assert_allclose(thresholds, [np.inf, 0.8, 0.4, 0.35, 0.1])
    assert metrics.auc(false_rate, true_rate) == pytest.approx(0.75)
    assert metrics.roc_auc_score([1, 1, 2, 2], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    # a tie between a positive and a negative counts one half
    assert metrics.roc_auc_score([0, 1], [0.5, 0.5]) == pytest.approx(0.5)
    assert metrics.auc([1, 0.5, 0], [1, 1, 0]) == pytest.approx(0.75)  # decreasing x


@pytest.mark.parametrize("seed", range(4))
def test_roc_curve_matches_sklearn_with_ties(skm, seed):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, 80)
    y_score = np.round(rng.random(80) + 0.3 * y_true, 1)  # many ties
    weights = rng.random(80)
    weights[::7] = 0.0
    for w in (None, weights):
        for drop in (True, False):
            ours = metrics.roc_curve(y_true, y_score, sample_weight=w, drop_intermediate=drop)
            theirs = skm.roc_curve(y_true, y_score, sample_weight=w, drop_intermediate=drop)
            for a, b in zip(ours, theirs, strict=True):
                np.testing.assert_allclose(a, b)
        assert metrics.roc_auc_score(y_true, y_score, sample_weight=w) == pytest.approx(
            skm.roc_auc_score(y_true, y_score, sample_weight=w)
        )
    words = np.array(["ham", "spam"])[y_true]
    for a, b in zip(
        metrics.roc_curve(words, y_score, pos_label="spam"),
        skm.roc_curve(words, y_score, pos_label="spam"),
        strict=True,
    ):
        np.testing.assert_allclose(a, b)


@quiet
def test_roc_auc_multiclass_and_multilabel_match_sklearn(skm):
    rng = np.random.default_rng(4)
    y_true = rng.integers(0, 4, 90)
    logits = rng.normal(size=(90, 4)) + np.eye(4)[y_true]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    for average in ("macro", "weighted", "micro", None):
        kw = {"multi_class": "ovr", "average": average}
        np.testing.assert_allclose(
            metrics.roc_auc_score(y_true, proba, **kw), skm.roc_auc_score(y_true, proba, **kw)
        )
    for average in ("macro", "weighted"):
        kw = {"multi_class": "ovo", "average": average}
        assert metrics.roc_auc_score(y_true, proba, **kw) == pytest.approx(
            skm.roc_auc_score(y_true, proba, **kw)
        )
    names = np.array(["a", "b", "c", "d"])
    assert metrics.roc_auc_score(names[y_true], proba, multi_class="ovr") == pytest.approx(
        skm.roc_auc_score(names[y_true], proba, multi_class="ovr")
    )
    indicator, scores = rng.integers(0, 2, (50, 3)), rng.random((50, 3))
    w = rng.random(50)
    for average in ("macro", "weighted", "micro", None):
        np.testing.assert_allclose(
            metrics.roc_auc_score(indicator, scores, average=average, sample_weight=w),
            skm.roc_auc_score(indicator, scores, average=average, sample_weight=w),
        )


def test_roc_errors():
    with pytest.raises(ValueError, match=r"y_true takes value in \{1, 2\} and pos_label"):
        metrics.roc_curve([1, 2, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="multi_class must be in"):
        metrics.roc_auc_score([0, 1, 2], np.full((3, 3), 1 / 3))
    with pytest.raises(ValueError, match="should sum up to 1.0"):
        metrics.roc_auc_score([0, 1, 2], np.ones((3, 3)), multi_class="ovr")
    with pytest.raises(ValueError, match=r"one score per sample.*\(3, 2\)"):
        metrics.roc_auc_score([0, 1, 1], np.ones((3, 2)))
    with pytest.raises(ValueError, match="neither increasing nor decreasing"):
        metrics.auc([0, 1, 0.5], [0, 1, 1])


# ---------------------------------------------------------------------------------------------
# Regression
# ---------------------------------------------------------------------------------------------


def test_regression_by_hand():
    y, o = [3, -0.5, 2, 7], [2.5, 0.0, 2, 8]
    # errors 0.5, -0.5, 0, -1: squared 0.25 + 0.25 + 0 + 1 = 1.5; absolute 2.0
    assert metrics.mse(y, o) == metrics.mean_squared_error(y, o) == pytest.approx(1.5 / 4)
    assert metrics.rmse(y, o) == pytest.approx(np.sqrt(1.5 / 4))
    assert metrics.mae(y, o) == pytest.approx(2.0 / 4)
    # mean(y) = 2.875: sum of squared deviations 29.1875; R^2 = 1 - 1.5 / 29.1875
    assert metrics.r2_score(y, o) == pytest.approx(1 - 1.5 / 29.1875)


def test_r2_edge_cases():
    constant = [2.0, 2.0, 2.0]
    assert metrics.r2_score(constant, constant) == 1.0  # perfect fit of a constant
    assert metrics.r2_score(constant, [2.0, 2.0, 2.1]) == 0.0  # instead of -inf
    assert np.isnan(metrics.r2_score(constant, constant, force_finite=False))
    assert metrics.r2_score(constant, [2.0, 2.0, 2.1], force_finite=False) == -np.inf
    with pytest.warns(UndefinedMetricWarning, match="less than two samples"):
        assert np.isnan(metrics.r2_score([1.0], [2.0]))
    # two constant outputs: variance weights are all 0 -> the plain mean
    both_constant = np.ones((3, 2))
    prediction = np.array([[1, 1], [1, 1], [1, 2.0]])
    assert metrics.r2_score(both_constant, prediction, multioutput="variance_weighted") == 0.5


@pytest.mark.filterwarnings(
    "ignore::RuntimeWarning"
)  # scikit-learn's own 1/0 for force_finite=False
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_regression_matches_sklearn(skm, n_outputs):
    rng = np.random.default_rng(n_outputs)
    shape = (25,) if n_outputs == 1 else (25, n_outputs)
    y_true = rng.normal(size=shape) * np.arange(1, n_outputs + 1)
    y_pred = y_true + rng.normal(size=shape)
    if n_outputs > 1:
        y_true[:, 1] = 4.0  # a constant output
    options = ["raw_values", "uniform_average"] + ([[0.2, 0.5, 0.3]] if n_outputs > 1 else [])
    for w in (None, rng.random(25)):
        for multioutput in options:
            kw = {"sample_weight": w, "multioutput": multioutput}
            for name in ("mean_squared_error", "root_mean_squared_error", "mean_absolute_error"):
                np.testing.assert_allclose(
                    getattr(metrics, name)(y_true, y_pred, **kw),
                    getattr(skm, name)(y_true, y_pred, **kw),
                    err_msg=f"{name} {kw}",
                )
        for multioutput in [*options, "variance_weighted"]:
            for force_finite in (True, False):
                kw = {"sample_weight": w, "multioutput": multioutput, "force_finite": force_finite}
                np.testing.assert_allclose(
                    metrics.r2_score(y_true, y_pred, **kw), skm.r2_score(y_true, y_pred, **kw)
                )


def test_regression_errors():
    with pytest.raises(ValueError, match=r"different number of outputs \(2 != 3\)"):
        metrics.mse(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="y_true has 4 and y_pred has 3"):
        metrics.mae(np.zeros(4), np.zeros(3))
    with pytest.raises(ValueError, match="multioutput must be one of"):
        metrics.mse(np.zeros((4, 2)), np.zeros((4, 2)), multioutput="variance_weighted")
    with pytest.raises(ValueError, match="y_pred contains NaN"):
        metrics.r2_score([1.0, 2.0], [1.0, np.nan])
    with pytest.raises(ValueError, match="equally many multioutput weights"):
        metrics.r2_score(np.zeros((4, 2)), np.zeros((4, 2)), multioutput=[1, 2, 3])


# ---------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------


def assert_report_equal(ours, theirs):
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        if isinstance(value, dict):
            assert ours[key] == pytest.approx(value), key
        else:
            assert ours[key] == pytest.approx(value), key


@quiet
def test_classification_report_matches_sklearn(skm):
    y_true, y_pred, weights = random_labels(8, 4)
    y_pred[y_pred == 2] = 1  # class 2 never predicted
    cases = [
        {},
        {"sample_weight": weights, "digits": 4},
        {"target_names": ["a", "bb", "a long class name", "d"]},
        {"labels": [3, 0]},  # a subset: "micro avg" instead of "accuracy"
        {"zero_division": 1.0},
    ]
    for kw in cases:
        assert metrics.classification_report(y_true, y_pred, **kw) == skm.classification_report(
            y_true, y_pred, **kw
        )
        assert_report_equal(
            metrics.classification_report(y_true, y_pred, output_dict=True, **kw),
            skm.classification_report(y_true, y_pred, output_dict=True, **kw),
        )
    assert metrics.classification_report(THREE_TRUE, THREE_PRED, digits=3) == (
        skm.classification_report(THREE_TRUE, THREE_PRED, digits=3)
    )
    indicator_true, indicator_pred = ML_TRUE, ML_PRED
    assert metrics.classification_report(indicator_true, indicator_pred) == (
        skm.classification_report(indicator_true, indicator_pred)
    )
    assert_report_equal(
        metrics.classification_report(indicator_true, indicator_pred, output_dict=True),
        skm.classification_report(indicator_true, indicator_pred, output_dict=True),
    )


def test_course_report_by_hand():
    report = metrics.course_report(THREE_TRUE, THREE_PRED)
    assert list(report) == [
        "cat",
        "dog",
        "fish",
        "accuracy",
        "micro avg",
        "macro avg",
        "weighted avg",
    ]
    assert report["dog"] == pytest.approx(
        {
            "tp": 2,
            "fp": 1,
            "fn": 2,
            "tn": 5,
            "tpr": 2 / 4,
            "fnr": 2 / 4,
            "tnr": 5 / 6,
            "fpr": 1 / 6,
            "ppv": 2 / 3,
            "npv": 5 / 7,
            "f1-score": 4 / 7,
            "support": 4,
        }
    )
    assert report["accuracy"] == pytest.approx(0.7)
    assert report["micro avg"]["tnr"] == pytest.approx(17 / 20)
    for rate, values in THREE_PER_CLASS.items():
        key = {"f1_score": "f1-score"}.get(rate, rate)
        if key in report["macro avg"]:
            assert report["macro avg"][key] == pytest.approx(np.mean(values))
            assert report["weighted avg"][key] == pytest.approx(
                np.average(values, weights=[3, 4, 3])
            )
    multilabel = metrics.course_report(ML_TRUE, ML_PRED, zero_division=0.0)
    assert multilabel["samples avg"]["tpr"] == pytest.approx(2 / 3)
    assert multilabel["accuracy"] == pytest.approx(1 / 3)


def test_printed_tables_show_names_and_numbers(capsys):
    names = ["gato", "perro", "pez"]
    metrics.print_classification_report(THREE_TRUE, THREE_PRED, target_names=names)
    text = capsys.readouterr().out
    for expected in [*names, "precision", "accuracy", "macro avg", "0.67", "0.70", "10"]:
        assert expected in text
    assert re.search(r"perro\s*│\s*0\.67\s*│\s*0\.50\s*│\s*0\.57\s*│\s*4", text)

    buffer = io.StringIO()
    metrics.print_classification_report(THREE_TRUE, THREE_PRED, course=True, file=buffer)
    text = buffer.getvalue()
    for expected in ("TNR", "NPV", "FPR", "FNR", "dog", "0.83", "0.71", "accuracy = 0.70"):
        assert expected in text
    # row of dog: TP FP FN TN = 2 1 2 5, TPR 0.50, FNR 0.50, TNR 0.83, FPR 0.17, PPV 0.67, NPV 0.71
    cells = r"\s*│\s*".join(
        ["dog", "2", "1", "2", "5", "0.50", "0.50", "0.83", "0.17", "0.67", "0.71"]
    )
    assert re.search(cells, text)
    assert "…" not in text  # nothing cut short on a non-terminal

    buffer = io.StringIO()
    metrics.print_confusion_matrix(THREE_TRUE, THREE_PRED, file=buffer)
    text = buffer.getvalue()
    assert re.search(r"dog\s*│\s*1\s*│\s*2\s*│\s*1\s*│\s*0\.50", text)  # row + its TPR
    assert re.search(r"PPV \(column\)\s*│\s*0\.67\s*│\s*0\.67\s*│\s*0\.75", text)


# ---------------------------------------------------------------------------------------------
# Inputs: tensors, scores to labels
# ---------------------------------------------------------------------------------------------


def test_tensors_are_accepted():
    y_true = aprende.tensor(BINARY_TRUE)
    y_pred = aprende.tensor(BINARY_PRED.astype(np.float32), requires_grad=True)
    assert metrics.confusion_matrix(y_true, y_pred).tolist() == [[4, 2], [1, 3]]
    assert metrics.f1_score(y_true, y_pred) == pytest.approx(6 / 9)
    assert metrics.mse(aprende.tensor([1.0, 2.0]), aprende.tensor([1.0, 4.0])) == 2.0


def test_predictions_from_scores():
    np.testing.assert_array_equal(
        metrics.predictions_from_scores([0.2, 0.5, 0.51, 0.9]),
        [0, 0, 1, 1],  # strictly >
    )
    np.testing.assert_array_equal(metrics.predictions_from_scores([[-1.0], [2.0]], 0.0), [0, 1])
    scores = aprende.tensor([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]], requires_grad=True)
    np.testing.assert_array_equal(metrics.predictions_from_scores(scores), [1, 0])
    per_element = np.zeros((2, 3, 4, 5))
    per_element[:, 2, 1, :] = 1.0  # class 2 wins at row 1 of every sample
    labels = metrics.predictions_from_scores(per_element)
    assert labels.shape == (2, 4, 5) and (labels[:, 1] == 2).all() and (labels[:, 0] == 0).all()
    np.testing.assert_array_equal(
        metrics.predictions_from_scores([[0.9, 0.2], [0.6, 0.7]], multilabel=True),
        [[1, 0], [1, 1]],
    )


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: metrics.accuracy_score([0, 1, 1], [0, 1]), "y_true has 3 and y_pred has 2"),
        (lambda: metrics.confusion_matrix([], []), "empty input"),
        (
            lambda: metrics.f1_score([0, 1, 2], [0, 1, 1]),
            "Target is multiclass but average='binary'",
        ),
        (lambda: metrics.precision_score([0, 1], [0.5, 0.7]), "mix of binary.*and continuous"),
        (
            lambda: metrics.recall_score([0.5, 1.5], [0.5, 1.5]),
            "continuous targets are not supported",
        ),
        (
            lambda: metrics.accuracy_score(np.zeros((2, 3, 3)), np.zeros((2, 3, 3))),
            "pixel_accuracy",
        ),
        (lambda: metrics.accuracy_score([[0, 1], [1, 1]], [0, 1]), "mix of multilabel-indicator"),
        (lambda: metrics.accuracy_score(["a", "b"], [0, 1]), "mix of label input types"),
        (lambda: metrics.tnr([0, 1], [0, 1], average="mean"), "average has to be one of"),
        (lambda: metrics.ppv([0, 1], [0, 1], zero_division=0.5), "zero_division must be"),
        (
            lambda: metrics.tpr([1, 2], [1, 2], pos_label=0),
            r"pos_label=0 is not a valid label.*\[1, 2\]",
        ),
        (lambda: metrics.confusion_matrix([0, 1], [0, 1], labels=[5]), "at least one label"),
        (lambda: metrics.npv([0, 1, 2], [0, 1, 1], average="samples"), "not available outside"),
        (
            lambda: metrics.hamming_loss(np.eye(3), np.eye(3)[:, :2]),
            r"different shapes \(3, 3\) and \(3, 2\)",
        ),
        (
            lambda: metrics.accuracy_score([0, 1], [0, 1], sample_weight=[1.0]),
            r"one weight per sample, shape \(2,\)",
        ),
        (
            lambda: metrics.confusion_matrix([0, 1], [0, 1], normalize="rows"),
            "normalize must be one of",
        ),
        (
            lambda: metrics.classification_report([0, 1], [0, 1], target_names=["a"]),
            "does not match size of target_names",
        ),
        (lambda: metrics.f1_score([0, np.nan], [0, 1]), "y_true contains NaN"),
    ],
)
def test_errors_are_clear(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_pos_label_ignored_warning_and_confusion_counts_averages():
    with pytest.warns(UserWarning, match="pos_label .* is ignored"):
        metrics.recall_score([0, 1, 2], [0, 1, 2], average="macro", pos_label=2)
    with pytest.raises(ValueError, match="average has to be one of"):
        metrics.confusion_counts([0, 1], [0, 1], average="macro")
