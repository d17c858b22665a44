package main

import (
	"errors"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
)

func TestDecodeBench(t *testing.T) {
	r, err := decodeBench([]byte(`{"model":"MLP","what":"train","batch":64,"threads":2,"iterations":10,"median_us":1500,"p10_us":1400,"p90_us":1700,"examples_per_s":42666,"allocs_per_call":0}`+"\n"), 2048)
	if err != nil {
		t.Fatal(err)
	}
	if r.MedianUS != 1500 || r.Iterations != 10 || r.PeakRSSKB != 2048 {
		t.Errorf("decoded %+v", r)
	}
	r, err = decodeBench([]byte(`{"iterations":3,"median_us":2,"peak_rss_kb":100}`), 2048)
	if err != nil || r.PeakRSSKB != 100 {
		t.Errorf("the binary's own peak RSS wins: %+v, %v", r, err)
	}
	for _, bad := range []string{"", "median 3 µs", `{"iterations":0,"median_us":1}`} {
		if _, err := decodeBench([]byte(bad), 0); err == nil {
			t.Errorf("decodeBench(%q) succeeded", bad)
		}
	}
}

func TestDecodeTorch(t *testing.T) {
	r, err := decodeTorch([]byte(`{"torch":"1.13","threads":2,"workloads":{"mlp_predict_b1":{"median_us":50,"config":"jit"}},"sgemm":{"512":{"gflops":100}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Workloads["mlp_predict_b1"].MedianUS != 50 || r.Sgemm["512"].GFLOPS != 100 {
		t.Errorf("decoded %+v", r)
	}
	if _, err := decodeTorch([]byte(`{"torch":"1.13"}`)); err == nil {
		t.Error("a report without workloads is accepted")
	}
}

func TestBenchArgs(t *testing.T) {
	w := workloads[3]
	got := strings.Join(benchArgs(w, 2, false), " ")
	if want := "bench --what train --batch 64 --threads 2 --json"; got != want {
		t.Errorf("benchArgs = %q, want %q", got, want)
	}
	got = strings.Join(benchArgs(w, 2, true), " ")
	if !strings.HasSuffix(got, " --iterations 10 --warmup 1") {
		t.Errorf("quick benchArgs = %q", got)
	}
}

// TestWorkloadsMatchTorch checks every workload has a PyTorch counterpart
// in torch_bench.py and an example to build.
func TestWorkloadsMatchTorch(t *testing.T) {
	src, err := os.ReadFile(torchScript)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range workloads {
		key := strings.TrimSuffix(w.key, "_b1")
		key = strings.TrimSuffix(key, "_b64")
		if !strings.Contains(string(src), w.key) && !strings.Contains(string(src), key+`_b{b}`) {
			t.Errorf("%s is not in %s", w.key, torchScript)
		}
		found := false
		for _, ex := range examples {
			if ex.name == w.example {
				found = true
				if _, err := os.Stat(filepath.Join("..", ex.file)); err != nil {
					t.Error(err)
				}
			}
		}
		if !found {
			t.Errorf("%s: no example %s", w.key, w.example)
		}
	}
}

// fakeFlowc writes a shell script standing in for flowc.
func fakeFlowc(t *testing.T, script string) string {
	t.Helper()
	if goruntime.GOOS == "windows" {
		t.Skip("needs a POSIX shell")
	}
	path := filepath.Join(t.TempDir(), "flowc")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBuildExampleNoOpt(t *testing.T) {
	old := fakeFlowc(t, `case "$*" in *--no-opt*) echo "flag provided but not defined: -no-opt" >&2; echo "usage: flowc build" >&2; exit 2;; esac
touch "$4"
`)
	dir := t.TempDir()
	bin, err := buildExample(dir, old, examples[0], filepath.Join(dir, "opt"), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Error(err)
	}
	if _, err := buildExample(dir, old, examples[0], filepath.Join(dir, "noopt"), true); !errors.Is(err, errNoOptFlag) {
		t.Errorf("missing --no-opt: got %v, want errNoOptFlag", err)
	}

	broken := fakeFlowc(t, "echo 'm.flow:1:1: syntax error' >&2; exit 1\n")
	_, err = buildExample(dir, broken, examples[0], filepath.Join(dir, "x"), true)
	if err == nil || errors.Is(err, errNoOptFlag) || !strings.Contains(err.Error(), "syntax error") {
		t.Errorf("failed build: got %v", err)
	}
}

func TestMarkdown(t *testing.T) {
	rep := &report{Threads: 2, Machine: "test machine", Go: "go1.x", Quick: true}
	for i, w := range workloads {
		r := &workloadResult{workload: w}
		switch i {
		case 0:
			r.opt = &benchResult{MedianUS: 100, P10US: 90, P90US: 120, ExamplesPerS: 1e6, PeakRSSKB: 4096}
			r.noOpt = &benchResult{MedianUS: 400, PeakRSSKB: 8192}
		case 1:
			r.optErr = errors.New("boom")
			r.noOptErr = errors.New("boom")
		default:
			r.noOptErr = errNoOptFlag
		}
		rep.Workloads = append(rep.Workloads, r)
	}
	rep.Sgemm = []sgemmResult{{N: 512, Flow: 80, Gonum: 10}}
	rep.SgemmGeneric = []sgemmResult{{N: 512, Flow: 4}}
	rep.Torch = &torchReport{Version: "1.13", Threads: 2,
		Workloads: map[string]*torchTiming{"softmax_train_b100": {MedianUS: 400, Config: "eager"}},
		Sgemm:     map[string]*torchTiming{"512": {GFLOPS: 100}}}
	md := rep.markdown()
	for _, want := range []string{
		"| softmax regression, train step, b100 | 100 µs | 90.0 µs–120 µs | 1000000 | 0.0 | 400 µs | 4.00x | 400 µs | 0.25 | ≤ 0.31 | yes |",
		"| MLP 784-512-512-10, predict b1 | error [1] |",
		"| 512 | 80.0 | 4.0 | 10.0 | 100.0 | 0.80 (yes) | ≥ 0.75 | 8.0x (yes) | ≥ 7x |",
		"| mnist_softmax | softmax regression, train step, b100 | 4.0 MiB | 8.0 MiB |",
		"1. boom\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Count(md, "boom") != 1 {
		t.Errorf("a repeated error is listed once:\n%s", md)
	}
}
