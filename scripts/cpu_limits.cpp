// Issue rates of the AVX-512 operations the quantized SGD kernels are built from, in
// cycles per instruction on one core: the evidence for what bounds the CPU speedups
// (docs/BENCH.md, "What bounds the CPU kernels").
//
//   g++ -O2 -march=native -std=c++17 scripts/cpu_limits.cpp -o cpu_limits && ./cpu_limits
//
// The clock is calibrated by a chain of dependent scalar adds (one per cycle). Each
// probe runs 8 independent chains, so it measures throughput, not latency; every
// figure is the best of three runs.
#include <immintrin.h>

#include <chrono>
#include <cstdint>
#include <cstdio>

namespace {

constexpr int kRounds = 200000;
constexpr int kOps = 128;  // instructions per round and chain group
alignas(64) int32_t model[16 * kOps];
alignas(64) uint16_t masks[kOps * 4096];

double seconds(void (*f)()) {
  const auto a = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

// Best of three: the machine may be shared, so the fastest run is the least disturbed.
double best_seconds(void (*f)()) {
  double best = seconds(f);
  for (int r = 0; r < 2; ++r) {
    const double s = seconds(f);
    best = s < best ? s : best;
  }
  return best;
}

double clock_hz() {
  return 1e9 / best_seconds([] {
    uint64_t x = 0;
    for (long i = 0; i < 1000000000L; ++i) __asm__ volatile("add $1, %0" : "+r"(x));
  });
}

#define OPAQUE(v) __asm__ volatile("" : "+v"(v))
// 8 independent accumulators a0..a7; OP(a, k) is one instruction on chain k.
#define PROBE(NAME, OP)                                                                            \
  {NAME, [] {                                                                                      \
     __m512i a0 = _mm512_set1_epi32(1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0; \
     __m512i x = _mm512_set1_epi32(3);                                                              \
     OPAQUE(x);                                                                                     \
     for (int r = 0; r < kRounds; ++r) {                                                            \
       const uint16_t* mm = masks + (r & 4095) * kOps;                                              \
       for (int g = 0; g < kOps; g += 8) {                                                          \
         OP(a0, 0); OP(a1, 1); OP(a2, 2); OP(a3, 3); OP(a4, 4); OP(a5, 5); OP(a6, 6); OP(a7, 7);    \
       }                                                                                            \
       OPAQUE(a0); OPAQUE(a1); OPAQUE(a2); OPAQUE(a3); OPAQUE(a4); OPAQUE(a5); OPAQUE(a6); OPAQUE(a7); \
       (void)mm;                                                                                    \
     }                                                                                              \
   }}

#define ADD(a, k) a = _mm512_add_epi32(a, x); OPAQUE(a)
#define SHIFT(a, k) a = _mm512_maskz_srai_epi32(0xFFFF, a, 1); OPAQUE(a)
#define MULLO(a, k) a = _mm512_mullo_epi32(a, x); OPAQUE(a)
#define PERMUTE(a, k) a = _mm512_maskz_permutexvar_epi32(0xFFFF, x, a); OPAQUE(a)
#define WIDEN(a, k) a = _mm512_add_epi32(a, _mm512_maskz_cvtepu8_epi32(0xFFFF, _mm_loadu_si128((const __m128i*)(mm + g + k)))); OPAQUE(a)
#define LOAD(a, k) a = _mm512_add_epi32(a, _mm512_load_si512(model + 16 * (g + k))); OPAQUE(a)
#define STORE(a, k) _mm512_store_si512(model + 16 * (g + k), a); a = _mm512_add_epi32(a, x); OPAQUE(a)
#define KMASK(a, k) a = _mm512_mask_add_epi32(a, _load_mask16((__mmask16*)(mm + g + k)), a, x); OPAQUE(a)
#define DPWSSD(a, k) a = _mm512_dpwssd_epi32(a, x, x); OPAQUE(a)

struct Probe {
  const char* name;
  void (*run)();
};

const Probe kProbes[] = {
    PROBE("vpaddd (add, and, or, xor alike)", ADD),
    PROBE("vpsrad (vector shift)", SHIFT),
    PROBE("vpmulld (32-bit multiply)", MULLO),
    PROBE("vpermd (16-entry table lookup)", PERMUTE),
    PROBE("vpmovzxbd from memory + add (byte widening)", WIDEN),
    PROBE("64-byte load + add", LOAD),
    PROBE("64-byte store + add", STORE),
    PROBE("kmovw from memory + masked add (rounding bit)", KMASK),
    PROBE("vpdpwssd (16-bit dot product, VNNI)", DPWSSD),
};

}  // namespace

int main() {
  for (int i = 0; i < kOps * 4096; ++i) masks[i] = static_cast<uint16_t>(i * 2654435761u >> 7);
  const double hz = clock_hz();
  std::printf("clock (dependent adds): %.2f GHz\n\n| operation (512-bit) | cycles per instruction |\n|---|---|\n",
              hz / 1e9);
  for (const Probe& p : kProbes) {
    const double s = best_seconds(p.run);
    std::printf("| %s | %.2f |\n", p.name, s * hz / (double(kRounds) * kOps));
  }
  return 0;
}
