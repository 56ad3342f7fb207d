import GraphCore

/// IR → IR rewrites that change a model's architecture: the spec's optimization techniques applied to a
/// trained graph for real, each in its own file, each initialising the new weights from the old ones as
/// well as it can and stating what it preserves. Unlike `InferenceRewrites`, most change the function
/// and need fine-tuning; `RewriteResult.changes` says per layer by how much the weight moved.
///
/// - `removeInterpolation` — drop bilinear resizes (exact only at the target size)
/// - `groupConvolutions(groups:)` — keep the block-diagonal part of 3×3 weights
/// - `depthwiseSeparable` — best per-input-channel rank-1 split into depthwise + pointwise
/// - `lowRank(rank:)` — truncated SVD into `r×C×kH×kW` + `K×r×1×1`
/// - `shareParameters` — tie each ResNet block's conv2 weight to its conv1 weight
/// - `pruneChannels(fraction:)` — drop the lowest-L1 output channels of conv→BN→ReLU→conv chains
///
/// Reduced-precision weights (`InferenceRewrites.roundWeights(to:)`) keep the function up to rounding
/// and live with the other inference rewrites.
public enum ArchitectureRewrites {}
