"""Model files: NumPy arrays plus JSON metadata in one .npz archive.

Layout (format version 1): ``meta`` is a JSON string with ``format``
("zipml-hls-model"), ``format_version``, ``estimator`` (class name), ``params``
(get_params), ``n_features``, ``n_iter``, ``step_shift``, ``seed``, ``final_eta`` and ``loss_curve``;
arrays ``models`` (T, d+1: scaled-space weights then intercept, one row per target),
``lo``, ``hi``, ``inv`` (feature scaling, float32), ``label_center``, ``label_scale`` (T,)
and, for classifiers, ``classes``. Files are written atomically (temporary file, then
rename) and loading checks the format, the version and every shape.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from .conditioning import Conditioning, level_unit
from .data import atomic_write_bytes
from .linear_model import ZipMLClassifier, ZipMLRegressor
from .scaling import FeatureScaling, LabelScaling
from .spec.losses import LOSSES

FORMAT = "zipml-hls-model"
FORMAT_VERSION = 1
_ESTIMATORS = {"ZipMLRegressor": ZipMLRegressor, "ZipMLClassifier": ZipMLClassifier}


class ModelFileError(ValueError):
    """A model file that is not one this version can read."""


def _json_params(est) -> dict:
    params = est.get_params()
    if not isinstance(params.get("random_state"), (int, type(None))):
        params["random_state"] = None  # RNG objects are not stored; the seed used is
    return params


def save_model(est, path) -> None:
    """Write a fitted estimator to ``path`` atomically."""
    if type(est).__name__ not in _ESTIMATORS or not hasattr(est, "coef_"):
        raise TypeError(f"can only save fitted ZipMLRegressor / ZipMLClassifier, got {type(est).__name__}")
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "estimator": type(est).__name__,
            "params": _json_params(est), "n_features": int(est.n_features_in_), "n_iter": int(est.n_iter_),
            "step_shift": int(est._step_shift), "seed": int(est._seed), "loss_curve": list(est.loss_curve_),
            "saturations": list(est.saturations_), "refetch_fraction": list(est.refetch_fraction_),
            "final_eta": float(getattr(est, "final_eta_", 2.0 ** -est._step_shift))}
    arrays = {"models": est._models, "lo": est.scaling_.lo, "hi": est.scaling_.hi, "inv": est.scaling_.inv,
              "label_center": np.array([ls.center for ls in est._label_scalings]),
              "label_scale": np.array([ls.scale for ls in est._label_scalings])}
    if est._conditioning is not None:
        arrays["centers"] = est._conditioning.centers
        arrays["feature_shifts"] = est._conditioning.shifts
    if est._stored_variance is not None:
        arrays["stored_variance"] = est._stored_variance
    if isinstance(est, ZipMLClassifier):
        classes = np.asarray(est.classes_)
        if classes.dtype == object:
            raise TypeError("cannot save class labels of dtype object; use numbers or strings")
        arrays["classes"] = classes
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(json.dumps(meta)), **arrays)
    atomic_write_bytes(path, buf.getvalue())


def load_model(path):
    """Read a model written by :func:`save_model`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (ValueError, OSError) as exc:
        raise ModelFileError(f"{path}: not a zipml-hls model file ({exc})") from None
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except (KeyError, json.JSONDecodeError):
        raise ModelFileError(f"{path}: not a zipml-hls model file (no metadata)") from None
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a zipml-hls model file")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{path}: model format version {meta.get('format_version')!r}; this zipml-hls reads "
                             f"version {FORMAT_VERSION}")
    cls = _ESTIMATORS.get(meta.get("estimator"))
    if cls is None:
        raise ModelFileError(f"{path}: unknown estimator {meta.get('estimator')!r}")
    d = meta["n_features"]
    models = arrays.get("models")
    if models is None or models.ndim != 2 or models.shape[1] != d + 1:
        raise ModelFileError(f"{path}: models array does not match {d} features")
    t = models.shape[0]
    expect = {"lo": (d,), "hi": (d,), "inv": (d,), "label_center": (t,), "label_scale": (t,)}
    for name, shape in expect.items():
        if name not in arrays or arrays[name].shape != shape:
            raise ModelFileError(f"{path}: array {name!r} missing or not of shape {shape}")
    est = cls(**meta["params"])
    est.scaling_ = FeatureScaling(lo=arrays["lo"].astype(np.float32), hi=arrays["hi"].astype(np.float32),
                                  inv=arrays["inv"].astype(np.float32))
    est._label_scalings = [LabelScaling(float(c), float(s)) for c, s in zip(arrays["label_center"],
                                                                            arrays["label_scale"])]
    est._models = models.astype(np.float64)
    est._step_shift, est._seed = meta["step_shift"], meta["seed"]
    shifts, centers = arrays.get("feature_shifts"), arrays.get("centers")
    est._conditioning = None
    est.validation_loss_curve_ = []  # held-out losses are not stored
    # files written before conditioning existed have no 'precondition' parameter: unconditioned
    spec = LOSSES.get(est._loss_name)
    conditioned = (bool(meta["params"].get("precondition", False)) and spec is not None and spec.kernel == "linear"
                   and est.levels == "uniform")
    if conditioned and (shifts is None or centers is None):
        raise ModelFileError(f"{path}: a model trained with precondition=True needs its 'centers' and "
                             "'feature_shifts' arrays")
    if not conditioned and (shifts is not None or centers is not None):
        raise ModelFileError(f"{path}: 'centers' and 'feature_shifts' in a model trained without conditioning")
    if shifts is not None or centers is not None:
        if shifts is None or shifts.shape != (d,) or shifts.dtype != np.uint8 or shifts.max(initial=0) > 15:
            raise ModelFileError(f"{path}: array 'feature_shifts' is not {d} exponents in [0, 15]")
        if (centers is None or centers.dtype.kind != "f" or centers.shape != (d,)
                or not np.all((centers >= 0) & (centers <= 1))):
            raise ModelFileError(f"{path}: array 'centers' is not {d} centers in [0, 1]")
        unit = level_unit(int(est.bits))
        if unit is not None and not np.allclose(centers * unit, np.rint(centers * unit), rtol=0, atol=1e-9):
            raise ModelFileError(f"{path}: array 'centers' is not on the {est.bits}-bit level grid")
        est._conditioning = Conditioning(centers=centers.astype(np.float64), shifts=shifts)
    # double data's stored-rounding correction, for partial_fit (files written before it have none: no correction)
    variance = arrays.get("stored_variance")
    if variance is not None and (variance.shape != (d,) or variance.dtype.kind != "f"
                                 or not np.all((variance >= 0) & (variance <= 1 / 64))):
        raise ModelFileError(f"{path}: array 'stored_variance' is not {d} variances in [0, 1/64]")
    est._stored_variance = None if variance is None else variance.astype(np.float64)
    est.eta_ = 2.0 ** -est._step_shift
    est.final_eta_ = float(meta.get("final_eta", est.eta_))
    est.n_iter_, est.loss_curve_ = meta["n_iter"], list(meta["loss_curve"])
    # files written before these curves existed have none
    est.saturations_ = list(meta.get("saturations", []))
    est.refetch_fraction_ = list(meta.get("refetch_fraction", []))
    est.n_features_in_ = d
    if cls is ZipMLClassifier:
        if "classes" not in arrays:
            raise ModelFileError(f"{path}: classifier without classes")
        est._set_classes(arrays["classes"])
        if (1 if len(est.classes_) == 2 else len(est.classes_)) != t:
            raise ModelFileError(f"{path}: {t} models for {len(est.classes_)} classes")
    est._set_coef()
    return est
