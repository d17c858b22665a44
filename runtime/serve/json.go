package serve

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// A small JSON parser for request bodies. Requests are mostly long arrays
// of numbers; encoding/json would box each number into an interface, which
// dominates the cost of serving a small model. This parser keeps an array
// of numbers as one []float64.

// kind is the type of a JSON value.
type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// value is a parsed JSON value.
type value struct {
	kind kind
	b    bool    // kindBool
	num  float64 // kindNumber
	str  string  // kindString
	// An array is nums when every element is a number (an empty array too),
	// else elems.
	nums  []float64
	elems []value
	keys  []string // kindObject, in order; a repeated key keeps its last value
	vals  []value
}

// describe names a value's type for messages.
func (v *value) describe() string {
	switch v.kind {
	case kindNull:
		return "null"
	case kindBool:
		return "a boolean"
	case kindNumber:
		return "a number"
	case kindString:
		return "a string"
	case kindArray:
		return "an array"
	}
	return "an object"
}

// field returns the value of key in an object.
func (v *value) field(key string) (*value, bool) {
	for i := len(v.keys) - 1; i >= 0; i-- {
		if v.keys[i] == key {
			return &v.vals[i], true
		}
	}
	return nil, false
}

// arrayLen returns the number of elements of an array.
func (v *value) arrayLen() int {
	if v.elems != nil {
		return len(v.elems)
	}
	return len(v.nums)
}

// maxDepth bounds the nesting of arrays and objects, as encoding/json does.
const maxDepth = 10000

// maxJSONValues bounds the JSON values of one request other than the numbers
// of arrays of numbers (which are stored compactly): each takes about 128
// bytes once parsed, so a body of small values such as "[],[],…" would
// otherwise grow about 170-fold in memory. A million is far more than any
// request of a model's examples needs (64 images of 28×28×1 given as
// nested arrays are about 50,000).
const maxJSONValues = 1 << 20

// parseJSON parses data, which must hold exactly one JSON value.
func parseJSON(data []byte) (value, error) {
	p := parser{data: data}
	p.skipSpace()
	if p.pos == len(p.data) {
		return value{}, errEmpty
	}
	v, err := p.value()
	if err != nil {
		return value{}, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return value{}, errTrailing
	}
	return v, nil
}

var (
	errEmpty    = fmt.Errorf("empty request body; want a JSON object %s or %s", `{"instances": [...]}`, `{"inputs": ...}`)
	errTrailing = fmt.Errorf("invalid JSON request: unexpected data after the JSON value")
)

type parser struct {
	data   []byte
	pos    int
	depth  int
	values int // values parsed outside arrays of numbers; see maxJSONValues
}

func (p *parser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// syntaxError reports an unexpected byte (or the end) at p.pos.
func (p *parser) syntaxError(want string) error {
	if p.pos >= len(p.data) {
		return fmt.Errorf("invalid JSON request: unexpected end of input, want %s", want)
	}
	r, _ := utf8.DecodeRune(p.data[p.pos:])
	return fmt.Errorf("invalid JSON request: unexpected %q at byte %d, want %s", r, p.pos, want)
}

func (p *parser) value() (value, error) {
	if p.pos >= len(p.data) {
		return value{}, p.syntaxError("a value")
	}
	if p.values++; p.values > maxJSONValues {
		return value{}, fmt.Errorf("invalid JSON request: more than %d values outside arrays of numbers", maxJSONValues)
	}
	switch c := p.data[p.pos]; {
	case c == '[':
		return p.array()
	case c == '{':
		return p.object()
	case c == '"':
		s, err := p.string()
		return value{kind: kindString, str: s}, err
	case c == '-' || '0' <= c && c <= '9':
		x, err := p.number()
		return value{kind: kindNumber, num: x}, err
	case p.literal("true"):
		return value{kind: kindBool, b: true}, nil
	case p.literal("false"):
		return value{kind: kindBool}, nil
	case p.literal("null"):
		return value{kind: kindNull}, nil
	}
	return value{}, p.syntaxError("a value")
}

// literal consumes word if it is next.
func (p *parser) literal(word string) bool {
	if len(p.data)-p.pos >= len(word) && string(p.data[p.pos:p.pos+len(word)]) == word {
		p.pos += len(word)
		return true
	}
	return false
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return fmt.Errorf("invalid JSON request: nested more than %d deep", maxDepth)
	}
	return nil
}

func (p *parser) array() (value, error) {
	if err := p.enter(); err != nil {
		return value{}, err
	}
	defer func() { p.depth-- }()
	p.pos++ // [
	v := value{kind: kindArray, nums: []float64{}}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return v, nil
	}
	for {
		p.skipSpace()
		if v.elems == nil && p.pos < len(p.data) && (p.data[p.pos] == '-' || '0' <= p.data[p.pos] && p.data[p.pos] <= '9') {
			x, err := p.number()
			if err != nil {
				return value{}, err
			}
			v.nums = append(v.nums, x)
		} else {
			e, err := p.value()
			if err != nil {
				return value{}, err
			}
			if v.elems == nil { // the first element that is not a number
				v.elems = make([]value, len(v.nums), len(v.nums)+1)
				for i, x := range v.nums {
					v.elems[i] = value{kind: kindNumber, num: x}
				}
				v.nums = nil
			}
			v.elems = append(v.elems, e)
		}
		p.skipSpace()
		if p.pos >= len(p.data) {
			return value{}, p.syntaxError("',' or ']'")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return v, nil
		default:
			return value{}, p.syntaxError("',' or ']'")
		}
	}
}

func (p *parser) object() (value, error) {
	if err := p.enter(); err != nil {
		return value{}, err
	}
	defer func() { p.depth-- }()
	p.pos++ // {
	v := value{kind: kindObject}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return v, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return value{}, p.syntaxError("a string key")
		}
		key, err := p.string()
		if err != nil {
			return value{}, err
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return value{}, p.syntaxError("':'")
		}
		p.pos++
		p.skipSpace()
		val, err := p.value()
		if err != nil {
			return value{}, err
		}
		v.keys = append(v.keys, key)
		v.vals = append(v.vals, val)
		p.skipSpace()
		if p.pos >= len(p.data) {
			return value{}, p.syntaxError("',' or '}'")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return v, nil
		default:
			return value{}, p.syntaxError("',' or '}'")
		}
	}
}

// string parses a string at p.pos (an opening quote).
func (p *parser) string() (string, error) {
	start := p.pos
	p.pos++
	escaped := false
	for p.pos < len(p.data) {
		switch c := p.data[p.pos]; {
		case c == '"':
			p.pos++
			raw := p.data[start:p.pos]
			if !escaped && utf8.Valid(raw) {
				return string(raw[1 : len(raw)-1]), nil
			}
			var s string // escapes and invalid UTF-8: as encoding/json does
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", fmt.Errorf("invalid JSON request: string at byte %d: %v", start, err)
			}
			return s, nil
		case c == '\\':
			escaped = true
			p.pos += 2
		case c < 0x20:
			return "", fmt.Errorf("invalid JSON request: control character %q in a string at byte %d", rune(c), p.pos)
		default:
			p.pos++
		}
	}
	p.pos = len(p.data)
	return "", p.syntaxError("'\"' closing the string")
}

// number parses a number at p.pos. A number beyond the float64 range is
// ±Inf, for the caller to reject.
func (p *parser) number() (float64, error) {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && '0' <= p.data[p.pos] && p.data[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.data[p.pos] == '-' {
		p.pos++
	}
	if p.pos < len(p.data) && p.data[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		return 0, p.syntaxError("a digit")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return 0, p.syntaxError("a digit after '.'")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return 0, p.syntaxError("a digit in the exponent")
		}
	}
	x, _ := strconv.ParseFloat(string(p.data[start:p.pos]), 64) // only a range error is possible
	return x, nil
}
