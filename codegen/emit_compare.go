package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/flow-lang/flow/compiler/ir"
)

// Emitters for the ops of compiler/ir/ops_compare.go: comparisons,
// logical ops, where, cast, argmax/argmin, one_hot and the sparse softmax
// cross entropy. They produce code for every dtype generated code holds.

func init() {
	binary := func(op string) emitter {
		return emitElementwise(func(a []*jen.Statement) jen.Code { return a[0].Op(op).Add(a[1]) })
	}
	registerEmitters(map[*ir.OpDef]emitter{
		ir.Greater:      binary(">"),
		ir.Less:         binary("<"),
		ir.GreaterEqual: binary(">="),
		ir.LessEqual:    binary("<="),
		ir.Equal:        binary("=="),
		ir.NotEqual:     binary("!="),
		ir.LogicalAnd:   binary("&&"),
		ir.LogicalOr:    binary("||"),
		ir.LogicalNot:   emitElementwise(func(a []*jen.Statement) jen.Code { return jen.Op("!").Add(a[0]) }),

		ir.Where:                     emitWhere,
		ir.Cast:                      emitCast,
		ir.Argmax:                    emitArg(">"),
		ir.Argmin:                    emitArg("<"),
		ir.OneHot:                    emitOneHot,
		ir.SparseSoftmaxCrossEntropy: emitSparseXent,
	})
}

// elementwiseBody is emitElementwise with a statement per element in
// place of an expression (e[0] is the output element).
func (c *gen) elementwiseBody(n *ir.Node, body func(e []*jen.Statement) jen.Code) jen.Code {
	out := n.Type.Shape
	ops := []access{{buf: c.operand(n), strides: rowMajorStrides(shapeSizes(out))}}
	for _, in := range n.Inputs {
		ops = append(ops, c.readAccess(in, out, nil))
	}
	return loopNest(shapeSizes(out), ops, body)
}

// emitWhere selects a where cond is true, else b.
func emitWhere(c *gen, n *ir.Node) (jen.Code, error) {
	return c.elementwiseBody(n, func(e []*jen.Statement) jen.Code {
		return jen.If(e[1]).Block(e[0].Clone().Op("=").Add(e[2])).Else().Block(e[0].Clone().Op("=").Add(e[3]))
	}), nil
}

// emitCast converts with Go's conversions, which truncate floats toward
// zero as the interpreter does; bool goes through comparisons.
func emitCast(c *gen, n *ir.Node) (jen.Code, error) {
	from, to := n.Inputs[0].Type.DType, n.Type.DType
	return c.elementwiseBody(n, func(e []*jen.Statement) jen.Code {
		switch {
		case from == to:
			return e[0].Op("=").Add(e[1])
		case to == ir.Bool:
			return e[0].Op("=").Add(e[1]).Op("!=").Lit(0)
		case from == ir.Bool:
			return jen.If(e[1]).Block(e[0].Clone().Op("=").Lit(1)).Else().Block(e[0].Clone().Op("=").Lit(0))
		}
		return e[0].Op("=").Add(goType(to)).Call(e[1])
	}), nil
}

// emitArg finds the index of the first best element along the axis (cmp
// is ">" for argmax, "<" for argmin); for floats a NaN wins, as in the
// interpreter.
func emitArg(cmp string) emitter {
	return func(c *gen, n *ir.Node) (jen.Code, error) {
		x := n.Inputs[0]
		if scalarConst(x) != nil {
			return nil, fmt.Errorf("%s of an inline constant", n.Op.Name)
		}
		axis := n.Attrs.Int("axis", 0)
		s := x.Type.Shape
		outer, inner := numel(s[:axis]), numel(s[axis+1:])
		size := dimSize(s[axis])
		src, dst := jen.Id(c.operand(x)), jen.Id(c.operand(n))
		// Element k of group (o, i) is x[(o*size+k)*inner + i]; its result
		// is dst[o*inner + i]. Without inner elements, i is left out.
		group := func(k jen.Code) *jen.Statement {
			return jen.Id("o").Op("*").Add(size.code()).Op("+").Add(k)
		}
		at := func(k jen.Code) *jen.Statement {
			if inner.isOne() {
				return src.Clone().Index(group(k))
			}
			return src.Clone().Index(jen.Parens(group(k)).Op("*").Add(inner.code()).Op("+").Id("i"))
		}
		out := dst.Clone().Index(jen.Id("o"))
		if !inner.isOne() {
			out = dst.Clone().Index(jen.Id("o").Op("*").Add(inner.code()).Op("+").Id("i"))
		}
		better := jen.Id("v").Op(cmp).Id("best")
		if x.Type.DType.IsFloat() {
			// best == best: no NaN found yet; v != v: v is a NaN.
			better = jen.Id("best").Op("==").Id("best").Op("&&").Parens(jen.Id("v").Op("!=").Id("v").Op("||").Add(better))
		}
		search := []jen.Code{
			jen.List(jen.Id("best"), jen.Id("at")).Op(":=").List(at(jen.Lit(0)), jen.Lit(0)),
			jen.For(jen.Id("k").Op(":=").Lit(1), jen.Id("k").Op("<").Add(size.code()), jen.Id("k").Op("++")).Block(
				jen.Id("v").Op(":=").Add(at(jen.Id("k"))),
				jen.If(better).Block(jen.List(jen.Id("best"), jen.Id("at")).Op("=").List(jen.Id("v"), jen.Id("k"))),
			),
			out.Op("=").Int64().Call(jen.Id("at")),
		}
		if !inner.isOne() {
			search = []jen.Code{jen.For(jen.Id("i").Op(":=").Lit(0), jen.Id("i").Op("<").Add(inner.code()), jen.Id("i").Op("++")).Block(search...)}
		}
		return jen.For(jen.Id("o").Op(":=").Lit(0), jen.Id("o").Op("<").Add(outer.code()), jen.Id("o").Op("++")).Block(search...), nil
	}
}

// emitOneHot fills the output with off_value (clears it for 0) and sets
// on_value at one element per in-range index: element v of index i's
// group, (i/inner, v, i%inner) with inner the size of the indices' axes
// after the new one.
func emitOneHot(c *gen, n *ir.Node) (jen.Code, error) {
	x := n.Inputs[0]
	depth := n.Attrs.Int("depth", 0)
	dt := n.Type.DType
	dst := c.operand(n)
	inner := numel(x.Type.Shape[ir.OneHotAxis(n):])
	at := func(v *jen.Statement) *jen.Statement {
		if inner.isOne() {
			return jen.Id("i").Op("*").Lit(depth).Op("+").Int().Call(v)
		}
		return jen.Parens(jen.Id("i").Op("/").Add(inner.code()).Op("*").Lit(depth).Op("+").Int().Call(v)).
			Op("*").Add(inner.code()).Op("+").Id("i").Op("%").Add(inner.code())
	}
	set := func(v *jen.Statement) jen.Code {
		return jen.If(v.Clone().Op(">=").Lit(0).Op("&&").Add(v.Clone()).Op("<").Lit(depth)).Block(
			jen.Id(dst).Index(at(v)).Op("=").Add(typedLit(dt, n.Attrs.Float("on_value", 1))),
		)
	}
	var fill jen.Code = jen.Clear(jen.Id(dst))
	if off := n.Attrs.Float("off_value", 0); off != 0 {
		fill = jen.For(jen.Id("i").Op(":=").Range().Id(dst)).Block(jen.Id(dst).Index(jen.Id("i")).Op("=").Add(typedLit(dt, off)))
	}
	if lit := scalarConst(x); lit != nil {
		return jen.Block(fill, jen.Id("i").Op(":=").Lit(0), set(lit)), nil
	}
	return jen.Block(
		fill,
		jen.For(jen.List(jen.Id("i"), jen.Id("v")).Op(":=").Range().Id(c.operand(x))).Block(set(jen.Id("v"))),
	), nil
}

// emitSparseXent calls the runtime's row kernel.
func emitSparseXent(c *gen, n *ir.Node) (jen.Code, error) {
	logits, labels := n.Inputs[0], n.Inputs[1]
	if scalarConst(labels) != nil {
		return nil, fmt.Errorf("a constant scalar label")
	}
	s := logits.Type.Shape
	cols := dimSize(s[len(s)-1])
	rows := numel(s[:len(s)-1])
	return jen.Qual(RuntimePath, "SparseSoftmaxCrossEntropyRows").Call(
		jen.Id(c.operand(n)), jen.Id(c.operand(logits)), jen.Id(c.operand(labels)), rows.code(), cols.code()), nil
}
