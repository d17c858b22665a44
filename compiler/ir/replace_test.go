package ir

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReplaceRedirectsUsesAndKeepsNames checks Replace by hand on
// y = neg(a), a = add(x, x) replaced by b = mul(x, 2): y reads b, a leaves
// the graph, the output follows, and b takes a's source name since it
// has none; a named replacement keeps its own.
func TestReplaceRedirectsUsesAndKeepsNames(t *testing.T) {
	g := NewModule("T", "t.flow")
	x := g.MustApply(Input, nil, Attrs{"dtype": F32, "shape": Shp(3)})
	x.Name = "x"
	a := g.MustApply(Add, []*Node{x, x}, nil)
	a.Name = "a"
	y := g.MustApply(Neg, []*Node{a}, nil)
	g.AddOutput("a", a)
	two := g.MustApply(Const, nil, Attrs{"dtype": F32, "shape": Shape{}, "values": []float64{2}})
	b := g.MustApply(Mul, []*Node{x, two}, nil)
	g.Replace(a, b)
	require.Same(t, b, y.Inputs[0])
	require.Same(t, b, g.Outputs()[0])
	require.NotContains(t, g.Body.Nodes, a)
	require.Equal(t, "a", b.Name, "the replacement takes the replaced node's name")

	c := g.MustApply(Mul, []*Node{x, two}, nil)
	c.Name = "c"
	g.Replace(b, c)
	require.Equal(t, "c", c.Name, "a named replacement keeps its name")
	require.Same(t, c, y.Inputs[0])
}

// TestReplaceKeepsGradOf checks that a gradient's replacement inherits
// its GradOf when it is a gradient with neither a name nor a GradOf, and
// that a forward replacement does not.
func TestReplaceKeepsGradOf(t *testing.T) {
	g := NewModule("T", "t.flow")
	x := g.MustApply(Input, nil, Attrs{"dtype": F32, "shape": Shp(3)})
	x.Name = "x"
	g.SetOrigin(x.Pos, Backward)
	d := g.MustApply(Add, []*Node{x, x}, nil)
	d.GradOf = x
	y := g.MustApply(Neg, []*Node{d}, nil)
	e := g.MustApply(Mul, []*Node{x, x}, nil)
	g.Replace(d, e)
	require.Same(t, e, y.Inputs[0])
	require.Same(t, x, e.GradOf, "a gradient replacement takes the GradOf")

	g.SetOrigin(x.Pos, Forward)
	f := g.MustApply(Sub, []*Node{x, x}, nil)
	g.Replace(e, f)
	require.Nil(t, f.GradOf, "a forward replacement is no gradient")
}

// TestUsersCountsOperandPositions checks the use index: a node read twice
// by one user is listed twice, users come in graph order, and roots are
// not uses.
func TestUsersCountsOperandPositions(t *testing.T) {
	g := NewModule("T", "t.flow")
	x := g.MustApply(Input, nil, Attrs{"dtype": F32, "shape": Shp(3)})
	a := g.MustApply(Add, []*Node{x, x}, nil)
	y := g.MustApply(Neg, []*Node{x}, nil)
	g.AddOutput("a", a)
	g.AddOutput("y", y)
	users := g.Users()
	require.Equal(t, []*Node{a, a, y}, users[x])
	require.Empty(t, users[a], "an output is a root, not a use")
	require.Empty(t, users[y])
}
