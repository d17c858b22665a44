package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	goruntime "runtime"
	"slices"
	"sort"
	"time"

	"github.com/flow-lang/flow/compiler/cost"
	"github.com/flow-lang/flow/runtime"
)

// cmdCalibrate measures the machine with the runtime's own kernels and
// writes a cost-model profile that later builds use.
func cmdCalibrate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("calibrate", "calibrate [-o FILE]", stderr)
	out := fs.String("o", "", "write the profile to `FILE` (default: $FLOW_PROFILE, else flow/profile.json in the user config directory)")
	quick := fs.Bool("quick", false, "measure briefly (less accurate; for tests)")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return usageError(err)
	}
	if len(rest) != 0 {
		fs.Usage()
		return 2
	}
	path := *out
	if path == "" {
		if path, err = cost.DefaultPath(); err != nil {
			fmt.Fprintln(stderr, "flowc:", err)
			return 1
		}
	}
	budget := 150 * time.Millisecond
	if *quick {
		budget = 5 * time.Millisecond
	}
	p := calibrate(budget, stderr)
	if err := p.Save(path); err != nil {
		fmt.Fprintln(stderr, "flowc:", err)
		return 1
	}
	printProfile(stdout, p)
	fmt.Fprintf(stdout, "wrote %s\n", path)
	return 0
}

// gemmCase is one calibrated SGEMM shape.
type gemmCase struct {
	kernel  string
	m, n, k int
	threads int // 1 runs with GOMAXPROCS(1); more with GOMAXPROCS(threads)
}

// calibrationRows are the shapes of the SGEMM kernels without packing
// that calibrate measures, each kernel forced by runtime.SgemmPlan: the
// few-rows kernel at the sizes the examples use (784-wide inputs, 512-
// and 1024-wide layers), the narrow kernel on 10-wide products (the
// readout layers) and the plain loops; the first two also split across
// the cores.
func calibrationRows(cores int, d cost.GemmDispatch) []gemmCase {
	var cs []gemmCase
	for _, th := range threadCounts(cores) {
		cs = append(cs,
			gemmCase{cost.KernelRows, 1, 10, 784, th},
			gemmCase{cost.KernelRows, 1, 512, 784, th},
			gemmCase{cost.KernelRows, 1, 1024, 3136, th},
			gemmCase{cost.KernelRows, 4, 512, 512, th},
			gemmCase{cost.KernelRows, 4, 512, 784, th},
		)
		if d.Has(cost.KernelNarrow) {
			cs = append(cs,
				gemmCase{cost.KernelNarrow, 16, 10, 512, th},
				gemmCase{cost.KernelNarrow, 100, 10, 784, th},
				gemmCase{cost.KernelNarrow, 512, 10, 1024, th},
			)
		}
	}
	return append(cs,
		gemmCase{cost.KernelSmall, 6, 6, 6, 1},
		gemmCase{cost.KernelSmall, 12, 12, 12, 1},
	)
}

// bigWeights is the size in bytes of a B from which calibrate's SGEMM
// probes read it from memory rather than from the caches (see
// gemmProbe): LeNet's 3136×1024 dense layer (12.8 MB) is above it, the
// MLP's 784×512 (1.6 MB) below.
const bigWeights = 8 << 20

// threadCounts are the goroutine counts calibrate measures: one, and
// all the cores.
func threadCounts(cores int) []int {
	if cores > 1 {
		return []int{1, cores}
	}
	return []int{1}
}

// gemmKernels maps the cost model's kernel names to the runtime's.
var gemmKernels = map[string]runtime.GemmKernel{
	cost.KernelRows:   runtime.GemmRows,
	cost.KernelSmall:  runtime.GemmSmall,
	cost.KernelNarrow: runtime.GemmNarrow,
	cost.KernelDirect: runtime.GemmDirect,
	cost.KernelPacked: runtime.GemmPacked,
}

// convKernels maps the cost model's convolution kernels to the runtime's.
var convKernels = map[string]runtime.ConvKernel{
	cost.ConvIm2col: runtime.ConvIm2col,
	cost.ConvDirect: runtime.ConvDirect,
}

// Shapes of the packed-kernel fit: a large square product, and the same
// with one dimension cut to packedThin, which exposes the overhead
// amortized over that dimension.
const (
	packedSquare = 384
	packedThin   = 16
)

// packedCases returns the four products the packed model of one thread
// count is fitted on: square, thin m, thin n, thin k.
func packedCases(threads int) [4]gemmCase {
	S, t := packedSquare, packedThin
	return [4]gemmCase{
		{cost.KernelPacked, S, S, S, threads},
		{cost.KernelPacked, t, S, S, threads},
		{cost.KernelPacked, S, t, S, threads},
		{cost.KernelPacked, S, S, t, threads},
	}
}

// fitPacked fits the packed model PeakGFLOPS / (1 + M/m + N/n + K/k) of
// one thread count to the measured times (seconds) of packedCases, once
// the modeled packing copies (PackTraffic at bandwidthGBs) are taken out:
// each thin case's slowdown against the square gives its overhead,
// relative to the square's own, which the last step removes. Noise that
// makes a thin case faster than the square gives that overhead 0.
func fitPacked(d cost.GemmDispatch, threads int, secs [4]float64, bandwidthGBs float64) cost.PackedRate {
	S, t := float64(packedSquare), float64(packedThin)
	var rates [4]float64
	for j, gc := range packedCases(threads) {
		pack := cost.PackTraffic(d, gc.m, gc.n, gc.k, threads) / (bandwidthGBs * 1e9)
		sec := max(secs[j]-pack, secs[j]/4)
		rates[j] = 2 * float64(gc.m*gc.n*gc.k) / sec / 1e9 / cost.TileEfficiency(d, gc.m, gc.n)
	}
	var o [3]float64 // overhead / (1 + square's overhead)
	q := 0.0
	for i := range o {
		o[i] = max(0, rates[0]/rates[i+1]-1) / (1/t - 1/S)
		q += o[i]
	}
	q = min(q, 0.9*S)  // keep 1 - q/S positive whatever the noise
	u := 1 / (1 - q/S) // 1 + the square's overhead
	return cost.PackedRate{Threads: threads, PeakGFLOPS: rates[0] * u, M: o[0] * u, N: o[1] * u, K: o[2] * u}
}

// probe is one microbenchmark of calibrate: run times one call of the
// kernel, best is the fastest time seen over the passes, in seconds.
type probe struct {
	name    string
	threads int // GOMAXPROCS while timing
	run     func()
	best    float64
}

// calibrationPasses is how many times calibrate sweeps over all probes.
// Each probe keeps its best time: on a shared machine a disturbance that
// spoils one pass's figure rarely spoils them all.
const calibrationPasses = 3

// calibrate runs the microbenchmarks, each for about budget per pass,
// and returns the profile they give.
func calibrate(budget time.Duration, progress io.Writer) *cost.Profile {
	cores := goruntime.GOMAXPROCS(0)
	defer goruntime.GOMAXPROCS(cores)
	p := &cost.Profile{
		Version:  cost.ProfileVersion,
		Cores:    cores,
		Dispatch: detectDispatch(),
	}
	p.Source = fmt.Sprintf("flowc calibrate, %s/%s, %d cores, %s SGEMM, %s", goruntime.GOOS, goruntime.GOARCH, cores,
		p.Dispatch.Impl, time.Now().UTC().Format(time.DateOnly))
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = rng.Float32() - 0.5
		}
		return s
	}

	var probes []*probe
	add := func(name string, threads int, run func()) *probe {
		pr := &probe{name: name, threads: threads, run: run}
		probes = append(probes, pr)
		return pr
	}
	gemmProbe := func(gc gemmCase) *probe {
		a, c := fill(gc.m*gc.k), make([]float32, gc.m*gc.n)
		// A B of a layer's size that a model reads once per call does
		// not stay in the caches between calls (other layers' work runs
		// in between): from bigWeights up, calls cycle through copies
		// larger together than a last-level cache, as the element-wise
		// probe does.
		bs := [][]float32{fill(gc.k * gc.n)}
		if 4*gc.k*gc.n >= bigWeights {
			for len(bs)*4*gc.k*gc.n < 48<<20 {
				bs = append(bs, fill(gc.k*gc.n))
			}
		}
		next := 0
		plan := runtime.GemmPlan{Kernel: gemmKernels[gc.kernel], Threads: gc.threads}
		return add(fmt.Sprintf("sgemm %s %dx%dx%d, %d thread(s)", gc.kernel, gc.m, gc.n, gc.k, gc.threads), gc.threads, func() {
			b := bs[next%len(bs)]
			next++
			runtime.SgemmPlan(plan, false, false, gc.m, gc.n, gc.k, 1, a, gc.k, b, gc.n, 0, c, gc.n)
		})
	}
	rows := calibrationRows(cores, p.Dispatch)
	rowProbes := make([]*probe, len(rows))
	for i, gc := range rows {
		rowProbes[i] = gemmProbe(gc)
	}
	// Products whose time is mostly packing: the softmax regression's
	// forward and weight-gradient GEMMs (n = 10, the second with A
	// transposed), which gives the packing copies' bandwidth.
	packA1, packB1, packC1 := fill(100*784), fill(784*10), make([]float32, 784*10)
	packed1 := runtime.GemmPlan{Kernel: runtime.GemmPacked, Threads: 1}
	packFwd := add("sgemm packing-bound 100x10x784", 1, func() {
		runtime.SgemmPlan(packed1, false, false, 100, 10, 784, 1, packA1, 784, packB1, 10, 0, packC1, 10)
	})
	packGrad := add("sgemm packing-bound 784x10x100, A transposed", 1, func() {
		runtime.SgemmPlan(packed1, true, false, 784, 10, 100, 1, packA1, 784, packB1, 10, 0, packC1, 10)
	})
	threadCounts := threadCounts(cores)
	packedProbes := make([][4]*probe, len(threadCounts))
	for i, th := range threadCounts {
		for j, gc := range packedCases(th) {
			packedProbes[i][j] = gemmProbe(gc)
		}
	}
	// Streaming element-wise work as generated code does it: an indexed
	// loop over operands the size of a layer's weights (1M elements,
	// 4 MiB each), 12 bytes of traffic per element. Each call takes the
	// next of streamSets triples, a 48 MiB working set: an optimizer's
	// many per-parameter tensors do not stay in the caches either.
	const streamN, streamSets = 1 << 20, 4
	var sets [streamSets][3][]float32
	for i := range sets {
		sets[i] = [3][]float32{fill(streamN), fill(streamN), make([]float32, streamN)}
	}
	next := 0
	stream := add("element-wise bandwidth", cores, func() {
		st := &sets[next%streamSets]
		next++
		streamSub(streamN, st[2], st[0], st[1])
	})
	x, z := sets[0][0], sets[0][2]
	// Scalar arithmetic of generated loops on data in L1: 2 FLOPs per
	// element, a multiply and an add.
	const arithN = 2048
	arith := add("element-wise arithmetic", cores, func() { scaleAdd(z[:arithN], x[:arithN], 1.5, 0.25) })
	// The fixed cost of a kernel call: the smallest SGEMM.
	one := fill(1)
	small := runtime.GemmPlan{Kernel: runtime.GemmSmall}
	call := add("call overhead", cores, func() { runtime.SgemmPlan(small, false, false, 1, 1, 1, 1, one, 1, one, 1, 0, z, 1) })
	// Fork/join: a ParallelFor that hands one range to a worker, less the
	// same work run inline.
	spin := &spinTask{}
	forkJoin := add("fork/join", cores, func() { runtime.ParallelFor(cores, 1, spin) })
	inline := add("inline task", cores, func() { spin.Run(0, cores) })
	convs := convProbes(add, fill, p.Dispatch)

	for pass := 1; pass <= calibrationPasses; pass++ {
		for _, pr := range probes {
			fmt.Fprintf(progress, "calibrate %d/%d: %s\n", pass, calibrationPasses, pr.name)
			goruntime.GOMAXPROCS(pr.threads)
			t := timeCall(budget/calibrationPasses, pr.run)
			goruntime.GOMAXPROCS(cores)
			if pr.best == 0 || t < pr.best {
				pr.best = t
			}
		}
	}

	for i, gc := range rows {
		mnk := float64(gc.m) * float64(gc.n) * float64(gc.k)
		p.Gemm = append(p.Gemm, cost.GemmRate{Kernel: gc.kernel, Threads: gc.threads, MNK: mnk, GFLOPS: 2 * mnk / rowProbes[i].best / 1e9})
	}
	p.BandwidthGBs = 12 * streamN / stream.best / 1e9
	fit := func() {
		p.Packed = nil
		for i, th := range threadCounts {
			var secs [4]float64
			for j := range secs {
				secs[j] = packedProbes[i][j].best
			}
			p.Packed = append(p.Packed, fitPacked(p.Dispatch, th, secs, p.PackBandwidth()))
		}
	}
	fit()
	// The packing bandwidth: what the packing-bound products' time leaves
	// after their modeled arithmetic, kept within [1/16, 1] of the
	// streaming bandwidth; then the packed model again with it.
	var packSec, packBytes float64
	for _, c := range []struct {
		pr      *probe
		m, n, k int
	}{{packFwd, 100, 10, 784}, {packGrad, 784, 10, 100}} {
		arith := 2 * float64(c.m*c.n*c.k) / (p.PackedGFLOPS(1, c.m, c.n, c.k) * cost.TileEfficiency(p.Dispatch, c.m, c.n) * 1e9)
		packSec += max(c.pr.best-arith, 0)
		packBytes += cost.PackTraffic(p.Dispatch, c.m, c.n, c.k, 1)
	}
	p.PackGBs = p.BandwidthGBs
	if packSec > 0 {
		p.PackGBs = min(max(packBytes/packSec/1e9, p.BandwidthGBs/16), p.BandwidthGBs)
	}
	fit()
	p.ElementwiseGFLOPS = 2 * arithN / arith.best / 1e9
	p.CallUs = call.best * 1e6
	if cores > 1 {
		p.ForkJoinUs = max(0, (forkJoin.best-inline.best)*1e6)
	}
	// The machine's share: the square single-thread GEMM run for a while
	// as one long loop, against its undisturbed (short-round) time.
	sq := packedProbes[0][0]
	fmt.Fprintln(progress, "calibrate: share of the machine under its current load")
	goruntime.GOMAXPROCS(1)
	long := timeLong(3*budget, sq.run)
	goruntime.GOMAXPROCS(cores)
	p.Share = min(1, max(0.01, sq.best/long))
	// Convolution efficiencies compare with the im2col+GEMM model on one
	// goroutine, so they come last, from the finished GEMM and bandwidth
	// figures.
	var rates []cost.ConvRate
	for _, c := range convs {
		modeled := cost.ConvModel(p, c.op, c.geom, c.geom.Batch, 1)
		rates = append(rates, cost.ConvRate{Op: c.op, Kernel: c.kernel, Patch: c.geom.KH * c.geom.KW * c.geom.InC, Efficiency: modeled / (c.best * 1e6)})
	}
	p.Conv = rates
	return p
}

// calibrationConvs are the convolution geometries calibrate measures:
// LeNet's two layers (patches of 25 and 800) at batch 16.
var calibrationConvs = []runtime.ConvShape{
	{Batch: 16, InH: 28, InW: 28, InC: 1, KH: 5, KW: 5, OutC: 32, OutH: 28, OutW: 28,
		StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, PadTop: 2, PadLeft: 2},
	{Batch: 16, InH: 14, InW: 14, InC: 32, KH: 5, KW: 5, OutC: 64, OutH: 14, OutW: 14,
		StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, PadTop: 2, PadLeft: 2},
}

// convProbe is the probe of one convolution kernel and op at one
// geometry.
type convProbe struct {
	op, kernel string
	geom       cost.ConvGeometry
	*probe
}

// convProbes adds a probe per convolution kernel, op and calibration
// geometry (where the kernel applies), each on one goroutine.
func convProbes(add func(string, int, func()) *probe, fill func(int) []float32, d cost.GemmDispatch) []convProbe {
	var out []convProbe
	for _, s := range calibrationConvs {
		x := fill(s.Batch * s.InH * s.InW * s.InC)
		f := fill(s.KH * s.KW * s.InC * s.OutC)
		y := fill(s.Batch * s.OutH * s.OutW * s.OutC)
		geom := cost.ConvGeometry{Batch: s.Batch, InH: s.InH, InW: s.InW, InC: s.InC, KH: s.KH, KW: s.KW, OutC: s.OutC,
			OutH: s.OutH, OutW: s.OutW, StrideH: s.StrideH, StrideW: s.StrideW, DilationH: s.DilationH, DilationW: s.DilationW,
			PadTop: s.PadTop, PadLeft: s.PadLeft}
		dx, df, out2 := make([]float32, len(x)), make([]float32, len(f)), make([]float32, len(y))
		kernels := []string{cost.ConvIm2col}
		if d.ConvDirect {
			kernels = append(kernels, cost.ConvDirect)
		}
		for _, kernel := range kernels {
			plan := runtime.ConvPlan{Kernel: convKernels[kernel], Threads: 1}
			for _, c := range []struct {
				op string
				fn func()
			}{
				{cost.OpConv2D, func() { runtime.Conv2DPlan(plan, out2, x, f, nil, s) }},
				{cost.OpConv2DBackpropInput, func() { runtime.Conv2DBackpropInputPlan(plan, dx, f, y, s) }},
				{cost.OpConv2DBackpropFilter, func() { runtime.Conv2DBackpropFilterPlan(plan, df, x, y, s) }},
			} {
				if kernel == cost.ConvDirect && !cost.ConvDirectApplies(c.op, geom) {
					continue
				}
				name := fmt.Sprintf("%s %s, patch %d", c.op, kernel, s.KH*s.KW*s.InC)
				out = append(out, convProbe{op: c.op, kernel: kernel, geom: geom, probe: add(name, 1, c.fn)})
			}
		}
	}
	return out
}

// detectDispatch describes the SGEMM implementation runtime.SgemmPlan
// uses in this process (the AVX2/FMA assembly on amd64 CPUs that have
// both, unless FLOW_KERNELS is "generic"; the portable Go kernels
// otherwise), with the kernels the runtime reports it has.
func detectDispatch() cost.GemmDispatch {
	var d cost.GemmDispatch
	has := map[runtime.GemmKernel]bool{}
	for _, k := range runtime.GemmKernels() {
		has[k] = true
	}
	if has[runtime.GemmDirect] {
		d = cost.AVX2Dispatch
	} else {
		d = cost.GenericDispatch
	}
	d.Kernels = nil
	for name, k := range gemmKernels {
		if has[k] {
			d.Kernels = append(d.Kernels, name)
		}
	}
	sort.Strings(d.Kernels)
	d.ConvDirect = slices.Contains(runtime.ConvKernels(), runtime.ConvDirect)
	return d
}

// timeCall returns the typical per-call time, in seconds, of fn: the
// median over rounds of about calibrationRound (or one call, if longer)
// that together take about budget. Rounds are shorter than a scheduler
// time slice, so on a shared machine most run undisturbed and the median
// is the machine's speed rather than its current load; calibrate's passes
// keep each probe's best median, so one disturbed pass does not skew it.
func timeCall(budget time.Duration, fn func()) float64 {
	fn() // warm up caches, pools and workers
	start := time.Now()
	fn()
	once := max(time.Since(start), time.Nanosecond)
	per := max(1, int(calibrationRound/once))
	var times []float64
	deadline := time.Now().Add(budget)
	for r := 0; r < 3 || time.Now().Before(deadline); r++ {
		start := time.Now()
		for i := 0; i < per; i++ {
			fn()
		}
		times = append(times, time.Since(start).Seconds()/float64(per))
	}
	sort.Float64s(times)
	return max(times[len(times)/2], 1e-12)
}

// timeLong returns the average time, in seconds, of fn called back to
// back for about budget: what a long-running loop gets, time slices lost
// to other processes included.
func timeLong(budget time.Duration, fn func()) float64 {
	fn()
	n := 0
	start := time.Now()
	for n < 1 || time.Since(start) < budget {
		fn()
		n++
	}
	return time.Since(start).Seconds() / float64(n)
}

// calibrationRound is the length of one timing round of timeCall.
const calibrationRound = 500 * time.Microsecond

// streamSub is an element-wise loop as generated code writes it: an
// index loop to a count, every access bounds-checked.
func streamSub(n int, dst, a, b []float32) {
	for i0 := 0; i0 < n; i0++ {
		dst[i0] = a[i0] - b[i0]
	}
}

// scaleAdd is a generated-style loop of one multiply and one add per
// element.
func scaleAdd(dst, a []float32, s, t float32) {
	for i := range dst {
		dst[i] = a[i]*s + t
	}
}

// spinTask is a ParallelFor task doing a trivial amount of work per
// index, so its timing is the scheduling overhead.
type spinTask struct{ sink [8]int64 }

func (t *spinTask) Run(lo, hi int) {
	for i := lo; i < hi; i++ {
		t.sink[i%8]++
	}
}

// printProfile prints a profile's figures as a short table.
func printProfile(w io.Writer, p *cost.Profile) {
	fmt.Fprintf(w, "profile: %s\n", p.Source)
	fmt.Fprintf(w, "  sgemm dispatch: %+v\n", p.Dispatch)
	fmt.Fprintf(w, "  cores %d, bandwidth %.1f GB/s, packing %.1f GB/s, element-wise %.2f GFLOP/s, fork/join %.2f µs, call %.3f µs, share %.2f\n",
		p.Cores, p.BandwidthGBs, p.PackGBs, p.ElementwiseGFLOPS, p.ForkJoinUs, p.CallUs, p.Share)
	rates := append([]cost.GemmRate(nil), p.Gemm...)
	sort.SliceStable(rates, func(i, j int) bool {
		if rates[i].Kernel != rates[j].Kernel {
			return rates[i].Kernel < rates[j].Kernel
		}
		if rates[i].Threads != rates[j].Threads {
			return rates[i].Threads < rates[j].Threads
		}
		return rates[i].MNK < rates[j].MNK
	})
	for _, r := range rates {
		fmt.Fprintf(w, "  sgemm %-6s %d thread(s)  m·n·k %12.0f  %6.2f GFLOP/s\n", r.Kernel, r.Threads, r.MNK, r.GFLOPS)
	}
	for _, r := range p.Packed {
		fmt.Fprintf(w, "  sgemm packed %d thread(s)  peak %6.2f GFLOP/s, overheads m %.1f n %.1f k %.1f\n", r.Threads, r.PeakGFLOPS, r.M, r.N, r.K)
	}
	for _, c := range p.Conv {
		fmt.Fprintf(w, "  %-22s %-6s patch %4d  efficiency %.2f of the im2col+GEMM model\n", c.Op, c.Kernel, c.Patch, c.Efficiency)
	}
}
