package compiler_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/lang"
)

// paragraph is a paragraph of prose, its lines joined by spaces, and the
// line it starts on.
type paragraph struct {
	text    string
	line    int
	section string // the "## " heading it is under
}

// proseParagraphs returns the paragraphs of a Markdown document outside
// its fenced code blocks, so that a code span broken across lines is
// read whole.
func proseParagraphs(doc string) []paragraph {
	var out []paragraph
	var cur []string
	start, inBlock, section := 0, false, ""
	flush := func() {
		if len(cur) > 0 {
			out = append(out, paragraph{strings.Join(cur, " "), start, section})
		}
		cur = nil
	}
	for i, line := range strings.Split(doc, "\n") {
		switch {
		case strings.HasPrefix(line, "```"):
			flush()
			inBlock = !inBlock
		case inBlock:
		case strings.TrimSpace(line) == "":
			flush()
		case strings.HasPrefix(line, "## "):
			flush()
			section = line
		default:
			if len(cur) == 0 {
				start = i + 1
			}
			cur = append(cur, strings.TrimSpace(line))
		}
	}
	flush()
	return out
}

// containsParts reports whether s contains parts in order (a quote's
// "…" stands for any text).
func containsParts(s string, parts []string) bool {
	for _, p := range parts {
		i := strings.Index(s, strings.TrimSpace(p))
		if i < 0 {
			return false
		}
		s = s[i+len(strings.TrimSpace(p)):]
	}
	return true
}

// inlineCode matches a Markdown code span.
var inlineCode = regexp.MustCompile("`([^`\n]+)`")

// diagnosticWords mark a code span in the docs' prose as a quoted
// diagnostic rather than code.
var diagnosticWords = regexp.MustCompile(`\b(must|cannot|undefined|unknown|expected|is not|did you mean|does not|needs|too many|has no|redeclared|used before|division by|not allowed|is a .*, not|out of range)\b`)

// TestDocsQuoteRealDiagnostics checks that every diagnostic the docs
// quote in prose (a code span that reads like a message, outside code
// blocks, which TestDocBlocks in cmd/flowc checks) is the text, or part
// of the text, of a message the checker gives for some chunk of the
// error corpora: a message that changes or disappears fails here until
// the docs follow.
func TestDocsQuoteRealDiagnostics(t *testing.T) {
	var messages []string
	for _, c := range allChunks(t) {
		_, err := compiler.Compile("m.flow", []byte(c.Source), compiler.Options{})
		if list, ok := err.(lang.ErrorList); ok {
			for _, e := range list {
				messages = append(messages, e.Msg)
			}
		}
	}
	data, err := os.ReadFile("../docs/language.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range proseParagraphs(string(data)) {
		if p.section == "## Generated code and binaries" {
			continue // the binaries' messages, not the checker's
		}
		for _, m := range inlineCode.FindAllStringSubmatch(p.text, -1) {
			quote := m[1]
			if !diagnosticWords.MatchString(quote) {
				continue
			}
			if !slices.ContainsFunc(messages, func(msg string) bool { return containsParts(msg, strings.Split(quote, "…")) }) {
				t.Errorf("docs/language.md:%d: %q is no diagnostic of the error corpora (compiler/testdata/errors*.flow)", p.line, quote)
			}
		}
	}
}
