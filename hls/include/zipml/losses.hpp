// Losses of the linear model as policy types: the SGD kernels take one as a template
// parameter (like the Gradient class of Vitis Libraries' SGD framework), so the epoch
// skeleton is written once and each loss is only its residual, the derivative of the
// loss in the prediction f: the step is w -= eta r a, c -= eta r.
//
// Each policy has
//   kId           its id (LossId): the value the host passes, the same in Python;
//   kName         its name on the Python side (_kernels.Loss);
//   residual_q16  fixed point: r (Q16) from the prediction (Q16) and the label (Q16,
//                 +-2^16 for classification losses), for sgd_linear;
//   residual_f32  float32: r from the prediction and the label, for sgd_fp32;
//   kRefetch      true where the kernel should refetch full-precision samples whose
//                 low-precision margin y f lies within its error bound of 1 (sgd_linear);
//   kSecondSample true where the loss estimate is a product of the two samples'
//                 residuals (the squared losses: (q1 w - y)(q2 w - y) is unbiased for
//                 (a w - y)^2), so the kernel reports the second sample's prediction.
// A loss that fits sgd_linear: add a policy here and add it to LinearLosses. The module
// exports kId, kName, kRefetch and membership of LinearLosses (_kernels.constants()
// ['losses']), and a test compares them with the Python registry.
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "fixed_point.hpp"
#include "format.hpp"

namespace zipml {

/// Loss ids, as the host passes them.
enum class LossId : int {
  SquaredError = 0,  ///< 0.5 (f - y)^2
  Hinge = 1,         ///< max(0, 1 - y f), y = +-1
  Logistic = 2,      ///< log(1 + exp(-y f)), y = +-1
  SquaredHinge = 3,  ///< 0.5 max(0, 1 - y f)^2, y = +-1
};

/// Least squares: r = f - y.
struct SquaredError {
  static constexpr LossId kId = LossId::SquaredError;
  static constexpr const char* kName = "squared_error";
  static constexpr bool kRefetch = false;
  static constexpr bool kSecondSample = true;
  static int64_t residual_q16(int64_t pred_q16, int32_t label_q16) { return saturate32(pred_q16 - label_q16); }
  static float residual_f32(float pred, float y) { return pred - y; }
};

/// Hinge (linear SVM): r = -y where y f < 1, else 0. The margin test is the one place
/// where rounding the data can flip the step, so the kernel refetches samples near it.
struct Hinge {
  static constexpr LossId kId = LossId::Hinge;
  static constexpr const char* kName = "hinge";
  static constexpr bool kRefetch = true;
  static constexpr bool kSecondSample = false;
  static int64_t residual_q16(int64_t pred_q16, int32_t label_q16) {
    const int64_t y = label_q16 > 0 ? 1 : -1;
    const int64_t one = int64_t{1} << kLabelFrac;
    return y * pred_q16 < one ? -y * one : 0;
  }
  static float residual_f32(float pred, float y) { return y * pred < 1.0f ? -y : 0.0f; }
};

/// Logistic: r = -y / (1 + exp(y f)). Only the float32 residual (residual_f32): its
/// fixed-point kernel is the polynomial one (sgd_logistic.hpp), so sgd_linear rejects it.
struct Logistic {
  static constexpr LossId kId = LossId::Logistic;
  static constexpr const char* kName = "log_loss";
  static constexpr bool kRefetch = false;
  static constexpr bool kSecondSample = false;
  static float residual_f32(float pred, float y) { return -y / (1.0f + std::exp(y * pred)); }
};

/// Squared hinge: the derivative of 0.5 max(0, 1 - y f)^2 is -y (1 - y f) = f - y where
/// y f < 1 (y = +-1), else 0.
struct SquaredHinge {
  static constexpr LossId kId = LossId::SquaredHinge;
  static constexpr const char* kName = "squared_hinge";
  static constexpr bool kRefetch = false;
  static constexpr bool kSecondSample = true;
  static int64_t residual_q16(int64_t pred_q16, int32_t label_q16) {
    const int64_t y = label_q16 > 0 ? 1 : -1;
    return y * pred_q16 < (int64_t{1} << kLabelFrac) ? saturate32(pred_q16 - label_q16) : 0;
  }
  static float residual_f32(float pred, float y) { return y * pred < 1.0f ? pred - y : 0.0f; }
};

/// A compile-time list of types.
template <class... T>
struct TypeList {};

/// The concatenation of two type lists.
template <class A, class B>
struct Concat;
template <class... A, class... B>
struct Concat<TypeList<A...>, TypeList<B...>> {
  using type = TypeList<A..., B...>;
};

/// True when list L holds type T.
template <class L, class T>
struct Contains;
template <class T>
struct Contains<TypeList<>, T> : std::false_type {};
template <class H, class... R, class T>
struct Contains<TypeList<H, R...>, T>
    : std::integral_constant<bool, std::is_same<H, T>::value || Contains<TypeList<R...>, T>::value> {};

/// The losses of sgd_linear (the fixed-point residual of each drives the skeleton).
using LinearLosses = TypeList<SquaredError, Hinge, SquaredHinge>;
/// Every loss: the linear ones and those with a kernel of their own. sgd_fp32 takes any.
using Losses = Concat<LinearLosses, TypeList<Logistic>>::type;

}  // namespace zipml
