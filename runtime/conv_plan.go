package runtime

import "fmt"

// ConvKernel names one of the convolution algorithms.
type ConvKernel uint8

const (
	// ConvAuto is the runtime's own dispatch: it picks the kernel and the
	// goroutines itself (ConvPlan.Threads is ignored). It is what Conv2D,
	// Conv2DBackpropInput and Conv2DBackpropFilter use.
	ConvAuto ConvKernel = iota
	// ConvIm2col lowers groups of images to a matrix of patches and
	// multiplies it with the filter by SGEMM (the input gradient scatters
	// the patch gradients back with col2im). A pointwise convolution (1×1
	// filter, stride 1, no padding, output as large as the input) needs no
	// patches: its images are the matrix.
	ConvIm2col
	// ConvDirect is the direct kernel (conv_direct.go): it multiplies the
	// taps of three output pixels, read from a zero-padded copy of the
	// image, with 32 filter columns at a time, all sums in registers. It
	// needs AVX2 and FMA (see ConvKernels) and applies, as
	// ConvDirectApplies reports, when
	//
	//   - conv2d: InC <= 64 and OutC is a multiple of 32;
	//   - conv2d_backprop_input (computed as the stride-1 convolution of
	//     dy with the flipped filter): StrideH = StrideW = 1,
	//     PadTop <= (KH-1)*DilationH, PadLeft <= (KW-1)*DilationW,
	//     OutC <= 64 and InC a multiple of 32;
	//   - conv2d_backprop_filter: InC <= 4 and OutC a multiple of 32.
	//
	// Elsewhere, or without AVX2 and FMA, a plan asking for ConvDirect runs
	// ConvIm2col (with the plan's Threads), which is what ConvAuto would
	// pick there.
	ConvDirect
)

// String returns "auto", "im2col" or "direct".
func (k ConvKernel) String() string {
	switch k {
	case ConvAuto:
		return "auto"
	case ConvIm2col:
		return "im2col"
	case ConvDirect:
		return "direct"
	}
	return fmt.Sprintf("ConvKernel(%d)", uint8(k))
}

// ConvPlan is how one convolution call runs, as the compiler's cost model
// chose it.
type ConvPlan struct {
	// Kernel is the algorithm; see ConvKernel for the fallbacks.
	Kernel ConvKernel
	// Threads is the number of goroutines that share the images (each
	// takes groups of whole images and runs its GEMMs single-threaded); 0
	// or 1 runs everything on the caller. It is capped at GOMAXPROCS and
	// the batch, and ignored by ConvAuto. With im2col, more threads than
	// images (a batch of one) split each GEMM across goroutines instead.
	Threads int
	// Relu, for the forward convolution only, stores max(conv + bias, 0)
	// (Relu's semantics: NaN and -0 become 0).
	Relu bool
}

// ConvKernels reports the kernels, other than ConvAuto, that this build
// and CPU run as asked: ConvIm2col always, ConvDirect with AVX2 and FMA
// (and not under FLOW_KERNELS=generic). For calibration.
func ConvKernels() []ConvKernel {
	if convDirectArch == nil {
		return []ConvKernel{ConvIm2col}
	}
	return []ConvKernel{ConvIm2col, ConvDirect}
}

// ConvDirectApplies reports whether ConvDirect applies to the geometry s
// for op, one of the IR's "conv2d", "conv2d_backprop_input" and
// "conv2d_backprop_filter" (false for any other op): the rule of
// ConvDirect, a pure function of the geometry. Whether the CPU has the
// kernel is ConvKernels' concern.
func ConvDirectApplies(s ConvShape, op string) bool {
	switch op {
	case "conv2d":
		return s.directApplies(convForward)
	case "conv2d_backprop_input":
		return s.directApplies(convBackInput)
	case "conv2d_backprop_filter":
		return s.directApplies(convBackFilter)
	}
	return false
}

// directApplies is ConvDirectApplies for a convolution kind (convForward,
// convBackInput or convBackFilter).
func (s ConvShape) directApplies(op int) bool {
	switch op {
	case convForward:
		return s.InC <= convDirectMaxC && s.OutC%32 == 0
	case convBackInput:
		t, ok := s.backInputAsConv()
		return ok && t.directApplies(convForward)
	case convBackFilter:
		return s.InC <= convDirectFilterMaxC && s.OutC%32 == 0
	}
	return false
}

// schedule resolves plan for a convolution kind over s, whose batch and
// output are not empty: whether the direct kernel runs, and on how many
// goroutines the images are shared out (runConvParallel). workers 0 is
// ConvAuto's serial path: the whole batch (pointwise) or chunks of images
// as single, internally parallel GEMMs. This is the one place where the
// convolutions choose how they run.
func (s ConvShape) schedule(op int, plan ConvPlan) (direct bool, workers int) {
	switch plan.Kernel {
	case ConvAuto:
		// Pointwise convolutions are one GEMM; the direct kernel where it
		// applies; otherwise images shared out from convParallelMinImages.
		switch {
		case s.isPointwise():
			return false, 0
		case convDirectArch != nil && s.directApplies(op):
			return true, parallelRanges(s.Batch, 1)
		case s.Batch >= convParallelMinImages:
			return false, parallelRanges(s.Batch, 1)
		}
		return false, 0
	case ConvIm2col, ConvDirect:
		direct = plan.Kernel == ConvDirect && convDirectArch != nil && s.directApplies(op)
		workers = min(max(plan.Threads, 1), parallelRanges(s.Batch, 1))
		if !direct && workers < 2 && plan.Threads > 1 {
			// Too few images to share: the serial path, whose GEMMs
			// split across goroutines themselves.
			return false, 0
		}
		return direct, workers
	}
	panic(fmt.Sprintf("runtime: invalid convolution kernel %v in plan", plan.Kernel))
}

// Conv2DPlan computes Conv2D as plan says, adding bias (nil, or at least
// OutC values, bias[o] added to output channel o of every pixel) and, if
// plan.Relu, applying Relu. Bias and ReLU are applied to each group of
// images, chunk or row of output pixels as soon as the convolution has
// finished it, while it is still in cache, not as separate passes over
// dst. Scratch memory is pooled: steady-state calls allocate nothing.
//
// Conv2DPlan panics if s is invalid, a slice is too short for it or
// plan.Kernel is not a ConvKernel.
func Conv2DPlan(plan ConvPlan, dst, x, filter, bias []float32, s ConvShape) {
	conv2D("Conv2DPlan", plan, dst, x, filter, bias, s)
}

// Conv2DBackpropInputPlan computes Conv2DBackpropInput as plan says.
//
// It panics if plan.Relu is set (only the forward convolution fuses a
// ReLU), s is invalid, a slice is too short for it or plan.Kernel is not a
// ConvKernel.
func Conv2DBackpropInputPlan(plan ConvPlan, dx, filter, dy []float32, s ConvShape) {
	noRelu("Conv2DBackpropInputPlan", plan)
	conv2DBackpropInput("Conv2DBackpropInputPlan", plan, dx, filter, dy, s)
}

// Conv2DBackpropFilterPlan computes Conv2DBackpropFilter as plan says.
//
// It panics if plan.Relu is set (only the forward convolution fuses a
// ReLU), s is invalid, a slice is too short for it or plan.Kernel is not a
// ConvKernel.
func Conv2DBackpropFilterPlan(plan ConvPlan, dfilter, x, dy []float32, s ConvShape) {
	noRelu("Conv2DBackpropFilterPlan", plan)
	conv2DBackpropFilter("Conv2DBackpropFilterPlan", plan, dfilter, x, dy, s)
}

// noRelu panics if a gradient's plan asks for a fused ReLU.
func noRelu(fn string, plan ConvPlan) {
	if plan.Relu {
		panic(fmt.Sprintf("runtime.%s: plan.Relu is set, but only the forward convolution (Conv2DPlan) fuses a ReLU", fn))
	}
}

// convEpilogue adds bias (nil: none), bias[o] to element o of every run
// of oc values in d, and then applies Relu if relu. len(d) is a multiple
// of oc, and bias, if not nil, holds oc values. The architecture's vector
// loop (convEpilogueArch) does what it can, with the same results.
func convEpilogue(d, bias []float32, oc int, relu bool) {
	if bias == nil && !relu {
		return
	}
	d = d[convEpilogueArch(d, bias, oc, relu):]
	switch {
	case bias != nil && relu:
		for p := 0; p < len(d); p += oc {
			row := d[p : p+oc]
			b := bias[:len(row)]
			for o, v := range row {
				row[o] = Relu(v + b[o])
			}
		}
	case bias != nil:
		for p := 0; p < len(d); p += oc {
			row := d[p : p+oc]
			b := bias[:len(row)]
			for o := range row {
				row[o] += b[o]
			}
		}
	case relu:
		for i, v := range d {
			d[i] = Relu(v)
		}
	}
}
