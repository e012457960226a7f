// Testbench: the SGD kernels (sgd_linear with each loss and its options, sample weights and
// penalties, sgd_logistic)
// against the golden model's model history, pass predictions and counts, bit for bit; where the build has the
// SIMD SGD (AVX-512 or AVX2: sgd_fast.hpp; AVX2 for sgd_logistic: sgd_logistic_avx2.hpp)
// and it covers a case, the fast path is checked against the same vectors.
#include <cstdio>

#include "vectors.hpp"
#include "zipml/sgd.hpp"
#include "zipml/sgd_logistic.hpp"
#include "zipml_cpu/dispatch.hpp"
#include "zipml_cpu/sgd_fast.hpp"
#include "zipml_cpu/sgd_logistic_avx2.hpp"

namespace {
constexpr int kMaxFeatures = 1024;  // testbench build of the on-chip model
}  // namespace

namespace tb {
/// A case's sample weights and penalties (zipml::Regularization), each where the case has it.
struct RegularizationArrays {
  std::vector<int32_t> weights, decay, l1;
  explicit RegularizationArrays(const Case& c) {
    if (c.get("sample_weights", 0)) weights = read_array<int32_t>(c.dir + "/sample_weights.i32");
    if (c.get("decay", 0)) decay = read_array<int32_t>(c.dir + "/decay.i32");
    if (c.get("l1", 0)) l1 = read_array<int32_t>(c.dir + "/l1.i32");
  }
  zipml::Regularization view() const {
    zipml::Regularization reg;
    reg.sample_weights = weights.empty() ? nullptr : weights.data();
    reg.decay = decay.empty() ? nullptr : decay.data();
    reg.l1 = l1.empty() ? nullptr : l1.data();
    return reg;
  }
};
}  // namespace tb

int main(int argc, char** argv) {
  return tb::run(argc, argv, "tb_sgd", [](const std::string& dir, int& passed, int& failed) {
    for (const tb::Case& c : tb::read_index(dir, "sgd")) {
      const int n = int(c["n"]), d = int(c["d"]), epochs = int(c["epochs"]), n_copies = int(c["n_copies"]);
      const int step_shift = int(c["step_shift"]), decay_epochs = int(c["decay_epochs"]);
      const int32_t dot_mult = int32_t(c["dot_mult"]);
      const auto data = tb::read_array<uint64_t>(c.dir + "/data.u64");
      const auto labels = tb::read_array<int32_t>(c.dir + "/labels.i32");
      const auto model_in = tb::read_array<int32_t>(c.dir + "/model_in.i32");
      const auto want = tb::read_array<int32_t>(c.dir + "/expected.i32");
      std::vector<int32_t> values;
      if (c["tables"]) values = tb::read_array<int32_t>(c.dir + "/values.i32");
      const int32_t* table = values.empty() ? nullptr : values.data();
      if (d > kMaxFeatures) {
        std::printf("FAIL %s: d = %d is over the testbench's %d features\n", c.dir.c_str(), d, kMaxFeatures);
        failed += 1;
        continue;
      }
      std::vector<uint8_t> shifts;
      std::vector<int32_t> centers, variances;
      if (c.get("feature_shifts", 0)) shifts = tb::read_array<uint8_t>(c.dir + "/feature_shifts.u8");
      if (c.get("centers", 0)) centers = tb::read_array<int32_t>(c.dir + "/centers.i32");
      if (c.get("stored_variance", 0)) variances = tb::read_array<int32_t>(c.dir + "/variances.i32");
      zipml::SgdOptions opt;
      opt.feature_shifts = shifts.empty() ? nullptr : shifts.data();
      opt.centers = centers.empty() ? nullptr : centers.data();
      opt.stored_variance = variances.empty() ? nullptr : variances.data();
      opt.model_bits = int(c.get("model_bits", 0));
      opt.grad_bits = int(c.get("grad_bits", 0));
      opt.quantization = static_cast<zipml::Quantization>(int(c.get("model_quantization", 0)));
      opt.seed = uint32_t(c.get("rng_seed", 0));
      opt.fit_intercept = c.get("fit_intercept", 1) != 0;
      const tb::RegularizationArrays reg(c);
      opt.reg = reg.view();
      tb::guarded(c, failed, [&] {
        zipml::dispatch_sgd_linear(int(c["bits"]), int(c["sampling"]), int(c.get("loss", 0)), [&](auto b, auto e,
                                                                                                  auto loss) {
          constexpr int B = decltype(b)::value;
          constexpr zipml::Sampling E = decltype(e)::value;
          using Loss = decltype(loss);
          std::vector<uint32_t> full;
          std::vector<int32_t> want_refetches(size_t(epochs), 0);
          if (Loss::kRefetch) {
            full = tb::read_array<uint32_t>(c.dir + "/full.u32");
            want_refetches = tb::read_array<int32_t>(c.dir + "/refetches.i32");
            opt.full = full.data();
          }
          const auto want_predictions = tb::read_array<int32_t>(c.dir + "/predictions.i32");
          const auto want_saturations = tb::read_array<int32_t>(c.dir + "/saturations.i32");
          std::vector<int32_t> got, predictions, saturations, refetches;
          zipml::PassReport report;
          auto reset = [&] {  // outputs poisoned, so an unwritten value shows
            got.assign(size_t(epochs) * (d + 1), -7);
            predictions.assign(size_t(n) * 2, -7);
            saturations.assign(size_t(epochs), -7);
            refetches.assign(size_t(epochs), -7);
            report = {predictions.data(), saturations.data(), refetches.data()};
          };
          auto check = [&](const char* path) {
            const size_t bad = tb::mismatches(got, want) + tb::mismatches(predictions, want_predictions) +
                               tb::mismatches(saturations, want_saturations) +
                               tb::mismatches(refetches, want_refetches);
            if (bad)
              std::printf("FAIL %s (%s): %zu of the model values, predictions and counts differ\n", c.dir.c_str(),
                          path, bad);
            (bad ? failed : passed) += 1;
          };
          reset();
          zipml::sgd_linear<B, E, Loss, kMaxFeatures>(data.data(), labels.data(), n, d, n_copies, epochs, step_shift,
                                                      decay_epochs, dot_mult, table, model_in.data(), got.data(), opt,
                                                      report);
          check("portable");
          reset();
          if (zipml::fast_sgd_linear<B, E, Loss, kMaxFeatures>(data.data(), labels.data(), n, d, n_copies, epochs,
                                                               step_shift, decay_epochs, dot_mult, table,
                                                               model_in.data(), got.data(), opt, report))
            check(zipml::kFastSgd);
        });
      });
    }
    for (const tb::Case& c : tb::read_index(dir, "logistic")) {
      const int n = int(c["n"]), d = int(c["d"]), epochs = int(c["epochs"]);
      const auto data = tb::read_array<uint64_t>(c.dir + "/data.u64");
      const auto labels = tb::read_array<int32_t>(c.dir + "/labels.i32");
      const auto model_in = tb::read_array<int32_t>(c.dir + "/model_in.i32");
      const auto coef = tb::read_array<int64_t>(c.dir + "/coef.i64");
      const auto want = tb::read_array<int32_t>(c.dir + "/expected.i32");
      const auto want_predictions = tb::read_array<int32_t>(c.dir + "/predictions.i32");
      const auto want_saturations = tb::read_array<int32_t>(c.dir + "/saturations.i32");
      std::vector<int32_t> got, predictions, saturations;
      zipml::PassReport report;
      auto reset = [&] {  // outputs poisoned, so an unwritten value shows
        got.assign(want.size(), -7);
        predictions.assign(size_t(n) * 2, -7);
        saturations.assign(size_t(epochs), -7);
        report = {predictions.data(), saturations.data(), nullptr};
      };
      auto check = [&](const char* path) {
        const size_t bad = tb::mismatches(got, want) + tb::mismatches(predictions, want_predictions) +
                           tb::mismatches(saturations, want_saturations);
        if (bad)
          std::printf("FAIL %s (%s): %zu of the model values, predictions and counts differ\n", c.dir.c_str(), path,
                      bad);
        (bad ? failed : passed) += 1;
      };
      const tb::RegularizationArrays reg(c);
      std::vector<uint8_t> shifts;
      std::vector<int32_t> centers;
      if (c.get("feature_shifts", 0)) shifts = tb::read_array<uint8_t>(c.dir + "/feature_shifts.u8");
      if (c.get("centers", 0)) centers = tb::read_array<int32_t>(c.dir + "/centers.i32");
      zipml::LogisticOptions opt;
      opt.feature_shifts = shifts.empty() ? nullptr : shifts.data();
      opt.centers = centers.empty() ? nullptr : centers.data();
      opt.fit_intercept = c.get("fit_intercept", 1) != 0;
      tb::guarded(c, failed, [&] {
        zipml::dispatch_sgd_logistic(int(c["bits"]), int(c["sampling"]), int(c["samples"]), [&](auto b, auto e,
                                                                                                auto m) {
          constexpr int B = decltype(b)::value;
          constexpr zipml::Sampling E = decltype(e)::value;
          constexpr int M = decltype(m)::value;
          const int n_copies = int(c["n_copies"]), step_shift = int(c["step_shift"]);
          const int decay_epochs = int(c["decay_epochs"]);
          const int32_t dot_mult = int32_t(c["dot_mult"]), range_q16 = int32_t(c["range_q16"]);
          const uint32_t seed = uint32_t(c.get("rng_seed", 0));
          reset();
          zipml::sgd_logistic<B, E, M, kMaxFeatures>(data.data(), labels.data(), n, d, n_copies, epochs, step_shift,
                                                     decay_epochs, dot_mult, coef.data(), range_q16, model_in.data(),
                                                     got.data(), seed, report, nullptr, reg.view(), opt);
          check("portable");
          reset();
          const bool fast = zipml::avx2::fast_sgd_logistic<B, E, M, kMaxFeatures>(
              data.data(), labels.data(), n, d, n_copies, epochs, step_shift, decay_epochs, dot_mult, coef.data(),
              range_q16, model_in.data(), got.data(), seed, report, nullptr, reg.view(), opt);
          if (fast) {
            check(zipml::avx2::kFastLogistic);
          } else if (std::string(zipml::avx2::kFastLogistic) != "none") {  // it covers every case's format
            std::printf("FAIL %s: the fast path declined the case\n", c.dir.c_str());
            ++failed;
          }
        });
      });
    }
  });
}
