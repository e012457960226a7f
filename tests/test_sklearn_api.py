"""Both estimators pass scikit-learn's estimator checks."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from zipml_hls import ZipMLClassifier, ZipMLRegressor


@parametrize_with_checks([ZipMLRegressor(random_state=0), ZipMLClassifier(random_state=0),
                          ZipMLRegressor(bits=4, random_state=0), ZipMLClassifier(bits=32, random_state=0),
                          ZipMLClassifier(loss="hinge", bits=4, random_state=0),
                          ZipMLClassifier(loss="log_loss", decay_epochs=5, max_iter=30, random_state=0),
                          ZipMLClassifier(loss="squared_hinge", bits=4, random_state=0),
                          ZipMLRegressor(model_bits=8, grad_bits=8, random_state=0)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
