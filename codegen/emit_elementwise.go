package codegen

import (
	"slices"

	"github.com/dave/jennifer/jen"

	"github.com/flow-lang/flow/compiler/ir"
)

// Emitters for the element-wise math of compiler/ir/ops_elementwise.go
// and the max, min and prod reductions of compiler/ir/ops_reduce_more.go.

func init() {
	registerEmitters(map[string]emitter{
		"abs":             emitElementwise(runtimeCall("Abs")),
		"abs_grad":        emitElementwise(runtimeCall("AbsGrad")),
		"rsqrt":           emitElementwise(runtimeCall("Rsqrt")),
		"tanh":            emitElementwise(runtimeCall("Tanh")),
		"leaky_relu":      emitWithAlpha("LeakyRelu"),
		"leaky_relu_grad": emitWithAlpha("LeakyReluGrad"),
		"pow":             emitElementwise(runtimeCall("Pow")),
		"pow_grad_b":      emitElementwise(runtimeCall("PowGradB")),
		"maximum":         emitElementwise(runtimeCall("Maximum")),
		"minimum":         emitElementwise(runtimeCall("Minimum")),
		"pick_grad":       emitElementwise(runtimeCall("PickGrad")),
		"equal_mask":      emitElementwise(runtimeCall("EqualMask")),
		"zero_mask":       emitElementwise(runtimeCall("ZeroMask")),
		"prod_grad":       emitElementwise(runtimeCall("ProdGrad")),

		"max": emitFold(jen.Float32().Call(jen.Qual("math", "Inf").Call(jen.Lit(-1))), func(acc, v *jen.Statement) jen.Code {
			return acc.Clone().Op("=").Qual(RuntimePath, "Maximum").Call(acc, v)
		}),
		"min": emitFold(jen.Float32().Call(jen.Qual("math", "Inf").Call(jen.Lit(1))), func(acc, v *jen.Statement) jen.Code {
			return acc.Clone().Op("=").Qual(RuntimePath, "Minimum").Call(acc, v)
		}),
		"prod": emitFold(jen.Lit(1), func(acc, v *jen.Statement) jen.Code {
			return acc.Op("*=").Add(v)
		}),
	})
}

// emitWithAlpha builds the emitter of an element-wise op whose runtime
// function takes the node's alpha attribute as its last argument.
func emitWithAlpha(fn string) emitter {
	return func(c *gen, n *ir.Node) (jen.Code, error) {
		alpha := f32Lit(n.Attrs.Float("alpha", 0))
		return emitElementwise(func(a []*jen.Statement) jen.Code {
			args := make([]jen.Code, 0, len(a)+1)
			for _, x := range a {
				args = append(args, x)
			}
			return jen.Qual(RuntimePath, fn).Call(append(args, alpha.Clone())...)
		})(c, n)
	}
}

// emitFold builds the emitter of a reduction that folds each group of
// elements into init with step (acc is the output element, v the input
// element): it fills the output with init, then iterates over the input
// and updates the output element it reduces into, read with stride 0
// along the reduced axes.
func emitFold(init *jen.Statement, step func(acc, v *jen.Statement) jen.Code) emitter {
	return func(c *gen, n *ir.Node) (jen.Code, error) {
		x := n.Inputs[0]
		dst := c.operand(n)
		if lit := scalarConst(x); lit != nil {
			// A scalar has no axis to reduce: the result is the operand.
			return jen.Id(dst).Index(jen.Lit(0)).Op("=").Add(lit), nil
		}
		in := x.Type.Shape
		axes := n.Attrs.Ints("axes")
		kept := make(ir.Shape, len(in)) // the output in the input's rank
		for i, d := range in {
			kept[i] = d
			if slices.Contains(axes, i) {
				kept[i] = ir.Fixed(1)
			}
		}
		ops := []access{
			{buf: dst, strides: broadcastStrides(kept, in, nil)},
			{buf: c.operand(x), strides: rowMajorStrides(shapeSizes(in))},
		}
		return jen.Block(
			jen.For(jen.Id("i").Op(":=").Range().Id(dst)).Block(jen.Id(dst).Index(jen.Id("i")).Op("=").Add(init.Clone())),
			loopNest(shapeSizes(in), ops, func(e []*jen.Statement) jen.Code { return step(e[0], e[1]) }),
		), nil
	}
}
