package graphview

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"slices"
	"strconv"
	"strings"
)

// SVG draws g with the built-in layered layout. Each node is a
// <g class="node" id="n<ID>">, each edge a <g class="edge"
// id="e<from>_<to>_<k>">, each fused group a <g class="cluster">; every
// one has a <title> that viewers show on hover. The edges leaving one
// node share one line down to where they branch off: the edge with the
// deepest target draws it, and each other one draws its branch and
// names that edge in its data-trunk attribute.
func SVG(g *Graph) []byte {
	l := newLayout(g)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="Helvetica,Arial,sans-serif" font-size="%s">`+"\n",
		num(l.width), num(l.height), num(l.width), num(l.height), num(fontSize))
	fmt.Fprintf(&b, "<title>%s</title>\n", esc(g.title()))
	b.WriteString("<defs>\n")
	for _, m := range []struct{ id, color string }{{"fwd", colorEdge}, {"grad", colorEdgeGrad}, {"update", colorEdgeUpd}} {
		fmt.Fprintf(&b, `<marker id="arrow-%s" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,1 L10,5 L0,9 z" fill="%s"/></marker>`+"\n", m.id, m.color)
	}
	b.WriteString("</defs>\n")
	b.WriteString(`<g class="graph">` + "\n")
	fmt.Fprintf(&b, `<rect class="background" x="0" y="0" width="%s" height="%s" fill="#ffffff"/>`+"\n", num(l.width), num(l.height))
	fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle" font-size="12">%s</text>`+"\n", num(l.width/2), num(margin+8), esc(g.title()))
	l.writeRegions(&b)
	l.writeClusters(&b)
	l.writeEdges(&b)
	l.writeNodes(&b)
	b.WriteString("</g>\n</svg>\n")
	return b.Bytes()
}

// writeRegions shades the region of each control-flow node, in a
// labelled box around its nodes and those of the regions nested in it
// (so nested regions are darker). The layout keeps a region's own nodes
// side by side, but does not reserve the box: another node may sit
// inside it, and the hover text of each node names its region.
func (l *layout) writeRegions(b *bytes.Buffer) {
	for _, r := range l.g.Regions {
		rects := l.regionBoxes(r.ID)
		if len(rects) == 0 {
			continue
		}
		var d strings.Builder
		for _, q := range rects {
			fmt.Fprintf(&d, "M%s,%s H%s V%s H%s Z ", num(q[0]), num(q[1]), num(q[2]), num(q[3]), num(q[0]))
		}
		label := r.Label(l.g)
		fmt.Fprintf(b, `<g class="region" id="region%d"><title>%s</title>`, r.ID, esc("region "+label))
		fmt.Fprintf(b, `<path d="%s" fill="%s" fill-opacity="0.10" stroke="none"/>`, strings.TrimSpace(d.String()), colorRegion)
		fmt.Fprintf(b, `<text x="%s" y="%s" font-size="8" fill="%s">%s</text></g>`+"\n", num(rects[0][0]+3), num(rects[0][1]+8), colorRegion, esc(label))
	}
}

// regionBoxes returns the box of region id as rectangles x0, y0, x1, y1
// from the top layer down: per layer, a box around the nodes there of
// the region and of the regions nested in it, joined to the boxes of
// the layers above and below; the first has room for the label.
func (l *layout) regionBoxes(id int) [][4]float64 {
	in := func(n *Node) bool {
		for r := n.Region; r != 0; r = l.g.Regions[r-1].Parent {
			if r == id {
				return true
			}
		}
		return false
	}
	spans := map[int][4]float64{}
	var layers []int
	for _, n := range l.g.Nodes {
		if !in(n) {
			continue
		}
		v := l.vs[l.index[n.ID]]
		s, ok := spans[v.layer]
		if !ok {
			s = [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
			layers = append(layers, v.layer)
		}
		spans[v.layer] = [4]float64{min(s[0], v.x-v.w/2), min(s[1], v.y-v.h/2), max(s[2], v.x+v.w/2), max(s[3], v.y+v.h/2)}
	}
	slices.Sort(layers)
	// A nested region's box sits inside its parent's: the deeper, the
	// tighter.
	depth := 0
	for r := l.g.Regions[id-1].Parent; r != 0; r = l.g.Regions[r-1].Parent {
		depth++
	}
	px, py := max(3, 14-4*float64(depth)), max(2, 8-2*float64(depth))
	var out [][4]float64
	for k, layer := range layers {
		s := spans[layer]
		q := [4]float64{s[0] - px, s[1] - py, s[2] + px, s[3] + py}
		if k > 0 && layers[k-1] == layer-1 {
			q[1] = s[1] - rankSep/2 - 1
		} else if k == 0 {
			q[1] -= 10 // room for the label
		}
		if k+1 < len(layers) && layers[k+1] == layer+1 {
			q[3] = s[3] + rankSep/2 + 1
		}
		out = append(out, q)
	}
	return out
}

// writeClusters shades each fused group: per layer, a box around its
// members there, tall enough to meet the boxes of the layers above and
// below, all in one path so that the union is shaded once.
func (l *layout) writeClusters(b *bytes.Buffer) {
	for i, ids := range l.g.Groups {
		type span struct{ x0, x1, y0, y1 float64 }
		spans := map[int]*span{}
		var layers []int
		for _, id := range ids {
			v := l.vs[l.index[id]]
			s := spans[v.layer]
			if s == nil {
				s = &span{x0: v.x - v.w/2, x1: v.x + v.w/2, y0: v.y - v.h/2, y1: v.y + v.h/2}
				spans[v.layer] = s
				layers = append(layers, v.layer)
				continue
			}
			s.x0, s.x1 = min(s.x0, v.x-v.w/2), max(s.x1, v.x+v.w/2)
			s.y0, s.y1 = min(s.y0, v.y-v.h/2), max(s.y1, v.y+v.h/2)
		}
		slices.Sort(layers)
		var d strings.Builder
		for k, r := range layers {
			s := spans[r]
			x0, x1, y0, y1 := s.x0-6, s.x1+6, s.y0-4, s.y1+4
			if k > 0 && layers[k-1] == r-1 {
				y0 = s.y0 - rankSep/2 - 1
			} else if k == 0 {
				y0 -= 9 // room for the label
			}
			if k+1 < len(layers) && layers[k+1] == r+1 {
				y1 = s.y1 + rankSep/2 + 1
			}
			fmt.Fprintf(&d, "M%s,%s H%s V%s H%s Z ", num(x0), num(y0), num(x1), num(y1), num(x0))
		}
		first := spans[layers[0]]
		fmt.Fprintf(b, `<g class="cluster" id="fused%d"><title>fused group %d</title>`, i+1, i+1)
		fmt.Fprintf(b, `<path d="%s" fill="%s" fill-opacity="0.09" stroke="none"/>`, strings.TrimSpace(d.String()), colorCluster)
		fmt.Fprintf(b, `<text x="%s" y="%s" font-size="8" fill="%s">fused %d</text></g>`+"\n", num(first.x0-4), num(first.y0-6), colorCluster, i+1)
	}
}

func (l *layout) writeEdges(b *bytes.Buffer) {
	for i, e := range l.edges {
		to := l.g.Node(e.to)
		path := l.paths[i]
		var d strings.Builder
		src, dst := l.vs[path[0]], l.vs[path[len(path)-1]]
		px, py := src.x, src.y+src.h/2
		if k := l.drawFrom[i]; k > 0 {
			// The trunk above is drawn by the edge of the same source
			// with the deepest target: start at the branch point.
			px, py = l.vs[path[k]].x, l.vs[path[k]].y
		}
		fmt.Fprintf(&d, "M%s,%s", num(px), num(py))
		if l.direct[i] {
			// A long edge without bend points: one curve, steep at both
			// ends.
			y := dst.y - dst.h/2
			dy := min((y-py)/2, 4*rankSep)
			fmt.Fprintf(&d, " C%s,%s %s,%s %s,%s", num(px), num(py+dy), num(dst.x), num(y-dy), num(dst.x), num(y))
		}
		for j := l.drawFrom[i] + 1; j < len(path) && !l.direct[i]; j++ {
			v := l.vs[path[j]]
			x, y := v.x, v.y
			if j == len(path)-1 {
				y = dst.y - dst.h/2
			}
			my := (py + y) / 2
			fmt.Fprintf(&d, " C%s,%s %s,%s %s,%s", num(px), num(my), num(x), num(my), num(x), num(y))
			px, py = x, y
		}
		from := l.g.Node(e.from)
		role := to.Role
		if role != "grad" && role != "update" {
			role = "fwd"
		}
		trunk := ""
		if o := l.trunk[i]; o != i {
			trunk = fmt.Sprintf(` data-trunk="%s"`, l.edges[o].id())
		}
		dash, what := "", ""
		switch e.kind {
		case edgeBind:
			dash, what = ` stroke-dasharray="4,3"`, " (binds a block argument)"
		case edgeYield:
			dash, what = ` stroke-dasharray="4,3"`, " (a result of a region)"
		}
		fmt.Fprintf(b, `<g class="edge" id="%s"%s><title>%s</title><path d="%s" fill="none" stroke="%s" stroke-width="0.8"%s marker-end="url(#arrow-%s)"/></g>`+"\n",
			e.id(), trunk, esc(from.ref()+" → "+to.ref()+what), d.String(), edgeColor(to), dash, role)
	}
}

func (l *layout) writeNodes(b *bytes.Buffer) {
	for _, n := range l.g.Nodes {
		v := l.vs[l.index[n.ID]]
		color, width := l.g.outline(n)
		fmt.Fprintf(b, `<g class="node" id="n%d"><title>%s</title>`, n.ID, esc(l.g.Details(n)))
		x0, y0, w, h := v.x-v.w/2, v.y-v.h/2, v.w, v.h
		shape := func(dx float64) string {
			attrs := fmt.Sprintf(`fill="%s" stroke="%s" stroke-width="%s"`, fill(n), color, num(width))
			switch n.Kind {
			case KindInput:
				pts := [][2]float64{{x0 - dx, y0 - dx}, {x0 + w + dx, y0 - dx}, {x0 + w + dx, y0 + h - 6}, {x0 + w/2, y0 + h + dx}, {x0 - dx, y0 + h - 6}}
				return `<polygon points="` + points(pts) + `" ` + attrs + "/>"
			case KindParam:
				return fmt.Sprintf(`<path d="M%s,%s l4,-4 h%s v%s l-4,4" %s/><rect x="%s" y="%s" width="%s" height="%s" %s/>`,
					num(x0-dx), num(y0-dx), num(w+2*dx), num(h+2*dx), attrs,
					num(x0-dx), num(y0-dx), num(w+2*dx), num(h+2*dx), attrs)
			case KindConst:
				pts := [][2]float64{{x0 - dx, y0 - dx}, {x0 + w - 6 + dx, y0 - dx}, {x0 + w + dx, y0 + 6 - dx}, {x0 + w + dx, y0 + h + dx}, {x0 - dx, y0 + h + dx}}
				return `<polygon points="` + points(pts) + `" ` + attrs + "/>"
			}
			return fmt.Sprintf(`<rect x="%s" y="%s" width="%s" height="%s" rx="5" %s/>`, num(x0-dx), num(y0-dx), num(w+2*dx), num(h+2*dx), attrs)
		}
		if marked(n) {
			b.WriteString(shape(3))
		}
		b.WriteString(shape(0))
		lines := n.Label()
		top := v.y - float64(len(lines))*lineHeight/2
		if n.Kind == KindInput {
			top -= 3
		}
		for i, s := range lines {
			weight := ""
			if i == 0 {
				weight = ` font-weight="bold"`
			}
			fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle"%s>%s</text>`, num(v.x), num(top+float64(i)*lineHeight+lineHeight-2.5), weight, esc(s))
		}
		b.WriteString("</g>\n")
	}
}

// ref is the node's short reference, %ID and its name.
func (n *Node) ref() string {
	s := "%" + strconv.Itoa(n.ID)
	if n.Name != "" {
		s += " " + n.Name
	}
	return s
}

func points(ps [][2]float64) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = num(p[0]) + "," + num(p[1])
	}
	return strings.Join(s, " ")
}

// num formats a coordinate with at most one decimal.
func num(f float64) string {
	return strconv.FormatFloat(float64(int64(f*10+0.5*sign(f)))/10, 'f', -1, 64)
}

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}

// esc escapes text for XML content and attributes.
func esc(s string) string { return html.EscapeString(s) }
