/* The options tables the compiler reads (compile*.c): their BuiltinOptions union codes (OPT_*) and
 * the positions of their values in the walker's tuples (model/_schema.FIELDS order, string fields
 * skipped). Each line's comment names the table and field, and tests/native/test_compile.py checks
 * every line against model/_schema. */
#ifndef EL_OPTIONS_H
#define EL_OPTIONS_H

#define OPT_CONV 1              /* Conv2DOptions union */
#define OPT_DEPTHWISE 2         /* DepthwiseConv2DOptions union */
#define OPT_POOL 5              /* Pool2DOptions union */
#define OPT_FC 8                /* FullyConnectedOptions union */
#define OPT_SOFTMAX 9           /* SoftmaxOptions union */
#define OPT_CONCAT 10           /* ConcatenationOptions union */
#define OPT_ADD 11              /* AddOptions union */
#define OPT_RESIZE_BILINEAR 15  /* ResizeBilinearOptions union */
#define OPT_RESHAPE 17          /* ReshapeOptions union */
#define OPT_MUL 21              /* MulOptions union */
#define OPT_REDUCER 27          /* ReducerOptions union */
#define OPT_SUB 28              /* SubOptions union */
#define OPT_DIV 29              /* DivOptions union */
#define OPT_SQUEEZE 30          /* SqueezeOptions union */
#define OPT_LEAKY_RELU 75       /* LeakyReluOptions union */
#define OPT_HARD_SWISH 91       /* HardSwishOptions union */
#define OPT_GELU 116            /* GeluOptions union */

#define CONV_PADDING 0          /* Conv2DOptions field Padding */
#define CONV_STRIDE_W 1         /* Conv2DOptions field StrideW */
#define CONV_STRIDE_H 2         /* Conv2DOptions field StrideH */
#define CONV_ACTIVATION 3       /* Conv2DOptions field FusedActivationFunction */
#define CONV_DILATION_W 4       /* Conv2DOptions field DilationWFactor */
#define CONV_DILATION_H 5       /* Conv2DOptions field DilationHFactor */
#define DW_PADDING 0            /* DepthwiseConv2DOptions field Padding */
#define DW_STRIDE_W 1           /* DepthwiseConv2DOptions field StrideW */
#define DW_STRIDE_H 2           /* DepthwiseConv2DOptions field StrideH */
#define DW_MULTIPLIER 3         /* DepthwiseConv2DOptions field DepthMultiplier */
#define DW_ACTIVATION 4         /* DepthwiseConv2DOptions field FusedActivationFunction */
#define DW_DILATION_W 5         /* DepthwiseConv2DOptions field DilationWFactor */
#define DW_DILATION_H 6         /* DepthwiseConv2DOptions field DilationHFactor */
#define FC_ACTIVATION 0         /* FullyConnectedOptions field FusedActivationFunction */
#define FC_WEIGHTS_FORMAT 1     /* FullyConnectedOptions field WeightsFormat */
#define FC_KEEP_NUM_DIMS 2      /* FullyConnectedOptions field KeepNumDims */
#define FC_ASYMMETRIC 3         /* FullyConnectedOptions field AsymmetricQuantizeInputs */
#define POOL_PADDING 0          /* Pool2DOptions field Padding */
#define POOL_STRIDE_W 1         /* Pool2DOptions field StrideW */
#define POOL_STRIDE_H 2         /* Pool2DOptions field StrideH */
#define POOL_FILTER_W 3         /* Pool2DOptions field FilterWidth */
#define POOL_FILTER_H 4         /* Pool2DOptions field FilterHeight */
#define POOL_ACTIVATION 5       /* Pool2DOptions field FusedActivationFunction */
#define SOFTMAX_BETA 0          /* SoftmaxOptions field Beta */
#define CONCAT_AXIS 0           /* ConcatenationOptions field Axis */
#define CONCAT_ACTIVATION 1     /* ConcatenationOptions field FusedActivationFunction */
#define ADD_ACTIVATION 0        /* AddOptions field FusedActivationFunction */
#define SUB_ACTIVATION 0        /* SubOptions field FusedActivationFunction */
#define MUL_ACTIVATION 0        /* MulOptions field FusedActivationFunction */
#define DIV_ACTIVATION 0        /* DivOptions field FusedActivationFunction */
#define REDUCER_KEEP_DIMS 0     /* ReducerOptions field KeepDims */
#define RESIZE_ALIGN_CORNERS 0  /* ResizeBilinearOptions field AlignCorners */
#define RESIZE_HALF_PIXEL 1     /* ResizeBilinearOptions field HalfPixelCenters */
#define LEAKY_RELU_ALPHA 0      /* LeakyReluOptions field Alpha */
#define GELU_APPROXIMATE 0      /* GeluOptions field Approximate */

#endif
