// Testbench: quantize_matrix against the golden model's packed lines, bit for bit;
// where the build targets AVX-512, the CPU fast path is checked against the same vectors.
#include <cstdio>

#include "vectors.hpp"
#include "zipml/quantize.hpp"
#include "zipml/quantize_avx512.hpp"

int main(int argc, char** argv) {
  return tb::run(argc, argv, "tb_quantize", [](const std::string& dir, int& passed, int& failed) {
    for (const tb::Case& c : tb::read_index(dir, "quantize")) {
      const int n = int(c["n"]), d = int(c["d"]), copies = int(c["n_copies"]);
      const auto x = tb::read_array<float>(c.dir + "/x.f32");
      const auto lo = tb::read_array<float>(c.dir + "/lo.f32");
      const auto inv = tb::read_array<float>(c.dir + "/inv.f32");
      const auto want = tb::read_array<uint64_t>(c.dir + "/expected.u64");
      std::vector<uint32_t> levels;
      if (c["tables"]) levels = tb::read_array<uint32_t>(c.dir + "/levels.u32");
      std::vector<uint64_t> got(want.size());
      for (const bool fast : {false, true}) {
#ifndef ZIPML_HAVE_AVX512_QUANTIZE
        if (fast) continue;
#endif
        // the fast path covers uniform levels at 1, 2, 4, 8 bits with at most two samples
        if (fast && (c["tables"] || c["encoding"] == 3 || (c["bits"] & (c["bits"] - 1)))) continue;
        auto run = [&](auto b, auto e, auto m) {
          constexpr int B = decltype(b)::value;
          constexpr zipml::Encoding E = decltype(e)::value;
          constexpr int M = decltype(m)::value;
          got.assign(size_t(copies) * n * zipml::lines_per_row(d, B, E, M) * zipml::kLineWords, 0);
#ifdef ZIPML_HAVE_AVX512_QUANTIZE
          if constexpr ((B & (B - 1)) == 0 && E != zipml::Encoding::Multi) {
            if (fast) return zipml::avx512::quantize_matrix<B, E>(x.data(), n, d, lo.data(), inv.data(),
                                                                  uint32_t(c["seed"]), copies, got.data());
          }
#endif
          zipml::quantize_matrix<B, E, M>(x.data(), n, d, lo.data(), inv.data(),
                                          levels.empty() ? nullptr : levels.data(), uint32_t(c["seed"]), copies,
                                          got.data());
        };
        const bool known =
            c["encoding"] == 3
                ? tb::dispatch_multi(int(c["bits"]), int(c["samples"]),
                                     [&](auto b, auto m) {
                                       run(b, std::integral_constant<zipml::Encoding, zipml::Encoding::Multi>{}, m);
                                     })
                : tb::dispatch(int(c["bits"]), int(c["encoding"]),
                               [&](auto b, auto e) { run(b, e, std::integral_constant<int, 2>{}); });
        const size_t bad = known ? tb::mismatches(got, want) : want.size() + 1;
        if (bad)
          std::printf("FAIL %s (%s): %zu of %zu words differ\n", c.dir.c_str(), fast ? "avx512" : "portable", bad,
                      want.size());
        (bad ? failed : passed) += 1;
      }
    }
  });
}
