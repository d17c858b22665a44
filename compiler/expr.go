package compiler

import (
	"fmt"
	"strings"

	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// binaryOps maps infix operators to ops.
var binaryOps = map[string]string{"+": "add", "-": "sub", "*": "mul", "/": "div", "@": "matmul"}

// expr checks an expression. ok is false when an error was reported.
func (c *checker) expr(e lang.Expr) (value, bool) {
	switch e := e.(type) {
	case *lang.Ident:
		if e.Name == "true" || e.Name == "false" {
			c.errorf(e.Pos, "%s is a boolean constant; boolean tensors are not supported in expressions yet", e.Name)
			return value{}, false
		}
		b := c.use(e)
		if b == nil || b.node == nil {
			return value{}, false
		}
		return value{node: b.node, pos: e.Pos, origin: fmt.Sprintf("%s is %s declared at %s", e.Name, describe(b), shortPos(b.pos))}, true
	case *lang.NumberLit:
		return value{lit: true, num: e.Value, isInt: e.IsInt, pos: e.Pos}, true
	case *lang.ParenExpr:
		v, ok := c.expr(e.X)
		v.pos = e.Pos
		return v, ok
	case *lang.StringLit:
		c.errorf(e.Pos, "a string is not a tensor; strings are only allowed as op arguments")
		return value{}, false
	case *lang.ListLit:
		c.errorf(e.Pos, "a list is not a tensor here; lists are only allowed as op arguments such as axes")
		return value{}, false
	case *lang.UnaryExpr:
		v, ok := c.expr(e.X)
		if !ok {
			return v, false
		}
		if v.lit {
			return value{lit: true, num: -v.num, isInt: v.isInt, pos: e.Pos}, true
		}
		return c.apply(e.Pos, "-"+exprString(e.X), "neg", []value{v}, nil)
	case *lang.BinaryExpr:
		return c.binary(e)
	case *lang.CallExpr:
		return c.call(e)
	}
	c.errorf(e.Position(), "unexpected expression %T", e)
	return value{}, false
}

func describe(b *binding) string {
	switch b.kind {
	case "input":
		return "an input " + b.node.Type.String()
	case "param":
		return "a param " + b.node.Type.String()
	}
	return b.node.Type.String() + ","
}

func (c *checker) binary(e *lang.BinaryExpr) (value, bool) {
	x, okx := c.expr(e.X)
	y, oky := c.expr(e.Y)
	if !okx || !oky {
		return value{}, false
	}
	if x.lit && y.lit {
		return foldBinary(e, x, y, c)
	}
	return c.apply(e.OpPos, exprString(e), binaryOps[e.Op], []value{x, y}, nil)
}

// foldBinary evaluates an operator on two literals at compile time.
func foldBinary(e *lang.BinaryExpr, x, y value, c *checker) (value, bool) {
	v := value{lit: true, isInt: x.isInt && y.isInt, pos: e.Pos}
	switch e.Op {
	case "+":
		v.num = x.num + y.num
	case "-":
		v.num = x.num - y.num
	case "*":
		v.num = x.num * y.num
	case "/":
		if y.num == 0 {
			c.errorf(e.OpPos, "division by the constant zero")
			return value{}, false
		}
		v.num = x.num / y.num
		v.isInt = false
	case "@":
		c.errorf(e.OpPos, "@ needs matrices, got two numbers")
		return value{}, false
	}
	return v, true
}

// apply materializes literal operands with the dtype of the tensor
// operands, builds the op node and reports a type error with the
// operands' origins.
func (c *checker) apply(pos lang.Pos, text, op string, args []value, attrs ir.Attrs) (value, bool) {
	dt := ir.F32
	for _, a := range args {
		if !a.lit {
			dt = a.node.Type.DType
			break
		}
	}
	inputs := make([]*ir.Node, len(args))
	for i, a := range args {
		if a.lit && !a.isInt && !dt.IsFloat() {
			c.errorf(a.pos, "the constant %g is not an integer, but the other operand is %s", a.num, dt)
			return value{}, false
		}
		if a.lit && dt == ir.Bool {
			c.errorf(a.pos, "a number cannot be combined with a bool tensor")
			return value{}, false
		}
		inputs[i] = c.materialize(a, dt)
	}
	c.g.SetOrigin(pos, ir.Forward)
	n, err := c.g.Apply(op, inputs, attrs)
	if err != nil {
		var origins []string
		for _, a := range args {
			if a.origin != "" {
				origins = append(origins, a.origin)
			}
		}
		msg := fmt.Sprintf("%s: %v", text, err)
		if len(origins) > 0 {
			msg += " (" + strings.Join(origins, "; ") + ")"
		}
		c.errorf(pos, "%s", msg)
		return value{}, false
	}
	return value{node: n, pos: pos}, true
}

// call checks a call of a registered op.
func (c *checker) call(e *lang.CallExpr) (value, bool) {
	name := e.Func.Name
	def, ok := ir.Lookup(name)
	if !ok || def.Internal {
		switch {
		case isInitializer(name):
			c.errorf(e.Func.Pos, "%s is an initializer; it can only initialize a param (param W: f32[...] = %s(...))", name, name)
		case isOptimizer(name):
			c.errorf(e.Func.Pos, "%s is an optimizer; it can only appear in a train statement (train loss with %s(...))", name, name)
		default:
			c.errorf(e.Func.Pos, "unknown function %s%s", name, suggestFrom(name, publicOps()))
		}
		return value{}, false
	}
	// Bind arguments: tensor operands first, then attributes.
	tensors := make([]lang.Expr, len(def.Inputs))
	attrExprs := make([]lang.Expr, len(def.Attrs))
	good := true
	nparams := len(def.Inputs) + len(def.Attrs)
	for i, arg := range e.Args {
		switch {
		case i < len(def.Inputs):
			tensors[i] = arg
		case i < nparams:
			attrExprs[i-len(def.Inputs)] = arg
		default:
			c.errorf(arg.Position(), "too many arguments to %s: it takes at most %d (%s)", name, nparams, def.Signature())
			return value{}, false
		}
	}
	for _, kw := range e.Kwargs {
		k := kw.Name.Name
		slot := -1
		for i, in := range def.Inputs {
			if in == k {
				slot = i
			}
		}
		if slot >= 0 {
			if tensors[slot] != nil {
				c.errorf(kw.Name.Pos, "argument %s of %s given twice", k, name)
				good = false
				continue
			}
			tensors[slot] = kw.Value
			continue
		}
		for i, at := range def.Attrs {
			if at.Name == k {
				slot = i
			}
		}
		if slot < 0 {
			c.errorf(kw.Name.Pos, "%s has no argument %s%s", name, k, suggestFrom(k, argNames(def)))
			good = false
			continue
		}
		if attrExprs[slot] != nil {
			c.errorf(kw.Name.Pos, "argument %s of %s given twice", k, name)
			good = false
			continue
		}
		attrExprs[slot] = kw.Value
	}
	for i, t := range tensors {
		if t == nil {
			c.errorf(e.Pos, "%s needs %d tensor argument%s (%s), missing %s", name, len(def.Inputs), plural(len(def.Inputs)), def.Signature(), def.Inputs[i])
			return value{}, false
		}
	}
	attrs := ir.Attrs{}
	for i, ae := range attrExprs {
		spec := def.Attrs[i]
		if ae == nil {
			if spec.Default != nil {
				attrs[spec.Name] = spec.Default
			}
			continue
		}
		v, err := attrValue(ae, spec.Kind)
		if err != nil {
			c.errorf(ae.Position(), "argument %s of %s must be %s, got %s", spec.Name, name, spec.Kind, exprString(ae))
			good = false
			continue
		}
		attrs[spec.Name] = v
	}
	args := make([]value, len(tensors))
	for i, t := range tensors {
		v, ok := c.expr(t)
		if !ok {
			good = false
		}
		args[i] = v
	}
	if !good {
		return value{}, false
	}
	return c.apply(e.Pos, exprString(e), name, args, attrs)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func argNames(def *ir.OpDef) []string {
	out := append([]string(nil), def.Inputs...)
	for _, a := range def.Attrs {
		out = append(out, a.Name)
	}
	return out
}

func publicOps() []string {
	var out []string
	for _, d := range ir.Ops() {
		if !d.Internal {
			out = append(out, d.Name)
		}
	}
	return out
}

// constNumber evaluates a numeric literal, possibly negated or
// parenthesized.
func constNumber(e lang.Expr) (v float64, isInt bool, ok bool) {
	switch e := e.(type) {
	case *lang.NumberLit:
		return e.Value, e.IsInt, true
	case *lang.ParenExpr:
		return constNumber(e.X)
	case *lang.UnaryExpr:
		if e.Op == "-" {
			v, isInt, ok := constNumber(e.X)
			return -v, isInt, ok
		}
	}
	return 0, false, false
}

// attrValue converts a compile-time argument to the attribute's kind.
func attrValue(e lang.Expr, kind ir.ArgKind) (any, error) {
	bad := fmt.Errorf("wrong kind")
	switch kind {
	case ir.IntArg:
		if v, isInt, ok := constNumber(e); ok && isInt {
			return int(v), nil
		}
	case ir.IntsArg:
		if v, isInt, ok := constNumber(e); ok && isInt {
			return []int{int(v)}, nil
		}
		if l, ok := e.(*lang.ListLit); ok {
			out := []int{}
			for _, el := range l.Elems {
				v, isInt, ok := constNumber(el)
				if !ok || !isInt {
					return nil, bad
				}
				out = append(out, int(v))
			}
			return out, nil
		}
	case ir.BoolArg:
		if id, ok := e.(*lang.Ident); ok && (id.Name == "true" || id.Name == "false") {
			return id.Name == "true", nil
		}
	case ir.FloatArg:
		if v, _, ok := constNumber(e); ok {
			return v, nil
		}
	case ir.StringArg:
		if s, ok := e.(*lang.StringLit); ok {
			return s.Value, nil
		}
	}
	return nil, bad
}
