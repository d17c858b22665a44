package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/flow-lang/flow/runtime"
	"github.com/flow-lang/flow/runtime/data"
	"github.com/flow-lang/flow/runtime/mnist"
)

// defaultEvalBatch is how many test examples are fed at once by default.
const defaultEvalBatch = 1000

func runEval(e *env, args []string) error {
	fs := e.newFlags("eval", "[--data DIR] [--batch B] [--checkpoint DIR|FILE] [--json]",
		"Eval reports the model's accuracy and loss on the 10,000 MNIST test\n"+
			"images with its initial parameters, or with those of a checkpoint that\n"+
			"train --checkpoint DIR saved. The loss is per example, the same for any\n"+
			"--batch, when the compiler found how the model's loss combines a batch's\n"+
			"examples (a sum over them or a mean); otherwise it is the mean loss per\n"+
			"batch of --batch examples, and labelled so.")
	dir := fs.String("data", "", "MNIST data `directory` (default: $FLOW_DATA, else the GoMNIST Go module)")
	batch := fs.Int("batch", defaultEvalBatch, "examples fed to the model at once")
	ckpt := checkpointFlag(fs)
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *batch <= 0 {
		return &usageError{msg: fmt.Sprintf("eval: --batch must be positive, got %d", *batch), usage: fs.Usage}
	}
	var ckptPath string
	if *ckpt != "" {
		var err error
		if ckptPath, err = restoreCheckpoint(e.model, *ckpt); err != nil {
			return err
		}
	} else if len(e.model.Params()) > 0 {
		fmt.Fprintln(e.stderr, "warning: no --checkpoint given: evaluating the initial, untrained parameters")
	}
	sig := e.model.Signature()
	pb, err := bindPredict(sig)
	if err != nil {
		return err
	}
	var tb *trainBinding
	if len(sig.TrainInputs) > 0 {
		if tb, err = bindTrain(sig); err != nil {
			return err
		}
	}
	ds, err := loadData(*dir)
	if err != nil {
		return err
	}
	acc, err := accuracy(e.model, pb, ds.Test, *batch)
	if err != nil {
		return err
	}
	unit := lossUnitOf(sig)
	loss, lossBatch := math.NaN(), 0
	if tb != nil {
		if loss, lossBatch, err = testLoss(e.model, tb, ds.Test, *batch, unit); err != nil {
			return err
		}
	}
	if *asJSON {
		res := map[string]any{
			"model":         sig.Model,
			"test_examples": ds.Test.Len(),
			"test_accuracy": acc,
		}
		if tb != nil {
			res[unit.key("test_loss")] = jsonFloat(loss)
			if !unit.perExample {
				res["loss_batch"] = lossBatch
			}
		}
		if ckptPath != "" {
			res["checkpoint"] = ckptPath
		}
		return writeJSONLine(e.stdout, res)
	}
	fmt.Fprintf(e.stdout, "test accuracy: %.4f\n", acc)
	if tb != nil {
		fmt.Fprintf(e.stdout, "test loss %s: %.4f%s\n", unit.label(lossBatch), loss, unit.why())
	}
	return nil
}

// loadData finds and loads MNIST.
func loadData(dir string) (*mnist.Dataset, error) {
	found, err := mnist.FindDir(dir)
	if err != nil {
		return nil, err
	}
	return mnist.Load(found)
}

// checkImageSize verifies that the data's images fit the feature input.
func checkImageSize(im *mnist.Images, features feedShape) error {
	if im.Size() != features.per {
		return fmt.Errorf("the data has %dx%d images (%d pixels) but input %s (%s) takes %d values per example",
			im.Rows, im.Cols, im.Size(), features.spec.Name, features.spec, features.per)
	}
	return nil
}

// accuracy returns the fraction of split the model classifies correctly,
// feeding up to batch examples at a time.
func accuracy(m runtime.Model, pb *predictBinding, split mnist.Split, batch int) (float64, error) {
	if err := checkImageSize(split.Images, pb.features); err != nil {
		return 0, err
	}
	sig := m.Signature()
	chunk, err := feedChunk(pb.features, batch, split.Len(), sig)
	if err != nil {
		return 0, err
	}
	x := make([]float32, chunk*pb.features.per)
	idx := make([]int, 0, chunk)
	in := [][]float32{nil}
	n, correct := split.Len(), 0
	for lo := 0; lo < n; lo += chunk {
		count := min(chunk, n-lo)
		idx = idx[:0]
		for k := 0; k < count; k++ {
			idx = append(idx, lo+k)
		}
		feedN := count
		if pb.features.fixed > 0 {
			// Pad a short last batch with blank images; their scores are ignored.
			feedN = pb.features.fixed
			clear(x[count*pb.features.per:])
		}
		data.FillImages(x, split.Images, idx)
		in[0] = x[:feedN*pb.features.per]
		scores, err := output(sig, m.PredictFeed(feedN, in), pb.scores, feedN)
		if err != nil {
			return 0, err
		}
		for k, i := range idx {
			if runtime.Argmax(scores[k*mnistClasses:(k+1)*mnistClasses]) == int(split.Labels[i]) {
				correct++
			}
		}
	}
	return float64(correct) / float64(n), nil
}

// testLoss returns the model's loss over split in unit u (so it is in
// the units of the training loss), feeding up to batch examples at a
// time, and the size of the batches it was computed on. Per example, it
// is the mean over the examples of each batch's loss per example, which
// does not depend on the batch size. Per batch, it is the mean of the
// losses of the batches of full size: a shorter last batch is left out
// (its loss is not comparable), unless it is the only one. With a fixed
// batch size, a short last batch is left out either way.
func testLoss(m runtime.Model, tb *trainBinding, split mnist.Split, batch int, u lossUnit) (float64, int, error) {
	if err := checkImageSize(split.Images, tb.features); err != nil {
		return 0, 0, err
	}
	chunk, err := feedChunk(tb.features, batch, split.Len(), m.Signature())
	if err != nil {
		return 0, 0, err
	}
	x := make([]float32, chunk*tb.features.per)
	y := make([]float32, chunk*tb.labels.per)
	idx := make([]int, 0, chunk)
	in := make([][]float32, 2)
	n := split.Len()
	full := chunk // the size of the batches a loss per batch is for
	if tb.features.fixed == 0 {
		full = min(chunk, n)
	}
	var sum, weight float64
	for lo := 0; lo < n; lo += chunk {
		count := min(chunk, n-lo)
		if (tb.features.fixed > 0 || !u.perExample) && count < full {
			break
		}
		idx = idx[:0]
		for k := 0; k < count; k++ {
			idx = append(idx, lo+k)
		}
		data.FillImages(x, split.Images, idx)
		data.FillOneHot(y, split.Labels, idx, mnistClasses)
		in[tb.featIdx] = x[:count*tb.features.per]
		in[tb.lblIdx] = y[:count*tb.labels.per]
		w := float64(count) // per example: weigh each batch by its examples
		if !u.perExample {
			w = 1
		}
		sum += u.of(float64(m.LossFeed(count, in)), count) * w
		weight += w
	}
	if weight == 0 {
		return 0, 0, fmt.Errorf("the %d test examples are fewer than the model's fixed batch of %d", n, tb.features.fixed)
	}
	return sum / weight, full, nil
}

// output returns output i of a PredictFeed result for n examples, after
// checking that the model returned what its signature promises.
func output(sig *runtime.Signature, outs [][]float32, i, n int) ([]float32, error) {
	return outputAt(sig, outs, i, n, nil)
}

// outputAt is output for a call whose symbolic dimensions after the
// batch had the sizes dims.
func outputAt(sig *runtime.Signature, outs [][]float32, i, n int, dims map[string]int) ([]float32, error) {
	if len(outs) != len(sig.Outputs) {
		return nil, fmt.Errorf("model returned %d outputs, but its signature lists %d", len(outs), len(sig.Outputs))
	}
	spec := sig.Outputs[i]
	if want := spec.ElemsAt(n, dims); len(outs[i]) < want {
		return nil, fmt.Errorf("model returned %d values for output %s (%s), want %d for %d examples", len(outs[i]), spec.Name, spec, want, n)
	}
	return outs[i], nil
}

// jsonFloat makes v encodable as JSON: non-finite values become null.
func jsonFloat(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

// writeJSONLine writes v as one line of JSON.
func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
