// The kernels' on-chip model: an array of MaxFeatures entries (up to 65536: 256 KiB).
//
// In synthesis it is a local array (block RAM, partitioned by the kernel's pragmas). In a
// software build (the Python module, the testbenches, C simulation) a local array that
// size lives on the calling thread's stack, and a thread with a small stack (Python's
// threading.stack_size(262144), say) would overflow it and crash the interpreter; there
// the model is on the heap instead. Same values, same arithmetic: only where it lives.
#pragma once

#ifndef __SYNTHESIS__  // software builds only (never synthesized)
#include <cstdint>
#include <memory>

namespace zipml {

/// N entries of an arithmetic T on the heap, the first at a multiple of 64 bytes, released
/// at scope exit. C++14 (the HLS flow's C simulation compiles with it) has no aligned new:
/// the array is over-allocated by 64 bytes and its start rounded up.
template <class T, int N>
class HeapArray {
  static_assert(64 % sizeof(T) == 0, "64-byte alignment in whole entries");
  std::unique_ptr<T[]> raw_{new T[N + 64 / sizeof(T)]};

 public:
  T* get() const {
    const auto address = reinterpret_cast<std::uintptr_t>(raw_.get());
    return raw_.get() + (64 - address % 64) % 64 / sizeof(T);
  }
};

}  // namespace zipml

/// `T* name` to N entries on the heap, aligned to 64 bytes.
#define ZIPML_MODEL_ARRAY(T, name, N)          \
  const ::zipml::HeapArray<T, N> name##_storage; \
  T* const name = name##_storage.get()
#else
/// `T name[N]` on chip, aligned to 64 bytes.
#define ZIPML_MODEL_ARRAY(T, name, N) alignas(64) T name[N]
#endif
