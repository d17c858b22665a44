package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// torchScript is the PyTorch reference, next to this file.
const torchScript = "torch_bench.py"

// torchTiming is one workload's timing in the PyTorch reference.
type torchTiming struct {
	MedianUS   float64 `json:"median_us"`
	P10US      float64 `json:"p10_us"`
	P90US      float64 `json:"p90_us"`
	Iterations int     `json:"iterations"`
	// Config is "eager" or "jit" (a frozen TorchScript trace), whichever
	// was faster.
	Config string `json:"config"`
	// GFLOPS is set for SGEMM.
	GFLOPS float64 `json:"gflops"`
}

// torchReport is what torch_bench.py prints.
type torchReport struct {
	Version   string                  `json:"torch"`
	Threads   int                     `json:"threads"`
	BLAS      string                  `json:"blas"`
	Workloads map[string]*torchTiming `json:"workloads"`
	// Sgemm is keyed by the matrix size.
	Sgemm map[string]*torchTiming `json:"sgemm"`
}

// findTorch returns a Python interpreter that can import torch: python if
// given, else the first of python3 and /usr/bin/python3 that can.
func findTorch(python string) (string, error) {
	candidates := []string{"python3", "/usr/bin/python3"}
	if python != "" {
		candidates = []string{python}
	}
	var tried []string
	for _, p := range candidates {
		path, err := exec.LookPath(p)
		if err != nil {
			tried = append(tried, p+": not found")
			continue
		}
		if err := exec.Command(path, "-c", "import torch").Run(); err != nil {
			tried = append(tried, p+": cannot import torch")
			continue
		}
		return path, nil
	}
	return "", fmt.Errorf("PyTorch is not available (%s); install it with apt-get install python3-torch", strings.Join(tried, "; "))
}

// runTorch runs the PyTorch reference with python.
func runTorch(python string, threads int, quick bool) (*torchReport, error) {
	if _, err := os.Stat(torchScript); err != nil {
		return nil, fmt.Errorf("the PyTorch reference must be run from the bench directory: %v", err)
	}
	args := []string{torchScript, "--threads", strconv.Itoa(threads)}
	if quick {
		args = append(args, "--quick")
	}
	cmd := exec.Command(python, args...)
	// OpenMP reads its wait policy when the library loads; PASSIVE keeps
	// idle threads from spinning on this small, shared machine.
	cmd.Env = append(os.Environ(), "OMP_WAIT_POLICY=PASSIVE")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %v: %s", torchScript, err, lastLine(strings.TrimSpace(stderr.String())))
	}
	return decodeTorch(stdout.Bytes())
}

// decodeTorch decodes torch_bench.py's output.
func decodeTorch(out []byte) (*torchReport, error) {
	var r torchReport
	if err := json.Unmarshal(bytes.TrimSpace(out), &r); err != nil {
		return nil, fmt.Errorf("%s printed no JSON object: %v", torchScript, err)
	}
	if len(r.Workloads) == 0 {
		return nil, errors.New(torchScript + " reported no workloads")
	}
	return &r, nil
}

// lastLine returns the last line of s.
func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
