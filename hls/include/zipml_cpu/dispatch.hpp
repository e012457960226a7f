// The one host-side dispatch from runtime parameters to the compiled kernels: bit
// width (format.hpp's kSupportedBits), sampling (kSamplings, or a kernel's own list:
// kLinearSamplings in sgd.hpp, kLogisticSamplings in sgd_logistic.hpp), Multi sample
// count (kMultiSamples) and loss (the type lists of losses.hpp). Each kernel family has one entry below; the
// module and the testbenches both use them. A value that was not compiled throws
// std::invalid_argument naming the parameter, the value and what is allowed (the
// module turns it into ValueError).
#pragma once
#ifdef __SYNTHESIS__
#error "zipml_cpu is CPU-only code: never include it in synthesized code"
#endif
#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "zipml/format.hpp"
#include "zipml/losses.hpp"
#include "zipml/sgd.hpp"
#include "zipml/sgd_logistic.hpp"

namespace zipml {

template <int B>
using BitsTag = std::integral_constant<int, B>;
template <int M>
using SamplesTag = std::integral_constant<int, M>;

namespace detail {

[[noreturn]] inline void reject(const char* name, int value, const std::string& allowed) {
  throw std::invalid_argument(std::string(name) + " must be one of " + allowed + ", got " + std::to_string(value));
}

template <std::size_t N>
std::string join(const int (&values)[N]) {
  std::string s;
  for (std::size_t i = 0; i < N; ++i) s += (i ? ", " : "") + std::to_string(values[i]);
  return s;
}

template <class F, std::size_t... I>
bool call_bits(int bits, F& f, std::index_sequence<I...>) {
  return ((bits == kSupportedBits[I] ? (f(BitsTag<kSupportedBits[I]>{}), true) : false) || ...);
}

template <class F, std::size_t... I>
bool call_samples(int samples, F& f, std::index_sequence<I...>) {
  return ((samples == kMultiSamples[I] ? (f(SamplesTag<kMultiSamples[I]>{}), true) : false) || ...);
}

template <const auto& List, class F, std::size_t... I>
bool call_sampling(int sampling, F& f, std::index_sequence<I...>) {
  return ((sampling == static_cast<int>(List[I]) ? (f(SamplingTag<List[I]>{}), true) : false) || ...);
}

template <class T, std::size_t N>
constexpr std::make_index_sequence<N> indices(const T (&)[N]) {
  return {};
}

}  // namespace detail

/// Calls f(BitsTag<B>{}) for `bits`, one of kSupportedBits.
template <class F>
void with_bits(int bits, F&& f) {
  if (!detail::call_bits(bits, f, detail::indices(kSupportedBits)))
    detail::reject("bits", bits, detail::join(kSupportedBits));
}

/// Calls f(SamplesTag<M>{}) for `samples`, one of kMultiSamples.
template <class F>
void with_samples(int samples, F&& f) {
  if (!detail::call_samples(samples, f, detail::indices(kMultiSamples)))
    detail::reject("samples", samples, detail::join(kMultiSamples));
}

/// "0 (double), 1 (naive), ...": the ids and names of a list of samplings.
template <std::size_t N>
std::string sampling_names(const Sampling (&list)[N]) {
  std::string s;
  for (Sampling e : list)
    s += (s.empty() ? "" : ", ") + std::to_string(static_cast<int>(e)) + " (" + sampling_name(e) + ")";
  return s;
}

/// Calls f(SamplingTag<E>{}) for `sampling`, one of List: kSamplings or a kernel's list.
template <const auto& List, class F>
void with_sampling(int sampling, F&& f) {
  if (!detail::call_sampling<List>(sampling, f, detail::indices(List)))
    detail::reject("sampling", sampling, sampling_names(List));
}

/// Calls f(BitsTag<B>{}) for every B of kSupportedBits, in order.
template <class F>
void for_each_bits(F&& f) {
  for (int b : kSupportedBits) with_bits(b, f);
}

/// Calls f(SamplingTag<E>{}) for every E of List, in order.
template <const auto& List, class F>
void for_each_sampling(F&& f) {
  for (Sampling e : List) with_sampling<List>(static_cast<int>(e), f);
}

/// (id, name) of each loss policy of a list, by id.
template <class... Loss>
std::vector<std::pair<LossId, const char*>> loss_names(TypeList<Loss...>) {
  std::vector<std::pair<LossId, const char*>> names{{Loss::kId, Loss::kName}...};
  std::sort(names.begin(), names.end());
  return names;
}

/// Calls f(Loss{}) for every loss policy of the list, in list order.
template <class... Loss, class F>
void for_each_loss(TypeList<Loss...>, F&& f) {
  (f(Loss{}), ...);
}

/// Calls f(Loss{}) for the loss policy of the list whose id is `loss`.
template <class... Loss, class F>
void with_loss(int loss, TypeList<Loss...> list, F&& f) {
  if (!((loss == static_cast<int>(Loss::kId) ? (f(Loss{}), true) : false) || ...)) {
    std::string allowed;
    for (const auto& [id, name] : loss_names(list))
      allowed += (allowed.empty() ? "" : ", ") + std::to_string(static_cast<int>(id)) + " (" + name + ")";
    detail::reject("loss", loss, allowed);
  }
}

/// quantize_matrix: f(BitsTag, SamplingTag, SamplesTag) for any sampling of kSamplings;
/// the sample count is `samples` where it is a parameter (variable_samples: Multi) and
/// 2 (unused) otherwise.
template <class F>
void dispatch_quantize(int bits, int sampling, int samples, F&& f) {
  with_bits(bits, [&](auto b) {
    with_sampling<kSamplings>(sampling, [&](auto e) {
      if constexpr (variable_samples(decltype(e)::value)) {
        with_samples(samples, [&](auto m) { f(b, e, m); });
      } else {
        f(b, e, SamplesTag<2>{});
      }
    });
  });
}

/// sgd_linear: f(BitsTag, SamplingTag, Loss{}) for a sampling of kLinearSamplings and a
/// loss of LinearLosses.
template <class F>
void dispatch_sgd_linear(int bits, int sampling, int loss, F&& f) {
  with_loss(loss, LinearLosses{}, [&](auto l) {
    with_bits(bits, [&](auto b) { with_sampling<kLinearSamplings>(sampling, [&](auto e) { f(b, e, l); }); });
  });
}

/// sgd_logistic: f(BitsTag, SamplingTag, SamplesTag) for a sampling of kLogisticSamplings
/// and a sample count of kMultiSamples (the polynomial degree + 1, whatever the sampling).
template <class F>
void dispatch_sgd_logistic(int bits, int sampling, int samples, F&& f) {
  with_bits(bits, [&](auto b) {
    with_sampling<kLogisticSamplings>(sampling, [&](auto e) { with_samples(samples, [&](auto m) { f(b, e, m); }); });
  });
}

/// sgd_fp32: f(Loss{}) for any loss of Losses.
template <class F>
void dispatch_sgd_fp32(int loss, F&& f) {
  with_loss(loss, Losses{}, f);
}

}  // namespace zipml
