package serve

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
)

// toAny converts a parsed value to what encoding/json decodes with
// UseNumber, with numbers as float64, for comparison.
func toAny(v *value) any {
	switch v.kind {
	case kindNull:
		return nil
	case kindBool:
		return v.b
	case kindNumber:
		return v.num
	case kindString:
		return v.str
	case kindArray:
		a := make([]any, v.arrayLen())
		for i := range a {
			a[i] = toAny(element(v, i))
		}
		return a
	}
	m := map[string]any{}
	for i, k := range v.keys {
		m[k] = toAny(&v.vals[i])
	}
	return m
}

// reference decodes data with encoding/json, numbers as float64 (±Inf
// beyond the float64 range, as parseJSON has them).
func reference(data []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	var conv func(any) any
	conv = func(v any) any {
		switch v := v.(type) {
		case json.Number:
			f, _ := strconv.ParseFloat(string(v), 64)
			return f
		case []any:
			for i := range v {
				v[i] = conv(v[i])
			}
		case map[string]any:
			for k := range v {
				v[k] = conv(v[k])
			}
		}
		return v
	}
	return conv(v), true
}

func equalAny(a, b any) bool {
	switch a := a.(type) {
	case float64:
		b, ok := b.(float64)
		return ok && (a == b || math.IsNaN(a) && math.IsNaN(b))
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !equalAny(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if w, ok := b[k]; !ok || !equalAny(v, w) {
				return false
			}
		}
		return true
	}
	return a == b
}

var jsonSeeds = []string{
	`{"instances": [[1, 2, 3, 4]]}`, `[1, -0.5e-3, 0, 1E+2, [true, false, null], "a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"]`,
	`{"a": {"b": [[], {}, [1, [2]]]}, "a": 3}`, ` 12 `, `"\xff"`, `1e999`, `-0`, `[1,`, `{"a" 1}`, `01`, `[1 2]`,
	`{"x": [1, "s", 2]}`, "[\"\t\"]", `nul`, `[-]`, `1.`, `.5`, `+1`, `[1e]`, `"\u12"`, `{} {}`, `0A00`,
}

// FuzzParseJSON checks parseJSON against encoding/json: the same inputs are
// accepted, with the same values.
func FuzzParseJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, ok := reference(data)
		v, err := parseJSON(data)
		if ok != (err == nil) {
			t.Fatalf("%q: encoding/json accepts: %v, parseJSON: %v", data, ok, err)
		}
		if ok && !equalAny(toAny(&v), want) {
			t.Fatalf("%q: parseJSON %#v, encoding/json %#v", data, toAny(&v), want)
		}
	})
}

func TestParseJSONSeeds(t *testing.T) {
	for _, s := range jsonSeeds {
		want, ok := reference([]byte(s))
		v, err := parseJSON([]byte(s))
		if ok != (err == nil) || ok && !equalAny(toAny(&v), want) {
			t.Errorf("%q: parseJSON %v, %v; encoding/json %v, %v", s, toAny(&v), err, want, ok)
		}
	}
}

func TestParseJSONDepth(t *testing.T) {
	deep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	if _, err := parseJSON([]byte(deep)); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("depth %d: %v", maxDepth+1, err)
	}
	ok := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	if _, err := parseJSON([]byte(ok)); err != nil {
		t.Errorf("depth %d: %v", maxDepth, err)
	}
}
