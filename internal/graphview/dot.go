package graphview

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
)

// WriteDOT writes g as a Graphviz digraph. The output is deterministic:
// nodes and edges in IR order, fused groups as clusters in group order.
// Node and edge statements carry id attributes (n<ID>, e<from>_<to>_<k>)
// that Graphviz copies to its SVG, which the HTML viewer relies on.
func WriteDOT(w io.Writer, g *Graph) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "digraph %s {\n", dotQuote(g.Name))
	fmt.Fprintf(b, "  graph [label=%s, labelloc=t, fontname=\"Helvetica\", fontsize=12, nodesep=0.2, ranksep=0.3, newrank=true];\n", dotQuote(g.title()))
	b.WriteString("  node [fontname=\"Helvetica\", fontsize=10, style=filled, margin=\"0.08,0.03\", height=0.3];\n")
	b.WriteString("  edge [arrowsize=0.6, penwidth=0.8];\n")
	for i, ids := range g.Groups {
		fmt.Fprintf(b, "  subgraph cluster_fused%d {\n", i+1)
		fmt.Fprintf(b, "    id=\"fused%d\"; label=\"fused %d\"; fontsize=9; fontcolor=%s; style=\"dashed,rounded\"; color=%s;\n",
			i+1, i+1, dotQuote(colorCluster), dotQuote(colorCluster))
		for _, id := range ids {
			b.WriteString("    ")
			g.writeDOTNode(b, g.Node(id))
		}
		b.WriteString("  }\n")
	}
	g.writeDOTRegion(b, 0, "  ")
	for _, e := range g.edges() {
		to := g.Node(e.to)
		style := ""
		switch e.kind {
		case edgeBind:
			style = `, style=dashed, arrowhead=empty`
		case edgeYield:
			style = `, style=dashed`
		}
		fmt.Fprintf(b, "  n%d -> n%d [id=\"%s\", color=%s%s];\n", e.from, e.to, e.id(), dotQuote(edgeColor(to)), style)
	}
	b.WriteString("}\n")
	return b.Flush()
}

// writeDOTRegion writes the nodes of region id (0: the model's body)
// not in a fused group, and each control-flow node among them as a
// cluster holding the node and a nested cluster for each of its regions.
func (g *Graph) writeDOTRegion(b *bufio.Writer, id int, indent string) {
	owned := map[int][]*Region{}
	for _, r := range g.Regions {
		if r.Parent == id {
			owned[r.Owner] = append(owned[r.Owner], r)
		}
	}
	for _, n := range g.Nodes {
		if n.Region != id || n.Group != 0 {
			continue
		}
		rs := owned[n.ID]
		if len(rs) == 0 {
			b.WriteString(indent)
			g.writeDOTNode(b, n)
			continue
		}
		fmt.Fprintf(b, "%ssubgraph cluster_n%d {\n", indent, n.ID)
		fmt.Fprintf(b, "%s  id=\"cluster_n%d\"; label=%s; fontsize=9; style=\"rounded\"; color=%s;\n",
			indent, n.ID, dotQuote(fmt.Sprintf("%%%d %s", n.ID, n.Op)), dotQuote(colorRegion))
		for _, r := range rs {
			fmt.Fprintf(b, "%s  subgraph cluster_r%d {\n", indent, r.ID)
			fmt.Fprintf(b, "%s    id=\"region%d\"; label=%s; fontsize=9; style=\"rounded,filled\"; color=%s; fillcolor=%s;\n",
				indent, r.ID, dotQuote(r.Name), dotQuote(colorRegion), dotQuote(colorRegionFill))
			g.writeDOTRegion(b, r.ID, indent+"    ")
			fmt.Fprintf(b, "%s  }\n", indent)
		}
		b.WriteString(indent + "  ")
		g.writeDOTNode(b, n)
		fmt.Fprintf(b, "%s}\n", indent)
	}
}

func (g *Graph) writeDOTNode(b *bufio.Writer, n *Node) {
	style := "filled"
	if n.Kind == KindOp {
		style = "rounded,filled"
	}
	color, width := g.outline(n)
	fmt.Fprintf(b, "n%d [id=\"n%d\", label=%s, shape=%s, style=%s, fillcolor=%s, color=%s",
		n.ID, n.ID, dotQuote(strings.Join(n.Label(), "\n")), dotShape(n.Kind), dotQuote(style), dotQuote(fill(n)), dotQuote(color))
	if width != 1 {
		fmt.Fprintf(b, ", penwidth=%s", strconv.FormatFloat(width, 'g', -1, 64))
	}
	if marked(n) {
		b.WriteString(", peripheries=2")
	}
	fmt.Fprintf(b, ", tooltip=%s];\n", dotQuote(g.Details(n)))
}

// title is the graph's caption.
func (g *Graph) title() string {
	s := g.Name
	if g.Source != "" {
		s += " (" + g.Source + ")"
	}
	if g.Stage != "" {
		s += " after " + g.Stage
	}
	return s
}

// dotQuote quotes s as a DOT string; newlines become centred line
// breaks.
func dotQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// edge is one operand edge: the k-th edge from node from into node to
// (a node may read the same operand twice). Edges of kind edgeBind go
// from an operand of a control-flow node to the block argument it
// binds, edges of kind edgeYield from a region's result to its owner.
type edge struct {
	from, to, k int
	kind        edgeKind
}

// edgeKind says what an edge stands for.
type edgeKind int

// The kinds of edge: an operand read, an operand binding a block
// argument, a region's result.
const (
	edgeOperand edgeKind = iota
	edgeBind
	edgeYield
)

func (e edge) id() string { return fmt.Sprintf("e%d_%d_%d", e.from, e.to, e.k) }

// edges lists the edges into each node in the order of Nodes, skipping
// operands the snapshot does not hold: a block argument's binding
// operand, then the operands, then, into a control-flow node, the
// results of its regions.
func (g *Graph) edges() []edge {
	bind := map[int]int{}     // block argument -> the operand binding it
	yields := map[int][]int{} // owner -> the results of its regions
	for _, r := range g.Regions {
		owner := g.Node(r.Owner)
		if owner == nil {
			continue
		}
		if off := len(owner.Inputs) - len(r.Args); off >= 0 {
			for i, a := range r.Args {
				bind[a] = owner.Inputs[off+i]
			}
		}
		yields[r.Owner] = append(yields[r.Owner], r.Results...)
	}
	var out []edge
	for _, n := range g.Nodes {
		seen := map[int]int{}
		add := func(from int, kind edgeKind) {
			if g.Node(from) == nil {
				return
			}
			out = append(out, edge{from: from, to: n.ID, k: seen[from], kind: kind})
			seen[from]++
		}
		if from, ok := bind[n.ID]; ok {
			add(from, edgeBind)
		}
		for _, in := range n.Inputs {
			add(in, edgeOperand)
		}
		for _, res := range yields[n.ID] {
			add(res, edgeYield)
		}
	}
	return out
}

// ErrNoGraphviz is returned by GraphvizSVG when dot is not on PATH.
var ErrNoGraphviz = errors.New("graphviz dot not found on PATH (install the graphviz package, or use the built-in renderer)")

// GraphvizSVG lays g out with Graphviz's dot and returns its SVG.
func GraphvizSVG(ctx context.Context, g *Graph) ([]byte, error) {
	path, err := exec.LookPath("dot")
	if err != nil {
		return nil, ErrNoGraphviz
	}
	var src bytes.Buffer
	if err := WriteDOT(&src, g); err != nil {
		return nil, err
	}
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, path, "-Tsvg")
	cmd.Stdin = &src
	cmd.Stdout = &out
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if msg != "" {
			return nil, fmt.Errorf("graphviz dot: %v: %s", err, msg)
		}
		return nil, fmt.Errorf("graphviz dot: %v", err)
	}
	return out.Bytes(), nil
}
