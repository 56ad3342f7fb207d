// Our own C kernels, for Swift (`import CKernels`).
#include "streaming_conv.h"
#include "depthwise_conv.h"
#include "int8_epilogue.h"
#include "depthwise_int8.h"
#include "image_conv_int8.h"
#include "separable_conv.h"
#include "adam_step.h"
#include "resize_conv.h"
