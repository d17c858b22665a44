package lang

import (
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// This file holds the lexer: it turns source bytes into participle tokens,
// collects comments on the side, reports lexical errors, and drops the
// newlines that do not end a statement.

// Token types produced by the lexer. The grammar refers to them by the
// names in tokenSymbols.
const (
	tokIdent   lexer.TokenType = iota + 1 // x, W, f32
	tokKeyword                            // model input param output train with if else …
	tokInt                                // 784
	tokFloat                              // 0.01, 1e-3
	tokString                             // "text", quotes included
	tokPunct                              // + - * / @ ( ) [ ] { } , : = ; < > ! and the pairs of twoCharOps
	tokNewline                            // a newline that ends a statement
	tokInvalid                            // text the lexer already reported as an error
)

// tokenSymbols names the token types for the grammar. It is a function, not
// a variable, because the grammar is built during package initialization.
func tokenSymbols() map[string]lexer.TokenType {
	return map[string]lexer.TokenType{
		"EOF":     lexer.EOF,
		"Ident":   tokIdent,
		"Keyword": tokKeyword,
		"Int":     tokInt,
		"Float":   tokFloat,
		"String":  tokString,
		"Punct":   tokPunct,
		"Newline": tokNewline,
		"Invalid": tokInvalid,
	}
}

// keywords are the reserved words; they cannot be used as names.
var keywords = map[string]bool{
	"model":  true,
	"input":  true,
	"param":  true,
	"output": true,
	"train":  true,
	"with":   true,
	"fn":     true,
	"import": true,
	"const":  true,
	"return": true,
	"if":     true,
	"else":   true,
	"while":  true,
	"for":    true,
	"in":     true,
	"yield":  true,
}

// maxNesting bounds how deeply brackets may nest, so that hostile input
// cannot exhaust the stack of the recursive-descent parser.
const maxNesting = 200

// scanResult is everything the lexer learned about a file.
type scanResult struct {
	tokens   []lexer.Token // significant tokens, ending with EOF
	comments []*Comment
	errs     ErrorList
	// openComment is set when a block comment runs to the end of the file;
	// errors found at end of file are then a consequence, not news.
	openComment bool
}

// scanner is the state of one lexing pass over a file.
type scanner struct {
	file      string
	src       []byte
	off       int // offset of the next byte
	line, col int // position of src[off]
	res       scanResult
}

// scan lexes src completely. It never fails: bad input becomes an error in
// the result and an Invalid token in the stream.
func scan(filename string, src []byte) *scanResult {
	s := &scanner{file: filename, src: src, line: 1, col: 1}
	if len(src) >= 3 && src[0] == 0xEF && src[1] == 0xBB && src[2] == 0xBF {
		s.advance(3) // a byte order mark is not part of the program
	}
	var raw []lexer.Token
	for {
		t, ok := s.next()
		if !ok {
			continue
		}
		raw = append(raw, t)
		if t.Type == lexer.EOF {
			break
		}
	}
	s.res.tokens = joinLines(raw)
	return &s.res
}

func (s *scanner) pos() lexer.Position {
	return lexer.Position{Filename: s.file, Offset: s.off, Line: s.line, Column: s.col}
}

// advance moves n bytes forward, keeping line and column up to date.
func (s *scanner) advance(n int) {
	for i := 0; i < n && s.off < len(s.src); i++ {
		if s.src[s.off] == '\n' {
			s.line++
			s.col = 1
		} else {
			s.col++
		}
		s.off++
	}
}

func (s *scanner) peekByte(i int) byte {
	if s.off+i < len(s.src) {
		return s.src[s.off+i]
	}
	return 0
}

func (s *scanner) errorf(pos lexer.Position, format string, args ...any) {
	s.res.errs.Add(toPos(pos), format, args...)
}

func (s *scanner) token(typ lexer.TokenType, pos lexer.Position) lexer.Token {
	return lexer.Token{Type: typ, Value: string(s.src[pos.Offset:s.off]), Pos: pos}
}

// next returns the next token; ok is false when it only consumed
// whitespace or a comment.
func (s *scanner) next() (lexer.Token, bool) {
	pos := s.pos()
	if s.off >= len(s.src) {
		return lexer.Token{Type: lexer.EOF, Pos: pos}, true
	}
	c := s.src[s.off]
	switch {
	case c == ' ' || c == '\t' || c == '\r':
		s.advance(1)
		return lexer.Token{}, false
	case c == '\n':
		s.advance(1)
		return lexer.Token{Type: tokNewline, Value: "\n", Pos: pos}, true
	case c == '/' && s.peekByte(1) == '/':
		end := s.off
		for end < len(s.src) && s.src[end] != '\n' {
			end++
		}
		text := s.src[s.off:end]
		if n := len(text); n > 0 && text[n-1] == '\r' {
			text = text[:n-1]
		}
		s.comment(pos, string(text))
		s.advance(end - s.off)
		return lexer.Token{}, false
	case c == '/' && s.peekByte(1) == '*':
		return s.blockComment(pos)
	case isLetter(c):
		for s.off < len(s.src) && (isLetter(s.src[s.off]) || isDigit(s.src[s.off])) {
			s.advance(1)
		}
		t := s.token(tokIdent, pos)
		if keywords[t.Value] {
			t.Type = tokKeyword
		}
		return t, true
	case isDigit(c) || (c == '.' && isDigit(s.peekByte(1))):
		return s.number(pos), true
	case c == '"':
		return s.string(pos), true
	case c == '-' && s.peekByte(1) == '>', twoCharOps[string([]byte{c, s.peekByte(1)})]:
		s.advance(2) // the arrow before a function's result type, or an operator such as <=
		return s.token(tokPunct, pos), true
	case c == '&' || c == '|':
		s.errorf(pos, "invalid character %q (the logical operators are && and ||)", rune(c))
		s.advance(1)
		return s.token(tokInvalid, pos), true
	case isPunct(c):
		s.advance(1)
		return s.token(tokPunct, pos), true
	}
	r, size := utf8.DecodeRune(s.src[s.off:])
	if r == utf8.RuneError && size <= 1 {
		s.errorf(pos, "invalid UTF-8 encoding")
	} else {
		s.errorf(pos, "invalid character %q", r)
	}
	s.advance(size)
	return s.token(tokInvalid, pos), true
}

func (s *scanner) comment(pos lexer.Position, text string) {
	s.res.comments = append(s.res.comments, &Comment{Pos: toPos(pos), Text: text})
}

// blockComment consumes /* ... */. A block comment that spans lines ends a
// statement, like the newline it contains.
func (s *scanner) blockComment(pos lexer.Position) (lexer.Token, bool) {
	end := -1
	for i := s.off + 2; i+1 < len(s.src); i++ {
		if s.src[i] == '*' && s.src[i+1] == '/' {
			end = i + 2
			break
		}
	}
	if end < 0 {
		s.errorf(pos, "unterminated comment")
		s.res.openComment = true
		end = len(s.src)
	}
	text := string(s.src[s.off:end])
	s.comment(pos, text)
	s.advance(end - s.off)
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			return lexer.Token{Type: tokNewline, Value: "\n", Pos: pos}, true
		}
	}
	return lexer.Token{}, false
}

// number consumes an integer (123) or a float (0.01, 1e-3, 1.5e+2).
// Anything glued to a number (.5, 1., 1e, 0x10, 3a) is one invalid token.
func (s *scanner) number(pos lexer.Position) lexer.Token {
	digits := func() int {
		n := 0
		for isDigit(s.peekByte(0)) && s.off < len(s.src) {
			s.advance(1)
			n++
		}
		return n
	}
	typ := tokInt
	bad := ""
	leadingDot := s.peekByte(0) == '.' // .5
	if leadingDot {
		bad = "."
	}
	digits()
	if s.peekByte(0) == '.' {
		typ = tokFloat
		s.advance(1)
		if digits() == 0 && bad == "" {
			bad = "a digit must follow the decimal point"
		}
	}
	if c := s.peekByte(0); c == 'e' || c == 'E' {
		i := 1
		if c := s.peekByte(1); c == '+' || c == '-' {
			i = 2
		}
		if isDigit(s.peekByte(i)) {
			typ = tokFloat
			s.advance(i)
			digits()
		} else if bad == "" {
			bad = "the exponent has no digits"
		}
	}
	if c := s.peekByte(0); isLetter(c) || isDigit(c) || c == '.' {
		if bad == "" {
			bad = "numbers are decimal and may not be followed by letters"
		}
	}
	if bad != "" {
		for c := s.peekByte(0); s.off < len(s.src) && (isLetter(c) || isDigit(c) || c == '.' ||
			((c == '+' || c == '-') && (s.src[s.off-1] == 'e' || s.src[s.off-1] == 'E'))); c = s.peekByte(0) {
			s.advance(1)
		}
		t := s.token(tokInvalid, pos)
		if leadingDot {
			s.errorf(pos, "invalid number %q: a number must start with a digit (write 0%s)", t.Value, t.Value)
		} else {
			s.errorf(pos, "invalid number %q: %s", t.Value, bad)
		}
		return t
	}
	return s.token(typ, pos)
}

// string consumes a double-quoted string on one line.
func (s *scanner) string(pos lexer.Position) lexer.Token {
	s.advance(1) // opening quote
	for {
		if s.off >= len(s.src) || s.src[s.off] == '\n' {
			s.errorf(pos, "unterminated string")
			return s.token(tokInvalid, pos)
		}
		switch s.src[s.off] {
		case '\\':
			if s.off+1 < len(s.src) && s.src[s.off+1] != '\n' {
				s.advance(2)
			} else {
				s.advance(1)
			}
		case '"':
			s.advance(1)
			t := s.token(tokString, pos)
			if _, err := strconv.Unquote(t.Value); err != nil {
				s.errorf(pos, "invalid escape sequence in string %s", t.Value)
				t.Type = tokInvalid
			}
			return t
		default:
			_, size := utf8.DecodeRune(s.src[s.off:])
			s.advance(size)
		}
	}
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

func isPunct(c byte) bool {
	switch c {
	case '+', '-', '*', '/', '@', '(', ')', '[', ']', '{', '}', ',', ':', '=', ';', '<', '>', '!':
		return true
	}
	return false
}

// twoCharOps are the operators spelled with two characters (besides the
// arrow "->"); each is one token.
var twoCharOps = map[string]bool{"<=": true, ">=": true, "==": true, "!=": true, "&&": true, "||": true}

// joinLines drops the newlines that do not end a statement: repeated
// newlines, a newline after an operator or after ( [ , and a newline
// before ) or ]. What remains are statement terminators.
func joinLines(raw []lexer.Token) []lexer.Token {
	out := make([]lexer.Token, 0, len(raw))
	for i, t := range raw {
		if t.Type == tokNewline {
			if n := len(out); n > 0 && (out[n-1].Type == tokNewline || continuesLine(out[n-1])) {
				continue
			}
			if closesBracket(nextSignificant(raw, i)) {
				continue
			}
		}
		out = append(out, t)
	}
	return out
}

func nextSignificant(raw []lexer.Token, i int) lexer.Token {
	for _, t := range raw[i+1:] {
		if t.Type != tokNewline {
			return t
		}
	}
	return raw[len(raw)-1]
}

// continuesLine reports whether a line ending with t goes on on the next line.
func continuesLine(t lexer.Token) bool {
	if t.Type != tokPunct {
		return false
	}
	switch t.Value {
	case "+", "-", "*", "/", "@", "(", "[", ",", "<", ">", "<=", ">=", "==", "!=", "&&", "||", "!":
		return true
	}
	return false
}

func closesBracket(t lexer.Token) bool {
	return t.Type == tokPunct && (t.Value == ")" || t.Value == "]")
}

// checkNesting reports the first bracket nested more than maxNesting deep.
// The keywords if, while and for open a level too (their conditions and
// headers may hold further ifs, whiles and fors before any brace); the
// "{" of their block does not open another, and its "}" closes theirs.
// Other braces (a model's, a function's, an else branch's) do not nest
// the parser any deeper.
func checkNesting(tokens []lexer.Token) *Error {
	depth, headers := 0, 0
	var braces []bool // for each open brace, whether it is a header's
	for _, t := range tokens {
		open := false
		switch {
		case t.Type == tokKeyword && (t.Value == "if" || t.Value == "while" || t.Value == "for"):
			headers++
			open = true
		case t.Type != tokPunct:
		case t.Value == "{":
			braces = append(braces, headers > 0)
			if headers > 0 {
				headers--
			}
		case t.Value == "}":
			if n := len(braces); n > 0 {
				if braces[n-1] && depth > 0 {
					depth--
				}
				braces = braces[:n-1]
			}
		case t.Value == "(" || t.Value == "[":
			open = true
		case t.Value == ")" || t.Value == "]":
			if depth > 0 {
				depth--
			}
		}
		if open {
			depth++
			if depth > maxNesting {
				return &Error{Pos: toPos(t.Pos), Msg: fmt.Sprintf("brackets nested too deeply (more than %d levels)", maxNesting)}
			}
		}
	}
	return nil
}

// toPos converts a participle position into an AST position.
func toPos(p lexer.Position) Pos {
	return Pos{File: p.Filename, Offset: p.Offset, Line: p.Line, Col: p.Column}
}

// lexerDef lets participle build the grammar against our token types.
type lexerDef struct{}

// Symbols returns the token type names the grammar may refer to.
func (lexerDef) Symbols() map[string]lexer.TokenType { return tokenSymbols() }

// Lex lexes a whole file. ParseFile does not use it (it lexes itself to keep
// comments and errors); it exists to satisfy lexer.Definition.
func (lexerDef) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	res := scan(filename, src)
	return &sliceLexer{tokens: res.tokens}, res.errs.Err()
}

// sliceLexer replays a token slice that ends with EOF.
type sliceLexer struct {
	tokens []lexer.Token
	i      int
}

// Next returns the next token, then EOF forever.
func (l *sliceLexer) Next() (lexer.Token, error) {
	t := l.tokens[l.i]
	if l.i < len(l.tokens)-1 {
		l.i++
	}
	return t, nil
}
