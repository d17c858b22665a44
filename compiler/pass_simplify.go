package compiler

import (
	"slices"

	"github.com/flow-lang/flow/compiler/ir"
)

// Simplify applies algebraic identities that remove work without
// changing any value:
//
//   - x*1, 1*x, x/1, x+0, 0+x, x-0 → x, where the constant is all ones or
//     all zeros and the result has exactly x's dtype and shape (so x + 0
//     with x: f32[4] and 0: f32[N,4], which broadcasts, stays);
//   - neg(neg(x)) → x, and neg(sum(neg(x))) → sum(x) (also mean);
//   - transpose(transpose(x, p), q) → transpose(x, p∘q), and a transpose
//     by the identity permutation → x;
//   - reshape of a reshape → one reshape of the original, and a reshape,
//     cast, broadcast_to or sum_to to the operand's own type → x;
//   - after the train-mode lowering, dropout (then the inference
//     variant, which Predict and Loss compute) → x;
//   - sum(labels * log_softmax(logits)) over the class axis (or over all
//     axes) → -softmax_cross_entropy(logits, labels) (summed), so that
//     -sum(labels * log(softmax(logits))), after stable-log-softmax, and
//     its mean over the batch become the fused, stable loss; labels and
//     logits must have the same dtype and shape.
//
// A rewrite applies only when the replacement has exactly the replaced
// node's dtype and shape, and a result of the program (an output, a loss,
// a gradient) is not replaced by an input, a param or a constant.
var Simplify = Pass{Name: "simplify", Run: simplify}

func simplify(g *ir.Module) error {
	s := &simplifier{g: g, repl: map[*ir.Node]*ir.Node{}, uses: useCounts(g)}
	results := resultSet(g)
	// After the train-mode lowering (which gives a model with dropout the
	// param dropout/step), dropout nodes are the inference variant: the
	// identity.
	lowered := g.Param("dropout/step") != nil
	for _, n := range append([]*ir.Node{}, g.Body.Nodes...) {
		if n.Op == ir.Dropout && lowered {
			if x := s.in(n, 0); sameType(x, n) && mayReplace(results, n, x) {
				s.repl[n] = x
			}
			continue
		}
		if ir.IsPinned(n) {
			continue
		}
		if r := s.rewrite(n); r != nil && r != n && mayReplace(results, n, r) {
			s.repl[n] = r
		}
	}
	g.ReplaceAll(s.repl)
	return nil
}

type simplifier struct {
	g    *ir.Module
	repl map[*ir.Node]*ir.Node
	uses map[*ir.Node]int
}

// in returns operand i of n as rewritten so far.
func (s *simplifier) in(n *ir.Node, i int) *ir.Node {
	x := n.Inputs[i]
	for {
		r, ok := s.repl[x]
		if !ok {
			return x
		}
		x = r
	}
}

// rewrite returns the replacement of n, or nil.
func (s *simplifier) rewrite(n *ir.Node) *ir.Node {
	keep := func(x *ir.Node) *ir.Node { // x replaces n if the types agree
		if sameType(x, n) {
			return x
		}
		return nil
	}
	switch n.Op {
	case ir.Add:
		a, b := s.in(n, 0), s.in(n, 1)
		if constAll(b, 0) {
			if r := keep(a); r != nil {
				return r
			}
		}
		if constAll(a, 0) {
			return keep(b)
		}
	case ir.Sub:
		if constAll(s.in(n, 1), 0) {
			return keep(s.in(n, 0))
		}
	case ir.Mul:
		a, b := s.in(n, 0), s.in(n, 1)
		if constAll(b, 1) {
			if r := keep(a); r != nil {
				return r
			}
		}
		if constAll(a, 1) {
			return keep(b)
		}
	case ir.Div:
		if constAll(s.in(n, 1), 1) {
			return keep(s.in(n, 0))
		}
	case ir.Neg:
		x := s.in(n, 0)
		switch x.Op {
		case ir.Neg:
			return keep(s.in(x, 0))
		case ir.Sum, ir.Mean:
			// neg(sum(neg(y))) → sum(y): negation is exact.
			if inner := s.in(x, 0); inner.Op == ir.Neg && s.uses[x] == 1 {
				return rebuild(s.g, n, x.Op, []*ir.Node{s.in(inner, 0)}, x.Attrs.Clone())
			}
		}
	case ir.Transpose:
		x := s.in(n, 0)
		perm := n.Attrs.Ints("perm")
		if x.Op == ir.Transpose {
			inner := x.Attrs.Ints("perm")
			comp := make([]int, len(perm))
			for i, p := range perm {
				comp[i] = inner[p]
			}
			y := s.in(x, 0)
			if isIdentityPerm(comp) {
				return keep(y)
			}
			return rebuild(s.g, n, ir.Transpose, []*ir.Node{y}, ir.Attrs{"perm": comp})
		}
		if isIdentityPerm(perm) {
			return keep(x)
		}
	case ir.Reshape, ir.ReshapeTo:
		x := s.in(n, 0)
		if sameType(x, n) {
			return x
		}
		if x.Op == ir.Reshape || x.Op == ir.ReshapeTo {
			y := s.in(x, 0)
			if sameType(y, n) {
				return y
			}
			return rebuild(s.g, n, n.Op, []*ir.Node{y}, n.Attrs.Clone())
		}
	case ir.Cast:
		return keep(s.in(n, 0))
	case ir.BroadcastTo, ir.SumTo:
		if len(n.Attrs.Ints("axes")) == 0 {
			return keep(s.in(n, 0))
		}
	case ir.Sum:
		return s.fuseCrossEntropy(n)
	}
	return nil
}

// fuseCrossEntropy rewrites sum(labels * log_softmax(logits)) over the
// last axis (without keep_dims) into -softmax_cross_entropy(logits,
// labels), and over all axes into -sum(softmax_cross_entropy(...)).
func (s *simplifier) fuseCrossEntropy(n *ir.Node) *ir.Node {
	m := s.in(n, 0)
	if m.Op != ir.Mul || s.uses[m] != 1 || n.Attrs.Bool("keep_dims") {
		return nil
	}
	labels, ls := s.in(m, 0), s.in(m, 1)
	if ls.Op != ir.LogSoftmax {
		labels, ls = ls, labels
	}
	if ls.Op != ir.LogSoftmax || labels == ls {
		return nil
	}
	logits := s.in(ls, 0)
	if !sameType(labels, logits) || !sameType(m, logits) {
		return nil
	}
	rank := logits.Type.Shape.Rank()
	// The fused op normalizes the last axis, in the dtypes its entry
	// lists (a program in f64 keeps log_softmax, which it can compute).
	if ir.SoftmaxAxis(ls) != rank-1 || !ir.SoftmaxCrossEntropy.TakesDType(logits.Type.DType) {
		return nil
	}
	axes := n.Attrs.Ints("axes")
	all := make([]int, rank)
	for i := range all {
		all[i] = i
	}
	switch {
	case slices.Equal(axes, []int{rank - 1}):
	case slices.Equal(axes, all):
	default:
		return nil
	}
	s.g.SetOrigin(n.Pos, n.Role)
	xent, err := s.g.Apply(ir.SoftmaxCrossEntropy, []*ir.Node{logits, labels}, nil)
	if err != nil {
		return nil
	}
	if rank > 1 && len(axes) == rank {
		xent = s.g.MustApply(ir.Sum, []*ir.Node{xent}, nil)
	}
	return rebuild(s.g, n, ir.Neg, []*ir.Node{xent}, nil)
}

// constAll reports whether n is a constant whose every element is v, or
// a broadcast of one (as gradients of sums build: ones of a symbolic
// shape, which fold-constants cannot fold).
func constAll(n *ir.Node, v float64) bool {
	if n.Op == ir.BroadcastTo {
		return constAll(n.Inputs[0], v)
	}
	if n.Op != ir.Const {
		return false
	}
	t, err := n.Op.Eval(n, nil, ir.Bind(nil))
	if err != nil {
		return false
	}
	for _, x := range t.Data {
		if x != v {
			return false
		}
	}
	return true
}

func isIdentityPerm(p []int) bool {
	for i, v := range p {
		if v != i {
			return false
		}
	}
	return true
}
