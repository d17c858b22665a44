// Package trainlog records a training run for people to look at: a
// TensorBoard event file (scalar summaries of loss, accuracy, learning rate
// and throughput, and the model graph) that `tensorboard --logdir DIR`
// reads, and, when the run ends, a self-contained HTML report (model
// summary, SVG plots of the curves, throughput, final metrics).
//
// The event file is written from the format's specification — TFRecord
// framing around hand-encoded tensorflow.Event protocol buffers — so the
// package, like the rest of runtime, depends on the Go standard library
// only.
//
// Typical use, from a training loop:
//
//	l, err := trainlog.Open(dir, trainlog.Run{Signature: sig, Batch: 100, Steps: 1000})
//	...
//	for step := 1; step <= 1000; step++ {
//		loss := train()
//		l.Step(step, trainlog.Scalars{Loss: loss, Accuracy: math.NaN(), LearningRate: lr, ExamplesPerSec: eps})
//	}
//	err = l.Close(trainlog.Final{FinalLoss: loss, TestAccuracy: acc, Steps: 1000, Duration: d, Checkpoint: path})
package trainlog

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flow-lang/flow/runtime"
)

// Run describes a training run.
type Run struct {
	// Signature describes the model: its name, parameter count, optimizer
	// and graph (which may be empty). It may be nil.
	Signature *runtime.Signature
	// Batch is the batch size and Steps the total number of steps
	// planned (counting from step 0, not from Resumed).
	Batch, Steps int
	// Resumed is the step the run resumed from (0 for a fresh run).
	Resumed int
	// LossPerExample says the losses logged are per example (the same
	// for any batch size); otherwise they are per batch of Batch
	// examples. The loss's tag and labels say which.
	LossPerExample bool
}

// Scalars are the values logged at one step. NaN means "not measured at
// this step" (e.g. accuracy, measured only at evaluation points) and is
// not written; ±Inf is written (the event file stores float32, so finite
// values beyond its range become ±Inf too).
type Scalars struct {
	// Loss is the training loss at the step, per example or per batch as
	// Run.LossPerExample says.
	Loss float64
	// Accuracy is the accuracy measured at the step, as a fraction.
	Accuracy float64
	// LearningRate is the learning rate the step used.
	LearningRate float64
	// ExamplesPerSec is the training throughput around the step.
	ExamplesPerSec float64
}

// Final are the end-of-run metrics for the report.
type Final struct {
	// FinalLoss is the loss at the end of training (in the unit of
	// Scalars.Loss), TestAccuracy the accuracy on held-out data (NaN when
	// not measured).
	FinalLoss, TestAccuracy float64
	// Steps is the step count reached.
	Steps int
	// Duration is the time the run spent training, as its summary
	// reports it (a training loop may leave out the time of evaluations
	// and checkpoint saves); zero means the time since Open.
	Duration time.Duration
	// ExamplesPerSec is the run's overall throughput, as its summary
	// reports it; zero means Steps - Run.Resumed steps of Run.Batch
	// examples over Duration.
	ExamplesPerSec float64
	// Checkpoint is the path of the checkpoint written at the end ("" if
	// none).
	Checkpoint string
}

// FlushInterval is the longest time a logged step stays buffered in
// memory before it is written to the event file.
const FlushInterval = 2 * time.Second

// flushInterval is FlushInterval, shortened by tests.
var flushInterval = FlushInterval

// maxBuffered is the buffer size beyond which Step writes at once.
const maxBuffered = 1 << 20

// ReportName is the name of the HTML report Close writes in the log
// directory.
const ReportName = "report.html"

// fileCounter distinguishes event files opened by one process in the
// same second.
var fileCounter atomic.Uint64

// Log is an open training log. Its methods may be called from several
// goroutines.
type Log struct {
	run  Run
	dir  string
	path string

	mu      sync.Mutex
	f       *os.File
	buf     []byte // encoded records not yet written to f
	p       pbuf   // scratch for encoding one event
	pending bool   // a flush timer is armed
	err     error  // first write error, returned by later calls
	closed  bool
	start   time.Time

	series  [4]series // in Scalars field order
	tags    [4]string // the summary tags, in Scalars field order
	history int       // steps read back from earlier runs' event files
}

// Open creates dir (and its parents) if needed and starts a new event
// file in it, events.out.tfevents.<unix seconds>.<hostname>.<pid>.<n>,
// holding the file version record, the model graph (when
// run.Signature.Graph is not empty) and, for a resumed run, a session
// start at run.Resumed (which makes TensorBoard drop the steps of earlier
// files that the resumed run logs again). The records are written before
// Open returns. A resumed run's report also shows the scalars that the
// earlier event files in dir logged before run.Resumed.
func Open(dir string, run Run) (*Log, error) {
	if dir == "" {
		return nil, errors.New("trainlog: empty log directory")
	}
	if run.Batch < 0 || run.Steps < 0 || run.Resumed < 0 {
		return nil, fmt.Errorf("trainlog: negative batch size, step count or resume step (%d, %d, %d)", run.Batch, run.Steps, run.Resumed)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("trainlog: %w", err)
	}
	now := time.Now()
	host := sanitizeHost()
	var f *os.File
	var path string
	for {
		name := fmt.Sprintf("events.out.tfevents.%010d.%s.%d.%d", now.Unix(), host, os.Getpid(), fileCounter.Add(1)-1)
		path = filepath.Join(dir, name)
		var err error
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("trainlog: %w", err)
		}
	}
	l := &Log{run: run, dir: dir, path: path, f: f, start: now, tags: scalarTags(run)}
	if run.Resumed > 0 {
		l.loadHistory()
	}
	wall := wallTime(now)
	encodeFileVersionEvent(&l.p, wall)
	l.buf = appendRecord(l.buf, l.p.b)
	if run.Signature != nil && len(run.Signature.Graph) > 0 {
		encodeGraphEvent(&l.p, wall, run.Signature.Graph)
		l.buf = appendRecord(l.buf, l.p.b)
	}
	if run.Resumed > 0 {
		encodeSessionStartEvent(&l.p, wall, int64(run.Resumed))
		l.buf = appendRecord(l.buf, l.p.b)
	}
	if err := l.flushLocked(); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return l, nil
}

// Path returns the path of the event file.
func (l *Log) Path() string { return l.path }

// ReportPath returns the path of the HTML report Close writes.
func (l *Log) ReportPath() string { return filepath.Join(l.dir, ReportName) }

// Step logs the values of s that are not NaN at step, as one event with a
// scalar summary per value, tagged "loss_per_example" (or, unless
// Run.LossPerExample, "loss_per_batch"), "accuracy", "learning_rate" and
// "examples_per_sec". Steps should increase from call to call. The event
// is buffered and written within FlushInterval (and by Close). Step
// returns an error for a negative step, after Close, and once writing the
// file has failed.
func (l *Log) Step(step int, s Scalars) error {
	if l == nil {
		return errors.New("trainlog: Step on a nil Log")
	}
	if step < 0 {
		return fmt.Errorf("trainlog: negative step %d", step)
	}
	now := time.Now()
	vals := [4]float64{s.Loss, s.Accuracy, s.LearningRate, s.ExamplesPerSec}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errors.New("trainlog: Step after Close")
	}
	if l.err != nil {
		return l.err
	}
	if !encodeScalarsEvent(&l.p, wallTime(now), int64(step), &vals, &l.tags) {
		return nil
	}
	l.buf = appendRecord(l.buf, l.p.b)
	for i, v := range vals {
		l.series[i].add(step, v)
	}
	if len(l.buf) >= maxBuffered {
		return l.flushLocked()
	}
	if !l.pending {
		l.pending = true
		time.AfterFunc(flushInterval, l.timedFlush)
	}
	return nil
}

// timedFlush writes the buffered events; it runs FlushInterval after the
// first event buffered since the last flush.
func (l *Log) timedFlush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = false
	if l.closed || l.err != nil {
		return
	}
	l.flushLocked() // an error is kept in l.err for the next call
}

// flushLocked writes the buffered records to the file; l.mu is held.
func (l *Log) flushLocked() error {
	if l.err != nil {
		return l.err
	}
	if len(l.buf) == 0 {
		return nil
	}
	if _, err := l.f.Write(l.buf); err != nil {
		l.err = fmt.Errorf("trainlog: writing %s: %w", l.path, err)
		return l.err
	}
	l.buf = l.buf[:0]
	return nil
}

// Close writes the buffered events, syncs and closes the event file, and
// writes the HTML report (dir/report.html, replaced atomically) with the
// run's summary, the curves logged by Step and the metrics in f. The
// report is written even when the event file failed; the first error is
// returned. Calling Close again returns an error.
func (l *Log) Close(f Final) error {
	if l == nil {
		return errors.New("trainlog: Close on a nil Log")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errors.New("trainlog: Close called twice")
	}
	l.closed = true
	err := l.flushLocked()
	if serr := l.f.Sync(); serr != nil && err == nil {
		err = fmt.Errorf("trainlog: syncing %s: %w", l.path, serr)
	}
	if cerr := l.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("trainlog: closing %s: %w", l.path, cerr)
	}
	if f.Duration <= 0 {
		f.Duration = time.Since(l.start)
	}
	rerr := writeFileAtomic(l.ReportPath(), l.report(f))
	if rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// wallTime returns t as seconds since the Unix epoch.
func wallTime(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}

// sanitizeHost returns the host name with characters that do not belong
// in a file name replaced, "localhost" if it is unknown.
func sanitizeHost() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	b := []byte(h)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// writeFileAtomic writes data to a temporary file in path's directory,
// syncs it and renames it to path, so that readers see either the old file
// or the complete new one; it then syncs the directory (best effort: not
// every platform can).
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("trainlog: %w", err)
	}
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("trainlog: writing %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("trainlog: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("trainlog: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// finite reports whether v is neither NaN nor ±Inf.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
