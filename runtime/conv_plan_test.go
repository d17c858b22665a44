package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	goruntime "runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// planKernels are the kernels every plan test runs.
var planKernels = []ConvKernel{ConvAuto, ConvIm2col, ConvDirect}

// planCases are the geometries of the plan tests: LeNet's two
// convolutions, strides 2, VALID padding, pointwise filters, output
// channel counts the direct kernel takes and does not take, batches 1 and
// 5. For each, the comment says where ConvDirect applies (F: forward, I:
// input gradient, W: filter gradient); elsewhere it falls back.
func planCases() []ConvShape {
	var out []ConvShape
	for _, b := range []int{1, 5} {
		out = append(out,
			convGeom(b, 28, 28, 1, 5, 5, 32, 1, 1, 1, 1, true),   // LeNet 1: F, W
			convGeom(b, 14, 14, 32, 5, 5, 64, 1, 1, 1, 1, true),  // LeNet 2: F, I
			convGeom(b, 6, 7, 5, 1, 1, 32, 1, 1, 1, 1, true),     // pointwise: F
			convGeom(b, 11, 10, 3, 3, 3, 32, 2, 2, 1, 1, true),   // strides 2: F, W
			convGeom(b, 9, 8, 32, 3, 3, 32, 1, 1, 1, 1, false),   // VALID: F, I
			convGeom(b, 7, 6, 3, 3, 3, 4, 1, 1, 1, 1, true),      // none
			convGeom(b, 6, 7, 3, 1, 1, 6, 1, 1, 1, 1, true),      // pointwise, none
			convGeom(b, 10, 9, 2, 3, 2, 64, 2, 1, 1, 2, false),   // VALID, strides, dilation: F, W
			convGeom(b, 8, 8, 64, 3, 3, 32, 1, 1, 1, 1, true),    // F, I
			convGeom(b, 9, 9, 4, 4, 4, 96, 3, 3, 1, 1, false),    // F, W
			convGeom(b, 12, 11, 65, 3, 3, 32, 1, 1, 1, 1, false), // too many channels: none
		)
	}
	return out
}

// requireCloseTo requires got[i] to be want[i] within 1e-5 of the largest
// |want|, failing once with the first offending element (cheaper than an
// assertion per element on large outputs).
func requireCloseTo(t *testing.T, want []float64, got []float32, format string, args ...any) {
	t.Helper()
	require.Len(t, got, len(want))
	var scale float64
	for _, v := range want {
		scale = math.Max(scale, math.Abs(v))
	}
	tol := 1e-5 * math.Max(scale, 1)
	for i := range want {
		if !(math.Abs(want[i]-float64(got[i])) <= tol) {
			t.Fatalf("%s: element %d is %v, want %v (±%g)", fmt.Sprintf(format, args...), i, got[i], want[i], tol)
		}
	}
}

// withProcs runs f with GOMAXPROCS at least procs, so that plans with up
// to procs threads really split.
func withProcs(procs int, f func()) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(max(procs, goruntime.GOMAXPROCS(0))))
	f()
}

// TestConvPlanMatchesNaive runs every kernel on 1, 2 and 3 threads, with
// and without bias and ReLU, for the three convolutions, against the
// seven-deep loop.
func TestConvPlanMatchesNaive(t *testing.T) {
	withProcs(4, func() { testConvPlans(t, planCases()) })
}

// TestConvPlanGenericKernels checks the fallback of ConvDirect where the
// CPU has no direct kernel (as under FLOW_KERNELS=generic or on other
// architectures).
func TestConvPlanGenericKernels(t *testing.T) {
	saved := convDirectArch
	defer func() { convDirectArch = saved }()
	convDirectArch = nil
	require.Equal(t, []ConvKernel{ConvIm2col}, ConvKernels())
	var cases []ConvShape
	for _, s := range planCases() {
		if s.InH*s.InW <= 100 {
			cases = append(cases, s)
		}
	}
	withProcs(4, func() { testConvPlans(t, cases) })
}

func testConvPlans(t *testing.T, cases []ConvShape) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, s := range cases {
		if raceEnabled && s.InH*s.InW*s.InC*s.OutC > 100*32 {
			continue // the race detector makes the reference too slow
		}
		x, f, dy := randSlice(r, s.inputLen()), randSlice(r, s.filterLen()), randSlice(r, s.outputLen())
		bias := randSlice(r, s.OutC+3) // longer than needed: only OutC are read
		wantY := make([]float64, s.outputLen())
		wantDX := make([]float64, s.inputLen())
		wantDF := make([]float64, s.filterLen())
		naiveConv(s, func(xi, fi, yi int) {
			wantY[yi] += float64(x[xi]) * float64(f[fi])
			wantDX[xi] += float64(dy[yi]) * float64(f[fi])
			wantDF[fi] += float64(x[xi]) * float64(dy[yi])
		})
		finished := make([]float64, len(wantY))
		for _, kernel := range planKernels {
			for _, threads := range []int{1, 2, 3} {
				for _, withBias := range []bool{false, true} {
					for _, relu := range []bool{false, true} {
						plan := ConvPlan{Kernel: kernel, Threads: threads, Relu: relu}
						var b []float32
						if withBias {
							b = bias
						}
						for i, v := range wantY {
							if b != nil {
								v += float64(b[i%s.OutC])
							}
							if relu {
								v = math.Max(v, 0)
							}
							finished[i] = v
						}
						y := garbage(s.outputLen())
						Conv2DPlan(plan, y, x, f, b, s)
						requireCloseTo(t, finished, y, "%v %+v bias %v: y", s, plan, withBias)
					}
				}
				plan := ConvPlan{Kernel: kernel, Threads: threads}
				dx := garbage(s.inputLen())
				Conv2DBackpropInputPlan(plan, dx, f, dy, s)
				requireCloseTo(t, wantDX, dx, "%v %+v: dx", s, plan)
				df := garbage(s.filterLen())
				Conv2DBackpropFilterPlan(plan, df, x, dy, s)
				requireCloseTo(t, wantDF, df, "%v %+v: dfilter", s, plan)
			}
		}
	}
}

// TestConvPlanSchedule checks how plans resolve: threads capped at the
// batch and GOMAXPROCS, ConvDirect only where it applies and the CPU has
// it, ConvAuto as the runtime's own dispatch.
func TestConvPlanSchedule(t *testing.T) {
	withProcs(4, func() {
		procs := goruntime.GOMAXPROCS(0)
		hasDirect := convDirectArch != nil
		lenet1 := convGeom(3, 28, 28, 1, 5, 5, 32, 1, 1, 1, 1, true)
		odd := convGeom(64, 7, 6, 3, 3, 3, 4, 1, 1, 1, 1, true)
		point := convGeom(64, 6, 7, 5, 1, 1, 32, 1, 1, 1, 1, true)
		for _, c := range []struct {
			s       ConvShape
			op      int
			plan    ConvPlan
			direct  bool
			workers int
		}{
			{lenet1, convForward, ConvPlan{Kernel: ConvIm2col, Threads: 2}, false, 2}, // below convParallelMinImages
			{lenet1, convForward, ConvPlan{Kernel: ConvIm2col, Threads: 8}, false, 3}, // capped at the batch
			{lenet1, convForward, ConvPlan{Kernel: ConvIm2col}, false, 1},
			{lenet1, convForward, ConvPlan{Kernel: ConvDirect, Threads: 1}, hasDirect, 1},
			{lenet1, convBackFilter, ConvPlan{Kernel: ConvDirect, Threads: 2}, hasDirect, 2},
			{lenet1, convBackInput, ConvPlan{Kernel: ConvDirect, Threads: 2}, false, 2}, // InC 1: not a multiple of 32
			{lenet1, convForward, ConvPlan{Threads: 1}, hasDirect, map[bool]int{true: 3, false: 0}[hasDirect]},
			{odd, convForward, ConvPlan{Kernel: ConvIm2col, Threads: 64}, false, procs},
			{odd, convForward, ConvPlan{Kernel: ConvDirect, Threads: 1}, false, 1},
			{odd, convForward, ConvPlan{}, false, procs},
			{point, convForward, ConvPlan{}, false, 0},
			{point, convForward, ConvPlan{Kernel: ConvIm2col, Threads: 2}, false, 2},
			{point, convForward, ConvPlan{Kernel: ConvDirect, Threads: 2}, hasDirect, 2},
		} {
			want := c.workers
			if want > 0 { // js/wasm has one P whatever GOMAXPROCS is asked for
				want = min(want, procs)
			}
			direct, workers := c.s.schedule(c.op, c.plan)
			require.Equal(t, c.direct, direct, "%v op %d %+v: direct", c.s, c.op, c.plan)
			require.Equal(t, want, workers, "%v op %d %+v: workers", c.s, c.op, c.plan)
		}
	})
}

func TestConvDirectApplies(t *testing.T) {
	lenet1 := convGeom(64, 28, 28, 1, 5, 5, 32, 1, 1, 1, 1, true)
	lenet2 := convGeom(64, 14, 14, 32, 5, 5, 64, 1, 1, 1, 1, true)
	strided := convGeom(64, 14, 14, 32, 5, 5, 64, 2, 2, 1, 1, true)
	wide := convGeom(64, 14, 14, 65, 3, 3, 64, 1, 1, 1, 1, true)
	for _, c := range []struct {
		s         ConvShape
		op        string
		applies   bool
		rationale string
	}{
		{lenet1, "conv2d", true, "1 channel, 32 outputs"},
		{lenet1, "conv2d_backprop_input", false, "reads dy's 32 channels into 1: not a multiple of 32"},
		{lenet1, "conv2d_backprop_filter", true, "1 channel"},
		{lenet2, "conv2d", true, "32 channels"},
		{lenet2, "conv2d_backprop_input", true, "stride 1, 64 dy channels into 32"},
		{lenet2, "conv2d_backprop_filter", false, "32 channels > 4"},
		{strided, "conv2d_backprop_input", false, "stride 2"},
		{wide, "conv2d", false, "65 channels"},
		{lenet1, "max_pool", false, "not a convolution"},
	} {
		require.Equal(t, c.applies, ConvDirectApplies(c.s, c.op), "%s on %v: %s", c.op, c.s, c.rationale)
	}
}

func TestConvKernels(t *testing.T) {
	require.Equal(t, "auto", ConvAuto.String())
	require.Equal(t, "im2col", ConvIm2col.String())
	require.Equal(t, "direct", ConvDirect.String())
	require.Equal(t, "ConvKernel(7)", ConvKernel(7).String())
	ks := ConvKernels()
	require.Contains(t, ks, ConvIm2col)
	require.Equal(t, convDirectArch != nil, len(ks) == 2 && ks[1] == ConvDirect)
}

func TestConvPlanBadArguments(t *testing.T) {
	s := convGeom(2, 5, 5, 2, 3, 3, 32, 1, 1, 1, 1, true)
	x, f, y := make([]float32, s.inputLen()), make([]float32, s.filterLen()), make([]float32, s.outputLen())
	require.PanicsWithValue(t, "runtime.Conv2DBackpropInputPlan: plan.Relu is set, but only the forward convolution (Conv2DPlan) fuses a ReLU",
		func() { Conv2DBackpropInputPlan(ConvPlan{Relu: true}, x, f, y, s) })
	require.PanicsWithValue(t, "runtime.Conv2DBackpropFilterPlan: plan.Relu is set, but only the forward convolution (Conv2DPlan) fuses a ReLU",
		func() { Conv2DBackpropFilterPlan(ConvPlan{Relu: true}, f, x, y, s) })
	require.PanicsWithValue(t, fmt.Sprintf("runtime.Conv2DPlan: bias has 31 elements, want 32 for %v", s),
		func() { Conv2DPlan(ConvPlan{}, y, x, f, make([]float32, 31), s) })
	require.PanicsWithValue(t, fmt.Sprintf("runtime.Conv2DPlan: x has %d elements, want %d for %v", len(x)-1, len(x), s),
		func() { Conv2DPlan(ConvPlan{}, y, x[1:], f, nil, s) })
	require.PanicsWithValue(t, "runtime: invalid convolution kernel ConvKernel(9) in plan",
		func() { Conv2DPlan(ConvPlan{Kernel: 9}, y, x, f, nil, s) })
}

// TestConvEpilogueIsRelu checks the fused bias and ReLU element by element
// against Relu (NaN, -0 and infinities included) and the plain sum, for
// channel counts the vector loop takes (multiples of 8) and does not, and
// lengths with and without a tail.
func TestConvEpilogueIsRelu(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	specials := []float32{nan, -1, negZero, 0, 2, inf, -inf, 3, -5, 0.5, nan, 1e-30, -1e-30}
	r := rand.New(rand.NewPCG(27, 28))
	for _, oc := range []int{1, 4, 8, 12, 32, 64} {
		for _, pixels := range []int{1, 3, 7} {
			vals := randSlice(r, oc*pixels)
			bias := randSlice(r, oc)
			for i := range vals {
				if i%3 == 0 {
					vals[i] = specials[(i/3)%len(specials)]
				}
			}
			for i := range bias {
				if i%2 == 0 {
					bias[i] = specials[(i/2+5)%len(specials)]
				}
			}
			for _, b := range [][]float32{nil, bias} {
				for _, relu := range []bool{false, true} {
					d := append([]float32(nil), vals...)
					convEpilogue(d, b, oc, relu)
					for i, v := range vals {
						want := v
						if b != nil {
							want += b[i%oc]
						}
						if relu {
							want = Relu(want)
						}
						require.Equal(t, math.Float32bits(want), math.Float32bits(d[i]), "oc %d pixels %d bias %v relu %v element %d", oc, pixels, b != nil, relu, i)
					}
				}
			}
		}
	}
}

// TestConvPlanReluOfNaN checks that a NaN in the input becomes 0 through
// the fused ReLU of every kernel, as Relu makes it.
func TestConvPlanReluOfNaN(t *testing.T) {
	s := convGeom(2, 6, 6, 1, 3, 3, 32, 1, 1, 1, 1, true)
	x := make([]float32, s.inputLen())
	x[0] = float32(math.NaN())
	f := make([]float32, s.filterLen())
	for i := range f {
		f[i] = 1
	}
	for _, kernel := range planKernels {
		for _, threads := range []int{1, 2} {
			y := garbage(s.outputLen())
			Conv2DPlan(ConvPlan{Kernel: kernel, Threads: threads, Relu: true}, y, x, f, nil, s)
			for i, v := range y {
				require.Equal(t, float32(0), v, "kernel %v threads %d element %d", kernel, threads, i)
			}
		}
	}
}

func TestConvPlanSteadyStateDoesNotAllocate(t *testing.T) {
	for _, s := range []ConvShape{
		convGeom(8, 12, 12, 3, 5, 5, 32, 1, 1, 1, 1, true),
		convGeom(3, 7, 7, 2, 3, 3, 4, 2, 2, 1, 1, false),
		convGeom(5, 10, 10, 32, 5, 5, 32, 1, 1, 1, 1, true),
		convGeom(4, 6, 6, 8, 1, 1, 32, 1, 1, 1, 1, true),
	} {
		r := rand.New(rand.NewPCG(23, 24))
		x, f, dy := randSlice(r, s.inputLen()), randSlice(r, s.filterLen()), randSlice(r, s.outputLen())
		bias := randSlice(r, s.OutC)
		y, dx, df := make([]float32, len(dy)), make([]float32, len(x)), make([]float32, len(f))
		requireZeroAllocs(t, parallelProcs(), 5, func() {
			for _, kernel := range planKernels {
				for _, threads := range []int{1, 2} {
					plan := ConvPlan{Kernel: kernel, Threads: threads}
					Conv2DBackpropInputPlan(plan, dx, f, dy, s)
					Conv2DBackpropFilterPlan(plan, df, x, dy, s)
					plan.Relu = true
					Conv2DPlan(plan, y, x, f, bias, s)
				}
			}
		})
	}
}

// BenchmarkConvPlan runs LeNet's convolutions and their gradients at
// batch 64 with each kernel on one and two goroutines: the data of the
// compiler's cost model.
func BenchmarkConvPlan(b *testing.B) {
	ops := []struct {
		name string
		run  func(p ConvPlan, s ConvShape, x, f, y []float32)
	}{
		{"conv2d", func(p ConvPlan, s ConvShape, x, f, y []float32) { Conv2DPlan(p, y, x, f, nil, s) }},
		{"backprop_input", func(p ConvPlan, s ConvShape, x, f, y []float32) { Conv2DBackpropInputPlan(p, x, f, y, s) }},
		{"backprop_filter", func(p ConvPlan, s ConvShape, x, f, y []float32) { Conv2DBackpropFilterPlan(p, f, x, y, s) }},
	}
	for _, op := range ops {
		for _, kernel := range []ConvKernel{ConvIm2col, ConvDirect} {
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/%v/threads=%d", op.name, kernel, threads), func(b *testing.B) {
					p := ConvPlan{Kernel: kernel, Threads: threads}
					benchConv(b, func(s ConvShape, x, f, y []float32) { op.run(p, s, x, f, y) })
				})
			}
		}
	}
}

// BenchmarkConvBiasRelu compares LeNet's first convolution at batch 64
// with bias and ReLU fused into it against Conv2D followed by separate
// bias and ReLU passes over the output, and against the convolution alone.
func BenchmarkConvBiasRelu(b *testing.B) {
	s := lenetConvs[0].s
	r := rand.New(rand.NewPCG(25, 26))
	x, f, y := randSlice(r, s.inputLen()), randSlice(r, s.filterLen()), randSlice(r, s.outputLen())
	bias := randSlice(r, s.OutC)
	for _, kernel := range []ConvKernel{ConvAuto, ConvIm2col, ConvDirect} {
		b.Run(fmt.Sprintf("%v/fused", kernel), func(b *testing.B) {
			for b.Loop() {
				Conv2DPlan(ConvPlan{Kernel: kernel, Threads: 2, Relu: true}, y, x, f, bias, s)
			}
		})
		b.Run(fmt.Sprintf("%v/plain", kernel), func(b *testing.B) {
			for b.Loop() {
				Conv2DPlan(ConvPlan{Kernel: kernel, Threads: 2}, y, x, f, nil, s)
			}
		})
		b.Run(fmt.Sprintf("%v/separate", kernel), func(b *testing.B) {
			for b.Loop() {
				Conv2DPlan(ConvPlan{Kernel: kernel, Threads: 2}, y, x, f, nil, s)
				for p := 0; p < len(y); p += s.OutC {
					row := y[p : p+s.OutC]
					for o := range row {
						row[o] += bias[o]
					}
				}
				for i, v := range y {
					y[i] = Relu(v)
				}
			}
		})
	}
}
