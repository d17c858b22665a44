package ir

import (
	"fmt"
	"strings"
)

// Dump renders the graph as text, one node per line, for golden tests and
// `--dump-ir`. The format is stable: node IDs, names, ops, operands,
// attributes (sorted), types and roles.
//
//	%4 y = softmax(%3) axis=-1 : f32[N,10]
func (g *Graph) Dump() string {
	var b strings.Builder
	fmt.Fprintf(&b, "graph %s\n", g.Name)
	for _, n := range g.Nodes {
		b.WriteString("  ")
		b.WriteString(n.String())
		b.WriteByte('\n')
	}
	outs := make([]string, len(g.Outputs))
	for i, o := range g.Outputs {
		outs[i] = g.OutputNames[i] + "=%" + itoa(o.ID)
	}
	fmt.Fprintf(&b, "  outputs: %s\n", strings.Join(outs, ", "))
	if g.Loss != nil {
		fmt.Fprintf(&b, "  loss: %%%d\n", g.Loss.ID)
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
	if len(n.Attrs) > 0 {
		b.WriteString(" " + n.Attrs.Format())
	}
	b.WriteString(" : " + n.Type.String())
	if n.Role != Forward {
		b.WriteString(" [" + n.Role.String() + "]")
	}
	return b.String()
}
