package compiler

import (
	"fmt"
	"hash/fnv"
	"sort"

	"github.com/flow-lang/flow/compiler/ir"
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
