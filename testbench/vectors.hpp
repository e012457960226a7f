// Reading the golden vectors written by scripts/make_golden_vectors.py.
// Testbench code (not synthesized): std containers and file I/O are fine here.
#pragma once
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <map>
#include <stdexcept>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "zipml/format.hpp"

namespace tb {

struct Case {
  std::string kind, dir;
  std::map<std::string, long long> params;
  long long operator[](const std::string& key) const {
    auto it = params.find(key);
    if (it == params.end()) throw std::runtime_error("missing parameter '" + key + "' in " + dir);
    return it->second;
  }
  long long get(const std::string& key, long long fallback) const {
    auto it = params.find(key);
    return it == params.end() ? fallback : it->second;
  }
};

inline std::vector<Case> read_index(const std::string& root, const std::string& kind) {
  std::ifstream index(root + "/index.txt");
  if (!index) throw std::runtime_error("cannot open " + root + "/index.txt");
  std::vector<Case> cases;
  std::string k, name;
  while (index >> k >> name) {
    if (k != kind) continue;
    Case c{k, root + "/" + name, {}};
    std::ifstream params(c.dir + "/params.txt");
    std::string key;
    long long value;
    while (params >> key >> value) c.params[key] = value;
    cases.push_back(c);
  }
  return cases;
}

template <class T>
std::vector<T> read_array(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw std::runtime_error("cannot open " + path);
  const auto bytes = static_cast<size_t>(f.tellg());
  if (bytes % sizeof(T) != 0) throw std::runtime_error("size of " + path + " is not a multiple of the element");
  std::vector<T> out(bytes / sizeof(T));
  f.seekg(0);
  f.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(bytes));
  return out;  // files are little-endian, as the hosts this runs on
}

/// Number of positions where two arrays differ (size mismatch counts as all).
template <class T>
size_t mismatches(const std::vector<T>& got, const std::vector<T>& want) {
  if (got.size() != want.size()) return want.size() + got.size();
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i) bad += got[i] != want[i];
  return bad;
}

// Calls f(bits constant, encoding constant) for a case's runtime pair.
template <class F>
bool dispatch(int bits, int encoding, F&& f) {
  auto with_enc = [&](auto b) {
    switch (encoding) {
      case 0: f(b, std::integral_constant<zipml::Encoding, zipml::Encoding::Double>{}); return true;
      case 1: f(b, std::integral_constant<zipml::Encoding, zipml::Encoding::Naive>{}); return true;
      case 2: f(b, std::integral_constant<zipml::Encoding, zipml::Encoding::Nearest>{}); return true;
      default: return false;
    }
  };
  switch (bits) {
    case 1: return with_enc(std::integral_constant<int, 1>{});
    case 2: return with_enc(std::integral_constant<int, 2>{});
    case 3: return with_enc(std::integral_constant<int, 3>{});
    case 4: return with_enc(std::integral_constant<int, 4>{});
    case 6: return with_enc(std::integral_constant<int, 6>{});
    case 8: return with_enc(std::integral_constant<int, 8>{});
    default: return false;
  }
}

// Calls f(bits constant, samples constant) for Multi data with 4, 6 or 8 samples
// (the bit widths come from dispatch).
template <class F>
bool dispatch_multi(int bits, int samples, F&& f) {
  if (samples != 4 && samples != 6 && samples != 8) return false;
  return dispatch(bits, 0, [&](auto b, auto) {
    if (samples == 4) f(b, std::integral_constant<int, 4>{});
    if (samples == 6) f(b, std::integral_constant<int, 6>{});
    if (samples == 8) f(b, std::integral_constant<int, 8>{});
  });
}

/// The testbench main: `name VECTORS_DIR`; `body(dir, passed, failed)` counts cases.
/// Prints "name: N passed, M failed" and returns 0 only when all of at least one passed.
template <class F>
int run(int argc, char** argv, const char* name, F&& body) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s VECTORS_DIR\n", argv[0]);
    return 2;
  }
  int passed = 0, failed = 0;
  try {
    body(std::string(argv[1]), passed, failed);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  std::printf("%s: %d passed, %d failed\n", name, passed, failed);
  return (failed == 0 && passed > 0) ? 0 : 1;
}

}  // namespace tb
