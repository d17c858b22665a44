package ir

import "fmt"

// TensorFlow's dataflow control flow: the Switch, Merge, Enter, Exit,
// NextIteration and LoopCond ops of "Implementation of Control Flow in
// TensorFlow" (Yu et al., EuroSys 2018), into which
// compiler.LowerToDataflow rewrites the structured cond, while and scan.
// They only mean something to an executor that tags every value with a
// frame and an iteration and propagates dead values
// (compiler.DataflowInterpreter); the structured interpreter refuses
// them.
//
//	switch(data, pred)    -> (output_false, output_true): data goes out
//	                         on the side pred selects, the other side is
//	                         dead
//	merge(x...)           -> (value, value_index): the first live input
//	                         (dead when all inputs are); a loop merge
//	                         (loop = true) has one more input, its back
//	                         edge (index len(x)), fed by the
//	                         next_iteration whose attribute merge is the
//	                         merge's node ID
//	enter(data)           -> data in the child frame frame_name
//	                         (iteration 0; every iteration when
//	                         is_constant)
//	exit(data)            -> data in the parent frame
//	next_iteration(data)  -> data in the next iteration of its frame, at
//	                         its merge's back edge
//	loop_cond(pred)       -> pred: the predicate of a loop, which its
//	                         switches read
//
// The back edge is an attribute rather than an operand so that Inputs
// stay acyclic for every other part of the compiler.
//
// array_write is the functional TensorArrayWrite (XLA's
// DynamicUpdateSlice) the lowering of scan and of recording loops uses
// to stack per-step values in a carried buffer; gather reads a step.

// errDataflowOp is the structured interpreter's refusal of a dataflow op.
var errDataflowOp = fmt.Errorf("dataflow op evaluated outside the dataflow interpreter")

func refuseDataflow(*Node, []*Tensor, *Context) (*Tensor, error) { return nil, errDataflowOp }

func noCost(*Node, *Context) Cost { return Cost{} }

// inferPassThrough is the type rule of an op whose value is its one
// tensor operand.
func inferPassThrough(n *Node) (Type, error) {
	if len(n.Inputs) != 1 || n.Inputs[0].Type.IsTuple() {
		return Type{}, fmt.Errorf("%s needs one tensor operand", n.Op.Name)
	}
	return n.Inputs[0].Type, nil
}

func isScalarBool(t Type) bool {
	return !t.IsTuple() && t.DType == Bool && t.Shape.Rank() == 0
}

func init() {
	Register(&OpDef{
		Name: "switch", Summary: "TensorFlow's Switch: the tuple (output_false, output_true), data on the side the scalar bool pred selects and a dead value on the other (dataflow form of cond and while)",
		Internal: true, Dataflow: true, Inputs: []string{"data", "pred"},
		Infer: func(n *Node) (Type, error) {
			if len(n.Inputs) != 2 || n.Inputs[0].Type.IsTuple() || !isScalarBool(n.Inputs[1].Type) {
				return Type{}, fmt.Errorf("switch needs a tensor and a scalar bool predicate")
			}
			t := n.Inputs[0].Type
			return Tuple(t, t), nil
		},
		Cost: noCost, Eval: refuseDataflow,
	})
	Register(&OpDef{
		Name: "merge", Summary: "TensorFlow's Merge: the tuple (value, value_index) of the first of its inputs to arrive live, dead when all are; a loop merge also takes its next_iteration's back edge (dataflow form of cond and while)",
		Internal: true, Dataflow: true, Inputs: []string{"x"}, Variadic: true,
		Attrs: []AttrSpec{{Name: "loop", Kind: BoolArg, Default: false, Doc: "a loop merge: its last input (value_index len(x)) is the back edge from the next_iteration naming it"}},
		Infer: func(n *Node) (Type, error) {
			if len(n.Inputs) == 0 {
				return Type{}, fmt.Errorf("merge needs an input")
			}
			t := n.Inputs[0].Type
			for _, in := range n.Inputs {
				if in.Type.IsTuple() || !in.Type.Equal(t) {
					return Type{}, fmt.Errorf("merge needs tensors of one type, got %s and %s", t, in.Type)
				}
			}
			return Tuple(t, Scalar(I32)), nil
		},
		Cost: noCost, Eval: refuseDataflow,
	})
	Register(&OpDef{
		Name: "enter", Summary: "TensorFlow's Enter: data made available in the child frame frame_name, at its first iteration or, when is_constant, at every iteration (a loop's carried and invariant values)",
		Internal: true, Dataflow: true, Inputs: []string{"data"},
		Attrs: []AttrSpec{
			{Name: "frame_name", Kind: StringArg, Doc: "the frame (one per loop) the value enters"},
			{Name: "is_constant", Kind: BoolArg, Default: false, Doc: "a loop invariant: the value is the same in every iteration"},
			{Name: "parallel_iterations", Kind: IntArg, Default: 10, Doc: "how many iterations may run at once (the dataflow interpreter runs them in order)"},
		},
		Infer: func(n *Node) (Type, error) {
			if n.Attrs.String("frame_name", "") == "" {
				return Type{}, fmt.Errorf("enter needs a frame_name")
			}
			return inferPassThrough(n)
		},
		Cost: noCost, Eval: refuseDataflow,
	})
	Register(&OpDef{
		Name: "exit", Summary: "TensorFlow's Exit: data returned from a loop's frame to its parent frame (a loop's final values)",
		Internal: true, Dataflow: true, Inputs: []string{"data"},
		Infer: inferPassThrough, Cost: noCost, Eval: refuseDataflow,
	})
	Register(&OpDef{
		Name: "next_iteration", Summary: "TensorFlow's NextIteration: data passed to the next iteration of its frame, at the back edge of the loop merge whose node ID is merge",
		Internal: true, Dataflow: true, Inputs: []string{"data"},
		Attrs: []AttrSpec{{Name: "merge", Kind: IntArg, Doc: "the node ID of the loop merge the back edge feeds"}},
		Infer: func(n *Node) (Type, error) {
			if n.Attrs.Int("merge", -1) < 0 {
				return Type{}, fmt.Errorf("next_iteration needs the ID of its merge")
			}
			return inferPassThrough(n)
		},
		Cost: noCost, Eval: refuseDataflow,
	})
	Register(&OpDef{
		Name: "loop_cond", Summary: "TensorFlow's LoopCond: the scalar bool predicate of a loop, which its switches read",
		Internal: true, Dataflow: true, Inputs: []string{"pred"},
		Infer: func(n *Node) (Type, error) {
			if len(n.Inputs) != 1 || !isScalarBool(n.Inputs[0].Type) {
				return Type{}, fmt.Errorf("loop_cond needs a scalar bool")
			}
			return n.Inputs[0].Type, nil
		},
		Cost: noCost, Eval: refuseDataflow,
	})
	Register(&OpDef{
		Name: "array_write", Summary: "buffer with its slice at the scalar integer index along axis replaced by value: TensorFlow's TensorArrayWrite as a value (stacks the steps of a lowered scan)",
		Internal: true, Dataflow: true, Inputs: []string{"buffer", "index", "value"},
		Attrs: []AttrSpec{{Name: "axis", Kind: IntArg, Default: 0, Doc: "the axis of buffer that index selects"}},
		Infer: func(n *Node) (Type, error) {
			if len(n.Inputs) != 3 {
				return Type{}, fmt.Errorf("array_write needs a buffer, an index and a value")
			}
			b, i, v := n.Inputs[0].Type, n.Inputs[1].Type, n.Inputs[2].Type
			axis := n.Attrs.Int("axis", 0)
			if b.IsTuple() || axis < 0 || axis >= b.Shape.Rank() {
				return Type{}, fmt.Errorf("array_write: buffer %s has no axis %d", b, axis)
			}
			if i.IsTuple() || !i.DType.IsInt() || i.Shape.Rank() != 0 {
				return Type{}, fmt.Errorf("array_write: the index must be a scalar integer, got %s", i)
			}
			if want := sliceType(b, axis); !v.Equal(want) {
				return Type{}, fmt.Errorf("array_write: a slice of %s along axis %d is %s, got %s", b, axis, want, v)
			}
			return b, nil
		},
		Cost: func(n *Node, cx *Context) Cost {
			b := bytesOf(n.Inputs[2], cx.Binding)
			return Cost{BytesRead: b, BytesWritten: b}
		},
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
			buf, v := in[0], in[2]
			axis := n.Attrs.Int("axis", 0)
			outer, size, inner := splitAxis(buf.Shape, axis)
			t := int(in[1].Data[0])
			if t < 0 || t >= size {
				return nil, fmt.Errorf("array_write: index %d out of range 0..%d", t, size-1)
			}
			out := buf.Clone()
			for o := range outer {
				copy(out.Data[(o*size+t)*inner:(o*size+t+1)*inner], v.Data[o*inner:(o+1)*inner])
			}
			return out, nil
		},
	})
}
