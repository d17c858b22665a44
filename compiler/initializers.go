package compiler

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"

	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// Initializer describes a param initializer: its arguments as the
// language sees them. The values it produces are defined by
// InitialValues, which generated code reproduces exactly.
type Initializer struct {
	Name    string
	Summary string
	Args    []ir.AttrSpec
	// Float reports whether the initializer needs a floating-point param.
	Float bool
}

// Initializers lists the param initializers by name.
var Initializers = map[string]*Initializer{
	"zeros":    {Name: "zeros", Summary: "every element 0"},
	"ones":     {Name: "ones", Summary: "every element 1"},
	"constant": {Name: "constant", Summary: "every element `value`", Args: []ir.AttrSpec{{Name: "value", Kind: ir.FloatArg}}},
	"normal": {Name: "normal", Summary: "independent draws from N(mean, stddev²)", Float: true, Args: []ir.AttrSpec{
		{Name: "mean", Kind: ir.FloatArg, Default: 0.0},
		{Name: "stddev", Kind: ir.FloatArg, Default: 0.05},
		{Name: "seed", Kind: ir.IntArg},
	}},
	"uniform": {Name: "uniform", Summary: "independent draws from U[low, high)", Float: true, Args: []ir.AttrSpec{
		{Name: "low", Kind: ir.FloatArg, Default: -0.05},
		{Name: "high", Kind: ir.FloatArg, Default: 0.05},
		{Name: "seed", Kind: ir.IntArg},
	}},
}

func isInitializer(name string) bool { _, ok := Initializers[name]; return ok }

func initializerNames() []string {
	var out []string
	for k := range Initializers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// DefaultSeed is the seed of a random initializer written without one:
// the 64-bit FNV-1a hash of the param's name, so that params differ from
// each other and every build is reproducible.
func DefaultSeed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

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
	n := c.g.MustApply("param", nil, attrs)
	n.Name = d.Name.Name
	c.g.Params = append(c.g.Params, n)
	c.declare(d.Name, "param", n)
}

func (c *checker) initializer(d *lang.ParamDecl, t ir.Type, attrs ir.Attrs) bool {
	var name string
	var call *lang.CallExpr
	switch e := d.Init.(type) {
	case *lang.Ident:
		name = e.Name
	case *lang.CallExpr:
		name, call = e.Func.Name, e
	default:
		if v, _, ok := constNumber(d.Init); ok {
			attrs["init"] = "constant"
			attrs["value"] = v
			return true
		}
		c.errorf(d.Init.Position(), "param %s: initializer must be a number or one of %s, got %s", d.Name.Name, strings.Join(initializerNames(), ", "), exprString(d.Init))
		return false
	}
	in, ok := Initializers[name]
	if !ok {
		c.errorf(d.Init.Position(), "unknown initializer %s (want one of %s)%s", name, strings.Join(initializerNames(), ", "), suggestFrom(name, initializerNames()))
		return false
	}
	if in.Float && !t.DType.IsFloat() {
		c.errorf(d.Init.Position(), "initializer %s needs a floating-point param, but %s is %s", name, d.Name.Name, t)
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
		c.errorf(d.Init.Position(), "constant needs a value: constant(value = 0.1)")
		return false
	}
	if in.Float {
		if !attrs.Has("seed") {
			attrs["seed"] = int(DefaultSeed(d.Name.Name) >> 1)
		}
	}
	if name == "normal" && attrs.Float("stddev", 0) < 0 {
		c.errorf(d.Init.Position(), "normal: stddev must not be negative, got %g", attrs.Float("stddev", 0))
		return false
	}
	if name == "uniform" && attrs.Float("low", 0) > attrs.Float("high", 0) {
		c.errorf(d.Init.Position(), "uniform: low %g is above high %g", attrs.Float("low", 0), attrs.Float("high", 0))
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
		v, err := attrValue(e, spec.Kind)
		if err != nil {
			c.errorf(e.Position(), "argument %s of %s must be %s, got %s", spec.Name, what, spec.Kind, exprString(e))
			good = false
			return
		}
		out[spec.Name] = v
	}
	for i, a := range call.Args {
		if i >= len(specs) {
			c.errorf(a.Position(), "too many arguments to %s: it takes at most %d", what, len(specs))
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
			c.errorf(kw.Name.Pos, "%s has no argument %s%s", what, kw.Name.Name, suggestFrom(kw.Name.Name, names))
			good = false
			continue
		}
		set(kw.Name.Pos, *spec, kw.Value)
	}
	return out, good
}

// InitialValues computes a param's initial elements from its initializer
// attributes. This is the definition generated code reproduces: random
// draws come from math/rand/v2's PCG source seeded with (seed,
// InitStream), taken in row-major order, normal via NormFloat64 and
// uniform via Float64.
func InitialValues(p *ir.Node) ([]float64, error) {
	n := p.Type.Shape.NumElements(nil)
	out := make([]float64, n)
	a := p.Attrs
	switch a.String("init", "zeros") {
	case "zeros":
	case "ones":
		for i := range out {
			out[i] = 1
		}
	case "constant":
		v := a.Float("value", 0)
		for i := range out {
			out[i] = v
		}
	case "normal":
		r := newInitRand(uint64(a.Int("seed", 0)))
		mean, sd := a.Float("mean", 0), a.Float("stddev", 0.05)
		for i := range out {
			out[i] = mean + sd*r.NormFloat64()
		}
	case "uniform":
		r := newInitRand(uint64(a.Int("seed", 0)))
		lo, hi := a.Float("low", -0.05), a.Float("high", 0.05)
		for i := range out {
			out[i] = lo + (hi-lo)*r.Float64()
		}
	default:
		return nil, fmt.Errorf("param %s: unknown initializer %q", p.Name, a.String("init", ""))
	}
	return out, nil
}
