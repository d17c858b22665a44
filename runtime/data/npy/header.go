package npy

import (
	"fmt"
	"strings"
)

// header is the parsed dict literal at the start of a .npy file.
type header struct {
	descr   string
	fortran bool
	shape   []int
}

// headerParser is a strict parser for the Python dict literal numpy writes,
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }, followed by
// space padding and a newline. It accepts exactly the keys descr,
// fortran_order and shape, each once; string values in single or double
// quotes without escapes; True or False; and tuples of non-negative
// integers (an "L" suffix, as Python 2 wrote, is allowed).
type headerParser struct {
	s   string
	pos int
}

func parseHeader(s string) (header, error) {
	p := &headerParser{s: s}
	h, err := p.dict()
	if err != nil {
		return header{}, fmt.Errorf("header at byte %d: %v", p.pos, err)
	}
	return h, nil
}

func (p *headerParser) skipSpace() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (p *headerParser) peek() byte {
	p.skipSpace()
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *headerParser) expect(c byte) error {
	if got := p.peek(); got != c {
		return fmt.Errorf("found %s, want %q", p.describe(), c)
	}
	p.pos++
	return nil
}

// describe names what is at the current position, for error messages.
func (p *headerParser) describe() string {
	if p.pos >= len(p.s) {
		return "end of header"
	}
	return fmt.Sprintf("%q", p.s[p.pos])
}

func (p *headerParser) dict() (header, error) {
	var h header
	if err := p.expect('{'); err != nil {
		return h, err
	}
	seen := map[string]bool{}
	for p.peek() != '}' {
		key, err := p.str()
		if err != nil {
			return h, fmt.Errorf("dict key: %v", err)
		}
		if seen[key] {
			return h, fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		if err := p.expect(':'); err != nil {
			return h, err
		}
		switch key {
		case "descr":
			if p.peek() == '[' {
				return h, fmt.Errorf("structured dtypes (descr is a list of fields) are not supported")
			}
			h.descr, err = p.str()
		case "fortran_order":
			h.fortran, err = p.boolean()
		case "shape":
			h.shape, err = p.tuple()
		default:
			return h, fmt.Errorf("unexpected key %q: want descr, fortran_order or shape", key)
		}
		if err != nil {
			return h, fmt.Errorf("%s: %v", key, err)
		}
		if p.peek() != ',' {
			break
		}
		p.pos++
	}
	if err := p.expect('}'); err != nil {
		return h, err
	}
	// Only padding may follow: spaces, then the newline numpy ends with.
	rest := strings.Trim(p.s[p.pos:], " \t\n")
	if rest != "" {
		return h, fmt.Errorf("unexpected %q after the dict", truncate(rest))
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return h, fmt.Errorf("missing key %q", k)
		}
	}
	return h, nil
}

func (p *headerParser) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", fmt.Errorf("found %s, want a string", p.describe())
	}
	end := strings.IndexByte(p.s[p.pos+1:], q)
	if end < 0 {
		return "", fmt.Errorf("unterminated string")
	}
	v := p.s[p.pos+1 : p.pos+1+end]
	if strings.IndexByte(v, '\\') >= 0 {
		return "", fmt.Errorf("escapes in strings are not supported")
	}
	p.pos += end + 2
	return v, nil
}

func (p *headerParser) boolean() (bool, error) {
	p.skipSpace()
	switch {
	case strings.HasPrefix(p.s[p.pos:], "True"):
		p.pos += 4
		return true, nil
	case strings.HasPrefix(p.s[p.pos:], "False"):
		p.pos += 5
		return false, nil
	}
	return false, fmt.Errorf("found %s, want True or False", p.describe())
}

// maxDims bounds the rank numpy itself allows (NPY_MAXDIMS is 32 in
// numpy 1.x, 64 in 2.x).
const maxDims = 64

func (p *headerParser) tuple() ([]int, error) {
	if err := p.expect('('); err != nil {
		return nil, err
	}
	shape := []int{}
	for p.peek() != ')' {
		n, err := p.integer()
		if err != nil {
			return nil, err
		}
		if len(shape) == maxDims {
			return nil, fmt.Errorf("more than %d dimensions", maxDims)
		}
		shape = append(shape, n)
		if p.peek() != ',' {
			if len(shape) == 1 {
				// (3) is an int in Python, not a tuple.
				return nil, fmt.Errorf("found %s, want ',' (a one-element tuple is written (n,))", p.describe())
			}
			break
		}
		p.pos++
	}
	if err := p.expect(')'); err != nil {
		return nil, err
	}
	return shape, nil
}

// maxDim bounds a single dimension so that sums and products of a few stay
// far from overflow; the real bound is the byte limit checked later.
const maxDim = 1 << 53

func (p *headerParser) integer() (int, error) {
	p.skipSpace()
	start := p.pos
	n := 0
	for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
		n = n*10 + int(p.s[p.pos]-'0')
		p.pos++
		if n > maxDim {
			return 0, fmt.Errorf("dimension %s… is too large", p.s[start:p.pos])
		}
	}
	if p.pos == start {
		return 0, fmt.Errorf("found %s, want a non-negative integer", p.describe())
	}
	if p.pos < len(p.s) && p.s[p.pos] == 'L' {
		p.pos++
	}
	return n, nil
}

func truncate(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}
