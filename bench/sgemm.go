package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	goruntime "runtime"
	"slices"
	"strconv"
	"time"

	"github.com/flow-lang/flow/runtime"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// sgemmChildArg makes the harness's own binary measure SGEMM and print the
// result as JSON: the harness runs it as a child so FLOW_KERNELS applies
// from the start of the process.
const sgemmChildArg = "-sgemm-child"

// sgemmSizes are the square SGEMM sizes measured.
var sgemmSizes = []int{512, 1024}

// sgemmResult is the SGEMM throughput at one size, in GFLOP/s.
type sgemmResult struct {
	N     int     `json:"n"`
	Flow  float64 `json:"flow_gflops"`
	Gonum float64 `json:"gonum_gflops,omitempty"`
}

// runSgemm measures SGEMM in a child process with env added to its
// environment.
func runSgemm(threads int, quick bool, env []string) ([]sgemmResult, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{sgemmChildArg, "-threads", strconv.Itoa(threads)}
	if quick {
		args = append(args, "-quick")
	}
	if len(env) > 0 {
		// The gonum baseline does not depend on flow's kernels.
		args = append(args, "-no-gonum")
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("SGEMM: %v: %s", err, brief(stderr.String()))
	}
	var res []sgemmResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("SGEMM: bad output: %v", err)
	}
	return res, nil
}

// sgemmChild is the child's main: it times flow's runtime.Sgemm and gonum's
// blas32.Gemm on random square matrices and prints []sgemmResult.
func sgemmChild(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(sgemmChildArg, flag.ContinueOnError)
	fs.SetOutput(stderr)
	threads := fs.Int("threads", 2, "GOMAXPROCS")
	quick := fs.Bool("quick", false, "short runs")
	noGonum := fs.Bool("no-gonum", false, "skip gonum")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	goruntime.GOMAXPROCS(*threads)
	target := 2 * time.Second
	if *quick {
		target = 400 * time.Millisecond
	}
	var res []sgemmResult
	for _, n := range sgemmSizes {
		r := sgemmResult{N: n}
		rng := rand.New(rand.NewPCG(uint64(n), 1))
		a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
		for i := range a {
			a[i], b[i] = rng.Float32()-0.5, rng.Float32()-0.5
		}
		flops := 2 * float64(n) * float64(n) * float64(n)
		r.Flow = flops / timeCall(target, func() {
			runtime.Sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
		}) / 1e9
		if !*noGonum {
			ga := blas32.General{Rows: n, Cols: n, Stride: n, Data: a}
			gb := blas32.General{Rows: n, Cols: n, Stride: n, Data: b}
			gc := blas32.General{Rows: n, Cols: n, Stride: n, Data: c}
			r.Gonum = flops / timeCall(target, func() {
				blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, ga, gb, 0, gc)
			}) / 1e9
		}
		res = append(res, r)
	}
	if err := json.NewEncoder(stdout).Encode(res); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// timeCall returns the median time of fn in seconds, after two warm-up
// calls, over at least 5 calls and as many as fit in about target.
func timeCall(target time.Duration, fn func()) float64 {
	fn()
	t0 := time.Now()
	fn()
	per := max(time.Since(t0), time.Microsecond)
	iters := int(min(max(int64(target/per), 5), 10000))
	times := make([]float64, iters)
	for i := range times {
		t0 := time.Now()
		fn()
		times[i] = time.Since(t0).Seconds()
	}
	slices.Sort(times)
	return times[len(times)/2]
}
