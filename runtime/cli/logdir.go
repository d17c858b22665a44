package cli

import (
	"math"
	"time"

	"github.com/flow-lang/flow/runtime"
	"github.com/flow-lang/flow/runtime/trainlog"
)

// runLog records a training run for train --logdir: TensorBoard event
// files and a report, through runtime/trainlog.
type runLog struct {
	log  *trainlog.Log
	done int // the last step logged
}

// openRunLog starts the log of a run of steps steps in total of batch
// examples, resumed after resumed steps (0 for a fresh run), whose losses
// are per example or, unless perExample, per batch.
func openRunLog(dir string, sig *runtime.Signature, batch, steps, resumed int, perExample bool) (*runLog, error) {
	l, err := trainlog.Open(dir, trainlog.Run{Signature: sig, Batch: batch, Steps: steps, Resumed: resumed, LossPerExample: perExample})
	if err != nil {
		return nil, err
	}
	return &runLog{log: l, done: resumed}, nil
}

// step logs one step's figures; NaN means not measured.
func (r *runLog) step(step int, loss, accuracy, lr, examplesPerSec float64) error {
	r.done = step
	return r.log.Step(step, trainlog.Scalars{Loss: loss, Accuracy: accuracy, LearningRate: lr, ExamplesPerSec: examplesPerSec})
}

// close ends the log with the run's final figures: d and examplesPerSec
// are the training time and throughput train's summary reports.
func (r *runLog) close(finalLoss, testAccuracy float64, steps int, d time.Duration, examplesPerSec float64, ckpt string) error {
	return r.log.Close(trainlog.Final{FinalLoss: finalLoss, TestAccuracy: testAccuracy, Steps: steps,
		Duration: d, ExamplesPerSec: examplesPerSec, Checkpoint: ckpt})
}

// abort ends the log of a run that failed, keeping what was logged.
func (r *runLog) abort() {
	r.log.Close(trainlog.Final{FinalLoss: math.NaN(), TestAccuracy: math.NaN(), Steps: r.done})
}
