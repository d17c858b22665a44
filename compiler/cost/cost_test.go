package cost

import (
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flow-lang/flow/compiler/ir"
)

// flat is a hand-made profile with round figures, so expected times can
// be worked out by hand: every GEMM variant runs at a flat rate.
func flat() *Profile {
	return &Profile{
		Version: ProfileVersion, Source: "test", Cores: 2, Dispatch: GenericDispatch,
		Gemm: []GemmRate{
			{KernelRows, 1, 1, 2},
			{KernelSmall, 1, 1, 1},
		},
		// No fixed overheads: the packed kernel runs at its peak.
		Packed:       []PackedRate{{Threads: 1, PeakGFLOPS: 4}, {Threads: 2, PeakGFLOPS: 7}},
		BandwidthGBs: 10, ElementwiseGFLOPS: 1, ForkJoinUs: 3, CallUs: 0.5,
	}
}

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*max(1, math.Abs(want)) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// matmulGraph builds x[N,k] @ W[k,n] (transposing x when ta).
func matmulGraph(k, n int, ta bool) (*ir.Module, *ir.Node) {
	g := ir.NewModule("T", "t.flow")
	shape := ir.Shape{ir.Sym("N"), ir.Fixed(k)}
	if ta {
		shape = ir.Shape{ir.Fixed(k), ir.Sym("N")}
	}
	x := g.MustApply(ir.Input, nil, ir.Attrs{"dtype": ir.F32, "shape": shape})
	x.Name = "x"
	w := g.MustApply(ir.Param, nil, ir.Attrs{"dtype": ir.F32, "shape": ir.Shp(k, n)})
	w.Name = "W"
	y := g.MustApply(ir.Matmul, []*ir.Node{x, w}, ir.Attrs{"transpose_a": ta})
	g.AddOutput("y", y)
	return g, y
}

func TestMatmulFLOPsAndBytes(t *testing.T) {
	// m=100 (the batch), k=784, n=10: 2mnk FLOPs; bytes are the operands
	// read and the result written, 4 bytes each.
	_, y := matmulGraph(784, 10, false)
	e := EstimateNode(flat(), y, ir.Binding{"N": 100})
	near(t, "FLOPs", e.FLOPs, 2*100*10*784)
	near(t, "BytesRead", e.BytesRead, 4*(100*784+784*10))
	near(t, "BytesWritten", e.BytesWritten, 4*100*10)
	// 784000 multiply-adds, m = 100 > 4 rows: the generic implementation
	// has the packed and the plain-loop kernels for it. By hand, with
	// n = 10 filling 10 of the 12 columns of its three 2×4 tiles:
	//   packed×1: 1568000 FLOPs at 4000·10/12 per µs, packing A
	//     (100×784) and B (784×10) at 8 bytes per element and 10000
	//     bytes/µs, plus the call: 470.4 + 69.0 + 0.5;
	//   packed×2: split by rows (m >= n), each goroutine packs half of
	//     A and all of B, at 7000·10/12 per µs, plus fork/join 3;
	//   small: 1568000 at 1000 per µs.
	packed1 := 2*100*10*784/(4000.0*10/12) + 8*(100*784+784*10)/10000.0 + 0.5
	packed2 := 2*100*10*784/(7000.0*10/12) + 8*(100*784/2+784*10)/10000.0 + 0.5 + 3
	if e.Kernel != KernelPacked || e.Threads != 2 {
		t.Errorf("kernel %s × %d, want packed × 2 (%s)", e.Kernel, e.Threads, e.Reason)
	}
	near(t, "µs", e.Micros, packed2)
	g := Gemm(flat(), 100, 10, 784, false, false)
	if len(g.Options) != 3 {
		t.Fatalf("options %v, want packed×2, packed×1, small×1", g.Options)
	}
	near(t, "packed×1", g.Options[1].Micros, packed1)
	near(t, "small", g.Options[2].Micros, 2*100*10*784/1000.0+0.5)
	if e.Bound != "gemm" || !strings.Contains(e.Reason, "packed on 2 goroutines (next: packed×1") {
		t.Errorf("bound %q reason %q", e.Bound, e.Reason)
	}
}

// TestGemmChoosesTheFastest checks the choice against estimates worked
// out by hand, and that the options are exactly the kernels that apply.
func TestGemmChoosesTheFastest(t *testing.T) {
	p := flat()
	// One row: rows×1 = 15680/2000 + 0.5 = 8.34; rows×2 (the table
	// scales with threads) = 3.92 + 0.5 + 3 = 7.42; packed×1 with a
	// 1×10 product in 2×12 tiles: 15680/(4000·10/24) + 8·(784+7840)/
	// 10000 + 0.5 = 16.80; packed×2 (by columns): 5.376 + 3.763 + 3.5.
	g := Gemm(p, 1, 10, 784, false, false)
	if g.Kernel != KernelRows || g.Threads != 2 {
		t.Errorf("1×10×784: %s × %d (%s)", g.Kernel, g.Threads, g.Reason())
	}
	near(t, "rows×2", g.Micros, 15680/4000.0+0.5+3)
	// Without a second core the split is not an option.
	p.Cores = 1
	g = Gemm(p, 1, 10, 784, false, false)
	near(t, "rows×1", g.Micros, 15680/2000.0+0.5)
	for _, o := range g.Options {
		if o.Threads != 1 {
			t.Errorf("1 core: option %v", o)
		}
	}
	// The generic rows kernel does not take a transposed B; the AVX2
	// one does. Only the AVX2 implementation has narrow and direct, and
	// direct needs B as stored or A transposed.
	p = flat()
	has := func(g GemmChoice, kernel string) bool {
		for _, o := range g.Options {
			if o.Kernel == kernel {
				return true
			}
		}
		return false
	}
	if g := Gemm(p, 4, 512, 784, false, true); has(g, KernelRows) || has(g, KernelNarrow) || has(g, KernelDirect) {
		t.Errorf("generic, transposed B: %v", g.Options)
	}
	p.Dispatch = AVX2Dispatch
	p.Gemm = append(p.Gemm, GemmRate{KernelNarrow, 1, 1, 50})
	if g := Gemm(p, 4, 512, 784, false, true); !has(g, KernelRows) || has(g, KernelDirect) || has(g, KernelNarrow) || !has(g, KernelSmall) {
		t.Errorf("avx2, transposed B, n = 512: %v", g.Options)
	}
	if g := Gemm(p, 784, 10, 100, true, true); !has(g, KernelDirect) || has(g, KernelNarrow) {
		t.Errorf("avx2, Aᵀ·Bᵀ, n = 10: %v", g.Options)
	}
	// A fast narrow kernel wins the n = 10 product: 1568000 FLOPs at
	// 2·50000 per µs on two goroutines, plus the copy of Bᵀ (8·7840
	// bytes at 10000 per µs), the call and fork/join.
	g = Gemm(p, 100, 10, 784, false, false)
	if g.Kernel != KernelNarrow || g.Threads != 2 {
		t.Errorf("narrow: %s × %d (%v)", g.Kernel, g.Threads, g.Options)
	}
	near(t, "narrow", g.Micros, 1568000/100000.0+8*7840/10000.0+0.5+3)
	// Options are sorted and the first is the choice.
	for i := 1; i < len(g.Options); i++ {
		if g.Options[i].Micros < g.Options[i-1].Micros {
			t.Errorf("options not sorted: %v", g.Options)
		}
	}
	// The direct kernel skips B's copy but re-reads B once per MC-row
	// block of A: 8·(m·k) packed + 4·k·n·ceil(m/MC) re-read; on two
	// goroutines, each takes half of B's columns and packs all of A.
	packed, reread := DirectTraffic(AVX2Dispatch, 300, 512, 784, 1, false, false)
	near(t, "direct packed", packed, 8*300*784)
	near(t, "direct reread", reread, 4*784*512*3)
	packed, reread = DirectTraffic(AVX2Dispatch, 300, 512, 784, 2, false, false)
	near(t, "direct×2 packed", packed, 8*300*784)
	near(t, "direct×2 reread", reread, 4*784*256*3)
	// Aᵀ (k×m stored) by a 10-wide B: both read in place, rows split;
	// Aᵀ re-read once per 16-column sliver of B (one).
	packed, reread = DirectTraffic(AVX2Dispatch, 784, 10, 100, 2, true, false)
	near(t, "Aᵀ packed", packed, 0)
	near(t, "Aᵀ reread", reread, 4*100*10+4*392*100)
}

func TestRooflinePicksTheMax(t *testing.T) {
	g := ir.NewModule("T", "t.flow")
	x := g.MustApply(ir.Input, nil, ir.Attrs{"dtype": ir.F32, "shape": ir.Shp(1000)})
	add := g.MustApply(ir.Add, []*ir.Node{x, x}, nil)
	exp := g.MustApply(ir.Exp, []*ir.Node{x}, nil)
	p := flat()
	// add: 1000 FLOPs at 1 GFLOP/s = 1 µs; 12000 bytes at 10 GB/s = 1.2 µs.
	e := EstimateNode(p, add, nil)
	if e.Bound != "memory" {
		t.Errorf("add bound %s", e.Bound)
	}
	near(t, "add µs", e.Micros, 12000/10000.0+0.5)
	// exp: its registry FLOPs per element make it compute-bound.
	c := exp.Op.Cost(exp, ir.Bind(nil))
	e = EstimateNode(p, exp, nil)
	if c.FLOPs/1000 > (c.BytesRead+c.BytesWritten)/10000 {
		if e.Bound != "compute" {
			t.Errorf("exp bound %s", e.Bound)
		}
		near(t, "exp µs", e.Micros, c.FLOPs/1000+0.5)
	}
}

func TestSharedMachineSlowdown(t *testing.T) {
	p := flat()
	near(t, "idle", p.Slowdown(1e6), 1)
	p.Share = 0.5
	near(t, "short", p.Slowdown(0), 1)
	near(t, "half a slice", p.Slowdown(SliceUs/2), 1.5)
	near(t, "long", p.Slowdown(10*SliceUs), 2)
	// A long program's nodes are stretched and still sum to its total.
	g, _ := matmulGraph(784, 512, false)
	idle := Predict(g, flat(), 4096)
	shared := Predict(g, p, 4096)
	if idle.Micros < SliceUs {
		t.Fatalf("test program too short: %v µs", idle.Micros)
	}
	near(t, "shared", shared.Micros, 2*idle.Micros)
	near(t, "node", shared.Nodes[0].Micros, shared.Micros)
}

func TestThreadsFlipAtTheThreshold(t *testing.T) {
	// serial/2 + 3 < serial  ⇔  serial > 6.
	if got := Threads(6, 2, 3); got != 1 {
		t.Errorf("Threads(6) = %d, want 1", got)
	}
	if got := Threads(6.01, 2, 3); got != 2 {
		t.Errorf("Threads(6.01) = %d, want 2", got)
	}
	if got := Threads(1e6, 1, 3); got != 1 {
		t.Errorf("one core: %d", got)
	}
	if got := Threads(1e6, 4, 3); got != 4 {
		t.Errorf("big work on 4 cores: %d", got)
	}
}

func TestProgramsAndTotals(t *testing.T) {
	g, y := matmulGraph(784, 10, false)
	p := Default()
	pr := Predict(g, p, 1)
	if pr == nil || len(pr.Nodes) != 1 || pr.Nodes[0].ID != y.ID {
		t.Fatalf("predict program: %+v", pr)
	}
	if pr.Nodes[0].Kernel != KernelRows {
		t.Errorf("batch 1 kernel %s, want rows", pr.Nodes[0].Kernel)
	}
	if pr.Micros <= 0 || pr.Micros != pr.Nodes[0].Micros || pr.Batch != 1 {
		t.Errorf("total %v", pr)
	}
	if Train(g, p, 64) != nil {
		t.Error("a model without a loss has a train estimate")
	}
	// Bigger batches cost more.
	if Predict(g, p, 64).Micros <= pr.Micros {
		t.Error("batch 64 not slower than batch 1")
	}
}

func TestProfileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "profile.json")
	p := flat()
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	q, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(p)
	b, _ := json.Marshal(q)
	if string(a) != string(b) {
		t.Errorf("round trip:\n%s\n%s", a, b)
	}
	if err := Default().Validate(); err != nil {
		t.Errorf("built-in profile: %v", err)
	}
}

func TestProfileErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.json")
	_, err := Load(missing)
	if err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	for name, body := range map[string]string{
		"corrupt.json":  `{"version": 2, "cores": `,
		"empty.json":    ``,
		"version.json":  `{"version": 99}`,
		"cores.json":    `{"version": 2, "cores": 0}`,
		"nogemm.json":   `{"version": 2, "cores": 2, "bandwidth_gbs": 1, "elementwise_gflops": 1}`,
		"kernel.json":   `{"version": 2, "cores": 2, "bandwidth_gbs": 1, "elementwise_gflops": 1, "gemm": [{"kernel": "magic", "threads": 1, "mnk": 1, "gflops": 1}]}`,
		"nopacked.json": `{"version": 2, "cores": 2, "bandwidth_gbs": 1, "elementwise_gflops": 1, "gemm_dispatch": {"kernels": ["rows", "small", "packed"], "mr": 2, "nr": 4, "mc": 8, "nc": 8}, "gemm": [{"kernel": "rows", "threads": 1, "mnk": 1, "gflops": 1}, {"kernel": "small", "threads": 1, "mnk": 1, "gflops": 1}]}`,
		"negative.json": `{"version": 2, "cores": 2, "bandwidth_gbs": -1, "elementwise_gflops": 1}`,
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestLoadDefault(t *testing.T) {
	dir := t.TempDir()
	// FLOW_PROFILE names a file that must exist.
	t.Setenv(ProfileEnv, filepath.Join(dir, "none.json"))
	if _, _, err := LoadDefault(); err == nil || !strings.Contains(err.Error(), "none.json") {
		t.Errorf("missing FLOW_PROFILE: %v", err)
	}
	path := filepath.Join(dir, "p.json")
	if err := flat().Save(path); err != nil {
		t.Fatal(err)
	}
	t.Setenv(ProfileEnv, path)
	p, from, err := LoadDefault()
	if err != nil || from != path || p.Source != "test" {
		t.Errorf("FLOW_PROFILE: %v %q %v", p, from, err)
	}
	// No FLOW_PROFILE and no file at the default location: the defaults.
	t.Setenv(ProfileEnv, "")
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("HOME", dir)
	p, from, err = LoadDefault()
	if err != nil || from != "" || p.Source != builtin.Source {
		t.Errorf("defaults: %v %q %v", p, from, err)
	}
}

func TestPackedOverheads(t *testing.T) {
	p := &Profile{Packed: []PackedRate{{Threads: 1, PeakGFLOPS: 10, M: 8, N: 4, K: 16}}}
	// 1 + 8/16 + 4/4 + 16/32 = 3.
	near(t, "rate", p.PackedGFLOPS(1, 16, 4, 32), 10.0/3)
	near(t, "big", p.PackedGFLOPS(1, 8e6, 4e6, 16e6), 10/(1+3e-6))
	near(t, "2 threads scaled", p.PackedGFLOPS(2, 16, 4, 32), 20.0/3)
}

func TestGemmInterpolation(t *testing.T) {
	p := &Profile{Gemm: []GemmRate{
		{KernelRows, 1, 1000, 2},
		{KernelRows, 1, 1e6, 4},
	}}
	near(t, "below", p.GemmGFLOPS(KernelRows, 1, 10), 2)
	near(t, "above", p.GemmGFLOPS(KernelRows, 1, 1e9), 4)
	near(t, "log-midpoint", p.GemmGFLOPS(KernelRows, 1, math.Sqrt(1000*1e6)), 3)
	// No 2-thread series: scale the 1-thread one.
	near(t, "scaled", p.GemmGFLOPS(KernelRows, 2, 1e6), 8)
}

func FuzzParseProfile(f *testing.F) {
	good, _ := json.Marshal(Default())
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"version":2,"cores":2,"gemm":[{"kernel":"rows","threads":1,"mnk":1e308,"gflops":1e-308}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data, "fuzz.json")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.json") {
				t.Errorf("error without the file name: %v", err)
			}
			return
		}
		// A valid profile gives finite, non-negative estimates.
		for _, s := range [][3]int{{1, 10, 784}, {8, 8, 8}, {64, 512, 784}, {512, 512, 512}} {
			g := Gemm(p, s[0], s[1], s[2], false, false)
			if !(g.Micros >= 0) || math.IsInf(g.Micros, 0) {
				t.Errorf("Gemm%v = %v µs", s, g.Micros)
			}
		}
	})
}

// TestFusionSavesTheIntermediate checks a fused producer by hand: in
// y = neg(add(x, x)) with the add fused into the neg, the add writes
// nothing, the neg does not read the add back, and the program moves the
// bytes of x and y only.
func TestFusionSavesTheIntermediate(t *testing.T) {
	g := ir.NewModule("T", "t.flow")
	x := g.MustApply(ir.Input, nil, ir.Attrs{"dtype": ir.F32, "shape": ir.Shp(1000)})
	add := g.MustApply(ir.Add, []*ir.Node{x, x}, nil)
	neg := g.MustApply(ir.Neg, []*ir.Node{add}, nil)
	p := flat()
	plain := Estimate(p, "predict", []*ir.Node{x, add, neg}, nil)
	fused := estimate(p, "predict", []*ir.Node{x, add, neg}, nil, Fusion{add: neg}, nil)
	near(t, "plain bytes", plain.Bytes, 8000+4000+4000+4000) // add reads x twice, writes; neg reads, writes
	near(t, "fused bytes", fused.Bytes, 8000+4000)           // x twice in, y out
	if e := fused.Nodes[0]; e.Kernel != "fused" || e.BytesWritten != 0 || !strings.Contains(e.Reason, "inside") {
		t.Errorf("fused add: %+v", e)
	}
	// Each is compute-bound at 1 GFLOP/s: add 1000 FLOPs (1 µs > 8000 B
	// at 10 GB/s), without the call overhead; neg 1 µs + 0.5. Unfused,
	// add is memory-bound (12000 B: 1.2 µs) + 0.5 and neg 1 µs + 0.5.
	near(t, "fused µs", fused.Micros, 1+1+0.5)
	near(t, "plain µs", plain.Micros, 1.2+0.5+1+0.5)
	if fused.Micros >= plain.Micros {
		t.Errorf("fusion did not pay: %v >= %v", fused.Micros, plain.Micros)
	}
}

// TestEpilogueCostsNoTraffic checks a node mapped to a matmul in the
// fusion (a bias or ReLU the GEMM applies as it writes) by hand: no
// bytes, its FLOPs at eight times the scalar rate, no call overhead,
// and the matmul's estimate untouched.
func TestEpilogueCostsNoTraffic(t *testing.T) {
	g, y := matmulGraph(784, 10, false)
	r := g.MustApply(ir.Relu, []*ir.Node{y}, nil)
	p := flat()
	b := ir.Binding{"N": 100}
	pr := estimate(p, "predict", []*ir.Node{y, r}, b, Fusion{r: y}, nil)
	near(t, "matmul", pr.Nodes[0].Micros, EstimateNode(p, y, b).Micros)
	e := pr.Nodes[1]
	if e.Kernel != "epilogue" || e.BytesRead != 0 || e.BytesWritten != 0 {
		t.Errorf("relu in the epilogue: %+v", e)
	}
	near(t, "relu µs", e.Micros, 1000/8000.0) // 1000 FLOPs at 8 × 1 GFLOP/s
}
