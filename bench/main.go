// Command bench is flow's benchmark harness: it builds the example models
// with flowc, times their training steps and predictions through the
// binaries' bench command, optimized and unoptimized, measures flow's
// SGEMM against gonum, optionally runs the same workloads in PyTorch, and
// prints the results as a Markdown table with the ratios the project's
// goals are stated in. Run it from this directory:
//
//	go run . [-quick] [-torch] [-o results.md]
//
// See README.md for how to read the table.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"time"
)

// options are the harness's command-line settings.
type options struct {
	root    string // the flow repository
	quick   bool
	torch   bool // require PyTorch
	noTorch bool
	python  string
	threads int
	out     string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == sgemmChildArg {
		os.Exit(sgemmChild(os.Args[2:], os.Stdout, os.Stderr))
	}
	var o options
	flag.StringVar(&o.root, "root", "..", "the flow repository to build the examples from")
	flag.BoolVar(&o.quick, "quick", false, "short runs (a few calls per workload); about a minute or two")
	flag.BoolVar(&o.torch, "torch", false, "run the PyTorch reference and fail if PyTorch is missing (default: run it when python3 can import torch)")
	flag.BoolVar(&o.noTorch, "no-torch", false, "do not run the PyTorch reference")
	flag.StringVar(&o.python, "python", "", "Python interpreter for the PyTorch reference (default: the first of python3 and /usr/bin/python3 that imports torch)")
	flag.IntVar(&o.threads, "threads", 2, "threads for every workload (flow's GOMAXPROCS, torch.set_num_threads)")
	flag.StringVar(&o.out, "o", "", "also write the Markdown report to `file`")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run . [-quick] [-torch] [-o results.md]\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "bench: unexpected argument %q\n", flag.Arg(0))
		flag.Usage()
		os.Exit(2)
	}
	if o.torch && o.noTorch {
		fmt.Fprintln(os.Stderr, "bench: give -torch or -no-torch, not both")
		os.Exit(2)
	}
	if o.threads <= 0 {
		fmt.Fprintln(os.Stderr, "bench: -threads must be positive")
		os.Exit(2)
	}
	if err := run(o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// run performs every measurement and writes the report.
func run(o options, stdout, log io.Writer) error {
	root, err := filepath.Abs(o.root)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "flowc")); err != nil {
		return fmt.Errorf("-root %s is not the flow repository: %v", o.root, err)
	}
	tmp, err := os.MkdirTemp("", "flow-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	start := time.Now()
	rep := &report{
		Quick:   o.quick,
		Threads: o.threads,
		Machine: machine(),
		Go:      goruntime.Version(),
		Started: start.UTC(),
	}

	logf(log, "building flowc")
	flowc := filepath.Join(tmp, "flowc")
	if out, err := command(root, nil, "go", "build", "-o", flowc, "./cmd/flowc").CombinedOutput(); err != nil {
		return fmt.Errorf("building flowc: %v\n%s", err, out)
	}
	bins := map[string]*builtExample{}
	for _, ex := range examples {
		b := &builtExample{}
		bins[ex.name] = b
		logf(log, "building %s", ex.file)
		b.opt, b.optErr = buildExample(root, flowc, ex, filepath.Join(tmp, "opt"), false)
		if b.optErr != nil {
			logf(log, "  %v", b.optErr)
		}
		if rep.NoOptMissing {
			continue
		}
		b.noOpt, b.noOptErr = buildExample(root, flowc, ex, filepath.Join(tmp, "noopt"), true)
		if errors.Is(b.noOptErr, errNoOptFlag) {
			rep.NoOptMissing = true
			logf(log, "  flowc has no --no-opt flag: the unoptimized column is n/a")
		} else if b.noOptErr != nil {
			logf(log, "  --no-opt: %v", b.noOptErr)
		}
	}

	for _, w := range workloads {
		r := &workloadResult{workload: w}
		rep.Workloads = append(rep.Workloads, r)
		b := bins[w.example]
		args := benchArgs(w, o.threads, o.quick)
		if b.optErr != nil {
			r.optErr = b.optErr
		} else {
			logf(log, "timing %s", w.title)
			r.opt, r.optErr = runBenchBinary(b.opt, args, nil)
			if r.optErr != nil {
				logf(log, "  %v", r.optErr)
			}
		}
		switch {
		case rep.NoOptMissing:
			r.noOptErr = errNoOptFlag
		case b.noOptErr != nil:
			r.noOptErr = b.noOptErr
		default:
			logf(log, "timing %s, unoptimized", w.title)
			r.noOpt, r.noOptErr = runBenchBinary(b.noOpt, args, []string{"FLOW_KERNELS=generic"})
			if r.noOptErr != nil {
				logf(log, "  %v", r.noOptErr)
			}
		}
	}

	logf(log, "timing SGEMM")
	rep.Sgemm, rep.SgemmErr = runSgemm(o.threads, o.quick, nil)
	if rep.SgemmErr == nil {
		generic, err := runSgemm(o.threads, o.quick, []string{"FLOW_KERNELS=generic"})
		if err == nil {
			rep.SgemmGeneric = generic
		} else {
			logf(log, "  FLOW_KERNELS=generic: %v", err)
		}
	} else {
		logf(log, "  %v", rep.SgemmErr)
	}

	if !o.noTorch {
		python, err := findTorch(o.python)
		switch {
		case err != nil && o.torch:
			return err
		case err != nil:
			rep.TorchNote = err.Error()
			logf(log, "no PyTorch reference: %v", err)
		default:
			logf(log, "running the PyTorch reference with %s", python)
			rep.Torch, err = runTorch(python, o.threads, o.quick)
			if err != nil {
				if o.torch {
					return err
				}
				rep.TorchNote = err.Error()
				logf(log, "  %v", err)
			}
		}
	} else {
		rep.TorchNote = "skipped (-no-torch)"
	}
	rep.Elapsed = time.Since(start)

	md := rep.markdown()
	if _, err := io.WriteString(stdout, md); err != nil {
		return err
	}
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(md), 0o666); err != nil {
			return err
		}
		logf(log, "wrote %s", o.out)
	}
	return nil
}

// logf reports progress on the log writer.
func logf(log io.Writer, format string, a ...any) {
	fmt.Fprintf(log, format+"\n", a...)
}

// command returns a command run in dir with the environment plus env.
func command(dir string, env []string, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// machine describes the CPU the harness runs on.
func machine() string {
	desc := fmt.Sprintf("%s/%s, %d cores", goruntime.GOOS, goruntime.GOARCH, goruntime.NumCPU())
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return desc
	}
	var model string
	var avx2, fma, avx512 bool
	for _, line := range strings.Split(string(b), "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(key) {
		case "model name":
			if model == "" {
				model = strings.TrimSpace(value)
			}
		case "flags":
			for _, f := range strings.Fields(value) {
				switch f {
				case "avx2":
					avx2 = true
				case "fma":
					fma = true
				case "avx512f":
					avx512 = true
				}
			}
		}
	}
	var feats []string
	for _, f := range []struct {
		on   bool
		name string
	}{{avx2, "AVX2"}, {fma, "FMA"}, {avx512, "AVX-512"}} {
		if f.on {
			feats = append(feats, f.name)
		}
	}
	if model != "" {
		desc = model + ", " + desc
	}
	if len(feats) > 0 {
		desc += " (" + strings.Join(feats, ", ") + ")"
	}
	return desc
}
