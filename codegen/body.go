package codegen

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/compiler/ir"
)

// program is one entry point's computation: the nodes it schedules.
type program struct {
	name   string     // unexported function name: forward, predict, loss, train
	roots  []*ir.Node // what it computes
	inputs []*ir.Node // the inputs it reads, in declaration order
	// prefix, when set, is a program this one calls first; the nodes
	// it computes are not emitted again.
	prefix *program
}

// programs lists the functions to emit. Predict and the loss share their
// forward nodes through a "forward" program both call, and the train
// program starts with the loss program when it computes the same loss.
// With dropout or batch_norm the train program has a training-mode
// forward pass of its own: it starts with the forward program when it
// needs all of its nodes, else with a "shared" program of the nodes both
// compute (those before the first dropout, say), which forward calls too.
func (c *gen) programs() []program {
	g := c.g
	var predict, loss, train *program
	if len(g.Outputs()) > 0 {
		predict = &program{name: "predict", roots: g.Outputs(), inputs: g.InputsOf(g.Outputs()...)}
	}
	if g.Loss() != nil {
		trainRoots := append([]*ir.Node{g.TrainingLoss()}, g.Updates()...)
		inputs := g.InputsOf(append([]*ir.Node{g.Loss()}, trainRoots...)...)
		loss = &program{name: "loss", roots: []*ir.Node{g.Loss()}, inputs: inputs}
		train = &program{name: "train", roots: trainRoots, inputs: inputs}
	}
	var forward *program
	if predict != nil && loss != nil {
		forward = c.sharedForward(predict, loss)
		predict.prefix, loss.prefix = forward, forward
	}
	var shared *program
	if train != nil {
		switch {
		case g.TrainingLoss() == g.Loss():
			train.prefix = loss
		case forward != nil && subset(g.Schedule(forward.roots...), g.Schedule(train.roots...)):
			train.prefix = forward
		case forward != nil:
			// The training-mode pass departs from the forward nodes
			// (at a dropout, say): both start with the nodes before.
			if shared = c.sharedForward(forward, train); shared != nil {
				shared.name = "shared"
				forward.prefix, train.prefix = shared, shared
			}
		}
	}
	var ps []program
	for _, p := range []*program{shared, forward, predict, loss, train} {
		if p != nil {
			ps = append(ps, *p)
		}
	}
	return ps
}

// sharedForward returns the program of the nodes both a and b compute,
// or nil when they share no node that needs code.
func (c *gen) sharedForward(a, b *program) *program {
	inB := map[*ir.Node]bool{}
	for _, n := range c.g.Schedule(b.roots...) {
		inB[n] = true
	}
	var shared []*ir.Node
	work := false
	for _, n := range c.g.Schedule(a.roots...) {
		if inB[n] {
			shared = append(shared, n)
			work = work || c.plan.computed[n]
		}
	}
	if !work {
		return nil
	}
	return &program{name: "forward", roots: shared, inputs: c.g.InputsOf(shared...)}
}

// subset reports whether every node of a is in b.
func subset(a, b []*ir.Node) bool {
	in := map[*ir.Node]bool{}
	for _, n := range b {
		in[n] = true
	}
	for _, n := range a {
		if !in[n] {
			return false
		}
	}
	return true
}

func (c *gen) body() error {
	c.modelType()
	if err := c.newFunc(); err != nil {
		return err
	}
	c.constVars()
	c.layoutFunc()
	for _, p := range c.plan.facts.progs {
		if err := c.programFunc(p); err != nil {
			return err
		}
	}
	c.api()
	c.signature()
	return nil
}

// modelType declares the Model struct.
func (c *gen) modelType() {
	fields := []jen.Code{
		jen.Comment("params holds the parameters, in declaration order:"),
	}
	for i, p := range c.g.Params {
		fields = append(fields, jen.Comment(fmt.Sprintf("  %d: %s %s", i, p.Name, p.Type)))
	}
	fields = append(fields,
		jen.Id("params").Index(jen.Lit(len(c.g.Params))).Index().Float32(),
		jen.Line(),
		jen.Comment("n is the batch size the buffers are laid out for (-1: none yet)."),
		jen.Id("n").Int(),
	)
	for _, s := range c.moreSyms() {
		fields = append(fields, jen.Comment(fmt.Sprintf("%s is the size of %s the buffers are laid out for (-1: none yet).", c.plan.symIdent[s], s)),
			jen.Id(c.plan.symIdent[s]).Int())
	}
	dts := c.usedDTypes()
	if len(dts) == 0 || (len(dts) == 1 && dts[0] == ir.F32) {
		fields = append(fields, jen.Comment("arena backs every buffer below."), jen.Id("arena").Index().Float32())
	} else {
		for _, dt := range dts {
			fields = append(fields, jen.Comment(fmt.Sprintf("%s backs the %s buffers below.", arenaField(dt), goTypeName(dt))),
				jen.Id(arenaField(dt)).Index().Add(goType(dt)))
		}
	}
	fields = append(fields,
		jen.Comment("outs holds PredictFeed's results without allocating."),
		jen.Id("outs").Index(jen.Lit(len(c.g.Outputs()))).Index().Float32(),
	)
	for i, in := range c.g.Inputs {
		if in.Type.DType != ir.F32 {
			fields = append(fields, jen.Id(feedInField(i)).Index().Add(goType(in.Type.DType)).
				Comment(fmt.Sprintf("the feeds' %s, converted from float32", in.Name)))
		}
	}
	for i, o := range c.g.Outputs() {
		if o.Type.DType != ir.F32 {
			fields = append(fields, jen.Id(feedOutField(i)).Index().Float32().
				Comment(fmt.Sprintf("PredictFeed's %s, converted to float32", c.g.OutputNames()[i])))
		}
	}
	fields = append(fields, jen.Line())
	if len(c.plan.trainOnly) > 0 {
		fields = append(fields, jen.Id("training").Bool().Comment("set during TrainStep: loops keep what their gradients read"))
	}
	for _, n := range c.allNodes() {
		if _, ok := c.plan.parallel[n]; ok {
			fields = append(fields, jen.Id(loopField(n)).Id(c.plan.loopTypes[n].name).Comment("the parallel loop of "+n.Label()))
		}
	}
	for _, n := range c.plan.bufs {
		fields = append(fields, jen.Id(c.plan.bufField(n)).Index().Add(goType(n.Type.DType)).Comment(nodeComment(n)))
	}
	c.f.Comment(fmt.Sprintf("Model is one instance of %s: its parameters and working buffers.", c.g.Name))
	c.f.Comment("It is not safe for concurrent use; use one Model per goroutine.")
	c.f.Type().Id("Model").Struct(fields...)
}

// nodeComment describes a node for comments in generated code.
func nodeComment(n *ir.Node) string {
	var ins []string
	for _, in := range n.Inputs {
		ins = append(ins, in.Label())
	}
	s := fmt.Sprintf("%s = %s(%s) %s", n.Label(), n.Op.Name, strings.Join(ins, ", "), n.Type)
	if n.Pos.IsValid() {
		s += fmt.Sprintf(", line %d", n.Pos.Line)
	}
	if n.Role != ir.Forward {
		s += " [" + n.Role.String() + "]"
	}
	return s
}

// newFunc emits New, which allocates and initializes the params.
func (c *gen) newFunc() error {
	unset := []field{{"n", jen.Lit(-1)}}
	for _, s := range c.moreSyms() {
		unset = append(unset, field{c.plan.symIdent[s], jen.Lit(-1)})
	}
	body := []jen.Code{jen.Id("m").Op(":=").Op("&").Id("Model").Add(keyed(unset...))}
	for i, p := range c.g.Params {
		dst := jen.Id("m").Dot("params").Index(jen.Lit(i))
		body = append(body, dst.Clone().Op("=").Make(jen.Index().Float32(), jen.Lit(p.Type.Shape.NumElements(nil))).
			Comment(p.Name+" "+p.Type.String()))
		a := p.Attrs
		switch a.String("init", "zeros") {
		case "zeros":
		case "ones":
			body = append(body, jen.Qual(RuntimePath, "InitConstant").Call(dst.Clone(), jen.Lit(1.0)))
		case "constant":
			body = append(body, jen.Qual(RuntimePath, "InitConstant").Call(dst.Clone(), jen.Lit(a.Float("value", 0))))
		case "normal":
			body = append(body, jen.Qual(RuntimePath, "InitNormal").Call(dst.Clone(),
				jen.Lit(a.Float("mean", 0)), jen.Lit(a.Float("stddev", 0)), jen.Lit(uint64(a.Int("seed", 0)))))
		case "uniform":
			body = append(body, jen.Qual(RuntimePath, "InitUniform").Call(dst.Clone(),
				jen.Lit(a.Float("low", 0)), jen.Lit(a.Float("high", 0)), jen.Lit(uint64(a.Int("seed", 0)))))
		case "truncated_normal":
			body = append(body, jen.Qual(RuntimePath, "InitTruncatedNormal").Call(dst.Clone(),
				jen.Lit(a.Float("mean", 0)), jen.Lit(a.Float("stddev", 0)), jen.Lit(uint64(a.Int("seed", 0)))))
		case "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "orthogonal":
			fn := map[string]string{"glorot_uniform": "InitGlorotUniform", "glorot_normal": "InitGlorotNormal",
				"he_uniform": "InitHeUniform", "he_normal": "InitHeNormal", "orthogonal": "InitOrthogonal"}[a.String("init", "")]
			var dims []jen.Code
			for _, d := range p.Type.Shape.Eval(nil) {
				dims = append(dims, jen.Lit(d))
			}
			body = append(body, jen.Qual(RuntimePath, fn).Call(dst.Clone(),
				jen.Index().Int().Values(dims...), jen.Lit(uint64(a.Int("seed", 0)))))
		case "restore":
			bits := make([]byte, 0, 4*p.Type.Shape.NumElements(nil))
			for _, v := range compiler.Restored(p) {
				bits = binary.LittleEndian.AppendUint32(bits, math.Float32bits(v))
			}
			body = append(body, jen.Qual(RuntimePath, "InitBits").Call(dst.Clone(), jen.Lit(string(bits))).
				Comment(fmt.Sprintf("tensor %q of %s", a.String("name", ""), a.String("file", ""))))
		default:
			return fmt.Errorf("codegen: param %s: no code for initializer %q", p.Name, a.String("init", ""))
		}
	}
	body = append(body, jen.Return(jen.Id("m")))
	c.f.Comment(fmt.Sprintf("New returns a %s with every parameter at its initial value. Buffers", c.g.Name))
	c.f.Comment("are allocated on the first call, sized for that call's batch.")
	c.f.Func().Id("New").Params().Op("*").Id("Model").Block(body...)
	return nil
}

// constVars emits package variables for tensor constants.
func (c *gen) constVars() {
	var nodes []*ir.Node
	for n := range c.plan.constVar {
		nodes = append(nodes, n)
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].ID < nodes[j].ID })
	for _, n := range nodes {
		var vals []jen.Code
		for _, v := range n.Attrs.Floats("values") {
			vals = append(vals, jen.Id(elemText(n.Type.DType, v)))
		}
		c.f.Var().Id(c.plan.constVar[n]).Op("=").Index().Add(goType(n.Type.DType)).Values(vals...).Comment(n.Type.String())
	}
}

// layoutFunc emits layout, which carves the arena into buffers for a
// batch size, allocating only when the arena must grow.
func (c *gen) layoutFunc() {
	same := jen.Id("n").Op("==").Id("m").Dot("n")
	for _, s := range c.moreSyms() {
		v := c.plan.symIdent[s]
		same = same.Op("&&").Id(v).Op("==").Id("m").Dot(v)
	}
	body := []jen.Code{
		jen.If(same).Block(jen.Return()),
	}
	if c.plan.needs.grows() {
		// The arena's size is computed in int: refuse a batch size for
		// which it would wrap around (on the target's int, 32 or 64 bits).
		if len(c.moreSyms()) == 0 {
			body = append(body, jen.If(jen.Op("!").Id("signature").Dot("Memory").Dot("FitsInt").Call(jen.Id("n"))).Block(
				jen.Panic(jen.Qual("fmt", "Sprintf").Call(
					jen.Lit(fmt.Sprintf("%s: batch size %%d is out of range: its working buffers would take more bytes than an int holds", c.g.Name)),
					jen.Id("n"))),
			))
		} else {
			var what []string
			for i, s := range c.g.Syms {
				what = append(what, fmt.Sprintf("%s = %%d", c.symArgs()[i]))
				_ = s
			}
			body = append(body, jen.If(jen.Op("!").Id("signature").Dot("Memory").Dot("FitsInt").Call(c.symArgCodes()...)).Block(
				jen.Panic(jen.Qual("fmt", "Sprintf").Call(
					append([]jen.Code{jen.Lit(fmt.Sprintf("%s: sizes %s are out of range: the working buffers would take more bytes than an int holds", c.g.Name, strings.Join(what, ", ")))},
						c.symArgCodes()...)...)),
			))
		}
	}
	dts := c.usedDTypes()
	if len(dts) == 0 {
		dts = []ir.DType{ir.F32}
	}
	for _, dt := range dts {
		arena := arenaField(dt)
		stmts := []jen.Code{
			jen.Id("size").Op(":=").Add(polyCode(c.arenaSize(dt))),
			jen.If(jen.Cap(jen.Id("m").Dot(arena)).Op("<").Id("size")).Block(
				jen.Id("m").Dot(arena).Op("=").Make(jen.Index().Add(goType(dt)), jen.Id("size")),
			),
			jen.Id("a").Op(":=").Id("m").Dot(arena).Index(jen.Empty(), jen.Id("size")),
		}
		stmts = append(stmts, c.plan.mem.layout(dt, c.plan.bufField)...)
		stmts = append(stmts, jen.Id("_").Op("=").Id("a"))
		if len(dts) == 1 {
			body = append(body, stmts...)
		} else {
			// One block per arena, so that size and a are declared anew.
			body = append(body, jen.Comment(fmt.Sprintf("The %s buffers.", goTypeName(dt))), jen.Block(stmts...))
		}
	}
	body = append(body, jen.Id("m").Dot("n").Op("=").Id("n"))
	for _, s := range c.moreSyms() {
		v := c.plan.symIdent[s]
		body = append(body, jen.Id("m").Dot(v).Op("=").Id(v))
	}
	if len(c.moreSyms()) == 0 {
		c.f.Comment("layout carves the arena into buffers for batch size n; buffers that are never")
		c.f.Comment("live at the same time share memory. It allocates only when the arena must")
		c.f.Comment("grow, so repeated calls at one batch size allocate nothing.")
	} else {
		c.f.Comment(fmt.Sprintf("layout carves the arena into buffers for sizes %s (%s); buffers that are", strings.Join(c.symArgs(), ", "), strings.Join(c.g.Syms, ", ")))
		c.f.Comment("never live at the same time share memory. It runs again when a size changes")
		c.f.Comment("and allocates only when the arena must grow, so calls whose sizes grow no")
		c.f.Comment("dimension past the largest laid out so far allocate nothing.")
	}
	c.f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("layout").Params(c.symParams()).Block(body...)
}

// polyCode renders a polynomial as Go, highest terms first.
func polyCode(p poly) *jen.Statement {
	ks := p.monos()
	var e *jen.Statement
	for i := len(ks) - 1; i >= 0; i-- {
		t := size{c: p[ks[i]], k: ks[i]}.code()
		if e == nil {
			e = t
		} else {
			e = e.Op("+").Add(t)
		}
	}
	if e == nil {
		return jen.Lit(0)
	}
	return e
}

// programFunc emits the unexported function that runs one program.
func (c *gen) programFunc(p program) error {
	c.used = map[string]local{}
	var code []jen.Code
	if p.prefix != nil {
		code = append(code, jen.Comment("First the "+p.prefix.name+" program."),
			jen.Id("m").Dot(p.prefix.name).Call(c.inputArgs(p.prefix.inputs)...))
	}
	for _, n := range c.codeOrder(&p) {
		stmt, err := c.emitNode(n)
		if err != nil {
			return fmt.Errorf("codegen: %s: %s: %v", n.Pos, n.Op.Name, err)
		}
		if stmt == nil {
			continue
		}
		code = append(code, jen.Comment(nodeComment(n)), stmt)
	}
	if p.name == "train" {
		code = append(code, jen.Comment("Apply the updates after every read of the old values."))
		for _, u := range c.g.Updates() {
			if c.plan.inPlace[updateValue(u)] != nil {
				continue // computed in the param's storage
			}
			code = append(code, jen.Copy(jen.Id(c.operand(u.Inputs[0])), jen.Id(c.operand(updateValue(u)))))
		}
	}
	locals := []jen.Code{jen.Id("m").Dot("layout").Call(c.symArgCodes()...)}
	var names []string
	for name := range c.used {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return c.used[names[i]].before(c.used[names[j]]) })
	for _, name := range names {
		if l := c.used[name]; l.param {
			locals = append(locals, jen.Id(name).Op(":=").Id("m").Dot("params").Index(jen.Lit(l.key)))
		} else {
			locals = append(locals, jen.Id(name).Op(":=").Id("m").Dot(name))
		}
	}
	params := []jen.Code{c.symParams()}
	for _, in := range p.inputs {
		params = append(params, jen.Id(c.plan.argNames[in]).Index().Add(goType(in.Type.DType)))
	}
	if len(p.inputs) == 0 || !usesN(c.g) {
		locals = append(locals, jen.Id("_").Op("=").Id("n"))
	}
	c.f.Comment(fmt.Sprintf("%s runs the %s program for a batch of n%s.", p.name, p.name, c.moreSymsDoc()))
	c.f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id(p.name).Params(params...).Block(append(locals, code...)...)
	return nil
}

func usesN(g *ir.Module) bool { return len(g.Syms) > 0 }

// moreSyms are the model's symbolic dimensions after the batch, whose
// sizes are arguments after n.
func (c *gen) moreSyms() []string {
	if len(c.g.Syms) > 1 {
		return c.g.Syms[1:]
	}
	return nil
}

// symArgs are the Go names of the symbolic dimensions' arguments: n,
// then moreSyms's.
func (c *gen) symArgs() []string {
	out := []string{"n"}
	for _, s := range c.moreSyms() {
		out = append(out, c.plan.symIdent[s])
	}
	return out
}

// symArgCodes are symArgs as expressions.
func (c *gen) symArgCodes() []jen.Code {
	var out []jen.Code
	for _, a := range c.symArgs() {
		out = append(out, jen.Id(a))
	}
	return out
}

// symParams declares the symbolic dimensions' parameters: "n int", or
// "n, t int".
func (c *gen) symParams() jen.Code {
	if len(c.moreSyms()) == 0 {
		return jen.Id("n").Int()
	}
	return jen.List(c.symArgCodes()...).Int()
}

// moreSymsDoc says in a doc comment what moreSyms's arguments are: ""
// with none, else " and t steps of T" and the like.
func (c *gen) moreSymsDoc() string {
	var parts []string
	for _, s := range c.moreSyms() {
		parts = append(parts, fmt.Sprintf("%s the size of %s", c.plan.symIdent[s], s))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// api emits the public methods: Predict, TrainStep, Loss, the feed
// adapters of runtime.Model, and Params.
func (c *gen) api() {
	g := c.g
	c.f.Comment("check panics when a caller passes a slice of the wrong length.")
	c.f.Func().Id("check").Params(jen.List(jen.Id("method"), jen.Id("name")).String(), jen.List(jen.Id("got"), jen.Id("want"), jen.Id("n")).Int()).Block(
		jen.If(jen.Id("n").Op("<=").Lit(0)).Block(
			jen.Panic(jen.Qual("fmt", "Sprintf").Call(jen.Lit(c.pkg+": %s: batch size must be positive, got %d"), jen.Id("method"), jen.Id("n"))),
		),
		jen.If(jen.Id("got").Op("!=").Id("want")).Block(
			jen.Panic(jen.Qual("fmt", "Sprintf").Call(jen.Lit(c.pkg+": %s: %s has %d elements, want %d for a batch of %d"),
				jen.Id("method"), jen.Id("name"), jen.Id("got"), jen.Id("want"), jen.Id("n"))),
		),
	)
	if len(c.moreSyms()) > 0 {
		c.f.Comment("checkSym panics when a caller passes a size that is not positive.")
		c.f.Func().Id("checkSym").Params(jen.List(jen.Id("method"), jen.Id("name")).String(), jen.Id("v").Int()).Block(
			jen.If(jen.Id("v").Op("<=").Lit(0)).Block(
				jen.Panic(jen.Qual("fmt", "Sprintf").Call(jen.Lit(c.pkg+": %s: %s must be positive, got %d"), jen.Id("method"), jen.Id("name"), jen.Id("v"))),
			),
		)
		c.f.Comment("derive returns the size of symbolic dimension sym that a feed of got elements")
		c.f.Comment("has, per elements for each unit of it; it panics when there is none.")
		c.f.Func().Id("derive").Params(jen.List(jen.Id("method"), jen.Id("name"), jen.Id("sym")).String(), jen.List(jen.Id("got"), jen.Id("per"), jen.Id("n")).Int()).Int().Block(
			jen.If(jen.Id("n").Op("<=").Lit(0)).Block(
				jen.Panic(jen.Qual("fmt", "Sprintf").Call(jen.Lit(c.pkg+": %s: batch size must be positive, got %d"), jen.Id("method"), jen.Id("n"))),
			),
			jen.If(jen.Id("per").Op("<=").Lit(0).Op("||").Id("got").Op("<=").Lit(0).Op("||").Id("got").Op("%").Id("per").Op("!=").Lit(0)).Block(
				jen.Panic(jen.Qual("fmt", "Sprintf").Call(jen.Lit(c.pkg+": %s: %s has %d elements, not a positive multiple of %d (its elements per unit of %s for a batch of %d)"),
					jen.Id("method"), jen.Id("name"), jen.Id("got"), jen.Id("per"), jen.Id("sym"), jen.Id("n"))),
			),
			jen.Return(jen.Id("got").Op("/").Id("per")),
		)
	}
	for _, p := range c.plan.facts.progs {
		switch p.name {
		case "predict":
			c.publicPredict(p)
		case "loss", "train":
			c.publicScalar(p)
		}
	}
	// Feeds.
	feed := func(name string, inputs []*ir.Node) []jen.Code {
		var args []jen.Code
		for i := range inputs {
			args = append(args, jen.Id("in").Index(jen.Lit(i)))
		}
		return []jen.Code{
			jen.If(jen.Len(jen.Id("in")).Op("!=").Lit(len(inputs))).Block(
				jen.Panic(jen.Qual("fmt", "Sprintf").Call(jen.Lit(fmt.Sprintf("%s: %s: got %%d inputs, want %d", c.pkg, name, len(inputs))), jen.Len(jen.Id("in")))),
			),
		}
	}
	var predIn, trainIn []*ir.Node
	for _, p := range c.plan.facts.progs {
		switch p.name {
		case "predict":
			predIn = p.inputs
		case "train":
			trainIn = p.inputs
		}
	}
	inIndex := map[*ir.Node]int{}
	for i, in := range g.Inputs {
		inIndex[in] = i
	}
	// inArgs passes the feeds on, converting those of other dtypes from
	// float32 into the model's conversion buffers.
	inArgs := func(method string, inputs []*ir.Node, body *[]jen.Code) []jen.Code {
		*body = append(*body, c.deriveSyms(method, inputs)...)
		args := c.symArgCodes()
		for i, in := range inputs {
			feed := jen.Id("in").Index(jen.Lit(i))
			if in.Type.DType != ir.F32 {
				conv := "FromFloat32"
				if in.Type.DType == ir.Bool {
					conv = "BoolFromFloat32"
				}
				field := jen.Id("m").Dot(feedInField(inIndex[in]))
				*body = append(*body, field.Clone().Op("=").Qual(RuntimePath, conv).Call(field.Clone(), feed))
				feed = field
			}
			args = append(args, feed)
		}
		return args
	}
	recv := jen.Params(jen.Id("m").Op("*").Id("Model"))
	// PredictFeed
	{
		body := feed("PredictFeed", predIn)
		if len(g.Outputs()) > 0 {
			var outs []jen.Code
			var conv []jen.Code
			for i, o := range g.Outputs() {
				if o.Type.DType == ir.F32 {
					outs = append(outs, jen.Id("m").Dot("outs").Index(jen.Lit(i)))
					continue
				}
				// Outputs of other dtypes are converted to float32.
				v := "o" + strconv.Itoa(i)
				outs = append(outs, jen.Id(v))
				fn := "ToFloat32"
				if o.Type.DType == ir.Bool {
					fn = "BoolToFloat32"
				}
				field := jen.Id("m").Dot(feedOutField(i))
				conv = append(conv,
					field.Clone().Op("=").Qual(RuntimePath, fn).Call(field.Clone(), jen.Id(v)),
					jen.Id("m").Dot("outs").Index(jen.Lit(i)).Op("=").Add(field.Clone()))
			}
			op := "="
			if len(conv) > 0 {
				op = ":="
				for i, o := range g.Outputs() {
					if o.Type.DType == ir.F32 {
						outs[i] = jen.Id("o" + strconv.Itoa(i))
						conv = append(conv, jen.Id("m").Dot("outs").Index(jen.Lit(i)).Op("=").Id("o"+strconv.Itoa(i)))
					}
				}
			}
			args := inArgs("PredictFeed", predIn, &body)
			body = append(body, jen.List(outs...).Op(op).Id("m").Dot("Predict").Call(args...))
			body = append(body, conv...)
			body = append(body, jen.Return(jen.Id("m").Dot("outs").Index(jen.Empty(), jen.Empty())))
		} else {
			body = append(body, jen.Return(jen.Nil()))
		}
		c.f.Comment("PredictFeed implements runtime.Model: Predict with inputs in Signature().PredictInputs order.")
		c.f.Func().Add(recv.Clone()).Id("PredictFeed").Params(jen.Id("n").Int(), jen.Id("in").Index().Index().Float32()).Index().Index().Float32().Block(body...)
	}
	for _, f := range []struct{ feed, method string }{{"TrainFeed", "TrainStep"}, {"LossFeed", "Loss"}} {
		body := feed(f.feed, trainIn)
		if g.Loss() != nil {
			args := inArgs(f.feed, trainIn, &body)
			call := jen.Id("m").Dot(f.method).Call(args...)
			if g.Loss().Type.DType != ir.F32 {
				call = jen.Float32().Call(call)
			}
			body = append(body, jen.Return(call))
		} else {
			body = append(body, jen.Panic(jen.Lit(fmt.Sprintf("%s: %s: the model has no train statement", c.pkg, f.feed))))
		}
		c.f.Comment(fmt.Sprintf("%s implements runtime.Model: %s with inputs in Signature().TrainInputs order.", f.feed, f.method))
		c.f.Func().Add(recv.Clone()).Id(f.feed).Params(jen.Id("n").Int(), jen.Id("in").Index().Index().Float32()).Float32().Block(body...)
	}
	// Params
	var ps []jen.Code
	for i, p := range g.Params {
		var dims []jen.Code
		for _, d := range p.Type.Shape {
			dims = append(dims, jen.Lit(d.Size))
		}
		ps = append(ps, runtimeKeyed("Param", map[string]jen.Code{
			"Name":  jen.Lit(p.Name),
			"Shape": jen.Index().Int().Values(dims...),
			"Data":  jen.Id("m").Dot("params").Index(jen.Lit(i)),
		}))
	}
	c.f.Comment("Params returns the parameters in declaration order; their Data aliases the")
	c.f.Comment("model's storage, so writing to it sets the parameter.")
	c.f.Func().Add(recv.Clone()).Id("Params").Params().Index().Qual(RuntimePath, "Param").Block(
		jen.Return(jen.Index().Qual(RuntimePath, "Param").Values(ps...)),
	)
	c.f.Comment("Save writes every parameter (optimizer state included) to path as a")
	c.f.Comment("safetensors checkpoint, atomically: a crash leaves the previous file intact.")
	c.f.Func().Add(recv.Clone()).Id("Save").Params(jen.Id("path").String()).Error().Block(
		jen.Return(jen.Qual(CheckpointPath, "Save").Call(jen.Id("path"), jen.Id("m").Dot("Params").Call(),
			jen.Map(jen.String()).String().Values(jen.Dict{
				jen.Lit("model"):  jen.Lit(c.g.Name),
				jen.Lit("source"): jen.Lit(c.opts.Source),
			}))),
	)
	c.f.Comment("Restore sets every parameter from a safetensors checkpoint written by Save.")
	c.f.Comment("It checks every tensor's name, dtype and shape first, and changes nothing")
	c.f.Comment("when the file does not match the model.")
	c.f.Func().Add(recv.Clone()).Id("Restore").Params(jen.Id("path").String()).Error().Block(
		jen.Return(jen.Qual(CheckpointPath, "Restore").Call(jen.Id("path"), jen.Id("m").Dot("Params").Call())),
	)
	c.f.Comment("Signature implements runtime.Model.")
	c.f.Func().Add(recv.Clone()).Id("Signature").Params().Op("*").Qual(RuntimePath, "Signature").Block(
		jen.Return(jen.Op("&").Id("signature")),
	)
	c.f.Comment("Signature describes the model without making one: its inputs, outputs,")
	c.f.Comment("params and the memory it needs (runtime.CheckMemory checks that before New).")
	c.f.Func().Id("Signature").Params().Op("*").Qual(RuntimePath, "Signature").Block(
		jen.Return(jen.Op("&").Id("signature")),
	)
	c.f.Var().Id("_").Qual(RuntimePath, "Model").Op("=").Parens(jen.Op("*").Id("Model")).Parens(jen.Nil())
}

// deriveSyms declares the arguments of moreSyms in a feed method (the
// feeds in, of inputs): each from the length of the first feed whose
// shape has the symbol once and no other symbol not yet known, divided
// by its elements per unit of the symbol (derive panics when it does not
// divide); a symbol no feed has keeps the size laid out last (1 at
// first), which no buffer the method computes depends on.
func (c *gen) deriveSyms(method string, inputs []*ir.Node) []jen.Code {
	var out []jen.Code
	known := map[string]bool{}
	if len(c.g.Syms) > 0 {
		known[c.g.Syms[0]] = true
	}
	for _, s := range c.moreSyms() {
		v := c.plan.symIdent[s]
		var found jen.Code
		for i, in := range inputs {
			per, uses, ok := one, 0, true
			for _, d := range in.Type.Shape {
				switch {
				case d.Sym == s:
					uses++
				case d.IsSym() && !known[d.Sym]:
					ok = false
				default:
					per = per.mul(dimSize(d))
				}
			}
			if ok && uses == 1 {
				found = jen.Id(v).Op(":=").Id("derive").Call(jen.Lit(method), jen.Lit(in.Name), jen.Lit(s),
					jen.Len(jen.Id("in").Index(jen.Lit(i))), per.code(), jen.Id("n"))
				break
			}
		}
		if found == nil {
			found = jen.Id(v).Op(":=").Max(jen.Id("m").Dot(v), jen.Lit(1))
		}
		out = append(out, found)
		known[s] = true
	}
	return out
}

// inputChecks validates the caller's slices.
func (c *gen) inputChecks(method string, inputs []*ir.Node) []jen.Code {
	var out []jen.Code
	for _, s := range c.moreSyms() {
		v := c.plan.symIdent[s]
		out = append(out, jen.Id("checkSym").Call(jen.Lit(method), jen.Lit(v), jen.Id(v)))
	}
	for _, in := range inputs {
		out = append(out, jen.Id("check").Call(jen.Lit(method), jen.Lit(in.Name), jen.Len(jen.Id(c.plan.argNames[in])),
			numel(in.Type.Shape).code(), jen.Id("n")))
	}
	if len(inputs) == 0 {
		out = append(out, jen.Id("check").Call(jen.Lit(method), jen.Lit("n"), jen.Lit(0), jen.Lit(0), jen.Id("n")))
	}
	return out
}

func (c *gen) inputParams(inputs []*ir.Node) []jen.Code {
	params := []jen.Code{c.symParams()}
	for _, in := range inputs {
		params = append(params, jen.Id(c.plan.argNames[in]).Index().Add(goType(in.Type.DType)))
	}
	return params
}

func (c *gen) inputArgs(inputs []*ir.Node) []jen.Code {
	args := c.symArgCodes()
	for _, in := range inputs {
		args = append(args, jen.Id(c.plan.argNames[in]))
	}
	return args
}

func inputDoc(inputs []*ir.Node) string {
	var parts []string
	for _, in := range inputs {
		parts = append(parts, fmt.Sprintf("%s holds %s", in.Name, in.Type))
	}
	return strings.Join(parts, ", ")
}

func (c *gen) publicPredict(p program) {
	g := c.g
	body := c.inputChecks("Predict", p.inputs)
	body = append(body, jen.Id("m").Dot("predict").Call(c.inputArgs(p.inputs)...))
	var rets, results []jen.Code
	for i, o := range g.Outputs() {
		results = append(results, jen.Id(c.plan.outNames[i]).Index().Add(goType(o.Type.DType)))
		rets = append(rets, jen.Id("m").Dot(c.plan.bufField(o)))
	}
	body = append(body, jen.Return(rets...))
	c.f.Comment(fmt.Sprintf("Predict computes %s for a batch of n examples%s; %s, in row-major order.", outputList(g), c.moreSymsDoc(), inputDoc(p.inputs)))
	c.f.Comment("The results alias the model's buffers and stay valid until the next call.")
	c.f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("Predict").Params(c.inputParams(p.inputs)...).Parens(jen.List(results...)).Block(body...)
}

func (c *gen) publicScalar(p program) {
	method := map[string]string{"loss": "Loss", "train": "TrainStep"}[p.name]
	body := c.inputChecks(method, p.inputs)
	call := jen.Id("m").Dot(p.name).Call(c.inputArgs(p.inputs)...)
	if p.name == "train" && len(c.plan.trainOnly) > 0 {
		body = append(body, jen.Id("m").Dot("training").Op("=").True(), call, jen.Id("m").Dot("training").Op("=").False())
	} else {
		body = append(body, call)
	}
	loss := c.g.Loss()
	if p.name == "train" {
		loss = c.g.TrainingLoss()
	}
	body = append(body, jen.Return(jen.Id("m").Dot(c.plan.bufField(loss)).Index(jen.Lit(0))))
	// "the loss xent", but "the loss" for a loss named loss.
	theLoss := "the loss " + c.g.Loss().Label()
	if c.g.Loss().Label() == "loss" {
		theLoss = "the loss"
	}
	if p.name == "train" {
		c.f.Comment(fmt.Sprintf("TrainStep runs one step of %s on a batch of n examples%s (%s) and", optimizerString(c.g.Optimizer), c.moreSymsDoc(), inputDoc(p.inputs)))
		c.f.Comment(fmt.Sprintf("returns %s computed before the update.", theLoss))
	} else {
		c.f.Comment(fmt.Sprintf("Loss returns %s on a batch of n examples%s (%s) without", theLoss, c.moreSymsDoc(), inputDoc(p.inputs)))
		c.f.Comment("updating any parameter.")
	}
	c.f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id(method).Params(c.inputParams(p.inputs)...).Add(goType(c.g.Loss().Type.DType)).Block(body...)
}

// signature emits the runtime.Signature value.
func (c *gen) signature() {
	g := c.g
	spec := func(name string, n *ir.Node) jen.Code {
		var shape, dims []jen.Code
		sym := false
		for _, d := range n.Type.Shape {
			if d.IsSym() {
				shape = append(shape, jen.Lit(-1))
				sym = true
			} else {
				shape = append(shape, jen.Lit(d.Size))
			}
			dims = append(dims, jen.Lit(d.Sym))
		}
		vs := map[string]jen.Code{
			"Name":  jen.Lit(name),
			"DType": jen.Lit(n.Type.DType.String()),
			"Shape": jen.Index().Int().Values(shape...),
		}
		if sym {
			vs["Dims"] = jen.Index().String().Values(dims...)
		}
		return runtimeKeyed("TensorSpec", vs)
	}
	specs := func(nodes []*ir.Node, names []string) jen.Code {
		var out []jen.Code
		for i, n := range nodes {
			name := n.Label()
			if names != nil {
				name = names[i]
			}
			out = append(out, spec(name, n))
		}
		return jen.Index().Qual(RuntimePath, "TensorSpec").Values(out...)
	}
	names := func(nodes []*ir.Node) jen.Code {
		var out []jen.Code
		for _, n := range nodes {
			out = append(out, jen.Lit(n.Name))
		}
		return jen.Index().String().Values(out...)
	}
	dict := map[string]jen.Code{
		"Model":      jen.Lit(g.Name),
		"Source":     jen.Lit(c.opts.Source),
		"Inputs":     specs(g.Inputs, nil),
		"Outputs":    specs(g.Outputs(), g.OutputNames()),
		"Params":     specs(g.Params, nil),
		"ParamCount": jen.Lit(g.ParamCount()),
		"Memory":     memoryCode(c.plan.needs),
	}
	if len(g.Syms) > 1 {
		var syms []jen.Code
		for _, s := range g.Syms {
			syms = append(syms, jen.Lit(s))
		}
		dict["Syms"] = jen.Index().String().Values(syms...)
	}
	for _, p := range c.plan.facts.progs {
		switch p.name {
		case "predict":
			dict["PredictInputs"] = names(p.inputs)
		case "train":
			dict["TrainInputs"] = names(p.inputs)
		}
	}
	if g.Loss() != nil {
		dict["Loss"] = jen.Lit(g.Loss().Label())
		dict["LossReduction"] = jen.Qual(RuntimePath, lossReductionName(g))
		dict["Optimizer"] = jen.Lit(optimizerString(g.Optimizer))
	}
	c.addEstimates(dict)
	c.addGraph(dict)
	c.f.Var().Id("signature").Op("=").Qual(RuntimePath, "Signature").Add(runtimeKeyed("Signature", dict))
}

// feedInField names the Model field that holds input i of the graph
// converted from a float32 feed.
func feedInField(i int) string { return "feedIn" + strconv.Itoa(i) }

// feedOutField names the Model field that holds output i converted to
// float32 for PredictFeed.
func feedOutField(i int) string { return "feedOut" + strconv.Itoa(i) }

// updateValue is the node holding the new value an update writes: the
// value an assign copies, or the update itself (assign_add, assign_sub).
func updateValue(u *ir.Node) *ir.Node {
	if u.Op == ir.Assign {
		return u.Inputs[1]
	}
	return u
}
