package compiler

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/flow-lang/flow/compiler/cost"
	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// Options control compilation.
type Options struct {
	// Model selects the model by name when a file declares several; empty
	// means the file's only model.
	Model string
	// DumpAfter, when set, receives the IR after each stage: "check",
	// then each pass of the pipeline that runs (PassContext.Pipeline):
	// "stable-log-softmax", each optimization pass by name (see
	// OptimizationPasses) on the forward graph, "train-mode" (when the
	// model has dropout or batch_norm), "train", then each optimization
	// pass again on the training graph. StageNames lists the names.
	DumpAfter func(stage string, g *ir.Module)
	// NoOptimize turns the optimization passes off; the passes needed for
	// correctness (stable-log-softmax) and the lowerings still run.
	NoOptimize bool
	// Profile is the machine profile the cost-based passes (matmul-chain)
	// estimate with; nil means the built-in one (cost.Default), so output
	// does not depend on the machine.
	Profile *cost.Profile
	// ReadFile reads the files that `import` and the restore initializer
	// name, resolved relative to the naming file's name; nil means
	// os.ReadFile.
	ReadFile func(path string) ([]byte, error)
	// Timing, when set, receives the time each stage took, in order:
	// "parse", "check", then the stages DumpAfter names after "check".
	// A pass that runs on the forward graph and again on the training
	// graph is reported twice.
	Timing func(stage string, d time.Duration)
	// Verify runs ir.Verify after every pass and turns an invalid IR into
	// an internal error naming the pass; the tests set it.
	Verify bool
}

// StageTimer returns a function that reports, on each call, the time
// since the previous call (or since StageTimer) to timing under the
// stage's name; with a nil timing it does nothing. The compiler and
// codegen time their stages with it.
func StageTimer(timing func(string, time.Duration)) func(stage string) {
	if timing == nil {
		return func(string) {}
	}
	last := time.Now()
	return func(stage string) {
		now := time.Now()
		timing(stage, now.Sub(last))
		last = now
	}
}

// Compile parses, checks and lowers one model from source: the result
// has its forward graph, gradients and updates, ready for the interpreter
// or codegen. Errors are lang.ErrorList diagnostics or a lang.Error.
func Compile(filename string, src []byte, opts Options) (*ir.Module, error) {
	graphs, err := checkSource(filename, src, opts)
	if err != nil {
		return nil, err
	}
	var g *ir.Module
	switch {
	case opts.Model != "":
		var names []string
		for _, c := range graphs {
			names = append(names, c.Name)
			if c.Name == opts.Model {
				g = c
			}
		}
		if g == nil {
			return nil, fmt.Errorf("%s: no model named %s (the file declares %s)", filename, opts.Model, strings.Join(names, ", "))
		}
	case len(graphs) == 1:
		g = graphs[0]
	default:
		var names []string
		for _, c := range graphs {
			names = append(names, c.Name)
		}
		return nil, fmt.Errorf("%s: the file declares %d models (%s); choose one with --model", filename, len(graphs), strings.Join(names, ", "))
	}
	if err := lower(g, opts); err != nil {
		return nil, err
	}
	return g, nil
}

// CompileAll parses, checks and lowers every model of a file.
func CompileAll(filename string, src []byte, opts Options) ([]*ir.Module, error) {
	graphs, err := checkSource(filename, src, opts)
	if err != nil {
		return nil, err
	}
	for _, g := range graphs {
		if err := lower(g, opts); err != nil {
			return nil, err
		}
	}
	return graphs, nil
}

// checkSource parses and checks every model of a file, reading its
// imports with opts.ReadFile.
func checkSource(filename string, src []byte, opts Options) ([]*ir.Module, error) {
	stage := StageTimer(opts.Timing)
	f, err := lang.ParseFile(filename, src)
	stage("parse")
	if err != nil {
		var list lang.ErrorList
		if errors.As(err, &list) {
			list.Limit(maxErrors) // the parser reports every line's error
			return nil, list
		}
		return nil, err
	}
	graphs, err := checkFile(f, opts.ReadFile)
	stage("check")
	return graphs, err
}

// lower runs the pass pipeline on a checked graph.
func lower(g *ir.Module, opts Options) error {
	return opts.passContext().Run(g)
}

// CompileFile reads and compiles a .flow file.
func CompileFile(path string, opts Options) (*ir.Module, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Compile(path, src, opts)
}
