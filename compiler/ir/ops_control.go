package ir

import (
	"fmt"
	"slices"
)

// Control flow: cond, while and scan own regions (attributes of type
// *Region) that are closed — every value a region uses enters through
// its block arguments (op arg), which the owning node binds from its
// operands. Their value is a tuple of their results, which get nodes
// project. The language writes them as `if`, `while` and `for`
// expressions (compiler/control.go).
//
// Operands and regions:
//
//	cond(pred, x...)            then(x...) -> r..., else(x...) -> r...
//	while(c..., v...)           cond(c..., v...) -> bool, body(c..., v...) -> c'...
//	scan(s..., c..., v...)      body(s_t..., c..., v...) -> y_t..., c'...
//
// c are carried values (their count is the attribute carried), v values
// used unchanged by every trip, s sequences (their count is seqs), each
// cut along its axis (attribute axes) into one step s_t per trip (last
// to first when reverse). A scan's value is (y..., c_final...), each y
// the y_t stacked along its axis (attribute yaxes); a while's is
// c_final.... With record = true (set by their gradients), a while also
// returns its trip count (i32) and both also return the carried values
// each trip started with, stacked along a new leading axis — the stack of
// forward values their reverse loops read.

func init() {
	Register(&OpDef{
		Name: "get", Summary: "element index of a tuple: one result of an op with several results (cond, while, scan)",
		Internal: true, Inputs: []string{"t"},
		Attrs: []AttrSpec{{Name: "index", Kind: IntArg, Doc: "the element"}},
		Infer: func(n *Node) (Type, error) {
			t, i := n.Inputs[0].Type, n.Attrs.Int("index", -1)
			if !t.IsTuple() {
				return Type{}, fmt.Errorf("get needs a tuple, got %s", t)
			}
			if i < 0 || i >= len(t.Elems) {
				return Type{}, fmt.Errorf("get: index %d out of range for a tuple of %d", i, len(t.Elems))
			}
			return t.Elems[i], nil
		},
		Cost: func(*Node, *Context) Cost { return Cost{} },
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
			return in[0].Elems[n.Attrs.Int("index", 0)], nil
		},
	})
	Register(&OpDef{
		Name: "arg", Summary: "a block argument of a region, bound by the node that owns the region",
		Internal: true, Pinned: true,
		Infer: inferDeclared,
		Cost:  func(*Node, *Context) Cost { return Cost{} },
		Eval: func(n *Node, _ []*Tensor, _ *Context) (*Tensor, error) {
			return nil, fmt.Errorf("block argument %s evaluated outside its region", n.Label())
		},
	})
	Register(&OpDef{
		Name: "cond", Summary: "runs region then or region else on the operands x as the scalar bool pred is true or false (the language's if expression)",
		Internal: true, Inputs: []string{"pred", "x"}, Variadic: true,
		Attrs: []AttrSpec{{Name: "then", Kind: RegionArg, Doc: "the region run when pred is true"}, {Name: "else", Kind: RegionArg, Doc: "the region run when pred is false"}},
		Infer: inferCond,
		Grad:  condGrad,
		Cost: func(n *Node, cx *Context) Cost {
			a, b := regionCost(n.Attrs["then"].(*Region), cx), regionCost(n.Attrs["else"].(*Region), cx)
			if b.FLOPs+b.BytesRead+b.BytesWritten > a.FLOPs+a.BytesRead+a.BytesWritten {
				return b
			}
			return a
		},
		Eval: func(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
			r := n.Attrs["else"].(*Region)
			if in[0].Data[0] != 0 {
				r = n.Attrs["then"].(*Region)
			}
			out, err := cx.Region(r, in[1:])
			if err != nil {
				return nil, err
			}
			return NewTuple(out...), nil
		},
	})
	Register(&OpDef{
		Name: "while", Summary: "repeats region body on the carried values while region cond holds, at most limit times when limit > 0 (the language's while expression)",
		Internal: true, Inputs: []string{"x"}, Variadic: true,
		Attrs: []AttrSpec{
			{Name: "carried", Kind: IntArg, Doc: "how many leading operands are carried values"},
			{Name: "limit", Kind: IntArg, Default: 0, Doc: "the most trips (0: no limit)"},
			{Name: "record", Kind: BoolArg, Default: false, Doc: "also return the trip count and the carried values of every trip (for the gradient)"},
			{Name: "cond", Kind: RegionArg, Doc: "the condition region"}, {Name: "body", Kind: RegionArg, Doc: "the body region"},
		},
		Infer: inferWhile,
		Grad:  whileGrad,
		Cost: func(n *Node, cx *Context) Cost {
			trips := float64(max(1, n.Attrs.Int("limit", 0)))
			if cx.Trips != nil {
				trips = cx.Trips(n)
			}
			c, b := regionCost(n.Attrs["cond"].(*Region), cx), regionCost(n.Attrs["body"].(*Region), cx)
			return scaleCost(addCost(c, b), trips)
		},
		Eval: evalWhile,
	})
	Register(&OpDef{
		Name: "scan", Summary: "runs region body once per step of the sequences along axis, carrying values from step to step and stacking the per-step results (the language's for expression)",
		Internal: true, Inputs: []string{"x"}, Variadic: true,
		Attrs: []AttrSpec{
			{Name: "seqs", Kind: IntArg, Doc: "how many leading operands are sequences"},
			{Name: "carried", Kind: IntArg, Doc: "how many operands after them are carried values"},
			{Name: "axes", Kind: IntsArg, Doc: "the axis of each sequence that the steps cut"},
			{Name: "yaxes", Kind: IntsArg, Doc: "the axis each per-step result is stacked along"},
			{Name: "reverse", Kind: BoolArg, Default: false, Doc: "run from the last step to the first"},
			{Name: "record", Kind: BoolArg, Default: false, Doc: "also return the carried values every step started with (for the gradient)"},
			{Name: "body", Kind: RegionArg, Doc: "the step region"},
		},
		Infer: inferScan,
		Grad:  scanGrad,
		Cost: func(n *Node, cx *Context) Cost {
			steps := float64(scanLength(n).Eval(cx.Binding))
			return scaleCost(regionCost(n.Attrs["body"].(*Region), cx), steps)
		},
		Eval: evalScan,
	})
}

// regionCost is the summed cost of r's nodes (nested regions included,
// through their owners' Cost).
func regionCost(r *Region, cx *Context) Cost {
	var c Cost
	for _, n := range r.Nodes {
		c = addCost(c, n.Op.Cost(n, cx))
	}
	return c
}

func addCost(a, b Cost) Cost {
	return Cost{FLOPs: a.FLOPs + b.FLOPs, BytesRead: a.BytesRead + b.BytesRead, BytesWritten: a.BytesWritten + b.BytesWritten}
}

func scaleCost(c Cost, k float64) Cost {
	return Cost{FLOPs: c.FLOPs * k, BytesRead: c.BytesRead * k, BytesWritten: c.BytesWritten * k}
}

// regionOf returns n's region attribute k.
func regionOf(n *Node, k string) (*Region, error) {
	r, ok := n.Attrs[k].(*Region)
	if !ok || r == nil {
		return nil, fmt.Errorf("%s has no %s region", n.Op.Name, k)
	}
	return r, nil
}

// checkArgs checks that region r's block arguments have the types of
// operands.
func checkArgs(op, name string, r *Region, operands []*Node) error {
	if len(r.Args) != len(operands) {
		return fmt.Errorf("%s: region %s has %d block arguments for %d operands", op, name, len(r.Args), len(operands))
	}
	for i, a := range r.Args {
		if !a.Type.Equal(operands[i].Type) {
			return fmt.Errorf("%s: block argument %d of region %s is %s, its operand %s", op, i, name, a.Type, operands[i].Type)
		}
	}
	return nil
}

func inferCond(n *Node) (Type, error) {
	if len(n.Inputs) < 1 {
		return Type{}, fmt.Errorf("cond needs a predicate")
	}
	if p := n.Inputs[0].Type; p.IsTuple() || p.DType != Bool || p.Shape.Rank() != 0 {
		return Type{}, fmt.Errorf("the condition of if must be a scalar bool, got %s", p)
	}
	then, err := regionOf(n, "then")
	if err != nil {
		return Type{}, err
	}
	els, err := regionOf(n, "else")
	if err != nil {
		return Type{}, err
	}
	for i, r := range []*Region{then, els} {
		if err := checkArgs("cond", []string{"then", "else"}[i], r, n.Inputs[1:]); err != nil {
			return Type{}, err
		}
	}
	a, b := TypesOf(then.Results), TypesOf(els.Results)
	if len(a) != len(b) {
		return Type{}, fmt.Errorf("the branches of if give %d and %d values", len(a), len(b))
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return Type{}, fmt.Errorf("the branches of if give different types: %s and %s", a[i], b[i])
		}
	}
	return Tuple(a...), nil
}

func inferWhile(n *Node) (Type, error) {
	k := n.Attrs.Int("carried", -1)
	if k < 0 || k > len(n.Inputs) {
		return Type{}, fmt.Errorf("while: carried = %d out of range for %d operands", k, len(n.Inputs))
	}
	cond, err := regionOf(n, "cond")
	if err != nil {
		return Type{}, err
	}
	body, err := regionOf(n, "body")
	if err != nil {
		return Type{}, err
	}
	if err := checkArgs("while", "cond", cond, n.Inputs); err != nil {
		return Type{}, err
	}
	if err := checkArgs("while", "body", body, n.Inputs); err != nil {
		return Type{}, err
	}
	if len(cond.Results) != 1 || cond.Results[0].Type.IsTuple() || cond.Results[0].Type.DType != Bool || cond.Results[0].Type.Shape.Rank() != 0 {
		return Type{}, fmt.Errorf("the condition of while must be one scalar bool")
	}
	if len(body.Results) != k {
		return Type{}, fmt.Errorf("the body of while gives %d values for %d carried", len(body.Results), k)
	}
	carried := make([]Type, k)
	for i := range carried {
		carried[i] = n.Inputs[i].Type
		if got := body.Results[i].Type; !got.Equal(carried[i]) {
			return Type{}, fmt.Errorf("carried value %d of while enters as %s and leaves the body as %s", i, carried[i], got)
		}
	}
	limit := n.Attrs.Int("limit", 0)
	if limit < 0 {
		return Type{}, fmt.Errorf("while: limit must be at least 0, got %d", limit)
	}
	out := slices.Clone(carried)
	if n.Attrs.Bool("record") {
		if limit == 0 {
			return Type{}, fmt.Errorf("while: recording trips needs a limit")
		}
		out = append(out, Scalar(I32))
		for _, t := range carried {
			out = append(out, stackType(t, 0, Fixed(limit)))
		}
	}
	return Tuple(out...), nil
}

// scanLength returns the length of a scan's sequences.
func scanLength(n *Node) Dim {
	return n.Inputs[0].Type.Shape[n.Attrs.Ints("axes")[0]]
}

// sliceType is t without axis.
func sliceType(t Type, axis int) Type {
	s := slices.Clone(t.Shape)
	return Type{DType: t.DType, Shape: slices.Delete(s, axis, axis+1)}
}

// stackType is t with d inserted at axis.
func stackType(t Type, axis int, d Dim) Type {
	return Type{DType: t.DType, Shape: slices.Insert(slices.Clone(t.Shape), axis, d)}
}

func inferScan(n *Node) (Type, error) {
	q, k := n.Attrs.Int("seqs", -1), n.Attrs.Int("carried", -1)
	if q < 1 || k < 0 || q+k > len(n.Inputs) {
		return Type{}, fmt.Errorf("scan: seqs = %d and carried = %d out of range for %d operands", q, k, len(n.Inputs))
	}
	body, err := regionOf(n, "body")
	if err != nil {
		return Type{}, err
	}
	axes := n.Attrs.Ints("axes")
	if len(axes) != q {
		return Type{}, fmt.Errorf("scan: %d axes for %d sequences", len(axes), q)
	}
	var length Dim
	args := make([]Type, 0, len(n.Inputs))
	for i, in := range n.Inputs {
		t := in.Type
		if i < q {
			a := axes[i]
			if t.IsTuple() || a < 0 || a >= t.Shape.Rank() {
				return Type{}, fmt.Errorf("a sequence of for must have axis %d to step along, got %s", a, t)
			}
			if i == 0 {
				length = t.Shape[a]
			} else if t.Shape[a] != length {
				return Type{}, fmt.Errorf("the sequences of for must have the same length: %s and %s", n.Inputs[0].Type, t)
			}
			t = sliceType(t, a)
		}
		args = append(args, t)
	}
	if len(body.Args) != len(args) {
		return Type{}, fmt.Errorf("scan: the body has %d block arguments for %d operands", len(body.Args), len(args))
	}
	for i, a := range body.Args {
		if !a.Type.Equal(args[i]) {
			return Type{}, fmt.Errorf("scan: block argument %d is %s, want %s", i, a.Type, args[i])
		}
	}
	ny := len(body.Results) - k
	if ny < 0 {
		return Type{}, fmt.Errorf("the body of for gives %d values for %d carried", len(body.Results), k)
	}
	yaxes := n.Attrs.Ints("yaxes")
	if len(yaxes) != ny {
		return Type{}, fmt.Errorf("scan: %d yaxes for %d per-step results", len(yaxes), ny)
	}
	var out []Type
	for i, y := range body.Results[:ny] {
		if y.Type.IsTuple() || yaxes[i] < 0 || yaxes[i] > y.Type.Shape.Rank() {
			return Type{}, fmt.Errorf("scan: per-step result %s cannot be stacked along axis %d", y.Type, yaxes[i])
		}
		out = append(out, stackType(y.Type, yaxes[i], length))
	}
	for i := range k {
		c := n.Inputs[q+i].Type
		if got := body.Results[ny+i].Type; !got.Equal(c) {
			return Type{}, fmt.Errorf("carried value %d of for enters as %s and leaves the body as %s", i, c, got)
		}
		out = append(out, c)
	}
	if n.Attrs.Bool("record") {
		for i := range k {
			out = append(out, stackType(n.Inputs[q+i].Type, 0, length))
		}
	}
	return Tuple(out...), nil
}

func evalWhile(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
	k := n.Attrs.Int("carried", 0)
	limit := n.Attrs.Int("limit", 0)
	record := n.Attrs.Bool("record")
	cond, body := n.Attrs["cond"].(*Region), n.Attrs["body"].(*Region)
	carried := slices.Clone(in[:k])
	invariant := in[k:]
	var stacks [][]*Tensor
	trips := 0
	for limit == 0 || trips < limit {
		args := slices.Concat(carried, invariant)
		c, err := cx.Region(cond, args)
		if err != nil {
			return nil, err
		}
		if c[0].Data[0] == 0 {
			break
		}
		if record {
			stacks = append(stacks, carried)
		}
		next, err := cx.Region(body, args)
		if err != nil {
			return nil, err
		}
		carried = next
		trips++
	}
	out := slices.Clone(carried)
	if record {
		cnt := NewTensor(I32, nil)
		cnt.Data[0] = float64(trips)
		out = append(out, cnt)
		for i := range k {
			steps := make([]*Tensor, limit)
			for t := range steps {
				if t < len(stacks) {
					steps[t] = stacks[t][i]
				} else {
					steps[t] = NewTensor(in[i].DType, in[i].Shape)
				}
			}
			out = append(out, stackTensors(steps, 0))
		}
	}
	return NewTuple(out...), nil
}

func evalScan(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
	q, k := n.Attrs.Int("seqs", 0), n.Attrs.Int("carried", 0)
	axes, yaxes := n.Attrs.Ints("axes"), n.Attrs.Ints("yaxes")
	body := n.Attrs["body"].(*Region)
	length := in[0].Shape[axes[0]]
	carried := slices.Clone(in[q : q+k])
	invariant := in[q+k:]
	ny := len(body.Results) - k
	ys := make([][]*Tensor, ny)
	states := make([][]*Tensor, k)
	for i := range ys {
		ys[i] = make([]*Tensor, length)
	}
	for i := range states {
		states[i] = make([]*Tensor, length)
	}
	for step := range length {
		t := step
		if n.Attrs.Bool("reverse") {
			t = length - 1 - step
		}
		args := make([]*Tensor, 0, len(in))
		for i, s := range in[:q] {
			args = append(args, sliceTensor(s, axes[i], t))
		}
		for i, c := range carried {
			states[i][t] = c
		}
		args = append(append(args, carried...), invariant...)
		res, err := cx.Region(body, args)
		if err != nil {
			return nil, err
		}
		for i := range ny {
			ys[i][t] = res[i]
		}
		carried = res[ny:]
	}
	var out []*Tensor
	for i, y := range ys {
		out = append(out, stackTensors(y, yaxes[i]))
	}
	out = append(out, carried...)
	if n.Attrs.Bool("record") {
		for _, s := range states {
			out = append(out, stackTensors(s, 0))
		}
	}
	return NewTuple(out...), nil
}

// sliceTensor returns step t of x along axis (the axis removed).
func sliceTensor(x *Tensor, axis, t int) *Tensor {
	outer, inner := 1, 1
	for _, d := range x.Shape[:axis] {
		outer *= d
	}
	for _, d := range x.Shape[axis+1:] {
		inner *= d
	}
	n := x.Shape[axis]
	out := NewTensor(x.DType, slices.Delete(slices.Clone(x.Shape), axis, axis+1))
	for o := range outer {
		copy(out.Data[o*inner:(o+1)*inner], x.Data[(o*n+t)*inner:(o*n+t+1)*inner])
	}
	return out
}

// stackTensors stacks equally shaped tensors along a new axis.
func stackTensors(xs []*Tensor, axis int) *Tensor {
	first := xs[0]
	outer, inner := 1, 1
	for _, d := range first.Shape[:axis] {
		outer *= d
	}
	for _, d := range first.Shape[axis:] {
		inner *= d
	}
	out := NewTensor(first.DType, slices.Insert(slices.Clone(first.Shape), axis, len(xs)))
	for t, x := range xs {
		for o := range outer {
			copy(out.Data[(o*len(xs)+t)*inner:(o*len(xs)+t+1)*inner], x.Data[o*inner:(o+1)*inner])
		}
	}
	return out
}

// gradOrZeros returns d, or zeros of t when d is nil.
func gradOrZeros(g *Module, d *Node, t Type) *Node {
	if d != nil {
		return d
	}
	return g.Zeros(t)
}

// gets returns get nodes for elements from..to of tuple n.
func gets(g *Module, n *Node, from, to int) []*Node {
	out := make([]*Node, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, g.MustApply(Get, []*Node{n}, Attrs{"index": i}))
	}
	return out
}

// floatGrads keeps the gradients of floating-point operands and drops
// the others (integers and bools get none).
func floatGrads(ins []*Node, ds []*Node) []*Node {
	out := make([]*Node, len(ins))
	for i, in := range ins {
		if in.Type.DType.IsFloat() {
			out[i] = ds[i]
		}
	}
	return out
}

// gradRegion builds a region whose block arguments are args types then
// dres types, which runs region r's copy on the first and returns the
// gradients of r's block arguments (zeros where none).
func gradRegion(cx *GradContext, r *Region, args []Type, dres []Type) *Region {
	g := cx.Module
	gr := g.NewRegion()
	var as, ds []*Node
	for _, t := range args {
		as = append(as, g.AddArg(gr, t))
	}
	for _, t := range dres {
		ds = append(ds, g.AddArg(gr, t))
	}
	g.Within(gr, func() {
		_, dArgs, _ := cx.Region(r, as, ds, 0)
		for i, d := range dArgs {
			gr.Results = append(gr.Results, gradOrZeros(g, d, args[i]))
		}
	})
	g.SealResults(gr)
	return gr
}

// TypesOf returns the types of nodes ns, in order.
func TypesOf(ns []*Node) []Type {
	ts := make([]Type, len(ns))
	for i, n := range ns {
		ts[i] = n.Type
	}
	return ts
}

// condGrad differentiates cond: a cond on the same predicate whose
// branches are the gradients of the branches.
func condGrad(cx *GradContext, n *Node, dys []*Node) []*Node {
	g := cx.Module
	xs := n.Inputs[1:]
	rts := n.Type.Elems
	for i := range dys {
		dys[i] = gradOrZeros(g, dys[i], rts[i])
	}
	then := gradRegion(cx, n.Attrs["then"].(*Region), TypesOf(xs), rts)
	els := gradRegion(cx, n.Attrs["else"].(*Region), TypesOf(xs), rts)
	gc := g.MustApply(Cond, slices.Concat([]*Node{n.Inputs[0]}, xs, dys), Attrs{"then": then, "else": els})
	return append([]*Node{nil}, floatGrads(xs, gets(g, gc, 0, len(xs)))...)
}

// record turns on a loop's recording of its trips and sets its new,
// longer tuple type; the forward node keeps its uses (get nodes of its
// first results).
func record(n *Node) {
	if n.Attrs.Bool("record") {
		return
	}
	n.Attrs["record"] = true
	t, err := n.Op.Infer(n)
	if err != nil {
		panic("ir: recording a loop's trips: " + err.Error())
	}
	n.Type = t
}

// scanGrad differentiates scan with a reverse scan over the sequences,
// the recorded carried values, the forward values the gradient reads and
// the per-step gradients. Each reverse step runs the derivative of the
// body on what the forward step saved (the values the derivative reads
// are yielded by the forward body and stacked, so nothing is computed
// twice) and carries the gradients of the carried values and the sums of
// the invariants' gradients.
func scanGrad(cx *GradContext, n *Node, dys []*Node) []*Node {
	g := cx.Module
	q, k := n.Attrs.Int("seqs", 0), n.Attrs.Int("carried", 0)
	body := n.Attrs["body"].(*Region)
	ny := len(body.Results) - k
	record(n)
	seqs, invs := n.Inputs[:q], n.Inputs[q+k:]
	ets := n.Type.Elems
	for i := range dys {
		if i < ny+k {
			dys[i] = gradOrZeros(g, dys[i], ets[i])
		}
	}
	dStacked, dFinal := dys[:ny], dys[ny:ny+k]
	// The reverse body: (s_t, c_t, dy_t, saved_t | dc, dv | v) ->
	// (ds_t | dc', dv + dv_t).
	gr := g.NewRegion()
	var st, ct, dyt, dc, dv, v []*Node
	for _, a := range body.Args[:q] {
		st = append(st, g.AddArg(gr, a.Type))
	}
	for _, a := range body.Args[q : q+k] {
		ct = append(ct, g.AddArg(gr, a.Type))
	}
	for _, r := range body.Results[:ny] {
		dyt = append(dyt, g.AddArg(gr, r.Type))
	}
	for _, a := range body.Args[q : q+k] {
		dc = append(dc, g.AddArg(gr, a.Type))
	}
	for _, a := range body.Args[q+k:] {
		dv = append(dv, g.AddArg(gr, a.Type))
	}
	for _, a := range body.Args[q+k:] {
		v = append(v, g.AddArg(gr, a.Type))
	}
	var copies map[*Node]*Node
	g.Within(gr, func() {
		var dArgs []*Node
		_, dArgs, copies = cx.Region(body, slices.Concat(st, ct, v), slices.Concat(dyt, dc), len(v))
		for i := range q {
			gr.Results = append(gr.Results, gradOrZeros(g, dArgs[i], st[i].Type))
		}
		for i := range k {
			gr.Results = append(gr.Results, gradOrZeros(g, dArgs[q+i], ct[i].Type))
		}
		for i := range invs {
			sum := dv[i]
			if d := dArgs[q+k+i]; d != nil {
				sum = g.MustApply(Add, []*Node{dv[i], d}, nil)
			}
			gr.Results = append(gr.Results, sum)
		}
	})
	stacks, stackAxes, added := saveForGradient(g, n, gr, copies, ny)
	g.SealResults(gr)
	states := gets(g, n, ny+added+k, ny+added+2*k)
	axes := slices.Concat(n.Attrs.Ints("axes"), make([]int, k), n.Attrs.Ints("yaxes")[:ny], stackAxes)
	var dv0 []*Node
	for _, in := range invs {
		dv0 = append(dv0, g.Zeros(in.Type))
	}
	seqOps := slices.Concat(seqs, states, dStacked, stacks)
	seqOps, axes = dropUnusedSteps(gr, seqOps, axes)
	operands := slices.Concat(seqOps, dFinal, dv0, invs)
	rs := g.MustApply(Scan, operands, Attrs{
		"seqs": len(seqOps), "carried": k + len(invs), "axes": axes, "yaxes": slices.Clone(n.Attrs.Ints("axes")),
		"reverse": !n.Attrs.Bool("reverse"), "body": gr,
	})
	all := gets(g, rs, 0, q+k+len(invs))
	return floatGrads(n.Inputs, all)
}

// dropUnusedSteps removes the sequences whose step argument region gr
// does not read (the reverse body needs only some of the forward inputs
// and records), keeping one so the scan has a length, and returns the
// remaining sequences and their axes.
func dropUnusedSteps(gr *Region, seqs []*Node, axes []int) ([]*Node, []int) {
	used := Reachable(gr.Results...)
	gr.Keep(used)
	var keep []int
	for i := range seqs {
		if used[gr.Args[i]] {
			keep = append(keep, i)
		}
	}
	if len(keep) == 0 {
		keep = []int{0}
	}
	outSeqs, outAxes := make([]*Node, 0, len(keep)), make([]int, 0, len(keep))
	args := make([]*Node, 0, len(gr.Args))
	for _, i := range keep {
		outSeqs = append(outSeqs, seqs[i])
		outAxes = append(outAxes, axes[i])
		args = append(args, gr.Args[i])
	}
	gr.Args = append(args, gr.Args[len(seqs):]...)
	return outSeqs, outAxes
}

// saveForGradient makes scan n's forward body yield the values of its
// nodes that the reverse body gr reads through their copies (copies),
// and gives gr a step argument for each (after its per-step gradients)
// in place of the copy, which it then drops with whatever only it
// needed. A value the body already yields is read from its stack; the
// others are yielded after n's ny per-step results and stacked along a
// new leading axis. Constants are recomputed rather than saved, and so
// are tuples (nested loops and conds, which their own gradients
// differentiate). It returns the stacks, the axis of each and how many
// yields it added.
func saveForGradient(g *Module, n *Node, gr *Region, copies map[*Node]*Node, ny int) (stacks []*Node, axes []int, added int) {
	body := n.Attrs["body"].(*Region)
	isCopy := map[*Node]bool{}
	for m, c := range copies {
		if m.Region == body && m.Op != Arg {
			isCopy[c] = true
		}
	}
	read := map[*Node]bool{}
	for _, u := range gr.Nodes {
		if isCopy[u] {
			continue
		}
		for _, in := range u.Inputs {
			read[in] = true
		}
	}
	for _, r := range gr.Results {
		read[r] = true
	}
	var saved, fresh []*Node
	for _, m := range body.Nodes {
		if c, ok := copies[m]; ok && read[c] && m.Op != Const && !m.Type.IsTuple() {
			saved = append(saved, m)
			if !slices.Contains(body.Results[:ny], m) {
				fresh = append(fresh, m)
			}
		}
	}
	if len(saved) == 0 {
		return nil, nil, 0
	}
	if len(fresh) > 0 {
		// The forward body yields them after its own per-step results.
		body.Results = slices.Concat(body.Results[:ny], fresh, body.Results[ny:])
		g.SealResults(body)
		n.Attrs["yaxes"] = slices.Concat(n.Attrs.Ints("yaxes"), make([]int, len(fresh)))
		t, err := n.Op.Infer(n)
		if err != nil {
			panic("ir: saving a scan's values for its gradient: " + err.Error())
		}
		n.Type = t
		// Elements after the per-step results moved by len(fresh). The
		// gets of n are nodes of n's own region (regions are closed),
		// which may be a region under construction that no node owns
		// yet (a reverse loop's body copying n).
		for _, u := range n.Region.Nodes {
			if u.Op == Get && u.Inputs[0] == n {
				if i := u.Attrs.Int("index", 0); i >= ny {
					u.Attrs["index"] = i + len(fresh)
				}
			}
		}
	}
	yaxes := n.Attrs.Ints("yaxes")
	args := make([]*Node, len(saved))
	repl := map[*Node]*Node{}
	for i, m := range saved {
		j := slices.Index(body.Results[:ny], m)
		if j < 0 {
			j = ny + slices.Index(fresh, m)
		}
		stacks = append(stacks, g.MustApply(Get, []*Node{n}, Attrs{"index": j}))
		axes = append(axes, yaxes[j])
		args[i] = g.AddArg(gr, m.Type)
		repl[copies[m]] = args[i]
	}
	// The reverse body reads them as step arguments, after dy_t.
	q, k := n.Attrs.Int("seqs", 0), n.Attrs.Int("carried", 0)
	at, pos := len(gr.Args)-len(saved), q+k+ny
	gr.Args = slices.Concat(gr.Args[:pos], gr.Args[at:], gr.Args[pos:at])
	for _, u := range gr.Nodes {
		for i, in := range u.Inputs {
			if r, ok := repl[in]; ok {
				u.Inputs[i] = r
			}
		}
	}
	for i, r := range gr.Results {
		if a, ok := repl[r]; ok {
			gr.Results[i] = a
		}
	}
	gr.Keep(Reachable(gr.Results...))
	return stacks, axes, len(fresh)
}

// whileGrad differentiates while with a loop that walks the recorded
// trips backwards: trip i reruns the body on the carried values trip i
// started with (gathered from the record) and carries the gradients of
// the carried values and the sums of the invariants' gradients.
func whileGrad(cx *GradContext, n *Node, dys []*Node) []*Node {
	g := cx.Module
	k := n.Attrs.Int("carried", 0)
	if n.Attrs.Int("limit", 0) == 0 {
		panic(&NoGradError{Node: n, Msg: "differentiating a while needs a limit on its trips (`limit N`): its gradient keeps the carried values of every trip"})
	}
	body := n.Attrs["body"].(*Region)
	record(n)
	inits, invs := n.Inputs[:k], n.Inputs[k:]
	trips := g.MustApply(Get, []*Node{n}, Attrs{"index": k})
	stacks := gets(g, n, k+1, 2*k+1)
	for i := range k {
		dys[i] = gradOrZeros(g, dys[i], n.Type.Elems[i])
	}
	i32 := Scalar(I32)
	mk := func() (*Region, []*Node) {
		r := g.NewRegion()
		var as []*Node
		as = append(as, g.AddArg(r, i32))
		for _, in := range inits {
			as = append(as, g.AddArg(r, in.Type))
		}
		for _, in := range invs {
			as = append(as, g.AddArg(r, in.Type))
		}
		for _, s := range stacks {
			as = append(as, g.AddArg(r, s.Type))
		}
		for _, in := range invs {
			as = append(as, g.AddArg(r, in.Type))
		}
		return r, as
	}
	cond, ca := mk()
	g.Within(cond, func() {
		cond.Results = []*Node{g.MustApply(Greater, []*Node{ca[0], g.Const(I32, -1)}, nil)}
	})
	gb, ba := mk()
	g.Within(gb, func() {
		i, dc, dv := ba[0], ba[1:1+k], ba[1+k:1+k+len(invs)]
		st, v := ba[1+k+len(invs):1+2*k+len(invs)], ba[1+2*k+len(invs):]
		var ct []*Node
		for _, s := range st {
			ct = append(ct, g.MustApply(Gather, []*Node{s, i}, Attrs{"axis": 0}))
		}
		_, dArgs, _ := cx.Region(body, slices.Concat(ct, v), dc, len(v))
		gb.Results = []*Node{g.MustApply(Sub, []*Node{i, g.Const(I32, 1)}, nil)}
		for j := range k {
			gb.Results = append(gb.Results, gradOrZeros(g, dArgs[j], ct[j].Type))
		}
		for j := range invs {
			sum := dv[j]
			if d := dArgs[k+j]; d != nil {
				sum = g.MustApply(Add, []*Node{dv[j], d}, nil)
			}
			gb.Results = append(gb.Results, sum)
		}
	})
	g.SealResults(cond)
	g.SealResults(gb)
	var dv0 []*Node
	for _, in := range invs {
		dv0 = append(dv0, g.Zeros(in.Type))
	}
	start := g.MustApply(Sub, []*Node{trips, g.Const(I32, 1)}, nil)
	operands := slices.Concat([]*Node{start}, dys[:k], dv0, stacks, invs)
	rw := g.MustApply(While, operands, Attrs{"carried": 1 + k + len(invs), "limit": n.Attrs.Int("limit", 0), "cond": cond, "body": gb})
	all := gets(g, rw, 1, 1+k+len(invs))
	return floatGrads(n.Inputs, all)
}

// NoGradError is a gradient an op cannot build for node Node, phrased
// for users; Grad hooks panic with it and autodiff reports it at the
// node's position.
type NoGradError struct {
	Node *Node
	Msg  string
}

// Error returns the message.
func (e *NoGradError) Error() string { return e.Msg }
