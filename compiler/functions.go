package compiler

import (
	"fmt"
	"strings"

	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// This file checks functions (layers): their declarations once, and their
// bodies at every call, like templates. A call binds the compile-time
// parameters to constants and the generic dimensions of the tensor
// parameters to the dimensions of the arguments, then checks the body in
// a fresh frame whose params and values are named under the call's scope
// ("h1/W").

// maxInstances bounds the function calls one model may expand to, so that
// functions calling each other many times cannot blow up the graph.
const maxInstances = 10000

// callFrame is one function call being expanded.
type callFrame struct {
	fn   *fnDef
	call lang.Pos
}

// savedFrame is the name environment of the caller of a function.
type savedFrame struct {
	names      map[string]*binding
	order      []string
	u          *unit
	dims       map[string]ir.Dim
	scope      string
	assignCall *lang.CallExpr
	assignName string
	body       []lang.Decl
}

func (c *checker) saveFrame() savedFrame {
	return savedFrame{c.names, c.order, c.u, c.dims, c.scope, c.assignCall, c.assignName, c.body}
}

func (c *checker) restoreFrame(s savedFrame) {
	c.names, c.order, c.u, c.dims, c.scope, c.assignCall, c.assignName, c.body = s.names, s.order, s.u, s.dims, s.scope, s.assignCall, s.assignName, s.body
}

// qualify names a param or value of the current scope.
func (c *checker) qualify(name string) string {
	if c.scope == "" {
		return name
	}
	return c.scope + "/" + name
}

// fnParam is a checked parameter of a function.
type fnParam struct {
	decl *lang.FuncParam
	// kind is "int", "float", "bool" or "string" for a compile-time
	// parameter, "" for a tensor parameter.
	kind string
}

// compileTimeKinds are the types of compile-time parameters.
var compileTimeKinds = []string{"int", "float", "bool", "string"}

// constKindName names the compile-time kind of a constant.
func constKindName(v *constVal) string {
	switch v.kind {
	case constNum:
		if v.isInt {
			return "int"
		}
		return "float"
	case constBool:
		return "bool"
	case constString:
		return "string"
	}
	return ""
}

// fits reports whether a constant can be passed for a compile-time
// parameter of kind.
func fits(v *constVal, kind string) bool {
	k := constKindName(v)
	return k == kind || kind == "float" && k == "int"
}

// checkFuncDecl checks what a function declaration says on its own: its
// parameter list and the shape of its body. It sets fd.params, or fd.bad.
func (c *checker) checkFuncDecl(fd *fnDef) {
	saved := c.saveFrame()
	c.names, c.order, c.u, c.dims = map[string]*binding{}, nil, fd.u, nil
	defer c.restoreFrame(saved)
	d := fd.decl
	seen := map[string]lang.Pos{}
	for _, p := range d.Params {
		name := p.Name.Name
		if prev, dup := seen[name]; dup {
			c.errorf(p.Name.Pos, "parameter %s of %s declared twice (first at %s)", name, d.Name.Name, shortPos(prev))
			fd.bad = true
			continue
		}
		seen[name] = p.Name.Pos
		if name == "name" {
			c.errorf(p.Name.Pos, `parameter name is reserved: name = "..." at a call sets the scope of the call's params`)
			fd.bad = true
			continue
		}
		if _, reserved := reservedNames[name]; reserved {
			c.errorf(p.Name.Pos, "%s is reserved and cannot be used as a name", name)
			fd.bad = true
			continue
		}
		fp := fnParam{decl: p}
		var def *constVal
		if p.Default != nil {
			v, err := c.constEval(p.Default)
			if err != nil {
				if err.Msg != "" {
					c.errorf(err.Pos, "default of parameter %s: %s", name, err.Msg)
				}
				fd.bad = true
				continue
			}
			def = v
		}
		switch {
		case p.Type == nil && def == nil:
			c.errorf(p.Name.Pos, "parameter %s of %s needs a type (such as %s: f32[N, I] for a tensor, or %s: int, float, bool or string for a constant) or a default", name, d.Name.Name, name, name)
			fd.bad = true
			continue
		case p.Type == nil:
			fp.kind = constKindName(def)
			if fp.kind == "" {
				c.errorNode(p.Default.Position(), p.Default, "parameter %s of %s has a tensor default; declare its type (%s: f32[...] = ...)", name, d.Name.Name, name)
				fd.bad = true
				continue
			}
		case p.Type.Dims == nil && isCompileTimeKind(p.Type.DType.Name):
			fp.kind = p.Type.DType.Name
			if def != nil && !fits(def, fp.kind) {
				c.errorNode(p.Default.Position(), p.Default, "default of parameter %s must be %s %s, got %s", name, articleFor(fp.kind), fp.kind, def.describe())
				fd.bad = true
				continue
			}
		default:
			if isCompileTimeKind(p.Type.DType.Name) {
				c.errorf(p.Type.Pos, "parameter %s: %s is a compile-time type and has no shape; a tensor parameter needs a dtype such as f32", name, p.Type.DType.Name)
				fd.bad = true
				continue
			}
			if _, ok := ir.ParseDType(p.Type.DType.Name); !ok {
				c.errorf(p.Type.DType.Pos, "unknown type %s for parameter %s (want a dtype such as f32, or %s)%s", p.Type.DType.Name, name, strings.Join(compileTimeKinds, ", "), suggestFrom(p.Type.DType.Name, append(ir.DTypeNames(), compileTimeKinds...)))
				fd.bad = true
				continue
			}
			if def != nil && def.kind != constNum && def.kind != constTensor {
				c.errorNode(p.Default.Position(), p.Default, "default of tensor parameter %s must be a number or a tensor literal, got %s", name, def.describe())
				fd.bad = true
				continue
			}
		}
		fd.params = append(fd.params, fp)
	}
	var ret *lang.ReturnStmt
	for _, s := range d.Body {
		if ret != nil {
			c.errorf(s.Position(), "statement after return; return must be the last statement of %s", d.Name.Name)
			fd.bad = true
			break
		}
		if r, ok := s.(*lang.ReturnStmt); ok {
			ret = r
		}
	}
	if ret == nil {
		c.errorf(d.Name.Pos, "function %s has no return statement", d.Name.Name)
		fd.bad = true
	}
}

func isCompileTimeKind(s string) bool {
	for _, k := range compileTimeKinds {
		if k == s {
			return true
		}
	}
	return false
}

func articleFor(kind string) string {
	if kind == "int" {
		return "an"
	}
	return "a"
}

// callee is the function as the call binder sees it: its parameters,
// then the keyword name = "scope" every call takes.
func (fd *fnDef) callee() callee {
	f := callee{name: fd.decl.Name.Name, sig: fd.signature()}
	for _, p := range fd.params {
		f.slots = append(f.slots, slot{name: p.decl.Name.Name, required: p.decl.Default == nil})
	}
	f.slots = append(f.slots, slot{name: "name", keyword: true, hidden: true})
	return f
}

// signature renders a function's parameter list for messages.
func (fd *fnDef) signature() string {
	var parts []string
	for _, p := range fd.decl.Params {
		s := p.Name.Name
		if p.Type != nil {
			s += ": " + typeText(p.Type)
		}
		if p.Default != nil {
			s += " = " + exprString(p.Default)
		}
		parts = append(parts, s)
	}
	return fd.decl.Name.Name + "(" + strings.Join(parts, ", ") + ")"
}

// typeText renders a type as written.
func typeText(t *lang.TypeExpr) string {
	if t.Dims == nil {
		return t.DType.Name
	}
	dims := make([]string, len(t.Dims))
	for i, d := range t.Dims {
		if d.Name != "" {
			dims[i] = d.Name
		} else {
			dims[i] = fmt.Sprint(d.Size)
		}
	}
	return t.DType.Name + "[" + strings.Join(dims, ", ") + "]"
}

// lookupFunc returns the function name visible in the current file.
func (c *checker) lookupFunc(name string) *fnDef {
	if c.u == nil {
		return nil
	}
	return c.u.funcs[name]
}

// callFunc expands a call of a function. assigned is set when the call is
// the whole right-hand side of `name = call`, whose name is then the
// default scope.
func (c *checker) callFunc(e *lang.CallExpr, fd *fnDef, assigned bool) (value, bool) {
	fname := fd.decl.Name.Name
	for i, f := range c.stack {
		if f.fn == fd {
			var chain []string
			for _, g := range c.stack[i:] {
				chain = append(chain, g.fn.decl.Name.Name)
			}
			chain = append(chain, fname)
			c.errorf(e.Func.Pos, "recursive call: %s; a function cannot call itself", strings.Join(chain, " calls "))
			return value{}, false
		}
	}
	if fd.bad {
		c.nerrs++ // reported with the declaration
		return value{}, false
	}
	c.instances++
	if c.instances > maxInstances {
		c.errorf(e.Pos, "too many function calls while building the model (more than %d)", maxInstances)
		return value{}, false
	}

	// Bind the arguments to the parameters, and name = "scope".
	b, ok := c.bind(fd.callee(), e, e)
	if !ok {
		return value{}, false
	}
	args, scopeExpr := b.args[:len(fd.params)], b.args[len(fd.params)]
	good := true

	// Compile-time parameters: constants of the caller, or defaults.
	names := map[string]*binding{}
	var order []string
	for i, p := range fd.params {
		if p.kind == "" {
			continue
		}
		pname := p.decl.Name.Name
		var v *constVal
		if args[i] != nil {
			cv, err := c.constEval(args[i])
			if err != nil {
				if err.Msg != "" {
					c.errorf(args[i].Position(), "argument %s of %s must be a constant %s: %s", pname, fname, p.kind, err.Msg)
				}
				good = false
				continue
			}
			v = cv
		} else {
			v = c.evalDefault(fd, p.decl.Default)
			if v == nil {
				good = false
				continue
			}
		}
		if !fits(v, p.kind) && args[i] != nil {
			c.errorf(args[i].Position(), "argument %s of %s must be %s %s, got %s %s", pname, fname, articleFor(p.kind), p.kind, exprLabel(args[i]), describeConst(v))
			good = false
			continue
		}
		if p.kind == "float" && v.isInt {
			v = &constVal{kind: constNum, num: v.num}
		}
		names[pname] = &binding{kind: "const", cv: v, pos: p.decl.Name.Pos, used: true}
		order = append(order, pname)
	}

	// Tensor parameters: bind generic dimensions.
	dims := map[string]ir.Dim{}
	dimFrom := map[string]string{}
	for i, p := range fd.params {
		if p.kind != "" {
			continue
		}
		pname := p.decl.Name.Name
		var v value
		pos := e.Pos
		if args[i] != nil {
			var ok bool
			if v, ok = c.expr(args[i]); !ok {
				good = false
				continue
			}
			pos = args[i].Position()
		} else {
			cv := c.evalDefault(fd, p.decl.Default)
			if cv == nil {
				good = false
				continue
			}
			v = cv.value(p.decl.Default.Position())
		}
		n, ok := c.bindTensorArg(fd, p, v, pos, names, dims, dimFrom)
		if !ok {
			good = false
			continue
		}
		names[pname] = &binding{kind: "arg", node: n, pos: p.decl.Name.Pos, used: true}
		order = append(order, pname)
	}
	if !good {
		return value{}, false
	}

	// The scope of the call's params.
	scope, ok := c.callScope(e, fd, scopeExpr, assigned)
	if !ok {
		return value{}, false
	}

	// Expand the body in a fresh frame.
	saved := c.saveFrame()
	c.names, c.order, c.u, c.dims, c.scope = names, order, fd.u, dims, scope
	c.assignCall, c.assignName, c.body = nil, "", fd.decl.Body
	c.stack = append(c.stack, &callFrame{fn: fd, call: e.Pos})
	before := c.nerrs
	var result *ir.Node
	var retPos lang.Pos
	for _, d := range fd.decl.Body {
		r, isRet := d.(*lang.ReturnStmt)
		if !isRet {
			c.decl(d)
			continue
		}
		retPos = r.Pos
		v, ok := c.expr(r.Value)
		if !ok {
			break
		}
		dt := ir.F32
		if fd.decl.Result != nil {
			if rdt, ok := ir.ParseDType(fd.decl.Result.DType.Name); ok {
				dt = rdt
			}
		}
		result = c.materialize(v, dt)
	}
	if result != nil && fd.decl.Result != nil {
		c.checkResult(fd, result, retPos)
	}
	if c.nerrs == before {
		c.checkUnused()
	}
	ok = c.nerrs == before && result != nil
	c.stack = c.stack[:len(c.stack)-1]
	c.restoreFrame(saved)
	if !ok {
		return value{}, false
	}
	return value{node: result, pos: e.Pos, expr: e, from: e.Pos}, true
}

func describeConst(v *constVal) string {
	return "(" + v.describe() + ")"
}

// evalDefault evaluates a parameter's default in the scope of the
// function's file.
func (c *checker) evalDefault(fd *fnDef, e lang.Expr) *constVal {
	saved := c.saveFrame()
	c.names, c.order, c.u, c.dims = map[string]*binding{}, nil, fd.u, nil
	v, err := c.constEval(e)
	c.restoreFrame(saved)
	if err != nil {
		c.report(err)
		return nil
	}
	return v
}

// bindTensorArg checks a tensor argument against its parameter's type,
// binding the generic dimensions it names.
func (c *checker) bindTensorArg(fd *fnDef, p fnParam, v value, pos lang.Pos, consts map[string]*binding, dims map[string]ir.Dim, dimFrom map[string]string) (*ir.Node, bool) {
	fname, pname := fd.decl.Name.Name, p.decl.Name.Name
	t := p.decl.Type
	dt, _ := ir.ParseDType(t.DType.Name) // checked with the declaration
	if v.lit {
		switch {
		case v.isBool && dt != ir.Bool:
			c.errorf(pos, "argument %s of %s must be %s, got the bool constant %s", pname, fname, typeText(t), boolText(v.num))
			return nil, false
		case !v.isBool && dt == ir.Bool:
			c.errorf(pos, "argument %s of %s must be %s, got a number", pname, fname, typeText(t))
			return nil, false
		case !v.isInt && !dt.IsFloat() && !v.isBool:
			c.errorf(pos, "argument %s of %s must be %s, but the constant is not an integer", pname, fname, typeText(t))
			return nil, false
		}
	}
	n := c.materialize(v, dt)
	got := n.Type
	mismatch := func(extra string) (*ir.Node, bool) {
		c.errorf(pos, "argument %s of %s must be %s, got %s%s%s", pname, fname, typeText(t), got, operandFrom(pos, v), extra)
		return nil, false
	}
	if got.DType != dt {
		return mismatch("")
	}
	if t.Dims == nil {
		if got.Shape.Rank() != 0 {
			return mismatch("")
		}
		return n, true
	}
	if got.Shape.Rank() != len(t.Dims) {
		return mismatch("")
	}
	for j, d := range t.Dims {
		a := got.Shape[j]
		size := int(d.Size)
		fixed := d.Name == ""
		if !fixed {
			if b, ok := consts[d.Name]; ok && b.cv != nil {
				if b.cv.kind != constNum || !b.cv.isInt {
					c.errorf(d.Pos, "dimension %s of parameter %s must be an int, but %s is %s", d.Name, pname, d.Name, b.cv.describe())
					return nil, false
				}
				size, fixed = int(b.cv.num), true
			} else if gc, ok := fd.u.consts[d.Name]; ok {
				cv, err := c.evalGlobal(gc)
				if err != nil {
					return nil, false
				}
				if cv.kind != constNum || !cv.isInt {
					c.errorf(d.Pos, "dimension %s of parameter %s must be an int, but %s is %s", d.Name, pname, d.Name, cv.describe())
					return nil, false
				}
				size, fixed = int(cv.num), true
			}
		}
		if fixed {
			if a.IsSym() || a.Size != size {
				if d.Name != "" {
					return mismatch(fmt.Sprintf(" (dimension %d must be %s = %d)", j, d.Name, size))
				}
				return mismatch("")
			}
			continue
		}
		if prev, bound := dims[d.Name]; bound {
			if prev != a {
				c.errorf(pos, "generic dimension %s of %s is %s in %s but %s in %s", d.Name, fname, prev, dimFrom[d.Name], a, argText(pos, pname, got, v))
				return nil, false
			}
			continue
		}
		dims[d.Name] = a
		dimFrom[d.Name] = argText(pos, pname, got, v)
	}
	return n, true
}

func boolText(v float64) string {
	if v != 0 {
		return "true"
	}
	return "false"
}

// callScope picks the scope of a call's params: name = "..." if given,
// else the name the call is assigned to, else the function's name made
// unique with a suffix _1, _2, ... as TensorFlow does.
func (c *checker) callScope(e *lang.CallExpr, fd *fnDef, scopeExpr lang.Expr, assigned bool) (string, bool) {
	var base string
	explicit := true
	switch {
	case scopeExpr != nil:
		v, err := c.constEval(scopeExpr)
		if err != nil || v.kind != constString {
			c.errorNode(scopeExpr.Position(), scopeExpr, `the scope name = ... of a call must be a string such as name = "h1", got %s`, exprLabel(scopeExpr))
			return "", false
		}
		if !validScope(v.str) {
			c.errorNode(scopeExpr.Position(), scopeExpr, "scope name %q must be a name: letters, digits and _, starting with a letter or _", v.str)
			return "", false
		}
		base = v.str
	case assigned:
		base = c.assignName
	default:
		base, explicit = fd.decl.Name.Name, false
	}
	full := c.qualify(base)
	if prev, taken := c.scopes[full]; taken {
		if explicit {
			c.errorf(e.Pos, "scope %s is already used by the call at %s; choose another with name = \"...\"", full, shortPos(prev))
			return "", false
		}
		for i := 1; taken; i++ {
			full = c.qualify(fmt.Sprintf("%s_%d", base, i))
			_, taken = c.scopes[full]
		}
	}
	c.scopes[full] = e.Pos
	return full, true
}

func validScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		letter := 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || ch == '_'
		if !letter && (i == 0 || ch < '0' || ch > '9') {
			return false
		}
	}
	return true
}

// checkResult compares the value a function returns with its declared
// result type, resolved with the call's bindings.
func (c *checker) checkResult(fd *fnDef, n *ir.Node, pos lang.Pos) {
	t := fd.decl.Result
	dt, ok := ir.ParseDType(t.DType.Name)
	if !ok {
		c.errorf(t.DType.Pos, "unknown dtype %s in the result type of %s (want one of %s)%s", t.DType.Name, fd.decl.Name.Name, strings.Join(ir.DTypeNames(), ", "), suggestFrom(t.DType.Name, ir.DTypeNames()))
		return
	}
	want := ir.Type{DType: dt, Shape: ir.Shape{}}
	for _, d := range t.Dims {
		switch {
		case d.Name == "":
			want.Shape = append(want.Shape, ir.Fixed(int(d.Size)))
		default:
			if dim, ok := c.dims[d.Name]; ok {
				want.Shape = append(want.Shape, dim)
				continue
			}
			size, found, ok := c.intConst(d.Name, d.Pos)
			if !ok {
				return
			}
			if !found {
				c.errorf(d.Pos, "dimension %s of the result type of %s is not bound: name a dimension of a tensor parameter, an int parameter or an int constant", d.Name, fd.decl.Name.Name)
				return
			}
			want.Shape = append(want.Shape, ir.Fixed(size))
		}
	}
	if n.Type.DType != want.DType || !n.Type.Shape.Equal(want.Shape) {
		c.errorf(pos, "%s returns %s, but its result type is %s (%s at this call)", fd.decl.Name.Name, n.Type, typeText(t), want)
	}
}

// intConst resolves a name used as a dimension to an int constant of the
// current frame or file. found is false when there is no such constant;
// ok is false when an error was reported.
func (c *checker) intConst(name string, pos lang.Pos) (size int, found, ok bool) {
	var v *constVal
	if b, isName := c.names[name]; isName {
		if b.kind != "const" {
			return 0, false, true
		}
		if b.cv == nil {
			return 0, true, false // poisoned
		}
		b.used = true
		v = b.cv
	} else {
		cv, err, isConst := c.globalConst(name)
		if !isConst {
			return 0, false, true
		}
		if err != nil {
			return 0, true, false
		}
		v = cv
	}
	if v.kind != constNum || !v.isInt {
		c.errorf(pos, "dimension %s must be an int, but %s is %s", name, name, v.describe())
		return 0, true, false
	}
	if v.num <= 0 || v.num > 1<<31 {
		c.errorf(pos, "dimension %s = %d must be between 1 and %d", name, int64(v.num), int64(1<<31))
		return 0, true, false
	}
	return int(v.num), true, true
}
