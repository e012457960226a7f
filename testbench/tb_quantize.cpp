// Testbench: quantize_matrix against the golden model's packed lines, bit for bit;
// where the build has the AVX-512 or the AVX2 quantizer and it covers a case, each fast
// path is checked against the same vectors (an AVX-512 build checks both).
#include <cstdio>

#include "vectors.hpp"
#include "zipml/quantize.hpp"
#include "zipml_cpu/dispatch.hpp"
#include "zipml_cpu/quantize_avx2.hpp"
#include "zipml_cpu/quantize_avx512.hpp"

int main(int argc, char** argv) {
  return tb::run(argc, argv, "tb_quantize", [](const std::string& dir, int& passed, int& failed) {
    for (const tb::Case& c : tb::read_index(dir, "quantize")) {
      const int n = int(c["n"]), d = int(c["d"]), copies = int(c["n_copies"]);
      const uint32_t seed = uint32_t(c["seed"]);
      const auto x = tb::read_array<float>(c.dir + "/x.f32");
      const auto lo = tb::read_array<float>(c.dir + "/lo.f32");
      const auto inv = tb::read_array<float>(c.dir + "/inv.f32");
      const auto want = tb::read_array<uint64_t>(c.dir + "/expected.u64");
      std::vector<uint32_t> levels;
      if (c["tables"]) levels = tb::read_array<uint32_t>(c.dir + "/levels.u32");
      const uint32_t* table = levels.empty() ? nullptr : levels.data();
      auto check = [&](const std::vector<uint64_t>& got, const char* path) {
        const size_t bad = tb::mismatches(got, want);
        if (bad) std::printf("FAIL %s (%s): %zu of %zu words differ\n", c.dir.c_str(), path, bad, want.size());
        (bad ? failed : passed) += 1;
      };
      tb::guarded(c, failed, [&] {
        zipml::dispatch_quantize(int(c["bits"]), int(c["sampling"]), int(c.get("samples", 2)), [&](auto b, auto e,
                                                                                                   auto m) {
          constexpr int B = decltype(b)::value;
          constexpr zipml::Sampling E = decltype(e)::value;
          constexpr int M = decltype(m)::value;
          std::vector<uint64_t> got(size_t(copies) * n * zipml::lines_per_row(d, B, E, M) * zipml::kLineWords, 0);
          zipml::quantize_matrix<B, E, M>(x.data(), n, d, lo.data(), inv.data(), table, seed, copies, got.data());
          check(got, "portable");
          got.assign(got.size(), 0);
          if (zipml::avx512::fast_quantize_matrix<B, E, M>(x.data(), n, d, lo.data(), inv.data(), table, seed, copies,
                                                           got.data()))
            check(got, "avx512");
          got.assign(got.size(), 0);
          if (zipml::avx2::fast_quantize_matrix<B, E, M>(x.data(), n, d, lo.data(), inv.data(), table, seed, copies,
                                                         got.data()))
            check(got, "avx2");
        });
      });
    }
  });
}
