package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/flow-lang/flow/codegen"
	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/internal/graphview"
)

// graphvizTimeout bounds one run of Graphviz's dot.
const graphvizTimeout = 2 * time.Minute

// cmdGraph draws a model's IR graph as DOT, SVG or a self-contained
// HTML page, after a chosen compilation stage or (by default) as the
// final graph code generation sees, with its fused groups.
func cmdGraph(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("graph", "graph model.flow -o out.dot|out.svg|out.html [--after=STAGE] [--renderer=auto|dot|go] [--no-opt] [--model NAME]", stderr)
	out := fs.String("o", "", "output `file`; its extension (.dot, .svg or .html) picks the format")
	after := fs.String("after", "", "draw the graph after compilation `stage` instead of the final graph (see docs/language.md)")
	renderer := fs.String("renderer", "auto", "SVG layout `engine`: auto (Graphviz dot when on PATH, else the built-in one), dot or go")
	noOpt := fs.Bool("no-opt", false, "turn the optimization passes off")
	model := fs.String("model", "", "the model to draw when the file declares several")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return usageError(err)
	}
	if len(files) != 1 || *out == "" {
		fs.Usage()
		return 2
	}
	format := strings.ToLower(filepath.Ext(*out))
	switch format {
	case ".dot", ".gv", ".svg", ".html", ".htm":
	default:
		fmt.Fprintf(stderr, "flowc: -o %s: the extension must be .dot, .svg or .html\n", *out)
		return 2
	}
	switch *renderer {
	case "auto", "dot", "go":
	default:
		fmt.Fprintf(stderr, "flowc: --renderer=%s: want auto, dot or go\n", *renderer)
		return 2
	}
	stages := compiler.StageNames()
	if *after != "" {
		if !slices.Contains(stages, *after) {
			fmt.Fprintf(stderr, "flowc: --after=%s: unknown stage; the stages are %s\n", *after, strings.Join(stages, ", "))
			return 2
		}
		if *noOpt && !slices.Contains(compiler.LoweringStageNames(), *after) {
			fmt.Fprintf(stderr, "flowc: --after=%s: pass %s does not run with --no-opt\n", *after, *after)
			return 2
		}
	}
	opts := compiler.Options{Model: *model, NoOptimize: *noOpt}
	if opts.Profile, err = loadProfile(""); err != nil {
		fmt.Fprintln(stderr, "flowc:", err)
		return 1
	}
	var view *graphview.Graph
	if *after != "" {
		// The compiler changes its graph in place, so the snapshot is
		// taken during compilation. An optimization pass runs on the
		// forward graph and again on the training graph; the last run
		// wins.
		opts.DumpAfter = func(stage string, g *ir.Module) {
			if stage == *after {
				view = graphview.FromIR(g, stage, nil)
			}
		}
	}
	g, err := compileWith(files[0], opts, stderr)
	if err != nil {
		return 1
	}
	if *after == "" {
		fusion, _ := codegen.Fusion(g, opts.Profile)
		view = graphview.FromIR(g, "", fusion)
	} else if view == nil {
		fmt.Fprintf(stderr, "flowc: --after=%s: stage %s did not run for model %s", *after, *after, g.Name)
		if *after == "train-mode" {
			fmt.Fprint(stderr, " (it runs only for models with dropout or batch_norm)")
		}
		fmt.Fprintln(stderr)
		return 1
	}
	data, err := renderGraph(view, format, *renderer, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "flowc:", err)
		return 1
	}
	if dir := filepath.Dir(*out); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			fmt.Fprintln(stderr, "flowc:", err)
			return 1
		}
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		fmt.Fprintln(stderr, "flowc:", err)
		return 1
	}
	return 0
}

// renderGraph renders view in format (an output file extension) with
// renderer (auto, dot or go). In auto mode a failing Graphviz falls
// back to the built-in layout with a warning.
func renderGraph(view *graphview.Graph, format, renderer string, stderr io.Writer) ([]byte, error) {
	if format == ".dot" || format == ".gv" {
		var b bytes.Buffer
		err := graphview.WriteDOT(&b, view)
		return b.Bytes(), err
	}
	var svg []byte
	if renderer != "go" {
		ctx, cancel := context.WithTimeout(context.Background(), graphvizTimeout)
		defer cancel()
		var err error
		svg, err = graphview.GraphvizSVG(ctx, view)
		switch {
		case err == nil:
		case renderer == "dot":
			return nil, err
		case errors.Is(err, graphview.ErrNoGraphviz):
			svg = nil
		default:
			fmt.Fprintf(stderr, "flowc: warning: %v; using the built-in layout\n", err)
			svg = nil
		}
	}
	if svg == nil {
		svg = graphview.SVG(view)
	}
	if format == ".svg" {
		return svg, nil
	}
	var b bytes.Buffer
	if err := graphview.WriteHTML(&b, view, svg); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
