package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/lang"
)

// badModel has four independent errors: a shape mismatch, an unknown op
// with an undefined argument, and an unknown optimizer.
const badModel = `model M {
    input x: f32[N, 784]
    param W: f32[748, 10]
    h = x @ W
    y = sofmax(logitz)
    output y
    train sum(h) with adamm(lr = 0.1)
}
`

func writeBad(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "bad.flow")
	require.NoError(t, os.WriteFile(path, []byte(badModel), 0o644))
	return path
}

// TestCheckRendersCarets checks the text diagnostics of flowc check: the
// position, the message, the source line and the caret line.
func TestCheckRendersCarets(t *testing.T) {
	path := writeBad(t)
	code, out, errs := flowc("check", path)
	require.Equal(t, 1, code)
	require.Empty(t, out)
	want := path + ":4:11: x @ W: inner dimensions differ: x is f32[N,784] (line 2), W is f32[748,10] (line 3); 784 columns do not match 748 rows\n" +
		"    h = x @ W\n" +
		"          ^~~\n" +
		path + ":5:9: unknown function sofmax; did you mean softmax?\n" +
		"    y = sofmax(logitz)\n" +
		"        ^~~~~~\n" +
		path + ":5:16: undefined: logitz\n" +
		"    y = sofmax(logitz)\n" +
		"               ^~~~~~\n" +
		path + ":7:23: unknown optimizer adamm (want one of adam, momentum, rmsprop, sgd); did you mean adam?\n" +
		"    train sum(h) with adamm(lr = 0.1)\n" +
		"                      ^~~~~\n"
	require.Equal(t, want, errs)
}

// TestCheckJSON checks --json: one array on stdout, nothing on stderr,
// exit code 1 with errors, [] and 0 without.
func TestCheckJSON(t *testing.T) {
	path := writeBad(t)
	code, out, errs := flowc("check", "--json", path)
	require.Equal(t, 1, code)
	require.Empty(t, errs)
	var got []lang.Diagnostic
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Equal(t, []lang.Diagnostic{
		{File: path, Line: 4, Col: 11, EndLine: 4, EndCol: 14, Severity: "error", Message: "x @ W: inner dimensions differ: x is f32[N,784] (line 2), W is f32[748,10] (line 3); 784 columns do not match 748 rows"},
		{File: path, Line: 5, Col: 9, EndLine: 5, EndCol: 15, Severity: "error", Message: "unknown function sofmax; did you mean softmax?"},
		{File: path, Line: 5, Col: 16, EndLine: 5, EndCol: 22, Severity: "error", Message: "undefined: logitz"},
		{File: path, Line: 7, Col: 23, EndLine: 7, EndCol: 28, Severity: "error", Message: "unknown optimizer adamm (want one of adam, momentum, rmsprop, sgd); did you mean adam?"},
	}, got)
	// The raw objects carry exactly the documented keys.
	var raw []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &raw))
	for _, d := range raw {
		keys := make([]string, 0, len(d))
		for k := range d {
			keys = append(keys, k)
		}
		require.ElementsMatch(t, []string{"file", "line", "col", "end_line", "end_col", "severity", "message"}, keys)
	}

	code, out, errs = flowc("check", "--json", "../../examples/mnist_softmax.flow")
	require.Equal(t, 0, code, errs)
	require.Equal(t, "[]\n", out)

	// Syntax errors too, and several files in one array.
	syntax := filepath.Join(t.TempDir(), "syntax.flow")
	require.NoError(t, os.WriteFile(syntax, []byte("model M {\n    input x: f32[N 4]\n    output x\n}\n"), 0o644))
	code, out, _ = flowc("check", "--json", path, syntax)
	require.Equal(t, 1, code)
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Len(t, got, 5)
	require.Equal(t, lang.Diagnostic{File: syntax, Line: 2, Col: 20, EndLine: 2, EndCol: 21, Severity: "error", Message: `expected "," or "]" in the shape, found "4"`}, got[4])
}

// TestGenBuildJSON checks that gen and build print their compile errors
// as JSON on stdout with --json, and text with carets without it.
func TestGenBuildJSON(t *testing.T) {
	path := writeBad(t)
	for _, verb := range []string{"gen", "build"} {
		code, out, errs := flowc(verb, path, "-o", filepath.Join(t.TempDir(), "out"), "--json")
		require.Equal(t, 1, code, verb)
		require.Empty(t, errs, verb)
		var got []lang.Diagnostic
		require.NoError(t, json.Unmarshal([]byte(out), &got), verb)
		require.Len(t, got, 4, verb)

		code, out, errs = flowc(verb, path, "-o", filepath.Join(t.TempDir(), "out"))
		require.Equal(t, 1, code, verb)
		require.Empty(t, out, verb)
		require.Contains(t, errs, "          ^~~\n", verb)
	}
}

// TestCheckTooManyErrors checks the limit: ten diagnostics, then "too
// many errors".
func TestCheckTooManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("model M {\n    input x: f32[N, 4]\n")
	for i := range 12 {
		b.WriteString("    y" + string(rune('a'+i)) + " = x + undefined" + string(rune('a'+i)) + "\n")
	}
	b.WriteString("}\n")
	path := filepath.Join(t.TempDir(), "many.flow")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	code, _, errs := flowc("check", path)
	require.Equal(t, 1, code)
	require.Equal(t, lang.MaxErrors, strings.Count(errs, path+":"), errs)
	require.True(t, strings.HasSuffix(errs, "^~~~~~~~~~\ntoo many errors\n"), errs)
}
