package ir

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// verifyModule is a small valid training module: y = neg(x * W), loss =
// sum(square(y)), and an update of W that reads the product's W.
type verifyModule struct {
	g                          *Module
	x, w, prod, y, loss, value *Node
	update                     *Node
}

func newVerifyModule(t *testing.T) *verifyModule {
	t.Helper()
	g := NewModule("T", "t.flow")
	m := &verifyModule{g: g}
	m.x = g.MustApply(Input, nil, Attrs{"dtype": F32, "shape": Shp(3)})
	m.x.Name = "x"
	g.Inputs = append(g.Inputs, m.x)
	m.w = g.MustApply(Param, nil, Attrs{"dtype": F32, "shape": Shp(3)})
	m.w.Name = "W"
	g.Params = append(g.Params, m.w)
	m.prod = g.MustApply(Mul, []*Node{m.x, m.w}, nil)
	m.y = g.MustApply(Neg, []*Node{m.prod}, nil)
	g.AddOutput("y", m.y)
	m.loss = g.MustApply(Sum, []*Node{g.MustApply(Square, []*Node{m.y}, nil)}, nil)
	g.SetLoss(m.loss)
	m.value = g.MustApply(Exp, []*Node{m.x}, nil)
	m.update = g.MustApply(Assign, []*Node{m.w, m.value}, nil)
	m.update.Deps = []*Node{m.prod}
	g.AddUpdate(m.update)
	g.UpdatesOrdered = true
	require.NoError(t, Verify(g))
	return m
}

// requireVerifyError checks that Verify fails on g with a message that
// names node n (when not nil) and contains want.
func requireVerifyError(t *testing.T, g *Module, n *Node, want string) {
	t.Helper()
	err := Verify(g)
	require.Error(t, err)
	if n != nil {
		require.Contains(t, err.Error(), n.String())
	}
	require.Contains(t, err.Error(), want)
}

// TestVerifyAcceptsValidModule checks the module the other tests break.
func TestVerifyAcceptsValidModule(t *testing.T) {
	newVerifyModule(t)
}

func TestVerifyOutOfOrderNode(t *testing.T) {
	m := newVerifyModule(t)
	i, j := slices.Index(m.g.Body.Nodes, m.prod), slices.Index(m.g.Body.Nodes, m.y)
	m.g.Body.Nodes[i], m.g.Body.Nodes[j] = m.y, m.prod
	requireVerifyError(t, m.g, m.y, "comes after it in the body (the nodes are not in a topological order)")
}

func TestVerifyOperandOutsideBody(t *testing.T) {
	m := newVerifyModule(t)
	m.g.Body.Nodes = slices.DeleteFunc(m.g.Body.Nodes, func(n *Node) bool { return n == m.prod })
	requireVerifyError(t, m.g, m.y, "is not a node of the body")
}

// TestVerifyClosedRegions gives a node a region whose node reads a value
// of the body: regions other than the body are closed.
func TestVerifyClosedRegions(t *testing.T) {
	m := newVerifyModule(t)
	r := &Region{Owner: m.y}
	m.y.Attrs["body"] = r
	var inner *Node
	m.g.Within(r, func() {
		a := m.g.MustApply(Const, nil, Attrs{"dtype": F32, "value": 2.0})
		inner = m.g.MustApply(Neg, []*Node{a}, nil)
		r.Results = []*Node{inner}
	})
	require.NoError(t, Verify(m.g), "a region using its own nodes")

	m.g.Within(r, func() {
		inner = m.g.MustApply(Neg, []*Node{m.prod}, nil)
		r.Results = []*Node{inner}
	})
	require.Equal(t, []*Node{m.prod}, r.Captures())
	requireVerifyError(t, m.g, inner, "is defined outside region body of "+m.y.String()+", which is closed")

	r.Nodes = r.Nodes[:len(r.Nodes)-1]
	requireVerifyError(t, m.g, nil, "yields "+inner.String()+", which is not one of its values")
}

func TestVerifyRegionAndID(t *testing.T) {
	m := newVerifyModule(t)
	m.y.Region = &Region{}
	requireVerifyError(t, m.g, m.y, "its Region is not the body")

	m = newVerifyModule(t)
	m.y.ID = m.prod.ID
	requireVerifyError(t, m.g, m.y, "is already the ID of")

	m = newVerifyModule(t)
	m.g.Body.Nodes = append(m.g.Body.Nodes, m.y)
	requireVerifyError(t, m.g, m.y, "listed twice")
}

func TestVerifyWrongType(t *testing.T) {
	m := newVerifyModule(t)
	m.y.Type = Type{DType: F32, Shape: Shp(4)}
	requireVerifyError(t, m.g, m.y, "has type f32[4], but its op infers f32[3]")

	m = newVerifyModule(t)
	m.y.Type = Type{DType: I32, Shape: Shp(3)}
	m.prod.Type = m.y.Type
	err := Verify(m.g)
	require.Error(t, err)
	require.Contains(t, err.Error(), m.prod.String()+": has type i32[3], but its op infers f32[3]")
}

// TestVerifyInfersOnACopy checks that re-inferring a type leaves the
// node's attributes as they were, though Infer may normalize them
// (transpose sets its default perm).
func TestVerifyInfersOnACopy(t *testing.T) {
	m := newVerifyModule(t)
	tr := m.g.MustApply(Transpose, []*Node{m.x}, nil)
	delete(tr.Attrs, "perm")
	require.NoError(t, Verify(m.g))
	require.False(t, tr.Attrs.Has("perm"))
}

func TestVerifyBadAttrValue(t *testing.T) {
	m := newVerifyModule(t)
	m.y.Attrs["scale"] = float32(2)
	requireVerifyError(t, m.g, m.y, "attribute scale: attribute value 2 has type float32, not an attribute type")
}

func TestVerifyRoots(t *testing.T) {
	m := newVerifyModule(t)
	lost := m.g.MustApply(Neg, []*Node{m.x}, nil)
	m.g.Body.Nodes = m.g.Body.Nodes[:len(m.g.Body.Nodes)-1]
	m.g.AddOutput("lost", lost)
	requireVerifyError(t, m.g, lost, "the predict program's result "+lost.String()+" is not a node of the body")

	m = newVerifyModule(t)
	m.g.Grads[m.w] = lost
	requireVerifyError(t, m.g, nil, "the gradient of W "+lost.String()+" is not a node of the body")

	m = newVerifyModule(t)
	m.g.Body.Nodes = slices.DeleteFunc(m.g.Body.Nodes, func(n *Node) bool { return n == m.x })
	requireVerifyError(t, m.g, m.x, "input "+m.x.String()+" is not a node of the body")

	m = newVerifyModule(t)
	m.g.AddUpdate(m.y)
	requireVerifyError(t, m.g, m.y, "the train program's effect "+m.y.String()+" is not an update")
}

// TestVerifyUpdateAfterReaders checks the control edges: an update of W
// must come after the product that reads W, through data or an edge.
func TestVerifyUpdateAfterReaders(t *testing.T) {
	m := newVerifyModule(t)
	m.update.Deps = nil
	requireVerifyError(t, m.g, m.update, "updates param W but does not come after "+m.prod.String()+", which reads it")

	m.g.UpdatesOrdered = false
	require.NoError(t, Verify(m.g), "the edges are checked once the compiler has made them")
}

// TestVerifyTupleUses checks that a tuple is read by get only, when the
// op exists.
func TestVerifyTupleUses(t *testing.T) {
	if _, ok := Lookup("get"); !ok {
		t.Skip("no get op yet")
	}
	m := newVerifyModule(t)
	m.prod.Type = Tuple(m.prod.Type)
	err := Verify(m.g)
	require.Error(t, err)
	require.Contains(t, err.Error(), "which only get reads")
}
