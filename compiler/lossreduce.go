package compiler

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/flow-lang/flow/compiler/ir"
)

// This file works out how a model's loss combines the examples of a
// batch, so that tools can report it per example, the same for any batch
// size: a sum over the batch of per-example terms is divided by the
// batch size, a mean is reported as it is, and a loss the analysis cannot
// place is reported per batch and labelled so.
//
// The analysis follows the batch dimension (the model's symbolic
// dimension, the first of them when there are several, which every
// batched value carries exactly once; the others, such as a sequence
// length, are sizes within an example, like fixed ones) through the
// loss's graph and gives each value one of these kinds:
//
//	free   does not depend on the batch (params, constants, and what is
//	       computed from them alone)
//	rows   carries the batch dimension, each element of a size that does
//	       not grow with the batch (inputs, and what row-local ops make
//	       of them)
//	mean   has no batch dimension, and a size that does not grow with the
//	       batch: a mean over it, or anything computed from such means and
//	       free values
//	sum    has no batch dimension and grows linearly with the batch: a sum
//	       over it, times or divided by free values, sums of sums
//	count  the number of elements of a batched value (size(x)): the batch
//	       size times a constant
//
// Only the ops whose registry entries say so keep rows rows (element-wise
// ops, and BatchLocal ones that move or combine elements within each
// example, such as matmul, reshape, conv2d or softmax over another
// axis), and only linear ones keep a sum a sum; anything else makes the value unknown, with the reason. A sum plus
// a free term — a summed loss with an L2 penalty on params — is unknown:
// the penalty does not grow with the batch, so no division makes the
// whole the same for every batch size. A mean plus a free term stays a
// mean: both parts are the same for any batch size.

// Reduction is how a scalar loss combines the examples of a batch.
type Reduction int

// The reductions LossReduction tells apart.
const (
	// ReductionUnknown: the analysis could not prove either of the
	// others; the loss can only be reported per batch.
	ReductionUnknown Reduction = iota
	// ReductionMean: the loss is a mean over the batch (plus terms that
	// do not depend on it): per example as it is.
	ReductionMean
	// ReductionSum: the loss is a sum over the batch of per-example terms
	// (times constants): per example once divided by the batch size.
	ReductionSum
)

// String names the reduction: "mean", "sum" or "unknown".
func (r Reduction) String() string {
	switch r {
	case ReductionMean:
		return "mean"
	case ReductionSum:
		return "sum"
	}
	return "unknown"
}

// LossReduction returns how g's loss combines the examples of a batch,
// and, when that is ReductionUnknown, why. The loss a training step
// reports (Module.TrainingLoss) and the one evaluation computes
// (Module.Loss) must agree.
func LossReduction(g *ir.Module) (Reduction, string) {
	if g.Loss() == nil {
		return ReductionUnknown, "the model has no loss"
	}
	r, why := reductionOf(g, g.Loss())
	if t := g.TrainingLoss(); t != g.Loss() {
		rt, whyT := reductionOf(g, t)
		switch {
		case r == ReductionUnknown:
		case rt == ReductionUnknown:
			return rt, whyT + " (in the training step's loss)"
		case rt != r:
			return ReductionUnknown, fmt.Sprintf("the training step's loss is a %s over the batch, evaluation's a %s", rt, r)
		}
	}
	return r, why
}

// batchKind is the kind of a value in the analysis (see above).
type batchKind uint8

const (
	kindUnknown batchKind = iota
	kindFree
	kindRows
	kindMean
	kindSum
	kindCount
)

// batchFact is what the analysis knows of one value.
type batchFact struct {
	kind batchKind
	axis int    // of rows: the batch dimension's axis
	why  string // of unknown: the reason
}

// reductionOf classifies the scalar loss of g.
func reductionOf(g *ir.Module, loss *ir.Node) (Reduction, string) {
	nodes := g.Schedule(loss) // operands first
	var syms []string
	for _, n := range nodes {
		for _, s := range n.Type.Shape.Syms() {
			if !slices.Contains(syms, s) {
				syms = append(syms, s)
			}
		}
	}
	a := batchAnalysis{facts: make(map[*ir.Node]batchFact, len(nodes)), elems: map[*ir.Node][]batchFact{}}
	switch {
	case len(syms) == 1:
		a.batch = syms[0]
	case len(syms) > 1:
		// The batch is the model's first symbolic dimension (that of
		// its first input's first axis); the others, such as a sequence
		// length, are sizes within each example, like fixed ones.
		if len(g.Syms) == 0 || !slices.Contains(syms, g.Syms[0]) {
			return ReductionUnknown, fmt.Sprintf("the loss depends on several symbolic dimensions (%s), none of them the batch", strings.Join(syms, ", "))
		}
		a.batch = g.Syms[0]
	}
	for _, n := range nodes {
		a.facts[n] = a.fact(n)
	}
	switch f := a.facts[loss]; f.kind {
	case kindSum:
		return ReductionSum, ""
	case kindMean, kindFree: // free: the same for any batch
		return ReductionMean, ""
	case kindUnknown:
		return ReductionUnknown, f.why
	default:
		return ReductionUnknown, "the loss is the batch size times a constant"
	}
}

// batchAnalysis holds the facts found so far.
type batchAnalysis struct {
	batch string // the symbolic batch dimension; "" if the loss has none
	facts map[*ir.Node]batchFact
	// elems are the facts of the elements of control-flow nodes' tuples
	// (lossreduce_control.go).
	elems map[*ir.Node][]batchFact
}

// unknown makes an unknown fact with a reason about n, which names n's
// file by its base name only, so that generated code that quotes the
// reason does not depend on where the source was.
func unknown(n *ir.Node, format string, a ...any) batchFact {
	where := n.Op.Name
	if n.Name != "" {
		where += " (" + n.Name + ")"
	}
	if p := n.Pos; p.IsValid() {
		if p.File != "" {
			p.File = filepath.Base(p.File)
		}
		where += " at " + p.String()
	}
	return batchFact{kind: kindUnknown, why: where + ": " + fmt.Sprintf(format, a...)}
}

// batchAxes returns the axes of n's result that are the batch dimension.
func (a *batchAnalysis) batchAxes(n *ir.Node) []int {
	var out []int
	for i, d := range n.Type.Shape {
		if a.batch != "" && d.Sym == a.batch {
			out = append(out, i)
		}
	}
	return out
}

// fact classifies n from its operands' facts.
func (a *batchAnalysis) fact(n *ir.Node) batchFact {
	axes := a.batchAxes(n)
	op := n.Op
	switch {
	case op == ir.Input && a.batch == "":
		return unknown(n, "the model has no symbolic batch dimension, so the examples of a batch cannot be told apart")
	case op == ir.Input && len(axes) == 0:
		return batchFact{kind: kindFree} // fed once per call, like a param
	case len(n.Inputs) == 0 && len(axes) == 0: // params, constants, fill, range
		return batchFact{kind: kindFree}
	case len(axes) > 1:
		return unknown(n, "the batch dimension %s appears %d times", a.batch, len(axes))
	case op == ir.Input:
		return batchFact{kind: kindRows, axis: axes[0]}
	case op == ir.Fill:
		// A constant per example (a recurrent layer's zero state).
		return batchFact{kind: kindRows, axis: axes[0]}
	}
	in := make([]batchFact, len(n.Inputs))
	has := map[batchKind]bool{}
	for i, x := range n.Inputs {
		f, ok := a.facts[x]
		switch {
		case !ok: // cannot happen: the schedule puts operands first
			return unknown(x, "not analysed")
		case f.kind == kindUnknown:
			return f
		}
		in[i] = f
		has[in[i].kind] = true
	}
	if op == ir.Get {
		return a.elems[n.Inputs[0]][n.Attrs.Int("index", 0)]
	}
	if len(n.Regions()) > 0 {
		a.elems[n] = a.control(n, in)
		return batchFact{kind: kindFree} // the tuple; get reads its elements
	}
	if op.Reduction {
		return a.reduce(n, in[0])
	}
	switch op {
	case ir.Size:
		if in[0].kind == kindRows {
			return batchFact{kind: kindCount}
		}
		return batchFact{kind: kindFree} // the size of a value without the batch dimension is fixed
	case ir.Rank:
		return batchFact{kind: kindFree}
	case ir.ShapeOp:
		if in[0].kind == kindRows {
			return unknown(n, "the shape of a batched value holds the batch size")
		}
		return batchFact{kind: kindFree}
	case ir.Cast:
		return in[0]
	}
	switch {
	case has[kindRows]:
		if has[kindSum] || has[kindCount] {
			return unknown(n, "combines per-example values with one that grows with the batch")
		}
		if !n.Op.Elementwise && !n.Op.BatchLocal {
			return unknown(n, "the compiler does not know how %s treats the batch dimension", op.Name)
		}
		if len(axes) != 1 {
			return unknown(n, "the result has no batch dimension, so %s combines the examples", op.Name)
		}
		if n.Op.AlongAxis && in[0].kind == kindRows && in[0].axis == normAxis(n, n.Inputs[0].Type.Shape.Rank()) {
			return unknown(n, "%s works along the batch dimension", op.Name)
		}
		return batchFact{kind: kindRows, axis: axes[0]}
	case len(axes) > 0:
		return unknown(n, "makes a batch dimension from values without one")
	case has[kindSum] || has[kindCount]:
		return a.linear(n, in)
	case has[kindMean]:
		return batchFact{kind: kindMean} // a function of batch means and free values
	}
	return batchFact{kind: kindFree}
}

// normAxis returns the axis attribute of an AlongAxis node, normalized for
// an operand of rank r (negative counts from the end; the last axis when
// the op has none).
func normAxis(n *ir.Node, r int) int {
	ax := n.Attrs.Int("axis", -1)
	if ax < 0 {
		ax += r
	}
	return ax
}

// reduce classifies a reduction (sum, mean, max, min, prod) of x.
func (a *batchAnalysis) reduce(n *ir.Node, x batchFact) batchFact {
	op := n.Op
	switch x.kind {
	case kindFree, kindMean:
		return x
	case kindSum, kindCount:
		if op == ir.Sum || op == ir.Mean { // linear, over fixed axes
			return batchFact{kind: kindSum}
		}
		return unknown(n, "%s of a sum over the batch is not a sum over it", op.Name)
	}
	reduced := n.Attrs.Ints("axes")
	if !slices.Contains(reduced, x.axis) {
		axis := x.axis
		if !n.Attrs.Bool("keep_dims") {
			for _, r := range reduced {
				if r < x.axis {
					axis--
				}
			}
		}
		return batchFact{kind: kindRows, axis: axis}
	}
	switch op {
	case ir.Sum:
		return batchFact{kind: kindSum}
	case ir.Mean:
		return batchFact{kind: kindMean}
	}
	return unknown(n, "the %s over the batch depends on how many examples it has", op.Name)
}

// linear classifies an op of batch-free operands of which one at least
// is a sum or a count: only linear combinations stay sums.
func (a *batchAnalysis) linear(n *ir.Node, in []batchFact) batchFact {
	kinds := func(ks ...batchKind) bool {
		if len(ks) != len(in) {
			return false
		}
		for i, k := range ks {
			if in[i].kind != k {
				return false
			}
		}
		return true
	}
	sum, count, free := kindSum, kindCount, kindFree
	switch n.Op {
	case ir.Neg, ir.Reshape, ir.ReshapeTo, ir.Transpose, ir.ExpandDims, ir.Squeeze:
		return in[0]
	case ir.Add, ir.Sub:
		switch {
		case kinds(sum, sum):
			return batchFact{kind: kindSum}
		case kinds(count, count):
			return batchFact{kind: kindCount}
		case kinds(sum, free), kinds(free, sum), kinds(sum, kindMean), kinds(kindMean, sum):
			return unknown(n, "adds a term that does not grow with the batch to a sum over it, so the whole is neither a sum nor a mean over the batch")
		}
	case ir.Mul:
		switch {
		case kinds(sum, free), kinds(free, sum):
			return batchFact{kind: kindSum}
		case kinds(count, free), kinds(free, count):
			return batchFact{kind: kindCount}
		}
	case ir.Div:
		switch {
		case kinds(sum, free):
			return batchFact{kind: kindSum}
		case kinds(count, free):
			return batchFact{kind: kindCount}
		case kinds(sum, count):
			return batchFact{kind: kindMean} // a sum over the batch over a count of its elements
		}
	}
	return unknown(n, "%s of a sum over the batch is not a sum over it", n.Op.Name)
}
