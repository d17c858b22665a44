package cost

import (
	"fmt"
	"sort"
	"strings"

	"github.com/flow-lang/flow/compiler/ir"
)

// Convolution ops, as ConvGeometry and ConvRate name them.
const (
	OpConv2D               = "conv2d"
	OpConv2DBackpropInput  = "conv2d_backprop_input"
	OpConv2DBackpropFilter = "conv2d_backprop_filter"
)

// Convolution kernels, as runtime.ConvKernel names them.
const (
	ConvIm2col = "im2col" // patch matrix and one SGEMM per chunk of images
	ConvDirect = "direct" // the direct kernel, without a patch matrix
)

// ConvGeometry is the shape of a convolution over NHWC images, as the
// runtime's ConvShape describes it.
type ConvGeometry struct {
	Batch, InH, InW, InC int
	KH, KW, OutC         int
	OutH, OutW           int
	StrideH, StrideW     int
	DilationH, DilationW int // 0 means 1
	PadTop, PadLeft      int
}

// pointwise reports whether the convolution is a plain matrix product
// over pixels (1×1 filter, stride 1, no padding).
func (s ConvGeometry) pointwise() bool {
	return s.KH == 1 && s.KW == 1 && s.StrideH == 1 && s.StrideW == 1 && s.PadTop == 0 && s.PadLeft == 0 &&
		s.OutH == s.InH && s.OutW == s.InW
}

// ConvDirectApplies reports whether the runtime's direct kernel can
// compute op on s, by runtime.ConvDirectApplies's rule: conv2d with at
// most 64 input channels and output channels in whole blocks of 32; the
// input gradient, computed as the stride-1 convolution of the output
// gradient with the flipped filter, when the stride is 1, the padding at
// most the dilated filter's reach, at most 64 output channels and input
// channels in blocks of 32; the filter gradient with at most 4 input
// channels and output channels in blocks of 32.
func ConvDirectApplies(op string, s ConvGeometry) bool {
	dh, dw := max(s.DilationH, 1), max(s.DilationW, 1)
	switch op {
	case OpConv2D:
		return s.InC <= 64 && s.OutC%32 == 0
	case OpConv2DBackpropInput:
		return s.StrideH == 1 && s.StrideW == 1 && s.PadTop <= (s.KH-1)*dh && s.PadLeft <= (s.KW-1)*dw &&
			s.OutC <= 64 && s.InC%32 == 0
	case OpConv2DBackpropFilter:
		return s.InC <= 4 && s.OutC%32 == 0
	}
	return false
}

// ConvOption is one way of running a convolution the cost model
// considered.
type ConvOption struct {
	Kernel  string  `json:"kernel"`
	Threads int     `json:"threads"`
	Micros  float64 `json:"us"`
}

// ConvChoice is the cost model's decision for one convolution call,
// which generated code runs with the runtime's Conv2D*Plan functions.
type ConvChoice struct {
	Kernel  string
	Threads int
	Micros  float64
	// Options are every kernel and goroutine count considered, fastest
	// first.
	Options []ConvOption

	// What Reason needs: the profile, op and geometry decided on, or a
	// fixed text.
	p   *Profile
	op  string
	geo ConvGeometry
	why string
}

// Reason explains the choice: the kernel (for im2col, its chunks and
// GEMM), the goroutines and the two runners-up. It is built when asked:
// plans evaluate thousands of choices and read none of their reasons.
func (c ConvChoice) Reason() string {
	if c.why != "" || c.p == nil {
		return c.why
	}
	if c.geo.pointwise() {
		return "1×1 stride-1 convolution is one GEMM over pixels: " + convGemm(c.p, c.op, c.geo, c.geo.Batch, c.p.Cores).Reason()
	}
	var why strings.Builder
	if c.Kernel == ConvDirect {
		why.WriteString("direct kernel")
	} else {
		why.WriteString(ConvModelText(c.p, c.op, c.geo, c.geo.Batch, 1))
	}
	fmt.Fprintf(&why, "; %d goroutine(s)", c.Threads)
	writeRunnersUp(&why, len(c.Options), func(i int) (string, int, float64) {
		o := c.Options[i]
		return o.Kernel, o.Threads, o.Micros
	})
	return why.String()
}

// Conv chooses how to run the runtime's op (OpConv2D or a gradient) on
// geometry s: im2col+GEMM or, where it applies, the direct kernel, on 1
// to Cores goroutines, whichever is estimated fastest. A 1×1 stride-1
// convolution is one GEMM over pixels, chosen by Gemm.
//
// Both kernels are estimated from the im2col+GEMM model (ConvModel) of
// the images one goroutine computes, divided by the kernel's calibrated
// efficiency at the patch size (Profile.ConvEfficiency). Goroutines
// share whole images, each running its GEMMs on its own; with fewer
// images than goroutines, im2col's GEMMs are split instead
// (runtime.ConvPlan.Threads).
func Conv(p *Profile, op string, s ConvGeometry) ConvChoice {
	rows, patch := s.OutH*s.OutW, s.KH*s.KW*s.InC
	if s.Batch == 0 || rows == 0 {
		return ConvChoice{Kernel: ConvIm2col, Threads: 1, Micros: p.CallUs, why: "empty batch",
			Options: []ConvOption{{ConvIm2col, 1, p.CallUs}}}
	}
	if s.pointwise() {
		g := convGemm(p, op, s, s.Batch, p.Cores)
		return ConvChoice{Kernel: ConvIm2col, Threads: g.Threads, Micros: g.Micros,
			Options: []ConvOption{{ConvIm2col, g.Threads, g.Micros}}, p: p, op: op, geo: s}
	}
	opts := make([]ConvOption, 0, 2*max(p.Cores, 1))
	consider := func(kernel string, threads int, us float64) {
		if threads > 1 {
			us += p.ForkJoinUs
		}
		opts = append(opts, ConvOption{kernel, threads, us})
	}
	direct := p.Dispatch.ConvDirect && ConvDirectApplies(op, s)
	for t := 1; t <= max(p.Cores, 1); t++ {
		if t > s.Batch {
			// Too few images to share: im2col's GEMMs split instead.
			us := ConvModel(p, op, s, s.Batch, t)
			consider(ConvIm2col, t, us/p.ConvEfficiency(op, ConvIm2col, patch))
			continue
		}
		imgs := (s.Batch + t - 1) / t
		us := ConvModel(p, op, s, imgs, 1)
		consider(ConvIm2col, t, us/p.ConvEfficiency(op, ConvIm2col, patch))
		if direct {
			consider(ConvDirect, t, us/p.ConvEfficiency(op, ConvDirect, patch))
		}
	}
	sort.SliceStable(opts, func(i, j int) bool { return opts[i].Micros < opts[j].Micros })
	best := opts[0]
	return ConvChoice{Kernel: best.Kernel, Threads: best.Threads, Micros: best.Micros, Options: opts, p: p, op: op, geo: s}
}

// convChunks splits imgs images of geometry s into the runtime's chunks
// (as many images as fit its 4 MiB patch-matrix scratch): full chunks of
// chunk images and a last one of rest.
func convChunks(s ConvGeometry, imgs int) (chunk, full, rest int) {
	rows, patch := s.OutH*s.OutW, s.KH*s.KW*s.InC
	chunk = max(1, min(imgs, convColMax/max(rows*patch, 1)))
	return chunk, imgs / chunk, imgs % chunk
}

// ConvModel is the im2col+GEMM model of op on imgs images of geometry s
// with GEMMs of up to gemmThreads goroutines, in µs: per chunk of images
// that fits the runtime's 4 MiB scratch, an im2col (col2im for the input
// gradient) pass over the patch matrix at the streaming bandwidth and
// one SGEMM as Gemm would run it. ConvModelText describes it.
func ConvModel(p *Profile, op string, s ConvGeometry, imgs, gemmThreads int) float64 {
	rows, patch := s.OutH*s.OutW, s.KH*s.KW*s.InC
	chunk, full, rest := convChunks(s, imgs)
	colPass := func(n int) float64 {
		// im2col writes (col2im reads and scatters) the patch matrix,
		// reading (writing) the images.
		return 4*float64(n)*float64(rows)*float64(patch)*2/(p.BandwidthGBs*1e3) + p.CallUs
	}
	g := convGemm(p, op, s, chunk, gemmThreads)
	us := float64(full) * (g.Micros + colPass(chunk))
	if rest > 0 {
		us += convGemm(p, op, s, rest, gemmThreads).Micros + colPass(rest)
	}
	return us
}

// ConvModelText describes ConvModel's estimate: the patch matrix, its
// chunks and the GEMM's choice.
func ConvModelText(p *Profile, op string, s ConvGeometry, imgs, gemmThreads int) string {
	rows, patch := s.OutH*s.OutW, s.KH*s.KW*s.InC
	chunk, full, rest := convChunks(s, imgs)
	g := convGemm(p, op, s, chunk, gemmThreads)
	pass := "im2col"
	if op == OpConv2DBackpropInput {
		pass = "col2im"
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s of %d×%d patches", pass, rows, patch)
	if n := full + min(rest, 1); n > 1 {
		fmt.Fprintf(&sb, " in %d chunks of %d images", n, chunk)
	}
	fmt.Fprintf(&sb, ", GEMM %s", g.Reason())
	return sb.String()
}

// convGemm is the GEMM of op over imgs images of geometry s.
func convGemm(p *Profile, op string, s ConvGeometry, imgs, threads int) GemmChoice {
	rows, patch := s.OutH*s.OutW, s.KH*s.KW*s.InC
	switch op {
	case OpConv2D:
		return gemmUpTo(p, imgs*rows, s.OutC, patch, false, false, threads)
	case OpConv2DBackpropInput:
		return gemmUpTo(p, imgs*rows, patch, s.OutC, false, true, threads)
	default:
		return gemmUpTo(p, patch, s.OutC, imgs*rows, true, false, threads)
	}
}

// NodeConvGeometry returns the geometry of a convolution node (conv2d
// or one of its gradients) under the binding b.
func NodeConvGeometry(n *ir.Node, b ir.Binding) ConvGeometry {
	w := ir.NodeWindow(n)
	var batch, cin, cout int
	switch n.Op {
	case ir.Conv2d:
		batch = n.Type.Shape[0].Eval(b)
		cin, cout = n.Inputs[1].Type.Shape[2].Size, n.Inputs[1].Type.Shape[3].Size
	case ir.Conv2dBackpropInput:
		batch = n.Inputs[1].Type.Shape[0].Eval(b)
		cin, cout = n.Inputs[0].Type.Shape[2].Size, n.Inputs[0].Type.Shape[3].Size
	default:
		batch = n.Inputs[0].Type.Shape[0].Eval(b)
		cin, cout = n.Type.Shape[2].Size, n.Type.Shape[3].Size
	}
	return ConvGeometry{
		Batch: batch, InH: w.InH, InW: w.InW, InC: cin, KH: w.KH, KW: w.KW, OutC: cout,
		OutH: w.OutH, OutW: w.OutW, StrideH: w.StrideH, StrideW: w.StrideW, DilationH: w.DilationH, DilationW: w.DilationW,
		PadTop: w.PadTop, PadLeft: w.PadLeft,
	}
}

// estimateConv estimates a convolution node with Conv.
func estimateConv(p *Profile, n *ir.Node, b ir.Binding, e *NodeEstimate) {
	c := Conv(p, n.Op.Name, NodeConvGeometry(n, b))
	e.Kernel, e.Threads, e.Micros, e.Reason, e.Bound = c.Kernel, c.Threads, c.Micros, c.Reason(), "compute"
}
