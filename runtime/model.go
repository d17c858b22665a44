package runtime

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Param is a named parameter tensor of a generated model, as returned by
// Model.Params for checkpointing and inspection.
type Param struct {
	// Name is the parameter's scoped name, e.g. "h1/W".
	Name string
	// Shape is the parameter's fixed shape.
	Shape []int
	// Data holds the parameter's values in row-major order. It aliases the
	// model's storage: writing to it changes the model.
	Data []float32
}

// TensorSpec describes one tensor of a model's interface: an input, an
// output or a parameter.
type TensorSpec struct {
	// Name is the tensor's name in the model source.
	Name string `json:"name"`
	// DType is the element type as written in the language, e.g. "f32".
	DType string `json:"dtype"`
	// Shape holds one entry per dimension; -1 marks a symbolic dimension
	// whose name is in Dims.
	Shape []int `json:"shape"`
	// Dims holds, per dimension, the name of a symbolic dimension (such as
	// "N") or "" for a fixed one. It may be nil when all dimensions are
	// fixed.
	Dims []string `json:"dims,omitempty"`
}

// String renders the spec's type, e.g. "f32[N,784]"; a scalar is "f32[]".
// A symbolic dimension without a name is shown as "?".
func (s TensorSpec) String() string {
	var b strings.Builder
	b.WriteString(s.DType)
	b.WriteByte('[')
	for i, d := range s.Shape {
		if i > 0 {
			b.WriteByte(',')
		}
		if d >= 0 {
			b.WriteString(strconv.Itoa(d))
			continue
		}
		if i < len(s.Dims) && s.Dims[i] != "" {
			b.WriteString(s.Dims[i])
		} else {
			b.WriteByte('?')
		}
	}
	b.WriteByte(']')
	return b.String()
}

// Elems returns the number of elements of the tensor when every symbolic
// dimension equals n: the product of the shape with each -1 replaced by n.
// A scalar has one element.
func (s TensorSpec) Elems(n int) int {
	e := 1
	for _, d := range s.Shape {
		if d < 0 {
			d = n
		}
		e *= d
	}
	return e
}

// Batched interprets s as a batch of examples along its first dimension:
// it returns the batch size when that is fixed (0 when it is symbolic)
// and the values of one example, or why s is no batch (a scalar, an
// empty batch, a symbolic dimension after the first).
func (s TensorSpec) Batched() (fixed, per int, err error) {
	if len(s.Shape) == 0 {
		return 0, 0, fmt.Errorf("%s is %s, a scalar with no batch dimension", s.Name, s)
	}
	switch d := s.Shape[0]; {
	case d > 0:
		fixed = d
	case d == 0:
		return 0, 0, fmt.Errorf("%s is %s, with an empty batch dimension", s.Name, s)
	}
	per = 1
	for i, d := range s.Shape[1:] {
		if d < 0 {
			what := "a symbolic dimension"
			if i+1 < len(s.Dims) && s.Dims[i+1] != "" {
				what = "the symbolic dimension " + s.Dims[i+1]
			}
			return 0, 0, fmt.Errorf("%s is %s: only the first (batch) dimension may be symbolic, and its dimension %d is %s (a sequence length, say), which a feed of fixed-size examples cannot give", s.Name, s, i+1, what)
		}
		per *= d
	}
	return fixed, per, nil
}

// Sequence interprets s as a batch of examples along its first
// dimension whose other dimensions may be symbolic too (a sequence
// length T, say), each taking one size per call: it returns the batch
// size when that is fixed (0 when it is symbolic), the product per of the
// fixed dimensions after the first, and syms, the names of the symbolic
// ones after the first, in order (a name twice when it is twice in the
// shape); or why s is no batch, as Batched.
func (s TensorSpec) Sequence() (fixed, per int, syms []string, err error) {
	if len(s.Shape) == 0 {
		return 0, 0, nil, fmt.Errorf("%s is %s, a scalar with no batch dimension", s.Name, s)
	}
	switch d := s.Shape[0]; {
	case d > 0:
		fixed = d
	case d == 0:
		return 0, 0, nil, fmt.Errorf("%s is %s, with an empty batch dimension", s.Name, s)
	}
	per = 1
	for i, d := range s.Shape[1:] {
		if d >= 0 {
			per *= d
			continue
		}
		if i+1 >= len(s.Dims) || s.Dims[i+1] == "" {
			return 0, 0, nil, fmt.Errorf("%s is %s: its dimension %d is symbolic but has no name", s.Name, s, i+1)
		}
		syms = append(syms, s.Dims[i+1])
	}
	return fixed, per, syms, nil
}

// ElemsAt returns the number of elements of the tensor when each
// symbolic dimension named in dims has that size, and every other one
// (the batch) is n.
func (s TensorSpec) ElemsAt(n int, dims map[string]int) int {
	e := 1
	for i, d := range s.Shape {
		if d < 0 {
			d = n
			if i < len(s.Dims) {
				if v, ok := dims[s.Dims[i]]; ok {
					d = v
				}
			}
		}
		e *= d
	}
	return e
}

// Signature describes a generated model's interface: what it takes, what it
// returns, what it learns and how.
type Signature struct {
	// Model is the model's name as declared in the source.
	Model string `json:"model"`
	// Source is the .flow file the model was generated from.
	Source string `json:"source"`
	// Inputs lists every input (placeholder) of the model.
	Inputs []TensorSpec `json:"inputs"`
	// Outputs lists the model's outputs, in the order PredictFeed returns
	// them.
	Outputs []TensorSpec `json:"outputs"`
	// Params lists the model's parameters, in the order Params returns them.
	Params []TensorSpec `json:"params"`
	// PredictInputs names the inputs PredictFeed takes, in order.
	PredictInputs []string `json:"predict_inputs"`
	// TrainInputs names the inputs TrainFeed and LossFeed take, in order.
	TrainInputs []string `json:"train_inputs"`
	// Loss names the scalar the model trains on; empty if the model has no
	// training step.
	Loss string `json:"loss,omitempty"`
	// LossReduction says how the loss combines the examples of a batch,
	// as the compiler determined it, and so how to report it per example.
	LossReduction LossReduction `json:"loss_reduction,omitempty"`
	// Optimizer describes the optimizer as written, e.g. "sgd(lr=0.01)".
	Optimizer string `json:"optimizer,omitempty"`
	// Syms names the model's symbolic dimensions when it has more than
	// one, in the order of its generated code's size arguments
	// (Predict(n, t int, ...)): the batch first. Use SymbolicDims, which
	// also answers for a model with one.
	Syms []string `json:"syms,omitempty"`
	// ParamCount is the total number of parameter elements.
	ParamCount int `json:"param_count"`
	// Memory is what the model allocates: its parameters and its arena
	// of working buffers by batch size.
	Memory Memory `json:"memory"`
	// MaxBatch is the largest value a symbolic dimension may take (the size
	// the model's buffers are planned for); 0 means unbounded.
	MaxBatch int `json:"max_batch,omitempty"`
	// Estimates are the compiler's cost-model estimates of a call's time,
	// per program and batch size.
	Estimates []Estimate `json:"estimates,omitempty"`
	// Graph is the compiled model's dataflow graph (the training graph
	// when the model trains, else the forward graph), for viewers such as
	// TensorBoard; nodes are in a topological order.
	Graph []GraphNode `json:"graph,omitempty"`
}

// LossReduction says how a model's loss combines the examples of a batch:
// a sum over them, a mean, or what the compiler could not prove to be
// either. Tools report the loss per example with PerExample, which gives
// the same figure for any batch size, or per batch when that is unknown.
type LossReduction string

// The values of LossReduction.
const (
	// LossMean: the loss is a mean over the batch, plus terms that do not
	// depend on it (such as a penalty on params): per example as it is.
	LossMean LossReduction = "mean"
	// LossSum: the loss is a sum over the batch of per-example terms,
	// scaled by constants: divided by the batch size it is per example.
	LossSum LossReduction = "sum"
	// LossPerBatch: the compiler could not prove the loss to be either
	// (it takes a max over the batch, adds a penalty to a sum over it,
	// ...), so it is reported per batch, for the batch size it was
	// computed at. The zero value, that of a signature that does not
	// say, means the same.
	LossPerBatch LossReduction = "batch"
)

// PerExample returns the loss of a batch of n examples per example, and
// whether r says how to: for LossSum the loss divided by n, for LossMean
// the loss itself; for any other value the loss per batch, unchanged,
// and false.
func (r LossReduction) PerExample(loss float64, n int) (float64, bool) {
	switch r {
	case LossSum:
		return loss / float64(n), true
	case LossMean:
		return loss, true
	}
	return loss, false
}

// DecodeGraph decodes a graph written by flowc's code generator: one
// GraphNode as JSON per line. It panics on malformed input, which only a
// corrupted generated file can hold.
func DecodeGraph(lines string) []GraphNode {
	var out []GraphNode
	for _, line := range strings.Split(lines, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var n GraphNode
		if err := json.Unmarshal([]byte(line), &n); err != nil {
			panic(fmt.Sprintf("runtime.DecodeGraph: node %d: %v", len(out), err))
		}
		out = append(out, n)
	}
	return out
}

// GraphNode is one node of Signature.Graph.
type GraphNode struct {
	// Name is unique within the graph: the node's name in the source
	// where it has one (e.g. "logits/h1/W"), else its op and IR number
	// (e.g. "matmul_12").
	Name string `json:"name"`
	// Op is the IR op, e.g. "matmul", "input", "param".
	Op string `json:"op"`
	// Inputs are the names of the nodes whose results this one reads,
	// in operand order.
	Inputs []string `json:"inputs,omitempty"`
	// DType and Shape describe the node's result as TensorSpec does
	// (-1 for a symbolic dimension).
	DType string `json:"dtype"`
	Shape []int  `json:"shape"`
	// Role is "", "grad" (part of the backward pass) or "update" (a
	// parameter update).
	Role string `json:"role,omitempty"`
	// Device is the device the node is placed on, "" when unplaced.
	Device string `json:"device,omitempty"`
}

// Estimate is the cost model's estimate of one call of a program
// ("predict" or "train") at one batch size.
type Estimate struct {
	Program string  `json:"program"`
	Batch   int     `json:"batch"`
	Micros  float64 `json:"us"`
}

// SymbolicDims returns the names of the model's symbolic dimensions,
// the batch first: Syms, or for a model that does not list them (one with
// at most one), those of its inputs in order of first use.
func (s *Signature) SymbolicDims() []string {
	if len(s.Syms) > 0 {
		return s.Syms
	}
	var out []string
	for _, in := range s.Inputs {
		for i, d := range in.Shape {
			if d < 0 && i < len(in.Dims) && in.Dims[i] != "" && !slices.Contains(out, in.Dims[i]) {
				out = append(out, in.Dims[i])
			}
		}
	}
	return out
}

// Input returns the spec of the input called name, and whether there is one.
func (s *Signature) Input(name string) (TensorSpec, bool) {
	for _, in := range s.Inputs {
		if in.Name == name {
			return in, true
		}
	}
	return TensorSpec{}, false
}

// Model is the interface every generated model package implements, through
// which model-independent tools such as runtime/cli drive it. Feeds carry
// float32 data in row-major order, whatever the tensors' dtypes: inputs of
// other dtypes are converted from float32 (integer values such as class
// labels convert exactly, a bool is true when nonzero) and outputs to
// float32 (true is 1); n is the value of the symbolic (batch)
// dimension for this call, and each feed must hold exactly the elements its
// TensorSpec has for that n. A model with other symbolic dimensions
// (Signature.Syms: a sequence length T, say) derives their sizes from
// the feeds' lengths, and panics, as for any feed of the wrong length,
// when a feed's length fits no size or the feeds disagree. Implementations
// are not safe for concurrent use.
type Model interface {
	// Signature describes the model's inputs, outputs and parameters.
	Signature() *Signature
	// PredictFeed runs inference. in holds the inputs named by
	// Signature.PredictInputs, in that order; the result holds the outputs
	// in Signature.Outputs order. The returned slices alias internal
	// buffers and are valid until the next call on the model.
	PredictFeed(n int, in [][]float32) [][]float32
	// TrainFeed runs one training step (forward, backward, parameter
	// update) and returns the loss computed before the update. in holds
	// the inputs named by Signature.TrainInputs, in that order.
	TrainFeed(n int, in [][]float32) float32
	// LossFeed returns the loss for the given inputs without updating any
	// parameter. in is ordered as for TrainFeed.
	LossFeed(n int, in [][]float32) float32
	// Params returns the model's parameters, in Signature.Params order;
	// their Data aliases the model's storage.
	Params() []Param
}
