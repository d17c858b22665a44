package codegen

import (
	"slices"

	"github.com/dave/jennifer/jen"

	"github.com/flow-lang/flow/compiler/ir"
)

// Emitters for the element-wise math of compiler/ir/ops_elementwise.go
// and the max, min and prod reductions of compiler/ir/ops_reduce_more.go.

func init() {
	registerEmitters(map[*ir.OpDef]emitter{
		ir.Abs:           emitScalar("Abs"),
		ir.AbsGrad:       emitScalar("AbsGrad"),
		ir.Rsqrt:         emitScalar("Rsqrt"),
		ir.Tanh:          emitScalar("Tanh"),
		ir.LeakyRelu:     emitWithAlpha("LeakyRelu"),
		ir.LeakyReluGrad: emitWithAlpha("LeakyReluGrad"),
		ir.Pow:           emitScalar("Pow"),
		ir.PowGradB:      emitScalar("PowGradB"),
		ir.Maximum:       emitScalar("Maximum"),
		ir.Minimum:       emitScalar("Minimum"),
		ir.PickGrad:      emitPickGrad,
		ir.EqualMask:     emitScalar("EqualMask"),
		ir.ZeroMask:      emitScalar("ZeroMask"),
		ir.ProdGrad:      emitScalar("ProdGrad"),

		ir.Max: emitFold(foldLimit(-1), func(dt ir.DType, acc, v *jen.Statement) jen.Code {
			return acc.Clone().Op("=").Qual(RuntimePath, scalarFunc("Maximum", dt)).Call(acc, v)
		}),
		ir.Min: emitFold(foldLimit(1), func(dt ir.DType, acc, v *jen.Statement) jen.Code {
			return acc.Clone().Op("=").Qual(RuntimePath, scalarFunc("Minimum", dt)).Call(acc, v)
		}),
		ir.Prod: emitFold(func(ir.DType) *jen.Statement { return jen.Lit(1) }, func(_ ir.DType, acc, v *jen.Statement) jen.Code {
			return acc.Op("*=").Add(v)
		}),
	})
}

// emitPickGrad calls the runtime's gradient of maximum for the node's
// share of a tie: PickGrad (half), PickGradTieOf (all) or
// PickGradNoTieOf (none).
func emitPickGrad(c *gen, n *ir.Node) (jen.Code, error) {
	switch n.Attrs.Float("tie", 0.5) {
	case 1:
		return emitElementwise(runtimeCall("PickGradTieOf"))(c, n)
	case 0:
		return emitElementwise(runtimeCall("PickGradNoTieOf"))(c, n)
	}
	return emitScalar("PickGrad")(c, n)
}

// emitWithAlpha builds the emitter of an element-wise op whose runtime
// function takes the node's alpha attribute as its last argument.
func emitWithAlpha(fn string) emitter {
	return func(c *gen, n *ir.Node) (jen.Code, error) {
		dt := n.Type.DType
		alpha := typedLit(dt, n.Attrs.Float("alpha", 0))
		return emitElementwise(func(a []*jen.Statement) jen.Code {
			args := make([]jen.Code, 0, len(a)+1)
			for _, x := range a {
				args = append(args, x)
			}
			return jen.Qual(RuntimePath, scalarFunc(fn, dt)).Call(append(args, alpha.Clone())...)
		})(c, n)
	}
}

// foldLimit returns the initial value of max (sign -1) or min (sign 1)
// for a dtype: the infinity of that sign for floats, the integer type's
// bound for integers.
func foldLimit(sign int) func(dt ir.DType) *jen.Statement {
	return func(dt ir.DType) *jen.Statement {
		if dt.IsFloat() {
			return goType(dt).Call(jen.Qual("math", "Inf").Call(jen.Lit(sign)))
		}
		bound := "Max"
		if sign < 0 {
			bound = "Min"
		}
		if dt == ir.I32 {
			bound += "Int32"
		} else {
			bound += "Int64"
		}
		return goType(dt).Call(jen.Qual("math", bound))
	}
}

// emitFold builds the emitter of a reduction that folds each group of
// elements into init(dtype) with step (acc is the output element, v the
// input element): it fills the output with init, then iterates over the
// input and updates the output element it reduces into, read with stride
// 0 along the reduced axes.
func emitFold(initial func(dt ir.DType) *jen.Statement, step func(dt ir.DType, acc, v *jen.Statement) jen.Code) emitter {
	return func(c *gen, n *ir.Node) (jen.Code, error) {
		dt := n.Type.DType
		init := initial(dt)
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
			loopNest(shapeSizes(in), ops, func(e []*jen.Statement) jen.Code { return step(dt, e[0], e[1]) }),
		), nil
	}
}
