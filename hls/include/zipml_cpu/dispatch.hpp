// The one host-side dispatch from runtime parameters to the compiled kernels: bit
// width (format.hpp's kSupportedBits), sampling, Multi sample count (kMultiSamples) and
// loss (the type lists of losses.hpp). Each kernel family has one entry below; the
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

namespace zipml {

template <int B>
using BitsTag = std::integral_constant<int, B>;
template <Sampling E>
using SamplingTag = std::integral_constant<Sampling, E>;
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

template <std::size_t N>
constexpr std::make_index_sequence<N> indices(const int (&)[N]) {
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

/// Calls f(SamplingTag<E>{}) for `sampling`, one of `Allowed`.
template <Sampling... Allowed, class F>
void with_sampling(int sampling, F&& f) {
  if (!((sampling == static_cast<int>(Allowed) ? (f(SamplingTag<Allowed>{}), true) : false) || ...)) {
    std::string allowed;
    ((allowed += (allowed.empty() ? "" : ", ") + std::to_string(static_cast<int>(Allowed)) + " (" +
                  sampling_name(Allowed) + ")"),
     ...);
    detail::reject("sampling", sampling, allowed);
  }
}

/// (id, name) of each loss policy of a list, by id.
template <class... Loss>
std::vector<std::pair<LossId, const char*>> loss_names(TypeList<Loss...>) {
  std::vector<std::pair<LossId, const char*>> names{{Loss::kId, Loss::kName}...};
  std::sort(names.begin(), names.end());
  return names;
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

/// quantize_matrix: f(BitsTag, SamplingTag, SamplesTag) for any sampling; the sample
/// count is `samples` for Multi and 2 (unused) otherwise.
template <class F>
void dispatch_quantize(int bits, int sampling, int samples, F&& f) {
  with_bits(bits, [&](auto b) {
    with_sampling<Sampling::Double, Sampling::Naive, Sampling::Nearest, Sampling::Multi>(sampling, [&](auto e) {
      if constexpr (decltype(e)::value == Sampling::Multi) {
        with_samples(samples, [&](auto m) { f(b, e, m); });
      } else {
        f(b, e, SamplesTag<2>{});
      }
    });
  });
}

/// sgd_linear: f(BitsTag, SamplingTag, Loss{}) for Double, Naive or Nearest data and a
/// loss of LinearLosses.
template <class F>
void dispatch_sgd_linear(int bits, int sampling, int loss, F&& f) {
  with_loss(loss, LinearLosses{}, [&](auto l) {
    with_bits(bits, [&](auto b) {
      with_sampling<Sampling::Double, Sampling::Naive, Sampling::Nearest>(sampling, [&](auto e) { f(b, e, l); });
    });
  });
}

/// sgd_logistic: f(BitsTag, SamplingTag, SamplesTag) for Naive, Nearest or Multi data and
/// a sample count of kMultiSamples (the polynomial degree + 1, whatever the sampling).
template <class F>
void dispatch_sgd_logistic(int bits, int sampling, int samples, F&& f) {
  with_bits(bits, [&](auto b) {
    with_sampling<Sampling::Naive, Sampling::Nearest, Sampling::Multi>(sampling, [&](auto e) {
      with_samples(samples, [&](auto m) { f(b, e, m); });
    });
  });
}

/// sgd_fp32: f(Loss{}) for any loss of Losses.
template <class F>
void dispatch_sgd_fp32(int loss, F&& f) {
  with_loss(loss, Losses{}, f);
}

}  // namespace zipml
