package compiler

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/lang"
)

// TestDiagGolden compiles each testdata/diag/*.flow, which must fail, and
// compares its rendered diagnostics (positions, messages, source lines,
// carets) with the .golden file beside it. Run with -update to rewrite
// them after a deliberate change of wording.
func TestDiagGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/diag/*.flow")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			require.NoError(t, err)
			_, err = CompileAll(filepath.ToSlash(path), src, Options{})
			require.Error(t, err)
			var list lang.ErrorList
			require.True(t, errors.As(err, &list), "%v", err)
			var b bytes.Buffer
			require.NoError(t, lang.Render(&b, list, func(file string) []byte {
				data, err := os.ReadFile(file)
				if err != nil {
					return nil
				}
				return data
			}))
			got := b.String()
			golden := strings.TrimSuffix(path, ".flow") + ".golden"
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
				return
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./compiler -run TestDiagGolden -update")
			require.Equal(t, string(want), got)
		})
	}
}

// TestTooManyErrors checks the limit through Compile: ten errors, sorted,
// and a final positionless "too many errors".
func TestTooManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("model M {\n    input x: f32[N, 4]\n")
	for i := 12; i >= 1; i-- {
		b.WriteString("    y" + strings.Repeat("z", i) + " = x + u" + strings.Repeat("v", i) + "\n")
	}
	b.WriteString("    output yz\n}\n")
	_, err := Compile("m.flow", []byte(b.String()), Options{})
	var list lang.ErrorList
	require.True(t, errors.As(err, &list))
	require.Len(t, list, lang.MaxErrors+1)
	for i, e := range list[:lang.MaxErrors] {
		require.Equal(t, 3+i, e.Pos.Line, e.Error())
		require.True(t, strings.HasPrefix(e.Msg, "undefined: u"), e.Error())
	}
	require.True(t, list[lang.MaxErrors].TooMany())
	require.Equal(t, "too many errors", list[lang.MaxErrors].Error())
}

// TestErrorSpans checks the spans the checker gives its errors: a call
// underlined to its closing parenthesis, a binary expression from its
// operator to its end, a name alone.
func TestErrorSpans(t *testing.T) {
	src := "model M {\n    input x: f32[N, 4]\n    param v: f32[3]\n    a = x + v\n    b = sum(x, axes = 5)\n    c = x * nope\n    output a, b, c\n}\n"
	_, err := Compile("m.flow", []byte(src), Options{})
	var list lang.ErrorList
	require.True(t, errors.As(err, &list))
	got := lang.Diagnostics(list, func(string) []byte { return []byte(src) })
	require.Len(t, got, 3)
	type span struct{ line, col, endLine, endCol int }
	var spans []span
	for _, d := range got {
		spans = append(spans, span{d.Line, d.Col, d.EndLine, d.EndCol})
	}
	require.Equal(t, []span{{4, 11, 4, 14}, {5, 9, 5, 25}, {6, 13, 6, 17}}, spans)
}
