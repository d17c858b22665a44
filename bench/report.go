package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SGEMM goals of the issue: flow at least this fraction of torch.mm, and
// at least this multiple of gonum.
const (
	sgemmTorchGoal = 0.75
	sgemmGonumGoal = 7
)

// workloadResult is one workload's measurements.
type workloadResult struct {
	workload
	opt, noOpt       *benchResult
	optErr, noOptErr error
}

// report is everything one harness run measured.
type report struct {
	Quick        bool
	Threads      int
	Machine      string
	Go           string
	Started      time.Time
	Elapsed      time.Duration
	NoOptMissing bool // flowc has no --no-opt flag

	Workloads    []*workloadResult
	Sgemm        []sgemmResult
	SgemmErr     error
	SgemmGeneric []sgemmResult // FLOW_KERNELS=generic

	Torch     *torchReport
	TorchNote string // why there is no PyTorch reference
}

const na = "n/a"

// fmtUS renders a time given in microseconds.
func fmtUS(us float64) string {
	switch {
	case us >= 1e6:
		return fmt.Sprintf("%.2f s", us/1e6)
	case us >= 1e4:
		return fmt.Sprintf("%.1f ms", us/1e3)
	case us >= 1e3:
		return fmt.Sprintf("%.2f ms", us/1e3)
	case us >= 100:
		return fmt.Sprintf("%.0f µs", us)
	default:
		return fmt.Sprintf("%.1f µs", us)
	}
}

// fmtRatio renders a ratio with two significant decimals.
func fmtRatio(r float64) string {
	if r >= 10 {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.2f", r)
}

// verdict says whether value meets a goal: at most goal, or at least it.
func verdict(value, goal float64, atMost bool) string {
	if (atMost && value <= goal) || (!atMost && value >= goal) {
		return "yes"
	}
	return "no"
}

// markdown renders the report.
func (r *report) markdown() string {
	var b strings.Builder
	mode := "full"
	if r.Quick {
		mode = "quick"
	}
	fmt.Fprintf(&b, "# flow benchmarks\n\n")
	fmt.Fprintf(&b, "- run: %s, %s mode, %d threads, took %s\n", r.Started.Format("2006-01-02 15:04 MST"), mode, r.Threads, r.Elapsed.Round(time.Second))
	fmt.Fprintf(&b, "- machine: %s; %s\n", r.Machine, r.Go)
	if r.Torch != nil {
		blas := r.Torch.BLAS
		if blas == "" {
			blas = "unknown BLAS"
		}
		fmt.Fprintf(&b, "- PyTorch %s, %d threads, OMP_WAIT_POLICY=PASSIVE, %s\n", r.Torch.Version, r.Torch.Threads, blas)
	} else {
		fmt.Fprintf(&b, "- PyTorch: %s\n", r.TorchNote)
	}
	if r.NoOptMissing {
		fmt.Fprintf(&b, "- unoptimized: n/a (this flowc has no `build --no-opt`)\n")
	} else {
		fmt.Fprintf(&b, "- unoptimized: `flowc build --no-opt`, run with FLOW_KERNELS=generic\n")
	}

	fmt.Fprintf(&b, "\n## Workloads (median time per call)\n\n")
	b.WriteString("| workload | flow | p10–p90 | examples/s | allocs/call | unoptimized | unopt/flow | PyTorch | flow/PyTorch | goal | met |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|\n")
	var notes []string
	note := func(err error) string {
		if err == nil {
			return na
		}
		if errors.Is(err, errNoOptFlag) {
			return na
		}
		msg := strings.Join(strings.Fields(err.Error()), " ")
		for i, n := range notes {
			if n == msg {
				return fmt.Sprintf("error [%d]", i+1)
			}
		}
		notes = append(notes, msg)
		return fmt.Sprintf("error [%d]", len(notes))
	}
	for _, w := range r.Workloads {
		cells := []string{w.title, na, na, na, na, na, na, na, na, "≤ " + fmtRatio(w.goal), na}
		if w.opt != nil {
			cells[1] = fmtUS(w.opt.MedianUS)
			cells[2] = fmtUS(w.opt.P10US) + "–" + fmtUS(w.opt.P90US)
			cells[3] = strconv.FormatFloat(w.opt.ExamplesPerS, 'f', 0, 64)
			cells[4] = strconv.FormatFloat(w.opt.AllocsPerCall, 'f', 1, 64)
		} else {
			cells[1] = note(w.optErr)
		}
		if w.noOpt != nil {
			cells[5] = fmtUS(w.noOpt.MedianUS)
			if w.opt != nil {
				cells[6] = fmtRatio(w.noOpt.MedianUS/w.opt.MedianUS) + "x"
			}
		} else {
			cells[5] = note(w.noOptErr)
		}
		if t := r.torchWorkload(w.key); t != nil {
			cells[7] = fmtUS(t.MedianUS)
			if t.Config != "" && t.Config != "eager" {
				cells[7] += " (" + t.Config + ")"
			}
			if w.opt != nil {
				ratio := w.opt.MedianUS / t.MedianUS
				cells[8] = fmtRatio(ratio)
				cells[10] = verdict(ratio, w.goal, true)
			}
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
	}

	fmt.Fprintf(&b, "\n## SGEMM, C = A·B, square, %d threads (GFLOP/s)\n\n", r.Threads)
	b.WriteString("| n | flow | flow, FLOW_KERNELS=generic | gonum blas32 | torch.mm | flow/torch.mm | goal | flow/gonum | goal |\n")
	b.WriteString("|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	if r.SgemmErr != nil {
		fmt.Fprintf(&b, "| – | %s | | | | | | | |\n", note(r.SgemmErr))
	}
	for _, s := range r.Sgemm {
		cells := []string{strconv.Itoa(s.N), fmt.Sprintf("%.1f", s.Flow), na, na, na, na, fmt.Sprintf("≥ %.2f", sgemmTorchGoal), na, fmt.Sprintf("≥ %dx", sgemmGonumGoal)}
		for _, g := range r.SgemmGeneric {
			if g.N == s.N {
				cells[2] = fmt.Sprintf("%.1f", g.Flow)
			}
		}
		if s.Gonum > 0 {
			cells[3] = fmt.Sprintf("%.1f", s.Gonum)
			ratio := s.Flow / s.Gonum
			cells[7] = fmt.Sprintf("%.1fx (%s)", ratio, verdict(ratio, sgemmGonumGoal, false))
		}
		if r.Torch != nil {
			if t := r.Torch.Sgemm[strconv.Itoa(s.N)]; t != nil && t.GFLOPS > 0 {
				cells[4] = fmt.Sprintf("%.1f", t.GFLOPS)
				ratio := s.Flow / t.GFLOPS
				cells[5] = fmt.Sprintf("%.2f (%s)", ratio, verdict(ratio, sgemmTorchGoal, false))
			}
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
	}

	fmt.Fprintf(&b, "\n## Peak RSS of the training benchmarks\n\n")
	b.WriteString("| example | workload | flow | unoptimized |\n|---|---|--:|--:|\n")
	for _, w := range r.Workloads {
		if w.what != "train" {
			continue
		}
		cells := []string{w.example, w.title, na, na}
		if w.opt != nil && w.opt.PeakRSSKB > 0 {
			cells[2] = fmtKB(w.opt.PeakRSSKB)
		}
		if w.noOpt != nil && w.noOpt.PeakRSSKB > 0 {
			cells[3] = fmtKB(w.noOpt.PeakRSSKB)
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
	}

	if len(notes) > 0 {
		b.WriteString("\nErrors:\n\n")
		for i, n := range notes {
			fmt.Fprintf(&b, "%d. %s\n", i+1, n)
		}
	}
	return b.String()
}

// torchWorkload returns PyTorch's timing of the workload called key, or nil.
func (r *report) torchWorkload(key string) *torchTiming {
	if r.Torch == nil {
		return nil
	}
	if t := r.Torch.Workloads[key]; t != nil && t.MedianUS > 0 {
		return t
	}
	return nil
}

// fmtKB renders a size given in KiB.
func fmtKB(kb int64) string {
	if kb >= 1024 {
		return fmt.Sprintf("%.1f MiB", float64(kb)/1024)
	}
	return fmt.Sprintf("%d KiB", kb)
}
