package cli

import (
	"fmt"
	"strings"

	"github.com/flow-lang/flow/runtime"
	"github.com/flow-lang/flow/runtime/mnist"
)

// MNIST feed sizes.
const (
	mnistPixels  = 28 * 28
	mnistClasses = mnist.NumClasses
)

// feedShape is how one tensor of a signature maps onto a batch: a leading
// batch dimension (symbolic, or fixed at fixed examples) followed by per
// values per example.
type feedShape struct {
	spec  runtime.TensorSpec
	fixed int // fixed batch size, or 0 when the batch dimension is symbolic
	per   int // values per example (of its fixed dimensions, with syms)
	// syms are the symbolic dimensions after the batch (a sequence length
	// T, say; sequenceShape only): each example has per values times
	// their sizes, which all the examples of one call share.
	syms []string
}

// exampleShape interprets spec as a batch of examples along its first
// dimension.
func exampleShape(spec runtime.TensorSpec) (feedShape, error) {
	fixed, per, err := spec.Batched()
	return feedShape{spec: spec, fixed: fixed, per: per}, err
}

// sequenceShape interprets spec as a batch of examples along its first
// dimension whose other dimensions may be symbolic (runtime.TensorSpec.Sequence).
func sequenceShape(spec runtime.TensorSpec) (feedShape, error) {
	fixed, per, syms, err := spec.Sequence()
	return feedShape{spec: spec, fixed: fixed, per: per, syms: syms}, err
}

// checkBatch reports whether n examples can be fed at once: the input
// takes that many, and the model's working buffers for them fit the
// memory limit (runtime.CheckBatchMemory); more are the sizes of the
// model's other symbolic dimensions (runtime.Memory.Arena).
func (f feedShape) checkBatch(n int, sig *runtime.Signature, more ...int) error {
	if f.fixed > 0 && n != f.fixed {
		return fmt.Errorf("input %s is %s, so the batch size must be %d, not %d", f.spec.Name, f.spec, f.fixed, n)
	}
	if sig.MaxBatch > 0 && n > sig.MaxBatch {
		return fmt.Errorf("batch size %d exceeds the model's maximum batch of %d", n, sig.MaxBatch)
	}
	return runtime.CheckBatchMemory(sig, n, more...)
}

// feedChunk returns how many of examples to feed at once when up to want
// would be convenient: chunkSize, no more than there are, and no more
// than fit the memory limit; an error if not even one does.
func feedChunk(f feedShape, want, examples int, sig *runtime.Signature, more ...int) (int, error) {
	chunk := chunkSize(f, want, sig.MaxBatch)
	if f.fixed == 0 {
		chunk = min(chunk, max(examples, 1))
		if limit, _, err := runtime.MemoryLimit(); err == nil && limit > 0 {
			chunk = max(min(chunk, sig.Memory.MaxBatchWithin(limit, more...)), 1)
		}
	}
	return chunk, f.checkBatch(chunk, sig, more...)
}

// chunkSize returns how many examples to feed at once when up to want
// would be convenient.
func chunkSize(f feedShape, want, maxBatch int) int {
	if f.fixed > 0 {
		return f.fixed
	}
	if maxBatch > 0 && want > maxBatch {
		return maxBatch
	}
	return max(want, 1)
}

// predictBinding maps a model's predict inputs and outputs onto MNIST
// classification: one f32 input of 784 values per example and an output of
// 10 class scores per example.
type predictBinding struct {
	features feedShape
	scores   int // index of the class-score output in Signature.Outputs
}

// trainBinding maps a model's train inputs onto MNIST: an f32 feature input
// of 784 values and an f32 one-hot label input of 10 values per example.
type trainBinding struct {
	features, labels feedShape
	featIdx, lblIdx  int // positions in Signature.TrainInputs
}

const wantPredict = "one f32 predict input with 784 values per example (like f32[N,784] or f32[N,28,28,1]) and an f32 output with 10 class scores per example (like f32[N,10])"

const wantTrain = "exactly 2 f32 train inputs: the images, 784 values per example (like f32[N,784] or f32[N,28,28,1]), and one-hot labels, 10 values per example (f32[N,10])"

// describeInputs renders named inputs with their types for error messages.
func describeInputs(sig *runtime.Signature, names []string) string {
	if len(names) == 0 {
		return "none"
	}
	parts := make([]string, len(names))
	for i, n := range names {
		if spec, ok := sig.Input(n); ok {
			parts[i] = n + " " + spec.String()
		} else {
			parts[i] = n + " (not among the model's inputs)"
		}
	}
	return strings.Join(parts, ", ")
}

func describeSpecs(specs []runtime.TensorSpec) string {
	if len(specs) == 0 {
		return "none"
	}
	parts := make([]string, len(specs))
	for i, s := range specs {
		parts[i] = s.Name + " " + s.String()
	}
	return strings.Join(parts, ", ")
}

// bindPredict checks that sig can classify MNIST images.
func bindPredict(sig *runtime.Signature) (*predictBinding, error) {
	fail := func(why string) error {
		return fmt.Errorf("model %s does not fit MNIST classification: %s; want %s (predict inputs: %s; outputs: %s)",
			sig.Model, why, wantPredict, describeInputs(sig, sig.PredictInputs), describeSpecs(sig.Outputs))
	}
	if len(sig.PredictInputs) != 1 {
		return nil, fail(fmt.Sprintf("it has %d predict inputs", len(sig.PredictInputs)))
	}
	spec, ok := sig.Input(sig.PredictInputs[0])
	if !ok {
		return nil, fail(fmt.Sprintf("predict input %q is not among the model's inputs", sig.PredictInputs[0]))
	}
	features, err := exampleShape(spec)
	if err != nil {
		return nil, fail(err.Error())
	}
	if spec.DType != "f32" || features.per != mnistPixels {
		return nil, fail(fmt.Sprintf("predict input %s is %s", spec.Name, spec))
	}
	for i, out := range sig.Outputs {
		shape, err := exampleShape(out)
		if err == nil && out.DType == "f32" && shape.per == mnistClasses && shape.fixed == features.fixed {
			return &predictBinding{features: features, scores: i}, nil
		}
	}
	return nil, fail("no output has 10 class scores per example")
}

// bindTrain checks that sig can be trained on MNIST.
func bindTrain(sig *runtime.Signature) (*trainBinding, error) {
	fail := func(why string) error {
		return fmt.Errorf("model %s does not fit MNIST training: %s; want %s (train inputs: %s)",
			sig.Model, why, wantTrain, describeInputs(sig, sig.TrainInputs))
	}
	if len(sig.TrainInputs) != 2 {
		return nil, fail(fmt.Sprintf("it has %d train inputs", len(sig.TrainInputs)))
	}
	b := &trainBinding{featIdx: -1, lblIdx: -1}
	for i, name := range sig.TrainInputs {
		spec, ok := sig.Input(name)
		if !ok {
			return nil, fail(fmt.Sprintf("train input %q is not among the model's inputs", name))
		}
		shape, err := exampleShape(spec)
		if err != nil {
			return nil, fail(err.Error())
		}
		if spec.DType != "f32" {
			return nil, fail(fmt.Sprintf("train input %s is %s, not f32", name, spec))
		}
		switch {
		case shape.per == mnistPixels && b.featIdx < 0:
			b.features, b.featIdx = shape, i
		case shape.per == mnistClasses && b.lblIdx < 0:
			b.labels, b.lblIdx = shape, i
		case shape.per == mnistPixels || shape.per == mnistClasses:
			return nil, fail(fmt.Sprintf("both train inputs have %d values per example", shape.per))
		default:
			return nil, fail(fmt.Sprintf("train input %s is %s", name, spec))
		}
	}
	if b.features.fixed != b.labels.fixed {
		return nil, fail("the two train inputs disagree on the batch size")
	}
	return b, nil
}
