"""How a model is judged: the confusion matrix and every metric of the course.

Names, signatures and results follow scikit-learn (``sklearn.metrics``) wherever it has the
metric; the slides' rates it lacks (FNR, TNR, FPR, NPV) follow the same conventions.
Inputs may be lists, NumPy arrays or ``aprende.Tensor`` objects; predictions are labels, not
scores (``predictions_from_scores`` turns scores into labels).

The binary confusion matrix of the slides, rows = true class, columns = predicted class::

                     predicted P        predicted N
    true P (P=TP+FN)     TP                 FN (miss, type II)      -> TPR = TP/P, FNR = FN/P
    true N (N=FP+TN)     FP (false alarm)   TN                      -> TNR = TN/N, FPR = FP/N
                          |                  |
                   PPV = TP/(TP+FP)   NPV = TN/(TN+FN)

Read by row (what happened to the examples of a true class) you get TPR = 1 - FNR and
TNR = 1 - FPR; read by column (how trustworthy a prediction is) you get PPV and NPV.
ACC = (TP + TN) / (P + N). With C classes each class is, in turn, the positive class against
the rest ("one-vs-rest"), giving per-class TP, FP, FN, TN and per-class rates, which
``average=`` combines: "macro" (plain mean over classes), "weighted" (mean weighted by the
class support TP + FN), "micro" (rates of the summed counts) or None (one value per class).

Zero divisions (a class never predicted, never present) never raise: the value is
``zero_division`` (0.0 by default, with an ``UndefinedMetricWarning``, as scikit-learn's
``"warn"``).

The modules follow scikit-learn's split: ``confusion`` (the confusion matrix and its counts),
``rates`` (precision, recall, the slides' other rates, F-beta, Jaccard, accuracy), ``roc``
(metrics of scores: ROC curve, AUC), ``segmentation`` (a class per pixel: IoU), ``regression``
(MSE, MAE, R^2) and ``tables`` (classification reports, printed tables); every public name is
importable from ``aprende.metrics`` itself.
"""

from aprende.metrics._checks import UndefinedMetricWarning
from aprende.metrics.confusion import (
    ConfusionCounts,
    confusion_counts,
    confusion_matrix,
    false_negatives,
    false_positives,
    multilabel_confusion_matrix,
    true_negatives,
    true_positives,
)
from aprende.metrics.rates import (
    accuracy,
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    false_alarm_rate,
    fbeta_score,
    fnr,
    fpr,
    hamming_loss,
    jaccard_score,
    miss_rate,
    npv,
    ppv,
    precision,
    precision_recall_fscore_support,
    precision_score,
    recall,
    recall_score,
    sensitivity,
    specificity,
    tnr,
    tpr,
)
from aprende.metrics.regression import (
    mae,
    mean_absolute_error,
    mean_squared_error,
    mse,
    r2_score,
    rmse,
    root_mean_squared_error,
)
from aprende.metrics.roc import auc, predictions_from_scores, roc_auc_score, roc_curve
from aprende.metrics.segmentation import mean_iou, per_class_iou, pixel_accuracy
from aprende.metrics.tables import (
    classification_report,
    course_report,
    print_classification_report,
    print_confusion_matrix,
)

__all__ = [
    "UndefinedMetricWarning",
    "ConfusionCounts",
    "confusion_matrix",
    "multilabel_confusion_matrix",
    "confusion_counts",
    "true_positives",
    "false_positives",
    "false_negatives",
    "true_negatives",
    "precision_recall_fscore_support",
    "precision_score",
    "recall_score",
    "f1_score",
    "fbeta_score",
    "tpr",
    "sensitivity",
    "recall",
    "fnr",
    "miss_rate",
    "tnr",
    "specificity",
    "fpr",
    "false_alarm_rate",
    "ppv",
    "precision",
    "npv",
    "jaccard_score",
    "accuracy_score",
    "accuracy",
    "balanced_accuracy_score",
    "hamming_loss",
    "pixel_accuracy",
    "per_class_iou",
    "mean_iou",
    "roc_curve",
    "auc",
    "roc_auc_score",
    "mean_squared_error",
    "mse",
    "root_mean_squared_error",
    "rmse",
    "mean_absolute_error",
    "mae",
    "r2_score",
    "classification_report",
    "course_report",
    "print_classification_report",
    "print_confusion_matrix",
    "predictions_from_scores",
]
