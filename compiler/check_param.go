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
	n := c.g.MustApply(ir.Param, nil, attrs)
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
	vals, ok := c.bindArgs(name, in.Args, call)
	if !ok {
		return false
	}
	for k, v := range vals {
		attrs[k] = v
	}
	if name == "constant" && !attrs.Has("value") {
		c.errorNode(d.Init.Position(), d.Init, "constant needs a value: constant(value = 0.1)")
		return false
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

// bindArgs binds the arguments of an initializer or optimizer call
// (compile-time values only) to their specs, filling defaults.
func (c *checker) bindArgs(what string, specs []ir.AttrSpec, call *lang.CallExpr) (ir.Attrs, bool) {
	out := ir.Attrs{}
	for _, s := range specs {
		if s.Default != nil {
			out[s.Name] = s.Default
		}
	}
	if call == nil {
		return out, true
	}
	given := map[string]bool{}
	good := true
	set := func(pos lang.Pos, spec ir.AttrSpec, e lang.Expr) {
		if given[spec.Name] {
			c.errorf(pos, "argument %s of %s given twice", spec.Name, what)
			good = false
			return
		}
		given[spec.Name] = true
		v, err := c.attrArg(e, spec.Kind)
		if err != nil {
			c.errorNode(e.Position(), e, "argument %s of %s must be %s, got %s", spec.Name, what, spec.Kind, exprLabel(e))
			good = false
			return
		}
		out[spec.Name] = v
	}
	for i, a := range call.Args {
		if i >= len(specs) {
			c.errorNode(a.Position(), a, "too many arguments to %s: it takes at most %d", what, len(specs))
			return nil, false
		}
		set(a.Position(), specs[i], a)
	}
	for _, kw := range call.Kwargs {
		var spec *ir.AttrSpec
		var names []string
		for i := range specs {
			names = append(names, specs[i].Name)
			if specs[i].Name == kw.Name.Name {
				spec = &specs[i]
			}
		}
		if spec == nil {
			c.errorf(kw.Name.Pos, "%s", noArgument(what, kw.Name.Name, names))
			good = false
			continue
		}
		set(kw.Name.Pos, *spec, kw.Value)
	}
	return out, good
}
