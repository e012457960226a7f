// A compile check, not a synthesis top. The tops (zipml_tops.cpp) instantiate the least-
// squares kernel only; this file takes the address of every other kernel instance that
// the module runs, so that the synthesis-mode build (CMake target
// zipml_tops_synthesis_mode: __SYNTHESIS__, C++14, -fno-exceptions -fno-rtti, -Werror)
// compiles each of them as Vitis HLS would see it:
//   sgd_linear     every bit width x kLinearSamplings x every loss of LinearLosses;
//   sgd_logistic   every bit width x kLogisticSamplings x kMultiSamples;
//   quantize_matrix every bit width x kSamplings (x kMultiSamples for Multi);
//   sgd_fp32       every loss of Losses.
// The instances come from the lists in format.hpp, losses.hpp, sgd.hpp and
// sgd_logistic.hpp, so a new bit width, sampling or loss is compiled here with no edit.
// Nothing calls them, and run_hls.tcl does not add this file.
#include <cstddef>
#include <cstdint>
#include <utility>

#include "zipml/format.hpp"
#include "zipml/losses.hpp"
#include "zipml/quantize.hpp"
#include "zipml/sgd.hpp"
#include "zipml/sgd_fp32.hpp"
#include "zipml/sgd_logistic.hpp"

namespace {

using zipml::Sampling;
constexpr int kMaxFeatures = 8192;  // the tops' on-chip model size

template <class T, std::size_t N>
constexpr std::size_t count(const T (&)[N]) {
  return N;
}

/// Length and element I of a TypeList.
template <class List>
struct Size;
template <class... T>
struct Size<zipml::TypeList<T...>> {
  static constexpr std::size_t value = sizeof...(T);
};
template <std::size_t I, class List>
struct At;
template <class H, class... T>
struct At<0, zipml::TypeList<H, T...>> {
  using type = H;
};
template <std::size_t I, class H, class... T>
struct At<I, zipml::TypeList<H, T...>> : At<I - 1, zipml::TypeList<T...>> {};

constexpr std::size_t kNBits = count(zipml::kSupportedBits);
constexpr std::size_t kNSamples = count(zipml::kMultiSamples);

// sgd_linear: index I = (bits, sampling, loss), loss fastest.
constexpr std::size_t kNLinearSamplings = count(zipml::kLinearSamplings);
constexpr std::size_t kNLinearLosses = Size<zipml::LinearLosses>::value;
template <std::size_t... I>
const void* linear_instances(std::index_sequence<I...>) {
  using Fn = decltype(&zipml::sgd_linear<1, Sampling::Double, zipml::SquaredError, kMaxFeatures>);
  static const Fn table[] = {
      &zipml::sgd_linear<zipml::kSupportedBits[I / (kNLinearSamplings * kNLinearLosses)],
                         zipml::kLinearSamplings[I / kNLinearLosses % kNLinearSamplings],
                         typename At<I % kNLinearLosses, zipml::LinearLosses>::type, kMaxFeatures>...};
  return table;
}

// sgd_logistic: index I = (bits, sampling, samples), samples fastest.
constexpr std::size_t kNLogisticSamplings = count(zipml::kLogisticSamplings);
template <std::size_t... I>
const void* logistic_instances(std::index_sequence<I...>) {
  using Fn = decltype(&zipml::sgd_logistic<1, Sampling::Multi, 4, kMaxFeatures>);
  static const Fn table[] = {
      &zipml::sgd_logistic<zipml::kSupportedBits[I / (kNLogisticSamplings * kNSamples)],
                           zipml::kLogisticSamplings[I / kNSamples % kNLogisticSamplings],
                           zipml::kMultiSamples[I % kNSamples], kMaxFeatures>...};
  return table;
}

// quantize_matrix: index I = (bits, format), a format being a sampling of kSamplings with
// its sample count (each of kMultiSamples where the count is a parameter, else 2).
struct Format {
  Sampling sampling;
  int samples;
};
constexpr std::size_t formats() {
  std::size_t n = 0;
  for (Sampling e : zipml::kSamplings) n += zipml::variable_samples(e) ? kNSamples : 1;
  return n;
}
constexpr Format format(std::size_t j) {
  for (Sampling e : zipml::kSamplings) {
    const std::size_t n = zipml::variable_samples(e) ? kNSamples : 1;
    if (j < n) return {e, zipml::variable_samples(e) ? zipml::kMultiSamples[j] : 2};
    j -= n;
  }
  return {zipml::kSamplings[0], 2};  // never reached: j < formats()
}
constexpr std::size_t kNFormats = formats();
template <std::size_t... I>
const void* quantize_instances(std::index_sequence<I...>) {
  using Fn = decltype(&zipml::quantize_matrix<1, Sampling::Double, 2>);
  static const Fn table[] = {&zipml::quantize_matrix<zipml::kSupportedBits[I / kNFormats],
                                                     format(I % kNFormats).sampling, format(I % kNFormats).samples>...};
  return table;
}

// sgd_fp32: every loss.
template <std::size_t... I>
const void* fp32_instances(std::index_sequence<I...>) {
  using Fn = decltype(&zipml::sgd_fp32<zipml::SquaredError, kMaxFeatures>);
  static const Fn table[] = {&zipml::sgd_fp32<typename At<I, zipml::Losses>::type, kMaxFeatures>...};
  return table;
}

}  // namespace

namespace zipml_check {

/// The instance tables (never called: taking the addresses makes the compiler build
/// every instance).
const void* instance_table(int family) {
  switch (family) {
    case 0:
      return linear_instances(std::make_index_sequence<kNBits * kNLinearSamplings * kNLinearLosses>{});
    case 1:
      return logistic_instances(std::make_index_sequence<kNBits * kNLogisticSamplings * kNSamples>{});
    case 2:
      return quantize_instances(std::make_index_sequence<kNBits * kNFormats>{});
    default:
      return fp32_instances(std::make_index_sequence<Size<zipml::Losses>::value>{});
  }
}

}  // namespace zipml_check
