package codegen

import (
	"fmt"
	"slices"

	"github.com/dave/jennifer/jen"

	"github.com/flow-lang/flow/compiler/ir"
)

// size is a dimension or element count known up to the model's one
// symbolic dimension: c * n^k, where n is the batch-size argument.
type size struct {
	c int
	k int
}

var one = size{c: 1}

// dimSize converts an IR dimension.
func dimSize(d ir.Dim) size {
	if d.IsSym() {
		return size{c: 1, k: 1}
	}
	return size{c: d.Size}
}

// mul multiplies two sizes. The checker bounds every tensor's fixed
// elements (ir.MaxElements), so products of a shape's dimensions fit; an
// overflow is a bug in the caller and panics rather than wrap. A stride
// that walks an axis backwards is negative, and keeps its sign.
func (s size) mul(t size) size {
	if s.c == 0 || t.c == 0 {
		return size{}
	}
	c, ok := ir.MulInt(abs(s.c), abs(t.c))
	if !ok {
		panic(fmt.Sprintf("codegen: size %d × %d overflows", s.c, t.c))
	}
	if (s.c < 0) != (t.c < 0) {
		c = -c
	}
	return size{c: c, k: s.k + t.k}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func (s size) isOne() bool { return s.c == 1 && s.k == 0 }

func (s size) isZero() bool { return s.c == 0 }

// shapeSizes converts a shape to sizes.
func shapeSizes(s ir.Shape) []size {
	out := make([]size, len(s))
	for i, d := range s {
		out[i] = dimSize(d)
	}
	return out
}

// numel is the element count of a shape.
func numel(s ir.Shape) size {
	p := one
	for _, d := range s {
		p = p.mul(dimSize(d))
	}
	return p
}

// code renders the size as a Go int expression in terms of n.
func (s size) code() *jen.Statement {
	if s.k == 0 {
		return jen.Lit(s.c)
	}
	var e *jen.Statement
	if s.c != 1 {
		e = jen.Lit(s.c)
	}
	for i := 0; i < s.k; i++ {
		if e == nil {
			e = jen.Id("n")
		} else {
			e = e.Op("*").Id("n")
		}
	}
	return e
}

// rowMajorStrides returns the strides of a contiguous tensor.
func rowMajorStrides(dims []size) []size {
	st := make([]size, len(dims))
	acc := one
	for i := len(dims) - 1; i >= 0; i-- {
		st[i] = acc
		acc = acc.mul(dims[i])
	}
	return st
}

// broadcastStrides returns the strides with which an operand of shape
// in is read when iterating over shape out (NumPy alignment: trailing
// dims; size-1 and missing dims get stride 0). insert lists output axes
// absent from in (as for broadcast_to with axes).
func broadcastStrides(in, out ir.Shape, insert []int) []size {
	if len(insert) > 0 {
		full := make(ir.Shape, 0, len(out))
		j := 0
		for i := range out {
			if slices.Contains(insert, i) {
				full = append(full, ir.Fixed(1))
			} else {
				full = append(full, in[j])
				j++
			}
		}
		in = full
	}
	src := rowMajorStrides(shapeSizes(in))
	st := make([]size, len(out))
	off := len(out) - len(in)
	for i := range out {
		if i < off {
			continue
		}
		d := in[i-off]
		if !d.IsSym() && d.Size == 1 {
			continue
		}
		st[i] = src[i-off]
	}
	return st
}
