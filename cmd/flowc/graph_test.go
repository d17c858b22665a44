package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler"
)

// countNodes parses svg as XML and counts its <g class="node"> and
// <g class="edge"> elements.
func countNodes(t *testing.T, svg []byte) (nodes, edges int) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nodes, edges
		}
		require.NoError(t, err)
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "g" {
			for _, a := range se.Attr {
				if a.Name.Local == "class" && a.Value == "node" {
					nodes++
				}
				if a.Name.Local == "class" && a.Value == "edge" {
					edges++
				}
			}
		}
	}
}

// dotNodes counts the node statements of a DOT file written by flowc.
func dotNodes(dot string) int {
	return len(regexp.MustCompile(`(?m)^\s+n\d+ \[id=`).FindAllString(dot, -1))
}

func TestGraphRendersEveryExample(t *testing.T) {
	examples, err := filepath.Glob("../../examples/*.flow")
	require.NoError(t, err)
	require.NotEmpty(t, examples)
	renderers := []string{"go"}
	if _, err := exec.LookPath("dot"); err == nil {
		renderers = append(renderers, "dot")
	} else {
		t.Log("graphviz dot is not installed: testing the built-in renderer only")
	}
	dir := t.TempDir()
	for _, ex := range examples {
		name := strings.TrimSuffix(filepath.Base(ex), ".flow")
		t.Run(name, func(t *testing.T) {
			dotFile := filepath.Join(dir, name+".dot")
			code, _, errs := flowc("graph", ex, "-o", dotFile)
			require.Equal(t, 0, code, errs)
			dot, err := os.ReadFile(dotFile)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(string(dot), "digraph "))
			n := dotNodes(string(dot))
			require.Positive(t, n)
			for _, r := range renderers {
				svgFile := filepath.Join(dir, name+"_"+r+".svg")
				htmlFile := filepath.Join(dir, name+"_"+r+".html")
				code, _, errs := flowc("graph", ex, "-o", svgFile, "--renderer="+r)
				require.Equal(t, 0, code, errs)
				require.Empty(t, errs)
				svg, err := os.ReadFile(svgFile)
				require.NoError(t, err)
				nodes, edges := countNodes(t, svg)
				require.Equal(t, n, nodes, "renderer %s", r)
				require.Positive(t, edges)
				code, _, errs = flowc("graph", ex, "-o", htmlFile, "--renderer="+r)
				require.Equal(t, 0, code, errs)
				page, err := os.ReadFile(htmlFile)
				require.NoError(t, err)
				require.Contains(t, string(page), "<svg")
				require.Contains(t, string(page), `<script type="application/json" id="flow-graph">`)
				require.NotRegexp(t, `(?i)(src|href)\s*=\s*["']?\s*(https?:)?//`, string(page))
			}
		})
	}
}

func TestGraphAfterStage(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "final.dot")
	code, _, errs := flowc("graph", "../../examples/mnist_softmax.flow", "-o", final)
	require.Equal(t, 0, code, errs)
	checked := filepath.Join(dir, "check.dot")
	code, _, errs = flowc("graph", "../../examples/mnist_softmax.flow", "-o", checked, "--after=check")
	require.Equal(t, 0, code, errs)
	a, err := os.ReadFile(final)
	require.NoError(t, err)
	b, err := os.ReadFile(checked)
	require.NoError(t, err)
	// After check there is no training lowering yet: no gradient or
	// update nodes, and the caption names the stage.
	require.Contains(t, string(a), "role: grad")
	require.Contains(t, string(a), "role: update")
	require.NotContains(t, string(b), "role: grad")
	require.NotContains(t, string(b), "role: update")
	require.Contains(t, string(b), "after check")
	require.Less(t, dotNodes(string(b)), dotNodes(string(a)))
	// Every stage that runs for a training model can be drawn.
	for _, stage := range compiler.StageNames() {
		if stage == "train-mode" || stage == compiler.HoistLoopTransposes.Name {
			continue // for dropout and batch_norm, and for loops (below)
		}
		code, _, errs := flowc("graph", "../../examples/mnist_softmax.flow", "-o", filepath.Join(dir, stage+".svg"), "--renderer=go", "--after", stage)
		require.Equal(t, 0, code, "%s: %s", stage, errs)
	}
	code, _, errs = flowc("graph", "../../examples/dropout_bn.flow", "-o", filepath.Join(dir, "tm.dot"), "--after=train-mode")
	require.Equal(t, 0, code, errs)
	code, _, errs = flowc("graph", "../../examples/seq_rnn.flow", "-o", filepath.Join(dir, "loops.dot"), "--after="+compiler.HoistLoopTransposes.Name)
	require.Equal(t, 0, code, errs)
}

func TestGraphErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "g.dot")
	code, _, errs := flowc("graph", "../../examples/mlp.flow", "-o", out, "--after=nosuchpass")
	require.Equal(t, 2, code)
	require.Contains(t, errs, "--after=nosuchpass: unknown stage")
	for _, s := range compiler.StageNames() {
		require.Contains(t, errs, s)
	}
	code, _, errs = flowc("graph", "../../examples/mlp.flow", "-o", out, "--after=train-mode")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "did not run")
	code, _, errs = flowc("graph", "../../examples/mlp.flow", "-o", filepath.Join(dir, "g.png"))
	require.Equal(t, 2, code)
	require.Contains(t, errs, ".dot, .svg or .html")
	code, _, errs = flowc("graph", "../../examples/mlp.flow", "-o", out, "--renderer=neato")
	require.Equal(t, 2, code)
	require.Contains(t, errs, "want auto, dot or go")
	code, _, errs = flowc("graph", "../../examples/mlp.flow")
	require.Equal(t, 2, code)
	require.Contains(t, errs, "usage: flowc graph")
	code, _, errs = flowc("graph", "../../examples/mlp.flow", "-o", out, "--no-opt", "--after=cse")
	require.Equal(t, 2, code)
	require.Contains(t, errs, "does not run with --no-opt")
	bad := filepath.Join(dir, "bad.flow")
	require.NoError(t, os.WriteFile(bad, []byte("model M {\n    y = nosuch(1)\n    output y\n}\n"), 0o644))
	code, _, errs = flowc("graph", bad, "-o", out)
	require.Equal(t, 1, code)
	require.Contains(t, errs, bad+":2:")
	_, err := os.Stat(out)
	require.True(t, os.IsNotExist(err), "no output on errors")
}

func TestGraphRendererDotWithoutGraphviz(t *testing.T) {
	// With an empty PATH dot cannot be found: auto falls back to the
	// built-in layout silently, and --renderer=dot says what is missing.
	t.Setenv("PATH", t.TempDir())
	dir := t.TempDir()
	code, _, errs := flowc("graph", "../../examples/mnist_softmax.flow", "-o", filepath.Join(dir, "a.svg"))
	require.Equal(t, 0, code, errs)
	require.Empty(t, errs)
	svg, err := os.ReadFile(filepath.Join(dir, "a.svg"))
	require.NoError(t, err)
	nodes, _ := countNodes(t, svg)
	require.Positive(t, nodes)
	code, _, errs = flowc("graph", "../../examples/mnist_softmax.flow", "-o", filepath.Join(dir, "b.svg"), "--renderer=dot")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "graphviz dot not found")
}
