package graphview

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// deepSource is a model with a chain of n dense layers trained with
// Adam: many params and activations, each read again far below by the
// backward pass and the updates, the graph shape that makes long edges
// the bulk of a layered drawing.
func deepSource(n int) string {
	var b strings.Builder
	b.WriteString("model Deep {\n    input x: f32[N, 16]\n    input y: f32[N, 16]\n")
	for k := 1; k <= n; k++ {
		fmt.Fprintf(&b, "    param W%d: f32[16, 16] = glorot_uniform\n    param b%d: f32[16] = zeros\n", k, k)
	}
	b.WriteString("    h0 = x\n")
	for k := 1; k <= n; k++ {
		fmt.Fprintf(&b, "    h%d = relu(h%d @ W%d + b%d)\n", k, k-1, k, k)
	}
	fmt.Fprintf(&b, "    loss = mean(square(h%d - y))\n    output h%d\n    train loss with adam(lr = 0.001)\n}\n", n, n)
	return b.String()
}

// bendPoints is the number of bend points the drawing of the edges
// has, and the number of edges drawn as one curve without bend points.
func (l *layout) bendPoints() (bends, direct int) {
	for i, p := range l.paths {
		if l.direct[i] {
			direct++
			continue
		}
		bends += len(p) - 2 - l.drawFrom[i]
	}
	return bends, direct
}

// TestDeepGraphWorkIsBounded lays out the training graph of a 75-layer
// network (over 3,000 nodes, 390 layers) and bounds its work in
// deterministic measures: dummy vertices, bend points, ordering sweeps
// and SVG bytes. One dummy per edge and layer crossed would need 150,000
// bend points and a 9 MB SVG.
func TestDeepGraphWorkIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a 3,000-node graph")
	}
	_, v := compile(t, "deep.flow", []byte(deepSource(75)))
	require.Greater(t, len(v.Nodes), 3000)
	l := newLayout(v)
	// The independent reference: the bend points of one dummy chain per
	// edge.
	perEdge := 0
	for _, e := range l.edges {
		perEdge += l.vs[l.index[e.to]].layer - l.vs[l.index[e.from]].layer - 1
	}
	bends, direct := l.bendPoints()
	dummies := len(l.vs) - len(v.Nodes)
	svg := SVG(v)
	t.Logf("%d nodes, %d edges, %d layers: %d dummies, %d bend points drawn (%d with one chain per edge), %d edges drawn direct, %d sweeps, %d crossings, SVG %d bytes",
		len(v.Nodes), len(l.edges), len(l.layers), dummies, bends, perEdge, direct, l.sweeps(), l.crossings, len(svg))
	require.LessOrEqual(t, dummies, dummyBudget(len(v.Nodes)))
	require.Equal(t, dummies, bends, "each dummy is drawn once")
	require.Less(t, bends, perEdge/4)
	require.Less(t, direct, len(l.edges)/10, "most edges are routed between the nodes")
	size := len(l.vs)
	for _, x := range l.vs {
		size += len(x.down)
	}
	require.LessOrEqual(t, l.sweeps()*size, max(orderWork, 2*size))
	require.Less(t, len(svg), 10<<20)
	require.Equal(t, naiveCrossings(l), l.crossings)
	// Still drawable: no overlaps, every edge pointing down.
	doc := parseSVG(t, svg)
	require.Len(t, doc.groups["node"], len(v.Nodes))
	require.Len(t, doc.groups["edge"], len(v.edges()))
	for _, layer := range l.layers {
		for i := 1; i < len(layer); i++ {
			a, b := l.vs[layer[i-1]], l.vs[layer[i]]
			require.LessOrEqual(t, a.x+a.w/2+nodeSep, b.x-b.w/2+1e-6)
		}
	}
	for _, e := range l.edges {
		require.Less(t, l.vs[l.index[e.from]].y, l.vs[l.index[e.to]].y)
	}
	// Deterministic: a second compilation draws the same bytes.
	_, v2 := compile(t, "deep.flow", []byte(deepSource(75)))
	require.Equal(t, string(svg), string(SVG(v2)))
}

// TestTrunksShareDummies checks the routing on a hand-built graph: a
// source read two, three and four layers below shares one chain of
// three dummies, and the edges branch off it.
func TestTrunksShareDummies(t *testing.T) {
	g := &Graph{Name: "T"}
	add := func(id int, in ...int) {
		g.Nodes = append(g.Nodes, &Node{ID: id, Kind: KindOp, Op: "op", Inputs: in})
	}
	add(1)
	add(2, 1)
	add(3, 2, 1)
	add(4, 3, 1)
	add(5, 4, 1)
	l := newLayout(g)
	require.Len(t, l.layers, 5)
	require.Len(t, l.vs, 5+3) // 1 → 2 direct, the trunk of 1 crosses layers 1..3
	for i, e := range l.edges {
		p := l.paths[i]
		require.Equal(t, l.index[e.from], p[0])
		require.Equal(t, l.index[e.to], p[len(p)-1])
		for j := 1; j < len(p); j++ {
			require.Equal(t, l.vs[p[j-1]].layer+1, l.vs[p[j]].layer)
		}
		if e.from == 1 && e.to != 5 {
			require.Equal(t, len(p)-2, l.drawFrom[i], "%v branches off the trunk", e)
		} else {
			require.Zero(t, l.drawFrom[i], "%v draws its whole path", e)
		}
	}
	bends, direct := l.bendPoints()
	require.Equal(t, 3, bends)
	require.Zero(t, direct)
	require.Zero(t, l.crossings)
}

func BenchmarkDeepLayout(b *testing.B) {
	_, v := compile(b, "deep.flow", []byte(deepSource(75)))
	b.ResetTimer()
	for range b.N {
		SVG(v)
	}
}

// TestSweepsShrinkWithSize checks the ordering budget: all sweeps for a
// small graph, fewer for a big one so that sweeps × size stays within
// orderWork, and never fewer than two.
func TestSweepsShrinkWithSize(t *testing.T) {
	sized := func(vertices, degree int) *layout {
		v := &vertex{down: make([]int, degree)}
		l := &layout{vs: make([]*vertex, vertices)}
		for i := range l.vs {
			l.vs[i] = v
		}
		return l
	}
	require.Equal(t, orderSweeps, sized(1000, 2).sweeps())
	require.Equal(t, 4, sized(250_000, 3).sweeps()) // 1,000,000 vertices and edges
	require.Equal(t, 2, sized(10_000_000, 1).sweeps())
}
