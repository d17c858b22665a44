package compiler

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// binaryOps maps infix operators to ops.
var binaryOps = map[string]*ir.OpDef{
	"+": ir.Add, "-": ir.Sub, "*": ir.Mul, "/": ir.Div, "@": ir.Matmul,
	">": ir.Greater, "<": ir.Less, ">=": ir.GreaterEqual, "<=": ir.LessEqual, "==": ir.Equal, "!=": ir.NotEqual,
	"&&": ir.LogicalAnd, "||": ir.LogicalOr,
}

// expr checks an expression. ok is false when an error was reported.
func (c *checker) expr(e lang.Expr) (value, bool) {
	switch e := e.(type) {
	case *lang.Ident:
		if e.Name == "true" || e.Name == "false" {
			return value{lit: true, isBool: true, num: map[bool]float64{true: 1}[e.Name == "true"], pos: e.Pos}, true
		}
		b := c.use(e)
		if b == nil {
			return value{}, false
		}
		if b.kind == "const" {
			if b.cv == nil {
				return value{}, false // its declaration had an error
			}
			if b.cv.kind == constString {
				c.errorf(e.Pos, "%s is the string %s, not a tensor; strings are only allowed as op arguments", e.Name, b.cv.text())
				return value{}, false
			}
			return b.cv.value(e.Pos), true
		}
		if b.node == nil {
			return value{}, false
		}
		return value{node: b.node, pos: e.Pos, name: e.Name, from: b.pos}, true
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
		v, err := c.tensorLit(e)
		if err != nil {
			c.report(err)
			return value{}, false
		}
		lit := v.value(e.Pos)
		lit.expr = e // for messages about its shape
		return lit, true
	case *lang.UnaryExpr:
		// - - … - x nests as deep as it has signs: check the operand, then
		// apply the signs from the innermost out, in a loop rather than by
		// recursion.
		signs := []*lang.UnaryExpr{e}
		for {
			inner, ok := signs[len(signs)-1].X.(*lang.UnaryExpr)
			if !ok {
				break
			}
			signs = append(signs, inner)
		}
		v, ok := c.expr(signs[len(signs)-1].X)
		for i := len(signs) - 1; i >= 0 && ok; i-- {
			if signs[i].Op == "!" {
				v, ok = c.not(signs[i], v)
			} else {
				v, ok = c.negate(signs[i], v)
			}
		}
		return v, ok
	case *lang.BinaryExpr:
		return c.binary(e)
	case *lang.CallExpr:
		return c.call(e)
	case *lang.IfExpr, *lang.WhileExpr, *lang.ForExpr:
		return c.single(e) // see control.go
	}
	c.errorNode(e.Position(), e, "unexpected expression %T", e)
	return value{}, false
}

// negate applies the unary minus e to its checked operand v: a constant
// is negated at compile time, a tensor by a neg node.
func (c *checker) negate(e *lang.UnaryExpr, v value) (value, bool) {
	switch {
	case v.isBool:
		c.errorf(e.Pos, "cannot negate the bool constant %s", boolText(v.num))
		return value{}, false
	case v.tens != nil:
		neg := *v.tens
		neg.vals = make([]float64, len(v.tens.vals))
		for i, x := range v.tens.vals {
			neg.vals[i] = -x
		}
		return neg.value(e.Pos), true
	case v.lit:
		return value{lit: true, num: -v.num, isInt: v.isInt, pos: e.Pos}, true
	}
	return c.apply(e.Pos, e, ir.Neg, []value{v}, nil)
}

// not applies the logical not e to its checked operand v: a bool
// constant is negated at compile time, a tensor by a logical_not node.
func (c *checker) not(e *lang.UnaryExpr, v value) (value, bool) {
	switch {
	case v.isBool:
		return value{lit: true, isBool: true, num: 1 - v.num, pos: e.Pos}, true
	case v.lit && v.tens == nil:
		c.errorf(e.Pos, "! needs a bool, got the number %g", v.num)
		return value{}, false
	}
	return c.apply(e.Pos, e, ir.LogicalNot, []value{v}, nil)
}

// binary checks a binary expression. Operators associate to the left, so
// a long chain such as x + x + … + x nests down its left operands: binary
// walks that spine in a loop, not by recursion, and checks the chain from
// its innermost operation out, so that a chain of any length costs its
// length in time and no stack.
func (c *checker) binary(e *lang.BinaryExpr) (value, bool) {
	spine := []*lang.BinaryExpr{e}
	for {
		inner, ok := spine[len(spine)-1].X.(*lang.BinaryExpr)
		if !ok {
			break
		}
		spine = append(spine, inner)
	}
	x, ok := c.expr(spine[len(spine)-1].X)
	for i := len(spine) - 1; i >= 0; i-- {
		b := spine[i]
		y, oky := c.expr(b.Y)
		if !ok || !oky {
			// Check the remaining right operands too, for their errors.
			ok = false
			continue
		}
		x, ok = c.binaryOf(b, x, y)
	}
	return x, ok
}

// binaryOf applies the operator of e to its checked operands.
func (c *checker) binaryOf(e *lang.BinaryExpr, x, y value) (value, bool) {
	if x.lit && y.lit && x.tens == nil && y.tens == nil {
		if b, ok := foldLogic(e.Op, x.num, y.num, x.isBool, y.isBool); ok {
			return value{lit: true, isBool: true, num: boolNum(b), pos: e.Pos}, true
		}
		if !x.isBool && !y.isBool && !isLogicOp(e.Op) {
			return foldBinary(e, x, y, c)
		}
	}
	return c.apply(e.OpPos, e, binaryOps[e.Op], []value{x, y}, nil)
}

// foldBinary evaluates an operator on two literals at compile time. A
// quotient is never an integer here (unlike in named constants).
func foldBinary(e *lang.BinaryExpr, x, y value, c *checker) (value, bool) {
	num, msg := foldArith(e.Op, x.num, y.num)
	if msg != "" {
		c.errorf(e.OpPos, "%s", msg)
		return value{}, false
	}
	return value{lit: true, num: num, isInt: x.isInt && y.isInt && e.Op != "/", pos: e.Pos}, true
}

// foldArith applies a binary operator to two constant numbers; msg
// explains why it cannot (division by zero, @ of numbers). Literal folding
// in expressions and named constants share it.
func foldArith(op string, x, y float64) (num float64, msg string) {
	switch op {
	case "+":
		return x + y, ""
	case "-":
		return x - y, ""
	case "*":
		return x * y, ""
	case "/":
		if y == 0 {
			return 0, "division by the constant zero"
		}
		return x / y, ""
	}
	return 0, "@ needs matrices, got two numbers"
}

// isLogicOp reports whether op is a comparison or a logical operator.
func isLogicOp(op string) bool {
	switch op {
	case "<", ">", "<=", ">=", "==", "!=", "&&", "||":
		return true
	}
	return false
}

// foldLogic evaluates a comparison of two constant numbers, or a logical
// operator or (in)equality of two constant bools; ok is false for any
// other operator or mix of operands.
func foldLogic(op string, x, y float64, xBool, yBool bool) (result, ok bool) {
	if xBool != yBool {
		return false, false
	}
	switch op {
	case "==":
		return x == y, true
	case "!=":
		return x != y, true
	case "&&":
		return x != 0 && y != 0, xBool
	case "||":
		return x != 0 || y != 0, xBool
	}
	if xBool {
		return false, false
	}
	switch op {
	case "<":
		return x < y, true
	case ">":
		return x > y, true
	case "<=":
		return x <= y, true
	case ">=":
		return x >= y, true
	}
	return false, false
}

// boolNum is a bool constant as a value holds it.
func boolNum(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// apply materializes literal operands with the dtype of the tensor
// operands, builds the op node and reports a type error with the
// operands' types and origins. pos is where the error goes (the operator
// of a binary expression), e the expression (underlined).
func (c *checker) apply(pos lang.Pos, e lang.Expr, def *ir.OpDef, args []value, attrs ir.Attrs) (value, bool) {
	var boolArg []bool // operands that are bool whatever the others are
	boolArg = make([]bool, len(args))
	for _, i := range def.BoolOperands {
		if i < len(args) {
			boolArg[i] = true
		}
	}
	isBoolArg := func(i int) bool { return i < len(boolArg) && boolArg[i] }
	dt := ir.F32
	for i, a := range args {
		if a.isBool && !isBoolArg(i) {
			dt = ir.Bool
		}
	}
	for i, a := range args {
		if !a.lit && !isBoolArg(i) {
			dt = a.node.Type.DType
			break
		}
	}
	inputs := make([]*ir.Node, len(args))
	for i, a := range args {
		if isBoolArg(i) && a.lit {
			if !a.isBool {
				c.errorf(a.pos, "the constant %g is not a bool, but %s needs a bool there", a.num, def.Name)
				return value{}, false
			}
			inputs[i] = c.materialize(a, ir.Bool)
			continue
		}
		if a.isBool && dt != ir.Bool {
			c.errorf(a.pos, "the constant %s is a bool, but the other operand is %s", boolText(a.num), dt)
			return value{}, false
		}
		if a.lit && !a.isBool && !a.isInt && !dt.IsFloat() {
			c.errorf(a.pos, "the constant %g is not an integer, but the other operand is %s", a.num, dt)
			return value{}, false
		}
		if a.lit && !a.isBool && dt == ir.Bool {
			c.errorf(a.pos, "a number cannot be combined with a bool tensor")
			return value{}, false
		}
		inputs[i] = c.materialize(a, dt)
	}
	c.g.SetOrigin(pos, ir.Forward)
	node, err := c.g.Apply(def, inputs, attrs)
	if err == nil {
		// The dtypes a program may use the op with (ir.OpDef.DTypes).
		err = node.Op.CheckDType(node)
	}
	if err != nil {
		c.errorNode(pos, e, "%s", applyMessage(pos, exprLabel(e), def.Name, args, inputs, attrs, err))
		return value{}, false
	}
	return value{node: node, pos: pos, expr: e, from: pos}, true
}

// call checks a call of a function or of a registered op.
func (c *checker) call(e *lang.CallExpr) (value, bool) {
	assigned := e == c.assignCall
	name := e.Func.Name
	if b, ok := c.names[name]; ok && b.kind == "const" && b.cv != nil {
		// A string constant, such as a function's act = "relu", calls
		// the op or function it names; "linear" is the identity.
		b.used = true
		if b.cv.kind != constString {
			c.errorf(e.Func.Pos, "%s is a constant (%s), not a function", name, b.cv.describe())
			return value{}, false
		}
		target := b.cv.str
		if target == "linear" {
			b, ok := c.bind(linearCallee, e, e)
			if !ok {
				c.checkArgs(e)
				return value{}, false
			}
			return c.expr(b.args[0])
		}
		e = &lang.CallExpr{Pos: e.Pos, Func: &lang.Ident{Pos: e.Func.Pos, Name: target}, Args: e.Args, Kwargs: e.Kwargs}
		name = target
	}
	if fd := c.lookupFunc(name); fd != nil {
		return c.callFunc(e, fd, assigned)
	}
	if def, ok := ir.Lookup(name); ok && def.Update {
		return c.stateOp(e) // assign, assign_add, assign_sub: see assign.go
	}
	def, ok := ir.Lookup(name)
	if !ok || def.Internal {
		switch {
		case isInitializer(name):
			c.errorf(e.Func.Pos, "%s is an initializer; it can only initialize a param (param W: f32[...] = %s(...))", name, name)
		case isOptimizer(name):
			c.errorf(e.Func.Pos, "%s is an optimizer; it can only appear in a train statement (train loss with %s(...))", name, name)
		default:
			c.errorf(e.Func.Pos, "unknown function %s%s", name, suggestFrom(name, c.callables()))
		}
		c.checkArgs(e)
		return value{}, false
	}
	// Bind arguments: tensor operands first, then attributes.
	b, ok := c.bind(opCallee(def), e, e)
	if !ok {
		c.checkArgs(e)
		return value{}, false
	}
	tensors := append(b.args[:len(def.Inputs):len(def.Inputs)], b.rest...)
	attrs, good := c.attrArgs(name, def.Attrs, b.args[len(def.Inputs):])
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
	return c.apply(e.Pos, e, def, args, attrs)
}

// checkArgs checks the arguments of a call that failed on its own (an
// unknown function, a wrong number of arguments): their errors, such as
// an undefined name, are independent of the call's and are reported too.
// Constant arguments (attributes, strings) are left alone.
func (c *checker) checkArgs(e *lang.CallExpr) {
	args := append([]lang.Expr(nil), e.Args...)
	for _, kw := range e.Kwargs {
		args = append(args, kw.Value)
	}
	for _, a := range args {
		if _, err := c.constEval(a); err != nil {
			c.expr(a)
		}
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// callables are the names a call may name: ops and visible functions.
func (c *checker) callables() []string {
	out := publicOps()
	if c.u != nil {
		for name := range c.u.funcs {
			out = append(out, name)
		}
		sort.Strings(out)
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

// constInt evaluates an integer literal, possibly negated or
// parenthesized, exactly (without a detour through float64, which would
// round integers above 2^53).
func constInt(e lang.Expr) (int, bool) {
	switch e := e.(type) {
	case *lang.NumberLit:
		if !e.IsInt {
			return 0, false
		}
		v, err := strconv.ParseInt(e.Text, 10, 64)
		return int(v), err == nil
	case *lang.ParenExpr:
		return constInt(e.X)
	case *lang.UnaryExpr:
		if e.Op == "-" {
			v, ok := constInt(e.X)
			return -v, ok
		}
	}
	return 0, false
}

// attrValue converts a compile-time argument to the attribute's kind.
func attrValue(e lang.Expr, kind ir.ArgKind) (any, error) {
	bad := fmt.Errorf("wrong kind")
	switch kind {
	case ir.IntArg:
		if v, ok := constInt(e); ok {
			return v, nil
		}
	case ir.IntsArg:
		if v, ok := constInt(e); ok {
			return []int{v}, nil
		}
		if l, ok := e.(*lang.ListLit); ok {
			out := []int{}
			for _, el := range l.Elems {
				v, ok := constInt(el)
				if !ok {
					return nil, bad
				}
				out = append(out, v)
			}
			return out, nil
		}
	case ir.IntPairsArg:
		if l, ok := e.(*lang.ListLit); ok {
			out := [][]int{}
			for _, el := range l.Elems {
				pair, ok := el.(*lang.ListLit)
				if !ok || len(pair.Elems) != 2 {
					return nil, bad
				}
				v, err := attrValue(pair, ir.IntsArg)
				if err != nil {
					return nil, err
				}
				out = append(out, v.([]int))
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
