package trainlog

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flow-lang/flow/runtime"
)

// testSignature is a small two-layer classifier's signature, with a graph
// that has a long node name and enough nodes that the GraphDef and its
// nested messages need multi-byte lengths.
func testSignature() *runtime.Signature {
	sig := &runtime.Signature{
		Model:      "mlp<&>",
		Source:     "examples/mlp.flow",
		Inputs:     []runtime.TensorSpec{{Name: "x", DType: "f32", Shape: []int{-1, 784}, Dims: []string{"N", ""}}, {Name: "y", DType: "i32", Shape: []int{-1}, Dims: []string{"N"}}},
		Params:     []runtime.TensorSpec{{Name: "W", DType: "f32", Shape: []int{784, 10}}, {Name: "b", DType: "f32", Shape: []int{10}}},
		Loss:       "loss",
		Optimizer:  "adam(lr=0.001)",
		ParamCount: 7850,
		Graph: []runtime.GraphNode{
			{Name: "x", Op: "input", DType: "f32", Shape: []int{-1, 784}},
			{Name: "y", Op: "input", DType: "i32", Shape: []int{-1}},
			{Name: "logits/W", Op: "param", DType: "f32", Shape: []int{784, 10}},
			{Name: "logits/b", Op: "param", DType: "f32", Shape: []int{10}},
			{Name: "matmul_4", Op: "matmul", Inputs: []string{"x", "logits/W"}, DType: "f32", Shape: []int{-1, 10}, Device: "cpu:0"},
			{Name: "add_5", Op: "add", Inputs: []string{"matmul_4", "logits/b"}, DType: "f32", Shape: []int{-1, 10}},
			{Name: "loss", Op: "sparse_xent", Inputs: []string{"add_5", "y"}, DType: "f32", Shape: []int{}},
			{Name: "mask_9", Op: "gt", Inputs: []string{"add_5", "add_5"}, DType: "bool", Shape: []int{-1, 10}, Role: "grad"},
			{Name: "odd", Op: "custom", DType: "u7", Shape: []int{0, 3}},
		},
	}
	long := strings.Repeat("scope/", 40) + "w"
	sig.Graph = append(sig.Graph, runtime.GraphNode{Name: long, Op: "param", DType: "f64", Shape: []int{3}})
	for i := 0; i < 300; i++ {
		sig.Graph = append(sig.Graph, runtime.GraphNode{Name: "grad/n" + strings.Repeat("x", i%17), Op: "mul", Inputs: []string{"loss", long}, DType: "f32", Shape: []int{}, Role: "grad"})
	}
	return sig
}

// scalarsAt is the deterministic test curve: loss decays, accuracy is
// measured every 50 steps, the learning rate halves at step 100 and one
// step logs nothing at all.
func scalarsAt(step int) Scalars {
	s := Scalars{
		Loss:           2.3*math.Exp(-float64(step)/80) + 0.05*math.Sin(float64(step)),
		Accuracy:       math.NaN(),
		LearningRate:   0.001,
		ExamplesPerSec: 40000 + 1000*math.Cos(float64(step)/7),
	}
	if step%50 == 0 {
		s.Accuracy = 1 - math.Exp(-float64(step)/100)
	}
	if step >= 100 {
		s.LearningRate = 0.0005
	}
	if step == 77 {
		s = Scalars{math.NaN(), math.NaN(), math.NaN(), math.NaN()}
	}
	return s
}

func eventFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "events.out.tfevents.*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEventFileRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b") // Open creates parents
	sig := testSignature()
	before := time.Now()
	l, err := Open(dir, Run{Signature: sig, Batch: 100, Steps: 300, LossPerExample: true})
	if err != nil {
		t.Fatal(err)
	}
	const steps = 300
	for step := 1; step <= steps; step++ {
		if err := l.Step(step, scalarsAt(step)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(Final{FinalLoss: 0.1, TestAccuracy: 0.92, Steps: steps, Duration: 3 * time.Second, Checkpoint: "ckpt/step-300.safetensors"}); err != nil {
		t.Fatal(err)
	}
	after := time.Now()

	files := eventFiles(t, dir)
	if len(files) != 1 || files[0] != l.Path() {
		t.Fatalf("event files %v, want [%s]", files, l.Path())
	}
	if re := regexp.MustCompile(`^events\.out\.tfevents\.\d{10}\.[A-Za-z0-9._-]+\.\d+\.\d+$`); !re.MatchString(filepath.Base(l.Path())) {
		t.Errorf("file name %q does not match events.out.tfevents.<secs>.<host>.<pid>.<n>", filepath.Base(l.Path()))
	}
	data, err := os.ReadFile(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	evs, err := readEventFile(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) < 2 {
		t.Fatalf("%d events", len(evs))
	}
	// Every event carries a wall time within the run.
	for i, ev := range evs {
		if ev.wallTime < float64(before.UnixNano())/1e9-1 || ev.wallTime > float64(after.UnixNano())/1e9+1 {
			t.Errorf("event %d: wall_time %f outside the run", i, ev.wallTime)
		}
	}
	if evs[0].fileVersion != "brain.Event:2" || evs[0].hasGraph || evs[0].hasSummary {
		t.Errorf("first event %+v, want only file_version brain.Event:2", evs[0])
	}

	// The graph.
	if !evs[1].hasGraph {
		t.Fatalf("second event has no graph_def")
	}
	nodes, err := decodeGraphDef(evs[1].graphDef)
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != len(sig.Graph) {
		t.Fatalf("graph has %d nodes, want %d", len(nodes), len(sig.Graph))
	}
	wantType := map[string]int64{"f32": 1, "f64": 2, "i32": 3, "bool": 10, "u7": 0}
	for i, g := range sig.Graph {
		n := nodes[i]
		if n.name != g.Name || n.op != g.Op || n.device != g.Device || strings.Join(n.inputs, ",") != strings.Join(g.Inputs, ",") {
			t.Errorf("node %d = %q %q %q %v, want %q %q %q %v", i, n.name, n.op, n.device, n.inputs, g.Name, g.Op, g.Device, g.Inputs)
		}
		if n.dtype != wantType[g.DType] {
			t.Errorf("node %s: dtype %d, want %d", g.Name, n.dtype, wantType[g.DType])
		}
		if !n.hasShape || len(n.shape) != len(g.Shape) {
			t.Errorf("node %s: shape %v (present %v), want %v", g.Name, n.shape, n.hasShape, g.Shape)
			continue
		}
		for k, d := range g.Shape {
			if n.shape[k] != int64(d) {
				t.Errorf("node %s: shape %v, want %v", g.Name, n.shape, g.Shape)
			}
		}
	}

	// The scalars: every value that is not NaN, at its step, as float32.
	tags := []string{"loss_per_example", "accuracy", "learning_rate", "examples_per_sec"}
	var want []string
	for step := 1; step <= steps; step++ {
		s := scalarsAt(step)
		for i, v := range []float64{s.Loss, s.Accuracy, s.LearningRate, s.ExamplesPerSec} {
			if !math.IsNaN(v) {
				want = append(want, fmtScalar(int64(step), tags[i], float32(v)))
			}
		}
	}
	var got []string
	prevStep := int64(0)
	for _, ev := range evs[2:] {
		if !ev.hasSummary || len(ev.values) == 0 {
			t.Errorf("event at step %d has no summary values", ev.step)
		}
		if ev.step <= prevStep {
			t.Errorf("step %d after %d", ev.step, prevStep)
		}
		prevStep = ev.step
		for _, v := range ev.values {
			if !v.has {
				t.Errorf("step %d tag %s: no simple_value", ev.step, v.tag)
			}
			got = append(got, fmtScalar(ev.step, v.tag, v.simple))
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("scalars differ: got %d values, want %d", len(got), len(want))
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("first difference at %d: got %s, want %s", i, got[i], want[i])
			}
		}
	}

	// The report was written, atomically (no temporary file left).
	if _, err := os.Stat(filepath.Join(dir, "report.html")); err != nil {
		t.Error(err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*tmp")); len(m) > 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

func fmtScalar(step int64, tag string, v float32) string {
	return fmt.Sprintf("%s@%d=%#08x", tag, step, math.Float32bits(v))
}

// smallLog writes a short event file and returns its bytes.
func smallLog(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	sig := &runtime.Signature{Model: "m", Graph: []runtime.GraphNode{{Name: "x", Op: "input", DType: "f32", Shape: []int{-1, 2}}, {Name: "y", Op: "relu", Inputs: []string{"x"}, DType: "f32", Shape: []int{-1, 2}}}}
	l, err := Open(dir, Run{Signature: sig, Batch: 2, Steps: 3})
	if err != nil {
		t.Fatal(err)
	}
	for step := 1; step <= 3; step++ {
		if err := l.Step(step, Scalars{Loss: 1 / float64(step), Accuracy: 0.5, LearningRate: 0.1, ExamplesPerSec: 10}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(Final{FinalLoss: 1.0 / 3, TestAccuracy: math.NaN(), Steps: 3}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestReaderDetectsCorruption shows the reader's checks can fail: every
// single corrupted byte and every truncation of a valid file is an error.
func TestReaderDetectsCorruption(t *testing.T) {
	data := smallLog(t)
	if _, err := readEventFile(data); err != nil {
		t.Fatalf("valid file: %v", err)
	}
	for i := range data {
		bad := append([]byte(nil), data...)
		bad[i] ^= 0x20
		if _, err := readRecords(bad); err == nil {
			t.Errorf("byte %d corrupted: no error", i)
		}
	}
	recs, _ := readRecords(data)
	ends := map[int]bool{}
	off := 0
	for _, r := range recs {
		off += 16 + len(r)
		ends[off] = true
	}
	for n := 1; n < len(data); n++ {
		if _, err := readRecords(data[:n]); err == nil && !ends[n] {
			t.Errorf("truncated to %d bytes: no error", n)
		}
	}
}

func TestResumedRunStartsSession(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Run{Signature: &runtime.Signature{Model: "m"}, Batch: 10, Steps: 200, Resumed: 100})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Step(101, Scalars{Loss: 0.5, Accuracy: math.NaN(), LearningRate: math.NaN(), ExamplesPerSec: math.NaN()}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(Final{FinalLoss: 0.5, Steps: 101, Duration: time.Second}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(l.Path())
	evs, err := readEventFile(data)
	if err != nil {
		t.Fatal(err)
	}
	// file_version, no graph (the signature has none), session START at
	// step 100, then the step.
	if len(evs) != 3 || evs[0].fileVersion != FileVersion || evs[1].sessionLog != 1 || evs[1].step != 100 {
		t.Fatalf("events %+v", evs)
	}
	// Without Run.LossPerExample the loss is per batch, and tagged so.
	if v := evs[2].values; evs[2].step != 101 || len(v) != 1 || v[0].tag != "loss_per_batch" || v[0].simple != 0.5 {
		t.Fatalf("step event %+v", evs[2])
	}
	// A second log in the same directory gets a file of its own.
	l2, err := Open(dir, Run{})
	if err != nil {
		t.Fatal(err)
	}
	if l2.Path() == l.Path() {
		t.Error("second log reuses the first one's file")
	}
	l2.Close(Final{})
	if n := len(eventFiles(t, dir)); n != 2 {
		t.Errorf("%d event files, want 2", n)
	}
}

// TestStepAnyInput checks Step never panics: odd values are written (±Inf,
// float32 overflow) or skipped (NaN), misuse is an error, and the file
// stays readable.
func TestStepAnyInput(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Run{Signature: nil, Batch: 1, Steps: 10})
	if err != nil {
		t.Fatal(err)
	}
	odd := []float64{math.Inf(1), math.Inf(-1), 1e300, -1e300, math.Copysign(0, -1), 5e-324, math.MaxFloat64, math.NaN()}
	step := 0
	for _, a := range odd {
		for _, b := range odd {
			step++
			if err := l.Step(step, Scalars{a, b, b, a}); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		step++
		f := func() float64 { return math.Float64frombits(r.Uint64()) }
		if err := l.Step(step, Scalars{f(), f(), f(), f()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Step(math.MaxInt, Scalars{Loss: 1}); err != nil {
		t.Fatal(err)
	}
	if err := l.Step(-1, Scalars{Loss: 1}); err == nil {
		t.Error("negative step: no error")
	}
	if err := l.Close(Final{FinalLoss: math.Inf(1), TestAccuracy: math.NaN()}); err != nil {
		t.Fatal(err)
	}
	if err := l.Step(step+1, Scalars{Loss: 1}); err == nil || !strings.Contains(err.Error(), "after Close") {
		t.Errorf("Step after Close: %v", err)
	}
	if err := l.Close(Final{}); err == nil {
		t.Error("second Close: no error")
	}
	var nilLog *Log
	if nilLog.Step(1, Scalars{}) == nil || nilLog.Close(Final{}) == nil {
		t.Error("nil Log: no error")
	}
	data, _ := os.ReadFile(l.Path())
	evs, err := readEventFile(data)
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	if last.step != math.MaxInt || len(last.values) != 4 || last.values[0].simple != 1 || last.values[1].simple != 0 {
		t.Errorf("last event %+v", last)
	}
	// Step 8i+j+1 logged odd[i], odd[j], odd[j], odd[i]: check the
	// overflowing 1e300 became +Inf and -0 kept its sign.
	for _, ev := range evs {
		if ev.step == 3 { // a = +Inf, b = 1e300
			for _, v := range ev.values {
				if !math.IsInf(float64(v.simple), 1) {
					t.Errorf("step 3 %s = %v, want +Inf", v.tag, v.simple)
				}
			}
		}
		if ev.step == 4*8+4+1 { // a = b = -0
			for _, v := range ev.values {
				if math.Float32bits(v.simple) != 0x80000000 {
					t.Errorf("step 37 %s = %#x, want -0", v.tag, math.Float32bits(v.simple))
				}
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ReportName)); err != nil {
		t.Error(err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open("", Run{}); err == nil {
		t.Error("empty dir: no error")
	}
	if _, err := Open(t.TempDir(), Run{Batch: -1}); err == nil {
		t.Error("negative batch: no error")
	}
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	if _, err := Open(filepath.Join(file, "sub"), Run{}); err == nil {
		t.Error("dir under a file: no error")
	}
}

// TestTimedFlush checks a logged step reaches the file without Close.
func TestTimedFlush(t *testing.T) {
	defer func(d time.Duration) { flushInterval = d }(flushInterval)
	flushInterval = 20 * time.Millisecond
	l, err := Open(t.TempDir(), Run{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(Final{})
	fi, _ := os.Stat(l.Path())
	opened := fi.Size()
	if opened == 0 {
		t.Fatal("Open did not write the file version record")
	}
	l.Step(1, Scalars{Loss: 1, Accuracy: math.NaN(), LearningRate: math.NaN(), ExamplesPerSec: math.NaN()})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if fi, _ := os.Stat(l.Path()); fi.Size() > opened {
			return
		}
	}
	t.Fatal("step not written within 10 s")
}

func TestSeriesDownsampling(t *testing.T) {
	var s series
	const n = 100003
	var sum float64
	for i := 1; i <= n; i++ {
		v := float64(i%1000) / 10
		sum += v
		s.add(i, v)
		if len(s.buckets) > maxBuckets {
			t.Fatalf("%d buckets after %d points", len(s.buckets), i)
		}
	}
	s.add(n+1, math.NaN())
	s.add(n+2, math.Inf(1))
	if s.count != n || s.nonFinite != 1 || math.Abs(s.mean()-sum/n) > 1e-9 || s.min != 0 || s.max != 99.9 || s.last != float64(n%1000)/10 {
		t.Fatalf("stats: count %d nonFinite %d mean %v min %v max %v last %v", s.count, s.nonFinite, s.mean(), s.min, s.max, s.last)
	}
	total := 0
	for _, b := range s.buckets {
		total += b.n
	}
	if total != n {
		t.Errorf("buckets hold %d points, want %d", total, n)
	}
	pts := s.points(maxPlotPoints)
	if len(pts) > maxPlotPoints || len(pts) < maxPlotPoints/2 {
		t.Errorf("%d plot points", len(pts))
	}
	for i := 1; i < len(pts); i++ {
		if pts[i].x <= pts[i-1].x {
			t.Fatalf("points not in step order at %d", i)
		}
	}
	for _, p := range pts {
		if p.lo < 0 || p.hi > 99.9 || p.y < p.lo || p.y > p.hi {
			t.Fatalf("point %+v out of range", p)
		}
	}
	// Few points are kept exactly.
	var small series
	for i := 0; i < 10; i++ {
		small.add(i*10, float64(i))
	}
	if p := small.points(maxPlotPoints); len(p) != 10 || p[3] != (point{30, 3, 3, 3}) {
		t.Errorf("small series points %v", p)
	}
}

func TestTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi  float64
		n       int
		integer bool
		want    string
	}{
		{0, 1, 5, false, "[0 0.2 0.4 0.6000000000000001 0.8 1]"},
		{1, 300, 6, true, "[0 50 100 150 200 250 300]"},
		{5, 5, 6, true, "[4 5 6]"},
		{0.0213, 2.31, 5, false, "[0 0.5 1 1.5 2 2.5]"},
	} {
		ts, lo, hi := ticks(c.lo, c.hi, c.n, c.integer)
		if got := fmt.Sprint(ts.values); got != c.want || lo > c.lo || hi < c.hi {
			t.Errorf("ticks(%v, %v) = %s [%v, %v], want %s", c.lo, c.hi, got, lo, hi, c.want)
		}
	}
	if ts, _, _ := ticks(0, 1, 5, false); ts.label(0.6000000000000001) != "0.6" {
		t.Errorf("label %q", ts.label(0.6000000000000001))
	}
}

func BenchmarkStep(b *testing.B) {
	l, err := Open(b.TempDir(), Run{})
	if err != nil {
		b.Fatal(err)
	}
	s := Scalars{Loss: 0.5, Accuracy: math.NaN(), LearningRate: 0.01, ExamplesPerSec: 40000}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Loss = 1 / float64(i+1)
		if err := l.Step(i, s); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	l.Close(Final{})
}

// TestResumedReportHasHistory checks a resumed run's report includes the
// steps earlier runs logged before the resume point, with TensorBoard's
// rule that a later session start discards the earlier points after it.
func TestResumedReportHasHistory(t *testing.T) {
	dir := t.TempDir()
	run := func(resumed, last int, loss float64) *Log {
		t.Helper()
		l, err := Open(dir, Run{Batch: 1, Steps: 200, Resumed: resumed})
		if err != nil {
			t.Fatal(err)
		}
		for step := resumed + 1; step <= last; step++ {
			l.Step(step, Scalars{Loss: loss, Accuracy: math.NaN(), LearningRate: math.NaN(), ExamplesPerSec: math.NaN()})
		}
		if err := l.Close(Final{Steps: last}); err != nil {
			t.Fatal(err)
		}
		return l
	}
	l1 := run(0, 100, 1) // steps 1..100
	// The first run was killed mid-record: its file ends in garbage.
	f, _ := os.OpenFile(l1.Path(), os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte{9, 0, 0, 0, 0, 0, 0, 0, 1, 2})
	f.Close()
	l2 := run(60, 100, 2) // resumes at 60: keeps 1..59 of run 1, logs 61..100
	if s := l2.series[0]; s.count != 59+40 || s.sum != 59*1+40*2 || l2.history != 59 {
		t.Errorf("run 2: %d values, sum %v, history %d", s.count, s.sum, l2.history)
	}
	l3 := run(80, 90, 3) // keeps 1..59 of run 1, 61..79 of run 2, logs 81..90
	if s := l3.series[0]; s.count != 59+19+10 || s.sum != 59*1+19*2+10*3 {
		t.Errorf("run 3: %d values, sum %v", s.count, s.sum)
	}
	data, _ := os.ReadFile(l3.ReportPath())
	if !strings.Contains(string(data), "78 logged steps before step 80") {
		t.Error("report does not mention the earlier steps")
	}
	// A fresh run in the same directory starts a new curve.
	if l4 := run(0, 5, 4); l4.series[0].count != 5 || l4.history != 0 {
		t.Errorf("fresh run: %d values, history %d", l4.series[0].count, l4.history)
	}
}

// FuzzParseEvent checks the history reader's decoder never panics and
// agrees with the independent reader on the events it accepts.
func FuzzParseEvent(f *testing.F) {
	var p pbuf
	vals := [4]float64{1, math.NaN(), 0.5, -2}
	tags := scalarTags(Run{LossPerExample: true})
	encodeScalarsEvent(&p, 1.5, 42, &vals, &tags)
	f.Add(append([]byte(nil), p.b...))
	encodeSessionStartEvent(&p, 2, 7)
	f.Add(append([]byte(nil), p.b...))
	encodeGraphEvent(&p, 3, testSignature().Graph[:3])
	f.Add(append([]byte(nil), p.b...))
	f.Fuzz(func(t *testing.T, b []byte) {
		step, vals, start, ok := parseEvent(b, &tags)
		ev, err := decodeEvent(b)
		if !ok || err != nil || start {
			return
		}
		if ev.step != step {
			t.Fatalf("step %d, reference %d", step, ev.step)
		}
		for _, v := range ev.values {
			for i, tag := range tags {
				if v.tag == tag && v.has && math.Float32bits(float32(vals[i])) != math.Float32bits(v.simple) && !math.IsNaN(float64(v.simple)) {
					// A repeated tag keeps its last value in both readers.
					last := v
					for _, w := range ev.values {
						if w.tag == tag && w.has {
							last = w
						}
					}
					if math.Float32bits(float32(vals[i])) != math.Float32bits(last.simple) {
						t.Fatalf("%s = %v, reference %v", tag, vals[i], last.simple)
					}
				}
			}
		}
	})
}

// TestReferenceAnchors pins the test's reference CRC and the encoder to
// published and hand-computed values, so that the round trip cannot pass
// with a writer and reader that agree on a wrong format.
func TestReferenceAnchors(t *testing.T) {
	zeros, ones := make([]byte, 32), bytes.Repeat([]byte{0xff}, 32)
	for _, c := range []struct {
		in   []byte
		want uint32
	}{
		{[]byte("123456789"), 0xe3069283}, // the CRC-32C check value
		{zeros, 0x8a9136aa},               // RFC 3720, B.4
		{ones, 0x62a8ab43},                // RFC 3720, B.4
	} {
		if got := crc32cRef(c.in); got != c.want {
			t.Errorf("crc32cRef(%x) = %#x, want %#x", c.in, got, c.want)
		}
	}
	// Event{wall_time: 1.5, file_version: "brain.Event:2"}: field 1 as a
	// fixed64 (key 0x09) holding the IEEE 754 bits of 1.5, then field 3
	// length-delimited (key 0x1a), length 13.
	var p pbuf
	encodeFileVersionEvent(&p, 1.5)
	want := append([]byte{0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0x1a, 13}, "brain.Event:2"...)
	if !bytes.Equal(p.b, want) {
		t.Errorf("file version event % x, want % x", p.b, want)
	}
	// Event{wall_time: 0.5, step: 300, summary{value{tag: "loss",
	// simple_value: 0.25}}}: step 300 is the varint ac 02; the summary
	// (key 0x2a) holds one value (key 0x0a) of 11 bytes: tag (0a 04
	// "loss") and simple_value as a fixed32 (key 0x15) 0x3e800000.
	vals := [4]float64{0.25, math.NaN(), math.NaN(), math.NaN()}
	encodeScalarsEvent(&p, 0.5, 300, &vals, &[4]string{"loss"})
	want = []byte{0x09, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f, 0x10, 0xac, 0x02, 0x2a, 13, 0x0a, 11, 0x0a, 4, 'l', 'o', 's', 's', 0x15, 0, 0, 0x80, 0x3e}
	if !bytes.Equal(p.b, want) {
		t.Errorf("scalar event % x, want % x", p.b, want)
	}
	// A length of 300 needs a two-byte varint: the body must shift.
	p.reset()
	m := p.begin(4)
	p.b = append(p.b, bytes.Repeat([]byte{7}, 300)...)
	p.end(m)
	if !bytes.Equal(p.b[:3], []byte{0x22, 0xac, 0x02}) || len(p.b) != 303 || p.b[3] != 7 || p.b[302] != 7 {
		t.Errorf("long embedded message: % x ... (%d bytes)", p.b[:4], len(p.b))
	}
}
