package ir

import (
	"fmt"
	"math"
)

// Ops whose behaviour depends on whether a program trains: dropout and
// batch_norm. The checker builds them as written; the compiler's
// train-mode lowering (compiler/train_mode.go) then gives the training
// step their training variant (dropout's random mask, batch_norm's batch
// statistics and moving-average updates) and leaves Predict and Loss
// their inference variant (dropout is the identity, batch_norm uses the
// moving mean and variance). dropout's definition here is its inference
// semantics; batch_norm's is the batch-statistics semantics, a node the
// lowering always replaces (by element-wise ops and reductions).

func init() {
	Register(&OpDef{
		Name:       "dropout",
		Pinned:     true,
		BatchLocal: true,
		DTypes:     floatDTypes,
		Summary:    "in training steps, keeps each element with probability 1 - rate and scales it by 1/(1 - rate) (a mask seeded by seed and the step); the identity in predict and loss",
		Inputs:     []string{"x"},
		Attrs: []AttrSpec{
			{Name: "rate", Kind: FloatArg, Doc: "the probability of dropping an element, in [0, 1)"},
			{Name: "seed", Kind: IntArg, Default: 0, Doc: "the mask's seed"},
		},
		Examples: []Example{
			{Shapes: [][]int{{3, 4}}, Attrs: Attrs{"rate": 0.5, "seed": 7}},
			{Shapes: [][]int{{2, 3, 5}}, Attrs: Attrs{"rate": 0.25}},
			{Shapes: [][]int{{1}}, Attrs: Attrs{"rate": 0.0, "seed": 1}},
		},
		Infer: func(n *Node) (Type, error) {
			if err := checkDropoutAttrs(n); err != nil {
				return Type{}, err
			}
			return inferUnaryFloat(n)
		},
		Grad: func(_ *GradContext, n *Node, dys []*Node) []*Node { dy := dys[0]; return []*Node{dy} },
		Cost: elementwiseCost(0),
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
			return in[0].Clone(), nil
		},
	})
	Register(&OpDef{
		Name:       "dropout_mask",
		BatchLocal: true,
		Summary:    "dropout's training mask for x at a step: 1/(1 - rate) where DropoutUniform(seed, step, i) < 1 - rate, else 0",
		Inputs:     []string{"x", "step"},
		Internal:   true,
		Attrs: []AttrSpec{
			{Name: "rate", Kind: FloatArg},
			{Name: "seed", Kind: IntArg, Default: 0},
		},
		Infer: func(n *Node) (Type, error) {
			if err := checkDropoutAttrs(n); err != nil {
				return Type{}, err
			}
			if s := n.Inputs[1].Type; s.Shape.Rank() != 0 || !s.DType.IsFloat() {
				return Type{}, fmt.Errorf("dropout_mask needs a floating-point scalar step, got %s", s)
			}
			if !n.Inputs[0].Type.DType.IsFloat() {
				return Type{}, fmt.Errorf("dropout_mask needs a floating-point x, got %s", n.Inputs[0].Type)
			}
			return n.Inputs[0].Type, nil
		},
		Grad: func(_ *GradContext, n *Node, _ []*Node) []*Node { return []*Node{nil, nil} },
		Cost: elementwiseCost(12),
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
			rate := n.Attrs.Float("rate", 0)
			seed := uint64(n.Attrs.Int("seed", 0))
			// The step counter counts from 0; a value that is not (a
			// negative number or NaN, only ever fed by hand) counts as 0.
			var step uint64
			if v := in[1].Data[0]; v >= 0 {
				step = uint64(v)
			}
			out := NewTensor(n.Type.DType, in[0].Shape)
			scale := 1 / (1 - rate)
			for i := range out.Data {
				if DropoutUniform(seed, step, uint64(i)) < 1-rate {
					out.Data[i] = scale
				}
			}
			return out.Round(), nil
		},
	})
	Register(&OpDef{
		Name:   "batch_norm",
		Pinned: true,
		// As a node, batch_norm is the inference form, which normalizes
		// each example with the moving statistics; the training form,
		// which mixes the examples of a batch, is what the train-mode
		// lowering writes in its place, out of ops of their own.
		BatchLocal: true,
		DTypes:     floatDTypes,
		Summary: "per-channel (last axis) normalization: scale * (x - mean) / sqrt(variance + epsilon) + offset, with batch statistics " +
			"over all other axes in training steps (updating moving_mean and moving_variance with momentum) and the moving averages in predict and loss",
		Inputs: []string{"x", "scale", "offset"},
		Attrs: []AttrSpec{
			{Name: "epsilon", Kind: FloatArg, Default: 1e-3, Doc: "added to the variance"},
			{Name: "momentum", Kind: FloatArg, Default: 0.99, Doc: "the moving averages' decay"},
		},
		Examples: []Example{
			// Positive: the lowering's moving variance, a param the
			// tests draw, must not be negative.
			{Shapes: [][]int{{4, 3}, {3}, {3}}, Domain: Positive},
			{Shapes: [][]int{{2, 3, 3, 2}, {2}, {2}}, Attrs: Attrs{"epsilon": 0.01, "momentum": 0.9}, Domain: Positive},
			{Shapes: [][]int{{1, 1}, {1}, {1}}, Domain: Positive},
		},
		Infer: func(n *Node) (Type, error) {
			x, scale, offset := n.Inputs[0].Type, n.Inputs[1].Type, n.Inputs[2].Type
			if _, err := sameDType(n, true); err != nil {
				return Type{}, err
			}
			if x.Shape.Rank() < 2 {
				return Type{}, fmt.Errorf("batch_norm needs x with at least two axes (examples and channels), got %s", x)
			}
			c := x.Shape[x.Shape.Rank()-1]
			for _, p := range []struct {
				name string
				t    Type
			}{{"scale", scale}, {"offset", offset}} {
				if p.t.Shape.Rank() != 1 || p.t.Shape[0] != c {
					return Type{}, fmt.Errorf("batch_norm's %s must have shape [%s] (the channels, x's last axis), got %s", p.name, c, p.t)
				}
			}
			if e := n.Attrs.Float("epsilon", 0); !(e > 0) {
				return Type{}, fmt.Errorf("batch_norm's epsilon must be positive, got %v", e)
			}
			if m := n.Attrs.Float("momentum", 0); !(m >= 0 && m <= 1) {
				return Type{}, fmt.Errorf("batch_norm's momentum must be in [0, 1], got %v", m)
			}
			return x, nil
		},
		Grad: batchNormGrad,
		Cost: elementwiseCost(8),
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
			x, scale, offset := in[0], in[1], in[2]
			c := len(scale.Data)
			rows := len(x.Data) / c
			eps := n.Attrs.Float("epsilon", 0)
			out := NewTensor(n.Type.DType, x.Shape)
			for j := 0; j < c; j++ {
				var mean, v float64
				for r := 0; r < rows; r++ {
					mean += x.Data[r*c+j]
				}
				mean /= float64(rows)
				for r := 0; r < rows; r++ {
					d := x.Data[r*c+j] - mean
					v += d * d
				}
				v /= float64(rows)
				inv := 1 / math.Sqrt(v+eps)
				for r := 0; r < rows; r++ {
					out.Data[r*c+j] = scale.Data[j]*(x.Data[r*c+j]-mean)*inv + offset.Data[j]
				}
			}
			return out.Round(), nil
		},
	})
}

// batchNormGrad is the gradient of batch_norm with batch statistics
// (its Eval), through the mean and variance: with the channel axes' means
// E, xhat = (x - E[x]) * r, r = rsqrt(Var[x] + epsilon) and
// g = dy * scale,
//
//	dx      = r * (g - E[g] - xhat * E[g * xhat])
//	dscale  = sum(dy * xhat) over all axes but the last
//	doffset = sum(dy) over all axes but the last
//
// The compiler's lowering normally replaces batch_norm before autodiff
// (the training step differentiates the same formula built from
// element-wise ops and reductions); this rule serves graphs differentiated
// without it.
func batchNormGrad(cx *GradContext, n *Node, dys []*Node) []*Node {
	g, dy := cx.Module, dys[0]
	x, scale := n.Inputs[0], n.Inputs[1]
	axes := make([]int, x.Type.Shape.Rank()-1)
	for i := range axes {
		axes[i] = i
	}
	apply := func(op *OpDef, attrs Attrs, in ...*Node) *Node { return g.MustApply(op, in, attrs) }
	over := Attrs{"axes": axes}
	xc := apply(Sub, nil, x, apply(Mean, over, x))
	variance := apply(Mean, over.Clone(), apply(Square, nil, xc))
	r := apply(Rsqrt, nil, apply(Add, nil, variance, g.Const(x.Type.DType, n.Attrs.Float("epsilon", 0))))
	xhat := apply(Mul, nil, xc, r)
	gs := apply(Mul, nil, dy, scale)
	inner := apply(Sub, nil,
		apply(Sub, nil, gs, apply(Mean, over.Clone(), gs)),
		apply(Mul, nil, xhat, apply(Mean, over.Clone(), apply(Mul, nil, gs, xhat))))
	dx := apply(Mul, nil, r, inner)
	return []*Node{dx, apply(Sum, over.Clone(), apply(Mul, nil, dy, xhat)), apply(Sum, over.Clone(), dy)}
}

// checkDropoutAttrs checks dropout's rate.
func checkDropoutAttrs(n *Node) error {
	if !n.Attrs.Has("rate") {
		return fmt.Errorf("dropout needs a rate (the probability of dropping an element), e.g. dropout(x, rate = 0.5)")
	}
	if r := n.Attrs.Float("rate", 0); !(r >= 0 && r < 1) {
		return fmt.Errorf("dropout's rate must be in [0, 1), got %v", r)
	}
	return nil
}

// DropoutUniform is the uniform draw in [0, 1) that decides whether
// dropout keeps element i (row-major index into x) at training step step
// with seed seed; the element is kept when the draw is below 1 - rate.
// It is a counter-based hash built from splitmix64's finalizer mix64:
//
//	k = mix64(seed*0x9E3779B97F4A7C15 + step + 1)
//	u = (mix64(k + i*0x9E3779B97F4A7C15) >> 11) * 2^-53
//
// with wrapping uint64 arithmetic. The runtime's DropoutMask computes the
// same draws independently.
func DropoutUniform(seed, step, i uint64) float64 {
	const gamma = 0x9E3779B97F4A7C15
	k := mix64(seed*gamma + step + 1)
	return float64(mix64(k+i*gamma)>>11) * (1.0 / (1 << 53))
}

// mix64 is splitmix64's output function.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}
