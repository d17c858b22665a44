package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/lang"
)

// The documentation's examples are tested, not hand-kept. Every fenced
// code block in the docs carries an info string saying what it is:
//
//	flow         a whole .flow file: flowc check accepts it, or reports
//	             exactly the errors its lines mark with "// error: TEXT"
//	             (the message contains TEXT), one per marked line; when a
//	             flow-output block follows, that block says what it prints
//	flow fmt     a flow block that is also in the canonical format
//	flow-body    statements of a model: checked the same way, wrapped in
//	             "model Doc { ... }", except that names need not be used
//	             and the model need not compute anything
//	flow-output  what flowc check prints for the flow block before it,
//	             saved as m.flow: compared exactly
//	go golden=P  lines of generated code: they appear, in order and
//	             together, in the checked-in file P
//	text, sh, go, json, ebnf
//	             syntax sketches, commands and listings: not checked
//
// A block without an info string fails the test, so that a new example
// cannot go unchecked by accident.

// docFiles are the documents whose blocks are checked, from the
// repository root.
var docFiles = []string{"README.md", "docs/language.md", "docs/grammar.md", "docs/ir.md"}

// docBlock is one fenced code block.
type docBlock struct {
	file string
	line int // of the opening fence
	info string
	text string
}

// where names the block for messages: docs/language.md:123.
func (b docBlock) where() string { return b.file + ":" + strconv.Itoa(b.line) }

// readBlocks returns the fenced code blocks of a Markdown file.
func readBlocks(t *testing.T, root, file string) []docBlock {
	t.Helper()
	f, err := os.Open(filepath.Join(root, file))
	require.NoError(t, err)
	defer f.Close()
	var out []docBlock
	var cur *docBlock
	var text []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		fence := strings.HasPrefix(line, "```")
		switch {
		case fence && cur == nil:
			cur = &docBlock{file: file, line: n, info: strings.TrimSpace(line[3:])}
			text = nil
		case fence:
			cur.text = strings.Join(text, "\n") + "\n"
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			text = append(text, line)
		}
	}
	require.NoError(t, sc.Err())
	require.Nil(t, cur, "%s: a code block is not closed", file)
	return out
}

// errorMark is an expected diagnostic in a flow block.
var errorMark = regexp.MustCompile(`//\s*error:\s*(.*?)\s*$`)

// fragmentNotes are diagnostics a flow-body block, a fragment of a
// model, may cause without marking them.
var fragmentNotes = regexp.MustCompile(`is declared but never used$|is computed but never used|has no output and no train statement`)

// checkFlowBlock runs flowc check on src (a whole file, whose line k is
// the block's line k+offset) and compares its diagnostics with the
// block's error marks.
func checkFlowBlock(t *testing.T, dir string, b docBlock, src string, offset int) {
	t.Helper()
	path := filepath.Join(dir, "m.flow")
	require.NoError(t, os.WriteFile(path, []byte(src), 0o644))
	_, out, errs := flowc("check", "--json", path)
	var diags []lang.Diagnostic
	require.NoError(t, json.Unmarshal([]byte(out), &diags), "flowc check --json: %s%s", out, errs)
	want := map[int]string{}
	for i, line := range strings.Split(src, "\n") {
		if m := errorMark.FindStringSubmatch(line); m != nil {
			want[i+1] = m[1]
		}
	}
	got := map[int][]string{}
	for _, d := range diags {
		if offset > 0 && fragmentNotes.MatchString(d.Message) {
			continue
		}
		got[d.Line] = append(got[d.Line], d.Message)
	}
	for line, text := range want {
		msgs := got[line]
		ok := len(msgs) == 1 && strings.Contains(msgs[0], text)
		if !ok {
			t.Errorf("%s:%d: want one error containing %q, got %q", b.file, b.line+line-offset, text, msgs)
		}
	}
	for line, msgs := range got {
		if _, marked := want[line]; !marked {
			t.Errorf("%s:%d: unexpected error %q", b.file, b.line+line-offset, msgs)
		}
	}
}

// TestDocBlocks checks every code block of the docs (see the comment
// above).
func TestDocBlocks(t *testing.T) {
	root := "../.."
	for _, file := range docFiles {
		blocks := readBlocks(t, root, file)
		for i, b := range blocks {
			kind, arg, _ := strings.Cut(b.info, " ")
			t.Run(b.where(), func(t *testing.T) {
				dir := t.TempDir()
				// Imports name the standard layers as the examples do.
				copyDir(t, filepath.Join(root, "examples", "std"), filepath.Join(dir, "std"))
				switch kind {
				case "flow":
					if arg == "fmt" {
						path := filepath.Join(dir, "fmt.flow")
						require.NoError(t, os.WriteFile(path, []byte(b.text), 0o644))
						code, out, errs := flowc("fmt", "-d", path)
						require.Equal(t, 0, code, errs)
						require.Empty(t, out, "%s: the block is not in the canonical format", b.where())
					}
					if i+1 < len(blocks) && blocks[i+1].info == "flow-output" {
						return // checked by its output
					}
					checkFlowBlock(t, dir, b, b.text, 0)
				case "flow-body":
					checkFlowBlock(t, dir, b, "model Doc {\n"+b.text+"}\n", 1)
				case "flow-output":
					require.True(t, i > 0 && blocks[i-1].info == "flow", "%s: a flow-output block must follow a flow block", b.where())
					path := filepath.Join(dir, "m.flow")
					require.NoError(t, os.WriteFile(path, []byte(blocks[i-1].text), 0o644))
					wd, err := os.Getwd()
					require.NoError(t, err)
					require.NoError(t, os.Chdir(dir))
					defer os.Chdir(wd)
					_, _, errs := flowc("check", "m.flow")
					require.Equal(t, b.text, errs, "%s: flowc check m.flow prints", b.where())
				case "go":
					golden, ok := strings.CutPrefix(arg, "golden=")
					if !ok {
						return // a listing
					}
					data, err := os.ReadFile(filepath.Join(root, golden))
					require.NoError(t, err)
					require.Contains(t, string(data), b.text, "%s: these lines are not in %s", b.where(), golden)
				case "text", "sh", "json", "ebnf":
				default:
					t.Errorf("%s: code block with info string %q; say what it is (flow, flow-body, flow-output, go, text, sh, json, ebnf)", b.where(), b.info)
				}
			})
		}
	}
}

// copyDir copies the files of src into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dst, 0o755))
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644))
	}
}
