// Reading the golden vectors written by scripts/make_golden_vectors.py.
// Testbench code (not synthesized): std containers and file I/O are fine here. C++14,
// as Vitis HLS compiles tb_hls_tops for C simulation.
#pragma once
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <map>
#include <stdexcept>
#include <sstream>
#include <string>
#include <vector>

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

/// Runs `body` on one case; a parameter the build does not cover (the dispatch throws
/// std::invalid_argument) fails the case.
template <class F>
void guarded(const Case& c, int& failed, F&& body) {
  try {
    body();
  } catch (const std::invalid_argument& e) {
    std::printf("FAIL %s: %s\n", c.dir.c_str(), e.what());
    failed += 1;
  }
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
