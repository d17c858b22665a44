package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// A streaming JSON scanner for request bodies. It reads the body through
// one fixed buffer and hands the decoder one token at a time, so that
// decoding holds no more of the body than the buffer, whatever the body
// holds: the decoder (decode.go) writes numbers straight into the input
// tensors and never builds a tree of the document.

// scanBufSize is the size of the buffer a body is read through; no
// token (a number, a string, a key) may be longer.
const scanBufSize = 16 << 10

// scanner reads JSON tokens from r.
type scanner struct {
	r   io.Reader
	buf []byte
	pos int   // next byte to consume
	end int   // buf[pos:end] has been read but not consumed
	off int64 // offset in the body of buf[0]
	err error // set once r fails or ends (io.EOF)
}

// syntaxError is malformed JSON.
type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return "invalid JSON request: " + e.msg }

// readError is a failure to read the body: the client went away, sent
// too much (*http.MaxBytesError) or too slowly (a deadline).
type readError struct{ err error }

func (e *readError) Error() string { return "reading the request body: " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// failed returns the reader's error, if it failed other than by ending.
func (s *scanner) failed() error {
	if s.err != nil && s.err != io.EOF {
		return &readError{s.err}
	}
	return nil
}

// fill moves buf[keep:end] to the front of buf and reads more after it.
// It reports whether it read anything: not at the end of the body, after
// an error or when buf is full.
func (s *scanner) fill(keep int) bool {
	if keep > 0 {
		s.end = copy(s.buf, s.buf[keep:s.end])
		s.pos -= keep
		s.off += int64(keep)
	}
	if s.err != nil || s.end == len(s.buf) {
		return false
	}
	for range 100 {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			s.err = err
		}
		if n > 0 || err != nil {
			return n > 0
		}
	}
	s.err = io.ErrNoProgress
	return false
}

// peek skips white space and returns the next byte without consuming
// it; false at the end of the body or on a read error.
func (s *scanner) peek() (byte, bool) {
	for {
		for s.pos < s.end {
			switch c := s.buf[s.pos]; c {
			case ' ', '\t', '\n', '\r':
				s.pos++
			default:
				return c, true
			}
		}
		if !s.fill(s.pos) {
			return 0, false
		}
	}
}

// syntaxError reports an unexpected byte (or the end) at s.pos, or the
// reader's error if that is why the input ended.
func (s *scanner) syntaxError(want string) error {
	if err := s.failed(); err != nil && s.pos >= s.end {
		return err
	}
	for s.end-s.pos < utf8.UTFMax && s.fill(s.pos) {
	}
	if s.pos >= s.end {
		if err := s.failed(); err != nil {
			return err
		}
		return &syntaxError{"unexpected end of input, want " + want}
	}
	r, _ := utf8.DecodeRune(s.buf[s.pos:s.end])
	return &syntaxError{fmt.Sprintf("unexpected %q at byte %d, want %s", r, s.off+int64(s.pos), want)}
}

// tokenTooLong reports a token that does not fit the buffer.
func (s *scanner) tokenTooLong(what string) error {
	return &syntaxError{fmt.Sprintf("%s at byte %d is longer than %d bytes", what, s.off+int64(s.pos), len(s.buf))}
}

// literal consumes word (true, false or null) if it is next.
func (s *scanner) literal(word string) bool {
	for s.end-s.pos < len(word) && s.fill(s.pos) {
	}
	if s.end-s.pos >= len(word) && string(s.buf[s.pos:s.pos+len(word)]) == word {
		s.pos += len(word)
		return true
	}
	return false
}

// numberByte marks the bytes a JSON number is made of.
var numberByte = [256]bool{'0': true, '1': true, '2': true, '3': true, '4': true, '5': true, '6': true, '7': true, '8': true, '9': true, '-': true, '+': true, '.': true, 'e': true, 'E': true}

// number consumes the number at s.pos (a '-' or a digit) and returns its
// value; one beyond the float64 range is ±Inf, for the caller to reject.
func (s *scanner) number() (float64, error) {
	// Have the whole run of bytes a number is made of in buf.
	i := s.pos
	for {
		for i < s.end && numberByte[s.buf[i]] {
			i++
		}
		if i < s.end || s.err != nil {
			break
		}
		if s.pos == 0 && s.end == len(s.buf) {
			return 0, s.tokenTooLong("a number")
		}
		i -= s.pos
		if !s.fill(s.pos) && s.err == nil {
			return 0, s.tokenTooLong("a number")
		}
	}
	// The grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
	// While checking it, gather the decimal mantissa and exponent: most
	// numbers (up to 19 digits, |exponent| ≤ 22) then convert exactly
	// with one correctly rounded operation, as strconv's fast path does.
	start, p := s.pos, s.pos
	var (
		mant  uint64
		exp   int    // decimal exponent of mant
		exact = true // mant holds every digit
	)
	digits := func(frac bool) int {
		n := 0
		for p < i && '0' <= s.buf[p] && s.buf[p] <= '9' {
			if mant < (1<<64-1)/10-9 {
				mant = mant*10 + uint64(s.buf[p]-'0')
				if frac {
					exp--
				}
			} else {
				exact = false
			}
			p++
			n++
		}
		return n
	}
	fail := func(want string) (float64, error) {
		s.pos = p
		return 0, s.syntaxError(want)
	}
	neg := s.buf[p] == '-'
	if neg {
		p++
	}
	if p < i && s.buf[p] == '0' {
		p++
	} else if digits(false) == 0 {
		return fail("a digit")
	}
	if p < i && s.buf[p] == '.' {
		p++
		if digits(true) == 0 {
			return fail("a digit after '.'")
		}
	}
	if p < i && (s.buf[p] == 'e' || s.buf[p] == 'E') {
		p++
		sign := 1
		if p < i && (s.buf[p] == '+' || s.buf[p] == '-') {
			if s.buf[p] == '-' {
				sign = -1
			}
			p++
		}
		e, n := 0, 0
		for p < i && '0' <= s.buf[p] && s.buf[p] <= '9' {
			e = min(e*10+int(s.buf[p]-'0'), 1<<20)
			p++
			n++
		}
		if n == 0 {
			return fail("a digit in the exponent")
		}
		exp += sign * e
	}
	s.pos = p
	if exact && mant < 1<<53 && -22 <= exp && exp <= 22 {
		x := float64(mant)
		if exp > 0 {
			x *= pow10[exp]
		} else if exp < 0 {
			x /= pow10[-exp]
		}
		if neg {
			x = -x
		}
		return x, nil
	}
	x, err := strconv.ParseFloat(string(s.buf[start:p]), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, &syntaxError{fmt.Sprintf("number at byte %d: %v", s.off+int64(start), err)}
	}
	return x, nil
}

// pow10 holds the powers of ten a float64 represents exactly.
var pow10 = [23]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// str consumes the string at s.pos (a quote) and returns its value,
// decoded as encoding/json does (invalid UTF-8 becomes U+FFFD).
func (s *scanner) str() (string, error) {
	i := s.pos + 1
	escaped := false
	for {
		for i < s.end {
			c := s.buf[i]
			if c == '"' {
				raw := s.buf[s.pos : i+1]
				start := s.off + int64(s.pos)
				s.pos = i + 1
				if !escaped && utf8.Valid(raw) {
					return string(raw[1 : len(raw)-1]), nil
				}
				var v string
				if err := json.Unmarshal(raw, &v); err != nil {
					return "", &syntaxError{fmt.Sprintf("string at byte %d: %v", start, err)}
				}
				return v, nil
			}
			if c < 0x20 {
				s.pos = i
				return "", &syntaxError{fmt.Sprintf("control character %q in a string at byte %d", rune(c), s.off+int64(i))}
			}
			if c == '\\' {
				if i+1 == s.end {
					break // the escaped byte is not in buf yet
				}
				escaped = true
				i++
			}
			i++
		}
		if s.pos == 0 && s.end == len(s.buf) {
			return "", s.tokenTooLong("a string")
		}
		i -= s.pos
		if !s.fill(s.pos) {
			if s.err == nil {
				return "", s.tokenTooLong("a string")
			}
			s.pos = s.end
			return "", s.syntaxError("'\"' closing the string")
		}
	}
}
