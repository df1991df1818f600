"""scikit-learn estimators over aprende networks: ``MLPClassifier`` and ``MLPRegressor``.

They take ``sklearn.neural_network``'s parameter names and work wherever an estimator does
(``Pipeline``, ``GridSearchCV``, ``cross_val_score``, ``clone``, pickle). Needs scikit-learn
(``pip install 'aprende[sklearn]'``).
"""

from aprende.sklearn.classifier import MLPClassifier
from aprende.sklearn.regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
