package compiler_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/internal/chunkedfile"
	"github.com/flow-lang/flow/lang"
)

// fileLevelError matches the one error Compile reports without a
// position: a file with several models and no Options.Model.
var fileLevelError = regexp.MustCompile(`^fuzz\.flow: the file declares \d+ models; choose one$`)

// FuzzCompile feeds arbitrary source to Compile: it must not panic, must
// return a graph or an error, report every diagnostic at a real position
// in the source, and return only well-formed graphs.
//
//	go test -run '^$' -fuzz FuzzCompile -fuzztime 60s ./compiler
func FuzzCompile(f *testing.F) {
	examples, err := filepath.Glob("../examples/*.flow")
	if err != nil || len(examples) == 0 {
		f.Fatalf("no examples: %v", err)
	}
	for _, path := range examples {
		src, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	corpora, err := filepath.Glob("testdata/errors*.flow")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range append(corpora, "../lang/testdata/errors.flow") {
		for _, c := range chunkedfile.Read(f, file) {
			f.Add([]byte(c.Source))
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		// Imports find no file: diagnostics must stay in fuzz.flow.
		noFiles := func(string) ([]byte, error) { return nil, fs.ErrNotExist }
		g, err := compiler.Compile("fuzz.flow", src, compiler.Options{ReadFile: noFiles})
		switch {
		case err == nil && g == nil:
			t.Fatal("neither a graph nor an error")
		case err != nil && g != nil:
			t.Fatalf("both a graph and an error: %v", err)
		case err != nil:
			checkCompileError(t, src, err)
		default:
			checkGraph(t, g)
		}
	})
}

// checkCompileError checks that err is a non-empty list of diagnostics at
// valid positions of src (or the one file-level error).
func checkCompileError(t *testing.T, src []byte, err error) {
	t.Helper()
	var list lang.ErrorList
	var one *lang.Error
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = lang.ErrorList{one}
	case fileLevelError.MatchString(err.Error()):
		return
	default:
		t.Fatalf("error %q (%T) is not a lang.ErrorList", err, err)
	}
	if len(list) == 0 {
		t.Fatal("empty error list")
	}
	if last := list[len(list)-1]; last.TooMany() {
		if len(list) != lang.MaxErrors+1 {
			t.Fatalf("too many errors after %d errors", len(list)-1)
		}
		list = list[:len(list)-1]
	}
	checkRendered(t, src, list)
	lines := bytes.Split(src, []byte("\n"))
	for _, e := range list {
		p := e.Pos
		if p.File != "fuzz.flow" || p.Line < 1 || p.Line > len(lines) || p.Col < 1 || p.Col > len(lines[p.Line-1])+1 {
			t.Fatalf("error at a bad position %+v (%d lines): %s", p, len(lines), e.Msg)
		}
		if e.Msg == "" {
			t.Fatalf("empty message at %v", p)
		}
		// Messages quote the source, so these only count when the
		// source does not contain them.
		for _, bad := range []string{"internal", "%!"} {
			if strings.Contains(e.Msg, bad) && !bytes.Contains(src, []byte(bad)) {
				t.Fatalf("bad message: %v", e)
			}
		}
	}
}

// checkRendered renders list against src: every diagnostic shows its
// source line and a caret, and its span ends after it starts.
func checkRendered(t *testing.T, src []byte, list lang.ErrorList) {
	t.Helper()
	source := func(string) []byte { return src }
	var b bytes.Buffer
	if err := lang.Render(&b, list, source); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "^"); n < min(len(list), lang.MaxErrors) {
		t.Fatalf("%d carets for %d errors:\n%s", n, len(list), b.String())
	}
	for _, d := range lang.Diagnostics(list, source) {
		if d.EndLine < d.Line || d.EndLine == d.Line && d.EndCol <= d.Col {
			t.Fatalf("span ends before it starts: %+v", d)
		}
	}
}

// checkGraph checks that the nodes of g are typed and in topological
// order, and that every special node belongs to the graph.
func checkGraph(t *testing.T, g *ir.Module) {
	t.Helper()
	index := map[*ir.Node]int{}
	for i, n := range g.Body.Nodes {
		if n == nil || n.Op == nil {
			t.Fatalf("node %d has no op", i)
		}
		if _, dup := index[n]; dup {
			t.Fatalf("node %s appears twice", n.Label())
		}
		if !n.Type.IsTuple() && (n.Type.DType == ir.Invalid || n.Type.Shape == nil) { // control flow's value is a tuple
			t.Fatalf("node %s (%s) is untyped: %v", n.Label(), n.Op.Name, n.Type)
		}
		if len(n.Inputs) != len(n.Op.Inputs) && !(n.Op.Variadic && len(n.Inputs) > 0) {
			t.Fatalf("node %s (%s) has %d inputs, want %d", n.Label(), n.Op.Name, len(n.Inputs), len(n.Op.Inputs))
		}
		for _, in := range n.Inputs {
			j, ok := index[in]
			if !ok || j >= i {
				t.Fatalf("node %s (%s) uses %s before it is computed", n.Label(), n.Op.Name, in.Label())
			}
		}
		index[n] = i
	}
	var special []*ir.Node
	special = append(special, g.Inputs...)
	special = append(special, g.Params...)
	special = append(special, g.Outputs()...)
	special = append(special, g.Updates()...)
	if g.Loss() != nil {
		special = append(special, g.Loss())
	}
	for _, gr := range g.Grads {
		special = append(special, gr)
	}
	for _, n := range special {
		if _, ok := index[n]; !ok {
			t.Fatalf("node %s (%s) is not in the graph", n.Label(), n.Op.Name)
		}
	}
	if len(g.Outputs()) == 0 && g.Loss() == nil {
		t.Fatal("a graph with no outputs and no loss")
	}
	if (g.Loss() == nil) != (g.Optimizer == nil) {
		t.Fatal("a loss without an optimizer, or the other way round")
	}
	if g.Loss() != nil && len(g.Updates()) == 0 {
		t.Fatal("a train statement with no updates")
	}
}
