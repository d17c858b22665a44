package ir

import (
	"strconv"

	"github.com/flow-lang/flow/lang"
)

// Role says which part of a training program a node belongs to.
type Role uint8

// Roles: forward computation, gradient computation (from autodiff) and
// parameter updates (from the optimizer lowering).
const (
	Forward Role = iota
	Backward
	Update
)

// String names the role.
func (r Role) String() string {
	switch r {
	case Backward:
		return "grad"
	case Update:
		return "update"
	}
	return "fwd"
}

// Node is one op application. A node produces one value of its Type: a
// tensor, or for ops with several results a tuple (Type.Elems), which
// only "get" nodes read, so every other edge is a single tensor.
type Node struct {
	ID     int
	Op     *OpDef
	Inputs []*Node
	// Deps are control edges: nodes that must run before this one though
	// it does not read their values (a param's readers before its
	// update). Scheduling, dead-code elimination, CSE and codegen honour
	// them.
	Deps  []*Node
	Attrs Attrs
	Type  Type
	// Region is the region the node belongs to.
	Region *Region
	// Name is the user-visible name of the value: the declared name of an
	// input or param (with its scope, such as "h1/W"), or the name an
	// assignment bound. It is empty for anonymous intermediates.
	Name string
	// GradOf is, for a gradient that autodiff built, the named value it
	// is the whole gradient of (d loss / d GradOf: the sum of every
	// contribution, not one of them); nil for every other node. It
	// names the gradient in generated code (the buffer of h's gradient
	// is h_grad) and means nothing else: no pass reads it, a copy of
	// the node carries it and a replacement inherits it as it does Name.
	GradOf *Node
	// Pos is where the value was written in source; nodes made by
	// autodiff and lowering carry the position of what they came from.
	Pos lang.Pos
	// Role is the part of the program the node belongs to.
	Role Role
	// Device is the placement hint (a TensorFlow device string); empty
	// means the default device.
	Device string
}

// Label returns the name when set, else a synthetic "%ID" name.
func (n *Node) Label() string {
	if n.Name != "" {
		return n.Name
	}
	return "%" + itoa(n.ID)
}

func itoa(i int) string { return strconv.Itoa(i) }
