// Package graphview draws flow IR graphs for people: as Graphviz DOT text,
// as SVG (through Graphviz's dot when it is installed, else through a
// pure-Go layered layout) and as one self-contained HTML page that zooms,
// pans and shows each node's details on hover.
//
// A Graph is a snapshot of an *ir.Module taken with FromIR; the compiler
// mutates its graph in place from stage to stage, so a view of an
// intermediate stage must be taken while that stage is current. Nodes
// are labelled with their op, their name when they have one, and their
// output type; inputs, params and constants have their own shapes and
// colours; gradient and update nodes are coloured by role; the groups of
// nodes code generation fuses into one loop are drawn as clusters; and a
// node placed on a device gets that device's outline colour.
package graphview

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/flow-lang/flow/compiler/ir"
)

// Kind classifies a node for drawing.
type Kind string

// The kinds of node: graph inputs, params (model parameters and
// optimizer state), constants (nodes that read nothing) and ops.
const (
	KindInput Kind = "input"
	KindParam Kind = "param"
	KindConst Kind = "const"
	KindOp    Kind = "op"
)

// Node is one node of a snapshot, with everything a view shows of it.
type Node struct {
	ID     int    `json:"id"`
	Op     string `json:"op"`
	Name   string `json:"name,omitempty"`
	Kind   Kind   `json:"kind"`
	DType  string `json:"dtype"`
	Shape  string `json:"shape"`
	Role   string `json:"role"` // "fwd", "grad" or "update" (ir.Role)
	Device string `json:"device,omitempty"`
	// Attrs are the node's attributes as the IR dump writes them.
	Attrs string `json:"attrs,omitempty"`
	// Value is a constant's value, for its label.
	Value string `json:"value,omitempty"`
	// Inputs are the IDs of the operands, in order.
	Inputs []int `json:"inputs"`
	// File is the source file the node came from when that is not the
	// graph's Source (a function of an imported file); "" otherwise.
	File string `json:"file,omitempty"`
	// Line and Col are the source position the node came from (0 when
	// the compiler made it without one), in File or else in Source.
	Line int `json:"line,omitempty"`
	Col  int `json:"col,omitempty"`
	// Group is the fused group the node belongs to (1, 2, ...), or 0.
	Group int `json:"group,omitempty"`
	// Marks say what the graph uses the node for: "output y", "loss",
	// "train loss", "grad of W".
	Marks []string `json:"marks,omitempty"`
	// Trainable is false for optimizer-state params.
	Trainable bool `json:"trainable,omitempty"`
	// Region is the ID of the region the node belongs to (a block of an
	// if, while or for), 0 for the model's body.
	Region int `json:"region,omitempty"`
}

// Region is a region of a control-flow node (cond, while, scan): its
// block arguments and nodes are nodes of the snapshot whose Region is
// ID.
type Region struct {
	ID int `json:"id"`
	// Owner is the ID of the node whose region this is; Name is the
	// attribute holding it ("then", "else", "cond", "body").
	Owner int    `json:"owner"`
	Name  string `json:"name"`
	// Parent is the region the owner belongs to, 0 for the model's body.
	Parent int `json:"parent,omitempty"`
	// Args are the IDs of the block arguments, bound in order to the
	// owner's last len(Args) operands; Results the IDs of what the
	// region yields.
	Args    []int `json:"args"`
	Results []int `json:"results"`
}

// Label is the region's caption: its owner and its name, "%10 scan body".
func (r *Region) Label(g *Graph) string {
	s := fmt.Sprintf("%%%d", r.Owner)
	if o := g.Node(r.Owner); o != nil {
		s += " " + o.Op
	}
	return s + " " + r.Name
}

// Type is the node's output type as the IR writes it, e.g. f32[N,10].
func (n *Node) Type() string { return n.DType + n.Shape }

// Label is the node's text in a drawing, one line per element: the op
// (or a constant's value), the name when there is one, and the type.
func (n *Node) Label() []string {
	first := n.Op
	if n.Kind == KindConst && n.Value != "" {
		first = n.Op + " " + n.Value
	}
	lines := []string{first}
	if n.Name != "" {
		lines = append(lines, n.Name)
	}
	return append(lines, n.Type())
}

// Graph is a snapshot of one model's IR at one stage.
type Graph struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	// Stage names the compilation stage the snapshot was taken after.
	Stage string `json:"stage"`
	// Nodes are in the IR's order, which is topological.
	Nodes []*Node `json:"nodes"`
	// Groups lists the fused groups: Groups[i] holds the IDs of group
	// i+1's nodes, the consumer that computes them last.
	Groups [][]int `json:"groups,omitempty"`
	// Devices lists the distinct non-empty devices in sorted order; a
	// node's outline colour is DeviceColor(index in Devices).
	Devices []string `json:"devices,omitempty"`
	// Regions are the regions of control-flow nodes, nested ones after
	// the region holding their owner; a region's nodes come in Nodes
	// before its owner, so that Nodes stays topological with the edges
	// from the owner's operands to the block arguments and from the
	// results to the owner.
	Regions []*Region `json:"regions,omitempty"`

	byID map[int]*Node
}

// Node returns the node with the given ID, or nil.
func (g *Graph) Node(id int) *Node {
	if g.byID == nil {
		g.byID = make(map[int]*Node, len(g.Nodes))
		for _, n := range g.Nodes {
			g.byID[n.ID] = n
		}
	}
	return g.byID[id]
}

// FromIR takes a snapshot of g after stage. fusion, when not nil, maps
// each node code generation fuses into its consumer's loop to that
// consumer (codegen.Fusion); its groups become clusters.
func FromIR(g *ir.Module, stage string, fusion map[*ir.Node]*ir.Node) *Graph {
	v := &Graph{Name: g.Name, Source: g.Source, Stage: stage}
	marks := map[*ir.Node][]string{}
	for i, o := range g.Outputs() {
		name := o.Label()
		if i < len(g.OutputNames()) {
			name = g.OutputNames()[i]
		}
		marks[o] = append(marks[o], "output "+name)
	}
	if g.Loss() != nil {
		marks[g.Loss()] = append(marks[g.Loss()], "loss")
	}
	if t := g.TrainingLoss(); t != g.Loss() {
		marks[t] = append(marks[t], "train loss")
	}
	for _, p := range g.Params {
		if gr, ok := g.Grads[p]; ok && gr != nil {
			marks[gr] = append(marks[gr], "grad of "+p.Label())
		}
	}
	in := map[*ir.Node]bool{}
	devices := map[string]bool{}
	for _, n := range g.Body.Nodes {
		in[n] = true
	}
	// add appends the nodes of region r (ID id, 0 for the body), each
	// control-flow node after the nodes of its regions.
	var add func(r *ir.Region, id int, nodes []*ir.Node)
	add = func(r *ir.Region, id int, nodes []*ir.Node) {
		for _, n := range nodes {
			for _, name := range regionNames(n) {
				sub := n.Attrs[name].(*ir.Region)
				vr := &Region{ID: len(v.Regions) + 1, Owner: n.ID, Name: name, Parent: id}
				v.Regions = append(v.Regions, vr)
				for _, a := range sub.Args {
					vr.Args = append(vr.Args, a.ID)
				}
				for _, res := range sub.Results {
					vr.Results = append(vr.Results, res.ID)
				}
				add(sub, vr.ID, append(slices.Clone(sub.Args), sub.Nodes...))
			}
			v.addNode(g, n, marks[n], id, devices)
		}
	}
	add(g.Body, 0, g.Body.Nodes)
	for d := range devices {
		v.Devices = append(v.Devices, d)
	}
	sort.Strings(v.Devices)
	v.groups(fusion, in)
	return v
}

// regionNames returns the names of n's region attributes in a fixed
// order: a cond's then before its else, a while's cond before its body.
func regionNames(n *ir.Node) []string {
	var names []string
	for k, a := range n.Attrs {
		if _, ok := a.(*ir.Region); ok {
			names = append(names, k)
		}
	}
	order := map[string]int{"then": 0, "else": 1, "cond": 2, "body": 3}
	sort.Slice(names, func(i, j int) bool {
		oi, iok := order[names[i]]
		oj, jok := order[names[j]]
		if iok != jok {
			return iok
		}
		if oi != oj {
			return oi < oj
		}
		return names[i] < names[j]
	})
	return names
}

// addNode appends the snapshot of n, a node of region region, to v.
func (v *Graph) addNode(g *ir.Module, n *ir.Node, marks []string, region int, devices map[string]bool) {
	vn := &Node{
		ID:        n.ID,
		Op:        n.Op.Name,
		Name:      n.Name,
		DType:     n.Type.DType.String(),
		Shape:     n.Type.Shape.String(),
		Role:      n.Role.String(),
		Device:    n.Device,
		Line:      n.Pos.Line,
		Col:       n.Pos.Col,
		Marks:     marks,
		Inputs:    make([]int, len(n.Inputs)),
		Trainable: true,
		Region:    region,
	}
	if n.Type.IsTuple() {
		vn.DType, vn.Shape = n.Type.String(), "" // (f32[N,3], i32[])
	}
	if n.Pos.File != "" && n.Pos.File != g.Source {
		vn.File = n.Pos.File
	}
	if attrs := withoutRegions(n.Attrs); len(attrs) > 0 {
		vn.Attrs = attrs.Format()
	}
	for i, x := range n.Inputs {
		vn.Inputs[i] = x.ID
	}
	switch {
	case n.Op == ir.Input:
		vn.Kind = KindInput
	case n.Op == ir.Param:
		vn.Kind = KindParam
		vn.Trainable = ir.Trainable(n)
	case len(n.Inputs) == 0 && !n.Op.Stateful:
		vn.Kind = KindConst
		switch val := n.Attrs["value"].(type) {
		case nil:
		case float64:
			vn.Value = strconv.FormatFloat(val, 'g', 6, 64)
		default:
			vn.Value = fmt.Sprint(val)
		}
	default:
		vn.Kind = KindOp
	}
	if n.Device != "" {
		devices[n.Device] = true
	}
	v.Nodes = append(v.Nodes, vn)
}

// groups numbers the fused groups: each fused node joins the group of
// the consumer its chain of consumers ends at; groups are numbered in
// the order of those final consumers.
func (v *Graph) groups(fusion map[*ir.Node]*ir.Node, in map[*ir.Node]bool) {
	if len(fusion) == 0 {
		return
	}
	root := func(n *ir.Node) *ir.Node {
		for steps := 0; steps <= len(fusion); steps++ {
			c, ok := fusion[n]
			if !ok || !in[c] {
				return n
			}
			n = c
		}
		return n // a cycle, which fusion never makes: stop anywhere
	}
	members := map[int][]int{}
	for n := range fusion {
		if !in[n] {
			continue
		}
		r := root(n)
		if r == n {
			continue
		}
		members[r.ID] = append(members[r.ID], n.ID)
	}
	roots := make([]int, 0, len(members))
	for r := range members {
		roots = append(roots, r)
	}
	slices.Sort(roots)
	for i, r := range roots {
		ids := append(members[r], r)
		slices.Sort(ids)
		v.Groups = append(v.Groups, ids)
		for _, id := range ids {
			v.Node(id).Group = i + 1
		}
	}
}

// Details is the node's description in a tooltip, one fact a line.
func (v *Graph) Details(n *Node) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%%%d %s", n.ID, n.Op)
	if n.Name != "" {
		b.WriteString(" " + n.Name)
	}
	b.WriteString("\ntype: " + n.Type())
	b.WriteString("\nrole: " + n.Role)
	if len(n.Inputs) > 0 {
		ins := make([]string, len(n.Inputs))
		for i, id := range n.Inputs {
			ins[i] = v.inputLabel(id)
		}
		b.WriteString("\ninputs: " + strings.Join(ins, ", "))
	}
	if n.Attrs != "" {
		b.WriteString("\nattrs: " + n.Attrs)
	}
	if n.Device != "" {
		b.WriteString("\ndevice: " + n.Device)
	}
	if n.Group != 0 {
		fmt.Fprintf(&b, "\nfused group %d", n.Group)
	}
	if n.Region != 0 {
		b.WriteString("\nin region " + v.Regions[n.Region-1].Label(v))
	}
	for _, m := range n.Marks {
		b.WriteString("\n" + m)
	}
	if n.Line > 0 {
		fmt.Fprintf(&b, "\nsource: %s:%d:%d", n.SourceFile(v), n.Line, n.Col)
	}
	return b.String()
}

// SourceFile is the file n's Line and Col are in: n.File, or else the
// source of g, the graph n belongs to.
func (n *Node) SourceFile(g *Graph) string {
	if n.File != "" {
		return n.File
	}
	return g.Source
}

func (v *Graph) inputLabel(id int) string {
	s := fmt.Sprintf("%%%d", id)
	if in := v.Node(id); in != nil && in.Name != "" {
		s += " " + in.Name
	}
	return s
}

// withoutRegions returns attrs without the regions, which a view draws
// rather than writes.
func withoutRegions(attrs ir.Attrs) ir.Attrs {
	out := ir.Attrs{}
	for k, a := range attrs {
		if _, ok := a.(*ir.Region); !ok {
			out[k] = a
		}
	}
	return out
}
