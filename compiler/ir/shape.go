package ir

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Dim is one dimension of a shape: a fixed size, or a named symbolic
// dimension (Sym != "") whose size is bound when the graph runs.
type Dim struct {
	Size int
	Sym  string
}

// Fixed returns a fixed dimension of size n.
func Fixed(n int) Dim { return Dim{Size: n} }

// Sym returns the symbolic dimension named name.
func Sym(name string) Dim { return Dim{Sym: name} }

// IsSym reports whether d is symbolic.
func (d Dim) IsSym() bool { return d.Sym != "" }

// String renders d as in source: "784" or "N".
func (d Dim) String() string {
	if d.IsSym() {
		return d.Sym
	}
	return strconv.Itoa(d.Size)
}

// Eval returns the size of d under the binding b.
func (d Dim) Eval(b Binding) int {
	if d.IsSym() {
		return b[d.Sym]
	}
	return d.Size
}

// Binding maps symbolic dimension names to sizes.
type Binding map[string]int

// Shape is a list of dimensions; the empty shape is a scalar.
type Shape []Dim

// Shp builds a fixed shape from sizes.
func Shp(sizes ...int) Shape {
	s := make(Shape, len(sizes))
	for i, n := range sizes {
		s[i] = Fixed(n)
	}
	return s
}

// Rank is the number of dimensions.
func (s Shape) Rank() int { return len(s) }

// String renders s as in source: "[N,784]"; a scalar is "[]".
func (s Shape) String() string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = d.String()
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// Equal reports whether two shapes are identical, symbol for symbol.
func (s Shape) Equal(t Shape) bool {
	if len(s) != len(t) {
		return false
	}
	for i := range s {
		if s[i] != t[i] {
			return false
		}
	}
	return true
}

// Eval returns the concrete sizes of s under b.
func (s Shape) Eval(b Binding) []int {
	out := make([]int, len(s))
	for i, d := range s {
		out[i] = d.Eval(b)
	}
	return out
}

// MaxElements is the most elements a tensor may hold, its symbolic
// dimensions counted as 1: 2^40, about 1.1e12 (4 TiB of f32). The
// checker refuses larger shapes (CheckSize), so that every size the
// compiler, the cost model and generated code compute from fixed
// dimensions — element and byte counts, strides, arena offsets — fits in
// an int64 with room to multiply by a batch size.
const MaxElements = min(1<<40, math.MaxInt) // on a 32-bit host, the largest int

// NumElements returns the element count under b. The checker bounds
// every tensor (CheckSize) and bindings are sizes of real data, so the
// product fits in an int; NumElements panics if it does not, which is a
// bug in its caller.
func (s Shape) NumElements(b Binding) int {
	n := 1
	for _, d := range s {
		var ok bool
		if n, ok = MulInt(n, d.Eval(b)); !ok {
			panic(fmt.Sprintf("ir: the element count of %s overflows under %v", s, b))
		}
	}
	return n
}

// Size returns the element count under b as a float64, for estimates:
// it cannot overflow, whatever the binding.
func (s Shape) Size(b Binding) float64 {
	n := 1.0
	for _, d := range s {
		n *= float64(d.Eval(b))
	}
	return n
}

// FixedElements returns the product of s's fixed dimensions (its element
// count when every symbolic dimension is 1) and whether it is at most
// MaxElements. It cannot overflow: it stops multiplying past the limit.
func (s Shape) FixedElements() (int, bool) {
	n := 1
	for _, d := range s {
		if d.IsSym() {
			continue
		}
		if d.Size < 0 {
			return 0, false
		}
		if p, ok := MulInt(n, d.Size); !ok || p > MaxElements {
			return 0, false
		} else {
			n = p
		}
	}
	return n, true
}

// CheckSize reports a shape too large to be a tensor: more than
// MaxElements elements (symbolic dimensions counted as 1).
func (s Shape) CheckSize() error {
	if _, ok := s.FixedElements(); ok {
		return nil
	}
	return fmt.Errorf("shape %s has %s elements, more than a tensor may hold (2^40 = %s)", s, approxProduct(s), GroupInt(MaxElements))
}

// approxProduct renders the product of s's fixed dimensions, exact when
// it fits in an int64 and in scientific notation otherwise.
func approxProduct(s Shape) string {
	n, exact := 1, true
	f := 1.0
	for _, d := range s {
		if d.IsSym() {
			continue
		}
		f *= float64(d.Size)
		if exact {
			n, exact = MulInt(n, d.Size)
		}
	}
	if exact {
		return GroupInt(n)
	}
	return strconv.FormatFloat(f, 'g', 3, 64)
}

// GroupInt renders n with commas between groups of three digits:
// 1234567 as 1,234,567.
func GroupInt(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// MulInt returns a*b and whether it is exact (no overflow); a and b must
// not be negative.
func MulInt(a, b int) (int, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	p := a * b
	return p, p/b == a && p >= 0
}

// AddInt returns a+b and whether it is exact (no overflow); a and b must
// not be negative.
func AddInt(a, b int) (int, bool) {
	s := a + b
	return s, s >= a
}

// IsStatic reports whether every dimension is fixed.
func (s Shape) IsStatic() bool {
	for _, d := range s {
		if d.IsSym() {
			return false
		}
	}
	return true
}

// Syms returns the distinct symbolic dimension names in s, in order.
func (s Shape) Syms() []string {
	var out []string
	for _, d := range s {
		if d.IsSym() && !slices.Contains(out, d.Sym) {
			out = append(out, d.Sym)
		}
	}
	return out
}

// Clone returns a copy of s.
func (s Shape) Clone() Shape { return append(Shape(nil), s...) }

// Broadcast computes the NumPy broadcast of two shapes: they are aligned
// at their last dimension; each pair of dimensions must be equal (same
// size, or same symbol) or one of them must be 1.
func Broadcast(a, b Shape) (Shape, error) {
	n := max(len(a), len(b))
	out := make(Shape, n)
	for i := 1; i <= n; i++ {
		var da, db Dim
		ha, hb := i <= len(a), i <= len(b)
		if ha {
			da = a[len(a)-i]
		}
		if hb {
			db = b[len(b)-i]
		}
		switch {
		case !ha:
			out[n-i] = db
		case !hb:
			out[n-i] = da
		case da == db:
			out[n-i] = da
		case !da.IsSym() && da.Size == 1:
			out[n-i] = db
		case !db.IsSym() && db.Size == 1:
			out[n-i] = da
		default:
			return nil, fmt.Errorf("dimension %s does not match %s (axis %d from the end)", da, db, i)
		}
	}
	return out, nil
}

// Type is the static type of a value: dtype and shape, or for the value
// of an op with several results a tuple of their types (Elems), which
// only "get" nodes read.
type Type struct {
	DType DType
	Shape Shape
	// Elems are the types of a tuple's elements; nil for a tensor.
	Elems []Type
}

// Tuple returns the tuple type of elems.
func Tuple(elems ...Type) Type {
	if elems == nil {
		elems = []Type{}
	}
	return Type{Elems: elems}
}

// IsTuple reports whether t is a tuple type.
func (t Type) IsTuple() bool { return t.Elems != nil }

// Equal reports whether t and u are the same type, symbol for symbol.
func (t Type) Equal(u Type) bool {
	if t.IsTuple() != u.IsTuple() {
		return false
	}
	if t.IsTuple() {
		if len(t.Elems) != len(u.Elems) {
			return false
		}
		for i := range t.Elems {
			if !t.Elems[i].Equal(u.Elems[i]) {
				return false
			}
		}
		return true
	}
	return t.DType == u.DType && t.Shape.Equal(u.Shape)
}

// String renders t as in source, e.g. "f32[N,784]"; a tuple as
// "(f32[N,128], f32[N,128])".
func (t Type) String() string {
	if t.IsTuple() {
		parts := make([]string, len(t.Elems))
		for i, e := range t.Elems {
			parts[i] = e.String()
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}
	return t.DType.String() + t.Shape.String()
}

// Scalar returns the rank-0 type of dtype d.
func Scalar(d DType) Type { return Type{DType: d, Shape: Shape{}} }
