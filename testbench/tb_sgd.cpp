// Testbench: the SGD kernels (sgd_linear with its options, sgd_logistic) against the
// golden model's model history, bit for bit; where the build targets AVX-512, the CPU
// fast path is checked against the same plain least-squares vectors.
#include <cstdio>

#include "vectors.hpp"
#include "zipml/sgd.hpp"
#include "zipml/sgd_avx512.hpp"

namespace {
constexpr int kMaxFeatures = 1024;  // testbench build of the on-chip model
}

int main(int argc, char** argv) {
  return tb::run(argc, argv, "tb_sgd", [](const std::string& dir, int& passed, int& failed) {
    for (const tb::Case& c : tb::read_index(dir, "sgd")) {
      const int n = int(c["n"]), d = int(c["d"]), epochs = int(c["epochs"]);
      const auto data = tb::read_array<uint64_t>(c.dir + "/data.u64");
      const auto labels = tb::read_array<int32_t>(c.dir + "/labels.i32");
      const auto model_in = tb::read_array<int32_t>(c.dir + "/model_in.i32");
      const auto want = tb::read_array<int32_t>(c.dir + "/expected.i32");
      std::vector<int32_t> values;
      if (c["tables"]) values = tb::read_array<int32_t>(c.dir + "/values.i32");
      zipml::SgdOptions opt;
      opt.loss = static_cast<zipml::Loss>(c.get("loss", 0));
      opt.model_bits = int(c.get("model_bits", 0));
      opt.grad_bits = int(c.get("grad_bits", 0));
      opt.seed = uint32_t(c.get("rng_seed", 0));
      std::vector<uint32_t> full;
      std::vector<int32_t> want_refetches, refetches(size_t(epochs), 0);
      if (opt.loss == zipml::Loss::Hinge) {
        full = tb::read_array<uint32_t>(c.dir + "/full.u32");
        want_refetches = tb::read_array<int32_t>(c.dir + "/refetches.i32");
        opt.full = full.data();
        opt.refetches = refetches.data();
      }
      const bool plain = opt.loss == zipml::Loss::LeastSquares && opt.model_bits == 0 && opt.grad_bits == 0;
      std::vector<int32_t> got(size_t(epochs) * (d + 1), 0);
      for (const bool fast : {false, true}) {
#ifndef ZIPML_HAVE_AVX512
        if (fast) continue;
#endif
        // the fast path covers uniform levels at 1, 2, 4, 8 bits
        if (fast && (c["tables"] || !plain || (c["bits"] & (c["bits"] - 1)))) continue;
        const bool known = d <= kMaxFeatures && tb::dispatch(int(c["bits"]), int(c["encoding"]), [&](auto b, auto e) {
          constexpr int B = decltype(b)::value;
          constexpr zipml::Encoding E = decltype(e)::value;
          const int* table = values.empty() ? nullptr : values.data();
          auto args = [&](auto kernel, auto... extra) {
            kernel(data.data(), labels.data(), n, d, int(c["n_copies"]), epochs, int(c["step_shift"]),
                   int(c["decay_epochs"]), int32_t(c["dot_mult"]), extra..., model_in.data(), got.data());
          };
          auto args_opt = [&](auto kernel, const int* table_values) {
            kernel(data.data(), labels.data(), n, d, int(c["n_copies"]), epochs, int(c["step_shift"]),
                   int(c["decay_epochs"]), int32_t(c["dot_mult"]), table_values, model_in.data(), got.data(), opt);
          };
#ifdef ZIPML_HAVE_AVX512
          if constexpr ((B & (B - 1)) == 0) {
            if (fast) return args(zipml::avx512::sgd_least_squares<B, E, kMaxFeatures>);
          }
#endif
          args_opt(zipml::sgd_linear<B, E, kMaxFeatures>, table);
        });
        size_t bad = known ? tb::mismatches(got, want) : want.size() + 1;
        if (!fast && opt.refetches != nullptr) bad += tb::mismatches(refetches, want_refetches);
        if (bad)
          std::printf("FAIL %s (%s): %zu of %zu model values differ\n", c.dir.c_str(), fast ? "avx512" : "portable",
                      bad, want.size());
        (bad ? failed : passed) += 1;
      }
    }
    for (const tb::Case& c : tb::read_index(dir, "logistic")) {
      const int n = int(c["n"]), d = int(c["d"]), epochs = int(c["epochs"]);
      const auto data = tb::read_array<uint64_t>(c.dir + "/data.u64");
      const auto labels = tb::read_array<int32_t>(c.dir + "/labels.i32");
      const auto model_in = tb::read_array<int32_t>(c.dir + "/model_in.i32");
      const auto coef = tb::read_array<int64_t>(c.dir + "/coef.i64");
      const auto want = tb::read_array<int32_t>(c.dir + "/expected.i32");
      std::vector<int32_t> got(want.size(), 0);
      auto run = [&](auto b, auto e, auto m) {
        zipml::sgd_logistic<decltype(b)::value, decltype(e)::value, decltype(m)::value, kMaxFeatures>(
            data.data(), labels.data(), n, d, int(c["n_copies"]), epochs, int(c["step_shift"]),
            int(c["decay_epochs"]), int32_t(c["dot_mult"]), coef.data(), int32_t(c["range_q16"]), model_in.data(),
            got.data());
      };
      using zipml::Encoding;
      const int enc = int(c["encoding"]);
      const bool known = tb::dispatch_multi(int(c["bits"]), int(c["samples"]), [&](auto b, auto m) {
        if (enc == 3) run(b, std::integral_constant<Encoding, Encoding::Multi>{}, m);
        if (enc == 1) run(b, std::integral_constant<Encoding, Encoding::Naive>{}, m);
        if (enc == 2) run(b, std::integral_constant<Encoding, Encoding::Nearest>{}, m);
      });
      const size_t bad = known ? tb::mismatches(got, want) : want.size() + 1;
      if (bad) std::printf("FAIL %s: %zu of %zu model values differ\n", c.dir.c_str(), bad, want.size());
      (bad ? failed : passed) += 1;
    }
  });
}
