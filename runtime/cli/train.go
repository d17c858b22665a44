package cli

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/flow-lang/flow/runtime"
	"github.com/flow-lang/flow/runtime/checkpoint"
	"github.com/flow-lang/flow/runtime/data"
	"github.com/flow-lang/flow/runtime/progress"
)

// Training defaults.
const (
	defaultSteps = 1000
	defaultBatch = 100
	defaultSeed  = 1
	// lossWindow is how many of the last steps the final loss averages
	// over.
	lossWindow = 100
)

// trainResult is the JSON summary train --json prints as its last line.
type trainResult struct {
	Model  string  `json:"model"`
	Steps  int     `json:"steps"`
	Epochs float64 `json:"epochs"`
	Batch  int     `json:"batch"`
	Seed   uint64  `json:"seed"`
	// FinalLossPerExample is the mean loss per example of the last
	// lossWindow steps; FinalLossPerBatch replaces it, per batch of Batch
	// examples, when the model's signature does not say how its loss
	// combines a batch's examples (see lossUnit). Exactly one is set.
	FinalLossPerExample *any    `json:"final_loss_per_example,omitempty"`
	FinalLossPerBatch   *any    `json:"final_loss_per_batch,omitempty"`
	TestAccuracy        any     `json:"test_accuracy"` // null if an interrupted run skipped the evaluation
	TestExamples        int     `json:"test_examples"` // 0 if it did
	ExamplesPerSec      float64 `json:"examples_per_sec"`
	Seconds             float64 `json:"seconds"`
	// ResumedFrom is the step the run resumed from (--resume), 0 for a
	// run that started afresh.
	ResumedFrom int `json:"resumed_from_step"`
	// Checkpoint is the file the final parameters were saved to, if any.
	Checkpoint string `json:"checkpoint,omitempty"`
	// Interrupted reports a run a signal stopped early, at step Steps of
	// PlannedSteps; Signal is "SIGINT" or "SIGTERM".
	Interrupted  bool   `json:"interrupted,omitempty"`
	PlannedSteps int    `json:"planned_steps,omitempty"`
	Signal       string `json:"signal,omitempty"`
}

// trainFlags are the flags of train.
type trainFlags struct {
	data       string
	steps      int
	epochs     int
	batch      int
	seed       uint64
	checkpoint string
	every      int
	keep       int
	resume     bool
	logdir     string
	evalEvery  int
	asJSON     bool
	quiet      bool
}

func runTrain(e *env, args []string) error {
	fs := e.newFlags("train", "[--data DIR] [--steps N | --epochs E] [--batch B] [--seed S]\n"+
		"       [--checkpoint DIR [--checkpoint-every N] [--keep K] [--resume]] [--logdir DIR [--eval-every N]] [--json] [--quiet]",
		"Train runs stochastic training steps on shuffled MNIST batches, then\n"+
			"reports the accuracy on the 10,000 test images. Progress goes to stdout\n"+
			"(a live line on a terminal), or to stderr with --json, whose summary\n"+
			"object is the last line of stdout.\n\n"+
			"With --checkpoint DIR it saves every parameter, optimizer state included,\n"+
			"and the data order's state to DIR/ckpt-<step>.safetensors when training\n"+
			"ends and every --checkpoint-every steps, keeping the newest --keep files.\n"+
			"eval, predict and serve restore the newest with --checkpoint DIR. --resume\n"+
			"continues from the newest checkpoint in DIR up to --steps steps in total,\n"+
			"exactly as if the run had not stopped; it is an error if that checkpoint\n"+
			"cannot be read (a damaged file, a dangling symbolic link), or if DIR holds\n"+
			"other .safetensors files but no checkpoint. Only a DIR that does not exist\n"+
			"or holds no .safetensors file at all starts a fresh run, and says so (the\n"+
			"first launch of a job its engine restarts with the same command).\n\n"+
			"With --logdir DIR it writes TensorBoard event files and DIR/report.html.\n\n"+
			"SIGINT (Ctrl-C) or SIGTERM stops training after the current step and ends\n"+
			"the run as its last step would, without the test-set evaluation: it saves\n"+
			"the checkpoint (continue with --resume), closes the log and prints the\n"+
			"summary, then exits with status 130 (SIGINT) or 143 (SIGTERM). A second\n"+
			"signal kills the process at once.")
	var f trainFlags
	fs.StringVar(&f.data, "data", "", "MNIST data `directory` (default: $FLOW_DATA, else the GoMNIST Go module)")
	fs.IntVar(&f.steps, "steps", defaultSteps, "total number of training steps (a resumed run's earlier steps count)")
	fs.IntVar(&f.epochs, "epochs", 0, "train for this many passes over the training set in total (sets the steps)")
	fs.IntVar(&f.batch, "batch", defaultBatch, "examples per training step (--resume keeps the resumed run's)")
	fs.Uint64Var(&f.seed, "seed", defaultSeed, "seed for shuffling the training data (--resume keeps the resumed run's)")
	fs.StringVar(&f.checkpoint, "checkpoint", "", "save checkpoints to `DIR` (created if needed)")
	fs.IntVar(&f.every, "checkpoint-every", 0, "also save a checkpoint every `N` steps (0: only at the end)")
	fs.IntVar(&f.keep, "keep", defaultKeep, "keep the newest `K` checkpoints in the --checkpoint directory")
	fs.BoolVar(&f.resume, "resume", false, "continue from the newest checkpoint in the --checkpoint directory (start afresh only if it holds no .safetensors file)")
	fs.StringVar(&f.logdir, "logdir", "", "write TensorBoard event files and report.html to `DIR`")
	fs.IntVar(&f.evalEvery, "eval-every", 0, "also measure the test accuracy every `N` steps, for --logdir (0: only at the end)")
	fs.BoolVar(&f.asJSON, "json", false, "end with one JSON summary line on stdout")
	fs.BoolVar(&f.quiet, "quiet", false, "do not report progress")
	if err := parse(fs, args); err != nil {
		return err
	}
	bad := func(format string, a ...any) error {
		return &usageError{msg: "train: " + fmt.Sprintf(format, a...), usage: fs.Usage}
	}
	switch {
	case f.steps <= 0:
		return bad("--steps must be positive, got %d", f.steps)
	case f.batch <= 0:
		return bad("--batch must be positive, got %d", f.batch)
	case f.epochs < 0:
		return bad("--epochs must not be negative, got %d", f.epochs)
	case isSet(fs, "epochs") && isSet(fs, "steps"):
		return bad("give --steps or --epochs, not both")
	case f.every < 0:
		return bad("--checkpoint-every must not be negative, got %d", f.every)
	case f.keep < 1:
		return bad("--keep must be at least 1, got %d", f.keep)
	case f.evalEvery < 0:
		return bad("--eval-every must not be negative, got %d", f.evalEvery)
	case f.checkpoint == "" && (f.resume || isSet(fs, "checkpoint-every") || isSet(fs, "keep")):
		return bad("--resume, --checkpoint-every and --keep need --checkpoint DIR")
	}

	sig := e.model.Signature()
	unit := lossUnitOf(sig)
	tb, err := bindTrain(sig)
	if err != nil {
		return err
	}
	pb, err := bindPredict(sig)
	if err != nil {
		return err
	}
	progOut := e.stdout
	if f.asJSON {
		progOut = e.stderr
	}
	say := func(format string, a ...any) {
		if !f.quiet {
			fmt.Fprintf(progOut, format, a...)
		}
	}

	// The checkpoint to resume from, checked before anything is loaded.
	var resumed *trainState
	var resumeFile *checkpoint.File
	if f.checkpoint != "" {
		// Fail before training, not after, if checkpoints cannot be written.
		if err := os.MkdirAll(f.checkpoint, 0o777); err != nil {
			return fmt.Errorf("--checkpoint: %v", err)
		}
		latest, ok, err := checkpoint.Latest(f.checkpoint)
		switch {
		case err != nil && f.resume:
			return fmt.Errorf("cannot resume: %v", err)
		case err != nil:
			return fmt.Errorf("--checkpoint: %v", err)
		}
		switch {
		case ok && !f.resume:
			return fmt.Errorf("%s already holds checkpoints (the newest is %s): add --resume to continue that run, or choose another directory",
				f.checkpoint, latest.Path)
		case ok:
			if resumeFile, err = checkpoint.Load(latest.Path); err != nil {
				return fmt.Errorf("cannot resume: %v", err)
			}
			if resumed, err = readTrainState(resumeFile); err != nil {
				return fmt.Errorf("cannot resume: %v", err)
			}
			if resumed.model != "" && resumed.model != sig.Model {
				return fmt.Errorf("cannot resume: %s was saved by model %s, this is model %s", latest.Path, resumed.model, sig.Model)
			}
			for _, c := range []struct {
				flag      string
				set, same bool
				saved     any
			}{
				{"batch", isSet(fs, "batch"), f.batch == resumed.batch, resumed.batch},
				{"seed", isSet(fs, "seed"), f.seed == resumed.seed, resumed.seed},
			} {
				if c.set && !c.same {
					return bad("--%s differs from the resumed run's (%v in %s); a resumed run keeps its data order", c.flag, c.saved, latest.Path)
				}
			}
			f.batch, f.seed = resumed.batch, resumed.seed
		case f.resume:
			// The first launch of a job that is restarted with the same
			// command: start afresh, but only from a directory that holds
			// nothing that looks like a checkpoint, and say so.
			strays, err := checkpoint.Strays(f.checkpoint)
			if err != nil {
				return fmt.Errorf("cannot resume: %v", err)
			}
			if len(strays) > 0 {
				them := "it"
				if len(strays) > 1 {
					them = "them"
				}
				return fmt.Errorf("cannot resume: %s holds no %s<step>%s checkpoint, only %s, which train does not resume from; move %s away to start afresh there, or name the directory of the run to resume",
					f.checkpoint, checkpoint.Prefix, checkpoint.Ext, strings.Join(strays, ", "), them)
			}
			fmt.Fprintf(e.stderr, "--resume: %s holds no checkpoint: starting a fresh run from step 0\n", f.checkpoint)
		}
		if _, err := checkpoint.RemoveTemps(f.checkpoint); err != nil {
			return fmt.Errorf("--checkpoint: %v", err)
		}
	}
	if err := tb.features.checkBatch(f.batch, sig); err != nil {
		return err
	}
	ds, err := loadData(f.data)
	if err != nil {
		return err
	}
	train := ds.Train
	if err := checkImageSize(train.Images, tb.features); err != nil {
		return err
	}
	if f.epochs > 0 {
		f.steps = max(1, (f.epochs*train.Len()+f.batch-1)/f.batch)
	}

	rng := runtime.NewRNG(f.seed)
	batcher := data.NewBatcher(train.Len(), f.batch, rng)
	var recent [lossWindow]float64
	first := 1 // the first step of this run
	if resumed != nil {
		switch {
		case resumed.examples != train.Len():
			return fmt.Errorf("cannot resume: %s was trained on %d examples, this data set has %d", resumeFile.Path, resumed.examples, train.Len())
		case resumed.step > f.steps:
			return fmt.Errorf("cannot resume: %s is at step %d, past --steps %d (--steps counts all steps, the resumed ones included)",
				resumeFile.Path, resumed.step, f.steps)
		}
		// Replay the data order up to the checkpoint, and check it ends
		// where the saved run's did.
		for range resumed.step {
			batcher.Next()
		}
		if st, err := rng.State(); err != nil || !bytes.Equal(st, resumed.dataRNG) {
			return fmt.Errorf("cannot resume: the data order differs from the saved run's (%s)", resumeFile.Path)
		}
		if err := restoreParams(e.model, resumeFile); err != nil {
			return fmt.Errorf("cannot resume: %v", err)
		}
		for i, l := range resumed.recent {
			s := resumed.step - len(resumed.recent) + 1 + i
			recent[(s-1)%lossWindow] = l
		}
		first = resumed.step + 1
		say("resuming from %s at step %d\n", resumeFile.Path, resumed.step)
	}
	state := func(step int) (*trainState, error) {
		st, err := rng.State()
		if err != nil {
			return nil, err
		}
		n := min(step, lossWindow)
		rec := make([]float64, n)
		for i := range rec {
			rec[i] = recent[(step-n+i)%lossWindow]
		}
		return &trainState{step: step, batch: f.batch, seed: f.seed, examples: train.Len(), dataRNG: st, recent: rec}, nil
	}
	evalBatch := defaultEvalBatch
	if pb.features.fixed > 0 {
		evalBatch = pb.features.fixed
	}

	var log *runLog
	if f.logdir != "" {
		if log, err = openRunLog(f.logdir, sig, f.batch, f.steps, first-1, unit.perExample); err != nil {
			return fmt.Errorf("--logdir: %v", err)
		}
		defer func() {
			if log != nil {
				log.abort()
			}
		}()
	}

	say("training %s on %d examples: %d steps of batch %d (%.2f epochs); loss %s%s\n",
		sig.Model, train.Len(), f.steps, f.batch, float64(f.steps*f.batch)/float64(train.Len()), unit.label(f.batch), unit.why())
	bar := progress.New(progOut, f.steps, progress.Options{Terminal: isTerminal(progOut), Quiet: f.quiet, Initial: first - 1})
	// End the progress line on every way out, so that an error is not
	// printed onto the end of a live bar (Done is idempotent).
	defer bar.Done()

	x := make([]float32, f.batch*tb.features.per)
	y := make([]float32, f.batch*tb.labels.per)
	in := make([][]float32, 2)
	in[tb.featIdx], in[tb.lblIdx] = x, y

	var (
		paused     time.Duration // time spent saving and evaluating
		ratePaused time.Duration // the part of it in the log's throughput window
		rateStep   = first - 1   // the step before the window
		rateTime   time.Time     // when the window started
	)
	pause := func(since time.Time) {
		d := clock().Sub(since)
		paused += d
		ratePaused += d
	}
	// logRate returns the examples per second since the last call that
	// returned a number, or NaN if less than a second has passed (unless
	// force is set).
	logRate := func(step int, force bool) float64 {
		now := clock()
		dt := now.Sub(rateTime) - ratePaused
		if step <= rateStep || dt <= 0 || (dt < time.Second && !force) {
			return math.NaN()
		}
		r := float64((step-rateStep)*f.batch) / dt.Seconds()
		rateTime, rateStep, ratePaused = now, step, 0
		return r
	}
	intr, release := catchInterrupts()
	defer release()
	bar.Start()
	start := clock()
	rateTime = start
	last := f.steps // the last step done: f.steps unless interrupted
	for step := first; step <= f.steps; step++ {
		idx := batcher.Next()
		data.FillImages(x, train.Images, idx)
		data.FillOneHot(y, train.Labels, idx, mnistClasses)
		loss := float64(e.model.TrainFeed(f.batch, in))
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			bar.Done()
			return fmt.Errorf("training diverged at step %d: loss is %v", step, loss)
		}
		recent[(step-1)%lossWindow] = loss
		bar.Update(step, unit.of(loss, f.batch), (step-first+1)*f.batch)
		if step == f.steps {
			break // the last step is logged, evaluated and saved below
		}
		if intr.signal() != nil {
			last = step // logged and saved below like the last step
			break
		}
		if log != nil {
			acc := math.NaN()
			if f.evalEvery > 0 && step%f.evalEvery == 0 {
				t := clock()
				if acc, err = accuracy(e.model, pb, ds.Test, evalBatch); err != nil {
					return err
				}
				pause(t)
			}
			if err := log.step(step, unit.of(loss, f.batch), acc, learningRate(sig.Optimizer, step-1), logRate(step, false)); err != nil {
				return fmt.Errorf("--logdir: %v", err)
			}
		}
		if f.checkpoint != "" && f.every > 0 && step%f.every == 0 {
			t := clock()
			st, err := state(step)
			if err != nil {
				return err
			}
			if _, err = saveCheckpoint(f.checkpoint, e.model, st, nil, f.keep); err != nil {
				return err
			}
			pause(t)
		}
	}
	// The run's duration and throughput, which the summary and the log's
	// report both show: the time of the training steps, without the
	// evaluations and checkpoint saves between them.
	elapsed := clock().Sub(start) - paused
	bar.Done()
	// A signal after the last step changes nothing: the run is complete.
	interrupted := last < f.steps
	if interrupted {
		fmt.Fprintf(e.stderr, "interrupted by %s: stopped early at step %d of %d; skipping the test-set evaluation\n",
			signalName(intr.signal()), last, f.steps)
	}

	var finalLoss float64
	window := min(last, lossWindow)
	for _, l := range recent[:window] {
		finalLoss += unit.of(l, f.batch)
	}
	finalLoss /= float64(window)

	acc, testExamples := math.NaN(), 0
	if !interrupted {
		if acc, err = accuracy(e.model, pb, ds.Test, evalBatch); err != nil {
			return err
		}
		testExamples = ds.Test.Len()
	}
	examples := (last - first + 1) * f.batch
	rate := 0.0
	if elapsed > 0 {
		rate = float64(examples) / elapsed.Seconds()
	}
	res := trainResult{
		Model:  sig.Model,
		Steps:  last,
		Epochs: float64(last*f.batch) / float64(train.Len()),
		Batch:  f.batch,
		Seed:   f.seed,

		TestAccuracy:   jsonFloat(acc),
		TestExamples:   testExamples,
		ExamplesPerSec: rate,
		Seconds:        elapsed.Seconds(),
		ResumedFrom:    first - 1,
	}
	final := jsonFloat(finalLoss)
	if unit.perExample {
		res.FinalLossPerExample = &final
	} else {
		res.FinalLossPerBatch = &final
	}
	if interrupted {
		res.Interrupted, res.PlannedSteps, res.Signal = true, f.steps, signalName(intr.signal())
	}
	if f.checkpoint != "" {
		st, err := state(last)
		if err != nil {
			return err
		}
		extra := map[string]string{}
		if !interrupted {
			extra[metaAccuracy] = strconv.FormatFloat(acc, 'g', -1, 64)
		}
		if !math.IsNaN(finalLoss) && !math.IsInf(finalLoss, 0) {
			extra[unit.key(metaFinalLoss)] = strconv.FormatFloat(finalLoss, 'g', -1, 64)
		}
		if res.Checkpoint, err = saveCheckpoint(f.checkpoint, e.model, st, extra, f.keep); err != nil {
			return err
		}
	}
	if log != nil {
		if first <= last { // the last step ran in this run
			loss := unit.of(recent[(last-1)%lossWindow], f.batch)
			if err := log.step(last, loss, acc, learningRate(sig.Optimizer, last-1), logRate(last, true)); err != nil {
				return fmt.Errorf("--logdir: %v", err)
			}
		}
		err := log.close(finalLoss, acc, last, elapsed, rate, res.Checkpoint)
		log = nil
		if err != nil {
			return fmt.Errorf("--logdir: %v", err)
		}
	}
	var stopped error
	if interrupted {
		stopped = &interruptedError{sig: intr.signal(), step: last, steps: f.steps}
	}
	if f.asJSON {
		if err := writeJSONLine(e.stdout, res); err != nil {
			return err
		}
		return stopped
	}
	fmt.Fprintf(e.stdout, "trained %d steps in %.1fs (%.0f examples/s); mean loss %s over the last %d steps: %.4f\n",
		last-first+1, elapsed.Seconds(), rate, unit.label(f.batch), window, finalLoss)
	if !interrupted {
		fmt.Fprintf(e.stdout, "test accuracy: %.4f\n", acc)
	}
	if res.Checkpoint != "" {
		fmt.Fprintf(e.stdout, "saved the checkpoint %s\n", res.Checkpoint)
		if interrupted {
			fmt.Fprintln(e.stdout, "to continue the run, repeat the command with --resume")
		}
	}
	return stopped
}

// clock is the clock train times its run with; a variable so tests can
// make time deterministic.
var clock = time.Now

// isTerminal reports whether w is an interactive terminal, where train
// draws a live progress line; a variable so tests can fake a terminal.
var isTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && progress.IsTerminal(f)
}
