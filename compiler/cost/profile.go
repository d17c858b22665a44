package cost

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
)

// ProfileVersion is the version of the profile file format this package
// reads and writes.
const ProfileVersion = 2

// ProfileEnv is the environment variable naming a profile file that
// overrides the default location.
const ProfileEnv = "FLOW_PROFILE"

// GEMM kernels, as runtime.GemmKernel names them. The cost model picks
// one per product (Gemm) and generated code runs it (runtime.SgemmPlan).
const (
	KernelRows   = "rows"   // few rows of C: rows of B swept contiguously, or dot products
	KernelSmall  = "small"  // plain triple loop, no packing
	KernelNarrow = "narrow" // few columns of C: n dot products per row of A
	KernelDirect = "direct" // the micro-kernel reading B (or Aᵀ) where it is stored
	KernelPacked = "packed" // packed, cache-blocked micro-kernel
)

// tabulated reports whether a kernel's speed is a GemmRate table (the
// kernels without packing); the packed and direct kernels have the
// PackedRate model instead.
func tabulated(kernel string) bool {
	return kernel == KernelRows || kernel == KernelSmall || kernel == KernelNarrow
}

// GemmRate is one measured point of the throughput table of the SGEMM
// kernels without packing (KernelRows, KernelSmall, KernelNarrow): the
// GFLOP/s the kernel reaches with Threads goroutines on a product of MNK
// = m*n*k multiply-adds, memory traffic included.
type GemmRate struct {
	Kernel  string  `json:"kernel"`
	Threads int     `json:"threads"`
	MNK     float64 `json:"mnk"`
	GFLOPS  float64 `json:"gflops"`
}

// GemmDispatch describes one implementation of the runtime's SGEMM (see
// runtime/gemm.go and the architecture's gemm_*.go): the kernels it has
// and the limits within which each can compute a product. The cost model
// chooses among the kernels that apply; runtime.SgemmPlan runs the choice.
type GemmDispatch struct {
	// Impl names the implementation: "generic" (portable Go) or "avx2"
	// (amd64 assembly, used when the CPU has AVX2 and FMA and
	// FLOW_KERNELS is not "generic").
	Impl string `json:"impl"`
	// Kernels lists the kernels the implementation has (Kernel*).
	Kernels []string `json:"kernels"`
	// MR×NR is the packed kernel's micro-tile; parallel products split
	// C into bands of whole tiles.
	MR int `json:"mr"`
	NR int `json:"nr"`
	// MC×KC blocks of op(A) are packed (or, by the direct kernel, read
	// in place) per NC-wide panel of op(B).
	MC int `json:"mc"`
	NC int `json:"nc"`
	// RowsMax is the largest m the few-rows kernel is considered for
	// (the runtime's takes any m, but it reads all of B per row or two,
	// and its calibrated rates are for a few rows); RowsTransB says
	// whether it also takes a transposed B.
	RowsMax    int  `json:"rows_max"`
	RowsTransB bool `json:"rows_trans_b"`
	// NarrowMaxCols is the largest n the narrow kernel is considered for
	// (A not transposed).
	NarrowMaxCols int `json:"narrow_max_cols"`
	// DirectAMaxCols is the largest n for which the direct kernel reads
	// a transposed A in place when it can read B in place too (it always
	// does when B is transposed).
	DirectAMaxCols int `json:"direct_a_max_cols"`
	// ConvDirect says whether the runtime has the direct convolution
	// kernel (runtime.ConvDirect).
	ConvDirect bool `json:"conv_direct"`
}

// Has reports whether the implementation has kernel.
func (d GemmDispatch) Has(kernel string) bool {
	for _, k := range d.Kernels {
		if k == kernel {
			return true
		}
	}
	return false
}

// Known runtime.Sgemm implementations.
var (
	// GenericDispatch is the portable Go implementation.
	GenericDispatch = GemmDispatch{Impl: "generic", Kernels: []string{KernelRows, KernelSmall, KernelPacked},
		MR: 2, NR: 4, MC: 128, NC: 1024, RowsMax: 4}
	// AVX2Dispatch is the amd64 AVX2/FMA assembly implementation.
	AVX2Dispatch = GemmDispatch{Impl: "avx2", Kernels: []string{KernelRows, KernelSmall, KernelNarrow, KernelDirect, KernelPacked},
		MR: 6, NR: 16, MC: 144, NC: 3072, RowsMax: 4, RowsTransB: true, NarrowMaxCols: 12, DirectAMaxCols: 32, ConvDirect: true}
)

// PackedRate is the calibrated throughput of the packed SGEMM kernel's
// arithmetic with Threads goroutines: PeakGFLOPS on large products,
// reduced on an m×k by k×n product to PeakGFLOPS / (1 + M/m + N/n + K/k)
// by the work that does not shrink with the product (streaming packed B
// per sliver of A rows, packed A per sliver of B columns, loading and
// storing C tiles per k block). The copies into the packing buffers are
// costed apart, as memory traffic at PackGBs (see PackTraffic).
type PackedRate struct {
	Threads    int     `json:"threads"`
	PeakGFLOPS float64 `json:"peak_gflops"`
	M          float64 `json:"m_overhead"`
	N          float64 `json:"n_overhead"`
	K          float64 `json:"k_overhead"`
}

// ConvRate is one calibrated point of a convolution kernel's efficiency
// on one op: the im2col+GEMM model's time of the call (ConvModel) over
// the kernel's measured time, at a patch size, on one goroutine.
type ConvRate struct {
	Op         string  `json:"op"`
	Kernel     string  `json:"kernel"` // ConvIm2col or ConvDirect
	Patch      int     `json:"patch"`
	Efficiency float64 `json:"efficiency"`
}

// Profile holds the machine figures the cost model turns FLOPs and bytes
// into time with. The zero value is not usable; start from Default,
// Load or LoadDefault.
type Profile struct {
	// Version is ProfileVersion.
	Version int `json:"version"`
	// Source says where the figures come from: "built-in defaults" or
	// the calibration that measured them.
	Source string `json:"source"`
	// Cores is the number of goroutines parallel kernels split work
	// across (GOMAXPROCS when calibrated).
	Cores int `json:"cores"`
	// Dispatch is the SGEMM implementation the figures were measured
	// with and its dispatch rules.
	Dispatch GemmDispatch `json:"gemm_dispatch"`
	// Gemm is the throughput table of the SGEMM kernel variants without
	// packing ("rows" and "small"), by thread count and size; estimates
	// interpolate in log(m*n*k) between the points of a (kernel, threads)
	// series and clamp at its ends.
	Gemm []GemmRate `json:"gemm"`
	// Packed models the packed kernel, per thread count.
	Packed []PackedRate `json:"packed"`
	// Conv is the calibrated efficiency of the runtime's convolution
	// kernels relative to the im2col+GEMM model of Conv (measured time
	// over modeled), by op and patch size (kh*kw*cin); estimates divide
	// by it, interpolating in log(patch). Empty means 1.
	Conv []ConvRate `json:"conv,omitempty"`
	// BandwidthGBs is the memory bandwidth of streaming element-wise
	// loops (bytes read plus written per second, in GB/s).
	BandwidthGBs float64 `json:"bandwidth_gbs"`
	// PackGBs is the bandwidth of the packed SGEMM's copies into its
	// buffers (strided gathers, slower than streaming); 0 means
	// BandwidthGBs.
	PackGBs float64 `json:"pack_gbs,omitempty"`
	// ElementwiseGFLOPS is the arithmetic rate of generated scalar loops
	// (the registry's FLOPs per second of element-wise work, in GFLOP/s).
	ElementwiseGFLOPS float64 `json:"elementwise_gflops"`
	// ForkJoinUs is the cost of one runtime.ParallelFor that hands work
	// to another goroutine and waits for it, in microseconds.
	ForkJoinUs float64 `json:"fork_join_us"`
	// Share is the fraction of the machine's speed that long-running
	// work gets on it, other processes included (1 on an idle machine,
	// about 0.5 when another busy process shares the cores). The figures
	// above are the machine's undisturbed speed: calls shorter than a
	// scheduler time slice run at it, a program that runs much longer
	// runs at Share of it. 0 means 1.
	Share float64 `json:"share,omitempty"`
	// CallUs is the fixed cost of one node's code (a kernel call or a
	// loop's setup), in microseconds.
	CallUs float64 `json:"call_us"`
}

// builtin is the default profile: the medians of three `flowc
// calibrate` runs on the reference machine (2-core AMD Zen3 VM, shared
// with other work, AVX2/FMA SGEMM), rounded. After a
// kernel change, run `flowc calibrate -o profile.json` and copy its
// figures here (the codegen goldens carry estimates made with them).
var builtin = Profile{
	Version:  ProfileVersion,
	Source:   "built-in defaults (medians of 3 flowc calibrate runs on a shared 2-core AMD EPYC, avx2 SGEMM, 2026-11-26)",
	Cores:    2,
	Dispatch: AVX2Dispatch,
	Gemm: []GemmRate{
		{KernelRows, 1, 7840, 22.2},
		{KernelRows, 1, 401408, 42.7},
		{KernelRows, 1, 1048576, 60.3},
		{KernelRows, 1, 1605632, 58.8},
		{KernelRows, 1, 3211264, 8.44},
		{KernelRows, 2, 7840, 9.32},
		{KernelRows, 2, 401408, 27.3},
		{KernelRows, 2, 1048576, 45.4},
		{KernelRows, 2, 1605632, 39.2},
		{KernelRows, 2, 3211264, 7.78},
		{KernelNarrow, 1, 81920, 26.8},
		{KernelNarrow, 1, 784000, 47.5},
		{KernelNarrow, 1, 5242880, 41.9},
		{KernelNarrow, 2, 81920, 17.1},
		{KernelNarrow, 2, 784000, 36.3},
		{KernelNarrow, 2, 5242880, 49.6},
		{KernelSmall, 1, 216, 0.659},
		{KernelSmall, 1, 1728, 1.01},
	},
	Packed: []PackedRate{
		{Threads: 1, PeakGFLOPS: 106, M: 0.0, N: 0.0, K: 2.1},
		{Threads: 2, PeakGFLOPS: 180, M: 13.8, N: 13.9, K: 22.1},
	},
	Conv: []ConvRate{
		{"conv2d", ConvIm2col, 25, 0.67},
		{"conv2d_backprop_input", ConvIm2col, 25, 0.59},
		{"conv2d_backprop_filter", ConvIm2col, 25, 0.79},
		{"conv2d", ConvDirect, 25, 2.14},
		{"conv2d_backprop_filter", ConvDirect, 25, 2.86},
		{"conv2d", ConvIm2col, 800, 1.29},
		{"conv2d_backprop_input", ConvIm2col, 800, 1.22},
		{"conv2d_backprop_filter", ConvIm2col, 800, 1.33},
		{"conv2d", ConvDirect, 800, 1.69},
		{"conv2d_backprop_input", ConvDirect, 800, 1.28},
	},
	BandwidthGBs:      12.9,
	PackGBs:           12.9,
	ElementwiseGFLOPS: 3.41,
	ForkJoinUs:        0.378,
	Share:             0.944,
	CallUs:            0.0321,
}

// Default returns a copy of the built-in profile.
func Default() *Profile {
	p := builtin
	p.Dispatch.Kernels = append([]string(nil), builtin.Dispatch.Kernels...)
	p.Gemm = append([]GemmRate(nil), builtin.Gemm...)
	p.Packed = append([]PackedRate(nil), builtin.Packed...)
	p.Conv = append([]ConvRate(nil), builtin.Conv...)
	return &p
}

// DefaultPath returns the profile file builds use: $FLOW_PROFILE when
// set, else flow/profile.json under the user's configuration directory.
func DefaultPath() (string, error) {
	if p := os.Getenv(ProfileEnv); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("locating the profile: %v (set %s to a profile file)", err, ProfileEnv)
	}
	return filepath.Join(dir, "flow", "profile.json"), nil
}

// LoadDefault loads the profile builds use and returns it with the file
// it came from. $FLOW_PROFILE, when set, must name a readable profile.
// Otherwise a missing file at the default location gives the built-in
// profile and an empty path; a file that exists but does not parse is an
// error naming it.
func LoadDefault() (*Profile, string, error) {
	path, err := DefaultPath()
	if err != nil {
		return nil, "", err
	}
	p, err := Load(path)
	if err != nil {
		if os.Getenv(ProfileEnv) == "" && errors.Is(err, fs.ErrNotExist) {
			return Default(), "", nil
		}
		return nil, "", err
	}
	return p, path, nil
}

// Load reads a profile file. Its errors name the file.
func Load(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("profile %s: %w (run `flowc calibrate -o %s` to make one)", path, fs.ErrNotExist, path)
		}
		return nil, fmt.Errorf("profile %s: %v", path, err)
	}
	return Parse(data, path)
}

// Parse decodes and validates a profile; name is the file name its
// errors mention.
func Parse(data []byte, name string) (*Profile, error) {
	var p Profile
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("profile %s: not a profile file: %v", name, err)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("profile %s: %v", name, err)
	}
	return &p, nil
}

// Bounds of profile figures: rates below minRate (GFLOP/s, GB/s) or any
// figure above maxFigure are not measurements but corruption.
const (
	minRate   = 1e-6
	maxFigure = 1e15
)

// Validate checks that p is a complete profile of this version with
// finite, positive figures.
func (p *Profile) Validate() error {
	if p.Version != ProfileVersion {
		return fmt.Errorf("version %d, want %d (re-run flowc calibrate)", p.Version, ProfileVersion)
	}
	if p.Cores < 1 || p.Cores > 1<<16 {
		return fmt.Errorf("cores = %d, want at least 1", p.Cores)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"bandwidth_gbs", p.BandwidthGBs},
		{"elementwise_gflops", p.ElementwiseGFLOPS},
	} {
		if !(f.v >= minRate && f.v <= maxFigure) {
			return fmt.Errorf("%s = %v, want a number in [%g, %g]", f.name, f.v, minRate, maxFigure)
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"fork_join_us", p.ForkJoinUs},
		{"pack_gbs", p.PackGBs},
		{"share", p.Share},
		{"call_us", p.CallUs},
	} {
		if !(f.v >= 0 && f.v <= maxFigure) {
			return fmt.Errorf("%s = %v, want a number in [0, %g]", f.name, f.v, maxFigure)
		}
	}
	d := p.Dispatch
	if d.MR < 1 || d.NR < 1 || d.MR > 1<<10 || d.NR > 1<<10 || d.MC < 1 || d.NC < 1 || d.RowsMax < 0 || d.NarrowMaxCols < 0 || d.DirectAMaxCols < 0 {
		return fmt.Errorf("gemm_dispatch %+v: want mr, nr, mc, nc >= 1, rows_max, narrow_max_cols and direct_a_max_cols >= 0", d)
	}
	for _, k := range d.Kernels {
		switch k {
		case KernelRows, KernelSmall, KernelNarrow, KernelDirect, KernelPacked:
		default:
			return fmt.Errorf("gemm_dispatch: unknown kernel %q", k)
		}
	}
	if !d.Has(KernelPacked) {
		return fmt.Errorf("gemm_dispatch: kernels %v lack %q, which every implementation has", d.Kernels, KernelPacked)
	}
	single := map[string]bool{}
	for i, r := range p.Gemm {
		if !tabulated(r.Kernel) {
			return fmt.Errorf("gemm[%d]: unknown kernel %q (want %s, %s or %s; the packed and direct kernels have their own model)", i, r.Kernel, KernelRows, KernelSmall, KernelNarrow)
		}
		if r.Threads < 1 {
			return fmt.Errorf("gemm[%d]: threads = %d, want at least 1", i, r.Threads)
		}
		if !(r.MNK >= 1 && r.MNK <= maxFigure) || !(r.GFLOPS >= minRate && r.GFLOPS <= maxFigure) {
			return fmt.Errorf("gemm[%d]: mnk = %v, gflops = %v, want mnk in [1, %g] and gflops in [%g, %g]", i, r.MNK, r.GFLOPS, maxFigure, minRate, maxFigure)
		}
		if r.Threads == 1 {
			single[r.Kernel] = true
		}
	}
	packed1 := false
	for i, r := range p.Packed {
		if r.Threads < 1 || !(r.PeakGFLOPS >= minRate && r.PeakGFLOPS <= maxFigure) {
			return fmt.Errorf("packed[%d]: threads = %d, peak_gflops = %v, want threads >= 1 and a rate in [%g, %g]", i, r.Threads, r.PeakGFLOPS, minRate, maxFigure)
		}
		for _, o := range []float64{r.M, r.N, r.K} {
			if !(o >= 0 && o <= 1e9) {
				return fmt.Errorf("packed[%d]: overheads %v, %v, %v: want numbers in [0, 1e9]", i, r.M, r.N, r.K)
			}
		}
		packed1 = packed1 || r.Threads == 1
	}
	if !packed1 {
		return fmt.Errorf("packed: no single-thread rate")
	}
	if p.Share > 1 || (p.Share > 0 && p.Share < 0.01) {
		return fmt.Errorf("share = %v, want a fraction in [0.01, 1] (or 0 for 1)", p.Share)
	}
	for i, c := range p.Conv {
		switch c.Op {
		case "conv2d", "conv2d_backprop_input", "conv2d_backprop_filter":
		default:
			return fmt.Errorf("conv[%d]: unknown op %q", i, c.Op)
		}
		if c.Kernel != ConvIm2col && c.Kernel != ConvDirect {
			return fmt.Errorf("conv[%d]: unknown kernel %q (want %s or %s)", i, c.Kernel, ConvIm2col, ConvDirect)
		}
		if c.Patch < 1 || c.Patch > 1<<30 || !(c.Efficiency >= 1e-3 && c.Efficiency <= 1e3) {
			return fmt.Errorf("conv[%d]: patch = %d, efficiency = %v, want patch >= 1 and efficiency in [0.001, 1000]", i, c.Patch, c.Efficiency)
		}
	}
	for _, k := range d.Kernels {
		if tabulated(k) && !single[k] {
			return fmt.Errorf("gemm: no single-thread rate for the %s kernel", k)
		}
	}
	return nil
}

// Save writes p as indented JSON to path, creating its directory, by
// way of a temporary file so readers never see half a profile.
func (p *Profile) Save(path string) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("profile %s: %v", path, err)
	}
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("profile %s: %v", path, err)
	}
	data = append(data, '\n')
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("profile %s: %v", path, err)
	}
	f, err := os.CreateTemp(dir, ".profile-*")
	if err != nil {
		return fmt.Errorf("profile %s: %v", path, err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp, 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("profile %s: %v", path, werr)
	}
	return nil
}

// ConvEfficiency returns the calibrated efficiency of a convolution
// kernel on an op at a patch size, interpolated in log(patch) between the
// points of that op and kernel and clamped at its ends; 1 when the
// profile has none.
func (p *Profile) ConvEfficiency(op, kernel string, patch int) float64 {
	return interpLog(len(p.Conv), func(i int) (float64, float64, bool) {
		c := p.Conv[i]
		return float64(c.Patch), c.Efficiency, c.Op == op && c.Kernel == kernel
	}, float64(max(patch, 1)))
}

// SliceUs is the scheduler time slice, in µs, below which a call runs
// undisturbed at the machine's full speed (see Profile.Share).
const SliceUs = 3000

// Slowdown returns the factor by which sharing the machine stretches a
// program whose undisturbed time is us: 1 for short programs, rising
// linearly to 1/Share for programs of a time slice and longer.
func (p *Profile) Slowdown(us float64) float64 {
	if p.Share <= 0 || p.Share >= 1 {
		return 1
	}
	return 1 + (1/p.Share-1)*min(1, max(us, 0)/SliceUs)
}

// PackBandwidth is the bandwidth, in GB/s, the packing copies are costed
// at: PackGBs, else BandwidthGBs.
func (p *Profile) PackBandwidth() float64 {
	if p.PackGBs >= minRate {
		return p.PackGBs
	}
	return p.BandwidthGBs
}

// PackedGFLOPS returns the packed kernel's throughput with threads
// goroutines on an m×k by k×n product, per useful FLOP (before the
// micro-tile edge waste TileEfficiency accounts for). A thread count the
// profile lacks scales the nearest smaller one by the ratio of thread
// counts.
func (p *Profile) PackedGFLOPS(threads, m, n, k int) float64 {
	var best *PackedRate
	for i := range p.Packed {
		r := &p.Packed[i]
		if r.Threads <= threads && (best == nil || r.Threads > best.Threads) {
			best = r
		}
	}
	if best == nil || m <= 0 || n <= 0 || k <= 0 {
		return 1 // Validate guarantees a single-thread model
	}
	scale := float64(threads) / float64(best.Threads)
	return best.PeakGFLOPS * scale / (1 + best.M/float64(m) + best.N/float64(n) + best.K/float64(k))
}

// GemmGFLOPS returns the throughput of a GEMM kernel variant with threads
// goroutines on a product of mnk multiply-adds, interpolated in log(mnk)
// from the table. A thread count the table lacks scales the nearest
// smaller series by the ratio of thread counts (perfect speed-up, an
// optimistic guess the calibration replaces).
func (p *Profile) GemmGFLOPS(kernel string, threads int, mnk float64) float64 {
	best := 0
	for _, r := range p.Gemm {
		if r.Kernel == kernel && r.Threads <= threads && r.Threads > best {
			best = r.Threads
		}
	}
	if best == 0 {
		return 1 // Validate guarantees single-thread series; unreachable for valid profiles
	}
	rate := interpLog(len(p.Gemm), func(i int) (float64, float64, bool) {
		r := p.Gemm[i]
		return r.MNK, r.GFLOPS, r.Kernel == kernel && r.Threads == best
	}, max(mnk, 1))
	return rate * float64(threads) / float64(best)
}

// interpLog interpolates linearly in log(x) between the points of a
// series — point(i) for i < n gives (x, y) and whether it belongs to the
// series — and clamps at the series' ends. It neither allocates nor
// sorts: the cost model calls it for every kernel of every batch size a
// plan considers. A series with no point gives 1.
func interpLog(n int, point func(i int) (x, y float64, ok bool), x float64) float64 {
	found := false
	var first, last, lo, hi [2]float64 // (x, y) of the smallest and largest x, and those around x
	haveLo, haveHi := false, false
	for i := range n {
		px, py, ok := point(i)
		if !ok {
			continue
		}
		if !found || px < first[0] {
			first = [2]float64{px, py}
		}
		if !found || px > last[0] {
			last = [2]float64{px, py}
		}
		found = true
		if px < x && (!haveLo || px > lo[0]) {
			lo, haveLo = [2]float64{px, py}, true
		}
		if px >= x && (!haveHi || px < hi[0]) {
			hi, haveHi = [2]float64{px, py}, true
		}
	}
	switch {
	case !found:
		return 1
	case x <= first[0]:
		return first[1]
	case x >= last[0]:
		return last[1]
	}
	t := (math.Log(x) - math.Log(lo[0])) / (math.Log(hi[0]) - math.Log(lo[0]))
	return lo[1] + t*(hi[1]-lo[1])
}
