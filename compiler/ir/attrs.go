package ir

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Attrs are an op's compile-time arguments: axes, flags, constant values,
// and the regions of control-flow ops. Values are typed: int, []int,
// [][]int, bool, float64, []float64, string, DType, Shape or *Region
// (CheckAttrValue; Verify refuses any other). Format and Key render them
// deterministically, without pointers.
type Attrs map[string]any

// CheckAttrValue reports an error for an attribute value of a type
// outside the attribute types.
func CheckAttrValue(v any) error {
	switch v.(type) {
	case int, []int, [][]int, bool, float64, []float64, string, DType, Shape, *Region:
		return nil
	}
	return fmt.Errorf("attribute value %v has type %T, not an attribute type", v, v)
}

// Key renders the attributes exactly (no abbreviation), sorted by key,
// for hashing: two attribute sets have the same Key exactly when they
// are equal. A region renders as its nodes by ID, which are unique in a
// module, so nodes with different regions never share a key.
func (a Attrs) Key() string {
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		switch v := a[k].(type) {
		case float64:
			b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		case []float64:
			for _, x := range v {
				b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
				b.WriteByte(',')
			}
		case *Region:
			b.WriteString(v.oneLine())
		default:
			fmt.Fprintf(&b, "%T:%v", v, v)
		}
		b.WriteByte(';')
	}
	return b.String()
}

// Int returns attribute k as an int, or def when it is absent.
func (a Attrs) Int(k string, def int) int {
	if v, ok := a[k].(int); ok {
		return v
	}
	return def
}

// DType returns attribute k as a DType, or def when it is absent.
func (a Attrs) DType(k string, def DType) DType {
	if v, ok := a[k].(DType); ok {
		return v
	}
	return def
}

// Dims returns attribute k as a shape: a Shape, or a list of ints as
// fixed sizes (nil when absent).
func (a Attrs) Dims(k string) Shape {
	switch v := a[k].(type) {
	case Shape:
		return v
	case []int:
		return Shp(v...)
	}
	return nil
}

// Ints returns attribute k as a list of ints (nil when absent).
func (a Attrs) Ints(k string) []int {
	v, _ := a[k].([]int)
	return v
}

// Bool returns attribute k as a bool, or false when it is absent.
func (a Attrs) Bool(k string) bool {
	v, _ := a[k].(bool)
	return v
}

// Float returns attribute k as a float64, or def when it is absent.
func (a Attrs) Float(k string, def float64) float64 {
	if v, ok := a[k].(float64); ok {
		return v
	}
	return def
}

// Floats returns attribute k as a list of float64 (nil when absent).
func (a Attrs) Floats(k string) []float64 {
	v, _ := a[k].([]float64)
	return v
}

// String returns attribute k as a string, or def when it is absent.
func (a Attrs) String(k string, def string) string {
	if v, ok := a[k].(string); ok {
		return v
	}
	return def
}

// Has reports whether attribute k is set.
func (a Attrs) Has(k string) bool {
	_, ok := a[k]
	return ok
}

// Clone returns a shallow copy of a.
func (a Attrs) Clone() Attrs {
	out := make(Attrs, len(a))
	for k, v := range a {
		out[k] = v
	}
	return out
}

// Format renders the attributes deterministically, sorted by key, e.g.
// "axes=[1] keep_dims=true". Long float lists are abbreviated; a region
// renders on one line ("{%5 = mul(%1, %4) : f32[3]; yield %5}").
func (a Attrs) Format() string {
	return a.format(func(string) bool { return true })
}

// format is Format restricted to the keys keep accepts.
func (a Attrs) format(keep func(k string) bool) string {
	keys := make([]string, 0, len(a))
	for k := range a {
		if keep(k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+formatAttr(a[k]))
	}
	return strings.Join(parts, " ")
}

func formatAttr(v any) string {
	switch v := v.(type) {
	case []int:
		s := make([]string, len(v))
		for i, x := range v {
			s[i] = strconv.Itoa(x)
		}
		return "[" + strings.Join(s, ",") + "]"
	case [][]int:
		s := make([]string, len(v))
		for i, x := range v {
			s[i] = formatAttr(x)
		}
		return "[" + strings.Join(s, ",") + "]"
	case []float64:
		if len(v) > 8 {
			return fmt.Sprintf("[%d values]", len(v))
		}
		s := make([]string, len(v))
		for i, x := range v {
			s[i] = strconv.FormatFloat(x, 'g', -1, 64)
		}
		return "[" + strings.Join(s, ",") + "]"
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case string:
		return strconv.Quote(v)
	case *Region:
		return v.oneLine()
	default:
		return fmt.Sprint(v)
	}
}
