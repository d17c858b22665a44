package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const messy = "model M{input x:f32[N,2]\ny=x*2;output y}\n"

const tidy = "model M {\n    input x: f32[N, 2]\n    y = x * 2\n    output y\n}\n"

// fmtRun runs flowc fmt in-process with stdin.
func fmtRun(stdin string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := cmdFmtIn(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, path, text string, mode os.FileMode) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(text), mode))
	require.NoError(t, os.Chmod(path, mode))
}

// TestFmtExamplesFormatted is the contract: flowc fmt -l examples/
// prints nothing.
func TestFmtExamplesFormatted(t *testing.T) {
	code, out, errs := flowc("fmt", "-l", "../../examples/")
	require.Equal(t, 0, code, errs)
	require.Empty(t, out, "examples that are not formatted (run go run ./cmd/flowc fmt -w examples/)")
	require.Empty(t, errs)
}

func TestFmtStdout(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "m.flow")
	writeFile(t, f, messy, 0o644)
	code, out, errs := flowc("fmt", f)
	require.Equal(t, 0, code, errs)
	require.Equal(t, tidy, out)
	got, _ := os.ReadFile(f)
	require.Equal(t, messy, string(got), "without -w the file stays")

	code, out, _ = fmtRun(messy)
	require.Equal(t, 0, code)
	require.Equal(t, tidy, out, "no arguments: standard input to standard output")

	code, _, errs = fmtRun(messy, "-w")
	require.Equal(t, 2, code)
	require.Contains(t, errs, "standard input")
}

func TestFmtListAndWrite(t *testing.T) {
	dir := t.TempDir()
	bad1 := filepath.Join(dir, "a.flow")
	bad2 := filepath.Join(dir, "sub", "deeper", "b.flow")
	good := filepath.Join(dir, "sub", "good.flow")
	other := filepath.Join(dir, "sub", "notes.txt")
	writeFile(t, bad1, messy, 0o600)
	writeFile(t, bad2, messy, 0o640)
	writeFile(t, good, tidy, 0o644)
	writeFile(t, other, messy, 0o644)

	code, out, errs := flowc("fmt", "-l", dir)
	require.Equal(t, 0, code, errs)
	require.Equal(t, bad1+"\n"+bad2+"\n", out)

	code, out, errs = flowc("fmt", "-l", "-w", dir)
	require.Equal(t, 0, code, errs)
	require.Equal(t, bad1+"\n"+bad2+"\n", out)
	for _, f := range []string{bad1, bad2, good} {
		got, err := os.ReadFile(f)
		require.NoError(t, err)
		require.Equal(t, tidy, string(got), f)
	}
	for f, mode := range map[string]os.FileMode{bad1: 0o600, bad2: 0o640, good: 0o644} {
		info, err := os.Stat(f)
		require.NoError(t, err)
		require.Equal(t, mode, info.Mode().Perm(), "-w keeps the mode of %s", f)
	}
	got, _ := os.ReadFile(other)
	require.Equal(t, messy, string(got), "only .flow files are formatted")
	// No temporary file is left behind.
	for _, d := range []string{dir, filepath.Dir(good), filepath.Dir(bad2)} {
		entries, err := os.ReadDir(d)
		require.NoError(t, err)
		for _, e := range entries {
			require.False(t, strings.HasPrefix(e.Name(), "."), "left over: %s", e.Name())
		}
	}

	code, out, errs = flowc("fmt", "-l", dir)
	require.Equal(t, 0, code, errs)
	require.Empty(t, out, "everything is formatted now")
}

// TestFmtWriteSymlinkAndReadOnly checks that -w writes through a
// symbolic link (the link stays a link, its target gets formatted) and
// refuses a read-only file instead of replacing it.
func TestFmtWriteSymlinkAndReadOnly(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real", "m.flow")
	link := filepath.Join(dir, "link.flow")
	writeFile(t, target, messy, 0o644)
	if err := os.Symlink(filepath.Join("real", "m.flow"), link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	code, _, errs := flowc("fmt", "-w", link)
	require.Equal(t, 0, code, errs)
	info, err := os.Lstat(link)
	require.NoError(t, err)
	require.True(t, info.Mode()&os.ModeSymlink != 0, "-w replaced the link by a file")
	got, _ := os.ReadFile(target)
	require.Equal(t, tidy, string(got), "the link's target is formatted")

	ro := filepath.Join(dir, "ro.flow")
	writeFile(t, ro, messy, 0o444)
	code, _, errs = flowc("fmt", "-w", ro)
	require.Equal(t, 1, code)
	require.Contains(t, errs, ro+": the file is read-only")
	got, _ = os.ReadFile(ro)
	require.Equal(t, messy, string(got), "a read-only file stays as it is")
	info, err = os.Stat(ro)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o444), info.Mode().Perm())
}

func TestFmtDiff(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "m.flow")
	src := "model M {\n    input x: f32[N, 2]\n    y=x*2\n    output y\n}\n"
	writeFile(t, f, src, 0o644)
	code, out, errs := flowc("fmt", "-d", f)
	require.Equal(t, 0, code, errs)
	want := "--- " + f + ".orig\n+++ " + f + "\n" +
		"@@ -1,5 +1,5 @@\n model M {\n     input x: f32[N, 2]\n-    y=x*2\n+    y = x * 2\n     output y\n }\n"
	require.Equal(t, want, out)
	got, _ := os.ReadFile(f)
	require.Equal(t, src, string(got), "-d alone does not write")

	code, out, _ = flowc("fmt", "-d", "../../examples/mlp.flow")
	require.Equal(t, 0, code)
	require.Empty(t, out, "no diff for a formatted file")
}

// TestFmtParseErrors checks that a file that does not parse gets
// file:line:col diagnostics and exit code 1, and the others are still
// formatted.
func TestFmtParseErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "a_bad.flow")
	ok := filepath.Join(dir, "b_ok.flow")
	writeFile(t, bad, "model M {\n    y = f(x,\n}\n", 0o644)
	writeFile(t, ok, messy, 0o644)
	code, out, errs := flowc("fmt", "-w", "-l", dir)
	require.Equal(t, 1, code)
	require.Equal(t, ok+"\n", out)
	require.Contains(t, errs, bad+":3:1: ")
	got, _ := os.ReadFile(ok)
	require.Equal(t, tidy, string(got))
	got, _ = os.ReadFile(bad)
	require.Equal(t, "model M {\n    y = f(x,\n}\n", string(got), "a bad file is left alone")

	code, out, errs = fmtRun("model M {\n    y = f(x,\n}\n")
	require.Equal(t, 1, code)
	require.Empty(t, out)
	require.Equal(t, "<standard input>:3:1: expected an argument or \")\" in the call to f, found \"}\"\n}\n^\n", errs,
		"standard input's errors show the source line too")

	code, _, errs = flowc("fmt", filepath.Join(dir, "missing.flow"))
	require.Equal(t, 1, code)
	require.Contains(t, errs, "missing.flow")
}

// TestUnifiedDiffApplies checks unifiedDiff on random edits against an
// independent patch applier: applying the hunks to a gives b, and the
// hunk headers count the lines they hold.
func TestUnifiedDiffApplies(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 500; iter++ {
		var a []string
		for i := r.IntN(30); i > 0; i-- {
			a = append(a, strconv.Itoa(r.IntN(6))+"\n")
		}
		var b []string
		for _, l := range a {
			switch r.IntN(6) {
			case 0: // delete
			case 1:
				b = append(b, "new"+strconv.Itoa(r.IntN(3))+"\n", l)
			case 2:
				b = append(b, "changed\n")
			default:
				b = append(b, l)
			}
		}
		if r.IntN(4) == 0 {
			b = append(b, "tail\n")
		}
		as, bs := strings.Join(a, ""), strings.Join(b, "")
		d := unifiedDiff("a", "b", []byte(as), []byte(bs))
		if as == bs {
			require.Empty(t, d)
			continue
		}
		require.Equal(t, bs, applyPatch(t, as, d), "diff:\n%s", d)
	}
}

// applyPatch applies a unified diff to a, checking its context lines.
func applyPatch(t *testing.T, a, diff string) string {
	t.Helper()
	src := strings.SplitAfter(a, "\n")
	if src[len(src)-1] == "" {
		src = src[:len(src)-1]
	}
	lines := strings.SplitAfter(diff, "\n")
	require.True(t, strings.HasPrefix(lines[0], "--- ") && strings.HasPrefix(lines[1], "+++ "), diff)
	var out []string
	next := 0 // the next line of src to copy
	for i := 2; i < len(lines) && lines[i] != ""; {
		h := lines[i]
		require.True(t, strings.HasPrefix(h, "@@ -"), "hunk header %q", h)
		var aStart, aLen, bStart, bLen int
		parse := func(s string) (int, int) {
			start, n, found := strings.Cut(s, ",")
			x, err := strconv.Atoi(start)
			require.NoError(t, err)
			if !found {
				return x, 1
			}
			y, err := strconv.Atoi(n)
			require.NoError(t, err)
			return x, y
		}
		f := strings.Fields(h)
		aStart, aLen = parse(strings.TrimPrefix(f[1], "-"))
		bStart, bLen = parse(strings.TrimPrefix(f[2], "+"))
		first := aStart - 1
		if aLen == 0 {
			first = aStart
		}
		for next < first {
			out = append(out, src[next])
			next++
		}
		require.Equal(t, bStart, len(out)+min(bLen, 1), "new-side start of %q", h)
		i++
		na, nb := 0, 0
		for i < len(lines) && lines[i] != "" && !strings.HasPrefix(lines[i], "@@") {
			l := lines[i]
			switch l[0] {
			case ' ':
				require.Equal(t, src[next], l[1:])
				out = append(out, l[1:])
				next++
				na++
				nb++
			case '-':
				require.Equal(t, src[next], l[1:])
				next++
				na++
			case '+':
				out = append(out, l[1:])
				nb++
			default:
				t.Fatalf("bad diff line %q", l)
			}
			i++
		}
		require.Equal(t, aLen, na, "old-side count of %q", h)
		require.Equal(t, bLen, nb, "new-side count of %q", h)
	}
	out = append(out, src[next:]...)
	return strings.Join(out, "")
}
