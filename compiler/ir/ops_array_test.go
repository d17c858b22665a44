package ir

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestArrayOpsEvaluate checks the reference evaluation of the array ops
// on hand-computed cases.
func TestArrayOpsEvaluate(t *testing.T) {
	// a = [[1 2 3] [4 5 6]]
	a := ten([]int{2, 3}, 1, 2, 3, 4, 5, 6)

	r := eval(t, "reshape", Attrs{"shape": []int{3, -1}}, a)
	require.Equal(t, []int{3, 2}, r.Shape)
	require.Equal(t, a.Data, r.Data, "reshape keeps the row-major order")
	require.Equal(t, []int{}, eval(t, "reshape", Attrs{"shape": []int{}}, ten([]int{1, 1}, 7)).Shape)

	// transpose: [[1 4] [2 5] [3 6]]
	require.Equal(t, []float64{1, 4, 2, 5, 3, 6}, eval(t, "transpose", nil, a).Data)
	// b[i][j][k] = 100i + 10j + k over [2,2,3]; perm [2,0,1] gives
	// out[k][i][j] = b[i][j][k].
	b := ten([]int{2, 2, 3}, 0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112)
	tr := eval(t, "transpose", Attrs{"perm": []int{2, 0, 1}}, b)
	require.Equal(t, []int{3, 2, 2}, tr.Shape)
	require.Equal(t, []float64{0, 10, 100, 110, 1, 11, 101, 111, 2, 12, 102, 112}, tr.Data)
	require.Equal(t, tr.Data, eval(t, "transpose", Attrs{"perm": []int{-1, 0, 1}}, b).Data)

	require.Equal(t, []int{2, 1, 3}, eval(t, "expand_dims", Attrs{"axis": 1}, a).Shape)
	require.Equal(t, []int{2, 3, 1}, eval(t, "expand_dims", Attrs{"axis": -1}, a).Shape)
	require.Equal(t, []int{1, 2, 3}, eval(t, "expand_dims", Attrs{"axis": -3}, a).Shape)
	c := ten([]int{1, 3, 1}, 1, 2, 3)
	require.Equal(t, []int{3}, eval(t, "squeeze", nil, c).Shape)
	require.Equal(t, []int{1, 3}, eval(t, "squeeze", Attrs{"axes": []int{-1}}, c).Shape)
	require.Equal(t, []int{}, eval(t, "squeeze", nil, ten([]int{1, 1}, 7)).Shape)

	// tile [[1 2 3] [4 5 6]] by [2, 2].
	require.Equal(t, []float64{
		1, 2, 3, 1, 2, 3,
		4, 5, 6, 4, 5, 6,
		1, 2, 3, 1, 2, 3,
		4, 5, 6, 4, 5, 6,
	}, eval(t, "tile", Attrs{"multiples": []int{2, 2}}, a).Data)
	// untile sums the tiles back: every element appears 4 times.
	tiled := eval(t, "tile", Attrs{"multiples": []int{2, 2}}, a)
	require.Equal(t, []float64{4, 8, 12, 16, 20, 24}, eval(t, "untile", Attrs{"shape": Shp(2, 3), "multiples": []int{2, 2}}, tiled).Data)

	// pad one row before, one column after, with 9.
	p := eval(t, "pad", Attrs{"paddings": [][]int{{1, 0}, {0, 1}}, "value": 9.0}, a)
	require.Equal(t, []int{3, 4}, p.Shape)
	require.Equal(t, []float64{9, 9, 9, 9, 1, 2, 3, 9, 4, 5, 6, 9}, p.Data)

	// slice x[1:3, 0:5:2] of a 3x5 matrix 0..14.
	m := ten([]int{3, 5}, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14)
	s := eval(t, "slice", Attrs{"begin": []int{1, 0}, "size": []int{-1, 5}, "strides": []int{1, 2}}, m)
	require.Equal(t, []int{2, 3}, s.Shape)
	require.Equal(t, []float64{5, 7, 9, 10, 12, 14}, s.Data)
	s = eval(t, "slice", Attrs{"begin": []int{0, 1}, "size": []int{1, 3}}, m)
	require.Equal(t, []float64{1, 2, 3}, s.Data)
	// size 4 with stride 3 takes indices 1 and 4.
	s = eval(t, "slice", Attrs{"begin": []int{2, 1}, "size": []int{1, 4}, "strides": []int{1, 3}}, m)
	require.Equal(t, []float64{11, 14}, s.Data)
	// unslice writes [1 2 3] where slice(begin [0,1], strides [1,2]) of a
	// [2,6] tensor read it.
	u := eval(t, "unslice", Attrs{"shape": Shp(2, 6), "begin": []int{1, 1}, "strides": []int{1, 2}}, ten([]int{1, 3}, 1, 2, 3))
	require.Equal(t, []float64{0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 0, 3}, u.Data)

	// concat along each axis, with three operands.
	col := ten([]int{2, 1}, 7, 8)
	require.Equal(t, []float64{1, 2, 3, 7, 4, 5, 6, 8}, eval(t, "concat", Attrs{"axis": 1}, a, col).Data)
	require.Equal(t, []float64{7, 1, 2, 3, 7, 8, 4, 5, 6, 8}, eval(t, "concat", Attrs{"axis": -1}, col, a, col).Data)
	require.Equal(t, []float64{1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6}, eval(t, "concat", nil, a, a).Data)
	require.Equal(t, []int{4, 3}, eval(t, "concat", nil, a, a).Shape)
}

// TestArrayOpsInferSymbolic checks how symbolic dimensions flow through
// the array ops' type rules.
func TestArrayOpsInferSymbolic(t *testing.T) {
	N, M := Sym("N"), Sym("M")
	cases := []struct {
		op    string
		in    []Shape
		attrs Attrs
		want  Shape
	}{
		{"reshape", []Shape{{N, Fixed(7), Fixed(7), Fixed(64)}}, Attrs{"shape": []int{-1, 3136}}, Shape{N, Fixed(3136)}},
		{"reshape", []Shape{{N, Fixed(12)}}, Attrs{"shape": []int{-1, 3, 4}}, Shape{N, Fixed(3), Fixed(4)}},
		{"reshape", []Shape{{Fixed(6), N}}, Attrs{"shape": []int{2, 3, -1}}, Shape{Fixed(2), Fixed(3), N}},
		{"reshape", []Shape{{Fixed(2), Fixed(6)}}, Attrs{"shape": []int{-1}}, Shp(12)},
		{"transpose", []Shape{{N, Fixed(3)}}, nil, Shape{Fixed(3), N}},
		{"expand_dims", []Shape{{N, Fixed(3)}}, Attrs{"axis": 1}, Shape{N, Fixed(1), Fixed(3)}},
		{"squeeze", []Shape{{N, Fixed(1), Fixed(3)}}, Attrs{"axes": []int{}}, Shape{N, Fixed(3)}},
		{"tile", []Shape{{N, Fixed(3)}}, Attrs{"multiples": []int{1, 2}}, Shape{N, Fixed(6)}},
		{"pad", []Shape{{N, Fixed(3)}}, Attrs{"paddings": [][]int{{0, 0}, {1, 2}}}, Shape{N, Fixed(6)}},
		{"slice", []Shape{{N, Fixed(5)}}, Attrs{"begin": []int{0, 1}, "size": []int{-1, -1}, "strides": []int{1, 2}}, Shape{N, Fixed(2)}},
		{"concat", []Shape{{N, Fixed(3)}, {N, Fixed(2)}}, Attrs{"axis": 1}, Shape{N, Fixed(5)}},
		{"concat", []Shape{{N, Fixed(3)}}, Attrs{"axis": 0}, Shape{N, Fixed(3)}},
		{"reshape_to", []Shape{{N, Fixed(12)}}, Attrs{"shape": Shape{N, Fixed(3), Fixed(4)}}, Shape{N, Fixed(3), Fixed(4)}},
		{"reshape_to", []Shape{{N, M}}, Attrs{"shape": Shape{M, Fixed(1), N}}, Shape{M, Fixed(1), N}},
	}
	for _, c := range cases {
		g := NewModule("t", "t")
		var ins []*Node
		for _, s := range c.in {
			ins = append(ins, g.MustApply(Input, nil, Attrs{"dtype": F32, "shape": s}))
		}
		n, err := g.Apply(MustLookup(c.op), ins, c.attrs.Clone())
		require.NoError(t, err, "%s %v", c.op, c.in)
		require.True(t, n.Type.Shape.Equal(c.want), "%s of %v: got %s, want %s", c.op, c.in, n.Type.Shape, c.want)
		// The gradient has each operand's (symbolic) type.
		dx := n.Op.Grad(&GradContext{Module: g}, n, []*Node{n})
		require.Len(t, dx, len(ins))
		for i, in := range ins {
			require.Equal(t, in.Type, dx[i].Type, "gradient %d of %s of %v", i, c.op, c.in)
		}
	}
}

// TestArrayOpsInferErrors checks the type rules' messages, which show the
// shapes involved.
func TestArrayOpsInferErrors(t *testing.T) {
	N, M := Sym("N"), Sym("M")
	cases := []struct {
		op    string
		in    []Shape
		attrs Attrs
		want  string
	}{
		{"reshape", []Shape{{N, Fixed(4)}}, Attrs{"shape": []int{-1, 2}}, "cannot reshape f32[N,4] to [-1,2]: the -1 dimension would be 2×N, which is not a single dimension; the other sizes must multiply to 4 so that -1 is N"},
		{"reshape", []Shape{{N, Fixed(7), Fixed(7), Fixed(64)}}, Attrs{"shape": []int{-1, 1000}}, "cannot reshape f32[N,7,7,64] to [-1,1000]: 3136 elements per N are not a multiple of 1000, the product of the other sizes"},
		{"reshape", []Shape{{N, Fixed(4)}}, Attrs{"shape": []int{4, 4}}, "cannot reshape f32[N,4] to [4,4]: the symbolic dimension N has no fixed size; write -1 for the dimension that holds it"},
		{"reshape", []Shape{{N, M}}, Attrs{"shape": []int{-1}}, "cannot reshape f32[N,M] to [-1]: the -1 dimension would be the product N×M, which is not a single dimension"},
		{"reshape", []Shape{Shp(2, 3)}, Attrs{"shape": []int{4, 2}}, "cannot reshape f32[2,3] to [4,2]: [2,3] has 6 elements, the new shape 8"},
		{"reshape", []Shape{Shp(2, 3)}, Attrs{"shape": []int{-1, -1}}, "cannot reshape f32[2,3] to [-1,-1]: at most one dimension can be -1"},
		{"reshape", []Shape{Shp(2, 3)}, Attrs{"shape": []int{0, -1}}, "cannot reshape f32[2,3] to [0,-1]: size 0 is not allowed: sizes are positive, or -1 for the one inferred dimension"},
		{"reshape", []Shape{Shp(2, 3)}, nil, "reshape needs the argument shape, e.g. reshape(x, shape = [-1, 10])"},
		{"transpose", []Shape{Shp(2, 3)}, Attrs{"perm": []int{0}}, "perm [0] has 1 entries, but f32[2,3] has rank 2"},
		{"transpose", []Shape{Shp(2, 3)}, Attrs{"perm": []int{1, -1}}, "perm [1,-1] is not a permutation: axis 1 is repeated"},
		{"transpose", []Shape{Shp(2, 3)}, Attrs{"perm": []int{0, 2}}, "perm [0,2]: axis 2 is out of range for f32[2,3]"},
		{"expand_dims", []Shape{Shp(2, 3)}, Attrs{"axis": 3}, "axis 3 is out of range for expand_dims of f32[2,3]: the result has rank 3, so axis must be in -3..2"},
		{"squeeze", []Shape{Shp(2, 1)}, Attrs{"axes": []int{0}}, "squeeze of f32[2,1]: axis 0 has size 2, not 1"},
		{"squeeze", []Shape{{N, Fixed(1)}}, Attrs{"axes": []int{0}}, "squeeze of f32[N,1]: axis 0 has size N, not 1"},
		{"tile", []Shape{{N, Fixed(3)}}, Attrs{"multiples": []int{2, 1}}, "cannot tile f32[N,3] by [2,1]: axis 0 is the symbolic dimension N, which can only be tiled once (multiple 1)"},
		{"tile", []Shape{Shp(2, 3)}, Attrs{"multiples": []int{2}}, "cannot tile f32[2,3] by [2]: multiples has 1 entries, one per axis needed (rank 2)"},
		{"tile", []Shape{Shp(2, 3)}, Attrs{"multiples": []int{2, 0}}, "cannot tile f32[2,3] by [2,0]: multiple 0 of axis 1 is not positive"},
		{"pad", []Shape{{N, Fixed(3)}}, Attrs{"paddings": [][]int{{1, 0}, {0, 0}}}, "cannot pad axis 0 of f32[N,3]: it is the symbolic dimension N, which cannot be padded"},
		{"pad", []Shape{Shp(2, 3)}, Attrs{"paddings": [][]int{{1, 0}}}, "paddings [[1,0]] has 1 pairs, but f32[2,3] has rank 2"},
		{"pad", []Shape{Shp(2, 3)}, Attrs{"paddings": [][]int{{1, 0}, {0, -1}}}, "paddings [[1,0],[0,-1]]: pair 1 must be [before, after] with counts >= 0"},
		{"slice", []Shape{Shp(4, 5)}, Attrs{"begin": []int{1, 2}, "size": []int{4, -1}}, "slice of f32[4,5]: begin 1 + size 4 of axis 0 runs past its size 4"},
		{"slice", []Shape{Shp(4, 5)}, Attrs{"begin": []int{4, 0}, "size": []int{-1, -1}}, "slice of f32[4,5]: begin 4 of axis 0 is out of range 0..3"},
		{"slice", []Shape{Shp(4, 5)}, Attrs{"begin": []int{0, 0}, "size": []int{1, 1}, "strides": []int{1, 0}}, "slice of f32[4,5]: stride 0 of axis 1 is not positive"},
		{"slice", []Shape{Shp(4, 5)}, Attrs{"begin": []int{0}, "size": []int{1, 1}}, "begin [0] has 1 entries, but f32[4,5] has rank 2"},
		{"slice", []Shape{{N, Fixed(5)}}, Attrs{"begin": []int{1, 0}, "size": []int{-1, -1}}, "slice of f32[N,5]: axis 0 is the symbolic dimension N, which can only be taken whole (begin 0, size -1, stride 1)"},
		{"concat", []Shape{Shp(2, 3), Shp(2, 4)}, nil, "operand 2 is f32[2,4], but operand 1 is f32[2,3]: dimension 1 differs (only axis 0 may)"},
		{"concat", []Shape{Shp(2, 3), Shp(2)}, Attrs{"axis": 1}, "operands have different ranks: f32[2,3] and f32[2]"},
		{"concat", []Shape{{N, Fixed(3)}, {N, Fixed(3)}}, nil, "cannot join f32[N,3] along axis 0: it is the symbolic dimension N, and a sum of dimensions is not a single dimension"},
		{"concat", []Shape{Shp(2, 3), Shp(2, 3)}, Attrs{"axis": 2}, "axis 2 is out of range for f32[2,3]"},
		{"concat", []Shape{{}, {}}, nil, "concat needs operands of rank at least 1, got f32[]"},
	}
	for _, c := range cases {
		g := NewModule("t", "t")
		var ins []*Node
		for _, s := range c.in {
			ins = append(ins, g.MustApply(Input, nil, Attrs{"dtype": F32, "shape": s}))
		}
		_, err := g.Apply(MustLookup(c.op), ins, c.attrs.Clone())
		require.EqualError(t, err, c.want, "%s %v %v", c.op, c.in, c.attrs)
	}
}
