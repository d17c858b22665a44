package cli

import (
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/flow-lang/flow/runtime"
	"github.com/flow-lang/flow/runtime/data"
	"github.com/flow-lang/flow/runtime/progress"
)

// Training defaults.
const (
	defaultSteps = 1000
	defaultBatch = 100
	defaultSeed  = 1
	// lossWindow is how many of the last steps final_loss averages over.
	lossWindow = 100
)

// trainResult is the JSON summary train --json prints as its last line.
type trainResult struct {
	Model          string  `json:"model"`
	Steps          int     `json:"steps"`
	Epochs         float64 `json:"epochs"`
	Batch          int     `json:"batch"`
	Seed           uint64  `json:"seed"`
	FinalLoss      any     `json:"final_loss"`
	TestAccuracy   float64 `json:"test_accuracy"`
	TestExamples   int     `json:"test_examples"`
	ExamplesPerSec float64 `json:"examples_per_sec"`
	Seconds        float64 `json:"seconds"`
	// Checkpoint is the file the parameters were saved to, if any.
	Checkpoint string `json:"checkpoint,omitempty"`
}

func runTrain(e *env, args []string) error {
	fs := e.newFlags("train", "[--data DIR] [--steps N | --epochs E] [--batch B] [--seed S] [--checkpoint DIR] [--json] [--quiet]",
		"Train runs stochastic training steps on shuffled MNIST batches, then\n"+
			"reports the accuracy on the 10,000 test images. Progress goes to stdout,\n"+
			"or to stderr with --json, whose summary object is the last line of stdout.\n"+
			"With --checkpoint DIR it then saves every parameter, optimizer state\n"+
			"included, to DIR/"+checkpointFile+", which eval and predict restore\n"+
			"with --checkpoint DIR.")
	dir := fs.String("data", "", "MNIST data `directory` (default: $FLOW_DATA, else the GoMNIST Go module)")
	steps := fs.Int("steps", defaultSteps, "number of training steps")
	epochs := fs.Int("epochs", 0, "train for this many passes over the training set (sets the steps)")
	batch := fs.Int("batch", defaultBatch, "examples per training step")
	seed := fs.Uint64("seed", defaultSeed, "seed for shuffling the training data")
	ckptDir := fs.String("checkpoint", "", "after training, save the parameters to `DIR`/"+checkpointFile+" (DIR is created if needed)")
	asJSON := fs.Bool("json", false, "end with one JSON summary line on stdout")
	quiet := fs.Bool("quiet", false, "do not report progress")
	if err := parse(fs, args); err != nil {
		return err
	}
	bad := func(format string, a ...any) error {
		return &usageError{msg: "train: " + fmt.Sprintf(format, a...), usage: fs.Usage}
	}
	switch {
	case *steps <= 0:
		return bad("--steps must be positive, got %d", *steps)
	case *batch <= 0:
		return bad("--batch must be positive, got %d", *batch)
	case *epochs < 0:
		return bad("--epochs must not be negative, got %d", *epochs)
	case isSet(fs, "epochs") && isSet(fs, "steps"):
		return bad("give --steps or --epochs, not both")
	}

	sig := e.model.Signature()
	tb, err := bindTrain(sig)
	if err != nil {
		return err
	}
	pb, err := bindPredict(sig)
	if err != nil {
		return err
	}
	if err := tb.features.checkBatch(*batch, sig.MaxBatch); err != nil {
		return err
	}
	if *ckptDir != "" {
		// Fail before training, not after, if the checkpoint cannot be written.
		if err := os.MkdirAll(*ckptDir, 0o777); err != nil {
			return fmt.Errorf("--checkpoint: %v", err)
		}
	}
	ds, err := loadData(*dir)
	if err != nil {
		return err
	}
	train := ds.Train
	if err := checkImageSize(train.Images, tb.features); err != nil {
		return err
	}
	if *epochs > 0 {
		*steps = max(1, (*epochs*train.Len()+*batch-1) / *batch)
	}

	progOut := e.stdout
	if *asJSON {
		progOut = e.stderr
	}
	if !*quiet {
		fmt.Fprintf(progOut, "training %s on %d examples: %d steps of batch %d (%.2f epochs)\n",
			sig.Model, train.Len(), *steps, *batch, float64(*steps**batch)/float64(train.Len()))
	}
	bar := progress.New(progOut, *steps, progress.Options{Terminal: isTerminal(progOut), Quiet: *quiet})

	batcher := data.NewBatcher(train.Len(), *batch, runtime.NewRNG(*seed))
	x := make([]float32, *batch*tb.features.per)
	y := make([]float32, *batch*tb.labels.per)
	in := make([][]float32, 2)
	in[tb.featIdx], in[tb.lblIdx] = x, y
	var recent [lossWindow]float64

	bar.Start()
	start := time.Now()
	for step := 1; step <= *steps; step++ {
		idx := batcher.Next()
		data.FillImages(x, train.Images, idx)
		data.FillOneHot(y, train.Labels, idx, mnistClasses)
		loss := float64(e.model.TrainFeed(*batch, in))
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			bar.Done()
			return fmt.Errorf("training diverged at step %d: loss is %v", step, loss)
		}
		recent[(step-1)%lossWindow] = loss
		bar.Update(step, loss, step**batch)
	}
	elapsed := time.Since(start).Seconds()
	bar.Done()

	var finalLoss float64
	window := min(*steps, lossWindow)
	for _, l := range recent[:window] {
		finalLoss += l
	}
	finalLoss /= float64(window)

	evalBatch := defaultEvalBatch
	if pb.features.fixed > 0 {
		evalBatch = pb.features.fixed
	}
	acc, err := accuracy(e.model, pb, ds.Test, evalBatch)
	if err != nil {
		return err
	}
	examples := *steps * *batch
	rate := 0.0
	if elapsed > 0 {
		rate = float64(examples) / elapsed
	}
	res := trainResult{
		Model:          sig.Model,
		Steps:          *steps,
		Epochs:         float64(examples) / float64(train.Len()),
		Batch:          *batch,
		Seed:           *seed,
		FinalLoss:      jsonFloat(finalLoss),
		TestAccuracy:   acc,
		TestExamples:   ds.Test.Len(),
		ExamplesPerSec: rate,
		Seconds:        elapsed,
	}
	if *ckptDir != "" {
		if res.Checkpoint, err = saveCheckpoint(*ckptDir, e.model, &res); err != nil {
			return err
		}
	}
	if *asJSON {
		return writeJSONLine(e.stdout, res)
	}
	fmt.Fprintf(e.stdout, "trained %d steps in %.1fs (%.0f examples/s); mean loss of the last %d steps: %.4f\n",
		*steps, elapsed, rate, window, finalLoss)
	fmt.Fprintf(e.stdout, "test accuracy: %.4f\n", acc)
	if res.Checkpoint != "" {
		fmt.Fprintf(e.stdout, "saved the parameters to %s\n", res.Checkpoint)
	}
	return nil
}

// isTerminal reports whether w is an interactive terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && progress.IsTerminal(f)
}
