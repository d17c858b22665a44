package compiler

import (
	"errors"
	"math"

	"github.com/flow-lang/flow/compiler/ir"
)

// maxFoldElements caps the size of a folded constant: larger results stay
// computed at run time rather than stored in the program.
const maxFoldElements = 1 << 16

// maxFoldGrowth is the size up to which a folded constant may be larger
// than the constants it is computed from; beyond it, folding an
// expanding op (broadcast_to, fill, tile, one_hot of constants) would
// trade a cheap computation for stored data, so it is left to run time.
const maxFoldGrowth = 64

// FoldConstants evaluates every node whose operands are all constants
// (and ops without operands, such as fill and range) with the op's
// reference evaluation (ir.OpDef.Eval, the interpreter's semantics,
// rounded to the dtype like every op's result) and replaces it by a
// const node holding the value. It never folds inputs, params, stateful
// ops or the mode-dependent dropout and batch_norm; it leaves values with
// a symbolic shape, values of more than maxFoldElements elements, results
// larger than their operands beyond maxFoldGrowth elements, and results
// holding NaN or an infinity (which stay as written, where a reader can
// see where they come from). A result of the program (an output, a loss,
// a gradient) stays computed, from folded operands.
var FoldConstants = Pass{Name: "fold-constants", Run: foldConstants}

func foldConstants(g *ir.Module) error {
	values := map[*ir.Node]*ir.Tensor{}
	repl := map[*ir.Node]*ir.Node{}
	// values holds the value of every constant and folded node, keyed by
	// the node of the graph as it was: the scan is in topological order,
	// so a node sees its operands' values. Intermediate constants that
	// nothing needs once their users fold are left to dce.
	nodes := append([]*ir.Node{}, g.Body.Nodes...)
	results := resultSet(g)
	for _, n := range nodes {
		if n.Op == ir.Const {
			if t, err := n.Op.Eval(n, nil, ir.Bind(nil)); err == nil {
				values[n] = t
			}
			continue
		}
		if ir.IsPinned(n) || !n.Type.Shape.IsStatic() {
			continue
		}
		size := n.Type.Shape.NumElements(nil)
		if size > maxFoldElements {
			continue
		}
		in := make([]*ir.Tensor, len(n.Inputs))
		largest := 0
		ok := true
		for i, x := range n.Inputs {
			t, folded := values[x]
			if !folded {
				ok = false
				break
			}
			in[i] = t
			largest = max(largest, t.Size())
		}
		if !ok || (size > largest && size > maxFoldGrowth) {
			continue
		}
		t, err := evalQuietly(n, in)
		if err != nil || !finite(t) || !equalInts(t.Shape, n.Type.Shape.Eval(nil)) {
			continue // left to run time, where the error is reported
		}
		t.Round()
		c := constNode(g, n, t)
		values[n], values[c] = t, t
		if mayReplace(results, n, c) {
			repl[n] = c
		}
	}
	g.ReplaceAll(repl)
	return nil
}

// evalQuietly evaluates n on constant operands, turning a panic of an op's
// evaluation on unusual operands into an error: folding is an
// optimization and must not fail a compilation the program would not.
func evalQuietly(n *ir.Node, in []*ir.Tensor) (t *ir.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, errFoldPanic
		}
	}()
	return n.Op.Eval(n, in, ir.Bind(ir.Binding{}))
}

var errFoldPanic = errors.New("evaluation failed")

func finite(t *ir.Tensor) bool {
	for _, v := range t.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// constNode creates the const node holding t in place of n: a scalar
// `value`, or `values` with a static `shape`.
func constNode(g *ir.Module, n *ir.Node, t *ir.Tensor) *ir.Node {
	attrs := ir.Attrs{"dtype": n.Type.DType}
	if n.Type.Shape.Rank() == 0 {
		attrs["value"] = t.Data[0]
	} else {
		attrs["shape"] = n.Type.Shape.Clone()
		attrs["values"] = append([]float64{}, t.Data...)
	}
	g.SetOrigin(n.Pos, n.Role)
	c := g.MustApply(ir.Const, nil, attrs)
	c.Name = n.Name
	c.Device = n.Device
	return c
}
