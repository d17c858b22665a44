package compiler

import (
	"errors"
	"fmt"
	"os"

	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// Options control compilation.
type Options struct {
	// Model selects the model by name when a file declares several; empty
	// means the file's only model.
	Model string
	// DumpAfter, when set, receives the IR after each stage ("check",
	// then each pass name, then "train").
	DumpAfter func(stage string, g *ir.Graph)
}

// Compile parses, checks and lowers one model from source: the result
// has its forward graph, gradients and updates, ready for the interpreter
// or codegen. Errors are lang.ErrorList diagnostics or a lang.Error.
func Compile(filename string, src []byte, opts Options) (*ir.Graph, error) {
	f, err := lang.ParseFile(filename, src)
	if err != nil {
		return nil, err
	}
	graphs, err := CheckFile(f)
	if err != nil {
		return nil, err
	}
	var g *ir.Graph
	switch {
	case opts.Model != "":
		for _, c := range graphs {
			if c.Name == opts.Model {
				g = c
			}
		}
		if g == nil {
			return nil, fmt.Errorf("%s: no model named %s", filename, opts.Model)
		}
	case len(graphs) == 1:
		g = graphs[0]
	default:
		return nil, fmt.Errorf("%s: the file declares %d models; choose one", filename, len(graphs))
	}
	dump := func(stage string) {
		if opts.DumpAfter != nil {
			opts.DumpAfter(stage, g)
		}
	}
	dump("check")
	for _, p := range []Pass{StableLogSoftmax} {
		if err := p.Run(g); err != nil {
			return nil, err
		}
		dump(p.Name)
	}
	if err := lowerTraining(g); err != nil {
		var le *lang.Error
		if errors.As(err, &le) {
			return nil, lang.ErrorList{le}
		}
		return nil, err
	}
	g.Prune()
	dump("train")
	return g, nil
}

// CompileFile reads and compiles a .flow file.
func CompileFile(path string, opts Options) (*ir.Graph, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Compile(path, src, opts)
}
