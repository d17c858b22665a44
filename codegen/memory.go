package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/flow-lang/flow/compiler/ir"
)

// MemoryNeeds is what the generated code of a model allocates: its
// params (and other state), once, and one arena of working buffers laid
// out for each call's batch size (the memory plan, plan.go).
type MemoryNeeds struct {
	// ParamBytes is the size of the params and state.
	ParamBytes int64
	// ArenaBytes is the arena's size as a polynomial in the batch size:
	// ArenaBytes[k] bytes times N^k, summed.
	ArenaBytes []int64
	// Largest is the param with the most bytes; nil without params.
	Largest *ir.Node
}

// Memory returns what the code Generate would write for g allocates, or
// the reason it cannot generate g.
func Memory(g *ir.Module, opts Options) (_ MemoryNeeds, err error) {
	defer internalError(g, &err)
	c := newGen(g, opts)
	if err := c.validate(); err != nil {
		return MemoryNeeds{}, err
	}
	if err := c.decide("memory"); err != nil {
		return MemoryNeeds{}, err
	}
	return c.plan.needs, nil
}

// internalError turns a panic of the generator — a broken invariant, a
// bug — into an error naming the model, so that flowc reports it rather
// than crash. It must be deferred.
func internalError(g *ir.Module, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("codegen: internal error generating model %s: %v", g.Name, r)
	}
}

// memoryNeeds sums the params' and the arena's bytes with checked
// arithmetic.
func (c *gen) memoryNeeds() (MemoryNeeds, error) {
	var m MemoryNeeds
	var largest int
	params := 0
	for _, p := range c.g.Params {
		n, ok := p.Type.Shape.FixedElements()
		b, okb := ir.MulInt(n, p.Type.DType.Size())
		sum, oks := ir.AddInt(params, b)
		if !ok || !okb || !oks {
			return MemoryNeeds{}, fmt.Errorf("%s: the params of model %s take more bytes than an int64 holds", p.Pos, c.g.Name)
		}
		params = sum
		if m.Largest == nil || b > largest {
			m.Largest, largest = p, b
		}
	}
	m.ParamBytes = int64(params)
	for _, dt := range c.usedDTypes() {
		for k, elems := range c.arenaSize(dt) {
			b, ok := ir.MulInt(elems, dt.Size())
			if !ok {
				return MemoryNeeds{}, fmt.Errorf("%s: the working buffers of model %s take more bytes than an int64 holds", c.g.Pos, c.g.Name)
			}
			for len(m.ArenaBytes) <= k {
				m.ArenaBytes = append(m.ArenaBytes, 0)
			}
			sum, ok := ir.AddInt(int(m.ArenaBytes[k]), b)
			if !ok {
				return MemoryNeeds{}, fmt.Errorf("%s: the working buffers of model %s take more bytes than an int64 holds", c.g.Pos, c.g.Name)
			}
			m.ArenaBytes[k] = int64(sum)
		}
	}
	return m, nil
}

// memoryCode is the runtime.Memory literal of the signature.
func memoryCode(m MemoryNeeds) jen.Code {
	dict := jen.Dict{jen.Id("ParamBytes"): jen.Lit(int(m.ParamBytes))}
	if len(m.ArenaBytes) > 0 {
		var arena []jen.Code
		for _, b := range m.ArenaBytes {
			arena = append(arena, jen.Lit(int(b)))
		}
		dict[jen.Id("ArenaBytes")] = jen.Index().Int64().Values(arena...)
	}
	return jen.Qual(RuntimePath, "Memory").Values(dict)
}

// grows reports whether the arena grows with the batch size.
func (m MemoryNeeds) grows() bool {
	for k, b := range m.ArenaBytes {
		if k > 0 && b != 0 {
			return true
		}
	}
	return false
}
