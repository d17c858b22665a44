package compiler

import (
	"github.com/flow-lang/flow/compiler/ir"
)

// The loss analysis through control flow: a cond, while or scan keeps
// the examples of a batch apart when its regions do, given what their
// block arguments hold, and when what decides the branch or the trips
// does not depend on the batch's values.

// control returns the facts of the elements of control-flow node n's
// value from the facts of its operands, in.
func (a *batchAnalysis) control(n *ir.Node, in []batchFact) []batchFact {
	elems := n.Type.Elems
	all := func(f batchFact) []batchFact {
		out := make([]batchFact, len(elems))
		for i := range out {
			out[i] = f
		}
		return out
	}
	for _, f := range in {
		if f.kind != kindFree && f.kind != kindRows {
			return all(unknown(n, "%s over a value that combines the examples of the batch", n.Op.Name))
		}
	}
	switch n.Op {
	case ir.Cond:
		// The predicate is a scalar, so free here: one that depends on
		// the batch's values is a sum, mean or count, refused above.
		then := a.region(n.Attrs["then"].(*ir.Region), in[1:])
		els := a.region(n.Attrs["else"].(*ir.Region), in[1:])
		out := make([]batchFact, len(elems))
		for i := range out {
			out[i] = then[i]
			if then[i] != els[i] {
				out[i] = unknown(n, "the branches of if hold the batch differently")
			}
		}
		return out
	case ir.While:
		k := n.Attrs.Int("carried", 0)
		if c := a.region(n.Attrs["cond"].(*ir.Region), in)[0]; c.kind != kindFree {
			return all(unknown(n, "how many times while runs depends on the batch's values"))
		}
		res := a.region(n.Attrs["body"].(*ir.Region), in)
		out := make([]batchFact, 0, len(elems))
		for i := range k {
			out = append(out, a.carried(n, in[i], res[i]))
		}
		if n.Attrs.Bool("record") {
			out = append(out, batchFact{kind: kindFree}) // the trip count
			for i := range k {
				out = append(out, stackedFact(out[i], 0))
			}
		}
		return out
	case ir.Scan:
		q, k := n.Attrs.Int("seqs", 0), n.Attrs.Int("carried", 0)
		axes, yaxes := n.Attrs.Ints("axes"), n.Attrs.Ints("yaxes")
		args := make([]batchFact, len(in))
		copy(args, in)
		for i := range q {
			f := in[i]
			if f.kind == kindRows {
				switch {
				case f.axis == axes[i]:
					return all(unknown(n, "for steps along the batch dimension"))
				case f.axis > axes[i]:
					f.axis--
				}
			}
			args[i] = f
		}
		res := a.region(n.Attrs["body"].(*ir.Region), args)
		ny := len(res) - k
		out := make([]batchFact, 0, len(elems))
		for i := range ny {
			out = append(out, stackedFact(res[i], yaxes[i]))
		}
		for i := range k {
			out = append(out, a.carried(n, in[q+i], res[ny+i]))
		}
		if n.Attrs.Bool("record") {
			for i := range k {
				out = append(out, stackedFact(out[ny+i], 0))
			}
		}
		return out
	}
	return all(unknown(n, "the compiler does not know how %s treats the batch dimension", n.Op.Name))
}

// region analyses region r with its block arguments holding args and
// returns the facts of its results.
func (a *batchAnalysis) region(r *ir.Region, args []batchFact) []batchFact {
	for i, arg := range r.Args {
		a.facts[arg] = args[i]
	}
	for _, m := range r.Nodes {
		a.facts[m] = a.fact(m)
	}
	out := make([]batchFact, len(r.Results))
	for i, res := range r.Results {
		out[i] = a.facts[res]
	}
	return out
}

// carried is the fact of a loop's carried value: the body must hold the
// batch as the initial value does, trip after trip.
func (a *batchAnalysis) carried(n *ir.Node, init, next batchFact) batchFact {
	if next.kind == kindUnknown {
		return next
	}
	if next != init {
		return unknown(n, "a carried value of %s holds the batch differently after a trip", n.Op.Name)
	}
	return init
}

// stackedFact is the fact of per-step values f stacked along a new axis.
func stackedFact(f batchFact, axis int) batchFact {
	if f.kind == kindRows && f.axis >= axis {
		f.axis++
	}
	return f
}
