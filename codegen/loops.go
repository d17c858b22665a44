package codegen

import (
	"fmt"
	"strconv"

	"github.com/dave/jennifer/jen"
)

// access is how a loop nest reads or writes one operand: a slice indexed
// with per-dimension strides (zero for broadcast dimensions, negative
// for axes walked backwards) from the element offset off (nil: 0), or an
// inline scalar expression.
type access struct {
	buf     string
	strides []size
	off     *jen.Statement
	inline  *jen.Statement
}

// collapse drops size-1 dimensions and merges adjacent dimensions that
// every operand traverses contiguously, so loop nests are as shallow as
// the layout allows.
func collapse(dims []size, ops []access) ([]size, []access) {
	var outDims []size
	outStr := make([][]size, len(ops))
	for d := range dims {
		if dims[d].isOne() {
			continue
		}
		if len(outDims) > 0 {
			last := len(outDims) - 1
			merge := true
			for k, op := range ops {
				if op.inline != nil {
					continue
				}
				if outStr[k][last] != op.strides[d].mul(dims[d]) {
					merge = false
					break
				}
			}
			if merge {
				outDims[last] = outDims[last].mul(dims[d])
				for k, op := range ops {
					if op.inline == nil {
						outStr[k][last] = op.strides[d]
					}
				}
				continue
			}
		}
		outDims = append(outDims, dims[d])
		for k, op := range ops {
			if op.inline == nil {
				outStr[k] = append(outStr[k], op.strides[d])
			}
		}
	}
	out := make([]access, len(ops))
	for k, op := range ops {
		out[k] = op
		if op.inline == nil {
			out[k].strides = outStr[k]
		}
	}
	return outDims, out
}

// loopNest emits statements that iterate over dims and runs body with the
// element expression of every operand (ops[k]'s element is elems[k]).
func loopNest(dims []size, ops []access, body func(elems []*jen.Statement) jen.Code) jen.Code {
	dims, ops = collapse(dims, ops)
	vars := make([]string, len(dims))
	for d := range dims {
		vars[d] = "i" + strconv.Itoa(d)
	}
	// Index of operand k: base_k (outer loops) + i_last * stride_last.
	// Operands with the same outer strides share one base variable.
	var pre []jen.Code
	bases := map[string]string{}
	elems := make([]*jen.Statement, len(ops))
	for k, op := range ops {
		if op.inline != nil {
			elems[k] = op.inline.Clone()
			continue
		}
		if len(dims) == 0 {
			if op.off != nil {
				elems[k] = jen.Id(op.buf).Index(op.off.Clone())
			} else {
				elems[k] = jen.Id(op.buf).Index(jen.Lit(0))
			}
			continue
		}
		last := len(dims) - 1
		base := indexExpr(vars[:last], op.strides[:last])
		inner := term(vars[last], op.strides[last])
		var idx *jen.Statement
		if base != nil {
			key := fmt.Sprintf("%#v", base)
			bv, ok := bases[key]
			if !ok {
				bv = "o" + strconv.Itoa(len(bases))
				bases[key] = bv
				pre = append(pre, jen.Id(bv).Op(":=").Add(base))
			}
			idx = jen.Id(bv)
		}
		switch {
		case idx == nil && inner == nil:
			idx = jen.Lit(0)
		case idx == nil:
			idx = inner
		case inner != nil:
			idx = idx.Op("+").Add(inner)
		}
		if op.off != nil {
			idx = op.off.Clone().Op("+").Add(idx)
		}
		elems[k] = jen.Id(op.buf).Index(idx)
	}
	if len(dims) == 0 {
		return body(elems)
	}
	last := len(dims) - 1
	inner := forLoop(vars[last], dims[last], body(elems))
	if last == 0 {
		return inner
	}
	stmt := forLoop(vars[last-1], dims[last-1], append(pre, inner)...)
	for d := last - 2; d >= 0; d-- {
		stmt = forLoop(vars[d], dims[d], stmt)
	}
	return stmt
}

// copyMinRun is the shortest contiguous run a copy nest moves with Go's
// copy (a memmove) rather than an element loop, whose per-call cost it
// would not repay.
const copyMinRun = 16

// copyNest emits a loop nest that copies ops[1]'s elements to ops[0]'s
// over dims, as loopNest with assignBody does; where both walk the
// innermost (collapsed) dimension contiguously and its run is long
// (symbolic, or at least copyMinRun), each run is one copy call.
func copyNest(dims []size, ops []access) jen.Code {
	cd, cops := collapse(dims, ops)
	last := len(cd) - 1
	if len(ops) != 2 || last < 0 || cd[last].isConst() && cd[last].c < copyMinRun {
		return loopNest(dims, ops, assignBody)
	}
	for _, op := range cops {
		if op.inline != nil || !op.strides[last].isOne() {
			return loopNest(dims, ops, assignBody)
		}
	}
	vars := make([]string, last)
	for d := range vars {
		vars[d] = "i" + strconv.Itoa(d)
	}
	// at renders the index where op's run starts (nil: 0); each call
	// builds new statements, which jen's methods extend in place.
	at := func(op access) *jen.Statement {
		i := indexExpr(vars, op.strides[:last])
		switch {
		case op.off == nil:
			return i
		case i == nil:
			return op.off.Clone()
		}
		return op.off.Clone().Op("+").Add(i)
	}
	run := func(op access) *jen.Statement {
		from := at(op)
		if from == nil {
			return jen.Id(op.buf).Index(jen.Empty(), cd[last].code())
		}
		return jen.Id(op.buf).Index(from, at(op).Op("+").Add(cd[last].code()))
	}
	var stmt jen.Code = jen.Copy(run(cops[0]), run(cops[1]))
	for d := last - 1; d >= 0; d-- {
		stmt = forLoop(vars[d], cd[d], stmt)
	}
	return stmt
}

// forLoop emits `for v := 0; v < n; v++ { body }`.
func forLoop(v string, n size, body ...jen.Code) *jen.Statement {
	return jen.For(jen.Id(v).Op(":=").Lit(0), jen.Id(v).Op("<").Add(n.code()), jen.Id(v).Op("++")).Block(body...)
}

// forLoopFrom emits `for v := from; v < n; v++ { body }`.
func forLoopFrom(v string, from int, n size, body ...jen.Code) *jen.Statement {
	return jen.For(jen.Id(v).Op(":=").Lit(from), jen.Id(v).Op("<").Add(n.code()), jen.Id(v).Op("++")).Block(body...)
}

// term renders v*stride, nil for a zero stride.
func term(v string, stride size) *jen.Statement {
	switch {
	case stride.isZero():
		return nil
	case stride.isOne():
		return jen.Id(v)
	}
	return jen.Id(v).Op("*").Add(stride.code())
}

// indexExpr renders the sum of vars[d]*strides[d], nil when all are zero.
func indexExpr(vars []string, strides []size) *jen.Statement {
	var e *jen.Statement
	for d, v := range vars {
		t := term(v, strides[d])
		if t == nil {
			continue
		}
		if e == nil {
			e = t
		} else {
			e = e.Op("+").Add(t)
		}
	}
	return e
}
