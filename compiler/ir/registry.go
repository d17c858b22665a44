package ir

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// ArgKind is the kind of a compile-time (attribute) argument of an op.
type ArgKind uint8

// Attribute kinds. Ints accepts a single integer or a list of integers;
// IntPairs accepts a list of [a, b] integer pairs (a [][]int value);
// Dims a list of sizes, each an integer or the name of a dimension (a
// Shape value: `fill(dims = [N, units], value = 0)`); Region is a
// control-flow op's region, which the language does not write.
const (
	IntArg ArgKind = iota
	IntsArg
	BoolArg
	FloatArg
	StringArg
	IntPairsArg
	RegionArg
	DimsArg
)

// String names the kind as users see it in messages.
func (k ArgKind) String() string {
	switch k {
	case IntArg:
		return "an integer"
	case IntsArg:
		return "an integer or a list of integers"
	case BoolArg:
		return "true or false"
	case FloatArg:
		return "a number"
	case StringArg:
		return "a string"
	case IntPairsArg:
		return "a list of [integer, integer] pairs"
	case RegionArg:
		return "a region"
	case DimsArg:
		return "a list of sizes (integers or dimension names)"
	}
	return "?"
}

// AttrSpec declares one attribute argument of an op as the language sees
// it: `sum(x, axes = [1], keep_dims = true)`.
type AttrSpec struct {
	Name    string
	Kind    ArgKind
	Default any // nil: optional with no value (the op decides)
	Doc     string
	// Required marks an argument every call must give (constant's value,
	// restore's file); a call without it is an error.
	Required bool
}

// Cost is the work one node does: arithmetic operations and memory
// traffic, the inputs of the cost model.
type Cost struct {
	FLOPs        float64
	BytesRead    float64
	BytesWritten float64
}

// Context is what an op's Eval and Cost hooks see beyond the node and
// its operand values.
type Context struct {
	// Binding binds the symbolic dimensions.
	Binding Binding
	// Region evaluates region r of the node with its block arguments
	// bound to args and returns its results; the interpreter sets it
	// for Eval.
	Region func(r *Region, args []*Tensor) ([]*Tensor, error)
	// Trips returns the number of times a loop node runs its body; the
	// cost model sets it for Cost (nil: once).
	Trips func(n *Node) float64
}

// Bind returns a context with binding b only.
func Bind(b Binding) *Context { return &Context{Binding: b} }

// GradFunc builds the gradient of a node in the context's module: given
// the node n and the gradients dys of the loss with respect to each of
// n's results (one for a single-result op), it returns one gradient per
// input (nil where an input gets none).
type GradFunc func(cx *GradContext, n *Node, dys []*Node) []*Node

// GradContext is what an op's Grad hook sees beyond the node.
type GradContext struct {
	// Module is where the gradient nodes are built.
	Module *Module
	// Region builds, in the current region, a copy of region r of the
	// node with its block arguments bound to args, and the gradients of
	// args given the gradients dResults of r's results (nil where none):
	// it returns the copies of r's results, one gradient per arg (nil
	// where none) and the copy of each of r's nodes. The last invariants
	// of args are a loop's invariants, one value for every trip: a
	// trip's gradient of one is a term of its gradient, not the whole
	// of it, so it is not linked to the invariant (Node.GradOf) as the
	// others' are. Autodiff sets it.
	Region func(r *Region, args, dResults []*Node, invariants int) (results, dArgs []*Node, copies map[*Node]*Node)
}

// Domain restricts the operand values an op's tests draw.
type Domain uint8

// Operand domains: NonZero keeps values away from 0 (relu's kink, a
// divisor), Positive draws from (0.5, 2.5) (log, sqrt), WellConditioned
// draws NonZero values and maps them with WellConditionedValue, so that
// square matrices in the last two axes are strictly diagonally dominant
// (matrix_inverse, matrix_determinant).
const (
	NonZero Domain = iota
	Positive
	WellConditioned
)

// Example is one operand configuration an op is tested with: its operand
// shapes (the same for any dtype) and attributes. Every differentiable op
// is checked against finite differences, and every op's generated Go
// against the interpreter, on its examples.
type Example struct {
	Shapes [][]int
	Attrs  Attrs
	Domain Domain
	// DTypes gives, per operand, a dtype other than floating point
	// (integer labels, boolean masks); a missing entry, Invalid or a
	// float dtype means the tests' float dtype (f32 in generated code,
	// f64 in gradient tests). Integer operands are drawn from {0, 1, 2},
	// boolean ones from {false, true}.
	DTypes []DType
}

// OperandDType returns the dtype of operand i of the example: its DTypes
// entry when that is not floating point (Pinned), else float, the dtype
// the test puts in.
func (e Example) OperandDType(i int, float DType) DType {
	if e.Pinned(i) {
		return e.DTypes[i]
	}
	return float
}

// Pinned reports whether operand i of the example has a dtype of its own
// (an integer or bool DTypes entry), which a test keeps whatever dtype it
// checks the op in.
func (e Example) Pinned(i int) bool {
	return i < len(e.DTypes) && e.DTypes[i] != Invalid && !e.DTypes[i].IsFloat()
}

// OpDef defines an op once: how the language calls it, its type rule, its
// gradient, its cost and its reference semantics.
type OpDef struct {
	// Name is the op's name, which is also the function name in source
	// for ops that are not Internal.
	Name string
	// Summary is a one-line description for docs/language.md.
	Summary string
	// Inputs names the tensor operands in order.
	Inputs []string
	// Variadic ops take one or more tensor operands in place of their
	// single Inputs entry, all given positionally (concat(a, b, c)); their
	// attributes must then be given by keyword.
	Variadic bool
	// BoolOperands lists operands that are always bool (where's
	// condition): the checker gives literals there the bool dtype and
	// the other literals the dtype of the other tensor operands.
	BoolOperands []int
	// Attrs declares the attribute arguments, which follow the tensor
	// operands positionally or are given by keyword.
	Attrs []AttrSpec
	// Internal ops are made by the compiler (inputs, params, gradients,
	// updates) and cannot be called from source.
	Internal bool
	// Examples are the operand shapes the op's tests use; every op that
	// is not Internal has at least one.
	Examples []Example
	// Elementwise ops map each output element from the input elements at
	// the same (broadcast) index.
	Elementwise bool
	// BatchLocal ops, besides the Elementwise ones, keep the examples of
	// a batch apart: each element of their result combines a fixed number
	// of elements of one example of their operands, wherever the batch
	// dimension ends up (matmul, reshape, conv2d, softmax along another
	// axis, ...). The loss analysis (compiler.LossReduction) relies on it.
	BatchLocal bool
	// AlongAxis ops normalize or pick along the axis of their first
	// operand that their "axis" attribute names (the last when it is
	// absent): across the examples of a batch when that is the batch
	// dimension, whatever BatchLocal says.
	AlongAxis bool
	// Stateful ops read or write parameter state.
	Stateful bool
	// Update ops are the state updates a program may write (assign,
	// assign_add, assign_sub): their first operand is a param and their
	// value is its new value.
	Update bool
	// Pinned ops are computations no pass may fold, merge or remove:
	// declarations (input, param) and the mode-dependent ops (dropout,
	// batch_norm) that the train-mode lowering splits into training and
	// inference variants. Stateful ops are pinned too (see IsPinned).
	Pinned bool
	// Commutative binary ops give the same value with their operands
	// swapped; common-subexpression elimination orders them.
	Commutative bool
	// Reduction ops reduce their operand over the axes their "axes"
	// attribute names (all when empty), dropping them unless keep_dims.
	Reduction bool
	// Kernel is the class of runtime kernel that computes the op in
	// generated code, which the cost model estimates; NoKernel for
	// loops generated inline.
	Kernel KernelClass
	// Dataflow ops belong to TensorFlow's dataflow form of control flow
	// (switch, merge, enter, exit, next_iteration, loop_cond and the
	// array_write of scans), which compiler.LowerToDataflow produces and
	// the dataflow interpreter runs; generated code computes the
	// structured form (cond, while, scan) and never sees them.
	Dataflow bool
	// Epilogues ops are computed by a kernel that can apply an
	// element-wise chain of their consumers to each block of its output
	// while it is in cache (a bias, a ReLU).
	Epilogues bool
	// DTypes lists the dtypes a program may apply the op to: the values
	// DTypeOf may take, among the dtypes generated code computes in (f32,
	// f64, i32, i64, bool). Every public op declares them; nil (internal
	// ops) means every dtype Infer accepts. The checker refuses any other
	// with a positioned error naming these (CheckDType), and generated
	// code computes the op in each of them: internal/opcheck checks both,
	// over every example and dtype. Infer may accept more — the reference
	// semantics of the ops backed by float32 kernels holds in f64 too,
	// where their gradients are checked — but no program reaches those.
	// The storage dtypes (f16, bf16, i8) are outside DTypes: they are
	// checked by Infer alone, and generated code refuses them.
	DTypes []DType
	// Infer checks the operands and attributes of n (n.Inputs and n.Attrs
	// are set; Infer may normalize n.Attrs) and returns the result type.
	// Its errors are phrased for users, without position.
	Infer func(n *Node) (Type, error)
	// Grad is the gradient rule, nil for ops that are not differentiable.
	Grad GradFunc
	// Cost estimates the node's work under the context's binding of
	// symbolic dims (and, for loops, its trip counts).
	Cost func(n *Node, cx *Context) Cost
	// Eval computes the node's value from its input values. It is the
	// reference semantics: simple, float64, obviously correct.
	// The context binds the symbolic dims and evaluates the node's
	// regions (Context.Region); an op with several results returns a
	// tuple (NewTuple).
	Eval func(n *Node, in []*Tensor, cx *Context) (*Tensor, error)
}

var registry = map[string]*OpDef{}

// KernelClass is the kind of runtime kernel that computes an op.
type KernelClass uint8

// Kernel classes: GEMMKernel (matrix products), ConvKernel
// (convolutions and their gradients), PoolKernel (pooling and its
// gradients), RowKernel (softmax and log_softmax, row by row).
const (
	NoKernel KernelClass = iota
	GEMMKernel
	ConvKernel
	PoolKernel
	RowKernel
)

// IsPinned reports whether no pass may fold, merge or remove n as a
// computation: its op is Pinned or Stateful.
func IsPinned(n *Node) bool {
	return n.Op.Pinned || n.Op.Stateful
}

// handles are the op handles of handles.go by name, made before any
// op is registered (package variables are initialized before init
// functions run).
var handles = map[string]*OpDef{}

// handle declares the handle of the op named name, which Register fills
// in from the op's entry.
func handle(name string) *OpDef {
	h := &OpDef{Name: name}
	handles[name] = h
	return h
}

// Register adds an op definition, copying it into the op's handle, and
// returns the handle. It panics on a duplicate name, an op without a
// handle or a definition missing its type rule, evaluation or cost:
// registration happens at init time and a bad entry is a programming
// error.
func Register(def *OpDef) *OpDef {
	if _, dup := registry[def.Name]; dup {
		panic("ir: op registered twice: " + def.Name)
	}
	if def.Infer == nil || def.Eval == nil || def.Cost == nil {
		panic("ir: op " + def.Name + " lacks Infer, Eval or Cost")
	}
	h, ok := handles[def.Name]
	if !ok {
		panic("ir: op " + def.Name + " has no handle in handles.go")
	}
	*h = *def
	registry[def.Name] = h
	return h
}

// Lookup returns the op named name.
func Lookup(name string) (*OpDef, bool) {
	def, ok := registry[name]
	return def, ok
}

// MustLookup returns the op named name and panics if there is none; for
// compiler-internal use with constant names.
func MustLookup(name string) *OpDef {
	def, ok := registry[name]
	if !ok {
		panic(fmt.Sprintf("ir: no op %q", name))
	}
	return def
}

// Ops returns every registered op, sorted by name.
func Ops() []*OpDef {
	out := make([]*OpDef, 0, len(registry))
	for _, d := range registry {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Attr returns the spec of attribute name, or nil.
func (d *OpDef) Attr(name string) *AttrSpec {
	for i := range d.Attrs {
		if d.Attrs[i].Name == name {
			return &d.Attrs[i]
		}
	}
	return nil
}

// DTypeOf returns the dtype node n of the op computes in, the one
// DTypes restricts: that of its first operand not listed in
// BoolOperands (gather's params, where's a, sparse_softmax_cross_entropy's
// logits), or its result's when it has no such operand (fill, range).
func (d *OpDef) DTypeOf(n *Node) DType {
	for i, in := range n.Inputs {
		if !slices.Contains(d.BoolOperands, i) {
			return in.Type.DType
		}
	}
	return n.Type.DType
}

// TakesDType reports whether a program may apply the op to dtype dt: dt
// is in DTypes (or DTypes is nil), or dt is a storage dtype, which
// DTypes does not speak of.
func (d *OpDef) TakesDType(dt DType) bool {
	return d.DTypes == nil || dt.IsStorage() || slices.Contains(d.DTypes, dt)
}

// CheckDType returns a *DTypeError when node n applies the op to a dtype
// outside DTypes, and nil otherwise.
func (d *OpDef) CheckDType(n *Node) error {
	if d.TakesDType(d.DTypeOf(n)) {
		return nil
	}
	got := n.Type
	for i, in := range n.Inputs {
		if !slices.Contains(d.BoolOperands, i) {
			got = in.Type
			break
		}
	}
	return &DTypeError{Op: d, Got: got}
}

// DTypeError is the error of a node that applies an op to a dtype
// outside the op's DTypes. It is phrased for users, without position.
type DTypeError struct {
	Op  *OpDef // the op applied
	Got Type   // the operand (or result) whose dtype DTypeOf is
}

// Error says which dtypes the op takes and what it got: "conv2d takes
// f32 only, got f64[N,28,28,1]".
func (e *DTypeError) Error() string {
	return fmt.Sprintf("%s takes %s only, got %s", e.Op.Name, DTypeList(e.Op.DTypes), e.Got)
}

// DTypeList renders dtypes for messages and docs: "f32", "f32 or f64",
// "f32, f64, i32 or i64".
func DTypeList(dts []DType) string {
	names := make([]string, len(dts))
	for i, dt := range dts {
		names[i] = dt.String()
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Signature renders the op as users call it, e.g.
// "sum(x, axes = [], keep_dims = false)".
func (d *OpDef) Signature() string {
	s := d.Name + "("
	for i, in := range d.Inputs {
		if i > 0 {
			s += ", "
		}
		s += in
		if d.Variadic {
			s += "..."
		}
	}
	for i, a := range d.Attrs {
		if i > 0 || len(d.Inputs) > 0 {
			s += ", "
		}
		s += a.Name
		if a.Default != nil {
			s += " = " + formatAttr(a.Default)
		}
	}
	return s + ")"
}
