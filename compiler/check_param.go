package compiler

import (
	"strings"

	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// param checks a param declaration and records its initializer in the
// node's attributes (init, its arguments, and seed for random ones).
func (c *checker) param(d *lang.ParamDecl) {
	t, ok := c.typeExpr(d.Type, false)
	if !ok {
		c.poison(d.Name, "param")
		return
	}
	attrs := ir.Attrs{"dtype": t.DType, "shape": t.Shape, "init": "zeros"}
	if d.Init != nil && !c.initializer(d, t, attrs) {
		c.poison(d.Name, "param")
		return
	}
	c.g.SetOrigin(d.Name.Pos, ir.Forward)
	var n *ir.Node
	// A function called inside if, while or for declares its params in
	// the module's body, like every other: state lives outside regions.
	c.g.Within(c.g.Body, func() { n = c.g.MustApply(ir.Param, nil, attrs) })
	n.Name = c.qualify(d.Name.Name)
	c.g.Params = append(c.g.Params, n)
	c.declare(d.Name, "param", n)
}

func (c *checker) initializer(d *lang.ParamDecl, t ir.Type, attrs ir.Attrs) bool {
	var name string
	var call *lang.CallExpr
	switch e := d.Init.(type) {
	case *lang.Ident:
		name = e.Name
		if _, isInit := Initializers[name]; !isInit {
			if v, err := c.constEval(e); err == nil && v.kind == constNum {
				attrs["init"] = "constant"
				attrs["value"] = v.num
				return true
			}
		}
	case *lang.CallExpr:
		name, call = e.Func.Name, e
	default:
		if v, err := c.constEval(d.Init); err == nil && v.kind == constNum {
			attrs["init"] = "constant"
			attrs["value"] = v.num
			return true
		}
		c.errorNode(d.Init.Position(), d.Init, "param %s: initializer must be a number or one of %s, got %s", d.Name.Name, strings.Join(initializerNames(), ", "), exprLabel(d.Init))
		return false
	}
	in, ok := Initializers[name]
	if !ok {
		c.errorf(d.Init.Position(), "unknown initializer %s (want one of %s)%s", name, strings.Join(initializerNames(), ", "), suggestFrom(name, initializerNames()))
		return false
	}
	if in.Float && !t.DType.IsFloat() {
		c.errorNode(d.Init.Position(), d.Init, "initializer %s needs a floating-point param, but %s is %s", name, d.Name.Name, t)
		return false
	}
	attrs["init"] = name
	b, ok := c.bind(in.callee(), call, d.Init)
	vals, good := c.attrArgs(name, in.Args, b.args)
	if !ok || !good {
		return false
	}
	for k, v := range vals {
		attrs[k] = v
	}
	if name == "restore" {
		return c.restore(d, t, attrs)
	}
	if in.Float {
		if !attrs.Has("seed") {
			attrs["seed"] = int(DefaultSeed(c.qualify(d.Name.Name)) >> 1)
		}
	}
	if (name == "normal" || name == "truncated_normal") && attrs.Float("stddev", 0) < 0 {
		c.errorNode(d.Init.Position(), d.Init, "%s: stddev must not be negative, got %g", name, attrs.Float("stddev", 0))
		return false
	}
	if name == "uniform" && attrs.Float("low", 0) > attrs.Float("high", 0) {
		c.errorNode(d.Init.Position(), d.Init, "uniform: low %g is above high %g", attrs.Float("low", 0), attrs.Float("high", 0))
		return false
	}
	return true
}
