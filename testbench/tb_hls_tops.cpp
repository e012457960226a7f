// Testbench of the synthesis tops (hls/kernels/zipml_tops.cpp) on the golden vectors.
// ctest runs it natively; scripts/run_hls.tcl adds this same file for C simulation and
// co-simulation in Vitis HLS. Every top is called on every matching vector case.
#include <cstdio>
#include <cstring>

#include "../hls/kernels/zipml_tops.hpp"
#include "vectors.hpp"
#include "zipml/format.hpp"

int main(int argc, char** argv) {
  return tb::run(argc, argv, "tb_hls_tops", [](const std::string& dir, int& passed, int& failed) {
    for (const tb::Case& c : tb::read_index(dir, "sgd")) {
      // the tops are plain least squares on uniform levels, one step for every feature
      if (c["tables"] || c.get("loss", 0) || c.get("model_bits", 0) || c.get("grad_bits", 0) ||
          c.get("feature_shifts", 0) || c.get("stored_variance", 0) || c.get("sample_weights", 0) ||
          c.get("decay", 0) || c.get("l1", 0))  // the tops take the default options
        continue;
      for (const zipml_tops::QuantizedTopEntry& top : zipml_tops::kQuantizedTops) {
        if (top.bits != c["bits"] || static_cast<int>(top.sampling) != c["sampling"]) continue;
        const int n = int(c["n"]), d = int(c["d"]), epochs = int(c["epochs"]);
        const auto data = tb::read_array<uint64_t>(c.dir + "/data.u64");
        const auto labels = tb::read_array<int32_t>(c.dir + "/labels.i32");
        const auto model_in = tb::read_array<int32_t>(c.dir + "/model_in.i32");
        const auto want = tb::read_array<int32_t>(c.dir + "/expected.i32");
        if (c["dot_mult"] != zipml::uniform_dot_mult(top.bits)) {
          std::printf("FAIL %s on %s: the case's dot_mult is not the top's built-in one\n", top.name, c.dir.c_str());
          failed += 1;
          continue;
        }
        std::vector<int32_t> got(want.size(), 0);
        top.fn(reinterpret_cast<const zipml::Line*>(data.data()), labels.data(), model_in.data(), got.data(), n, d,
               int(c["n_copies"]), epochs, int(c["step_shift"]), int(c["decay_epochs"]), unsigned(c.get("rng_seed", 0)));
        const size_t bad = tb::mismatches(got, want);
        if (bad) std::printf("FAIL %s on %s: %zu of %zu values differ\n", top.name, c.dir.c_str(), bad, want.size());
        (bad ? failed : passed) += 1;
      }
    }
  });
}
