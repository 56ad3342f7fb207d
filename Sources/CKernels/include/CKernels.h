// Our own C kernels, for Swift (`import CKernels`).
#include "streaming_conv.h"
#include "depthwise_conv.h"
#include "separable_conv.h"
#include "resize_conv.h"
