"""The specification both halves of the project follow: number formats, the counter-based
RNG, the 512-bit line layout, double data's per-epoch resampling, the step schedule and
the loss registry.

Each module mirrors one header of ``hls/include/zipml`` (``format.hpp``, ``rng.hpp``,
``layout.hpp``, ``resample.hpp``, ``schedule.hpp``, ``losses.hpp``), and ``tests/test_spec.py`` checks every
mirrored constant against the compiled kernels. The training path and the golden model
(:mod:`zipml_hls.reference`) both import it; it imports neither.
"""
