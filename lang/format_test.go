package lang_test

import (
	"bytes"
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/flow-lang/flow/internal/chunkedfile"
	"github.com/flow-lang/flow/lang"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/format")

// TestFormatGolden formats each testdata/format/*.input and compares the
// result with the .golden file beside it (go test ./lang -update rewrites
// them). The golden file must be a fixed point of Format.
func TestFormatGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/format/*.input")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := lang.Format(in, src)
			if err != nil {
				t.Fatalf("Format: %v", err)
			}
			golden := strings.TrimSuffix(in, ".input") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./lang -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Format(%s) differs from %s:\n%s", in, golden, got)
			}
			checkFormatted(t, in, src, got)
		})
	}
}

// TestFormatExamples checks that every example is already formatted.
func TestFormatExamples(t *testing.T) {
	var files []string
	err := filepath.WalkDir("../examples", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".flow") {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) < 10 {
		t.Fatalf("found %d examples: %v", len(files), err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := lang.Format(f, src)
		if err != nil {
			t.Errorf("Format(%s): %v", f, err)
			continue
		}
		if !bytes.Equal(got, src) {
			t.Errorf("%s is not formatted (run go run ./cmd/flowc fmt -w %s); formatted:\n%s", f, f, got)
		}
	}
}

// TestFormatHandWritten checks exact outputs written by hand for the
// rules of the canonical style, one rule a case.
func TestFormatHandWritten(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"spacing", "model M{y=-f(x,k=[1,2])*(a-b)@W/2}",
			"model M {\n    y = -f(x, k = [1, 2]) * (a - b) @ W / 2\n}\n"},
		{"one statement a line", "model M { a = 1; b = 2 }",
			"model M {\n    a = 1\n    b = 2\n}\n"},
		{"aligned inputs", "model M {\ninput x: f32[N]\ninput label: i32[N]\n}",
			"model M {\n    input x:     f32[N]\n    input label: i32[N]\n}\n"},
		{"aligned params", "model M {\nparam W: f32[2, 3] = zeros\nparam bias: f32[3] = ones\nparam s: f32\n}",
			"model M {\n    param W:    f32[2, 3] = zeros\n    param bias: f32[3]    = ones\n    param s:    f32\n}\n"},
		{"aligned assignments", "model M {\na = 1\nlonger = 2\n\nc = 3\n}",
			"model M {\n    a      = 1\n    longer = 2\n\n    c = 3\n}\n"},
		{"a comment line ends the alignment", "model M {\na = 1\n// c\nlonger = 2\n}",
			"model M {\n    a = 1\n    // c\n    longer = 2\n}\n"},
		{"trailing comments", "model M {\na = 1 // one\nbb = f(a) // two\nc = 3\n}",
			"model M {\n    a  = 1     // one\n    bb = f(a)  // two\n    c  = 3\n}\n"},
		{"blank lines collapse", "\n\nmodel M {\n\n\na = 1\n\n\n\nb = 2\n\n}\n\n\n",
			"model M {\n    a = 1\n\n    b = 2\n}\n"},
		{"continuation", "model M {\ny = f(a,\nb)\n}",
			"model M {\n    y = f(a,\n        b)\n}\n"},
		{"closer on its own line", "model M {\ny = f(\na,\nb\n)\n}",
			"model M {\n    y = f(\n        a,\n        b,\n    )\n}\n"},
		{"comment lines before a closer stay inside the brackets", "model M {\ny = f(\na, // c5\n// c6\n/* c7 */\n)\nz = [1,\n// last\n]\n}",
			"model M {\n    y = f(\n        a,  // c5\n        // c6\n        /* c7 */\n    )\n    z = [1,\n        // last\n    ]\n}\n"},
		{"trailing comma on one line", "model M {\ny = [1, 2,]\n}",
			"model M {\n    y = [1, 2]\n}\n"},
		{"numbers and strings as written", "model M {\ny = f(1e-3, 0.50, \"a\\tb\")\n}",
			"model M {\n    y = f(1e-3, 0.50, \"a\\tb\")\n}\n"},
		{"operators", "model M{y=!a||b&&c<=d+1}",
			"model M {\n    y = !a || b && c <= d + 1\n}\n"},
		{"if else on one line", "model M{y=if p{x}else if q{-x}else{0}}",
			"model M {\n    y = if p {\n        x\n    } else if q {\n        -x\n    } else {\n        0\n    }\n}\n"},
		{"else joins the closing brace", "model M {\na, b = if p {\n  t = 1;t, t\n  }   else {  // other\n u,v }\n}",
			"model M {\n    a, b = if p {\n        t = 1\n        t, t\n    } else {  // other\n        u, v\n    }\n}\n"},
		{"while", "model M {\nr,k=while(r=a,k=0)k<5 limit 10{r=r*2\nk=k+1}\nq = while (k = 0) k < 3 {}\n}",
			"model M {\n    r, k = while (r = a, k = 0) k < 5 limit 10 {\n        r = r * 2\n        k = k + 1\n    }\n    q = while (k = 0) k < 3 {}\n}\n"},
		{"for", "model M {\nhs,h=for x in xs,y in f(ys) along 1 reverse (h=h0){h=x\nyield h}\n}",
			"model M {\n    hs, h = for x in xs, y in f(ys) along 1 reverse (h = h0) {\n        h = x\n        yield h\n    }\n}\n"},
		{"for: a spaced group is the carried values", "model M {\nh=for x in xs   (h=h0){h=x}\n}",
			"model M {\n    h = for x in xs (h = h0) {\n        h = x\n    }\n}\n"},
		{"nested blocks", "model M {\ny = f(if p { if q { 1 } else { 2 } } else { 3 }, 4)\n}",
			"model M {\n    y = f(if p {\n        if q {\n            1\n        } else {\n            2\n        }\n    } else {\n        3\n    }, 4)\n}\n"},
		{"file-level", "import \"a.flow\"\nconst k = 2\nfn f(x: f32, n: int = 2) -> f32 { return x }\nmodel M { output k }",
			"import \"a.flow\"\nconst k = 2\nfn f(x: f32, n: int = 2) -> f32 {\n    return x\n}\nmodel M {\n    output k\n}\n"},
	}
	for _, c := range cases {
		got, err := lang.Format("m.flow", []byte(c.in))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("%s: Format(%q) =\n%s\nwant\n%s", c.name, c.in, got, c.want)
		}
		checkFormatted(t, c.name, []byte(c.in), got)
	}
}

func TestFormatErrors(t *testing.T) {
	_, err := lang.Format("bad.flow", []byte("model M {\n    y = f(x,\n}\n"))
	var list lang.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("Format of a bad file: err = %v, want an ErrorList", err)
	}
	if p := list[0].Pos; p.File != "bad.flow" || p.Line != 3 {
		t.Errorf("error at %v, want bad.flow:3", p)
	}
}

// checkFormatted checks the formatter's contract on one input: the output
// parses to the same AST with the same comments, and is a fixed point.
func checkFormatted(t *testing.T, name string, src, out []byte) {
	t.Helper()
	a, err := lang.ParseFile("in.flow", src)
	if err != nil {
		t.Fatalf("%s: the input does not parse: %v", name, err)
	}
	b, err := lang.ParseFile("out.flow", out)
	if err != nil {
		t.Fatalf("%s: the output does not parse: %v\n%s", name, err, out)
	}
	if d := astDiff(a, b); d != "" {
		t.Fatalf("%s: the output parses to another AST: %s\n%s", name, d, out)
	}
	again, err := lang.Format("out.flow", out)
	if err != nil {
		t.Fatalf("%s: formatting the output: %v", name, err)
	}
	if !bytes.Equal(again, out) {
		t.Fatalf("%s: Format is not idempotent:\nonce:\n%s\ntwice:\n%s", name, out, again)
	}
	for _, line := range strings.Split(string(out), "\n") {
		// Block comments are verbatim: only they may keep trailing blanks.
		if strings.TrimRight(line, " \t") != line && !bytes.Contains(src, []byte("/*")) {
			t.Fatalf("%s: trailing white space in %q", name, line)
		}
	}
}

// astDiff compares two files with the position fields zeroed, and their
// comments by text (line comments without trailing white space); it
// returns "" when they are the same. It is written independently of
// lang.SameAST, which Format uses as its own safety check.
func astDiff(a, b *lang.File) string {
	ca, cb := commentTexts(a), commentTexts(b)
	if !reflect.DeepEqual(ca, cb) {
		return "comments differ: " + strings.Join(ca, "|") + " vs " + strings.Join(cb, "|")
	}
	x, y := stripPositions(a), stripPositions(b)
	if !reflect.DeepEqual(x, y) {
		return "declarations differ"
	}
	return ""
}

func commentTexts(f *lang.File) []string {
	var out []string
	for _, c := range f.Comments {
		text := c.Text
		if strings.HasPrefix(text, "//") {
			text = strings.TrimRight(text, " \t")
		}
		out = append(out, text)
	}
	return out
}

// stripPositions returns a deep copy of f's declarations with every Pos
// zeroed and the comments and name dropped.
func stripPositions(f *lang.File) *lang.File {
	c := *f
	c.Comments, c.Name = nil, ""
	v := reflect.ValueOf(&c).Elem()
	out := reflect.New(v.Type()).Elem()
	copyZeroPos(out, v)
	return out.Addr().Interface().(*lang.File)
}

var posType = reflect.TypeOf(lang.Pos{})

func copyZeroPos(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		n := reflect.New(src.Elem().Type())
		copyZeroPos(n.Elem(), src.Elem())
		dst.Set(n)
	case reflect.Interface:
		if src.IsNil() {
			return
		}
		n := reflect.New(src.Elem().Type()).Elem()
		copyZeroPos(n, src.Elem())
		dst.Set(n)
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		n := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := 0; i < src.Len(); i++ {
			copyZeroPos(n.Index(i), src.Index(i))
		}
		dst.Set(n)
	case reflect.Struct:
		if src.Type() == posType {
			return
		}
		for i := 0; i < src.NumField(); i++ {
			copyZeroPos(dst.Field(i), src.Field(i))
		}
	default:
		dst.Set(src)
	}
}

// FuzzFormat checks, for any input that parses, that Format succeeds,
// that its output parses to the same AST with the same comments, and
// that formatting is idempotent.
func FuzzFormat(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	for _, c := range chunkedfile.Read(f, "testdata/errors.flow") {
		f.Add([]byte(c.Source))
	}
	for _, pattern := range []string{"testdata/format/*.input", "../examples/*.flow", "../examples/std/*.flow"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			src, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	f.Add([]byte("model M { a = 1 /* c\n */ b = 2 }"))
	f.Add([]byte("model M {\n    y = f( // c\n    )\n    z = [1, /* a\nb */ 2]\n}"))
	f.Fuzz(func(t *testing.T, src []byte) {
		if _, err := lang.ParseFile("fuzz.flow", src); err != nil {
			if _, ferr := lang.Format("fuzz.flow", src); ferr == nil {
				t.Fatalf("Format accepted a file that does not parse: %v", err)
			}
			return
		}
		out, err := lang.Format("fuzz.flow", src)
		if err != nil {
			t.Fatalf("Format: %v", err)
		}
		checkFormatted(t, "fuzz", src, out)
	})
}

// TestFormatCommentsEverywhere inserts comments, and line breaks, at
// every byte offset of a few programs and checks the formatter's contract
// on every variant that parses: comments kept, same AST, idempotent.
func TestFormatCommentsEverywhere(t *testing.T) {
	programs := []string{
		"import \"a.flow\"\nconst k = [1, -2]\n" +
			"fn f(x: f32[N, I], n: int = 2) -> f32[N, I] {\n    param W: f32[I, I] = zeros\n    return x @ W\n}\n" +
			"model M {\n    input x: f32[N, 3]\n    param b: f32[3] = ones\n" +
			"    y = g(x, -b * (x + 1), k = [1, 2])\n    output y, x\n    train y with sgd(lr = 0.1)\n}\n",
		"model C {\n    a, b = if x > 0 && !p {\n        t = x * 2\n        t, -t\n    } else {\n        x, x\n    }\n" +
			"    r = while (r = a, k = 0) k < 5 limit 9 {\n        r = r + 1\n    }\n" +
			"    hs, h = for xt in xs along 1 (h = h0) {\n        h = xt @ W\n        yield h\n    }\n}\n",
	}
	inserts := []string{"/* c */", " /* c */ ", "// c\n", "/* a\nb */", "\n", "\n\n// d\n\n"}
	step := 1
	if testing.Short() {
		step = 7
	}
	variants, parsed := 0, 0
	for _, prog := range programs {
		for i := 0; i <= len(prog); i += step {
			for _, ins := range inserts {
				src := prog[:i] + ins + prog[i:]
				variants++
				if _, err := lang.ParseFile("v.flow", []byte(src)); err != nil {
					continue
				}
				parsed++
				out, err := lang.Format("v.flow", []byte(src))
				if err != nil {
					t.Fatalf("Format(%q): %v", src, err)
				}
				checkFormatted(t, strconvQuote(src), []byte(src), out)
			}
		}
	}
	if parsed < variants/3 {
		t.Errorf("only %d of %d variants parse", parsed, variants)
	}

	// Then three random insertions at a time, more kinds of them.
	inserts = append(inserts, ";", "\n\n", ",", "// e\n// f\n")
	r := rand.New(rand.NewPCG(3, 4))
	iters := 3000
	if testing.Short() {
		iters = 300
	}
	for iter := 0; iter < iters; iter++ {
		src := programs[iter%len(programs)]
		for k := 0; k < 3; k++ {
			i := r.IntN(len(src) + 1)
			src = src[:i] + inserts[r.IntN(len(inserts))] + src[i:]
		}
		if _, err := lang.ParseFile("v.flow", []byte(src)); err != nil {
			continue
		}
		out, err := lang.Format("v.flow", []byte(src))
		if err != nil {
			t.Fatalf("Format(%q): %v", src, err)
		}
		checkFormatted(t, strconvQuote(src), []byte(src), out)
	}
}

// strconvQuote names a variant in a failure message, on one line.
func strconvQuote(s string) string { return "input " + strings.ReplaceAll(s, "\n", `\n`) }
