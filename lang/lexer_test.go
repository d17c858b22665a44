package lang

import (
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/stretchr/testify/require"
)

// lexString renders the token stream of src as space-separated values,
// with newlines as ⏎, and kinds for numbers, strings and keywords.
func lexString(t *testing.T, src string) string {
	t.Helper()
	res := scan("l.flow", []byte(src))
	require.Empty(t, res.errs, "source %q", src)
	var out []string
	for _, tok := range res.tokens {
		switch tok.Type {
		case lexer.EOF:
			out = append(out, "EOF")
		case tokNewline:
			out = append(out, "⏎")
		case tokInt:
			out = append(out, "int:"+tok.Value)
		case tokFloat:
			out = append(out, "float:"+tok.Value)
		case tokString:
			out = append(out, "str:"+tok.Value)
		case tokKeyword:
			out = append(out, "kw:"+tok.Value)
		default:
			out = append(out, tok.Value)
		}
	}
	return strings.Join(out, " ")
}

func TestLexTokens(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"", "EOF"},
		{"model M {}", "kw:model M { } EOF"},
		{"x_1 _y models with", "x_1 _y models kw:with EOF"},
		{"0 784 0.01 1e-3 1.5e+2 2E3", "int:0 int:784 float:0.01 float:1e-3 float:1.5e+2 float:2E3 EOF"},
		{"a+b-c*d/e@f", "a + b - c * d / e @ f EOF"},
		{`f("s", "a\"b")`, `f ( str:"s" , str:"a\"b" ) EOF`},
		{"h1/W", "h1 / W EOF"},
		{"a:b=c;d", "a : b = c ; d EOF"},
		// Newlines: repeated ones collapse; comments are not tokens.
		{"a\n\n\nb", "a ⏎ b EOF"},
		{"a // c\n// d\n\nb", "a ⏎ b EOF"},
		{"a /* c */ b", "a b EOF"},
		{"a /* c\n */ b", "a ⏎ b EOF"},
		{"a\r\nb\r\n", "a ⏎ b ⏎ EOF"},
		// A newline after an operator, ( [ or , or before ) ] does not end a statement.
		{"a +\nb", "a + b EOF"},
		{"a @\n\n  b", "a @ b EOF"},
		{"f(\na,\nb\n)", "f ( a , b ) EOF"},
		{"[\n1\n]", "[ int:1 ] EOF"},
		{"a\n+ b", "a ⏎ + b EOF"},
		{"a =\nb", "a = ⏎ b EOF"},
		{"{\n}", "{ ⏎ } EOF"},
	} {
		require.Equal(t, tc.want, lexString(t, tc.src), "source %q", tc.src)
	}
}

func TestLexPositions(t *testing.T) {
	res := scan("l.flow", []byte("model M {\n  x = 1.5 // one\n}"))
	require.Empty(t, res.errs)
	var got []string
	for _, tok := range res.tokens {
		got = append(got, toPos(tok.Pos).String())
	}
	require.Equal(t, []string{
		"l.flow:1:1", "l.flow:1:7", "l.flow:1:9", "l.flow:1:10", // model M { ⏎
		"l.flow:2:3", "l.flow:2:5", "l.flow:2:7", "l.flow:2:17", // x = 1.5 ⏎
		"l.flow:3:1", "l.flow:3:2", // } EOF
	}, got)
	require.Len(t, res.comments, 1)
	require.Equal(t, &Comment{Pos: Pos{File: "l.flow", Offset: 20, Line: 2, Col: 11}, Text: "// one"}, res.comments[0])
}

func TestLexComments(t *testing.T) {
	res := scan("l.flow", []byte("// a\r\nx /* b\nc */ y // d"))
	require.Empty(t, res.errs)
	require.Len(t, res.comments, 3)
	require.Equal(t, "// a", res.comments[0].Text, "a carriage return is not part of a comment")
	require.Equal(t, "/* b\nc */", res.comments[1].Text)
	require.Equal(t, Pos{File: "l.flow", Offset: 8, Line: 2, Col: 3}, res.comments[1].Pos)
	require.Equal(t, "// d", res.comments[2].Text)
}

func TestLexErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"a $ b", "l.flow:1:3: invalid character '$'"},
		{"a # b", "l.flow:1:3: invalid character '#'"},
		{"a\x00", `l.flow:1:2: invalid character '\x00'`},
		{"\xc3(", "l.flow:1:1: invalid UTF-8 encoding"},
		{`"abc`, "l.flow:1:1: unterminated string"},
		{"\"abc\nd\"", "l.flow:1:1: unterminated string\nl.flow:2:2: unterminated string"},
		{`"a\qb"`, `l.flow:1:1: invalid escape sequence in string "a\qb"`},
		{"/* x", "l.flow:1:1: unterminated comment"},
		{".5", `l.flow:1:1: invalid number ".5": a number must start with a digit (write 0.5)`},
		{"5.", `l.flow:1:1: invalid number "5.": a digit must follow the decimal point`},
		{"5.x", `l.flow:1:1: invalid number "5.x": a digit must follow the decimal point`},
		{"1e+", `l.flow:1:1: invalid number "1e+": the exponent has no digits`},
		{"12abc", `l.flow:1:1: invalid number "12abc": numbers are decimal and may not be followed by letters`},
	} {
		res := scan("l.flow", []byte(tc.src))
		require.Equal(t, tc.want, res.errs.Error(), "source %q", tc.src)
	}
}

func TestLexInvalidTokens(t *testing.T) {
	// Bad text becomes one Invalid token, so that the parser can skip
	// errors that are consequences of the lexical one.
	res := scan("l.flow", []byte("a $ 12abc \"x"))
	var types []lexer.TokenType
	for _, tok := range res.tokens {
		types = append(types, tok.Type)
	}
	require.Equal(t, []lexer.TokenType{tokIdent, tokInvalid, tokInvalid, tokInvalid, lexer.EOF}, types)
	require.Equal(t, "12abc", res.tokens[2].Value)
}

func TestLexOpenComment(t *testing.T) {
	res := scan("l.flow", []byte("a /* b"))
	require.True(t, res.openComment)
	require.Len(t, res.tokens, 2)
	require.Equal(t, "/* b", res.comments[0].Text)
}
