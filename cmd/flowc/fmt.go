package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/flow-lang/flow/lang"
)

// cmdFmt formats .flow files in the canonical style (lang.Format), like
// gofmt: the formatted source goes to stdout, or with -w back into the
// file, -d prints a unified diff and -l the names of the files whose
// formatting differs. Directories stand for every *.flow file below them;
// no arguments means standard input. A file that does not parse gets its
// diagnostics on stderr and exit code 1; the other files are still
// processed.
func cmdFmt(args []string, stdout, stderr io.Writer) int {
	return cmdFmtIn(args, os.Stdin, stdout, stderr)
}

// fmtOptions are the flags of flowc fmt.
type fmtOptions struct {
	write, diff, list bool
}

// cmdFmtIn is cmdFmt with standard input as a parameter, for the tests.
func cmdFmtIn(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags := newFlagSet("fmt", "fmt [-w] [-d] [-l] [files or directories...]", stderr)
	var o fmtOptions
	flags.BoolVar(&o.write, "w", false, "write the result to the file instead of stdout")
	flags.BoolVar(&o.diff, "d", false, "print a unified diff of the changes instead of the formatted source")
	flags.BoolVar(&o.list, "l", false, "list the files whose formatting differs")
	paths, err := parseInterspersed(flags, args)
	if err != nil {
		return usageError(err)
	}
	if len(paths) == 0 {
		if o.write {
			fmt.Fprintln(stderr, "flowc fmt: cannot use -w with standard input")
			return 2
		}
		src, err := io.ReadAll(stdin)
		if err != nil {
			fmt.Fprintln(stderr, "flowc fmt:", err)
			return 1
		}
		if err := fmtSource("<standard input>", src, o, nil, stdout, stderr); err != nil {
			return 1
		}
		return 0
	}
	code := 0
	for _, path := range paths {
		info, err := os.Stat(path)
		if err != nil {
			fmt.Fprintln(stderr, "flowc fmt:", err)
			code = 1
			continue
		}
		if !info.IsDir() {
			if fmtFile(path, o, stdout, stderr) != nil {
				code = 1
			}
			continue
		}
		err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				fmt.Fprintln(stderr, "flowc fmt:", err)
				code = 1
				return nil
			}
			if !d.IsDir() && strings.HasSuffix(p, ".flow") && !strings.HasPrefix(d.Name(), ".") {
				if fmtFile(p, o, stdout, stderr) != nil {
					code = 1
				}
			}
			return nil
		})
		if err != nil {
			fmt.Fprintln(stderr, "flowc fmt:", err)
			code = 1
		}
	}
	return code
}

// fmtFile formats one file as the options say.
func fmtFile(path string, o fmtOptions, stdout, stderr io.Writer) error {
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(stderr, "flowc fmt:", err)
		return err
	}
	write := func(out []byte) error {
		if err := replaceFile(path, out); err != nil {
			fmt.Fprintln(stderr, "flowc fmt:", err)
			return err
		}
		return nil
	}
	return fmtSource(path, src, o, write, stdout, stderr)
}

// fmtSource formats src, named name, and reports or writes the result;
// write rewrites the file (nil for standard input).
func fmtSource(name string, src []byte, o fmtOptions, write func([]byte) error, stdout, stderr io.Writer) error {
	out, err := lang.Format(name, src)
	if err != nil {
		// The source lines come from src, which standard input cannot
		// give twice.
		files := readSource()
		printErrorSource(stderr, err, func(file string) []byte {
			if file == name {
				return src
			}
			return files(file)
		})
		return err
	}
	changed := !bytes.Equal(src, out)
	if o.list && changed {
		fmt.Fprintln(stdout, name)
	}
	if o.write && changed && write != nil {
		if err := write(out); err != nil {
			return err
		}
	}
	if o.diff && changed {
		io.WriteString(stdout, unifiedDiff(name+".orig", name, src, out))
	}
	if !o.list && !o.write && !o.diff {
		stdout.Write(out)
	}
	return nil
}

// replaceFile replaces the existing file path with data, keeping its
// mode, atomically (writeFileAtomic). A symbolic link is written through
// (its target is replaced, the link stays), and a file the user may not
// write, or that nobody may write (mode without any w bit), is an error
// rather than silently replaced, as gofmt -w does.
func replaceFile(path string, data []byte) error {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	info, err := os.Stat(target)
	if err != nil {
		return err
	}
	if info.Mode().Perm()&0o222 == 0 {
		return fmt.Errorf("%s: the file is read-only", path)
	}
	f, err := os.OpenFile(target, os.O_WRONLY, 0) // may the user write it?
	if err != nil {
		return err
	}
	f.Close()
	if err := writeFileAtomic(target, data, info.Mode().Perm()); err != nil {
		return fmt.Errorf("cannot rewrite %s: %w", path, err)
	}
	return nil
}

// unifiedDiff returns a unified diff (3 lines of context) from a to b, or
// "" when they are equal. It uses a longest-common-subsequence line
// diff, which is fine for source files.
func unifiedDiff(nameA, nameB string, a, b []byte) string {
	if bytes.Equal(a, b) {
		return ""
	}
	x, y := splitLines(a), splitLines(b)
	ops := diffLines(x, y)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", nameA, nameB)
	const context = 3
	// Group the edit script into hunks: runs of changes with up to
	// 2*context equal lines between them.
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(i-context, 0)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*context {
				end = min(end+context, run)
				break
			}
			end = run
		}
		var aStart, aLen, bStart, bLen int
		aStart, bStart = ops[start].a, ops[start].b
		var body strings.Builder
		for _, op := range ops[start:end] {
			switch op.kind {
			case ' ':
				aLen++
				bLen++
				body.WriteString(" " + x[op.a])
			case '-':
				aLen++
				body.WriteString("-" + x[op.a])
			case '+':
				bLen++
				body.WriteString("+" + y[op.b])
			}
			if !strings.HasSuffix(body.String(), "\n") {
				body.WriteString("\n\\ No newline at end of file\n")
			}
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n%s", hunkRange(aStart, aLen), hunkRange(bStart, bLen), body.String())
		i = end
	}
	return out.String()
}

// hunkRange formats the line range of a hunk; start is 0-based.
func hunkRange(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start) // the line before an empty range
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

// splitLines splits s after each newline; the last line may lack one.
func splitLines(s []byte) []string {
	var lines []string
	for len(s) > 0 {
		i := bytes.IndexByte(s, '\n')
		if i < 0 {
			lines = append(lines, string(s))
			break
		}
		lines = append(lines, string(s[:i+1]))
		s = s[i+1:]
	}
	return lines
}

// maxDiffCells bounds the LCS table of diffLines (4 bytes a cell).
const maxDiffCells = 1 << 24

// diffOp is one step of an edit script: keep (' '), delete ('-') or
// insert ('+'); a and b index the lines of either side the step is at.
type diffOp struct {
	kind byte
	a, b int
}

// diffLines returns an edit script from x to y that keeps a longest
// common subsequence of lines. Equal prefixes and suffixes are skipped
// first, so the quadratic table covers only the changed middle.
func diffLines(x, y []string) []diffOp {
	pre := 0
	for pre < len(x) && pre < len(y) && x[pre] == y[pre] {
		pre++
	}
	suf := 0
	for suf < len(x)-pre && suf < len(y)-pre && x[len(x)-1-suf] == y[len(y)-1-suf] {
		suf++
	}
	mx, my := x[pre:len(x)-suf], y[pre:len(y)-suf]
	// lcs[i][j] is the LCS length of mx[i:] and my[j:]. A middle too large
	// for the table counts as no common line: it is replaced as a whole.
	small := (len(mx)+1)*(len(my)+1) <= maxDiffCells
	var lcs [][]int32
	if small {
		lcs = make([][]int32, len(mx)+1)
		for i := range lcs {
			lcs[i] = make([]int32, len(my)+1)
		}
	}
	for i := len(mx) - 1; i >= 0 && small; i-- {
		for j := len(my) - 1; j >= 0; j-- {
			if mx[i] == my[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []diffOp
	for i := 0; i < pre; i++ {
		ops = append(ops, diffOp{' ', i, i})
	}
	i, j := 0, 0
	for i < len(mx) || j < len(my) {
		switch {
		case !small && i < len(mx):
			ops = append(ops, diffOp{'-', pre + i, pre + j})
			i++
		case !small:
			ops = append(ops, diffOp{'+', pre + i, pre + j})
			j++
		case i < len(mx) && j < len(my) && mx[i] == my[j]:
			ops = append(ops, diffOp{' ', pre + i, pre + j})
			i++
			j++
		case i < len(mx) && (j == len(my) || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, diffOp{'-', pre + i, pre + j})
			i++
		default:
			ops = append(ops, diffOp{'+', pre + i, pre + j})
			j++
		}
	}
	for k := 0; k < suf; k++ {
		ops = append(ops, diffOp{' ', len(x) - suf + k, len(y) - suf + k})
	}
	return ops
}
