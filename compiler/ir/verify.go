package ir

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// maxVerifyErrors bounds the problems Verify reports at once.
const maxVerifyErrors = 10

// Verify checks the invariants of m's IR that every pass relies on and
// must keep, and returns an error listing the problems it finds (at
// most ten), each naming the node ("%12 = add(%3, %11) : f32[N,10]") and
// what is wrong, or nil:
//
//   - structure: every node's Region is the region that lists it, no
//     node is listed twice, IDs are unique across the module, block
//     arguments are not among their region's Nodes, and a nested
//     region's Owner is the node whose attribute it is;
//   - order and scope: every region's Nodes are in a topological order,
//     each node after the operands and control edges (Deps) of its own
//     region; a node of the body uses only nodes of the body, and a node
//     of any other region only its region's block arguments and nodes
//     (regions other than the body are closed: Region.Captures is
//     empty); a region's results are its own values;
//   - types: re-inferring each node's type (Op.Infer, on a copy) gives
//     exactly its Type, and the node applies its op to a dtype the op
//     takes (Op.CheckDType);
//   - attributes: every attribute value has an attribute type
//     (CheckAttrValue);
//   - tuples: a tuple-typed node is read only by "get" nodes;
//   - roots: every input and param (of ops input and param), every
//     program's results and effects and every gradient is a node of the
//     body, and the effects are update ops (Op.Update);
//   - control edges, once UpdatesOrdered is set: every node of the train
//     program's schedule that reads an update's param (ParamReaders)
//     comes before the update, through its data or its control edges.
func Verify(m *Module) error {
	v := &verifier{m: m, ids: map[int]*Node{}, listed: map[*Node]*Region{}}
	v.region(m.Body, nil)
	v.roots()
	if m.UpdatesOrdered {
		v.controlEdges()
	}
	if len(v.errs) == 0 {
		return nil
	}
	msg := strings.Join(v.errs, "\n")
	if v.more > 0 {
		msg += fmt.Sprintf("\n(and %d more)", v.more)
	}
	return errors.New(msg)
}

type verifier struct {
	m      *Module
	ids    map[int]*Node
	listed map[*Node]*Region // node or block argument → the region listing it
	errs   []string
	more   int
}

func (v *verifier) errorf(format string, args ...any) {
	if len(v.errs) == maxVerifyErrors {
		v.more++
		return
	}
	v.errs = append(v.errs, fmt.Sprintf(format, args...))
}

// describe names region r for messages: "the body", or "region then of
// %7 = cond(...)".
func (v *verifier) describe(r *Region) string {
	if r == v.m.Body {
		return "the body"
	}
	if r.Owner != nil {
		for _, k := range r.Owner.regionAttrs() {
			if r.Owner.Attrs[k] == r {
				return fmt.Sprintf("region %s of %s", k, r.Owner)
			}
		}
	}
	return "a nested region"
}

// declare records that r lists n (as a node or a block argument) and
// checks that n is listed once and has a fresh ID.
func (v *verifier) declare(n *Node, r *Region) bool {
	if n == nil {
		v.errorf("%s lists a nil node", v.describe(r))
		return false
	}
	if prev, ok := v.listed[n]; ok {
		v.errorf("%s: listed twice (in %s and in %s)", n, v.describe(prev), v.describe(r))
		return false
	}
	v.listed[n] = r
	if other, ok := v.ids[n.ID]; ok {
		v.errorf("%s: ID %%%d is already the ID of %s", n, n.ID, other)
	} else {
		v.ids[n.ID] = n
	}
	if n.ID >= v.m.nextID {
		v.errorf("%s: ID %%%d was never handed out by the module (next is %%%d)", n, n.ID, v.m.nextID)
	}
	if n.Region != r {
		v.errorf("%s: its Region is not %s, which lists it", n, v.describe(r))
	}
	if n.Op == nil {
		v.errorf("%%%d: has no op", n.ID)
		return false
	}
	return true
}

// region checks r and the regions nested in it; owner is the node whose
// attribute r is (nil for the body).
func (v *verifier) region(r *Region, owner *Node) {
	if r.Owner != owner {
		v.errorf("%s: its Owner is not %s, whose attribute it is", v.describe(r), owner)
	}
	if owner == nil && len(r.Args) > 0 {
		v.errorf("the body has block arguments")
	}
	// defined holds the values of r a node may use: its block arguments,
	// then each node once it has been listed.
	defined := map[*Node]bool{}
	pos := map[*Node]int{}
	for _, n := range r.Nodes {
		pos[n] = len(pos)
	}
	argOp, hasArg := Lookup("arg")
	for _, a := range r.Args {
		if !v.declare(a, r) {
			continue
		}
		if hasArg && a.Op != argOp {
			v.errorf("%s: a block argument of %s must be of op arg", a, v.describe(r))
		}
		if _, ok := pos[a]; ok {
			v.errorf("%s: a block argument of %s is also among its nodes", a, v.describe(r))
		}
		defined[a] = true
	}
	for _, n := range r.Nodes {
		if !v.declare(n, r) {
			continue
		}
		v.operands(n, r, defined, pos)
		v.node(n)
		for _, sub := range n.Regions() {
			v.region(sub, n)
		}
		defined[n] = true
	}
	for _, res := range r.Results {
		if res == nil || res.Region != r || !defined[res] {
			v.errorf("%s yields %s, which is not one of its values", v.describe(r), label(res))
		}
	}
}

// label names a node that may be nil in a message.
func label(n *Node) string {
	if n == nil {
		return "nil"
	}
	return n.String()
}

// operands checks that n, a node of r, uses only values it may see, each
// defined before it.
func (v *verifier) operands(n *Node, r *Region, defined map[*Node]bool, pos map[*Node]int) {
	check := func(kind string, in *Node) {
		switch {
		case in == nil:
			v.errorf("%s: has a nil %s", n, kind)
		case defined[in]:
		case in == n:
			v.errorf("%s: is its own %s", n, kind)
		case pos[in] > pos[n] && in.Region == r:
			v.errorf("%s: its %s %s comes after it in %s (the nodes are not in a topological order)", n, kind, in, v.describe(r))
		case r == v.m.Body:
			v.errorf("%s: its %s %s is not a node of the body", n, kind, in)
		default:
			v.errorf("%s: its %s %s is defined outside %s, which is closed: a value from outside comes in as a block argument", n, kind, in, v.describe(r))
		}
	}
	for _, in := range n.Inputs {
		check("operand", in)
	}
	for _, d := range n.Deps {
		check("control edge", d)
	}
}

// node checks n's attributes, type, dtype and tuple uses.
func (v *verifier) node(n *Node) {
	for _, k := range sortedKeys(n.Attrs) {
		if err := CheckAttrValue(n.Attrs[k]); err != nil {
			v.errorf("%s: attribute %s: %v", n, k, err)
		}
	}
	if n.Op.Infer != nil {
		probe := *n
		probe.Attrs = n.Attrs.Clone()
		probe.Inputs = slices.Clone(n.Inputs)
		t, err := n.Op.Infer(&probe)
		switch {
		case err != nil:
			v.errorf("%s: its type no longer checks: %v", n, err)
		case !t.Equal(n.Type):
			v.errorf("%s: has type %s, but its op infers %s", n, n.Type, t)
		}
	}
	if err := n.Op.CheckDType(n); err != nil {
		v.errorf("%s: %v", n, err)
	}
	get, hasGet := Lookup("get")
	for i, in := range n.Inputs {
		if hasGet && in != nil && in.Type.IsTuple() && n.Op != get {
			v.errorf("%s: operand %d is the tuple %s, which only get reads", n, i, in)
		}
	}
}

// sortedKeys returns a's keys in order, so that messages are stable.
func sortedKeys(a Attrs) []string {
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// roots checks that the module's declarations and roots are nodes of
// its body.
func (v *verifier) roots() {
	inBody := func(what string, n *Node) bool {
		if n == nil {
			v.errorf("%s is nil", what)
			return false
		}
		if v.listed[n] != v.m.Body {
			v.errorf("%s %s is not a node of the body", what, n)
			return false
		}
		return true
	}
	for _, in := range v.m.Inputs {
		if inBody("input", in) && in.Op != Input {
			v.errorf("input %s is not of op input", in)
		}
	}
	for _, p := range v.m.Params {
		if inBody("param", p) && p.Op != Param {
			v.errorf("param %s is not of op param", p)
		}
	}
	for _, p := range v.m.Programs {
		for _, r := range p.Results {
			inBody("the "+p.Name+" program's result", r)
		}
		for _, e := range p.Effects {
			if inBody("the "+p.Name+" program's effect", e) && !e.Op.Update {
				v.errorf("the %s program's effect %s is not an update", p.Name, e)
			}
		}
	}
	for _, p := range v.m.Params {
		if gr, ok := v.m.Grads[p]; ok {
			inBody("the gradient of "+p.Name, gr)
		}
	}
	for p := range v.m.Grads {
		if !slices.Contains(v.m.Params, p) {
			v.errorf("a gradient is kept for %s, which is not a param of the module", label(p))
		}
	}
}

// controlEdges checks that every update of the train program comes after
// the readers of its param.
func (v *verifier) controlEdges() {
	p := v.m.Program(TrainProgram)
	if p == nil || len(v.errs) > 0 {
		return // a broken graph may not even have a schedule
	}
	sched := v.m.Schedule(p.Roots()...)
	for _, u := range p.Effects {
		before := Reachable(u)
		for _, r := range ParamReaders(sched, u.Inputs[0]) {
			if r != u && !before[r] {
				v.errorf("%s: updates param %s but does not come after %s, which reads it (add a control edge)", u, u.Inputs[0].Label(), r)
			}
		}
	}
}
