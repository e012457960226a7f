"""Model files: NumPy arrays plus JSON metadata in one .npz archive.

Layout (format version 1): ``meta`` is a JSON string with ``format``
("zipml-hls-model"), ``format_version``, ``estimator`` (class name), ``params``
(get_params), ``n_features``, ``n_iter``, ``step_shift``, ``seed``, ``final_eta``, ``loss_curve``,
``weight_gain`` (the power of two the fit scaled sample weights by; 1 without), after an
adaptive-schedule fit or partial_fit ``schedule`` (its step exponent and counts, which
partial_fit goes on with: ``AdaptiveSchedule.state``), and,
for a regressor fitted on 2-D y, ``multi_output`` (true);
arrays ``models`` (T, d+1: scaled-space weights then intercept, one row per target),
``lo``, ``hi``, ``inv`` (feature scaling, float32), ``label_center``, ``label_scale`` (T,)
and, for classifiers, ``classes``; for a model fitted on a DataFrame, ``feature_names``
(d strings, ``feature_names_in_``); with ``average_epochs``, ``recent_models`` (k, T, d+1:
the models of the last k epochs at the final step, whose mean is ``coef_``; ``models``
stays the last models, which training continues from) and ``meta["recent_shift"]`` (that
step's exponent); ``meta["data_format"]`` (optional) says how the command line read the
training file: ``zero_based`` (LIBSVM), ``label_column`` (CSV: a number or a header's
name) and ``feature_names`` (CSV with a header: the d feature columns' names), which
``zipml-hls predict`` reads its data by; ``meta`` also holds ``checksum``, the SHA-256 of the
arrays (:func:`_checksum`; files written before it have none). Files are written atomically
(temporary file, then rename); loading checks the archive, the checksum, the format, the
version, the metadata's fields and every array, and turns whatever is wrong into one
:class:`ModelFileError` naming the file.
"""

from __future__ import annotations

import hashlib
import io
import json
import numbers
from pathlib import Path

import numpy as np

from .conditioning import Conditioning, level_unit
from .data import atomic_write_bytes, read_npz
from .linear_model import ZipMLClassifier, ZipMLRegressor
from .quantize import valid_names
from .scaling import FeatureScaling, LabelScaling
from .spec.losses import LOSSES
from .step_size import AdaptiveSchedule

FORMAT = "zipml-hls-model"
FORMAT_VERSION = 1
_ESTIMATORS = {"ZipMLRegressor": ZipMLRegressor, "ZipMLClassifier": ZipMLClassifier}


class ModelFileError(ValueError):
    """A model file that is not one this version can read."""


def _json_params(est) -> dict:
    # NumPy scalars (bits=np.int64(4), eta0=np.float32(0.1)) as the plain numbers they stand for
    params = {k: v.item() if isinstance(v, np.generic) else v for k, v in est.get_params().items()}
    if not isinstance(params.get("random_state"), (int, type(None))):
        params["random_state"] = None  # RNG objects are not stored; the seed used is
    if params.get("feature_range") is not None:  # two arrays as two lists of numbers
        params["feature_range"] = [np.asarray(a, dtype=np.float64).tolist() for a in params["feature_range"]]
    if isinstance(params.get("class_weight"), dict):  # JSON keys are strings: [class, weight] pairs keep them
        params["class_weight"] = [[k.item() if isinstance(k, np.generic) else k, float(v)]
                                  for k, v in params["class_weight"].items()]
    return params


def _checksum(arrays: dict) -> str:
    """SHA-256 over every array's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def save_model(est, path, data_format: dict | None = None) -> None:
    """Write a fitted estimator to ``path`` atomically (an ``average_epochs`` assigned since
    the fit first moves ``coef_``, as ``set_params`` does); ``data_format``: how its training
    file was read, for predict to read its data alike ({'zero_based': bool} for LIBSVM,
    {'label_column': int or name, 'label_index': its place, 'feature_names': list of str} for
    CSV)."""
    if type(est).__name__ not in _ESTIMATORS or not hasattr(est, "coef_"):
        raise TypeError(f"can only save fitted ZipMLRegressor / ZipMLClassifier, got {type(est).__name__}")
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "estimator": type(est).__name__,
            "params": _json_params(est), "n_features": int(est.n_features_in_), "n_iter": int(est.n_iter_),
            "step_shift": int(est._step_shift), "seed": int(est._seed), "loss_curve": list(est.loss_curve_),
            "saturations": list(est.saturations_), "refetch_fraction": list(est.refetch_fraction_),
            "final_eta": float(getattr(est, "final_eta_", 2.0 ** -est._step_shift)),
            "n_clipped": int(getattr(est, "n_clipped_", 0)), "weight_gain": float(getattr(est, "_weight_gain", 1.0))}
    if data_format:
        meta["data_format"] = {k: bool(v) if k == "zero_based" else v for k, v in data_format.items()
                               if k in ("zero_based", "label_column", "label_index", "feature_names")}
    if getattr(est, "_multi_target", False):
        meta["multi_output"] = True
    if getattr(est, "_schedule", None) is not None:  # the adaptive schedule partial_fit goes on with
        meta["schedule"] = est._schedule.state()
    arrays = {"models": est._models, "lo": est.scaling_.lo, "hi": est.scaling_.hi, "inv": est.scaling_.inv,
              "label_center": np.array([ls.center for ls in est._label_scalings]),
              "label_scale": np.array([ls.scale for ls in est._label_scalings])}
    if est._conditioning is not None:
        arrays["centers"] = est._conditioning.centers
        arrays["feature_shifts"] = est._conditioning.shifts
    if est._stored_variance is not None:
        arrays["stored_variance"] = est._stored_variance
    if hasattr(est, "feature_names_in_"):  # fitted on a DataFrame: predict checks its columns by name
        arrays["feature_names"] = np.asarray(est.feature_names_in_, dtype=str)
    if len(est._averaged_models()) != getattr(est, "_n_averaged", 0):  # average_epochs assigned since coef_
        est._set_coef()  # as set_params would have: coef_ follows it, and the file agrees with coef_
    recent = est._averaged_models()
    if recent:
        arrays["recent_models"] = np.stack(recent)
        meta["recent_shift"] = int(est._recent_shift)
    if isinstance(est, ZipMLClassifier):
        classes = np.asarray(est.classes_)
        if classes.dtype == object:
            raise TypeError("cannot save class labels of dtype object; use numbers or strings")
        arrays["classes"] = classes
    meta["checksum"] = _checksum(arrays)
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(json.dumps(meta)), **arrays)
    atomic_write_bytes(path, buf.getvalue())


def _label_index_ok(index, n_features) -> bool:
    """A CSV training file's label place: an integer in [0, n_features]."""
    return isinstance(index, numbers.Integral) and not isinstance(index, bool) and 0 <= index <= n_features


def load_model(path):
    """Read a model written by :func:`save_model`; a damaged or foreign file raises
    :class:`ModelFileError` (a ValueError) that names it and what is wrong."""
    return load_model_and_format(path)[0]


def load_model_and_format(path):
    """(estimator, data_format) of a model file: ``data_format`` as given to
    :func:`save_model` ({'zero_based': bool}, {'label_column': int or name} and/or
    {'feature_names': list of str}), or None
    when the file has none."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    arrays = read_npz(path, error=ModelFileError, what="a zipml-hls model file")
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except (KeyError, ValueError):  # no metadata, or not JSON
        raise ModelFileError(f"{path}: not a zipml-hls model file (no metadata)") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a zipml-hls model file")
    if type(meta.get("format_version")) is not int or meta["format_version"] != FORMAT_VERSION:
        raise ModelFileError(f"{path}: model format version {meta.get('format_version')!r}; this zipml-hls reads "
                             f"version {FORMAT_VERSION}")
    if "checksum" in meta and meta["checksum"] != _checksum(arrays):
        raise ModelFileError(f"{path}: checksum mismatch: the file is damaged")
    _check_meta(meta, path)
    try:
        return _build(meta, arrays, path), meta.get("data_format")
    except ModelFileError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        # what the field checks do not cover, e.g. a parameter value the estimator refuses
        raise ModelFileError(f"{path}: not a valid zipml-hls model ({type(exc).__name__}: {exc})") from None


#: The metadata's fields: name -> (types, check, what it must be).
_META_FIELDS = {
    "estimator": (str, lambda v: v in _ESTIMATORS, f"one of {sorted(_ESTIMATORS)}"),
    "params": (dict, lambda v: all(isinstance(k, str) for k in v), "an object of estimator parameters"),
    "n_features": (numbers.Integral, lambda v: 1 <= v <= 1 << 31, "an integer >= 1"),
    "n_iter": (numbers.Integral, lambda v: 0 <= v < 1 << 62, "an integer in [0, 2**62)"),
    "step_shift": (numbers.Integral, lambda v: 0 <= v <= 64, "an integer in [0, 64]"),
    "seed": (numbers.Integral, lambda v: 0 <= v < 1 << 32, "an integer in [0, 2**32)"),
    "loss_curve": (list, lambda v: all(_json_number(x) for x in v), "a list of numbers"),
}


def _json_number(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _schedule_ok(state) -> bool:
    """Whether ``state`` is an AdaptiveSchedule's ``state()``."""
    def count(v, top=1 << 62):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool) and 0 <= v <= top

    keys = set(AdaptiveSchedule.STATE)
    return (isinstance(state, dict) and keys - AdaptiveSchedule.OPTIONAL <= set(state) <= keys
            and count(state["shift"], 64)
            and _json_number(state["floor"]) and 0 <= state["floor"] < float("inf")
            and all(state.get(k) is None or (_json_number(state[k]) and np.isfinite(state[k]))
                    for k in ("best", "lowest", "previous"))
            and (state.get("previous") is None or state["previous"] >= 0)
            and all(count(state[k]) for k in ("stale", "halvings", "since", "flat"))
            and count(state.get("fast", 0)) and count(state.get("raises", 0), 64) and count(state.get("falling", 0))
            and isinstance(state.get("persistent", False), bool)
            and count(state.get("max_halvings", 0), 128) and count(state.get("halve_every", 1), 1 << 20)
            and state.get("halve_every", 1) >= 1 and count(state.get("window_rows", 0))
            and all(_json_number(state.get(k, 0.0)) and 0 <= state.get(k, 0.0) < float("inf")
                    for k in ("window_total", "window_squares")))


def _check_meta(meta: dict, path: Path) -> None:
    for name, (types, check, what) in _META_FIELDS.items():
        value = meta.get(name)
        if isinstance(value, bool) or not isinstance(value, types) or not check(value):
            raise ModelFileError(f"{path}: metadata field {name!r} must be {what}, got {value!r:.80}")
    for name in ("saturations", "refetch_fraction"):  # optional: older files have none
        value = meta.get(name, [])
        if not isinstance(value, list) or not all(_json_number(x) for x in value):
            raise ModelFileError(f"{path}: metadata field {name!r} must be a list of numbers")
    if "final_eta" in meta and (not _json_number(meta["final_eta"]) or not 0 < meta["final_eta"] < float("inf")):
        raise ModelFileError(f"{path}: metadata field 'final_eta' must be a positive finite number")
    if "schedule" in meta and not _schedule_ok(meta["schedule"]):  # optional: older files have none
        raise ModelFileError(f"{path}: metadata field 'schedule' must be an object of {', '.join(AdaptiveSchedule.STATE)}"
                             ": shift an integer in [0, 64], floor a finite number >= 0, best and lowest finite "
                             "numbers or null, the counts integers >= 0; max_halvings (in [0, 128]), raises (in "
                             "[0, 64]), halve_every (in [1, 2^20]), fast and previous (a finite number >= 0 or "
                             "null), window_rows (an integer >= 0), window_total and window_squares (finite "
                             "numbers >= 0) may be left out")
    data_format = meta.get("data_format", {})  # optional, as are its fields
    column = data_format.get("label_column", 0) if isinstance(data_format, dict) else None
    names = data_format.get("feature_names", []) if isinstance(data_format, dict) else None
    if (not isinstance(data_format, dict) or not isinstance(data_format.get("zero_based", False), bool)
            or isinstance(column, bool) or not isinstance(column, (int, str))
            or (isinstance(column, int) and not -(1 << 31) <= column < 1 << 31)
            or (isinstance(column, str) and not column.strip())
            or not isinstance(names, list) or valid_names(names) is None
            or ("feature_names" in data_format and len(names) != meta["n_features"])
            or not _label_index_ok(data_format.get("label_index", 0), meta["n_features"])):
        raise ModelFileError(f"{path}: metadata field 'data_format' must be an object with an optional boolean "
                             "'zero_based', an optional 'label_column' (an integer or a column name), an optional "
                             "'label_index' (its place in [0, n_features]) and optional 'feature_names' "
                             "(n_features distinct names)")
    if not isinstance(meta.get("multi_output", False), bool):  # optional: single-target models have none
        raise ModelFileError(f"{path}: metadata field 'multi_output' must be a boolean")
    gain = meta.get("weight_gain", 1.0)  # optional: older files have none
    if not _json_number(gain) or not 2.0**-64 <= gain <= 2.0**64 or np.log2(gain) % 1.0:
        raise ModelFileError(f"{path}: metadata field 'weight_gain' must be a power of two in [2^-64, 2^64]")
    clipped = meta.get("n_clipped", 0)  # optional: older files have none
    if isinstance(clipped, bool) or not isinstance(clipped, numbers.Integral) or not 0 <= clipped < 1 << 62:
        raise ModelFileError(f"{path}: metadata field 'n_clipped' must be an integer in [0, 2**62)")


def _build(meta: dict, arrays: dict, path: Path):
    """The estimator of checked metadata and the file's arrays (each array checked here)."""
    cls = _ESTIMATORS[meta["estimator"]]
    d = meta["n_features"]
    models = arrays.get("models")
    if models is None or models.ndim != 2 or models.shape[1] != d + 1 or models.dtype.kind != "f":
        raise ModelFileError(f"{path}: models array does not match {d} features")
    t = models.shape[0]
    expect = {"lo": (d,), "hi": (d,), "inv": (d,), "label_center": (t,), "label_scale": (t,)}
    for name, shape in expect.items():
        if name not in arrays or arrays[name].shape != shape or arrays[name].dtype.kind != "f":
            raise ModelFileError(f"{path}: array {name!r} missing or not of shape {shape}")
    recent = arrays.get("recent_models")
    if recent is not None:
        k = meta["params"].get("average_epochs")
        if (recent.ndim != 3 or recent.shape[1:] != models.shape or recent.dtype.kind != "f"
                or isinstance(k, bool) or not isinstance(k, int) or not 1 <= recent.shape[0] <= k):
            raise ModelFileError(f"{path}: array 'recent_models' is not 1 to average_epochs ({k!r:.20}) models "
                                 f"of shape {models.shape}")
        shift = meta.get("recent_shift")
        types, check, what = _META_FIELDS["step_shift"]  # the same range as the step's own exponent
        if isinstance(shift, bool) or not isinstance(shift, types) or not check(shift):
            raise ModelFileError(f"{path}: metadata field 'recent_shift' must be {what} "
                                 f"beside 'recent_models', got {shift!r:.40}")
    for name in ("models", "lo", "hi", "inv", "label_center", "label_scale") + (() if recent is None else
                                                                                ("recent_models",)):
        if not np.isfinite(arrays[name]).all():
            raise ModelFileError(f"{path}: array {name!r} contains NaN or infinity")
    if not np.all(arrays["label_scale"] > 0):
        raise ModelFileError(f"{path}: array 'label_scale' must be positive")
    multi_output = meta.get("multi_output", False)
    if cls is ZipMLRegressor and t != 1 and not multi_output:
        raise ModelFileError(f"{path}: a regressor has one model, the file has {t} (and no 'multi_output')")
    if multi_output and cls is not ZipMLRegressor:
        raise ModelFileError(f"{path}: 'multi_output' applies to a regressor")
    params = dict(meta["params"])
    if isinstance(params.get("class_weight"), list):  # [class, weight] pairs (_json_params)
        params["class_weight"] = {k: v for k, v in params["class_weight"]}
    if params.get("bits") == 32 and params.get("levels") == "optimal":
        params["levels"] = "uniform"  # (files written before that was refused: 32-bit fits read no levels)
    est = cls(**params)
    est._check_params()
    est.scaling_ = FeatureScaling(lo=arrays["lo"].astype(np.float32), hi=arrays["hi"].astype(np.float32),
                                  inv=arrays["inv"].astype(np.float32))
    try:
        est.scaling_.check(d)
    except ValueError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    est._label_scalings = [LabelScaling(float(c), float(s)) for c, s in zip(arrays["label_center"],
                                                                            arrays["label_scale"])]
    est._models = models.astype(np.float64)
    est._step_shift, est._seed = meta["step_shift"], meta["seed"]
    shifts, centers = arrays.get("feature_shifts"), arrays.get("centers")
    est._conditioning = None
    est.validation_loss_curve_ = []  # held-out losses are not stored
    # files written before conditioning existed have no 'precondition' parameter: unconditioned;
    # a model without intercept is centred at x = 0 (with or without preconditioning)
    spec = LOSSES.get(est._loss_name)
    conditioned = (bool(meta["params"].get("precondition", False)) and spec is not None) or not est.fit_intercept
    if (conditioned and est.fit_intercept and (spec.kernel == "polynomial" or est.levels == "optimal")
            and shifts is None and centers is None):
        # log_loss files written before its kernel had conditioning, and optimal-level files
        # written before level tables had it, were trained without
        conditioned = False
    if conditioned and (shifts is None or centers is None):
        raise ModelFileError(f"{path}: a model trained with precondition=True or fit_intercept=False needs its "
                             "'centers' and 'feature_shifts' arrays")
    if not conditioned and (shifts is not None or centers is not None):
        raise ModelFileError(f"{path}: 'centers' and 'feature_shifts' in a model trained without conditioning")
    if shifts is not None or centers is not None:
        if shifts is None or shifts.shape != (d,) or shifts.dtype != np.uint8 or shifts.max(initial=0) > 15:
            raise ModelFileError(f"{path}: array 'feature_shifts' is not {d} exponents in [0, 15]")
        if (centers is None or centers.dtype.kind != "f" or centers.shape != (d,)
                or not np.all((centers >= 0) & (centers <= 1))):
            raise ModelFileError(f"{path}: array 'centers' is not {d} centers in [0, 1]")
        unit = level_unit(int(est.bits), est.levels == "optimal")
        if unit is not None and not np.allclose(centers * unit, np.rint(centers * unit), rtol=0, atol=1e-9):
            grid = "level tables' grid of 1/1024" if est.levels == "optimal" else f"{est.bits}-bit level grid"
            raise ModelFileError(f"{path}: array 'centers' is not on the {grid}")
        est._conditioning = Conditioning(centers=centers.astype(np.float64), shifts=shifts)
    # double data's stored-rounding correction, for partial_fit (files written before it have none: no correction)
    variance = arrays.get("stored_variance")
    if variance is not None and (variance.shape != (d,) or variance.dtype.kind != "f"
                                 or not np.all((variance >= 0) & (variance <= 1 / 64))):
        raise ModelFileError(f"{path}: array 'stored_variance' is not {d} variances in [0, 1/64]")
    est._stored_variance = None if variance is None else variance.astype(np.float64)
    est.eta_ = 2.0 ** -est._step_shift
    est.final_eta_ = float(meta.get("final_eta", est.eta_))
    est._schedule = (None if "schedule" not in meta else
                     AdaptiveSchedule.resumed(meta["schedule"], float(est.tol or 0.0), int(est.n_iter_no_change)))
    est.n_iter_, est.loss_curve_ = meta["n_iter"], list(meta["loss_curve"])
    est.n_clipped_ = meta.get("n_clipped", 0)
    est._weight_gain = float(meta.get("weight_gain", 1.0))
    # files written before these curves existed have none
    est.saturations_ = list(meta.get("saturations", []))
    est.refetch_fraction_ = list(meta.get("refetch_fraction", []))
    est.n_features_in_ = d
    names = arrays.get("feature_names")
    if names is not None:
        if names.shape != (d,) or names.dtype.kind != "U":
            raise ModelFileError(f"{path}: array 'feature_names' is not {d} strings")
        est.feature_names_in_ = names.astype(object)  # as scikit-learn stores them
    if cls is ZipMLRegressor:
        est._multi_target = multi_output
    if cls is ZipMLClassifier:
        if "classes" not in arrays or arrays["classes"].ndim != 1 or arrays["classes"].dtype.kind not in "biufUS":
            raise ModelFileError(f"{path}: a classifier needs a 1-D array 'classes' of numbers or strings")
        est._set_classes(arrays["classes"])
        if (1 if len(est.classes_) == 2 else len(est.classes_)) != t:
            raise ModelFileError(f"{path}: {t} models for {len(est.classes_)} classes")
    est._recent_models, est._recent_shift = (([], None) if recent is None else
                                             (list(recent.astype(np.float64)), meta["recent_shift"]))
    with np.errstate(over="ignore", invalid="ignore"):  # huge stored models: refused just below
        est._set_coef()
    if not (np.isfinite(est._coef).all() and np.isfinite(est._intercept).all()):
        raise ModelFileError(f"{path}: the stored models give coefficients that are not finite")
    est._fitted_settings = est._settings()
    return est
