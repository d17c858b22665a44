package main

import (
	"flag"
	"fmt"

	"github.com/flow-lang/flow/codegen"
	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
	"github.com/flow-lang/flow/runtime"
)

// memoryFlag is --max-memory: the most memory a model may need at batch
// size 1 (its params and the working buffers of a one-example call).
type memoryFlag struct{ spec *string }

// addMemoryFlag registers --max-memory on fs.
func addMemoryFlag(fs *flag.FlagSet) memoryFlag {
	return memoryFlag{fs.String("max-memory", "", "the most memory the model may need at batch size 1, e.g. 16GiB; 0 for no limit "+
		"(default: $"+runtime.MemoryLimitEnv+", else this machine's memory)")}
}

// limit returns the limit in bytes (0: none) and where it comes from.
func (f memoryFlag) limit() (int64, string, error) {
	if *f.spec != "" {
		n, err := runtime.ParseBytes(*f.spec)
		if err != nil {
			return 0, "", fmt.Errorf("--max-memory: %v", err)
		}
		return n, "--max-memory", nil
	}
	n, source, err := runtime.MemoryLimit()
	if err != nil {
		return 0, "", err
	}
	return n, source + "; --max-memory to change", nil
}

// check reports a model whose params and one-example working buffers
// exceed the limit, as a diagnostic at its largest param (when the
// params are most of it) or at the model. A model codegen cannot
// generate is not checked: gen and build report why.
func (f memoryFlag) check(g *ir.Module) error {
	limit, source, err := f.limit()
	if err != nil || limit <= 0 {
		return err
	}
	needs, err := codegen.Memory(g, codegen.Options{})
	if err != nil {
		return nil
	}
	mem := runtime.Memory{ParamBytes: needs.ParamBytes, ArenaBytes: needs.ArenaBytes, Syms: needs.Syms}
	for _, t := range needs.ArenaTerms {
		mem.Terms = append(mem.Terms, runtime.MemoryTerm{Bytes: t.Bytes, Pow: t.Pow})
	}
	arena, okA := mem.Arena(1)
	total, ok := mem.Total(1)
	if ok && total <= limit {
		return nil
	}
	pos := g.Pos
	largest := ""
	if p := needs.Largest; p != nil {
		pb, _ := ir.MulInt(p.Type.Shape.NumElements(nil), p.Type.DType.Size())
		largest = fmt.Sprintf(" (the largest, %s %s, %s)", p.Name, p.Type, runtime.FormatBytes(int64(pb)))
		if !okA || needs.ParamBytes >= arena {
			pos = p.Pos
		}
	}
	need := "more bytes than an int64 holds"
	if ok {
		need = runtime.FormatBytes(total)
	}
	return lang.ErrorList{{Pos: pos, Msg: fmt.Sprintf("model %s needs %s at batch size 1: params %s%s and working buffers %s, more than the limit of %s (%s)",
		g.Name, need, runtime.FormatBytes(needs.ParamBytes), largest, runtime.FormatBytes(arena), runtime.FormatBytes(limit), source)}}
}
