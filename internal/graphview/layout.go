package graphview

import (
	"math"
	"slices"
	"sort"
)

// Layout parameters of the built-in renderer, in SVG pixels.
const (
	fontSize   = 10.0
	charWidth  = 6.0 // average advance of the 10px sans-serif font
	lineHeight = 12.0
	padX       = 8.0
	padY       = 5.0
	nodeSep    = 14.0 // horizontal gap between neighbours in a layer
	rankSep    = 36.0 // vertical gap between layers
	dummyWidth = 6.0  // the width a long edge takes where it crosses a layer
	margin     = 16.0
	titleSpace = 24.0
	// orderSweeps is the number of barycentric sweeps (alternately down
	// and up) that reorder the layers to reduce crossings.
	orderSweeps = 24
	// placeSweeps is the number of coordinate sweeps that pull nodes
	// over their neighbours.
	placeSweeps = 12
	// dummyWeight is how much more a long edge's bend points want to
	// sit straight than real nodes do.
	dummyWeight = 4.0
	// dummiesPerNode bounds the dummy vertices of long edges per node
	// of the graph (see dummyBudget).
	dummiesPerNode = 8
	// orderWork bounds the work of the ordering sweeps, in vertices and
	// edges visited: big graphs get fewer sweeps.
	orderWork = 4_000_000
	// transposeWork bounds the work of the neighbour swaps, in pairs of
	// edges compared.
	transposeWork = 20_000_000
	// groupPull is how much harder a neighbour in the same fused group
	// pulls than another one.
	groupPull = 4.0
)

// group returns the fused group of vertex v, or for a node of a region
// of a control-flow node a number standing for that region (after every
// fused group's), 0 for none and for dummies: the members of a group
// stay side by side in their layers.
func (l *layout) group(v int) int {
	if n := l.vs[v].node; n != nil {
		if n.Group == 0 && n.Region != 0 {
			return len(l.g.Groups) + n.Region
		}
		return n.Group
	}
	return 0
}

// vertex is a node of the layered graph: a real node, or a dummy where
// a long edge crosses a layer.
type vertex struct {
	node       *Node // nil for a dummy
	layer      int
	w, h       float64
	x, y       float64 // centre
	up, down   []int   // neighbours in the layer above and below
	pos        int     // index in its layer
	lastParent int     // for the initial order
}

// layout is the built-in layered drawing of a graph: longest-path
// layering, dummy vertices on long edges (shared by the edges of one
// source, within a budget linear in the graph's size), barycentric
// ordering sweeps (fewer on big graphs) that keep the ordering with the
// fewest crossings, and coordinates
// from weighted isotonic regression, so each vertex sits as near its
// neighbours as the ordering allows.
type layout struct {
	g      *Graph
	vs     []*vertex
	layers [][]int
	index  map[int]int // node ID -> vertex
	// paths are the vertices of each edge from source to target.
	paths [][]int
	// drawFrom is the index in its path where the drawing of each edge
	// starts: the edges of a source share the trunk of dummies that
	// the one with the deepest target draws.
	drawFrom []int
	// trunk is, for each edge, the edge that draws the part of its path
	// above drawFrom (itself when drawFrom is 0).
	trunk []int
	// direct marks the edges drawn as one curve, without dummies.
	direct        []bool
	edges         []edge
	width, height float64
	crossings     int
}

// newLayout lays g out.
func newLayout(g *Graph) *layout {
	l := &layout{g: g, index: map[int]int{}}
	l.rank()
	l.order()
	l.place()
	return l
}

// rank assigns layers: longest path from the sources, then, from the
// last node to the first, each node that has users moves down to just
// above its first user, so that operands (params, constants, and values
// only the gradients read) do not pull long edges from the top.
func (l *layout) rank() {
	g := l.g
	l.edges = g.edges()
	into := map[int][]int{}
	for _, e := range l.edges {
		into[e.to] = append(into[e.to], e.from)
	}
	layer := map[int]int{}
	consumers := map[int][]int{}
	for _, n := range g.Nodes {
		r := 0
		for _, in := range into[n.ID] {
			r = max(r, layer[in]+1)
			consumers[in] = append(consumers[in], n.ID)
		}
		layer[n.ID] = r
	}
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		n := g.Nodes[i]
		if len(consumers[n.ID]) == 0 {
			continue
		}
		lo := math.MaxInt
		for _, c := range consumers[n.ID] {
			lo = min(lo, layer[c])
		}
		layer[n.ID] = lo - 1
	}
	depth := 0
	for _, n := range g.Nodes {
		depth = max(depth, layer[n.ID]+1)
		lines := n.Label()
		w := 0
		for _, s := range lines {
			w = max(w, len([]rune(s)))
		}
		v := &vertex{node: n, layer: layer[n.ID], w: float64(w)*charWidth + 2*padX, h: float64(len(lines))*lineHeight + 2*padY}
		if n.Kind == KindInput {
			v.h += 6 // the point of the house
		}
		l.index[n.ID] = len(l.vs)
		l.vs = append(l.vs, v)
	}
	l.layers = make([][]int, depth)
	for i, v := range l.vs {
		l.layers[v.layer] = append(l.layers[v.layer], i)
	}
	l.route()
}

// route lays the edges into the layered graph. The edges leaving one
// source share one chain of dummy vertices (a trunk), one per layer
// down to the layer above their deepest target, and each edge branches
// off the trunk just above its target, so a value read all over the
// graph (a param, an activation the backward pass reads again) costs
// one dummy per layer crossed rather than one per edge and layer. When
// the trunks would still hold more than dummyBudget dummies, the edges
// spanning the most layers are drawn as single curves instead: they
// get no dummies and take no part in ordering and placement.
func (l *layout) route() {
	span := func(e edge) int { return l.vs[l.index[e.to]].layer - l.vs[l.index[e.from]].layer }
	limit := l.spanLimit(span)
	trunks := map[int][]int{} // source vertex -> its dummies, by layer below it
	l.paths = make([][]int, len(l.edges))
	l.drawFrom = make([]int, len(l.edges))
	l.direct = make([]bool, len(l.edges))
	// The edge with the deepest target of each source draws the trunk;
	// the others draw only their branch.
	owner := map[int]int{}
	for i, e := range l.edges {
		a, b := l.index[e.from], l.index[e.to]
		sp := span(e)
		if sp > limit {
			l.paths[i] = []int{a, b}
			l.direct[i] = true
			continue
		}
		trunk := trunks[a]
		for len(trunk) < sp-1 {
			prev := a
			if len(trunk) > 0 {
				prev = trunk[len(trunk)-1]
			}
			d := len(l.vs)
			r := l.vs[a].layer + 1 + len(trunk)
			l.vs = append(l.vs, &vertex{layer: r, w: dummyWidth, lastParent: prev})
			l.layers[r] = append(l.layers[r], d)
			l.link(prev, d)
			trunk = append(trunk, d)
		}
		trunks[a] = trunk
		path := append([]int{a}, trunk[:sp-1]...)
		l.link(path[len(path)-1], b)
		l.paths[i] = append(path, b)
		if o, ok := owner[a]; !ok || sp > span(l.edges[o]) {
			owner[a] = i
		}
	}
	l.trunk = make([]int, len(l.edges))
	for i, e := range l.edges {
		l.trunk[i] = i
		if o := owner[l.index[e.from]]; !l.direct[i] && o != i && len(l.paths[i]) > 2 {
			l.drawFrom[i] = len(l.paths[i]) - 2
			l.trunk[i] = o
		}
	}
}

// spanLimit returns the largest span (in layers) of an edge that is
// routed through dummies, so that the trunks hold at most dummyBudget
// dummies.
func (l *layout) spanLimit(span func(edge) int) int {
	// The trunk of source a needs max(spans of a's edges <= limit) - 1
	// dummies.
	spans := map[int][]int{}
	var sources []int
	maxSpan := 0
	for _, e := range l.edges {
		a := l.index[e.from]
		if _, ok := spans[a]; !ok {
			sources = append(sources, a)
		}
		sp := span(e)
		spans[a] = append(spans[a], sp)
		maxSpan = max(maxSpan, sp)
	}
	dummies := func(limit int) int {
		n := 0
		for _, a := range sources {
			deepest := 0
			for _, sp := range spans[a] {
				if sp <= limit {
					deepest = max(deepest, sp)
				}
			}
			n += max(0, deepest-1)
		}
		return n
	}
	budget := dummyBudget(len(l.g.Nodes))
	if dummies(maxSpan) <= budget {
		return maxSpan
	}
	// dummies is monotone in the limit: binary search for the largest
	// limit within the budget (a limit of 1 needs no dummies).
	lo, hi := 1, maxSpan
	for lo < hi {
		m := (lo + hi + 1) / 2
		if dummies(m) <= budget {
			lo = m
		} else {
			hi = m - 1
		}
	}
	return lo
}

// dummyBudget is the most dummy vertices a graph of n nodes gets.
func dummyBudget(n int) int { return dummiesPerNode*n + 2000 }

func (l *layout) link(a, b int) {
	l.vs[a].down = append(l.vs[a].down, b)
	l.vs[b].up = append(l.vs[b].up, a)
}

// order orders each layer to reduce edge crossings.
func (l *layout) order() {
	// Initial order: the first layer in IR order, every other one by the
	// mean position of the vertices above (a down sweep).
	l.renumber()
	for r := 1; r < len(l.layers); r++ {
		l.sortLayer(r, true)
	}
	best := l.countCrossings()
	saved := l.snapshot()
	for s := 0; s < l.sweeps() && best > 0; s++ {
		if s%2 == 0 {
			for r := len(l.layers) - 2; r >= 0; r-- {
				l.sortLayer(r, false)
			}
		} else {
			for r := 1; r < len(l.layers); r++ {
				l.sortLayer(r, true)
			}
		}
		if c := l.countCrossings(); c < best {
			best = c
			saved = l.snapshot()
		}
	}
	l.layers = saved
	l.renumber()
	l.transpose()
	l.crossings = l.countCrossings()
}

// sweeps is the number of ordering sweeps: orderSweeps, fewer when the
// layered graph is so big that they would cost more than orderWork.
func (l *layout) sweeps() int {
	size := len(l.vs)
	for _, v := range l.vs {
		size += len(v.down)
	}
	return max(2, min(orderSweeps, orderWork/max(1, size)))
}

// transpose swaps neighbours in a layer while that removes crossings
// with the layers above and below (the local refinement of the
// barycentric sweeps).
// It stops after about transposeWork edge pairs compared.
func (l *layout) transpose() {
	work := 0
	for round := 0; round < 8 && work < transposeWork; round++ {
		improved := false
		for _, layer := range l.layers {
			for i := 0; i+1 < len(layer) && work < transposeWork; i++ {
				a, b := layer[i], layer[i+1]
				va, vb := l.vs[a], l.vs[b]
				work += 2 * (len(va.up)*len(vb.up) + len(va.down)*len(vb.down) + 1)
				if l.pairCrossings(b, a) < l.pairCrossings(a, b) {
					layer[i], layer[i+1] = b, a
					l.vs[a].pos, l.vs[b].pos = i+1, i
					improved = true
				}
			}
		}
		if !improved {
			return
		}
	}
}

// pairCrossings counts the crossings among the edges of a and b (with
// the layers above and below) when a is just left of b.
func (l *layout) pairCrossings(a, b int) int {
	n := 0
	for _, nb := range [2]func(*vertex) []int{func(v *vertex) []int { return v.up }, func(v *vertex) []int { return v.down }} {
		for _, u := range nb(l.vs[a]) {
			for _, w := range nb(l.vs[b]) {
				if l.vs[u].pos > l.vs[w].pos {
					n++
				}
			}
		}
	}
	return n
}

func (l *layout) renumber() {
	for _, layer := range l.layers {
		for i, v := range layer {
			l.vs[v].pos = i
		}
	}
}

func (l *layout) snapshot() [][]int {
	out := make([][]int, len(l.layers))
	for i, layer := range l.layers {
		out[i] = slices.Clone(layer)
	}
	return out
}

// sortLayer orders layer r by the barycentre of each vertex's
// neighbours above (fromAbove) or below; a vertex without such
// neighbours keeps its place.
func (l *layout) sortLayer(r int, fromAbove bool) {
	layer := l.layers[r]
	type item struct {
		v, group int
		key      float64
	}
	items := make([]item, len(layer))
	grouped := false
	for i, v := range layer {
		vx := l.vs[v]
		items[i] = item{v: v, group: l.group(v), key: float64(vx.pos)}
		grouped = grouped || items[i].group != 0
		nb := vx.down
		if fromAbove {
			nb = vx.up
		}
		if len(nb) == 0 {
			continue
		}
		sum := 0.0
		for _, u := range nb {
			sum += float64(l.vs[u].pos)
		}
		// Scale to this layer's width so that keys of vertices with and
		// without neighbours compare.
		items[i].key = sum / float64(len(nb)) * float64(len(layer)) / float64(max(1, len(l.layers[l.vs[nb[0]].layer])))
	}
	// The members of a fused group share their mean key, so that they
	// stay side by side inside their cluster.
	if grouped {
		sum, cnt := map[int]float64{}, map[int]int{}
		for _, it := range items {
			if it.group != 0 {
				sum[it.group] += it.key
				cnt[it.group]++
			}
		}
		for i, it := range items {
			if it.group != 0 {
				items[i].key = sum[it.group] / float64(cnt[it.group])
			}
		}
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a.key != b.key {
			return a.key < b.key
		}
		return a.group < b.group
	})
	for i, it := range items {
		layer[i] = it.v
		l.vs[it.v].pos = i
	}
}

// countCrossings counts the edge crossings between adjacent layers by
// counting inversions.
func (l *layout) countCrossings() int {
	total := 0
	for r := 0; r+1 < len(l.layers); r++ {
		type pair struct{ a, b int }
		var ps []pair
		for _, v := range l.layers[r] {
			for _, u := range l.vs[v].down {
				ps = append(ps, pair{l.vs[v].pos, l.vs[u].pos})
			}
		}
		sort.Slice(ps, func(i, j int) bool {
			if ps[i].a != ps[j].a {
				return ps[i].a < ps[j].a
			}
			return ps[i].b < ps[j].b
		})
		seq := make([]int, len(ps))
		for i, p := range ps {
			seq[i] = p.b
		}
		total += inversions(seq, make([]int, len(seq)))
	}
	return total
}

// inversions counts the pairs i < j with s[i] > s[j] by merge sort,
// sorting s; tmp is scratch of the same length.
func inversions(s, tmp []int) int {
	if len(s) < 2 {
		return 0
	}
	m := len(s) / 2
	n := inversions(s[:m], tmp[:m]) + inversions(s[m:], tmp[m:])
	i, j, k := 0, m, 0
	for i < m && j < len(s) {
		if s[j] < s[i] {
			tmp[k] = s[j]
			n += m - i
			j++
		} else {
			tmp[k] = s[i]
			i++
		}
		k++
	}
	k += copy(tmp[k:], s[i:m])
	copy(tmp[k:], s[j:])
	copy(s, tmp)
	return n
}

// place assigns coordinates: layers stacked top to bottom, and in each
// layer x positions that keep the order and the gaps while pulling each
// vertex toward its neighbours, sweeping down and up.
func (l *layout) place() {
	y := margin + titleSpace
	for _, layer := range l.layers {
		h := 0.0
		for _, v := range layer {
			h = max(h, l.vs[v].h)
		}
		for _, v := range layer {
			l.vs[v].y = y + h/2
		}
		y += h + rankSep
	}
	l.height = y - rankSep + margin
	for _, layer := range l.layers {
		x := 0.0
		for _, v := range layer {
			l.vs[v].x = x + l.vs[v].w/2
			x += l.vs[v].w + nodeSep
		}
	}
	for s := 0; s < placeSweeps; s++ {
		switch s % 3 {
		case 0:
			for r := 1; r < len(l.layers); r++ {
				l.pull(r, true, false)
			}
		case 1:
			for r := len(l.layers) - 2; r >= 0; r-- {
				l.pull(r, false, true)
			}
		default:
			for r := range l.layers {
				l.pull(r, true, true)
			}
		}
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range l.vs {
		lo = min(lo, v.x-v.w/2)
		hi = max(hi, v.x+v.w/2)
	}
	if len(l.vs) == 0 {
		lo, hi = 0, 0
	}
	for _, v := range l.vs {
		v.x += margin - lo
	}
	l.width = max(hi-lo+2*margin, 1.2*charWidth*float64(len([]rune(l.g.title())))+2*margin)
}

// pull moves layer r toward the mean x of each vertex's neighbours
// above and/or below, keeping the order and gaps.
func (l *layout) pull(r int, above, below bool) {
	layer := l.layers[r]
	n := len(layer)
	if n == 0 {
		return
	}
	target := make([]float64, n)
	weight := make([]float64, n)
	offset := make([]float64, n)
	for i, id := range layer {
		v := l.vs[id]
		if i > 0 {
			p := l.vs[layer[i-1]]
			offset[i] = offset[i-1] + p.w/2 + nodeSep + v.w/2
		}
		// Neighbours in the same fused group pull harder, so that the
		// group stands in a compact column.
		sum, cnt := 0.0, 0.0
		add := func(u int) {
			k := 1.0
			if gr := l.group(id); gr != 0 && gr == l.group(u) {
				k = groupPull
			}
			sum += k * l.vs[u].x
			cnt += k
		}
		if above {
			for _, u := range v.up {
				add(u)
			}
		}
		if below {
			for _, u := range v.down {
				add(u)
			}
		}
		weight[i] = 1
		if v.node == nil {
			weight[i] = dummyWeight
		}
		if cnt == 0 {
			target[i] = v.x
			weight[i] = 0.01 // free to move for its neighbours
		} else {
			target[i] = sum / cnt
		}
		target[i] -= offset[i]
	}
	xs := isotonic(target, weight)
	for i, id := range layer {
		l.vs[id].x = xs[i] + offset[i]
	}
}

// isotonic returns the non-decreasing sequence nearest to t in weighted
// least squares (pool adjacent violators).
func isotonic(t, w []float64) []float64 {
	type block struct {
		mean, weight float64
		n            int
	}
	var bs []block
	for i := range t {
		bs = append(bs, block{t[i], w[i], 1})
		for len(bs) > 1 && bs[len(bs)-2].mean > bs[len(bs)-1].mean {
			a, b := bs[len(bs)-2], bs[len(bs)-1]
			tw := a.weight + b.weight
			bs = bs[:len(bs)-2]
			bs = append(bs, block{(a.mean*a.weight + b.mean*b.weight) / tw, tw, a.n + b.n})
		}
	}
	out := make([]float64, 0, len(t))
	for _, b := range bs {
		for range b.n {
			out = append(out, b.mean)
		}
	}
	return out
}
