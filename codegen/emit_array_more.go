package codegen

import (
	"fmt"
	"strconv"

	"github.com/dave/jennifer/jen"

	"github.com/flow-lang/flow/compiler/ir"
)

// Emitters of the ops of compiler/ir/ops_array_more.go: gather and its
// gradient, rank/shape/size, fill, range, split, shuffle and its
// gradient. They use Go operators, copy and clear only, so they work for
// every dtype generated code holds.
func init() {
	registerEmitters(map[*ir.OpDef]emitter{
		ir.Gather:     emitGather,
		ir.GatherGrad: emitGatherGrad,
		ir.Rank:       emitRank,
		ir.ShapeOp:    emitShapeOf,
		ir.Size:       emitSizeOf,
		ir.Fill:       emitFill,
		ir.Range:      emitRange,
		ir.Split:      emitSplit,
		ir.Shuffle:    emitShuffle(false),
		ir.Unshuffle:  emitShuffle(true),
	})
}

// gatherLayout is the loop structure shared by gather and gather_grad:
// outer groups (the axes before axis) of size rows (params' axis) of
// inner elements each, and m indices.
type gatherLayout struct {
	outer, size, inner, m size
}

func newGatherLayout(params, indices ir.Shape, axis int) gatherLayout {
	return gatherLayout{
		outer: numel(params[:axis]),
		size:  dimSize(params[axis]),
		inner: numel(params[axis+1:]),
		m:     numel(indices),
	}
}

// row renders the element range [r*inner, (r+1)*inner) of buf, where r
// is group o's row k of rows rows (o left out when there is one group).
func (l gatherLayout) row(buf string, k jen.Code, rows size) *jen.Statement {
	r := jen.Add(k)
	if !l.outer.isOne() {
		r = jen.Id("o").Op("*").Add(rows.code()).Op("+").Add(k)
	}
	if l.inner.isOne() {
		return jen.Id(buf).Index(r)
	}
	if !l.outer.isOne() {
		r = jen.Parens(r)
	}
	start := r.Clone().Op("*").Add(l.inner.code())
	return jen.Id(buf).Index(start, start.Clone().Op("+").Add(l.inner.code()))
}

// loops wraps body in the loops over groups and indices; inside, k is
// the index (an int) and the body runs only for in-range indices.
func (l gatherLayout) loops(c *gen, indices *ir.Node, body []jen.Code, outOfRange jen.Code) jen.Code {
	var idx *jen.Statement
	if lit := scalarConst(indices); lit != nil {
		idx = lit
	} else {
		idx = jen.Id(c.operand(indices)).Index(jen.Id("j"))
	}
	check := jen.If(jen.Id("k").Op(">=").Lit(0).Op("&&").Id("k").Op("<").Add(l.size.code())).Block(body...)
	if outOfRange != nil {
		check = check.Else().Block(outOfRange)
	}
	stmt := forLoop("j", l.m, jen.Id("k").Op(":=").Int().Call(idx), check)
	if !l.outer.isOne() {
		stmt = forLoop("o", l.outer, stmt)
	}
	return stmt
}

// emitGather copies the indexed rows of params and zeroes the rows of
// out-of-range indices.
func emitGather(c *gen, n *ir.Node) (jen.Code, error) {
	p, indices := n.Inputs[0], n.Inputs[1]
	l := newGatherLayout(p.Type.Shape, indices.Type.Shape, n.Attrs.Int("axis", 0))
	dst, src := l.row(c.operand(n), jen.Id("j"), l.m), l.row(c.operand(p), jen.Id("k"), l.size)
	if l.inner.isOne() {
		return l.loops(c, indices, []jen.Code{dst.Clone().Op("=").Add(src)}, dst.Clone().Op("=").Add(typedLit(n.Type.DType, 0))), nil
	}
	return l.loops(c, indices, []jen.Code{jen.Copy(dst, src)}, jen.Clear(dst.Clone())), nil
}

// emitGatherGrad zeroes the result and adds every row of the updates at
// its in-range index.
func emitGatherGrad(c *gen, n *ir.Node) (jen.Code, error) {
	u, indices := n.Inputs[0], n.Inputs[1]
	l := newGatherLayout(n.Type.Shape, indices.Type.Shape, n.Attrs.Int("axis", 0))
	dst, src := l.row(c.operand(n), jen.Id("k"), l.size), l.row(c.operand(u), jen.Id("j"), l.m)
	body := []jen.Code{dst.Clone().Op("+=").Add(src)}
	if !l.inner.isOne() {
		body = []jen.Code{
			jen.List(jen.Id("d"), jen.Id("s")).Op(":=").List(dst, src),
			jen.For(jen.List(jen.Id("i"), jen.Id("v")).Op(":=").Range().Id("s")).Block(jen.Id("d").Index(jen.Id("i")).Op("+=").Id("v")),
		}
	}
	return jen.Block(jen.Clear(jen.Id(c.operand(n))), l.loops(c, indices, body, nil)), nil
}

// emitRank writes the operand's rank.
func emitRank(c *gen, n *ir.Node) (jen.Code, error) {
	return jen.Id(c.operand(n)).Index(jen.Lit(0)).Op("=").Add(typedLit(ir.I32, float64(n.Inputs[0].Type.Shape.Rank()))), nil
}

// emitShapeOf writes the operand's sizes; the symbolic one is n.
func emitShapeOf(c *gen, n *ir.Node) (jen.Code, error) {
	dst := c.operand(n)
	var code []jen.Code
	for i, d := range n.Inputs[0].Type.Shape {
		code = append(code, jen.Id(dst).Index(jen.Lit(i)).Op("=").Int32().Call(dimSize(d).code()))
	}
	return jen.Block(code...), nil
}

// emitSizeOf writes the operand's element count.
func emitSizeOf(c *gen, n *ir.Node) (jen.Code, error) {
	return jen.Id(c.operand(n)).Index(jen.Lit(0)).Op("=").Int32().Call(numel(n.Inputs[0].Type.Shape).code()), nil
}

// emitFill sets every element to the value.
func emitFill(c *gen, n *ir.Node) (jen.Code, error) {
	out := c.operand(n)
	v := n.Attrs.Float("value", 0)
	if v == 0 {
		return jen.Clear(jen.Id(out)), nil
	}
	return jen.For(jen.Id("i").Op(":=").Range().Id(out)).Block(jen.Id(out).Index(jen.Id("i")).Op("=").Add(typedLit(n.Type.DType, v))), nil
}

// emitRange writes start + i*delta: integers in their own arithmetic,
// floats in float64 rounded to the dtype, as the interpreter computes
// them.
func emitRange(c *gen, n *ir.Node) (jen.Code, error) {
	out := c.operand(n)
	dt := n.Type.DType
	start, delta := n.Attrs.Float("start", 0), n.Attrs.Float("delta", 1)
	var v *jen.Statement
	switch {
	case dt.IsInt():
		step := jen.Id("i")
		if delta != 1 {
			step = step.Op("*").Lit(int(delta))
		}
		if start != 0 {
			step = jen.Lit(int(start)).Op("+").Add(step)
		}
		v = goType(dt).Call(step)
	case dt.IsFloat():
		f := func(x float64) *jen.Statement { return jen.Id(strconv.FormatFloat(x, 'g', -1, 64)) }
		prod := jen.Float64().Call(jen.Float64().Call(jen.Id("i")).Op("*").Add(f(delta)))
		v = f(start).Op("+").Add(prod)
		if dt == ir.F32 {
			v = jen.Float32().Call(v)
		}
	default:
		return nil, fmt.Errorf("range of dtype %s", dt)
	}
	return jen.For(jen.Id("i").Op(":=").Range().Id(out)).Block(jen.Id(out).Index(jen.Id("i")).Op("=").Add(v)), nil
}

// emitSplit copies the piece, a contiguous range along the split axis,
// as slice does.
func emitSplit(c *gen, n *ir.Node) (jen.Code, error) {
	x := n.Inputs[0]
	xs := rowMajorStrides(shapeSizes(x.Type.Shape))
	out := shapeSizes(n.Type.Shape)
	begin := make([]int, len(xs))
	begin[n.Attrs.Int("axis", 0)] = n.Attrs.Int("offset", 0)
	var decls []jen.Code
	ops := []access{
		c.view(n, nil, rowMajorStrides(out), &decls),
		c.view(x, offsetCode(begin, xs), xs, &decls),
	}
	return block(decls, copyNest(out, ops)), nil
}

// emitShuffle moves the rows (slices along axis 0) by the permutation,
// computed at compile time and written into the code as an array;
// inverse moves them back (unshuffle).
func emitShuffle(inverse bool) emitter {
	return func(c *gen, n *ir.Node) (jen.Code, error) {
		x := n.Inputs[0]
		s := x.Type.Shape
		if s.Rank() == 0 || s[0].IsSym() {
			return nil, fmt.Errorf("%s of %s: axis 0 needs a fixed size", n.Op.Name, x.Type)
		}
		perm := ir.ShufflePermutation(n.Attrs.Int("seed", 0), s[0].Size)
		vals := make([]jen.Code, len(perm))
		for i, p := range perm {
			vals[i] = jen.Lit(p)
		}
		row := numel(s[1:])
		dst, src := "k", "p"
		if inverse {
			dst, src = "p", "k"
		}
		at := func(buf, r string) *jen.Statement {
			if row.isOne() {
				return jen.Id(buf).Index(jen.Id(r))
			}
			start := jen.Id(r).Op("*").Add(row.code())
			return jen.Id(buf).Index(start, start.Clone().Op("+").Add(row.code()))
		}
		d, sr := at(c.operand(n), dst), at(c.operand(x), src)
		var body jen.Code = jen.Copy(d, sr)
		if row.isOne() {
			body = d.Op("=").Add(sr)
		}
		return jen.Block(
			jen.Id("perm").Op(":=").Index(jen.Lit(len(perm))).Int().Values(vals...),
			jen.For(jen.List(jen.Id("k"), jen.Id("p")).Op(":=").Range().Id("perm")).Block(body),
		), nil
	}
}
