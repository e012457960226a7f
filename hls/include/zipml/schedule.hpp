// The step schedule shared by every SGD kernel (docs/FORMATS.md).
#pragma once

#include "format.hpp"

namespace zipml {

/// Step shift of epoch e: eta_e = 2^-(step_shift + floor(e / decay_epochs)), at most 2^-40.
inline int epoch_shift(int step_shift, int decay_epochs, int epoch) {
  const int s = step_shift + (decay_epochs > 0 ? epoch / decay_epochs : 0);
  return s > kMaxShift ? kMaxShift : s;
}

}  // namespace zipml
