package compiler

import (
	"fmt"
	"strings"

	"github.com/flow-lang/flow/compiler/ir"
)

// TrainMode is the train-mode lowering (lowerTrainMode); it applies to
// models with dropout or batch_norm only.
var TrainMode = Pass{Name: "train-mode", When: hasModalOps, Run: func(g *ir.Module) error {
	lowerTrainMode(g)
	return nil
}}

// hasModalOps reports whether g has a mode-dependent op (dropout,
// batch_norm).
func hasModalOps(g *ir.Module) bool {
	for _, n := range g.Body.Nodes {
		if n.Op == ir.Dropout || n.Op == ir.BatchNorm {
			return true
		}
	}
	return false
}

// lowerTrainMode is the train-mode lowering. dropout and batch_norm
// behave differently in a training step than in prediction and
// evaluation. The checker builds
// the forward graph once; this pass, which runs before autodiff, gives
// the training step its own copy of every node between a mode-dependent
// op and the loss (Module.TrainingLoss), with the ops' training variants,
// and turns the original nodes into their inference variants, which
// Predict and Loss compute. As in Keras, evaluation (Loss) runs in
// inference mode.
//
// dropout(x, rate, seed):
//   - training: x * dropout_mask(x, step), where step is the param
//     "dropout/step" (f32, non-trainable, starting at 0, one per model,
//     incremented by every training step and exact up to 2^24 steps), and
//     the mask keeps element i (row-major) with scale 1/(1-rate) when
//     ir.DropoutUniform(seed, step, i) < 1 - rate, else 0;
//   - inference: the identity.
//
// batch_norm(x, scale, offset, epsilon, momentum), per channel (x's last
// axis), with mean and variance over all the other axes:
//   - training: scale * (x - m) * rsqrt(v + epsilon) + offset with the
//     batch mean m and the biased batch variance v = mean((x - m)^2),
//     built from existing ops so that autodiff takes the full batch-norm
//     gradient through the statistics; the step updates the params
//     "<scope>/moving_mean" (initially 0) and "<scope>/moving_variance"
//     (initially 1) to moving*momentum + batch*(1 - momentum);
//   - inference: the same formula with the moving mean and variance.
//
// The scope of a batch_norm is the scope of its scale when that is a
// param ("bn1/gamma" gives "bn1"), else the name the value is bound to,
// else "batch_norm"; names are made unique with a suffix.
//
// lowerTrainMode reports whether the graph had mode-dependent ops.
func lowerTrainMode(g *ir.Module) bool {
	var modal []*ir.Node
	for _, n := range g.Body.Nodes {
		if n.Op == ir.Dropout || n.Op == ir.BatchNorm {
			modal = append(modal, n)
		}
	}
	if len(modal) == 0 {
		return false
	}
	l := &trainModeLowering{g: g, moving: map[*ir.Node][2]*ir.Node{}}
	for _, n := range modal {
		if n.Op == ir.BatchNorm {
			l.movingParams(n)
		}
	}
	if g.Loss() != nil {
		need := ir.Reachable(g.Loss())
		reaches := false
		for _, n := range modal {
			reaches = reaches || need[n]
		}
		if reaches {
			g.SetTrainingLoss(l.trainingCopy(g.Loss()))
		}
	}
	for _, n := range modal {
		if n.Op == ir.BatchNorm {
			l.inference(n)
		}
	}
	// Nodes created by the lowering come right before their first user.
	g.Body.SortTopological()
	return true
}

type trainModeLowering struct {
	g *ir.Module
	// moving holds each batch_norm's moving mean and variance params.
	moving map[*ir.Node][2]*ir.Node
	// step is the dropout step counter, created on first use.
	step *ir.Node
}

// param creates a non-trainable param named name (made unique).
func (l *trainModeLowering) param(name string, t ir.Type, init string) *ir.Node {
	unique := name
	for i := 1; l.g.Param(unique) != nil; i++ {
		unique = fmt.Sprintf("%s_%d", name, i)
	}
	p := l.g.MustApply(ir.Param, nil, ir.Attrs{"dtype": t.DType, "shape": t.Shape, "init": init, "trainable": false})
	p.Name = unique
	l.g.Params = append(l.g.Params, p)
	return p
}

// movingParams creates batch_norm n's moving mean and variance.
func (l *trainModeLowering) movingParams(n *ir.Node) {
	scope := "batch_norm"
	if s := n.Inputs[1]; s.Op == ir.Param && strings.Contains(s.Name, "/") {
		scope = s.Name[:strings.LastIndex(s.Name, "/")]
	} else if n.Name != "" {
		scope = n.Name
	}
	l.g.SetOrigin(n.Pos, ir.Forward)
	t := n.Inputs[1].Type
	l.moving[n] = [2]*ir.Node{l.param(scope+"/moving_mean", t, "zeros"), l.param(scope+"/moving_variance", t, "ones")}
}

// trainingCopy copies the nodes between the mode-dependent ops and root,
// with the ops' training variants, and returns root's copy.
func (l *trainModeLowering) trainingCopy(root *ir.Node) *ir.Node {
	g := l.g
	copies := map[*ir.Node]*ir.Node{}
	for _, n := range g.Schedule(root) {
		changed := false
		ins := make([]*ir.Node, len(n.Inputs))
		for i, in := range n.Inputs {
			ins[i] = in
			if c, ok := copies[in]; ok {
				ins[i], changed = c, true
			}
		}
		g.SetOrigin(n.Pos, n.Role)
		switch {
		case n.Op == ir.Dropout:
			copies[n] = l.dropout(n, ins[0])
		case n.Op == ir.BatchNorm:
			copies[n] = l.batchNorm(n, ins)
		case changed:
			c := g.MustApply(n.Op, ins, n.Attrs.Clone())
			c.Name, c.Device = n.Name, n.Device
			copies[n] = c
		}
	}
	if c, ok := copies[root]; ok {
		return c
	}
	return root
}

// dropout builds the training variant of dropout node n applied to x.
func (l *trainModeLowering) dropout(n, x *ir.Node) *ir.Node {
	g := l.g
	if l.step == nil {
		l.step = l.param("dropout/step", ir.Type{DType: ir.F32, Shape: ir.Shape{}}, "zeros")
		g.SetOrigin(n.Pos, ir.Update)
		next := g.MustApply(ir.Add, []*ir.Node{l.step, g.Const(ir.F32, 1)}, nil)
		g.AddUpdate(g.MustApply(ir.Assign, []*ir.Node{l.step, next}, nil))
		g.SetOrigin(n.Pos, n.Role)
	}
	mask := g.MustApply(ir.DropoutMask, []*ir.Node{x, l.step}, ir.Attrs{"rate": n.Attrs.Float("rate", 0), "seed": n.Attrs.Int("seed", 0)})
	y := g.MustApply(ir.Mul, []*ir.Node{x, mask}, nil)
	y.Name = n.Name
	return y
}

// channelAxes are the axes batch statistics reduce: all but the last.
func channelAxes(x *ir.Node) []int {
	axes := make([]int, x.Type.Shape.Rank()-1)
	for i := range axes {
		axes[i] = i
	}
	return axes
}

// normalize builds scale * xc * rsqrt(variance + epsilon) + offset from
// the centered xc = x - mean.
func (l *trainModeLowering) normalize(n, xc, scale, offset, variance *ir.Node) *ir.Node {
	g := l.g
	eps := g.Const(xc.Type.DType, n.Attrs.Float("epsilon", 0))
	inv := g.MustApply(ir.Rsqrt, []*ir.Node{g.MustApply(ir.Add, []*ir.Node{variance, eps}, nil)}, nil)
	xhat := g.MustApply(ir.Mul, []*ir.Node{xc, inv}, nil)
	return g.MustApply(ir.Add, []*ir.Node{g.MustApply(ir.Mul, []*ir.Node{xhat, scale}, nil), offset}, nil)
}

// batchNorm builds the training variant of batch_norm node n on ins and
// appends its moving-average updates.
func (l *trainModeLowering) batchNorm(n *ir.Node, ins []*ir.Node) *ir.Node {
	g := l.g
	x := ins[0]
	axes := channelAxes(x)
	mean := g.MustApply(ir.Mean, []*ir.Node{x}, ir.Attrs{"axes": axes})
	xc := g.MustApply(ir.Sub, []*ir.Node{x, mean}, nil)
	variance := g.MustApply(ir.Mean, []*ir.Node{g.MustApply(ir.Square, []*ir.Node{xc}, nil)}, ir.Attrs{"axes": axes})
	y := l.normalize(n, xc, ins[1], ins[2], variance)
	y.Name = n.Name

	g.SetOrigin(n.Pos, ir.Update)
	dt := x.Type.DType
	mom := n.Attrs.Float("momentum", 0)
	mv := l.moving[n]
	for i, batch := range []*ir.Node{mean, variance} {
		old := mv[i]
		next := g.MustApply(ir.Add, []*ir.Node{
			g.MustApply(ir.Mul, []*ir.Node{old, g.Const(dt, mom)}, nil),
			g.MustApply(ir.Mul, []*ir.Node{batch, g.Const(dt, 1-mom)}, nil),
		}, nil)
		g.AddUpdate(g.MustApply(ir.Assign, []*ir.Node{old, next}, nil))
	}
	g.SetOrigin(n.Pos, n.Role)
	return y
}

// inference turns batch_norm node n into its inference variant in place:
// n becomes the final add of the normalization with the moving averages.
func (l *trainModeLowering) inference(n *ir.Node) {
	g := l.g
	g.SetOrigin(n.Pos, n.Role)
	mv := l.moving[n]
	xc := g.MustApply(ir.Sub, []*ir.Node{n.Inputs[0], mv[0]}, nil)
	y := l.normalize(n, xc, n.Inputs[1], n.Inputs[2], mv[1])
	// Move y's operation into n, so that n's users read the result; y
	// is left without users and pruned.
	n.Op, n.Inputs, n.Attrs = y.Op, y.Inputs, y.Attrs
}
