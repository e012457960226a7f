// Verilator harness of a generated engine (zipml_hls.rtl): the host and the memory.
//
//   sim IN OUT
// IN: ten int64 (total lines, lines per row, n, d, copies, epochs, step shift, decay
// epochs, seed, lanes K), the lines (uint64 x 8 each), n int32 labels, d + 1 int32 model.
// OUT: the model history (epochs x (d + 1) int32), then per epoch the cycle (int64,
// counted from the cycle that samples `start`) at which the engine signalled its end.
//
// The memory model answers a line request (mem_en, mem_addr) and a label request in the
// cycle after the engine registers it: one line per cycle, fixed latency.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "Vengine.h"
#include "verilated.h"

namespace {

template <class T>
bool read_all(FILE* f, std::vector<T>& v, size_t count) {
  v.resize(count);
  return count == 0 || fread(v.data(), sizeof(T), count, f) == count;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: sim IN OUT\n");
    return 2;
  }
  FILE* in = fopen(argv[1], "rb");
  if (in == nullptr) {
    fprintf(stderr, "cannot open %s\n", argv[1]);
    return 2;
  }
  std::vector<int64_t> h;
  std::vector<uint64_t> lines;
  std::vector<int32_t> labels, model;
  bool ok = read_all(in, h, 10);
  const int64_t total = h[0], nl = h[1], n = h[2], d = h[3], copies = h[4], epochs = h[5], K = h[9];
  ok = ok && read_all(in, lines, size_t(total) * 8) && read_all(in, labels, size_t(n)) &&
       read_all(in, model, size_t(d + 1));
  fclose(in);
  if (!ok) {
    fprintf(stderr, "short input %s\n", argv[1]);
    return 2;
  }

  VerilatedContext context;
  Vengine top{&context};
  auto tick = [&] {
    top.clk = 0;
    top.eval();
    top.clk = 1;
    top.eval();
  };
  top.rst = 1;
  top.start = 0;
  top.ld_we = 0;
  top.ld_icpt_we = 0;
  tick();
  tick();
  top.rst = 0;
  for (int64_t l = 0; l < nl; ++l) {  // the initial model, one line of K weights per write
    top.ld_we = 1;
    top.ld_addr = uint32_t(l);
    for (int64_t k = 0; k < K; ++k) top.ld_data[k] = uint32_t(l * K + k < d ? model[l * K + k] : 0);
    tick();
  }
  top.ld_we = 0;
  top.ld_icpt_we = 1;
  top.ld_icpt = uint32_t(model[d]);
  tick();
  top.ld_icpt_we = 0;
  top.cfg_n = uint32_t(n);
  top.cfg_lines = uint16_t(nl);
  top.cfg_copies = uint16_t(copies);
  top.cfg_epochs = uint16_t(epochs);
  top.cfg_shift = uint8_t(h[6]);
  top.cfg_decay = uint16_t(h[7]);
  top.cfg_seed = uint32_t(h[8]);
  top.start = 1;

  std::vector<int32_t> history(size_t(epochs * (d + 1)), 0);
  std::vector<int64_t> ends;
  const int64_t limit = 64 + 4 * epochs * (n * (nl + 64) + nl + 64);  // far above any design's cycles
  int64_t cycle = 0;
  for (; !top.done && cycle < limit; ++cycle) {
    tick();
    top.start = 0;
    if (top.hist_valid) {
      const int64_t e = int64_t(ends.size()), l = top.hist_addr;
      for (int64_t k = 0; k < K && l * K + k < d; ++k) history[e * (d + 1) + l * K + k] = int32_t(top.hist_data[k]);
    }
    if (top.epoch_done) {
      history[ends.size() * (d + 1) + d] = int32_t(top.hist_icpt);
      ends.push_back(cycle);
    }
    if (top.mem_en) {  // the line for the next cycle
      if (top.mem_addr >= uint64_t(total)) {
        fprintf(stderr, "line %u requested, the memory holds %lld\n", top.mem_addr, (long long)total);
        return 1;
      }
      for (int w = 0; w < 16; ++w) top.mem_data[w] = uint32_t(lines[top.mem_addr * 8 + w / 2] >> (32 * (w % 2)));
    }
    if (top.lab_en) top.lab_data = uint32_t(top.lab_addr < uint64_t(n) ? labels[top.lab_addr] : 0);
  }
  if (!top.done || int64_t(ends.size()) != epochs) {
    fprintf(stderr, "the engine did not finish: %zu of %lld epochs in %lld cycles\n", ends.size(),
            (long long)epochs, (long long)cycle);
    return 1;
  }
  top.final();
  FILE* out = fopen(argv[2], "wb");
  if (out == nullptr || fwrite(history.data(), 4, history.size(), out) != history.size() ||
      fwrite(ends.data(), 8, ends.size(), out) != ends.size()) {
    fprintf(stderr, "cannot write %s\n", argv[2]);
    return 2;
  }
  fclose(out);
  return 0;
}
