// Work split among the cores by the bindings, with the GIL released by the caller.
#pragma once
#include <algorithm>
#include <exception>
#include <system_error>
#include <thread>
#include <vector>

#ifdef __linux__
#include <sched.h>
#endif

namespace zipml_py {

/// The cores this process may use (at least 1): its CPU affinity on Linux (a container's or
/// taskset's cores, as Python's os.sched_getaffinity), else every core.
inline int available_threads() {
#ifdef __linux__
  cpu_set_t cores;
  if (sched_getaffinity(0, sizeof(cores), &cores) == 0) return std::max(1, CPU_COUNT(&cores));
#endif
  return int(std::max(1u, std::thread::hardware_concurrency()));
}

/// fn(p) for every part p in [0, parts), on at most `threads` threads (part p on thread
/// p mod threads). What a part computes must not depend on the thread that runs it, so
/// results are the same for any thread count. An exception in a part (std::bad_alloc)
/// reaches the caller after every thread has joined; where no thread can be started, the
/// calling thread does that thread's parts.
template <class Fn>
void for_each_part(int parts, int threads, Fn fn) {
  threads = std::clamp(threads, 1, std::max(1, parts));
  std::vector<std::exception_ptr> errors(threads);
  auto worker = [&](int t) {
    try {
      for (int p = t; p < parts; p += threads) fn(p);
    } catch (...) {
      errors[t] = std::current_exception();
    }
  };
  std::vector<std::thread> started;
  for (int t = 1; t < threads; ++t) {
    try {
      started.emplace_back(worker, t);
    } catch (const std::system_error&) {
      worker(t);
    }
  }
  worker(0);
  for (std::thread& th : started) th.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace zipml_py
