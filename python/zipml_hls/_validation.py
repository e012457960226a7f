"""Checks at the Python boundary: every error names the parameter, the value and what is allowed."""

from __future__ import annotations

import numbers
import os
import sys

import numpy as np

from .spec import format as F


def check_matrix(X, name: str = "X", finite: str = "check") -> np.ndarray:
    """A non-empty 2-D float32 C-contiguous copy-or-view of ``X``, finite as ``finite`` says:
    'check' (here, by X's min and max), 'known' (X was checked before: only its float32
    conversion is), or 'summary' (unchecked here: the caller's ``FeatureSummary.of(X,
    source=...)`` pass refuses a non-finite float32 copy with :func:`non_finite_error`,
    which saves the two passes over X)."""
    if finite not in ("check", "known", "summary"):
        raise ValueError(f"finite must be 'check', 'known' or 'summary', got {finite!r}")
    if hasattr(X, "toarray"):
        raise TypeError(f"{name} is a sparse matrix; pass a dense array (X.toarray())")
    arr = np.asarray(X)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got {arr.ndim}-D shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {arr.shape}; need at least one sample and one feature")
    if finite == "check" and not _all_finite(arr):
        raise non_finite_error(arr, name)
    with np.errstate(over="ignore"):
        out = np.ascontiguousarray(arr, dtype=np.float32)
    if finite != "summary" and out.dtype != arr.dtype and not _all_finite(out):
        raise non_finite_error(arr, name)
    return out


def non_finite_error(source, name: str = "X") -> ValueError:
    """The error for data whose float32 form holds a NaN or an infinity: ``source`` (the
    data as given) holds one, or its values are beyond float32's range."""
    if not _all_finite(np.asarray(source)):
        return ValueError(f"{name} contains NaN or infinity; remove or impute them first")
    return ValueError(f"{name} has values too large for float32 (|x| > 3.4e38)")


def numeric_input(a, name: str, text_ok: bool = False):
    """``a`` (an array, a DataFrame, or a sequence, which becomes an array) for
    scikit-learn's validation, refusing what it would turn into numbers silently: dates
    and times, and text unless ``text_ok`` (class labels). Numbers held in object arrays
    are converted there, as its numeric estimators do; numeric strings are not: their
    conversion is the caller's to make explicit."""
    if isinstance(a, (str, bytes)):
        raise TypeError(f"{name} is a string; pass an array of numbers")
    if isinstance(a, (list, tuple)):
        try:
            a = np.asarray(a)
        except ValueError:  # NumPy's message for rows of different lengths
            raise ValueError(f"{name} is not a rectangular array: its rows have different lengths") from None
    if hasattr(a, "columns") and hasattr(a, "iloc"):  # a DataFrame: column by column
        columns = [(a.dtypes.iloc[k], a.iloc[:, k]) for k in range(a.shape[1])]
    else:
        columns = [(a.dtype, a)] if hasattr(a, "dtype") else []
    for dtype, values in columns:
        kind = getattr(dtype, "kind", "O")
        if kind in "mM":
            raise TypeError(f"{name} has dtype {dtype}; convert dates and times to numbers first")
        if text_ok or kind not in "OUS":
            continue
        flat = np.asarray(values, dtype=object).ravel()
        text = next((v for v in flat if isinstance(v, (str, bytes))), None) if kind == "O" else \
            flat[0] if flat.size else None
        if text is not None:
            raise TypeError(f"{name} holds text ({str(text)!r:.40}, dtype {dtype}); convert it to numbers explicitly, "
                            f"e.g. {name}.astype(float) for numeric strings")
    return a


def show_warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    """``warnings.showwarning`` of the command line: ``warning: <message>`` on one line of
    stderr, without the source file and line that Python's default shows."""
    text = " ".join(str(message).split())
    print(f"warning: {text}", file=sys.stderr if file is None else file)


def one_line(exc: Exception, X, y=None) -> Exception:
    """scikit-learn's input error ``exc`` as one line of the same type. Its messages for
    1-D, complex and NaN input go on to print the array or lines of advice; their first
    line, which check_estimator matches, is kept and the rest said briefly. Other messages
    keep every line, joined (the columns a name check lists), up to 400 characters."""
    text = str(exc)
    if "\n" not in text:
        return exc
    head = text.split("\n", 1)[0].rstrip(":. ")
    if head.startswith("Expected 2D array"):
        text = (f"{head}: X has shape {np.shape(X)}; Reshape your data with X.reshape(-1, 1) if it has a single "
                "feature or X.reshape(1, -1) if it is a single sample")
    elif head.startswith("Complex data not supported"):
        text = f"{head}: {'X' if np.iscomplexobj(X) else 'y'} holds complex numbers; pass real ones"
    elif "contains NaN" in head:
        text = f"{head}; remove or impute the missing values first (e.g. sklearn.impute.SimpleImputer)"
    else:
        rest = " ".join(line.strip() for line in text.split("\n")[1:] if line.strip())
        text = f"{head}: {rest}" if rest else head
        text = text if len(text) <= 400 else text[:397] + "..."
    try:
        return type(exc)(text)
    except Exception:  # noqa: BLE001 - a subclass taking other arguments: its base type
        return (TypeError if isinstance(exc, TypeError) else ValueError)(text)


def check_sparse(X, name: str = "X"):
    """A SciPy sparse matrix ``X`` as a finite, non-empty 2-D float32 CSR matrix (its dense
    form is never built)."""
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} is empty or not 2-D: shape {X.shape}; need at least one sample and one feature")
    if X.dtype == object or np.iscomplexobj(X.dtype.type(0)) or not np.issubdtype(X.dtype, np.number):
        raise TypeError(f"{name} must hold real numbers, got dtype {X.dtype}")
    csr = X.tocsr()
    if not _all_finite(csr.data):
        raise ValueError(f"{name} contains NaN or infinity; remove or impute them first")
    with np.errstate(over="ignore"):
        csr = csr.astype(np.float32, copy=False)  # (fit never writes to X)
    if not _all_finite(csr.data):
        raise ValueError(f"{name} has values too large for float32 (|x| > 3.4e38)")
    return csr


def _all_finite(arr: np.ndarray) -> bool:
    """No NaN or infinity, without a temporary array as large as ``arr``: NaN
    propagates through min and max, and an infinity is the min or the max."""
    if arr.dtype.kind in "biu":
        return True
    return bool(np.isfinite(arr.min()) and np.isfinite(arr.max()))


def physical_memory() -> int | None:
    """Bytes of this machine's memory (None where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_allocation(n_bytes: float, what: str) -> None:
    """A ValueError, before allocating, if ``what`` would need more bytes than this
    machine has (a MemoryError deep inside NumPy or C++ would not say what was too large)."""
    limit = physical_memory()
    if limit is not None and n_bytes > limit:
        raise ValueError(f"{what} would need {n_bytes / 2**30:.3g} GiB, more than this machine's "
                         f"{limit / 2**30:.3g} GiB of memory")


def check_bits(bits, allow_full: bool = False) -> int:
    allowed = F.SUPPORTED_BITS + ((F.FULL_PRECISION,) if allow_full else ())
    if isinstance(bits, bool) or not isinstance(bits, numbers.Integral) or int(bits) not in allowed:
        raise ValueError(f"bits must be one of {allowed}, got {bits!r}")
    return int(bits)


def check_choice(value, name: str, allowed) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {tuple(allowed)}, got {value!r}")
    return value


def check_int(value, name: str, low: int, high: int | None = None) -> int:
    """An integer (not bool) in [low, high]; TypeError for non-integers."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else str(low) if high == low else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


def check_seed(seed, name: str = "seed") -> int:
    """A seed for the counter-based RNG: an integer in [0, 2^32) (errors say ``name``)."""
    return check_int(seed, name, 0, (1 << 32) - 1)
