// Declarations of the synthesis tops in zipml_tops.cpp (for host code and testbenches).
#pragma once
#include <cstdint>

#define ZIPML_DECLARE_QUANTIZED_TOP(NAME)                                                                       \
  extern "C" void NAME(const uint64_t* data, const int32_t* labels, const int32_t* model_in, int32_t* history, \
                       int n, int d, int n_copies, int epochs, int step_shift, int decay_epochs, int dot_mult);

ZIPML_DECLARE_QUANTIZED_TOP(zipml_sgd_b1_double)
ZIPML_DECLARE_QUANTIZED_TOP(zipml_sgd_b1_naive)
ZIPML_DECLARE_QUANTIZED_TOP(zipml_sgd_b2_double)
ZIPML_DECLARE_QUANTIZED_TOP(zipml_sgd_b2_naive)
ZIPML_DECLARE_QUANTIZED_TOP(zipml_sgd_b4_double)
ZIPML_DECLARE_QUANTIZED_TOP(zipml_sgd_b4_naive)
ZIPML_DECLARE_QUANTIZED_TOP(zipml_sgd_b8_double)
ZIPML_DECLARE_QUANTIZED_TOP(zipml_sgd_b8_naive)
#undef ZIPML_DECLARE_QUANTIZED_TOP

extern "C" void zipml_sgd_fp32(const float* data, const float* labels, const float* model_in, float* history,
                               int n, int d, int row_stride, int epochs, int step_shift, int decay_epochs);
