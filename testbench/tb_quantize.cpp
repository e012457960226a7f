// Testbench: quantize_matrix against the golden model's packed lines, bit for bit.
#include <cstdio>

#include "vectors.hpp"
#include "zipml/quantize.hpp"

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
      const bool known = tb::dispatch(int(c["bits"]), int(c["encoding"]), [&](auto b, auto e) {
        constexpr int B = decltype(b)::value;
        constexpr zipml::Encoding E = decltype(e)::value;
        got.assign(size_t(copies) * n * zipml::lines_per_row(d, B, E) * zipml::kLineWords, 0);
        zipml::quantize_matrix<B, E>(x.data(), n, d, lo.data(), inv.data(), levels.empty() ? nullptr : levels.data(),
                                     uint32_t(c["seed"]), copies, got.data());
      });
      const size_t bad = known ? tb::mismatches(got, want) : want.size() + 1;
      if (bad) std::printf("FAIL %s: %zu of %zu words differ\n", c.dir.c_str(), bad, want.size());
      (bad ? failed : passed) += 1;
    }
  });
}
