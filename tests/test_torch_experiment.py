"""The deep-learning experiment (zipml_hls.deep_learning) and its report section."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from zipml_hls import deep_learning as D  # noqa: E402
from zipml_hls import plots  # noqa: E402
from zipml_hls.reproduce import deep_learning_section  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    return D.load_task("digits")


def test_tasks_are_fixed_splits_of_the_digits():
    digits, shifted = D.load_task("digits"), D.load_task("shifted digits")
    assert digits.X_train.shape == (1347, 1, 8, 8) and shifted.X_train.shape == (1347, 1, D.CANVAS, D.CANVAS)
    assert float(digits.X_train.min()) == 0.0 and float(digits.X_train.max()) == 1.0
    assert torch.equal(digits.y_test, shifted.y_test)  # the same stratified split
    assert torch.equal(shifted.X_test, D.load_task("shifted digits").X_test)
    assert not torch.equal(shifted.X_test, D.load_task("shifted digits", seed=1).X_test)
    # every shifted image holds its digit somewhere: the best 8x8 window matches within the noise
    img = shifted.X_test[0, 0].double()
    ref = digits.X_test[0, 0].double()
    best = min(float((img[r:r + 8, c:c + 8] - ref).abs().max()) for r in range(3) for c in range(3))
    assert best < 0.6  # noise sd 0.1: a wrong window differs by about 1 somewhere
    with pytest.raises(ValueError, match="task must be one of"):
        D.load_task("mnist")


@pytest.mark.parametrize("name", D.NETWORKS)
def test_networks_start_from_seeded_uniform_weights(name):
    state = torch.get_rng_state()
    a, b = D.make_network(name, 8, seed=3), D.make_network(name, 8, seed=3)
    assert torch.equal(torch.get_rng_state(), state)  # no global generator
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(next(a.parameters()), next(D.make_network(name, 8, seed=4).parameters()))
    for layer in a:
        if hasattr(layer, "weight"):
            bound = 1 / math.sqrt(layer.weight[0].numel()) * (1 + 2**-23)  # float32 rounding
            assert float(layer.weight.detach().abs().max()) <= bound
            assert float(layer.bias.detach().abs().max()) <= bound
    assert a(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    with pytest.raises(ValueError, match="network must be one of"):
        D.make_network("resnet", 8, 0)


@pytest.mark.parametrize("scheme,bits,least", [("optimal", 3, 0.9), ("fp32", 32, 0.9), ("xnor", 1, 0.8)])
def test_a_short_training_run_beats_chance_by_a_wide_margin(digits, scheme, bits, least):
    # chance is 0.1; seed 0, 6 epochs of 11 steps (measured: optimal 3 bits 0.949, fp32 0.949, XNOR 0.911)
    model, _ = D.train_network(digits, "mlp", scheme, bits, seed=0, epochs=6)
    assert D.accuracy(model, digits.X_test, digits.y_test) >= least


def test_training_is_reproducible(digits):
    runs = [D.train_network(digits, "mlp", "uniform", 2, seed=1, epochs=1)[0] for _ in range(2)]
    assert all(torch.equal(p, q) for p, q in zip(runs[0].parameters(), runs[1].parameters()))


def _row(scheme, bits, acc):
    a = np.asarray(acc, dtype=float)
    return {"scheme": scheme, "bits": bits, "accuracies": list(acc), "mean": a.mean(), "std": a.std(ddof=1)}


def test_ranking_compares_seed_by_seed_against_two_standard_errors():
    rows = [_row("fp32", 32, [0.95, 0.94]), _row("xnor", 1, [0.90, 0.92]),
            _row("optimal", 1, [0.5, 0.6]), _row("uniform", 1, [0.5, 0.6]), _row("nearest", 1, [0.8, 0.9]),
            _row("optimal", 2, [0.93, 0.95]), _row("uniform", 2, [0.80, 0.83]), _row("nearest", 2, [0.93, 0.96])]
    r = D.ranking(rows)
    assert r["optimal_vs_uniform"][1]["verdict"] == "identical"
    # differences 0.13 and 0.12: mean 0.125, sample sd 0.00707, standard error 0.005
    assert r["optimal_vs_uniform"][2] == pytest.approx({"diff": 0.125, "se": 0.005, "verdict": "higher"})
    # differences 0.02 and -0.01: mean 0.005 within two standard errors (0.015 each)
    assert r["fp32_vs_optimal"][2] == pytest.approx({"diff": 0.005, "se": 0.015, "verdict": "tie"})
    assert r["optimal_vs_xnor"][1]["verdict"] == "lower" and r["optimal_vs_xnor"][2]["verdict"] == "higher"
    assert r["optimal_above_xnor_from_bits"] == 2
    assert r["nearest_vs_optimal"][1]["verdict"] == "higher" and r["nearest_vs_optimal"][2]["verdict"] == "tie"


def test_refresh_study_measures_stale_levels(digits):
    rows = D.refresh_study(digits, "mlp", 2, refreshes=(1, 1000), epochs=2, every=5)
    fresh, stale = rows
    # refreshed every step the levels are a step old when measured; never refreshed, 20 steps old
    assert 1.0 <= fresh["stale_over_fresh"] < 1.01 < stale["stale_over_fresh"]
    assert fresh["uniform_over_fresh"] > 1.0 and 0.1 < fresh["accuracy"] <= 1.0


def test_experiment_section_and_plot(tmp_path):
    threads = torch.get_num_threads()
    dl = D.experiment(tasks=("digits",), seeds=range(2), epochs=1)
    assert torch.get_num_threads() == threads
    rows = dl["results"]["digits"]["mlp"]["rows"]
    assert [(r["scheme"], r["bits"]) for r in rows] == D.CELLS
    assert all(len(r["accuracies"]) == 2 and r["min"] <= r["mean"] <= r["max"] for r in rows)
    by = {(r["scheme"], r["bits"]): r for r in rows}
    assert by[("optimal", 1)]["accuracies"] == by[("uniform", 1)]["accuracies"]  # the same two levels
    text = "\n".join(deep_learning_section(dl))
    fp32 = by[("fp32", 32)]
    assert f"| digits | mlp | fp32 | - | - | - | - | {fp32['mean']:.3f} +- {fp32['std']:.3f} |" in text
    assert "optimal against uniform: identical at 1 bit" in text and "**Measured: the paper's ranking" in text
    assert plots.deep_learning_accuracy(dl["results"], tmp_path / "dl.png").stat().st_size > 0
