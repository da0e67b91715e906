"""scikit-learn's estimator checks over every public estimator of the package.

Estimators are discovered automatically (:func:`sklearn_musemb.utils.discovery.
all_estimators`), so a new estimator is checked without anyone listing it here.
Neural estimators are made light for the checks through their ordinary
parameters (few epochs, small layers), never through a different code path.
"""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks
from skorch import NeuralNet

from sklearn_musemb.embedders import UnitEmbedder
from sklearn_musemb.utils.discovery import all_estimators

#: Parameters that make a neural estimator quick; applied where the estimator has
#: them (``module__*`` parameters are always accepted by skorch nets).
LIGHT_PARAMS = {
    "max_epochs": 2,
    "batch_size": 16,
    "random_state": 0,
    "verbose": 0,
    "module__hidden_dim": 16,
    "module__event_channels": 4,
}

#: Checks that cannot pass for a skorch-based estimator, with the reason.
SKORCH_EXPECTED_FAILURES = {
    "check_no_attributes_set_in_init": (
        "skorch's NeuralNet.__init__ sets history_, initialized_ and "
        "virtual_params_ (skorch design, not ours)"
    ),
    "check_do_not_raise_errors_in_init_or_set_params": (
        "skorch's set_params validates and re-initialises callbacks, module and "
        "optimizer at once, so nonsense values raise there rather than in fit"
    ),
}


def light(estimator):
    params = estimator.get_params(deep=False)
    names = set(params)
    update = {
        key: value
        for key, value in LIGHT_PARAMS.items()
        if key in names
        or (isinstance(estimator, NeuralNet) and key.startswith("module__"))
    }
    return estimator.set_params(**update)


#: sklearn's generic check data has 3 or 5 columns; a flat note-unit array needs
#: (pitch, interval) pairs, so the embedders reject odd widths with a clear
#: ValueError. tests/test_embedder_contract.py asserts the same properties on
#: even-width data instead.
ODD_WIDTH_REASON = (
    "sklearn's check data has an odd number of columns; note-unit embedders need "
    "(pitch, interval) pairs and raise ValueError; the property is tested in "
    "test_embedder_contract.py on even-width units"
)
ODD_WIDTH_CHECKS = [
    "check_dict_unchanged",
    "check_dont_overwrite_parameters",
    "check_estimators_dtypes",
    "check_estimators_nan_inf",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_fit2d_predict1d",
    "check_fit_score_takes_y",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_pipeline_consistency",
    "check_transformer_data_not_an_array",
    "check_transformer_general",
    "check_transformer_preserve_dtypes",
]


def expected_failed_checks(estimator):
    failures = {}
    if isinstance(estimator, NeuralNet):
        failures.update(SKORCH_EXPECTED_FAILURES)
    if isinstance(estimator, UnitEmbedder):
        failures.update(dict.fromkeys(ODD_WIDTH_CHECKS, ODD_WIDTH_REASON))
    return failures


ESTIMATORS = [light(cls()) for _, cls in all_estimators()]


def test_discovery_finds_the_embedders():
    names = {name for name, _ in all_estimators()}
    assert {"AdjDEmbedder"} <= names
    assert "UnitEmbedder" not in names


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


#: Estimators that only take :class:`~sklearn_musemb.units.Units` (they need piece
#: ids to keep augmented copies apart), so sklearn's array-based checks do not apply;
#: they declare ``input_tags.two_d_array=False`` and sklearn runs only its API
#: checks on them. Their behaviour is tested in test_units_split_augment.py.
UNITS_ONLY = {
    "Transposer": "adds 12 copies per row with new variant ids: needs Units",
    "TempoScaler": "draws one tempo factor per (piece, variant): needs Units",
}


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_estimators_skipping_array_checks_are_listed(estimator):
    from sklearn.utils import get_tags

    takes_arrays = get_tags(estimator).input_tags.two_d_array
    assert takes_arrays != (type(estimator).__name__ in UNITS_ONLY)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_expected_failures_are_listed_with_a_reason(estimator):
    for name, reason in expected_failed_checks(estimator).items():
        assert name.startswith("check_") and len(reason) > 20
