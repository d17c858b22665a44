package codegen

import (
	"slices"

	"github.com/dave/jennifer/jen"

	"github.com/flow-lang/flow/compiler/ir"
)

// Emitters of the array ops (compiler/ir/ops_array.go). reshape and its
// relatives copy the buffer; the others are strided loop nests. An
// operand read or written from an offset is viewed through a local that
// shadows its buffer inside the node's block (t3 := t3[12:]), so loop
// nests index it from 0 with the same per-dimension strides.
func init() {
	registerEmitters(map[*ir.OpDef]emitter{
		ir.Reshape:    emitCopy,
		ir.ReshapeTo:  emitCopy,
		ir.ExpandDims: emitCopy,
		ir.Squeeze:    emitCopy,
		ir.Transpose:  emitTranspose,
		ir.Reverse:    emitReverse,
		ir.Tile:       emitTile,
		ir.Untile:     emitUntile,
		ir.Pad:        emitPad,
		ir.Slice:      emitSlice,
		ir.Unslice:    emitUnslice,
		ir.Concat:     emitConcat,

		ir.StridedSlice: emitStridedSlice,
	})
}

// emitCopy copies x's elements into the result, whose shape differs only
// in how it groups them.
func emitCopy(c *gen, n *ir.Node) (jen.Code, error) {
	x := n.Inputs[0]
	if lit := scalarConst(x); lit != nil {
		return jen.Id(c.operand(n)).Index(jen.Lit(0)).Op("=").Add(lit), nil
	}
	return jen.Copy(jen.Id(c.operand(n)), jen.Id(c.operand(x))), nil
}

// offsetCode renders the sum of index[i]*strides[i] as a Go int
// expression, nil when it is zero.
func offsetCode(index []int, strides []size) *jen.Statement {
	var e *jen.Statement
	for i, v := range index {
		t := strides[i].mul(size{c: v})
		if t.isZero() {
			continue
		}
		if e == nil {
			e = t.code()
		} else {
			e = e.Op("+").Add(t.code())
		}
	}
	return e
}

// view returns the access of operand x with strides st, starting at the
// element offset off (nil: 0). A non-zero offset appends to decls a local
// shadowing x's buffer from that offset, unless a stride is negative:
// then the loops walk back from the offset, which the index adds. An
// inline scalar constant is read as its literal (it has rank 0, so off
// is nil).
func (c *gen) view(x *ir.Node, off *jen.Statement, st []size, decls *[]jen.Code) access {
	if lit := scalarConst(x); lit != nil {
		return access{inline: lit}
	}
	name := c.operand(x)
	if off != nil && slices.ContainsFunc(st, func(s size) bool { return s.c < 0 }) {
		return access{buf: name, strides: st, off: off}
	}
	if off != nil {
		*decls = append(*decls, jen.Id(name).Op(":=").Id(name).Index(off, jen.Empty()))
	}
	return access{buf: name, strides: st}
}

// block wraps decls and a loop nest in a block, so shadowing locals stay
// local to the node.
func block(decls []jen.Code, code ...jen.Code) jen.Code {
	if len(decls) == 0 && len(code) == 1 {
		return code[0]
	}
	return jen.Block(append(decls, code...)...)
}

func assignBody(e []*jen.Statement) jen.Code { return e[0].Op("=").Add(e[1]) }

// emitTranspose reads x with its strides permuted.
func emitTranspose(c *gen, n *ir.Node) (jen.Code, error) {
	x := n.Inputs[0]
	out := shapeSizes(n.Type.Shape)
	xs := rowMajorStrides(shapeSizes(x.Type.Shape))
	perm := n.Attrs.Ints("perm")
	st := make([]size, len(perm))
	for i, p := range perm {
		st[i] = xs[p]
	}
	var decls []jen.Code
	ops := []access{c.view(n, nil, rowMajorStrides(out), &decls), c.view(x, nil, st, &decls)}
	return block(decls, copyNest(out, ops)), nil
}

// tileDims splits every axis i of a tiled shape into (multiples[i],
// size of axis i of x), the loop dimensions of tile and untile.
func tileDims(x ir.Shape, multiples []int) []size {
	dims := make([]size, 0, 2*len(x))
	for i, d := range x {
		dims = append(dims, size{c: multiples[i]}, dimSize(d))
	}
	return dims
}

// tiledStrides are the strides of the tiled tensor (row-major strides ts)
// over tileDims: a tile step skips a whole copy of x's axis.
func tiledStrides(x ir.Shape, ts []size) []size {
	st := make([]size, 0, 2*len(x))
	for i, d := range x {
		st = append(st, dimSize(d).mul(ts[i]), ts[i])
	}
	return st
}

// untiledStrides are the strides of x over tileDims: every tile reads
// the same elements.
func untiledStrides(x ir.Shape) []size {
	xs := rowMajorStrides(shapeSizes(x))
	st := make([]size, 0, 2*len(x))
	for i := range x {
		st = append(st, size{}, xs[i])
	}
	return st
}

// emitTile writes every tile of the result from x.
func emitTile(c *gen, n *ir.Node) (jen.Code, error) {
	x := n.Inputs[0]
	m := n.Attrs.Ints("multiples")
	ts := rowMajorStrides(shapeSizes(n.Type.Shape))
	var decls []jen.Code
	ops := []access{
		c.view(n, nil, tiledStrides(x.Type.Shape, ts), &decls),
		c.view(x, nil, untiledStrides(x.Type.Shape), &decls),
	}
	return block(decls, copyNest(tileDims(x.Type.Shape, m), ops)), nil
}

// emitUntile sums every tile of the input into the result.
func emitUntile(c *gen, n *ir.Node) (jen.Code, error) {
	dy := n.Inputs[0]
	x := n.Type.Shape
	m := n.Attrs.Ints("multiples")
	ts := rowMajorStrides(shapeSizes(dy.Type.Shape))
	var decls []jen.Code
	ops := []access{c.view(n, nil, untiledStrides(x), &decls), c.view(dy, nil, tiledStrides(x, ts), &decls)}
	return block(decls, jen.Clear(jen.Id(c.operand(n))), loopNest(tileDims(x, m), ops, func(e []*jen.Statement) jen.Code {
		return e[0].Op("+=").Add(e[1])
	})), nil
}

// fill sets every element of n's buffer to v.
func (c *gen) fill(n *ir.Node, v float64) jen.Code {
	out := c.operand(n)
	if v == 0 {
		return jen.Clear(jen.Id(out))
	}
	return jen.For(jen.Id("i").Op(":=").Range().Id(out)).Block(jen.Id(out).Index(jen.Id("i")).Op("=").Add(typedLit(n.Type.DType, v)))
}

// emitPad fills the result with the padding value and copies x into its
// interior.
func emitPad(c *gen, n *ir.Node) (jen.Code, error) {
	x := n.Inputs[0]
	pads, _ := n.Attrs["paddings"].([][]int)
	os := rowMajorStrides(shapeSizes(n.Type.Shape))
	before := make([]int, len(pads))
	for i, p := range pads {
		before[i] = p[0]
	}
	var decls []jen.Code
	dst := c.view(n, offsetCode(before, os), os, &decls)
	src := c.view(x, nil, rowMajorStrides(shapeSizes(x.Type.Shape)), &decls)
	return jen.Block(c.fill(n, n.Attrs.Float("value", 0)),
		block(decls, copyNest(shapeSizes(x.Type.Shape), []access{dst, src}))), nil
}

// sliceStrides are the strides of a tensor of row-major strides xs read
// every st[i]-th element along axis i.
func sliceStrides(xs []size, st []int) []size {
	out := make([]size, len(xs))
	for i := range xs {
		out[i] = xs[i].mul(size{c: st[i]})
	}
	return out
}

// emitSlice reads x from begin with the slice's strides.
func emitSlice(c *gen, n *ir.Node) (jen.Code, error) {
	x := n.Inputs[0]
	xs := rowMajorStrides(shapeSizes(x.Type.Shape))
	out := shapeSizes(n.Type.Shape)
	var decls []jen.Code
	ops := []access{
		c.view(n, nil, rowMajorStrides(out), &decls),
		c.view(x, offsetCode(n.Attrs.Ints("begin"), xs), sliceStrides(xs, n.Attrs.Ints("strides")), &decls),
	}
	return block(decls, copyNest(out, ops)), nil
}

// emitStridedSlice reads x's selection (ir.StridedSliceOf) from its
// first element with its strides, negative ones walking backwards; the
// result holds the selection in row-major order, the shrunk and new axes
// having size 1.
func emitStridedSlice(c *gen, n *ir.Node) (jen.Code, error) {
	x := n.Inputs[0]
	s := ir.StridedSliceOf(n)
	xs := rowMajorStrides(shapeSizes(x.Type.Shape))
	out := shapeSizes(s.Sizes)
	var decls []jen.Code
	ops := []access{
		c.view(n, nil, rowMajorStrides(out), &decls),
		c.view(x, offsetCode(s.Begin, xs), sliceStrides(xs, s.Strides), &decls),
	}
	return block(decls, copyNest(out, ops)), nil
}

// emitUnslice zeroes the result and writes the input where slice read it.
func emitUnslice(c *gen, n *ir.Node) (jen.Code, error) {
	dy := n.Inputs[0]
	os := rowMajorStrides(shapeSizes(n.Type.Shape))
	in := shapeSizes(dy.Type.Shape)
	var decls []jen.Code
	dst := c.view(n, offsetCode(n.Attrs.Ints("begin"), os), sliceStrides(os, n.Attrs.Ints("strides")), &decls)
	src := c.view(dy, nil, rowMajorStrides(in), &decls)
	return jen.Block(jen.Clear(jen.Id(c.operand(n))), block(decls, copyNest(in, []access{dst, src}))), nil
}

// emitConcat copies each operand into its range of the result along axis.
func emitConcat(c *gen, n *ir.Node) (jen.Code, error) {
	axis := n.Attrs.Int("axis", 0)
	os := rowMajorStrides(shapeSizes(n.Type.Shape))
	var code []jen.Code
	at := make([]int, len(os))
	for _, x := range n.Inputs {
		var decls []jen.Code
		dst := c.view(n, offsetCode(at, os), os, &decls)
		src := c.view(x, nil, rowMajorStrides(shapeSizes(x.Type.Shape)), &decls)
		code = append(code, block(decls, copyNest(shapeSizes(x.Type.Shape), []access{dst, src})))
		at[axis] += x.Type.Shape[axis].Size
	}
	return jen.Block(code...), nil
}

// emitReverse reads x backwards along the reversed axes: a negative
// stride from the last element of each.
func emitReverse(c *gen, n *ir.Node) (jen.Code, error) {
	x := n.Inputs[0]
	dims := shapeSizes(x.Type.Shape)
	xs := rowMajorStrides(dims)
	st := slices.Clone(xs)
	var off *jen.Statement
	for _, a := range n.Attrs.Ints("axes") {
		if dims[a].isOne() {
			continue
		}
		st[a] = xs[a].mul(size{c: -1})
		last := dims[a].code().Op("-").Lit(1)
		if !xs[a].isOne() {
			last = jen.Parens(last).Op("*").Add(xs[a].code())
		}
		if off == nil {
			off = last
		} else {
			off = off.Op("+").Add(last)
		}
	}
	var decls []jen.Code
	ops := []access{c.view(n, nil, xs, &decls), c.view(x, off, st, &decls)}
	return block(decls, copyNest(dims, ops)), nil
}
