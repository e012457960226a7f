// The two ways the AVX2 SGD path (hls/include/zipml_cpu/sgd_avx2.hpp, LevelLookup) turns a
// decoded row of level codes into per-feature level-table values: blends over the tables
// held in columns, or gathers from the tables by feature. Nanoseconds per value for rows
// of 2048 features, each bit width, the two contenders interleaved; median of 7 runs
// (the machine may be shared). docs/BENCH.md quotes it:
//
//   g++ -O3 -mavx2 -std=c++17 -Ihls/include scripts/level_lookup_speed.cpp -o level_lookup_speed && ./level_lookup_speed
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "zipml_cpu/sgd_avx2.hpp"

#ifndef ZIPML_HAVE_AVX2
#error "build with -mavx2 and without AVX-512 (the AVX2 SGD path)"
#endif

namespace {

constexpr int kFeatures = 2048, kRows = 64, kPasses = 200, kRuns = 7;

template <int S, bool kColumns>
double ns_per_value(const zipml::avx2::LevelLookup<S, kColumns>& lookup, const std::vector<uint8_t>& codes,
                    std::vector<int16_t>& out) {
  const auto a = std::chrono::steady_clock::now();
  for (int p = 0; p < kPasses; ++p)
    for (int r = 0; r < kRows; ++r) lookup(codes.data() + size_t(r) * kFeatures, out.data() + size_t(r) * kFeatures);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
  return s * 1e9 / (double(kPasses) * kRows * kFeatures);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <int S>
void compare(int bits) {
  std::mt19937 rng(bits);
  std::vector<int32_t> values(size_t(kFeatures) * (S + 1));
  for (auto& v : values) v = int32_t(rng() % 1025);
  std::vector<uint8_t> codes(size_t(kRows) * kFeatures);
  for (auto& c : codes) c = uint8_t(rng() % (S + 1));
  std::vector<int16_t> gathered(codes.size()), blended(codes.size());
  const zipml::avx2::LevelLookup<S, false> gather(values.data(), nullptr, kFeatures, kFeatures);
  std::vector<double> tg, tb;
  if constexpr (S <= 15) {
    const zipml::avx2::LevelLookup<S, true> columns(values.data(), nullptr, kFeatures, kFeatures);
    for (int run = 0; run < kRuns; ++run) {
      tg.push_back(ns_per_value(gather, codes, gathered));
      tb.push_back(ns_per_value(columns, codes, blended));
    }
    if (gathered != blended) std::printf("%d bits: the two lookups disagree\n", bits);
    std::printf("%d bits: gather %.3f ns/value, blends %.3f ns/value\n", bits, median(tg), median(tb));
  } else {
    for (int run = 0; run < kRuns; ++run) tg.push_back(ns_per_value(gather, codes, gathered));
    std::printf("%d bits: gather %.3f ns/value, blends - (%d levels)\n", bits, median(tg), S + 1);
  }
}

}  // namespace

int main() {
  compare<1>(1);
  compare<3>(2);
  compare<7>(3);
  compare<15>(4);
  compare<63>(6);
  compare<255>(8);
}
