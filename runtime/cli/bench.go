package cli

import (
	"bufio"
	"fmt"
	"math"
	"os"
	goruntime "runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flow-lang/flow/runtime"
)

// Bench defaults.
const (
	defaultBenchWarmup = 3
	// minBenchIterations and benchTarget set the default number of timed
	// iterations: at least minBenchIterations, and more until benchTarget
	// has passed.
	minBenchIterations = 10
	benchTarget        = 2 * time.Second
	// maxBenchIterations bounds the default for very fast calls.
	maxBenchIterations = 1_000_000
	// benchSeed seeds the synthetic inputs.
	benchSeed = 1
)

// benchResult is the JSON object bench --json prints.
type benchResult struct {
	Model      string  `json:"model"`
	What       string  `json:"what"`
	Batch      int     `json:"batch"`
	Threads    int     `json:"threads"`
	Warmup     int     `json:"warmup"`
	Iterations int     `json:"iterations"`
	MedianUS   float64 `json:"median_us"`
	P10US      float64 `json:"p10_us"`
	P90US      float64 `json:"p90_us"`
	MinUS      float64 `json:"min_us"`
	MeanUS     float64 `json:"mean_us"`
	// ExamplesPerS is the batch size over the median call time.
	ExamplesPerS float64 `json:"examples_per_s"`
	// AllocsPerCall and BytesPerCall are the heap allocations of the timed
	// loop divided by its iterations.
	AllocsPerCall float64 `json:"allocs_per_call"`
	BytesPerCall  float64 `json:"bytes_per_call"`
	// PeakRSSKB is the process's peak resident set size (VmHWM), where the
	// system reports it.
	PeakRSSKB int64 `json:"peak_rss_kb,omitempty"`
}

// benchConfig is one benchmark to run.
type benchConfig struct {
	what       string // "train" or "predict"
	batch      int
	warmup     int
	iterations int // 0: enough for about target, at least minIterations
	// minIterations and target size the run when iterations is 0.
	minIterations int
	target        time.Duration
	// cpuProfile, if not empty, is the file the timed calls' CPU profile
	// is written to.
	cpuProfile string
}

func runBench(e *env, args []string) error {
	fs := e.newFlags("bench", "--what train|predict --batch B [--threads T] [--iterations N] [--warmup W] [--json] [--cpuprofile FILE]",
		"Bench times the model's training step (--what train) or inference\n"+
			"(--what predict) on synthetic inputs of batch B: a few warm-up calls,\n"+
			"then timed calls, reporting the median, 10th and 90th percentile call\n"+
			"times, examples per second, heap allocations per call and the peak\n"+
			"resident memory. Training steps update the parameters, which does not\n"+
			"matter for timing. By default it times as many calls as take about\n"+
			benchTarget.String()+", at least "+strconv.Itoa(minBenchIterations)+".")
	what := fs.String("what", "", "what to time: `train` or predict")
	batch := fs.Int("batch", 0, "examples per call (required)")
	threads := fs.Int("threads", 0, "number of threads (GOMAXPROCS); 0 means all cores")
	iterations := fs.Int("iterations", 0, "number of timed calls; 0 means enough for about "+benchTarget.String()+", at least "+strconv.Itoa(minBenchIterations))
	warmup := fs.Int("warmup", defaultBenchWarmup, "number of untimed calls before timing")
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the timed calls to `file` (for go tool pprof)")
	if err := parse(fs, args); err != nil {
		return err
	}
	bad := func(format string, a ...any) error {
		return &usageError{msg: "bench: " + fmt.Sprintf(format, a...), usage: fs.Usage}
	}
	switch {
	case *what == "":
		return bad("--what is required (train or predict)")
	case *what != "train" && *what != "predict":
		return bad("--what must be train or predict, not %q", *what)
	case !isSet(fs, "batch"):
		return bad("--batch is required")
	case *batch <= 0:
		return bad("--batch must be positive, got %d", *batch)
	case *threads < 0:
		return bad("--threads must not be negative, got %d", *threads)
	case *iterations < 0:
		return bad("--iterations must not be negative, got %d", *iterations)
	case *warmup < 0:
		return bad("--warmup must not be negative, got %d", *warmup)
	}
	n := *threads
	if n == 0 {
		n = goruntime.NumCPU()
	}
	// The runtime's worker pool splits work into at most GOMAXPROCS ranges,
	// so GOMAXPROCS alone sets its parallelism.
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(n))

	res, err := benchmark(e.model, benchConfig{
		what: *what, batch: *batch, warmup: *warmup, iterations: *iterations,
		minIterations: minBenchIterations, target: benchTarget, cpuProfile: *cpuProfile,
	})
	if err != nil {
		return err
	}
	res.Threads = n
	if *asJSON {
		return writeJSONLine(e.stdout, res)
	}
	_, err = fmt.Fprintf(e.stdout, "%s %s batch %d, %d threads: median %s (p10 %s, p90 %s) over %d calls, %.0f examples/s, %.1f allocs/call\n",
		res.Model, res.What, res.Batch, res.Threads, micros(res.MedianUS), micros(res.P10US), micros(res.P90US),
		res.Iterations, res.ExamplesPerS, res.AllocsPerCall)
	return err
}

// micros renders a duration given in microseconds with a suitable unit.
func micros(us float64) string {
	switch {
	case us >= 1e6:
		return fmt.Sprintf("%.3g s", us/1e6)
	case us >= 1e3:
		return fmt.Sprintf("%.3g ms", us/1e3)
	default:
		return fmt.Sprintf("%.3g µs", us)
	}
}

// benchmark times cfg.what on m with synthetic inputs. It does not set
// Threads.
func benchmark(m runtime.Model, cfg benchConfig) (*benchResult, error) {
	sig := m.Signature()
	names := sig.PredictInputs
	if cfg.what == "train" {
		if sig.Loss == "" {
			return nil, fmt.Errorf("model %s has no training step", sig.Model)
		}
		names = sig.TrainInputs
	}
	in, n, err := syntheticFeed(sig, names, cfg.what == "train", cfg.batch)
	if err != nil {
		return nil, err
	}
	call := func() {
		m.PredictFeed(n, in)
	}
	if cfg.what == "train" {
		call = func() { m.TrainFeed(n, in) }
	}
	for range cfg.warmup {
		call()
	}

	want := cfg.iterations
	if want == 0 {
		// Time one more untimed call to size the run.
		t0 := time.Now()
		call()
		per := max(time.Since(t0), time.Microsecond)
		want = int(min(max(int64(cfg.target/per), int64(max(cfg.minIterations, 1))), maxBenchIterations))
	}
	times := make([]time.Duration, want)
	var prof *os.File
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		prof = f
	}
	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	for i := range times {
		t0 := time.Now()
		call()
		times[i] = time.Since(t0)
	}
	goruntime.ReadMemStats(&after)
	if prof != nil {
		pprof.StopCPUProfile()
		if err := prof.Close(); err != nil {
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
	}

	iters := len(times)
	res := &benchResult{
		Model:      sig.Model,
		What:       cfg.what,
		Batch:      n,
		Warmup:     cfg.warmup,
		Iterations: iters,
	}
	if iters > 0 {
		res.AllocsPerCall = float64(after.Mallocs-min(before.Mallocs, after.Mallocs)) / float64(iters)
		res.BytesPerCall = float64(after.TotalAlloc-min(before.TotalAlloc, after.TotalAlloc)) / float64(iters)
		us := make([]float64, iters)
		var sum float64
		for i, d := range times {
			us[i] = float64(d.Nanoseconds()) / 1e3
			sum += us[i]
		}
		slices.Sort(us)
		// Times are rounded to nanoseconds, the clock's resolution.
		res.MedianUS = round(quantile(us, 0.5), 3)
		res.P10US = round(quantile(us, 0.1), 3)
		res.P90US = round(quantile(us, 0.9), 3)
		res.MinUS = us[0]
		res.MeanUS = round(sum/float64(iters), 3)
		if res.MedianUS > 0 {
			res.ExamplesPerS = round(float64(n)/(res.MedianUS/1e6), 1)
		}
		res.AllocsPerCall = round(res.AllocsPerCall, 3)
		res.BytesPerCall = round(res.BytesPerCall, 1)
	}
	res.PeakRSSKB = peakRSSKB()
	return res, nil
}

// quantile returns the q-quantile of the sorted, non-empty values,
// interpolating linearly between neighbours.
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	frac := pos - float64(lo)
	return sorted[lo] + frac*(sorted[hi]-sorted[lo])
}

// syntheticFeed builds deterministic pseudo-random inputs named by names
// for a call of batch examples, and returns them with the value of the
// symbolic dimension to pass. Floating inputs hold uniform values in
// [0, 1), except that for a training call a float input the predict
// program does not take, with rank 2 and a fixed last dimension (the
// labels, like y_: f32[N,10]), holds one-hot rows; integer inputs hold
// class labels in [0, C), with C the smallest fixed last dimension among
// the model's outputs of rank 2 or more (2 if there is none), and bool
// inputs hold 0 or 1.
func syntheticFeed(sig *runtime.Signature, names []string, train bool, batch int) ([][]float32, int, error) {
	specs := make([]runtime.TensorSpec, len(names))
	symbolic := false
	for i, name := range names {
		spec, ok := sig.Input(name)
		if !ok {
			return nil, 0, fmt.Errorf("model %s: input %q is not among the model's inputs", sig.Model, name)
		}
		specs[i] = spec
		symbolic = symbolic || slices.Contains(spec.Shape, -1)
	}
	if symbolic {
		if sig.MaxBatch > 0 && batch > sig.MaxBatch {
			return nil, 0, fmt.Errorf("batch size %d exceeds the model's maximum batch of %d", batch, sig.MaxBatch)
		}
		if err := runtime.CheckBatchMemory(sig, batch); err != nil {
			return nil, 0, err
		}
	} else {
		// Every input is fixed: the batch is the leading dimension of the
		// first input that has one.
		for _, s := range specs {
			if len(s.Shape) > 0 {
				if s.Shape[0] != batch {
					return nil, 0, fmt.Errorf("input %s is %s, so the batch size must be %d, not %d", s.Name, s, s.Shape[0], batch)
				}
				break
			}
		}
	}

	classes := 0
	for _, out := range sig.Outputs {
		if r := len(out.Shape); r >= 2 && out.Shape[r-1] > 0 && (classes == 0 || out.Shape[r-1] < classes) {
			classes = out.Shape[r-1]
		}
	}
	if classes == 0 {
		classes = 2
	}

	rng := runtime.NewRNG(benchSeed)
	feed := make([][]float32, len(specs))
	for i, s := range specs {
		x := make([]float32, s.Elems(batch))
		r := len(s.Shape)
		switch {
		case strings.HasPrefix(s.DType, "i") || strings.HasPrefix(s.DType, "u"):
			for j := range x {
				x[j] = float32(rng.IntN(classes))
			}
		case s.DType == "bool":
			for j := range x {
				x[j] = float32(rng.IntN(2))
			}
		case train && r == 2 && s.Shape[1] > 0 && !slices.Contains(sig.PredictInputs, s.Name):
			c := s.Shape[1]
			for row := 0; row+c <= len(x); row += c {
				x[row+rng.IntN(c)] = 1
			}
		default:
			for j := range x {
				x[j] = float32(rng.Float64())
			}
		}
		feed[i] = x
	}
	return feed, batch, nil
}

// round rounds x to the given number of decimals.
func round(x float64, decimals int) float64 {
	p := math.Pow10(decimals)
	return math.Round(x*p) / p
}

// peakRSSKB returns the process's peak resident set size in KiB (VmHWM in
// /proc/self/status), or 0 where the system does not report it.
func peakRSSKB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return 0
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0
		}
		return kb
	}
	return 0
}
