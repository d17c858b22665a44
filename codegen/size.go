package codegen

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/flow-lang/flow/compiler/ir"
)

// size is a dimension or element count known up to the model's symbolic
// dimensions: c times a monomial k in them (c * n^2 * t, say), where each
// symbol is an argument of the generated code (n for the batch, the
// first of ir.Module.Syms; the others named after their symbols, see
// symIdents).
type size struct {
	c int
	// k is the monomial: the names of its symbols, one per power, in
	// sorted order and separated by "*" ("N*N*T" for N²·T); "" for a
	// constant. Equal monomials have equal keys, so sizes compare with ==.
	k string
}

var one = size{c: 1}

// dimSize converts an IR dimension.
func dimSize(d ir.Dim) size {
	if d.IsSym() {
		return size{c: 1, k: d.Sym}
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
	return size{c: c, k: monoMul(s.k, t.k)}
}

// monoMul multiplies two monomials.
func monoMul(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	f := append(monoFactors(a), monoFactors(b)...)
	slices.Sort(f)
	return strings.Join(f, "*")
}

// monoFactors lists a monomial's symbols, one per power, sorted.
func monoFactors(k string) []string {
	if k == "" {
		return nil
	}
	return strings.Split(k, "*")
}

// monoDegree is a monomial's total degree.
func monoDegree(k string) int {
	if k == "" {
		return 0
	}
	return strings.Count(k, "*") + 1
}

// monoPow is the power of symbol sym in monomial k.
func monoPow(k, sym string) int {
	p := 0
	for _, f := range monoFactors(k) {
		if f == sym {
			p++
		}
	}
	return p
}

// monoText renders a monomial for comments: "N", "N^2·T".
func monoText(k string) string {
	var parts []string
	f := monoFactors(k)
	for i := 0; i < len(f); {
		j := i
		for j < len(f) && f[j] == f[i] {
			j++
		}
		if j-i == 1 {
			parts = append(parts, f[i])
		} else {
			parts = append(parts, f[i]+"^"+strconv.Itoa(j-i))
		}
		i = j
	}
	return strings.Join(parts, "·")
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func (s size) isOne() bool { return s.c == 1 && s.k == "" }

// isConst reports whether s is a constant: no symbol.
func (s size) isConst() bool { return s.k == "" }

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

// code renders the size as a Go int expression in terms of the symbols'
// arguments (symRef).
func (s size) code() *jen.Statement {
	if s.k == "" {
		return jen.Lit(s.c)
	}
	var e *jen.Statement
	if s.c != 1 {
		e = jen.Lit(s.c)
	}
	for _, f := range monoFactors(s.k) {
		if e == nil {
			e = jen.Id(symRef(f))
		} else {
			e = e.Op("*").Id(symRef(f))
		}
	}
	return e
}

// symRef is the placeholder for symbol sym's Go argument in code being
// built: sizes are rendered without knowing the model, and Generate
// replaces each placeholder with the argument's name (symIdents) before
// formatting the source.
func symRef(sym string) string { return "\u27ea" + sym + "\u27eb" }

// resolveSyms replaces the symbol placeholders of rendered source src
// with the arguments' names.
func resolveSyms(src []byte, idents map[string]string) []byte {
	if !bytes.Contains(src, []byte("\u27ea")) {
		return src
	}
	syms := make([]string, 0, len(idents))
	for s := range idents {
		syms = append(syms, s)
	}
	sort.Strings(syms)
	for _, s := range syms {
		src = bytes.ReplaceAll(src, []byte(symRef(s)), []byte(idents[s]))
	}
	return src
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
