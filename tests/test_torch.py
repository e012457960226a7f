"""zipml_hls.torch: the weight quantizers against the project's quantizer, their statistics,
the straight-through gradient, and the checks at the boundary."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from zipml_hls import optimal_levels, quantize  # noqa: E402
from zipml_hls.quantize import quantize_checked  # noqa: E402
from zipml_hls.torch import (WeightQuantizer, quantize_model, quantize_weight, weight_levels,  # noqa: E402
                             weight_matrix, xnor)

SAMPLING = {"uniform": ("naive", "uniform"), "optimal": ("naive", "optimal"), "nearest": ("nearest", "uniform")}


def _weight(shape, seed=0, dtype=torch.float32):
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.standard_normal(shape) * 0.3).to(dtype)


def _reference(w, scheme, bits, seed, per_channel=True, table=None):
    """The NumPy golden model's quantization of w's matrix, as a tensor of w's shape."""
    m = w.reshape(w.shape[0], -1).T if per_channel else w.reshape(-1, 1)
    sampling, levels = SAMPLING[scheme]
    if table is None:
        q = quantize(m.numpy(), bits, sampling=sampling, levels=levels, seed=seed, backend="reference")
    else:
        q = quantize_checked(np.ascontiguousarray(m.numpy(), dtype=np.float32), bits, sampling, levels, seed, 1,
                             "reference", table=table)
    out = torch.from_numpy(q.dequantize()).to(w.dtype)
    return out.T.reshape(w.shape) if per_channel else out.reshape(w.shape)


@pytest.mark.parametrize("scheme", ["uniform", "optimal", "nearest"])
@pytest.mark.parametrize("bits", [1, 2, 3, 4])
@pytest.mark.parametrize("shape,per_channel", [((5, 37), True), ((4, 3, 3, 3), True), ((6, 20), False)])
def test_bit_exact_with_the_numpy_golden_model(scheme, bits, shape, per_channel):
    w = _weight(shape, seed=bits)
    for seed in (0, 12345, 2**32 - 1):
        got = quantize_weight(w, scheme, bits, seed=seed, per_channel=per_channel)
        assert got.dtype == w.dtype and got.shape == w.shape
        assert np.array_equal(got.numpy(), _reference(w, scheme, bits, seed, per_channel).numpy())


def test_float64_weights_are_quantized_as_float32_values_and_returned_as_float64():
    w = _weight((4, 9), dtype=torch.float64)
    got = quantize_weight(w, "uniform", 2, seed=3)
    assert got.dtype == torch.float64
    assert np.array_equal(got.numpy(), _reference(w, "uniform", 2, 3).numpy())


def test_a_layer_quantized_per_tensor_is_handed_over_without_a_copy():
    w = _weight((8, 16))
    assert np.shares_memory(weight_matrix(w, per_channel=False), w.numpy())
    assert not np.shares_memory(weight_matrix(w, per_channel=True), w.numpy())  # channels become columns


def test_the_quantizer_draws_with_its_step_seed_and_reuses_optimal_levels_until_a_refresh():
    w = _weight((6, 30))
    q = WeightQuantizer("optimal", 2, seed=9, layer=2, refresh=3)
    table = None
    for step in range(7):
        w = w + 0.05 * _weight((6, 30), seed=100 + step)  # the shadow weights move between steps
        got = q(w)
        if step % 3 == 0:
            assert torch.equal(got, quantize_weight(w, "optimal", 2, seed=q.step_seed(step)))
            table = q.table.copy()
        else:
            assert np.array_equal(q.table, table)
            assert torch.equal(got, _reference(w, "optimal", 2, q.step_seed(step), table=table))
    assert int(q.step) == 7
    assert q.step_seed(0) != q.step_seed(1) != WeightQuantizer("optimal", 2, seed=9, layer=3).step_seed(1)


def test_eval_mode_repeats_the_current_steps_weights():
    w = _weight((4, 10))
    q = WeightQuantizer("uniform", 3, seed=1)
    q(w)
    q.eval()
    first = q(w)
    assert torch.equal(first, q(w)) and int(q.step) == 1
    assert torch.equal(first, quantize_weight(w, "uniform", 3, seed=q.step_seed(1)))
    q.train()
    assert torch.equal(q(w), first) and int(q.step) == 2


@pytest.mark.parametrize("scheme", ["uniform", "optimal"])
@pytest.mark.parametrize("bits", [1, 2, 4])
def test_stochastic_schemes_are_unbiased(scheme, bits):
    # Mean of K draws against w, elementwise: within 4.5 standard errors sqrt(var / K) of the
    # rounding variance (L_{j+1} - w)(w - L_j), plus the Q0.24 position grid (2^-23 of the span).
    w = _weight((6, 40), seed=7)
    K = 1500
    mean = sum(quantize_weight(w, scheme, bits, seed=s).double() for s in range(K)) / K
    lev = weight_levels(w, scheme, bits)  # (channels, 2^bits)
    x = w.double()
    j = torch.searchsorted(lev, x, right=True).clamp(1, lev.shape[1] - 1)
    var = (lev.gather(1, j) - x) * (x - lev.gather(1, j - 1))
    span = (lev[:, -1] - lev[:, 0])[:, None]
    bound = 4.5 * torch.sqrt(var.clamp(min=0) / K) + span * 2**-23
    assert bool(((mean - x).abs() <= bound).all())
    # the bound is tight enough to catch a biased rounding: nearest's (deterministic) error breaks it
    assert not bool(((quantize_weight(w, "nearest", bits).double() - x).abs() <= bound).all())


def test_nearest_rounding_is_deterministic_and_exact():
    w = torch.tensor([[0.0, 0.1, 0.5, 0.9, 1.0], [-2.0, -1.5, -1.25, -1.0, 2.0]])
    assert torch.equal(quantize_weight(w, "nearest", 1, seed=0),
                       torch.tensor([[0.0, 0.0, 1.0, 1.0, 1.0], [-2.0, -2.0, -2.0, -2.0, 2.0]]))
    # 2 bits: levels min + k (max - min) / 3; 0.5 is a tie between 1/3 and 2/3 and rounds up
    # (positions 0.1 and 0.125 are below 1/6, 0.1875 and 0.25 above)
    level1 = -2.0 + (1 / 3) * 4.0
    expected = torch.tensor([[0.0, 0.0, 2 / 3, 1.0, 1.0], [-2.0, -2.0, level1, level1, 2.0]],
                            dtype=torch.float64).float()
    assert torch.equal(quantize_weight(w, "nearest", 2, seed=0), expected)
    assert torch.equal(quantize_weight(w, "nearest", 2, seed=5), expected)


def test_xnor_is_the_sign_times_the_mean_magnitude_per_channel():
    w = torch.tensor([[0.5, -0.25, 1.0, -0.25], [0.0, -3.0, 1.0, 2.0]])
    assert torch.equal(quantize_weight(w, "xnor"), torch.tensor([[0.5, -0.5, 0.5, -0.5], [1.5, -1.5, 1.5, 1.5]]))
    assert torch.equal(quantize_weight(w, "xnor", per_channel=False), torch.full((2, 4), 1.0) * torch.where(
        w >= 0, 1.0, -1.0))
    conv = _weight((3, 2, 3, 3))
    alpha = conv.abs().mean(dim=(1, 2, 3), keepdim=True)
    assert torch.equal(xnor(conv), torch.where(conv >= 0, alpha, -alpha))


def test_fp32_is_the_weight_itself():
    w = _weight((3, 4))
    assert torch.equal(quantize_weight(w, "fp32"), w)
    assert WeightQuantizer("fp32")(w) is w


@pytest.mark.parametrize("bits", [2, 3])
def test_optimal_levels_are_the_project_solvers_levels_per_channel(bits):
    w = _weight((5, 60), seed=11)
    lev = weight_levels(w, "optimal", bits)
    for c in range(5):
        values = w[c].double().numpy()
        expected = optimal_levels(w[c].numpy(), 2**bits)
        # the quantizer solves on Q0.24 positions of the channel's range and moves each level onto
        # the 2^-10 grid of values the SGD kernels read (levels.level_tables): 2^-11 of the span apart
        assert np.abs(lev[c].numpy() - expected).max() <= (values.max() - values.min()) * (2**-11 + 2**-22)
    q = quantize_weight(w, "optimal", bits, seed=4)
    for c in range(5):  # every quantized weight is one of its channel's levels
        assert set(q[c].tolist()) <= set(lev[c].float().tolist())
    uniform = weight_levels(w, "uniform", bits)
    assert torch.allclose(uniform, uniform[:, :1] + (uniform[:, -1:] - uniform[:, :1]) * torch.arange(
        2**bits, dtype=torch.float64) / (2**bits - 1), rtol=0, atol=1e-12)


def _mlp(seed=0):
    g = torch.Generator().manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.rand(p.shape, generator=g) - 0.5)
    return model


def test_the_gradient_goes_straight_through_to_the_shadow_weights():
    model = quantize_model(_mlp(), "optimal", 2, seed=3)
    x = torch.linspace(-1, 1, 24).reshape(4, 6)
    model(x).square().sum().backward()
    first, second = model[0], model[2]
    # the same forward pass with the quantized weights of step 0 as plain leaves
    w1 = first.parametrizations.weight[0]
    q1 = quantize_weight(first.parametrizations.weight.original, "optimal", 2, seed=w1.step_seed(0)).requires_grad_()
    w2 = second.parametrizations.weight[0]
    q2 = quantize_weight(second.parametrizations.weight.original, "optimal", 2,
                         seed=w2.step_seed(0)).requires_grad_()
    h = torch.relu(x @ q1.T + first.bias)
    (h @ q2.T + second.bias).square().sum().backward()
    assert torch.equal(first.parametrizations.weight.original.grad, q1.grad)
    assert torch.equal(second.parametrizations.weight.original.grad, q2.grad)
    assert w1.layer == 0 and w2.layer == 1


def test_an_optimizer_step_moves_the_shadow_and_the_forward_stays_on_levels():
    model = quantize_model(_mlp(), "uniform", 2, seed=0)
    shadow = model[0].parametrizations.weight.original
    before = shadow.detach().clone()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model(torch.ones(2, 6)).sum().backward()
    opt.step()
    assert not torch.equal(shadow, before)
    model.eval()
    w = model[0].weight
    lev = weight_levels(shadow.detach(), "uniform", 2).float()
    assert all(set(w[c].tolist()) <= set(lev[c].tolist()) for c in range(w.shape[0]))
    assert "parametrizations.weight.original" in "".join(model[0].state_dict())
    assert int(model[0].state_dict()["parametrizations.weight.0.step"]) == 1
    # removing the quantizer in eval mode leaves the weights evaluation uses
    evaluated = model[0].weight.detach().clone()
    torch.nn.utils.parametrize.remove_parametrizations(model[0], "weight")
    assert torch.equal(model[0].weight.detach(), evaluated)


def test_training_is_deterministic_for_a_seed():
    def run(seed):
        model = quantize_model(_mlp(), "optimal", 2, seed=seed, refresh=2)
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        x = torch.linspace(-1, 1, 60).reshape(10, 6)
        for _ in range(5):
            opt.zero_grad()
            model(x).square().mean().backward()
            opt.step()
        return model[0].parametrizations.weight.original.detach()

    assert torch.equal(run(1), run(1))
    assert not torch.equal(run(1), run(2))


def test_quantize_model_covers_linear_and_conv_layers_and_keeps_biases():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 3), nn.Conv1d(1, 1, 1))
    quantize_model(model, "xnor")
    layers = [m for m in model if hasattr(m, "parametrizations")]
    assert [m.parametrizations.weight[0].layer for m in layers] == [0, 1, 2]
    assert all("bias" not in m.parametrizations for m in layers)


@pytest.mark.parametrize("call,error,match", [
    (lambda w: quantize_weight(w, "ternary", 2), ValueError, "scheme must be one of"),
    (lambda w: quantize_weight(w, "uniform", 5), ValueError, "bits must be one of"),
    (lambda w: quantize_weight(w, "uniform", None), ValueError, "bits must be one of"),
    (lambda w: quantize_weight(w, "uniform", True), ValueError, "bits must be one of"),
    (lambda w: quantize_weight(w, "xnor", 2), ValueError, "bits must be 1"),
    (lambda w: quantize_weight(w, "fp32", 8), ValueError, "bits must be 32"),
    (lambda w: quantize_weight(w.to(torch.int32), "uniform", 2), TypeError, "float32 or float64"),
    (lambda w: quantize_weight(w.half(), "uniform", 2), TypeError, "float32 or float64"),
    (lambda w: quantize_weight(w.numpy(), "uniform", 2), TypeError, "torch.Tensor"),
    (lambda w: quantize_weight(w[0], "uniform", 2), ValueError, "per_channel=True needs"),
    (lambda w: quantize_weight(w[:0], "uniform", 2), ValueError, "empty"),
    (lambda w: quantize_weight(w / 0, "uniform", 2), ValueError, "NaN or infinity"),
    (lambda w: quantize_weight(w, "uniform", 2, seed=-1), ValueError, "seed"),
    (lambda w: quantize_weight(w, "uniform", 2, per_channel="yes"), TypeError, "per_channel"),
    (lambda w: quantize_weight(w, "uniform", 2, backend="gpu"), ValueError, "backend"),
    (lambda w: weight_levels(w, "xnor", 1), ValueError, "level tables"),
    (lambda w: WeightQuantizer("uniform", 2, refresh=10), ValueError, "refresh is only used"),
    (lambda w: WeightQuantizer("optimal", 2, refresh=0), ValueError, "refresh must be"),
    (lambda w: WeightQuantizer("optimal", 2, refresh=1.5), TypeError, "refresh must be an integer"),
    (lambda w: quantize_model(w, "uniform", 2), TypeError, "torch.nn.Module"),
    (lambda w: quantize_model(nn.ReLU(), "uniform", 2), ValueError, "no Linear or Conv"),
    (lambda w: quantize_model(quantize_model(_mlp(), "uniform", 2), "uniform", 2), ValueError, "already"),
])
def test_bad_input_gets_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call(_weight((3, 4)))
