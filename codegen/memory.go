package codegen

import (
	"fmt"
	"strings"

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
	// ArenaBytes[k] bytes times N^k, summed. It is set for a model with
	// at most one symbolic dimension; ArenaTerms for one with more.
	ArenaBytes []int64
	// Syms are the model's symbolic dimensions when it has more than
	// one, in the order of the generated code's arguments (the batch
	// first, then ir.Module.Syms's order).
	Syms []string
	// ArenaTerms is the arena's size as a polynomial in Syms when the
	// model has more than one: the sum of the terms' bytes times the
	// product of each symbol to its power.
	ArenaTerms []ArenaTerm
	// Largest is the param with the most bytes; nil without params.
	Largest *ir.Node
}

// ArenaTerm is one term of MemoryNeeds.ArenaTerms: Bytes times the
// product of Syms[i] to the power Pow[i].
type ArenaTerm struct {
	Bytes int64
	Pow   []int
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
	arena := poly{}
	for _, dt := range c.usedDTypes() {
		for k, elems := range c.arenaSize(dt) {
			b, ok := ir.MulInt(elems, dt.Size())
			sum, oks := ir.AddInt(arena[k], b)
			if !ok || !oks {
				return MemoryNeeds{}, fmt.Errorf("%s: the working buffers of model %s take more bytes than an int64 holds", c.g.Pos, c.g.Name)
			}
			arena[k] = sum
		}
	}
	if len(c.g.Syms) <= 1 {
		for _, k := range arena.monos() {
			d := monoDegree(k)
			for len(m.ArenaBytes) <= d {
				m.ArenaBytes = append(m.ArenaBytes, 0)
			}
			m.ArenaBytes[d] = int64(arena[k])
		}
		return m, nil
	}
	m.Syms = c.g.Syms
	for _, k := range arena.monos() {
		t := ArenaTerm{Bytes: int64(arena[k]), Pow: make([]int, len(m.Syms))}
		for i, s := range m.Syms {
			t.Pow[i] = monoPow(k, s)
		}
		m.ArenaTerms = append(m.ArenaTerms, t)
	}
	return m, nil
}

// arenaPoly is the arena's bytes as a polynomial.
func (m MemoryNeeds) arenaPoly() poly {
	p := poly{}
	for d, b := range m.ArenaBytes {
		p[strings.TrimSuffix(strings.Repeat("N*", d), "*")] = int(b)
	}
	for _, t := range m.ArenaTerms {
		k := ""
		for i, s := range m.Syms {
			for range t.Pow[i] {
				k = monoMul(k, s)
			}
		}
		p[k] += int(t.Bytes)
	}
	return p
}

// memoryCode is the runtime.Memory literal of the signature.
func memoryCode(m MemoryNeeds) jen.Code {
	dict := map[string]jen.Code{"ParamBytes": jen.Lit(int(m.ParamBytes))}
	if len(m.ArenaBytes) > 0 {
		var arena []jen.Code
		for _, b := range m.ArenaBytes {
			arena = append(arena, jen.Lit(int(b)))
		}
		dict["ArenaBytes"] = jen.Index().Int64().Values(arena...)
	}
	if len(m.ArenaTerms) > 0 {
		var syms, terms []jen.Code
		for _, s := range m.Syms {
			syms = append(syms, jen.Lit(s))
		}
		for _, t := range m.ArenaTerms {
			var pow []jen.Code
			for _, p := range t.Pow {
				pow = append(pow, jen.Lit(p))
			}
			terms = append(terms, runtimeKeyed("MemoryTerm", map[string]jen.Code{
				"Bytes": jen.Lit(int(t.Bytes)),
				"Pow":   jen.Index().Int().Values(pow...),
			}))
		}
		dict["Syms"] = jen.Index().String().Values(syms...)
		dict["Terms"] = jen.Index().Qual(RuntimePath, "MemoryTerm").Values(terms...)
	}
	return jen.Qual(RuntimePath, "Memory").Add(runtimeKeyed("Memory", dict))
}

// grows reports whether the arena grows with the batch size (or another
// symbolic dimension).
func (m MemoryNeeds) grows() bool {
	for k, b := range m.ArenaBytes {
		if k > 0 && b != 0 {
			return true
		}
	}
	for _, t := range m.ArenaTerms {
		for _, p := range t.Pow {
			if p > 0 && t.Bytes != 0 {
				return true
			}
		}
	}
	return false
}
