package codegen

import (
	"github.com/dave/jennifer/jen"

	"github.com/flow-lang/flow/compiler/ir"
)

// Emitters of the convolution, pooling, bias and cross-entropy ops
// (compiler/ir/ops_conv.go, ops_nn_more.go). Window ops call the runtime's
// kernels with their geometry as a constant struct literal; only the batch
// may be the symbolic n.
func init() {
	registerEmitters(map[*ir.OpDef]emitter{
		ir.Conv2d: func(c *gen, n *ir.Node) (jen.Code, error) {
			return c.convCall(n, c.operand(n), jen.Nil()), nil
		},
		ir.Conv2dBackpropInput: func(c *gen, n *ir.Node) (jen.Code, error) {
			f, dy := n.Inputs[0], n.Inputs[1]
			return jen.Qual(RuntimePath, "Conv2DBackpropInputPlan").Call(c.convPlan(n),
				jen.Id(c.operand(n)), jen.Id(c.operand(f)), jen.Id(c.operand(dy)),
				convShape(n, n.Type.Shape, f.Type.Shape)), nil
		},
		ir.Conv2dBackpropFilter: func(c *gen, n *ir.Node) (jen.Code, error) {
			x, dy := n.Inputs[0], n.Inputs[1]
			return jen.Qual(RuntimePath, "Conv2DBackpropFilterPlan").Call(c.convPlan(n),
				jen.Id(c.operand(n)), jen.Id(c.operand(x)), jen.Id(c.operand(dy)),
				convShape(n, x.Type.Shape, n.Type.Shape)), nil
		},
		ir.MaxPool: func(c *gen, n *ir.Node) (jen.Code, error) {
			x := n.Inputs[0]
			return jen.Qual(RuntimePath, "MaxPool").Call(jen.Id(c.operand(n)), jen.Id(c.operand(x)), poolShape(n, x.Type.Shape)), nil
		},
		ir.AvgPool: func(c *gen, n *ir.Node) (jen.Code, error) {
			x := n.Inputs[0]
			return jen.Qual(RuntimePath, "AvgPool").Call(jen.Id(c.operand(n)), jen.Id(c.operand(x)), poolShape(n, x.Type.Shape)), nil
		},
		ir.MaxPoolGrad: func(c *gen, n *ir.Node) (jen.Code, error) {
			x, dy := n.Inputs[0], n.Inputs[1]
			return jen.Qual(RuntimePath, "MaxPoolGrad").Call(jen.Id(c.operand(n)), jen.Id(c.operand(x)), jen.Id(c.operand(dy)),
				poolShape(n, x.Type.Shape)), nil
		},
		ir.AvgPoolGrad: func(c *gen, n *ir.Node) (jen.Code, error) {
			dy := n.Inputs[0]
			return jen.Qual(RuntimePath, "AvgPoolGrad").Call(jen.Id(c.operand(n)), jen.Id(c.operand(dy)), poolShape(n, n.Type.Shape)), nil
		},
		ir.BiasAdd: emitElementwise(func(a []*jen.Statement) jen.Code { return a[0].Op("+").Add(a[1]) }),
		ir.SoftmaxCrossEntropy: func(c *gen, n *ir.Node) (jen.Code, error) {
			l, y := n.Inputs[0], n.Inputs[1]
			s := l.Type.Shape
			rows, cols := numel(s[:len(s)-1]), dimSize(s[len(s)-1])
			return jen.Qual(RuntimePath, "SoftmaxCrossEntropyRows").Call(jen.Id(c.operand(n)), jen.Id(c.operand(l)), jen.Id(c.operand(y)),
				rows.code(), cols.code()), nil
		},
	})
}

// convCall renders the runtime call of conv2d node n writing dst, with a
// bias (an expression: a buffer, or nil) fused into its output as the
// epilogue asks, run as the cost model plans it (its kernel plan says
// whether it fuses ReLU too).
func (c *gen) convCall(n *ir.Node, dst string, bias jen.Code) jen.Code {
	x, f := n.Inputs[0], n.Inputs[1]
	return jen.Qual(RuntimePath, "Conv2DPlan").Call(c.convPlan(n),
		jen.Id(dst), jen.Id(c.operand(x)), jen.Id(c.operand(f)), bias,
		convShape(n, x.Type.Shape, f.Type.Shape))
}

// convShape renders the runtime.ConvShape of a conv2d-family node whose
// input has shape x and filter shape f.
func convShape(n *ir.Node, x, f ir.Shape) jen.Code {
	w := ir.NodeWindow(n)
	return jen.Qual(RuntimePath, "ConvShape").Add(runtimeKeyed("ConvShape", map[string]jen.Code{
		"Batch": dimSize(x[0]).code(), "InH": jen.Lit(w.InH), "InW": jen.Lit(w.InW), "InC": jen.Lit(f[2].Size),
		"KH": jen.Lit(w.KH), "KW": jen.Lit(w.KW), "OutC": jen.Lit(f[3].Size),
		"OutH": jen.Lit(w.OutH), "OutW": jen.Lit(w.OutW),
		"StrideH": jen.Lit(w.StrideH), "StrideW": jen.Lit(w.StrideW),
		"DilationH": jen.Lit(w.DilationH), "DilationW": jen.Lit(w.DilationW),
		"PadTop": jen.Lit(w.PadTop), "PadLeft": jen.Lit(w.PadLeft),
	}))
}

// poolShape renders the runtime.PoolShape of a pooling-family node whose
// input has shape x.
func poolShape(n *ir.Node, x ir.Shape) jen.Code {
	w := ir.NodeWindow(n)
	return jen.Qual(RuntimePath, "PoolShape").Add(runtimeKeyed("PoolShape", map[string]jen.Code{
		"Batch": dimSize(x[0]).code(), "InH": jen.Lit(w.InH), "InW": jen.Lit(w.InW), "C": jen.Lit(x[3].Size),
		"KH": jen.Lit(w.KH), "KW": jen.Lit(w.KW),
		"StrideH": jen.Lit(w.StrideH), "StrideW": jen.Lit(w.StrideW),
		"OutH": jen.Lit(w.OutH), "OutW": jen.Lit(w.OutW),
		"PadTop": jen.Lit(w.PadTop), "PadLeft": jen.Lit(w.PadLeft),
	}))
}
