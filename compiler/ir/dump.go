package ir

import (
	"fmt"
	"sort"
	"strings"
)

// Dump renders the graph as text, one node per line, for golden tests and
// `--dump-ir`. The format is stable: node IDs, names, ops, operands,
// attributes (sorted), types and roles.
//
//	%4 y = softmax(%3) axis=-1 : f32[N,10]
func (g *Module) Dump() string {
	var b strings.Builder
	fmt.Fprintf(&b, "graph %s\n", g.Name)
	g.Body.dump(&b, "  ")
	outs := make([]string, len(g.Outputs()))
	for i, o := range g.Outputs() {
		outs[i] = g.OutputNames()[i] + "=%" + itoa(o.ID)
	}
	fmt.Fprintf(&b, "  outputs: %s\n", strings.Join(outs, ", "))
	if l := g.Loss(); l != nil {
		fmt.Fprintf(&b, "  loss: %%%d\n", l.ID)
	}
	if g.Optimizer != nil {
		fmt.Fprintf(&b, "  optimizer: %s %s\n", g.Optimizer.Name, g.Optimizer.Attrs.Format())
	}
	for _, p := range g.Params {
		if gr, ok := g.Grads[p]; ok {
			fmt.Fprintf(&b, "  grad %s: %%%d\n", p.Name, gr.ID)
		}
	}
	return b.String()
}

// dump writes r's nodes one per line at indent, each node's regions
// after it, indented further, as `name {` … `}` blocks that list their
// block arguments and end with their results.
func (r *Region) dump(b *strings.Builder, indent string) {
	for _, n := range r.Nodes {
		b.WriteString(indent)
		b.WriteString(n.String())
		b.WriteByte('\n')
		for _, k := range n.regionAttrs() {
			sub := n.Attrs[k].(*Region)
			fmt.Fprintf(b, "%s  %s(%s) {\n", indent, k, idList(sub.Args))
			sub.dump(b, indent+"    ")
			fmt.Fprintf(b, "%s    yield %s\n%s  }\n", indent, idList(sub.Results), indent)
		}
	}
}

// idList renders nodes as "%1, %2".
func idList(ns []*Node) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = "%" + itoa(n.ID)
	}
	return strings.Join(s, ", ")
}

// String renders one node as in Dump.
func (n *Node) String() string {
	var b strings.Builder
	b.WriteString("%" + itoa(n.ID))
	if n.Name != "" {
		b.WriteString(" " + n.Name)
	}
	b.WriteString(" = " + n.Op.Name + "(")
	for i, in := range n.Inputs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("%" + itoa(in.ID))
	}
	b.WriteString(")")
	if len(n.Deps) > 0 {
		b.WriteString(" after " + idList(n.Deps))
	}
	// Regions are dumped as blocks after the node (Region.dump).
	if attrs := n.Attrs.format(func(k string) bool { _, r := n.Attrs[k].(*Region); return !r }); attrs != "" {
		b.WriteString(" " + attrs)
	}
	b.WriteString(" : " + n.Type.String())
	if n.Role != Forward {
		b.WriteString(" [" + n.Role.String() + "]")
	}
	return b.String()
}

// regionAttrs returns the names of n's region attributes, sorted.
func (n *Node) regionAttrs() []string {
	var keys []string
	for k, v := range n.Attrs {
		if _, ok := v.(*Region); ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// oneLine renders r on one line: "(%1) {%5 = mul(%1, %4) : f32[3]; yield %5}".
func (r *Region) oneLine() string {
	parts := make([]string, 0, len(r.Nodes)+1)
	for _, n := range r.Nodes {
		s := n.String()
		for _, k := range n.regionAttrs() {
			s += " " + k + "=" + n.Attrs[k].(*Region).oneLine()
		}
		parts = append(parts, s)
	}
	parts = append(parts, "yield "+idList(r.Results))
	return "(" + idList(r.Args) + ") {" + strings.Join(parts, "; ") + "}"
}
