"""Report section 8 in its second process (``zipml-hls reproduce`` runs it alongside
sections 3-6). Needs torch; CI runs the tests/test_torch*.py files after installing it."""

import pytest

pytest.importorskip("torch")


def test_deep_learning_process_returns_the_in_process_results_and_reports_failure():
    # Section 8 runs in a second interpreter alongside sections 3-6: same numbers as in this
    # process (one thread, seeded), and a failure there is an error here.
    from zipml_hls import reproduce

    settings = {"networks": ("mlp",), "seeds": 1, "epochs": 1}
    with reproduce._deep_learning_alongside(settings) as result:
        there = result(lambda: None)
    here = reproduce._deep_learning(settings)
    for task in here["results"]:
        rows = [(r["scheme"], r["bits"], r["accuracies"]) for r in here["results"][task]["mlp"]["rows"]]
        assert rows == [(r["scheme"], r["bits"], r["accuracies"]) for r in there["results"][task]["mlp"]["rows"]]
        assert here["results"][task]["mlp"]["ranking"] == there["results"][task]["mlp"]["ranking"]
    with pytest.raises(RuntimeError, match="deep-learning process failed"):
        with reproduce._deep_learning_alongside({**settings, "networks": ("no such network",)}) as result:
            result(lambda: None)
