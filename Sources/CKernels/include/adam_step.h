#ifndef PNEUMO_ADAM_STEP_H
#define PNEUMO_ADAM_STEP_H

#include <stdint.h>

/// One Adam step (PyTorch's order of operations, `GraphCore.AdamUpdate`) over `count` floats, in 16 (AVX-512F) or
/// 8 (AVX2) lanes. The arithmetic is the scalar reference's operation for operation, with no fused multiply-adds,
/// so each element comes out bit-identical to `AdamUpdate.apply`: the vector build is only faster, never different.
///
///     g' = g + wd·p                      (L2; with `decoupled`, p' = p·(1 − lr·wd) and g' = g)
///     m  = β₁·m + (1 − β₁)·g'            v = β₂·v + (1 − β₂)·g'·g'
///     p  = p − stepSize·m / (√v / correction2Root + ε)
typedef struct {
    float learningRate, weightDecay, beta1, beta2, epsilon;
    float stepSize;         // lr / (1 − β₁ᵗ)
    float correction2Root;  // √(1 − β₂ᵗ)
    int32_t decoupled;      // AdamW
} pneumo_adam;

/// Updates `p`, `m`, `v` in place from `g` (all `count` floats, any alignment); returns 0 when some g' is NaN or
/// ±∞ (the update then still ran over every element, as the reference's does). `isa` is PNEUMO_ISA_AVX512 or
/// PNEUMO_ISA_AVX2, which this CPU must run.
int pneumo_adam_step(int32_t isa, const pneumo_adam *adam, float *p, const float *g, float *m, float *v, int64_t count);

#endif
