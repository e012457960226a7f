// Bindings of the SGD kernels: sgd_linear (any loss of LinearLosses) and sgd_logistic,
// each on its SIMD fast path where it covers the call, and the fp32 baseline. Long runs
// release the GIL.
#include <algorithm>
#include <cfloat>
#include <string>

#include "checks.hpp"
#include "zipml/losses.hpp"
#include "zipml/sgd.hpp"
#include "zipml/sgd_fp32.hpp"
#include "zipml/sgd_logistic.hpp"
#include "zipml_cpu/dispatch.hpp"
#include "zipml_cpu/sgd_fast.hpp"
#include "zipml_cpu/sgd_logistic_avx2.hpp"

namespace zipml_py {
namespace {

using zipml::Sampling;

/// The losses of a list that pass keep(Loss{}), by id: "hinge, squared_hinge", or with
/// their ids, "1 (hinge), 3 (squared_hinge)". The bindings' messages and docstrings name
/// losses only through these lists, so a new loss needs no edit here.
template <class... Loss, class Keep>
std::string loss_list(zipml::TypeList<Loss...> list, Keep keep, bool with_ids) {
  std::string s;
  for (const auto& [id, name] : zipml::loss_names(list)) {
    bool kept = false;
    zipml::for_each_loss(list, [&](auto l) { kept |= decltype(l)::kId == id && keep(l); });
    if (!kept) continue;
    s += (s.empty() ? "" : ", ") + (with_ids ? std::to_string(static_cast<int>(id)) + " (" + name + ")" : name);
  }
  return s;
}

template <class List>
std::string loss_list(List list, bool with_ids) {
  return loss_list(list, [](auto) { return true; }, with_ids);
}

/// Losses with a kernel other than sgd_linear (those of Losses not in LinearLosses).
constexpr auto kOtherKernel = [](auto l) { return !zipml::Contains<zipml::LinearLosses, decltype(l)>::value; };
/// Losses for which sgd_linear refetches full-precision rows.
constexpr auto kRefetches = [](auto l) { return decltype(l)::kRefetch; };

/// ValueError for a loss of Losses that sgd_linear does not take.
void check_linear_loss(int loss) {
  zipml::for_each_loss(zipml::Losses{}, [&](auto l) {
    using L = decltype(l);
    require(loss != static_cast<int>(L::kId) || !kOtherKernel(l),
            "loss " + std::to_string(loss) + " (" + L::kName +
                ") has a kernel of its own, not sgd_linear, which takes " + loss_list(zipml::LinearLosses{}, true));
  });
}

/// An optional per-feature (or per-sample: `item`) argument: nullptr for None, else the
/// data of a 1-D array of d values in [lo, hi] (ValueError otherwise, NaN included);
/// `holder` keeps it alive.
template <class T>
const T* feature_array(const py::object& obj, py::ssize_t d, const std::string& name, const std::string& dtype,
                       carray<T>& holder, T lo, T hi, const char* item = "feature") {
  if (obj.is_none()) return nullptr;
  holder = carray<T>::ensure(obj);
  require(holder && holder.ndim() == 1 && holder.shape(0) == d,
          name + " must be " + (dtype == "int32" ? "an " : "a ") + dtype + " array of shape (" + std::to_string(d) +
              ",)");
  for (py::ssize_t j = 0; j < d; ++j)
    if (!(holder.data()[j] >= lo && holder.data()[j] <= hi))  // NaN fails too; the message only on failure
      fail(name + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
           std::to_string(holder.data()[j]) + " at " + item + " " + std::to_string(j));
  return holder.data();
}

/// Sample weights and penalties of a quantized kernel call (zipml::Regularization), checked:
/// sample_weights int32 (n,) Q16, decay and l1 int32 (d,) Q32, each in [0, 2^31) or None.
struct RegularizationArgs {
  carray<int32_t> weights, decay, l1;
  zipml::Regularization reg;
  RegularizationArgs(const py::object& sample_weights, const py::object& decay_obj, const py::object& l1_obj, int n,
                     int d) {
    reg.sample_weights = feature_array<int32_t>(sample_weights, n, "sample_weights", "int32", weights, 0, INT32_MAX,
                                                "sample");
    reg.decay = feature_array<int32_t>(decay_obj, d, "decay", "int32", decay, 0, INT32_MAX);
    reg.l1 = feature_array<int32_t>(l1_obj, d, "l1", "int32", l1, 0, INT32_MAX);
  }
};

/// The rows a quantized kernel visits: None (every row of the data in order), or row
/// indices of the data (sample i reads row rows[i] of each copy and labels[i]): a pass
/// of len(rows) samples, which may be a part of the data when it holds one copy (the
/// kernels find copy c at c * samples rows). `samples` becomes the pass's length.
const int64_t* sample_rows(const py::object& rows, const py::array& data, int& samples, carray<int64_t>& holder) {
  py::ssize_t count = data.shape(1);
  const int64_t* p = check_rows(rows, count, holder);
  require(count == data.shape(1) || data.shape(0) == 1,
          "rows must hold one row index per sample (" + std::to_string(data.shape(1)) + ") when the data hold " +
              std::to_string(data.shape(0)) + " copies, got " + std::to_string(count));
  samples = static_cast<int>(count);
  return p;
}

/// The pass a quantized kernel call makes, its inputs checked: the data's copies and rows,
/// the samples of the pass (every row, or len(rows)) and the row order (nullptr: in order).
struct QuantizedPass {
  int n_copies, n_stored, n;
  carray<int64_t> order;  // holds `rows` as int64
  const int64_t* rows;
};

QuantizedPass quantized_pass(const carray<uint64_t>& data, const carray<int32_t>& labels,
                             const carray<int32_t>& model_in, const py::object& rows, int d, int epochs,
                             int step_shift, int decay_epochs, int32_t dot_mult) {
  require(data.ndim() == 3, "data must be 3-D (copies, samples, words), got " + shape_str(data));
  QuantizedPass pass{int(data.shape(0)), int(data.shape(1)), int(data.shape(1)), {}, nullptr};
  pass.rows = sample_rows(rows, data, pass.n, pass.order);
  check_sgd_inputs(data, labels, model_in, d, epochs, step_shift, decay_epochs, dot_mult, pass.n);
  return pass;
}

/// require_fast's error: the call runs the portable kernel (no output was written).
constexpr const char* kNotFast =
    "require_fast: this build's SIMD fast path does not cover the call (its format or options; "
    "_kernels.info()['fast_path'] lists what it covers), which would run the portable kernel";

py::tuple sgd_linear(carray<uint64_t> data, carray<int32_t> labels, int d, int bits, int sampling, int epochs,
                     int step_shift, int decay_epochs, int32_t dot_mult, carray<int32_t> model_in, py::object values,
                     int loss, int model_bits, int grad_bits, int model_quantization, uint32_t seed, py::object full,
                     py::object feature_shifts,
                     py::object centers, bool portable, py::object rows, py::object stored_variance,
                     py::object sample_weights, py::object decay, py::object l1, bool fit_intercept,
                     bool require_fast) {
  require(!(portable && require_fast), "portable and require_fast exclude each other");
  const QuantizedPass pass = quantized_pass(data, labels, model_in, rows, d, epochs, step_shift, decay_epochs,
                                            dot_mult);
  const int n_copies = pass.n_copies, n_stored = pass.n_stored, n = pass.n;
  const int64_t* porder = pass.rows;
  check_linear_loss(loss);
  const RegularizationArgs regularization(sample_weights, decay, l1, n, d);
  require(model_bits == 0 || (model_bits >= 2 && model_bits <= 24),
          "model_bits must be 0 (full precision) or in [2, 24], got " + std::to_string(model_bits));
  require(grad_bits == 0 || (grad_bits >= 2 && grad_bits <= 24),
          "grad_bits must be 0 (full precision) or in [2, 24], got " + std::to_string(grad_bits));
  require(model_quantization == static_cast<int>(zipml::Quantization::Grid) ||
              model_quantization == static_cast<int>(zipml::Quantization::Qsgd),
          "model_quantization must be 0 (grid) or 1 (qsgd), got " + std::to_string(model_quantization));
  py::array_t<int32_t> history({py::ssize_t(epochs), py::ssize_t(d) + 1});
  py::array_t<int32_t> predictions({py::ssize_t(n), py::ssize_t(2)}), saturations(epochs), refetches(epochs);
  zipml::PassReport report{predictions.mutable_data(), saturations.mutable_data(), refetches.mutable_data()};
  zipml::dispatch_sgd_linear(bits, sampling, loss, [&](auto b, auto e, auto l) {
    constexpr int B = decltype(b)::value;
    constexpr Sampling E = decltype(e)::value;
    using Loss = decltype(l);
    check_row_words(data, d, B, E);
    carray<int32_t> table;
    const int32_t* pv = nullptr;
    if (!values.is_none()) {
      table = carray<int32_t>::ensure(values);
      require(table && table.ndim() == 2 && table.shape(0) == d && table.shape(1) == (1 << B),
              "values must have shape (" + std::to_string(d) + ", " + std::to_string(1 << B) + ")");
      pv = table.data();
      // code 0 is every feature's minimum, value 0 (FORMATS.md sec. 2): the zero codes past
      // a row's last feature then add nothing, as the golden model, which has no such lanes
      // (the messages are built only for a value that fails: a table has d 2^bits values)
      for (py::ssize_t i = 0; i < d << B; ++i)  // a value minus a center stays in int32
        if (pv[i] < -zipml::kMaxTableValue || pv[i] > zipml::kMaxTableValue)
          fail("values must lie in [-2^30, 2^30] (level tables are Q0.10: 1024 is 1.0), got " +
               std::to_string(pv[i]) + " at values[" + std::to_string(i >> B) + ", " +
               std::to_string(i & ((1 << B) - 1)) + "]");
      for (py::ssize_t j = 0; j < d; ++j)
        if (pv[j << B] != 0)
          fail("values[" + std::to_string(j) + ", 0] is " + std::to_string(pv[j << B]) +
               ": every table's code 0 must have value 0 (the feature's minimum)");
    }
    zipml::SgdOptions opt;
    opt.model_bits = model_bits;
    opt.grad_bits = grad_bits;
    opt.quantization = static_cast<zipml::Quantization>(model_quantization);
    opt.seed = seed;
    opt.reg = regularization.reg;
    opt.fit_intercept = fit_intercept;
    carray<uint8_t> shifts;
    opt.feature_shifts = feature_array<uint8_t>(feature_shifts, d, "feature_shifts", "uint8", shifts, 0,
                                                zipml::kMaxFeatureShift);
    carray<int32_t> center_codes;  // level values: codes, or Q0.10 for level tables
    const int32_t vmax = pv == nullptr ? zipml::max_code(B) : (1 << zipml::kLevelValueFrac);
    opt.centers = feature_array<int32_t>(centers, d, "centers", "int32", center_codes, 0, vmax);
    carray<int32_t> variances;
    require(stored_variance.is_none() || E == zipml::Sampling::Double,
            "stored_variance corrects double data's stored rounding; these data are " +
                std::string(zipml::sampling_name(E)));
    opt.stored_variance = feature_array<int32_t>(stored_variance, d, "stored_variance", "int32", variances, 0,
                                                 int32_t{1} << 26);
    carray<uint32_t> full_rows;
    if (!full.is_none()) {
      require(Loss::kRefetch, "full (rows to refetch) is used only by the losses that refetch, " +
                                  loss_list(zipml::LinearLosses{}, kRefetches, true) + "; got loss " +
                                  std::to_string(loss) + " (" + Loss::kName + ")");
      full_rows = carray<uint32_t>::ensure(full);
      require(full_rows && full_rows.ndim() == 2 && full_rows.shape(0) == n_stored && full_rows.shape(1) == d,
              "full must have shape (" + std::to_string(n_stored) + ", " + std::to_string(d) + ")");
      opt.full = full_rows.data();
    }
    const uint64_t* pd = data.data();
    const int32_t* pl = labels.data();
    const int32_t* pm = model_in.data();
    int32_t* ph = history.mutable_data();
    py::gil_scoped_release release;
    if (portable || !zipml::fast_sgd_linear<B, E, Loss, kMaxFeatures>(
                        pd, pl, n, d, n_copies, epochs, step_shift, decay_epochs, dot_mult, pv, pm, ph, opt, report,
                        porder)) {
      if (require_fast) fail(kNotFast);
      zipml::sgd_linear<B, E, Loss, kMaxFeatures>(pd, pl, n, d, n_copies, epochs, step_shift, decay_epochs, dot_mult,
                                                  pv, pm, ph, opt, report, porder);
    }
  });
  return py::make_tuple(history, predictions, saturations, refetches);
}

py::tuple sgd_logistic(carray<uint64_t> data, carray<int32_t> labels, int d, int bits, int sampling,
                                  int samples, int epochs, int step_shift, int decay_epochs, int32_t dot_mult,
                                  carray<int64_t> coef, int32_t range_q16, carray<int32_t> model_in, uint32_t seed,
                                  py::object rows, py::object sample_weights, py::object decay, py::object l1,
                                  py::object feature_shifts, py::object centers, bool fit_intercept, bool portable,
                                  bool require_fast) {
  require(!(portable && require_fast), "portable and require_fast exclude each other");
  const QuantizedPass pass = quantized_pass(data, labels, model_in, rows, d, epochs, step_shift, decay_epochs,
                                            dot_mult);
  const int n_copies = pass.n_copies, n = pass.n;
  const int64_t* porder = pass.rows;
  const RegularizationArgs regularization(sample_weights, decay, l1, n, d);
  require(range_q16 > 0 && range_q16 <= (32 << 16),
          "range_q16 must be in (0, 32 * 2^16], got " + std::to_string(range_q16));
  py::array_t<int32_t> history({py::ssize_t(epochs), py::ssize_t(d) + 1});
  py::array_t<int32_t> predictions({py::ssize_t(n), py::ssize_t(2)}), saturations(epochs);
  const zipml::PassReport report{predictions.mutable_data(), saturations.mutable_data(), nullptr};
  zipml::dispatch_sgd_logistic(bits, sampling, samples, [&](auto b, auto e, auto m) {
    constexpr int B = decltype(b)::value;
    constexpr Sampling E = decltype(e)::value;
    constexpr int M = decltype(m)::value;
    check_row_words(data, d, B, E, M);
    require_shape1(coef, M, "coef");
    zipml::LogisticOptions opt;
    opt.fit_intercept = fit_intercept;
    carray<uint8_t> shifts;
    opt.feature_shifts = feature_array<uint8_t>(feature_shifts, d, "feature_shifts", "uint8", shifts, 0,
                                                zipml::kMaxFeatureShift);
    carray<int32_t> center_codes;
    opt.centers = feature_array<int32_t>(centers, d, "centers", "int32", center_codes, 0, zipml::max_code(B));
    const uint64_t* pd = data.data();
    const int32_t* pl = labels.data();
    const int64_t* pc = coef.data();
    const int32_t* pm = model_in.data();
    int32_t* ph = history.mutable_data();
    py::gil_scoped_release release;
    if (portable || !zipml::avx2::fast_sgd_logistic<B, E, M, kMaxFeatures>(pd, pl, n, d, n_copies, epochs, step_shift,
                                                                           decay_epochs, dot_mult, pc, range_q16, pm,
                                                                           ph, seed, report, porder,
                                                                           regularization.reg, opt)) {
      if (require_fast) fail(kNotFast);
      zipml::sgd_logistic<B, E, M, kMaxFeatures>(pd, pl, n, d, n_copies, epochs, step_shift, decay_epochs, dot_mult,
                                                 pc, range_q16, pm, ph, seed, report, porder, regularization.reg,
                                                 opt);
    }
  });
  return py::make_tuple(history, predictions, saturations);
}

py::tuple sgd_fp32(carray<float> X, carray<float> y, int epochs, int step_shift, int decay_epochs,
                   carray<float> model_in, int loss, py::object rows, py::object step_scale, py::object centers,
                   py::object weights, py::object decay, py::object l1, bool fit_intercept) {
  require(X.ndim() == 2, "X must be 2-D, got shape " + shape_str(X));
  py::ssize_t n = X.shape(0);
  const py::ssize_t d = X.shape(1);
  require(n >= 1 && n <= INT32_MAX, "n_samples must be in [1, 2^31), got " + std::to_string(n));
  carray<int64_t> order;
  const int64_t* porder = check_rows(rows, n, order);
  check_features(d);
  check_schedule(epochs, step_shift, decay_epochs);
  require_shape1(y, n, "y");
  require_shape1(model_in, d + 1, "model_in");
  carray<float> scale, center_values;
  const float* pscale = feature_array<float>(step_scale, d, "step_scale", "float32", scale, 0.0f, FLT_MAX);
  const float* pcenters = feature_array<float>(centers, d, "centers", "float32", center_values, -FLT_MAX, FLT_MAX);
  carray<float> weight_values, decay_values, l1_values;
  const float* pweights = feature_array<float>(weights, n, "weights", "float32", weight_values, 0.0f, FLT_MAX, "sample");
  const float* pdecay = feature_array<float>(decay, d, "decay", "float32", decay_values, 0.0f, FLT_MAX);
  const float* pl1 = feature_array<float>(l1, d, "l1", "float32", l1_values, 0.0f, FLT_MAX);
  py::array_t<float> history({py::ssize_t(epochs), d + 1}), predictions(n);
  zipml::dispatch_sgd_fp32(loss, [&](auto l) {
    const float* px = X.data();
    const float* py_ = y.data();
    const float* pm = model_in.data();
    float* ph = history.mutable_data();
    float* pp = predictions.mutable_data();
    py::gil_scoped_release release;
    zipml::sgd_fp32<decltype(l), kMaxFeatures>(px, d, py_, int(n), int(d), epochs, step_shift, decay_epochs, pm, ph,
                                               porder, pp, pscale, pcenters, pweights, pdecay, pl1,
                                               fit_intercept);
  });
  return py::make_tuple(history, predictions);
}

}  // namespace

void bind_sgd(py::module_& m) {
  const std::string other = loss_list(zipml::Losses{}, kOtherKernel, false);
  const std::string other_note = other.empty() ? "" : " (" + other + ": a kernel of its own)";
  const std::string sgd_linear_doc = fill(R"pbdoc(
SGD for a linear model over packed quantized rows, all epochs in one call (sgd_linear).

Epoch e visits the rows of copy e % n_copies in order with step 2^-(step_shift +
e // decay_epochs) (at most 2^-40); per sample: pred = codes . w * dot_mult / 2^24 + c
(Q16), r = the loss's residual (Q16), w -= r * step * codes, c -= r * step, in the fixed
point of docs/FORMATS.md.

Parameters: data uint64 (n_copies, n, words) from quantize ({samplings});
labels int32 (n,) Q16 (+-2^16 for classification losses); d features; bits, sampling as
quantize; epochs >= 1; step_shift in [1, 40]; decay_epochs >= 0 (0: constant step);
dot_mult > 0: Q24 scale from code values to scaled values (round(2^24 / (2^bits - 1))
for uniform levels, 2^14 for level tables); model_in int32 (d + 1,) Q24, the intercept
last. Keyword-only: values None or int32 (d, 2^bits) Q0.10 level values per feature (code 0 of each 0, all within +-2^30);
loss a Loss value the linear kernel takes: {linear_losses}{other_losses};
model_bits, grad_bits 0 (exact) or in [2, 24]: the model seen by the dot product / each
update stochastically rounded to that many bits with the draws of seed; model_quantization
0 (grid: a power-of-two grid covering the largest entry) or 1 (qsgd: s = 2^(b-1) - 1 levels
of the vector's 2-norm, QSGD), how both round (docs/FORMATS.md section 7b); full None or
uint32 (n, d) Q0.24 positions (from positions()): the losses that refetch
({refetch_losses}) refetch these rows where the low-precision margin is within its error
bound of 1; feature_shifts None or uint8 (d,) in [0, 15]: feature j steps 2^p_j times
the shared step (a diagonal preconditioner: w_j -= sat32(2^p_j step_j)); centers None or
int32 (d,) level values (codes in [0, 2^bits - 1], or Q0.10 for tables): the model sees
v_j - m_j (centred features); portable: skip the SIMD fast path (same bits); require_fast:
a ValueError, and nothing run, where the SIMD fast path does not cover the call; rows None
or int64: sample i reads row rows[i] of each copy (and of full) and labels[i] (an
epoch's order without a reordered copy of the data): n of them, or with one copy any
number (a pass over part of the data; labels and predictions then have len(rows) rows);
stored_variance None or int32 (d,) in [0, 2^26]: double data only, the variance of each
feature's stored fine-grid rounding in scaled units squared, Q32; after every 32 samples
(and the pass's last) w_j += round(w_j V_j c 2^p_j / 2^(32 + shift)), c the samples since
the last: it cancels the ridge-like pull of that rounding (docs/FORMATS.md section 5);
sample_weights None or int32 (n,) Q16 in [0, 2^31), in the labels' order: each residual
becomes sat32(round(r u_i / 2^16)); decay None or int32 (d,) Q32 in [0, 2^31): every sample
w_j -= round(w_j a_j / 2^(32 + shift)) before its step (L2); l1 None or int32 (d,) Q32 in
[0, 2^31): after the step w_j is soft-thresholded by round(t_j / 2^(8 + shift)) (L1;
docs/API.md, "Sample weights and penalties"). Penalties and fit_intercept False run on the
AVX2 path and in the portable kernel elsewhere. fit_intercept False:
the intercept keeps model_in's value.

Returns (history int32 (epochs, d + 1): the model after every epoch; predictions int32
(n, 2) Q16: each sample's predictions in the last epoch's pass, before its update, from
its first sample (the exact row where refetched) and its second (the squared losses on
double data, else the first again; also where the residual is 0); saturations int32
(epochs,): samples whose step saturated (larger than the model's range); refetches int32
(epochs,): rows refetched in each epoch).
)pbdoc",
                                          {{"samplings", sampling_list(zipml::kLinearSamplings, " or ")},
                                           {"linear_losses", loss_list(zipml::LinearLosses{}, false)},
                                           {"other_losses", other_note},
                                           {"refetch_losses", loss_list(zipml::LinearLosses{}, kRefetches, false)}});
  m.def("sgd_linear", &sgd_linear, py::arg("data"), py::arg("labels"), py::arg("d"), py::arg("bits"),
        py::arg("sampling"), py::arg("epochs"), py::arg("step_shift"), py::arg("decay_epochs"), py::arg("dot_mult"),
        py::arg("model_in"), py::kw_only(), py::arg("values") = py::none(), py::arg("loss") = 0,
        py::arg("model_bits") = 0, py::arg("grad_bits") = 0, py::arg("model_quantization") = 0, py::arg("seed") = 0,
        py::arg("full") = py::none(),
        py::arg("feature_shifts") = py::none(), py::arg("centers") = py::none(), py::arg("portable") = false,
        py::arg("rows") = py::none(), py::arg("stored_variance") = py::none(),
        py::arg("sample_weights") = py::none(), py::arg("decay") = py::none(), py::arg("l1") = py::none(),
        py::arg("fit_intercept") = true, py::arg("require_fast") = false, sgd_linear_doc.c_str());
  const std::string sgd_logistic_doc = fill(R"pbdoc(
Logistic regression by polynomial approximation of the loss derivative (sgd_logistic).

With P(t) = sum_k c_k t^k ~ 1/(1 + e^t) on [-R, R] (degree samples - 1) and independent
samples Q_0..Q_{M-1} of each row, P^ = c_0 + z_1 (c_1 + z_2 (...)), z_m = clamp(y Q_m(a).w
+ y c, -R, R), is unbiased for P(y f); the step is r = -y P^ on sample 0.

Parameters as sgd_linear, and: sampling {samplings}
(double: M independent samples drawn every epoch from the stored fine grid with the draws
of seed; multi: M stored independent samples; the others reuse the one stored sample: the
biased baselines); samples M, one of
constants()['multi_samples']; labels +-2^16; coef int64 (M,) Q30; range_q16 R in Q16, in
(0, 32 * 2^16]; rows, sample_weights, decay, l1, feature_shifts, fit_intercept as
sgd_linear's; centers int32 (d,), codes in [0, 2^bits - 1]; portable: skip the
SIMD fast path (same bits); require_fast as sgd_linear's. Returns (history int32 (epochs, d + 1), predictions int32 (n, 2) Q16 of
the last epoch's pass, both columns from sample 1, saturations int32 (epochs,)).
)pbdoc",
                                            {{"samplings", sampling_list(zipml::kLogisticSamplings, " or ")}});
  m.def("sgd_logistic", &sgd_logistic, py::arg("data"), py::arg("labels"), py::arg("d"), py::arg("bits"),
        py::arg("sampling"), py::arg("samples"), py::arg("epochs"), py::arg("step_shift"), py::arg("decay_epochs"),
        py::arg("dot_mult"), py::arg("coef"), py::arg("range_q16"), py::arg("model_in"), py::kw_only(),
        py::arg("seed") = 0, py::arg("rows") = py::none(), py::arg("sample_weights") = py::none(),
        py::arg("decay") = py::none(), py::arg("l1") = py::none(), py::arg("feature_shifts") = py::none(),
        py::arg("centers") = py::none(), py::arg("fit_intercept") = true, py::arg("portable") = false,
        py::arg("require_fast") = false, sgd_logistic_doc.c_str());
  const std::string sgd_fp32_doc = fill(R"pbdoc(
The 32-bit baseline: the same SGD and step schedule on float32 scaled data (sgd_fp32).

pred = x.w + c, r = the loss's float32 residual, w -= 2^-shift r x, c -= 2^-shift r.
X float32 (n, d) scaled; y float32 (n,) (+-1 for classification losses); model_in float32
(d + 1,); loss any Loss value ({losses}); rows: None, or int64 row indices of X: sample i
reads X[rows[i]] and y[i] (an epoch's row order without a reordered copy; y then has
len(rows) entries); step_scale None or float32 (d,): per-feature step multipliers,
w_j -= (2^-shift r s_j) x_j; centers None or float32 (d,): the model sees x_j - mu_j;
weights None or float32 (len(y),) >= 0: the step is 2^-shift r u_i; decay None or float32
(d,) >= 0: w_j -= 2^-shift a_j w_j before each step; l1 None or float32 (d,) >= 0: w_j
soft-thresholded by 2^-shift t_j after each step; fit_intercept False: c keeps
model_in's value.
Returns (history float32 (epochs, d + 1), predictions float32 (n,): each sample's
prediction in the last epoch's pass, before its update).
)pbdoc",
                                        {{"losses", loss_list(zipml::Losses{}, false)}});
  m.def("sgd_fp32", &sgd_fp32, py::arg("X"), py::arg("y"), py::arg("epochs"), py::arg("step_shift"),
        py::arg("decay_epochs"), py::arg("model_in"), py::arg("loss") = 0, py::arg("rows") = py::none(),
        py::arg("step_scale") = py::none(), py::arg("centers") = py::none(), py::arg("weights") = py::none(),
        py::arg("decay") = py::none(), py::arg("l1") = py::none(), py::arg("fit_intercept") = true,
        sgd_fp32_doc.c_str());
}

}  // namespace zipml_py
