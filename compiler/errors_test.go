package compiler_test

import (
	"errors"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/internal/chunkedfile"
	"github.com/flow-lang/flow/lang"
)

// errorFiles are the chunked error corpora: testdata/errors.flow and one
// testdata/errors_<area>.flow per language area.
func errorFiles(t *testing.T) []string {
	files, err := filepath.Glob("testdata/errors*.flow")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// allChunks reads every chunk of every corpus file.
func allChunks(t *testing.T) []chunkedfile.Chunk {
	var out []chunkedfile.Chunk
	for _, f := range errorFiles(t) {
		out = append(out, chunkedfile.Read(t, f)...)
	}
	return out
}

// compileErrors compiles src as errors.flow and returns its diagnostics,
// failing the test if the error is not a list of positioned lang.Errors.
func compileErrors(t *testing.T, name string, src string) lang.ErrorList {
	t.Helper()
	g, err := compiler.Compile("errors.flow", []byte(src), compiler.Options{})
	if err == nil {
		require.NotNil(t, g, "%s: no error and no graph", name)
		return nil
	}
	require.Nil(t, g, "%s: both a graph and an error", name)
	var list lang.ErrorList
	require.True(t, errors.As(err, &list), "%s: error %q is a %T, want a lang.ErrorList", name, err, err)
	require.NotEmpty(t, list, "%s: empty error list", name)
	if last := list[len(list)-1]; last.TooMany() {
		// The list was cut at lang.MaxErrors (see TestTooManyErrors).
		require.Len(t, list, lang.MaxErrors+1, name)
		list = list[:len(list)-1]
	}
	for _, e := range list {
		require.Equal(t, "errors.flow", e.Pos.File, "%s: %v", name, e)
		require.True(t, e.Pos.IsValid() && e.Pos.Col >= 1, "%s: error without a position: %v", name, e)
	}
	return list
}

// TestErrors checks the checker's error corpus: every chunk of
// testdata/errors.flow must produce exactly the errors it is annotated
// with, at the annotated lines (and columns, where given).
func TestErrors(t *testing.T) {
	chunks := allChunks(t)
	require.GreaterOrEqual(t, len(chunks), 40)
	for _, c := range chunks {
		for _, e := range compileErrors(t, c.Name(), c.Source) {
			c.GotErrorAt(e.Pos.Line, e.Pos.Col, e.Msg)
		}
		c.Done()
	}
}

// badText finds what a message for users must never contain: the
// checker's own failures, Go type names and broken format verbs.
var badText = regexp.MustCompile(`internal|\*?\blang\.|\bir\.|\*ir\b|%!|<nil>|\bmap\[|\[\]string`)

// TestErrorsWellFormed checks every chunk's diagnostics as a list: sorted
// by position, no duplicates, at most ten, each in the user's terms.
func TestErrorsWellFormed(t *testing.T) {
	for _, c := range allChunks(t) {
		list := compileErrors(t, c.Name(), c.Source)
		require.LessOrEqual(t, len(list), 10, c.Name())
		for i, e := range list {
			require.NotEmpty(t, e.Msg, c.Name())
			require.NotRegexp(t, badText, e.Msg, "%s: %v", c.Name(), e)
			if i == 0 {
				continue
			}
			p, q := list[i-1].Pos, e.Pos
			require.True(t, p.Line < q.Line || p.Line == q.Line && p.Col <= q.Col,
				"%s: errors out of order: %v before %v", c.Name(), list[i-1], e)
			require.False(t, p == q && list[i-1].Msg == e.Msg, "%s: duplicate error %v", c.Name(), e)
		}
	}
}
