package ir

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPublicOpsDeclareDTypes: every public op lists the dtypes programs
// may apply it to (OpDef.DTypes), among the dtypes generated code
// computes in, and its type rule accepts each of them on one of its
// examples at least, so DTypes never promises what Infer refuses.
// (internal/opcheck checks that generated code computes each, and that
// the checker refuses the others.)
func TestPublicOpsDeclareDTypes(t *testing.T) {
	for _, def := range Ops() {
		if def.Internal {
			continue
		}
		require.NotEmpty(t, def.DTypes, "op %s declares no DTypes", def.Name)
		for _, dt := range def.DTypes {
			require.True(t, slices.Contains(allDTypes, dt), "op %s: %s is not a dtype generated code computes in", def.Name, dt)
			require.True(t, acceptsOnExample(def, dt), "op %s lists %s in DTypes, but its type rule accepts %s on none of its examples", def.Name, dt, dt)
		}
	}
}

// acceptsOnExample reports whether def's type rule accepts one of its
// examples with dtype dt in the operands that have none of their own,
// computing in dt (DTypeOf).
func acceptsOnExample(def *OpDef, dt DType) bool {
	for _, ex := range def.Examples {
		g := NewModule("t", "t")
		var xs []*Node
		for i, s := range ex.Shapes {
			leaf := Input
			if def.Stateful && i == 0 {
				leaf = Param
			}
			xs = append(xs, g.MustApply(leaf, nil, Attrs{"dtype": ex.OperandDType(i, dt), "shape": Shp(s...)}))
		}
		if n, err := g.Apply(def, xs, ex.Attrs.Clone()); err == nil && def.DTypeOf(n) == dt {
			return true
		}
	}
	return false
}

// TestCheckDType: the error names the dtypes the op takes and the
// operand DTypeOf looked at (where's condition is not it); storage
// dtypes and ops without DTypes pass.
func TestCheckDType(t *testing.T) {
	g := NewModule("t", "t")
	in := func(dt DType, dims ...int) *Node {
		return g.MustApply(Input, nil, Attrs{"dtype": dt, "shape": Shp(dims...)})
	}
	x := in(F64, 2, 2)
	inv := g.MustApply(MatrixInverse, []*Node{x}, nil)
	require.EqualError(t, inv.Op.CheckDType(inv), "matrix_inverse takes f32 only, got f64[2,2]")
	var dtErr *DTypeError
	require.ErrorAs(t, inv.Op.CheckDType(inv), &dtErr)
	require.Equal(t, F64, dtErr.Got.DType)

	w := g.MustApply(Where, []*Node{in(Bool, 3), in(I64, 3), in(I64, 3)}, nil)
	require.Equal(t, I64, w.Op.DTypeOf(w))
	require.NoError(t, w.Op.CheckDType(w))
	l := g.MustApply(LogicalNot, []*Node{in(Bool, 3)}, nil)
	require.NoError(t, l.Op.CheckDType(l))

	h := g.MustApply(MatrixInverse, []*Node{in(F16, 2, 2)}, nil)
	require.NoError(t, h.Op.CheckDType(h), "storage dtypes are Infer's alone")
	r := g.MustApply(Range, nil, Attrs{"start": 3.0, "dtype": "i64"})
	require.Equal(t, I64, r.Op.DTypeOf(r), "an op without operands computes in its result's dtype")
	s := g.MustApply(SumTo, []*Node{in(I32, 2, 3)}, Attrs{"shape": Shp(3)})
	require.Nil(t, s.Op.DTypes)
	require.NoError(t, s.Op.CheckDType(s), "internal ops without DTypes take what Infer takes")

	require.Equal(t, "f32", DTypeList([]DType{F32}))
	require.Equal(t, "f32 or f64", DTypeList(floatDTypes))
	require.Equal(t, "f32, f64, i32 or i64", DTypeList(numericDTypes))
}
