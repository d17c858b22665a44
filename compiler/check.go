package compiler

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// maxErrors bounds the diagnostics one run reports.
const maxErrors = lang.MaxErrors

// binding is what a name in a model refers to.
type binding struct {
	kind string // "input", "param", "value", "const" or "arg" (a function's tensor argument)
	node *ir.Node
	cv   *constVal // the value of a "const"
	pos  lang.Pos
	used bool
}

// checker converts one model's AST into an IR graph.
type checker struct {
	g     *ir.Module
	names map[string]*binding
	order []string // names in declaration order
	errs  lang.ErrorList
	train *lang.TrainStmt
	// outputs seen, for duplicate detection
	outputs map[string]lang.Pos
	// sawOutput is set by any output statement, even one with errors.
	sawOutput bool

	// u is the file whose file-level functions and constants are
	// visible: the model's, or that of the function being expanded.
	u *unit
	// dims are the generic dimensions bound by the call of the function
	// being expanded (nil in a model body).
	dims map[string]ir.Dim
	// scope prefixes the names of params and values ("" in a model body,
	// "h1" or "block/conv" in a function).
	scope string
	// scopes are the scopes used so far, with the call that used each.
	scopes map[string]lang.Pos
	// stack holds the function calls being expanded, innermost last.
	stack []*callFrame
	// assignCall is the call that is the whole right-hand side of the
	// assignment being checked, named assignName.
	assignCall *lang.CallExpr
	assignName string
	// body holds the statements of the model or function body being
	// checked, to tell a name used before its definition from an
	// unknown one.
	body []lang.Decl
	// instances counts function calls expanded.
	instances int
	// nerrs counts errors found, including repeats not reported again.
	nerrs    int
	reported map[string]bool
	// read reads the files restore initializers name (os.ReadFile when
	// nil); checkpoints caches them by path.
	read        func(string) ([]byte, error)
	checkpoints map[string]*stFile
}

// value is the result of checking an expression: a node, or an untyped
// numeric literal that takes its dtype from context.
type value struct {
	node  *ir.Node
	lit   bool
	num   float64
	isInt bool
	pos   lang.Pos
	// name or expr is the operand as written (a name, or the expression
	// label renders when a message needs it) and from where it was
	// declared or computed, for messages about the ops it feeds; both
	// are empty for literals.
	name string
	expr lang.Expr
	from lang.Pos
	// isBool marks the literal true (num 1) or false (num 0).
	isBool bool
	// tens is a tensor literal (lit is set too).
	tens *constVal
}

// CheckFile checks every model in f and returns one graph per model.
// Files f imports are read with os.ReadFile, relative to f.Name.
// Errors are a lang.ErrorList of at most maxErrors diagnostics, sorted by
// position, ending with a "too many errors" entry when more were found.
func CheckFile(f *lang.File) ([]*ir.Module, error) {
	return checkFile(f, nil)
}

// checkFile is CheckFile reading imports with read.
func checkFile(f *lang.File, read func(string) ([]byte, error)) ([]*ir.Module, error) {
	var graphs []*ir.Module
	im, root := loadUnits(f, read)
	errs := im.errs
	// Check every file's constants and function declarations, so that
	// their errors show even when nothing uses them.
	decls := &checker{reported: map[string]bool{}}
	for _, u := range im.all {
		for _, d := range u.file.Consts {
			if gc, ok := u.consts[d.Name.Name]; ok && gc.decl == d {
				decls.u = u
				decls.evalGlobal(gc)
			}
		}
		for _, d := range u.file.Funcs {
			if fd, ok := u.funcs[d.Name.Name]; ok && fd.decl == d {
				decls.checkFuncDecl(fd)
			}
		}
	}
	errs = append(errs, decls.errs...)
	if len(f.Models) == 0 && len(errs) == 0 {
		errs.Add(f.Pos, "no model declared (a file of functions and constants is used through import)")
	}
	seen := map[string]lang.Pos{}
	for _, m := range f.Models {
		if p, dup := seen[m.Name.Name]; dup {
			errs.Add(m.Name.Pos, "model %s redeclared (first declared at %s)", m.Name.Name, shortPos(p))
			continue
		}
		seen[m.Name.Name] = m.Name.Pos
		if len(im.errs) > 0 {
			continue // models are checked once their imports load
		}
		g, merrs := checkModel(f.Name, m, root, im.read)
		errs = append(errs, merrs...)
		if g != nil {
			graphs = append(graphs, g)
		}
	}
	errs.Limit(maxErrors)
	if len(errs) > 0 {
		return nil, errs
	}
	return graphs, nil
}

// MaxModelName is the longest model name, in bytes: the name becomes the
// generated package's name, its file's (with ".go" and, while it is
// written, a temporary prefix and suffix) and the binary's, and file
// systems allow at most 255 bytes for one.
const MaxModelName = 200

func checkModel(file string, m *lang.Model, u *unit, read func(string) ([]byte, error)) (g *ir.Module, errs lang.ErrorList) {
	c := &checker{
		read:     read,
		g:        ir.NewModule(m.Name.Name, file),
		names:    map[string]*binding{},
		outputs:  map[string]lang.Pos{},
		u:        u,
		scopes:   map[string]lang.Pos{},
		reported: map[string]bool{},
	}
	c.g.Pos = m.Name.Pos
	defer func() {
		// The IR's builders panic only on internal invariants; report
		// them as diagnostics rather than crash the compiler.
		if r := recover(); r != nil {
			c.errs.Add(m.Pos, "internal compiler error: %v", r)
			g, errs = nil, c.errs
		}
	}()
	if n := len(m.Name.Name); n > MaxModelName {
		c.errs.Add(m.Name.Pos, "model name %s… is %d bytes long; at most %d, as it names the generated Go package, its file and the binary", strings.ToValidUTF8(m.Name.Name[:24], ""), n, MaxModelName)
	}
	c.body = m.Decls
	for _, d := range m.Decls {
		c.decl(d)
	}
	if !c.sawOutput && c.train == nil {
		c.errs.Add(m.Name.Pos, "model %s has no output and no train statement: nothing to compute", m.Name.Name)
	}
	if c.nerrs == 0 && len(c.errs) == 0 {
		c.checkUnused()
	}
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	return c.g, nil
}

func shortPos(p lang.Pos) string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// errorf reports an error at pos. Inside a function it names the calls
// being expanded; an error already reported at the same place (by another
// call of the same function) is not repeated.
func (c *checker) errorf(pos lang.Pos, format string, args ...any) {
	c.errorNode(pos, nil, format, args...)
}

// errorNode is errorf for an error about node n: diagnostics underline n
// from pos (the caret) to its end.
func (c *checker) errorNode(pos lang.Pos, n lang.Node, format string, args ...any) {
	c.nerrs++
	msg := fmt.Sprintf(format, args...)
	if c.reported != nil {
		key := pos.String() + "\x00" + msg
		if c.reported[key] {
			return
		}
		c.reported[key] = true
	}
	var ctx []string
	file := pos.File
	for i := len(c.stack) - 1; i >= 0; i-- {
		f := c.stack[i]
		at := f.call.String()
		if f.call.File == file {
			at = shortPos(f.call)
		}
		ctx = append(ctx, fmt.Sprintf("in %s called at %s", f.fn.decl.Name.Name, at))
		file = f.call.File
	}
	if len(ctx) > 0 {
		msg += " (" + strings.Join(ctx, ", ") + ")"
	}
	c.errs.AddNode(pos, n, "%s", msg)
}

func (c *checker) declare(id *lang.Ident, kind string, n *ir.Node) {
	if prev, ok := c.names[id.Name]; ok {
		c.errorf(id.Pos, "%s redeclared (first declared as %s at %s)", id.Name, prev.kind, shortPos(prev.pos))
		return
	}
	if _, reserved := reservedNames[id.Name]; reserved {
		c.errorf(id.Pos, "%s is reserved and cannot be used as a name", id.Name)
		return
	}
	c.names[id.Name] = &binding{kind: kind, node: n, pos: id.Pos}
	c.order = append(c.order, id.Name)
}

// poison declares a name whose declaration had an error: later uses
// resolve to it silently instead of reporting "undefined" again.
func (c *checker) poison(id *lang.Ident, kind string) {
	if id.Name == "_" {
		return // the blank name declares nothing
	}
	c.declare(id, kind, nil)
	if b, ok := c.names[id.Name]; ok && b.node == nil {
		b.used = true
	}
}

// reservedNames are identifiers with a fixed meaning in expressions.
var reservedNames = map[string]struct{}{"true": {}, "false": {}}

func (c *checker) decl(d lang.Decl) {
	switch d := d.(type) {
	case *lang.InputDecl:
		t, ok := c.typeExpr(d.Type, true)
		if !ok {
			c.poison(d.Name, "input")
			return
		}
		c.g.SetOrigin(d.Name.Pos, ir.Forward)
		n := c.g.MustApply(ir.Input, nil, ir.Attrs{"dtype": t.DType, "shape": t.Shape})
		n.Name = d.Name.Name
		c.g.Inputs = append(c.g.Inputs, n)
		c.declare(d.Name, "input", n)
	case *lang.ParamDecl:
		c.param(d)
	case *lang.ConstDecl:
		c.constDecl(d)
	case *lang.AssignStmt:
		if len(d.Names) > 1 {
			c.assignValues(d)
			return
		}
		if d.Name.Name == "_" {
			c.expr(d.Value) // checked, and discarded
			return
		}
		if call, isCall := unparen(d.Value).(*lang.CallExpr); isCall {
			c.assignCall, c.assignName = call, d.Name.Name
		}
		v, ok := c.expr(d.Value)
		c.assignCall, c.assignName = nil, ""
		if !ok {
			c.poison(d.Name, "value")
			return
		}
		n := c.materialize(v, ir.F32)
		if n.Name != "" || n.Op == ir.Input || n.Op == ir.Param {
			// `y = x` aliases; give the alias its own identity node-free:
			// the alias simply refers to the same node.
			c.declare(d.Name, "value", n)
			return
		}
		n.Name = c.qualify(d.Name.Name)
		c.declare(d.Name, "value", n)
	case *lang.OutputStmt:
		c.sawOutput = true
		for _, id := range d.Names {
			if p, dup := c.outputs[id.Name]; dup {
				c.errorf(id.Pos, "output %s listed twice (first at %s)", id.Name, shortPos(p))
				continue
			}
			c.outputs[id.Name] = id.Pos
			b := c.use(id)
			if b == nil || b.node == nil {
				continue
			}
			switch op := b.node.Op; op {
			case ir.Input, ir.Param:
				what := "an input"
				if op == ir.Param {
					what = "a param"
				}
				if b.node.Name == id.Name {
					c.errorf(id.Pos, "output %s is %s; outputs must be computed from the inputs and params", id.Name, what)
				} else {
					c.errorf(id.Pos, "output %s is %s %s; outputs must be computed from the inputs and params", id.Name, what, b.node.Name)
				}
				continue
			case ir.Const:
				c.errorf(id.Pos, "output %s is a constant; outputs must be computed from the inputs and params", id.Name)
				continue
			}
			for i, o := range c.g.Outputs() {
				if o == b.node {
					c.errorf(id.Pos, "output %s is the same value as output %s", id.Name, c.g.OutputNames()[i])
				}
			}
			c.g.AddOutput(id.Name, b.node)
		}
	case *lang.TrainStmt:
		c.trainStmt(d)
	default:
		c.errorf(d.Position(), "unexpected declaration %T", d)
	}
}

// unparen strips parentheses.
func unparen(e lang.Expr) lang.Expr {
	for {
		p, ok := e.(*lang.ParenExpr)
		if !ok {
			return e
		}
		e = p.X
	}
}

// use resolves an identifier and marks it used: a name of the current
// model or function, or a constant of the current file.
func (c *checker) use(id *lang.Ident) *binding {
	if id.Name == "_" {
		c.errorf(id.Pos, "_ is the blank name: it discards a value (a, _ = for …) and cannot be read")
		return nil
	}
	b, ok := c.names[id.Name]
	if !ok {
		if d, isDim := c.dims[id.Name]; isDim {
			// A function's generic dimension, bound to a fixed size by
			// the call, is an int constant.
			if d.IsSym() {
				c.errorf(id.Pos, "dimension %s is the symbolic dimension %s at this call, which has no size until the model runs", id.Name, d.Sym)
				return nil
			}
			return &binding{kind: "const", cv: &constVal{kind: constNum, num: float64(d.Size), isInt: true}, used: true}
		}
		if v, err, isConst := c.globalConst(id.Name); isConst {
			if err != nil {
				return nil
			}
			return &binding{kind: "const", cv: v, used: true}
		}
		if at, later := c.definedLater(id); later {
			c.errorf(id.Pos, "%s is used before it is defined (at %s)", id.Name, shortPos(at))
			return nil
		}
		if slices.Contains(c.callables(), id.Name) {
			c.errorf(id.Pos, "undefined: %s; %s is a function, not a value (call it: %s(...))", id.Name, id.Name, id.Name)
			return nil
		}
		c.errorf(id.Pos, "undefined: %s%s", id.Name, c.suggest(id.Name))
		return nil
	}
	b.used = true
	return b
}

// definedLater returns where the body being checked defines id's name
// after id, if it does.
func (c *checker) definedLater(id *lang.Ident) (lang.Pos, bool) {
	for _, d := range c.body {
		var names []*lang.Ident
		switch d := d.(type) {
		case *lang.AssignStmt:
			names = d.Targets()
		case *lang.InputDecl:
			names = []*lang.Ident{d.Name}
		case *lang.ParamDecl:
			names = []*lang.Ident{d.Name}
		}
		for _, name := range names {
			if name.Name == id.Name && name.Pos.File == id.Pos.File && name.Pos.Offset > id.Pos.Offset {
				return name.Pos, true
			}
		}
	}
	return lang.Pos{}, false
}

// suggest returns "; did you mean NAME?" for an undefined name close to
// a name in scope: the inputs, params, values and constants of the model
// or function, then the constants of the file; "" when none is close.
func (c *checker) suggest(name string) string {
	// A one-letter name is one edit from every other one-letter name;
	// suggesting x for an undefined W would only mislead.
	if len(name) <= 1 {
		return ""
	}
	cands := append([]string(nil), c.order...)
	if c.u != nil {
		var global []string
		for n := range c.u.consts {
			global = append(global, n)
		}
		sort.Strings(global)
		cands = append(cands, global...)
	}
	return suggestFrom(name, cands)
}

// typeExpr converts a declared type; symbolic dims are allowed when
// allowSym is true.
func (c *checker) typeExpr(t *lang.TypeExpr, allowSym bool) (ir.Type, bool) {
	dt, ok := ir.ParseDType(t.DType.Name)
	if !ok {
		c.errorf(t.DType.Pos, "unknown dtype %s (want one of %s)%s", t.DType.Name, strings.Join(ir.DTypeNames(), ", "), suggestFrom(t.DType.Name, ir.DTypeNames()))
		return ir.Type{}, false
	}
	shape := ir.Shape{}
	good := true
	for _, d := range t.Dims {
		if d.Name != "" {
			if dim, ok := c.dims[d.Name]; ok {
				if !allowSym && dim.IsSym() {
					c.errorf(d.Pos, "param shapes must be static, but dimension %s is symbolic (bound to %s at this call)", d.Name, dim)
					good = false
				}
				shape = append(shape, dim)
				continue
			}
			size, found, ok := c.intConst(d.Name, d.Pos)
			if !ok {
				good = false
				continue
			}
			if found {
				shape = append(shape, ir.Fixed(size))
				continue
			}
			if len(c.stack) > 0 {
				c.errorf(d.Pos, "dimension %s is not bound: name a dimension of a tensor parameter, an int parameter or an int constant", d.Name)
				good = false
				continue
			}
			if !allowSym {
				c.errorf(d.Pos, "param shapes must be static, but dimension %s is symbolic", d.Name)
				good = false
				continue
			}
			shape = append(shape, ir.Sym(d.Name))
			continue
		}
		if d.Size <= 0 {
			c.errorf(d.Pos, "dimension must be positive, got %d", d.Size)
			good = false
			continue
		}
		if d.Size > 1<<31 {
			c.errorf(d.Pos, "dimension %d is too large (at most %d)", d.Size, int64(1<<31))
			good = false
			continue
		}
		shape = append(shape, ir.Fixed(int(d.Size)))
	}
	if err := shape.CheckSize(); good && err != nil {
		c.errorf(t.Pos, "%v", err)
		good = false
	}
	return ir.Type{DType: dt, Shape: shape}, good
}

func suggestFrom(name string, cands []string) string {
	if s := closest(name, cands); s != "" {
		return fmt.Sprintf("; did you mean %s?", s)
	}
	return ""
}

// materialize turns a value into a node; untyped literals become
// constants of dtype dt.
func (c *checker) materialize(v value, dt ir.DType) *ir.Node {
	if !v.lit {
		return v.node
	}
	c.g.SetOrigin(v.pos, ir.Forward)
	switch {
	case v.tens != nil:
		return c.g.MustApply(ir.Const, nil, ir.Attrs{"dtype": dt, "shape": ir.Shp(v.tens.shape...), "values": append([]float64(nil), v.tens.vals...)})
	case v.isBool:
		return c.g.Const(ir.Bool, v.num)
	}
	return c.g.Const(dt, v.num)
}

// checkUnused reports inputs, params and values that nothing uses.
func (c *checker) checkUnused() {
	names := append([]string(nil), c.order...)
	sort.SliceStable(names, func(i, j int) bool {
		return lessPos(c.names[names[i]].pos, c.names[names[j]].pos)
	})
	for _, name := range names {
		b := c.names[name]
		if b.used || b.kind == "const" || b.kind == "arg" || c.isUpdateValue(b.node) {
			continue
		}
		switch b.kind {
		case "input":
			c.errorf(b.pos, "input %s is declared but never used", name)
		case "param":
			c.errorf(b.pos, "param %s is declared but never used", name)
		default:
			c.errorf(b.pos, "%s is computed but never used (not an output, not part of the loss)", name)
		}
	}
}

func lessPos(a, b lang.Pos) bool {
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	return a.Col < b.Col
}
