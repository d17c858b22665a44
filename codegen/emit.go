package codegen

import (
	"fmt"
	"slices"

	"github.com/dave/jennifer/jen"

	"github.com/flow-lang/flow/compiler/ir"
)

// emitter writes the Go code that computes one node into its buffer; nil
// code means the node needs none (leaves, inline constants, updates).
type emitter func(c *gen, n *ir.Node) (jen.Code, error)

// plus and minus render a + b and a - b.
func plus(a []*jen.Statement) jen.Code  { return a[0].Op("+").Add(a[1]) }
func minus(a []*jen.Statement) jen.Code { return a[0].Op("-").Add(a[1]) }

// emitters maps every op to its Go emitter. Op families defined in other
// files add theirs with registerEmitters from an init function. A test
// checks that every registered op has one.
var emitters = map[*ir.OpDef]emitter{
	ir.Input:  emitNothing,
	ir.Param:  emitNothing,
	ir.Const:  emitNothing,
	ir.Assign: emitNothing,

	ir.Add:       emitElementwise(plus),
	ir.Sub:       emitElementwise(minus),
	ir.AssignAdd: emitElementwise(plus), // the new value; the train program writes it
	ir.AssignSub: emitElementwise(minus),
	ir.Mul:       emitElementwise(func(a []*jen.Statement) jen.Code { return a[0].Op("*").Add(a[1]) }),
	ir.Div:       emitElementwise(func(a []*jen.Statement) jen.Code { return a[0].Op("/").Add(a[1]) }),
	ir.Neg:       emitElementwise(func(a []*jen.Statement) jen.Code { return jen.Op("-").Add(a[0]) }),
	ir.Exp:       emitScalar("Exp"),
	ir.Log:       emitScalar("Log"),
	ir.Relu:      emitScalar("Relu"),
	ir.ReluGrad:  emitScalar("ReluGrad"),
	ir.Sigmoid:   emitScalar("Sigmoid"),
	ir.Sqrt:      emitScalar("Sqrt"),
	ir.Square:    emitElementwise(func(a []*jen.Statement) jen.Code { return a[0].Clone().Op("*").Add(a[0]) }),

	ir.Softmax:     emitSoftmax(false),
	ir.LogSoftmax:  emitSoftmax(true),
	ir.Sum:         emitReduce,
	ir.Mean:        emitReduce,
	ir.SumTo:       emitReduce,
	ir.BroadcastTo: emitBroadcast,
	ir.Count:       emitCount,
}

func emitNothing(*gen, *ir.Node) (jen.Code, error) { return nil, nil }

// emitScalar is emitElementwise of the runtime's scalar function name
// (runtime.Exp, say) for the node's dtype: name itself for f32, its
// generic form for the other dtypes (scalarFunc).
//
// An f32 exp, sigmoid or tanh emitted as its own loop over a buffer (see
// sliceCall) calls the runtime's slice form instead, which runs vector
// kernels.
func emitScalar(name string) emitter {
	return func(c *gen, n *ir.Node) (jen.Code, error) {
		if code := c.sliceCall(name, n); code != nil {
			return code, nil
		}
		return emitElementwise(runtimeCall(scalarFunc(name, n.Type.DType)))(c, n)
	}
}

// vectorOps are the ops whose float32 runtime function has a slice form,
// runtime.<name>Slice(dst, src), that gives the same values bit for bit
// from vector kernels. Such a node runs best over a buffer of its own,
// so it does not fuse (fuse.go).
var vectorOps = map[*ir.OpDef]bool{ir.Exp: true, ir.Sigmoid: true, ir.Tanh: true}

// vectorNode reports whether n is an f32 node of a vector op.
func vectorNode(n *ir.Node) bool { return vectorOps[n.Op] && n.Type.DType == ir.F32 }

// sliceMin is the fewest elements for which sliceCall calls a slice
// function: below it the slice kernels would compute a padded vector.
const sliceMin = 16

// sliceCall returns runtime.<name>Slice(out[:size], in[:size]) for an f32
// node n of a function with a slice form (vectorOps) that is emitted as
// its own loop: not probed for its expression (fused into a consumer),
// not an epilogue, not split across goroutines, its input a buffer (not
// fused into n, not an inline constant) of its own shape, and at least
// sliceMin elements (or a symbolic count). Otherwise it returns nil and n
// gets the element loop.
func (c *gen) sliceCall(name string, n *ir.Node) jen.Code {
	if !vectorNode(n) || c.probe != nil || c.plan.epilogue[n] != nil || len(n.Inputs) != 1 {
		return nil
	}
	if _, ok := c.plan.parallel[n]; ok {
		return nil
	}
	x := n.Inputs[0]
	if c.plan.fused[x] || scalarConst(x) != nil || !slices.Equal(x.Type.Shape, n.Type.Shape) {
		return nil
	}
	size := numel(n.Type.Shape)
	if size.k == "" && size.c < sliceMin {
		return nil
	}
	return jen.Qual(RuntimePath, name+"Slice").Call(
		jen.Id(c.operand(n)).Index(jen.Empty(), size.code()),
		jen.Id(c.operand(x)).Index(jen.Empty(), size.code()),
	)
}

// scalarFunc names the runtime's scalar function name for elements of
// dtype dt: the float32 function for f32 (runtime.Exp), its generic form
// <name>Of for the others (runtime.ExpOf, instantiated by the argument
// types).
func scalarFunc(name string, dt ir.DType) string {
	if dt == ir.F32 {
		return name
	}
	return name + "Of"
}

func runtimeCall(name string) func(a []*jen.Statement) jen.Code {
	return func(a []*jen.Statement) jen.Code {
		args := make([]jen.Code, len(a))
		for i, x := range a {
			args[i] = x
		}
		return jen.Qual(RuntimePath, name).Call(args...)
	}
}

// readAccess describes how an element-wise loop over shape out reads x.
func (c *gen) readAccess(x *ir.Node, out ir.Shape, insert []int) access {
	if lit := scalarConst(x); lit != nil {
		return access{inline: lit}
	}
	return access{buf: c.operand(x), strides: broadcastStrides(x.Type.Shape, out, insert)}
}

// emitElementwise builds an emitter for an element-wise op from the Go
// expression of one output element.
// Operands fused into n (see fuse.go) are computed in the same loop.
func emitElementwise(expr func(a []*jen.Statement) jen.Code) emitter {
	return func(c *gen, n *ir.Node) (jen.Code, error) {
		if c.probe != nil {
			c.probe.result = expr(c.probe.args)
			return nil, nil
		}
		out := n.Type.Shape
		ops := []access{{buf: c.operand(n), strides: rowMajorStrides(shapeSizes(out))}}
		var args []func(e []*jen.Statement) *jen.Statement
		for _, in := range n.Inputs {
			args = append(args, c.elementTree(in, out, &ops))
		}
		body := func(e []*jen.Statement) jen.Code {
			a := make([]*jen.Statement, len(args))
			for i, f := range args {
				a[i] = f(e)
			}
			return e[0].Op("=").Add(expr(a))
		}
		if _, ok := c.plan.parallel[n]; ok {
			return c.emitParallel(n, ops, body), nil
		}
		return loopNest(shapeSizes(out), ops, body), nil
	}
}

// emitBroadcast copies x into the larger output shape.
func emitBroadcast(c *gen, n *ir.Node) (jen.Code, error) {
	out := n.Type.Shape
	ops := []access{
		{buf: c.operand(n), strides: rowMajorStrides(shapeSizes(out))},
		c.readAccess(n.Inputs[0], out, n.Attrs.Ints("axes")),
	}
	return loopNest(shapeSizes(out), ops, func(e []*jen.Statement) jen.Code {
		return e[0].Op("=").Add(e[1])
	}), nil
}

// emitReduce sums the input over the reduced axes (sum, mean, sum_to):
// it iterates over the input and accumulates into the output, which is
// read with stride 0 along reduced axes; mean then scales by 1/count. An
// element-wise input fused into the reduction is computed in the loop.
func emitReduce(c *gen, n *ir.Node) (jen.Code, error) {
	x := n.Inputs[0]
	in := x.Type.Shape
	var keep ir.Shape // the output in the input's rank, reduced axes as 1
	var count size = one
	switch n.Op {
	case ir.SumTo:
		keep = n.Type.Shape
		off := len(in) - len(keep)
		for i, d := range in {
			if i < off || (!keep[i-off].IsSym() && keep[i-off].Size == 1) {
				count = count.mul(dimSize(d))
			}
		}
	default:
		axes := n.Attrs.Ints("axes")
		keep = make(ir.Shape, len(in))
		for i, d := range in {
			if slices.Contains(axes, i) {
				keep[i] = ir.Fixed(1)
				count = count.mul(dimSize(d))
			} else {
				keep[i] = d
			}
		}
	}
	dst := c.operand(n)
	if lit := scalarConst(x); lit != nil {
		return nil, fmt.Errorf("reduction of an inline constant")
	}
	ops := []access{{buf: dst, strides: broadcastStrides(keep, in, nil)}}
	elem := c.elementTree(x, in, &ops) // x may be fused into the reduction
	code := []jen.Code{
		jen.Clear(jen.Id(dst)),
		loopNest(shapeSizes(in), ops, func(e []*jen.Statement) jen.Code {
			return e[0].Op("+=").Add(elem(e))
		}),
	}
	if n.Op == ir.Mean {
		code = append(code,
			meanScale(n.Type.DType, dst, count)...,
		)
	}
	return jen.Block(code...), nil
}

// meanScale divides the sums in dst by count: floats multiply by the
// reciprocal, integers divide (truncating, as the interpreter does).
func meanScale(dt ir.DType, dst string, count size) []jen.Code {
	if !dt.IsFloat() {
		return []jen.Code{
			jen.For(jen.Id("i").Op(":=").Range().Id(dst)).Block(jen.Id(dst).Index(jen.Id("i")).Op("/=").Add(goType(dt)).Call(count.code())),
		}
	}
	return []jen.Code{
		jen.Id("inv").Op(":=").Lit(1).Op("/").Add(goType(dt)).Call(count.code()),
		jen.For(jen.Id("i").Op(":=").Range().Id(dst)).Block(jen.Id(dst).Index(jen.Id("i")).Op("*=").Id("inv")),
	}
}

// emitCount writes the element count over axes as a scalar.
func emitCount(c *gen, n *ir.Node) (jen.Code, error) {
	in := n.Inputs[0].Type.Shape
	count := one
	for _, a := range n.Attrs.Ints("axes") {
		count = count.mul(dimSize(in[a]))
	}
	return jen.Id(c.operand(n)).Index(jen.Lit(0)).Op("=").Add(goType(n.Type.DType)).Call(count.code()), nil
}

// emitSoftmax computes softmax (or log_softmax, logOut) over the node's
// axis: f32 over the last axis calls the runtime's row kernel; every
// other case (f64, or an axis before the last) is a loop nest over the
// groups of elements along the axis (outer × inner groups of size
// elements, stride inner), computed as the kernels do: the group's
// maximum (NaN if it holds one), then the sum of e^(x-max) in float64.
func emitSoftmax(logOut bool) emitter {
	kernel := "SoftmaxRows"
	if logOut {
		kernel = "LogSoftmaxRows"
	}
	return func(c *gen, n *ir.Node) (jen.Code, error) {
		x := n.Inputs[0]
		if scalarConst(x) != nil {
			return nil, fmt.Errorf("%s of an inline constant", n.Op.Name)
		}
		s := n.Type.Shape
		axis := ir.SoftmaxAxis(n)
		if n.Type.DType == ir.F32 && axis == s.Rank()-1 {
			return emitRows(kernel)(c, n)
		}
		outer, size, inner := numel(s[:axis]), dimSize(s[axis]), numel(s[axis+1:])
		// at(k) indexes element k of the group starting at "at"; k is
		// nil for the first.
		at := func(buf string, k jen.Code) *jen.Statement {
			switch {
			case k == nil:
				return jen.Id(buf).Index(jen.Id("at"))
			case inner.isOne():
				return jen.Id(buf).Index(jen.Id("at").Op("+").Add(k))
			}
			return jen.Id(buf).Index(jen.Id("at").Op("+").Add(k).Op("*").Add(inner.code()))
		}
		// f64 converts an element (f32 or f64) to float64 and elem a
		// float64 back to the element type: conversions for f32, nothing
		// for f64.
		f64 := func(v *jen.Statement) *jen.Statement { return jen.Float64().Call(v) }
		elem := func(v *jen.Statement) *jen.Statement { return jen.Float32().Call(v) }
		if n.Type.DType == ir.F64 {
			f64 = func(v *jen.Statement) *jen.Statement { return v }
			elem = f64
		}
		exp := func(v jen.Code) *jen.Statement { return jen.Qual("math", "Exp").Call(v) }
		group := []jen.Code{
			jen.Id("mx").Op(":=").Add(f64(at("src", nil))),
			forLoopFrom("k", 1, size,
				jen.If(jen.Id("v").Op(":=").Add(f64(at("src", jen.Id("k")))), jen.Id("v").Op(">").Id("mx").Op("||").Id("v").Op("!=").Id("v")).Block(
					jen.Id("mx").Op("=").Id("v"),
				),
			),
			jen.Id("sum").Op(":=").Lit(0.0),
		}
		if logOut {
			group = append(group,
				forLoop("k", size, jen.Id("sum").Op("+=").Add(exp(f64(at("src", jen.Id("k"))).Op("-").Id("mx")))),
				jen.Id("lse").Op(":=").Id("mx").Op("+").Qual("math", "Log").Call(jen.Id("sum")),
				forLoop("k", size, at("dst", jen.Id("k")).Op("=").Add(elem(f64(at("src", jen.Id("k"))).Op("-").Id("lse")))),
			)
		} else {
			group = append(group,
				forLoop("k", size,
					jen.Id("e").Op(":=").Add(exp(f64(at("src", jen.Id("k"))).Op("-").Id("mx"))),
					jen.Id("sum").Op("+=").Id("e"),
					at("dst", jen.Id("k")).Op("=").Add(elem(jen.Id("e"))),
				),
				jen.Id("inv").Op(":=").Lit(1).Op("/").Id("sum"),
				forLoop("k", size, at("dst", jen.Id("k")).Op("=").Add(elem(f64(at("dst", jen.Id("k"))).Op("*").Id("inv")))),
			)
		}
		// The group of (o, i) starts at o*size*inner + i.
		start := jen.Id("o").Op("*").Add(size.mul(inner).code())
		if !inner.isOne() {
			start = start.Op("+").Id("i")
		}
		body := append([]jen.Code{jen.Id("at").Op(":=").Add(start)}, group...)
		if !inner.isOne() {
			body = []jen.Code{forLoop("i", inner, body...)}
		}
		return jen.Block(
			// Locals of their own for the buffers, so that the loops'
			// names cannot shadow one.
			jen.List(jen.Id("src"), jen.Id("dst")).Op(":=").List(jen.Id(c.operand(x)), jen.Id(c.operand(n))),
			forLoop("o", outer, body...),
		), nil
	}
}

// emitRows calls a runtime row kernel (softmax over the last axis).
func emitRows(kernel string) emitter {
	return func(c *gen, n *ir.Node) (jen.Code, error) {
		s := n.Type.Shape
		cols := dimSize(s[len(s)-1])
		rows := numel(s[:len(s)-1])
		return jen.Qual(RuntimePath, kernel).Call(jen.Id(c.operand(n)), jen.Id(c.operand(n.Inputs[0])), rows.code(), cols.code()), nil
	}
}

// emitNode emits node n's code: the kernel call of the epilogue that
// ends at n, else its op's emitter.
func (c *gen) emitNode(n *ir.Node) (jen.Code, error) {
	if c.plan.epilogue[n] != nil {
		return c.emitEpilogue(n)
	}
	return emitters[n.Op](c, n)
}

// HasEmitter reports whether op has a Go emitter.
func HasEmitter(op *ir.OpDef) bool {
	_, ok := emitters[op]
	return ok
}

// registerEmitters adds emitters for more ops; it panics on a duplicate,
// which is a programming error caught by any test run.
func registerEmitters(m map[*ir.OpDef]emitter) {
	for op, e := range m {
		if _, dup := emitters[op]; dup {
			panic("codegen: two emitters for op " + op.Name)
		}
		emitters[op] = e
	}
}
