package compiler

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// This file holds compile-time constants: the values of `const`
// declarations, of bool and tensor literals, and of the compile-time
// parameters of functions, and how names find them.

// constKind is the kind of a compile-time constant.
type constKind int

const (
	constNum constKind = iota
	constBool
	constString
	constTensor
)

// constVal is a compile-time constant.
type constVal struct {
	kind  constKind
	num   float64 // constNum; constBool holds 0 or 1
	isInt bool    // constNum: an integer; constTensor: every element is one
	str   string  // constString
	// constTensor: a static shape and its row-major elements.
	shape []int
	vals  []float64
}

// describe names the constant's kind for messages.
func (v *constVal) describe() string {
	switch v.kind {
	case constNum:
		if v.isInt {
			return "an int"
		}
		return "a float"
	case constBool:
		return "a bool"
	case constString:
		return "a string"
	}
	return "a tensor of shape " + ir.Shp(v.shape...).String()
}

// text renders the constant as it would be written.
func (v *constVal) text() string {
	switch v.kind {
	case constNum:
		return strconv.FormatFloat(v.num, 'g', -1, 64)
	case constBool:
		return strconv.FormatBool(v.num != 0)
	case constString:
		return strconv.Quote(v.str)
	}
	return "tensor" + ir.Shp(v.shape...).String()
}

// value turns a numeric, bool or tensor constant into an untyped operand.
func (v *constVal) value(pos lang.Pos) value {
	switch v.kind {
	case constBool:
		return value{lit: true, isBool: true, num: v.num, pos: pos}
	case constTensor:
		return value{lit: true, isInt: v.isInt, tens: v, pos: pos}
	}
	return value{lit: true, num: v.num, isInt: v.isInt, pos: pos}
}

// maxConstElems bounds the elements of a tensor literal.
const maxConstElems = 1 << 20

// constEval evaluates a compile-time constant expression: numbers, bools,
// strings, tensor literals, named constants and compile-time parameters,
// combined with + - * / on numbers and unary minus. It reports nothing:
// the caller decides how to report the error it returns.
func (c *checker) constEval(e lang.Expr) (*constVal, *lang.Error) {
	bad := func(pos lang.Pos, format string, args ...any) (*constVal, *lang.Error) {
		return nil, &lang.Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
	}
	switch e := e.(type) {
	case *lang.NumberLit:
		return &constVal{kind: constNum, num: e.Value, isInt: e.IsInt}, nil
	case *lang.StringLit:
		return &constVal{kind: constString, str: e.Value}, nil
	case *lang.ParenExpr:
		return c.constEval(e.X)
	case *lang.Ident:
		switch e.Name {
		case "true":
			return &constVal{kind: constBool, num: 1}, nil
		case "false":
			return &constVal{kind: constBool}, nil
		}
		if b, ok := c.names[e.Name]; ok {
			b.used = true
			if b.kind == "const" && b.cv != nil {
				return b.cv, nil
			}
			if b.cv == nil && b.node == nil {
				return nil, &lang.Error{} // poisoned: already reported
			}
			return bad(e.Pos, "%s is %s, not a constant", e.Name, article(b.kind))
		}
		if d, ok := c.dims[e.Name]; ok {
			// A function's generic dimension is an int where a call
			// binds it to a fixed size.
			if d.IsSym() {
				return bad(e.Pos, "dimension %s is the symbolic dimension %s at this call, which has no size until the model runs", e.Name, d.Sym)
			}
			return &constVal{kind: constNum, num: float64(d.Size), isInt: true}, nil
		}
		if v, err, ok := c.globalConst(e.Name); ok {
			return v, err
		}
		return bad(e.Pos, "undefined: %s%s", e.Name, c.suggest(e.Name))
	case *lang.UnaryExpr:
		x, err := c.constEval(e.X)
		if err != nil {
			return nil, err
		}
		if e.Op == "!" {
			if x.kind != constBool {
				return bad(e.Pos, "! needs a bool constant, got %s", x.describe())
			}
			return &constVal{kind: constBool, num: 1 - x.num}, nil
		}
		switch x.kind {
		case constNum:
			return &constVal{kind: constNum, num: -x.num, isInt: x.isInt}, nil
		case constTensor:
			neg := &constVal{kind: constTensor, isInt: x.isInt, shape: x.shape, vals: make([]float64, len(x.vals))}
			for i, v := range x.vals {
				neg.vals[i] = -v
			}
			return neg, nil
		}
		return bad(e.Pos, "cannot negate %s constant", strings.TrimPrefix(x.describe(), "a "))
	case *lang.BinaryExpr:
		x, err := c.constEval(e.X)
		if err != nil {
			return nil, err
		}
		y, err := c.constEval(e.Y)
		if err != nil {
			return nil, err
		}
		if (x.kind == constNum || x.kind == constBool) && x.kind == y.kind {
			if b, ok := foldLogic(e.Op, x.num, y.num, x.kind == constBool, y.kind == constBool); ok {
				return &constVal{kind: constBool, num: boolNum(b)}, nil
			}
		}
		if isLogicOp(e.Op) {
			return bad(e.OpPos, "%s: %s cannot combine %s and %s", exprLabel(e), e.Op, x.describe(), y.describe())
		}
		if x.kind != constNum || y.kind != constNum {
			return bad(e.OpPos, "%s: constant arithmetic combines numbers only, got %s and %s", exprLabel(e), x.describe(), y.describe())
		}
		num, msg := foldArith(e.Op, x.num, y.num)
		if msg != "" {
			return bad(e.OpPos, "%s", msg)
		}
		// Like Go's constants, int / int is an int when exact.
		return &constVal{kind: constNum, num: num, isInt: x.isInt && y.isInt && num == math.Trunc(num)}, nil
	case *lang.ListLit:
		return c.tensorLit(e)
	case *lang.CallExpr:
		return bad(e.Pos, "%s is not a constant: calls are computed when the model runs", exprLabel(e))
	}
	return bad(e.Position(), "%s is not a constant", exprLabel(e))
}

// tensorLit evaluates `[a, b, ...]`: numbers, or tensors of one shape.
func (c *checker) tensorLit(e *lang.ListLit) (*constVal, *lang.Error) {
	if len(e.Elems) == 0 {
		return nil, &lang.Error{Pos: e.Pos, Msg: "an empty tensor literal has no shape; a tensor literal needs at least one element"}
	}
	out := &constVal{kind: constTensor, isInt: true}
	var first *constVal
	for i, el := range e.Elems {
		v, err := c.constEval(el)
		if err != nil {
			return nil, err
		}
		switch v.kind {
		case constNum:
			if first != nil && first.kind != constNum {
				return nil, &lang.Error{Pos: el.Position(), Msg: fmt.Sprintf("ragged tensor literal: element %d is a number, but element 1 is a tensor of shape %s", i+1, ir.Shp(first.shape...))}
			}
			out.vals = append(out.vals, v.num)
			out.isInt = out.isInt && v.isInt
		case constTensor:
			if first != nil && (first.kind != constTensor || !slices.Equal(first.shape, v.shape)) {
				what := "a number"
				if first.kind == constTensor {
					what = "of shape " + ir.Shp(first.shape...).String()
				}
				return nil, &lang.Error{Pos: el.Position(), Msg: fmt.Sprintf("ragged tensor literal: element %d has shape %s, but element 1 is %s", i+1, ir.Shp(v.shape...), what)}
			}
			out.vals = append(out.vals, v.vals...)
			out.isInt = out.isInt && v.isInt
		default:
			return nil, &lang.Error{Pos: el.Position(), Msg: fmt.Sprintf("a tensor literal holds numbers, but element %d is %s", i+1, v.describe())}
		}
		if len(out.vals) > maxConstElems {
			return nil, &lang.Error{Pos: e.Pos, Msg: fmt.Sprintf("tensor literal too large (more than %d elements)", maxConstElems)}
		}
		if first == nil {
			first = v
		}
	}
	out.shape = []int{len(e.Elems)}
	if first.kind == constTensor {
		out.shape = append(out.shape, first.shape...)
	}
	return out, nil
}

func article(kind string) string {
	switch kind {
	case "input", "arg":
		return "an " + map[string]string{"input": "input", "arg": "argument"}[kind]
	}
	return "a " + kind
}

// globalConst returns the file-level constant name visible in the
// current file, evaluating it on first use; ok is false when there is
// none.
func (c *checker) globalConst(name string) (v *constVal, err *lang.Error, ok bool) {
	if c.u == nil {
		return nil, nil, false
	}
	gc, ok := c.u.consts[name]
	if !ok {
		return nil, nil, false
	}
	v, err = c.evalGlobal(gc)
	return v, err, true
}

// evalGlobal evaluates a file-level constant in the scope of its own file.
func (c *checker) evalGlobal(gc *globalConst) (*constVal, *lang.Error) {
	switch gc.state {
	case constDone:
		return gc.val, nil
	case constFailed:
		return nil, &lang.Error{} // reported when it failed
	case constEvaluating:
		gc.state = constFailed
		return nil, &lang.Error{Pos: gc.decl.Name.Pos, Msg: fmt.Sprintf("constant %s refers to itself", gc.decl.Name.Name)}
	}
	gc.state = constEvaluating
	saved := c.saveFrame()
	c.names, c.order, c.u, c.dims = map[string]*binding{}, nil, gc.u, nil
	v, err := c.constEval(gc.decl.Value)
	c.restoreFrame(saved)
	if err != nil {
		if gc.state != constFailed && err.Msg != "" {
			c.nerrs++
			c.errs = append(c.errs, err)
		}
		gc.state = constFailed
		return nil, &lang.Error{}
	}
	gc.val, gc.state = v, constDone
	return v, nil
}

// constDecl checks a `const` statement in a model or function body.
func (c *checker) constDecl(d *lang.ConstDecl) {
	v, err := c.constEval(d.Value)
	if err != nil {
		c.report(err)
		c.poison(d.Name, "const")
		return
	}
	c.declare(d.Name, "const", nil)
	if b, ok := c.names[d.Name.Name]; ok && b.pos == d.Name.Pos {
		b.cv = v
	}
}

// report adds an error from constEval unless it was already reported.
func (c *checker) report(err *lang.Error) {
	if err != nil && err.Msg != "" {
		c.errorf(err.Pos, "%s", err.Msg)
	}
}

// exactInt reports whether the integer constant v, held as a float64, is
// exact: named constants are computed in float64, which holds every
// integer up to 2^53 and rounds larger ones.
func exactInt(v float64) bool { return math.Abs(v) <= 1<<53 }

// constAttr converts a constant to the value of an attribute of kind.
func constAttr(v *constVal, kind ir.ArgKind) (any, bool) {
	switch kind {
	case ir.IntArg:
		if v.kind == constNum && v.isInt && exactInt(v.num) {
			return int(v.num), true
		}
	case ir.IntsArg:
		if v.kind == constNum && v.isInt && exactInt(v.num) {
			return []int{int(v.num)}, true
		}
		if v.kind == constTensor && v.isInt && len(v.shape) == 1 {
			out := make([]int, len(v.vals))
			for i, x := range v.vals {
				if !exactInt(x) {
					return nil, false
				}
				out[i] = int(x)
			}
			return out, true
		}
	case ir.BoolArg:
		if v.kind == constBool {
			return v.num != 0, true
		}
	case ir.FloatArg:
		if v.kind == constNum {
			return v.num, true
		}
	case ir.StringArg:
		if v.kind == constString {
			return v.str, true
		}
	case ir.IntPairsArg:
		if v.kind == constTensor && v.isInt && len(v.shape) == 2 && v.shape[1] == 2 {
			out := make([][]int, v.shape[0])
			for i := range out {
				out[i] = []int{int(v.vals[2*i]), int(v.vals[2*i+1])}
			}
			return out, true
		}
	}
	return nil, false
}

// attrArg converts a compile-time argument of an op, initializer or
// optimizer to an attribute of kind: a literal, or any constant
// expression (named constants, compile-time parameters, arithmetic).
func (c *checker) attrArg(e lang.Expr, kind ir.ArgKind) (any, error) {
	if kind == ir.DimsArg {
		return c.dimsArg(e)
	}
	if v, err := attrValue(e, kind); err == nil {
		return v, nil
	}
	v, cerr := c.constEval(e)
	if cerr != nil {
		return nil, fmt.Errorf("not a constant")
	}
	if a, ok := constAttr(v, kind); ok {
		return a, nil
	}
	return nil, fmt.Errorf("wrong kind")
}

// dimsArg converts a list of sizes, each a constant int or the name of
// a dimension (a function's generic dimension or the model's symbolic
// one), to a shape.
func (c *checker) dimsArg(e lang.Expr) (any, error) {
	l, ok := e.(*lang.ListLit)
	if !ok {
		v, err := c.attrArg(e, ir.IntsArg)
		if err != nil {
			return nil, err
		}
		return ir.Shp(v.([]int)...), nil
	}
	out := ir.Shape{}
	for _, el := range l.Elems {
		if id, ok := el.(*lang.Ident); ok {
			if d, ok := c.dims[id.Name]; ok {
				out = append(out, d)
				continue
			}
			if slices.Contains(c.g.Syms, id.Name) {
				if _, shadowed := c.names[id.Name]; !shadowed {
					out = append(out, ir.Sym(id.Name))
					continue
				}
			}
		}
		v, err := c.attrArg(el, ir.IntArg)
		if err != nil {
			return nil, err
		}
		out = append(out, ir.Fixed(v.(int)))
	}
	return out, nil
}
