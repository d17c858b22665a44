package csvdata

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// readSklearn reads one of the scikit-learn files in testdata and checks
// its first line against the table.
func readSklearn(t *testing.T, file string) (*Table, SklearnHeader) {
	t.Helper()
	tab, err := ReadFile(filepath.Join("testdata", file), Options{SkipLines: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Preamble) != 1 {
		t.Fatalf("%s: preamble %q, want one line", file, tab.Preamble)
	}
	h, err := ParseSklearnHeader(tab.Preamble[0])
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != h.Samples || len(tab.Names()) != h.Features+1 {
		t.Fatalf("%s: %d records of %d columns, header says %d samples of %d features + label", file, tab.Len(), len(tab.Names()), h.Samples, h.Features)
	}
	return tab, h
}

// features returns the names of the first n columns.
func features(tab *Table, n int) []string { return tab.Names()[:n] }

func TestIris(t *testing.T) {
	tab, h := readSklearn(t, "iris.csv")
	if h.Samples != 150 || h.Features != 4 || !slices.Equal(h.Classes, []string{"setosa", "versicolor", "virginica"}) {
		t.Fatalf("header %+v", h)
	}
	if got := tab.Names(); !slices.Equal(got, []string{"c0", "c1", "c2", "c3", "c4"}) {
		t.Fatalf("names %q", got)
	}
	x, err := tab.Float32s(features(tab, 4))
	if err != nil {
		t.Fatal(err)
	}
	if len(x) != 150*4 {
		t.Fatalf("%d values, want 600", len(x))
	}
	if want := []float32{5.1, 3.5, 1.4, 0.2}; !slices.Equal(x[:4], want) {
		t.Errorf("first row %v, want %v", x[:4], want)
	}
	if want := []float32{5.9, 3.0, 5.1, 1.8}; !slices.Equal(x[len(x)-4:], want) {
		t.Errorf("last row %v, want %v", x[len(x)-4:], want)
	}
	if tab.Line(0) != 2 || tab.Line(149) != 151 {
		t.Errorf("lines %d, %d; want 2, 151", tab.Line(0), tab.Line(149))
	}
	y, classes, err := tab.Categorical("c4")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(classes, []string{"0", "1", "2"}) {
		t.Fatalf("classes %q", classes)
	}
	var count [3]int
	for _, k := range y {
		count[k]++
	}
	if count != [3]int{50, 50, 50} {
		t.Errorf("class counts %v, want 50 each", count)
	}
	// By index as well as by name.
	y4, _, err := tab.Categorical("4")
	if err != nil || !slices.Equal(y, y4) {
		t.Errorf("Categorical(\"4\") differs from Categorical(\"c4\"): %v", err)
	}
}

func TestWine(t *testing.T) {
	tab, h := readSklearn(t, "wine_data.csv")
	if h.Samples != 178 || h.Features != 13 || len(h.Classes) != 3 {
		t.Fatalf("header %+v", h)
	}
	x, err := tab.Float32s(features(tab, 13))
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{14.23, 1.71, 2.43, 15.6, 127, 2.8, 3.06, 0.28, 2.29, 5.64, 1.04, 3.92, 1065}
	if !slices.Equal(x[:13], want) {
		t.Errorf("first row %v, want %v", x[:13], want)
	}
	y, classes, err := tab.Categorical("c13")
	if err != nil {
		t.Fatal(err)
	}
	count := make([]int, len(classes))
	for _, k := range y {
		count[k]++
	}
	// The UCI wine data: 59, 71 and 48 wines of the three cultivars.
	if !slices.Equal(count, []int{59, 71, 48}) {
		t.Errorf("class counts %v, want [59 71 48]", count)
	}
}

func TestBreastCancer(t *testing.T) {
	tab, h := readSklearn(t, "breast_cancer.csv")
	if h.Samples != 569 || h.Features != 30 || !slices.Equal(h.Classes, []string{"malignant", "benign"}) {
		t.Fatalf("header %+v", h)
	}
	x, err := tab.Float32s(features(tab, 30))
	if err != nil {
		t.Fatal(err)
	}
	if x[0] != 17.99 || x[29] != 0.1189 {
		t.Errorf("first row starts %v, ends %v; want 17.99, 0.1189", x[0], x[29])
	}
	y, _, err := tab.Categorical("c30")
	if err != nil {
		t.Fatal(err)
	}
	var count [2]int
	for _, k := range y {
		count[k]++
	}
	if count != [2]int{212, 357} {
		t.Errorf("class counts %v, want [212 357]", count)
	}
}

func TestHeaderAndTSV(t *testing.T) {
	tab, err := ReadFile("testdata/bad/multi.tsv", Options{Header: true, Comment: '#'})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tab.Names(), []string{"x", "y", "label"}) || tab.Len() != 3 {
		t.Fatalf("names %q, %d records", tab.Names(), tab.Len())
	}
	if got := []int{tab.Line(0), tab.Line(1), tab.Line(2)}; !slices.Equal(got, []int{3, 5, 6}) {
		t.Errorf("record lines %v, want [3 5 6]", got)
	}
	col, _ := tab.Column("y")
	if !slices.Equal(col, []string{"2", "4", "multi\nline"}) {
		t.Errorf("column y %q", col)
	}
	// The quoted newline puts field y of the third record on line 6 and
	// the label on line 7; the error names the field's own line.
	_, err = tab.Float32s([]string{"x", "y"})
	checkErr(t, err, `testdata/bad/multi.tsv:6: column 1 "y": "multi\nline" is not a number`)
	_, classes, err := tab.Categorical("label")
	if err != nil || !slices.Equal(classes, []string{"cat", "dog"}) {
		t.Errorf("classes %q, %v; want sorted [cat dog]", classes, err)
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("no error, want %s", want)
		return
	}
	if err.Error() != want {
		t.Errorf("error\n\t%s\nwant\n\t%s", err, want)
	}
}

func TestReadErrors(t *testing.T) {
	for _, tc := range []struct {
		file string
		opts Options
		want string
	}{
		{"empty.csv", Options{Header: true}, "empty file"},
		{"empty.csv", Options{SkipLines: 1}, "empty file"},
		{"header_only.csv", Options{Header: true}, "1: header but no data records"},
		{"header_only.csv", Options{SkipLines: 1}, "no data records after 1 skipped lines"},
		{"dup_header.csv", Options{Header: true}, `1: duplicate column name "a" (columns 0 and 2)`},
		{"ragged.csv", Options{Header: true}, "3: 2 fields, want 3 as in the header on line 1"},
		{"ragged_noheader.csv", Options{}, "2: 4 fields, want 3 as in the first record on line 1"},
		{"quote.csv", Options{Header: true}, `3: extraneous or missing " in quoted-field`},
		{"pets.csv", Options{Header: true, MaxRecords: 2}, "4: more than MaxRecords (2) records"},
		{"pets.csv", Options{Header: true, MaxBytes: 20}, "larger than MaxBytes (20 bytes)"},
		{"pets.csv", Options{Comma: ';'}, "separator ';' is not ',' or tab"},
		{"pets.csv", Options{Comment: ','}, "comment character ',' is not allowed"},
	} {
		path := "testdata/bad/" + tc.file
		_, err := ReadFile(path, tc.opts)
		checkErr(t, err, path+":"+withLine(tc.want))
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Errorf("%s: error %T, want *Error", tc.file, err)
		}
	}
}

// withLine leaves "3: msg" alone and turns "msg" into " msg", so that
// path+":"+withLine(want) reads "path:3: msg" or "path: msg".
func withLine(want string) string {
	if i := strings.Index(want, ":"); i > 0 && strings.Trim(want[:i], "0123456789") == "" {
		return want
	}
	return " " + want
}

func TestValueErrors(t *testing.T) {
	for _, tc := range []struct {
		file, want string
	}{
		{"missing.csv", `3: column 1 "y": missing value`},
		{"notnumber.csv", `3: column 1 "y": "abc" is not a number`},
		{"nan.csv", `2: column 1 "y": "NaN" is not a finite number`},
		{"inf.csv", `2: column 1 "y": "-Inf" is not a finite number`},
		{"range.csv", `2: column 1 "y": "1e39" is out of float32 range`},
	} {
		path := "testdata/bad/" + tc.file
		tab, err := ReadFile(path, Options{Header: true})
		if err != nil {
			t.Fatal(err)
		}
		_, err = tab.Float32s([]string{"x", "y"})
		checkErr(t, err, path+":"+tc.want)
	}
	tab, err := ReadFile("testdata/bad/missing_label.csv", Options{Header: true})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = tab.Categorical("label")
	checkErr(t, err, `testdata/bad/missing_label.csv:3: column 2 "label": missing label`)
	_, err = tab.Float32s([]string{"x", "z"})
	checkErr(t, err, `testdata/bad/missing_label.csv: no column "z" (columns: x, y, label)`)
	_, err = tab.Float32s(nil)
	checkErr(t, err, `testdata/bad/missing_label.csv: no columns selected (columns: x, y, label)`)
}

func TestMapping(t *testing.T) {
	tab, err := ReadFile("testdata/bad/pets.csv", Options{Header: true})
	if err != nil {
		t.Fatal(err)
	}
	y, classes, err := tab.Categorical("label")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(classes, []string{"bird", "cat", "dog"}) || !slices.Equal(y, []int32{1, 2, 0}) {
		t.Fatalf("classes %q, indices %v", classes, y)
	}
	var buf bytes.Buffer
	if err := WriteMapping(&buf, NewMapping("label", classes)); err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"version\": 1,\n  \"column\": \"label\",\n  \"classes\": [\n    \"bird\",\n    \"cat\",\n    \"dog\"\n  ]\n}\n"
	if buf.String() != want {
		t.Errorf("mapping JSON\n%s\nwant\n%s", buf.String(), want)
	}
	m, err := ReadMapping(&buf)
	if err != nil {
		t.Fatal(err)
	}
	again, err := tab.CategoricalWith("label", m)
	if err != nil || !slices.Equal(again, y) {
		t.Errorf("CategoricalWith: %v, %v; want %v", again, err, y)
	}
	eval, err := ReadFile("testdata/bad/pets_new.csv", Options{Header: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = eval.CategoricalWith("label", m)
	checkErr(t, err, `testdata/bad/pets_new.csv:3: column 2 "label": unknown label "fish" (the mapping has 3 classes: "bird", "cat", "dog")`)

	for _, bad := range []struct{ json, want string }{
		{`{"version":1,"column":"l","classes":["a","a"]}`, `csvdata: mapping of column "l": class "a" is both 0 and 1`},
		{`{"version":1,"column":"l","classes":[]}`, `csvdata: mapping of column "l" has no classes`},
		{`{"version":2,"column":"l","classes":["a"]}`, `csvdata: mapping version 2, want 1`},
		{`{"version":1,"column":"l","classes":[""]}`, `csvdata: mapping of column "l": class 0 "" is empty or has surrounding spaces`},
		{`{"version":1,"colour":"l"}`, `csvdata: reading mapping: json: unknown field "colour"`},
	} {
		_, err := ReadMapping(strings.NewReader(bad.json))
		checkErr(t, err, bad.want)
	}
}

func TestIntegerLabels(t *testing.T) {
	// Integer labels map to themselves even when one is absent or they
	// appear out of order; "01" is not canonical, so those sort as text.
	for _, tc := range []struct {
		data    string
		classes []string
		y       []int32
	}{
		{"2\n0\n2\n", []string{"0", "1", "2"}, []int32{2, 0, 2}},
		{"10\n9\n", []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}, []int32{10, 9}},
		{"01\n1\n", []string{"01", "1"}, []int32{0, 1}},
		{"70000\n1\n", []string{"1", "70000"}, []int32{1, 0}},
		{"-1\n1\n", []string{"-1", "1"}, []int32{0, 1}},
	} {
		tab, err := Read(strings.NewReader(tc.data), "labels.csv", Options{})
		if err != nil {
			t.Fatal(err)
		}
		y, classes, err := tab.Categorical("c0")
		if err != nil || !slices.Equal(classes, tc.classes) || !slices.Equal(y, tc.y) {
			t.Errorf("%q: classes %q, y %v, err %v; want %q, %v", tc.data, classes, y, err, tc.classes, tc.y)
		}
	}
}

func TestSklearnHeaderErrors(t *testing.T) {
	for _, line := range []string{"", "150", "x,4,a", "150,-4"} {
		if _, err := ParseSklearnHeader(line); err == nil {
			t.Errorf("ParseSklearnHeader(%q): no error", line)
		}
	}
	// boston_house_prices.csv pads its first line with empty fields.
	h, err := ParseSklearnHeader("506,13,,,,")
	if err != nil || h.Samples != 506 || h.Features != 13 || len(h.Classes) != 0 {
		t.Errorf("%+v, %v", h, err)
	}
}

func BenchmarkRead(b *testing.B) {
	data, err := os.ReadFile("testdata/breast_cancer.csv")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read(bytes.NewReader(data), "breast_cancer.csv", Options{SkipLines: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFloat32s(b *testing.B) {
	tab, err := ReadFile("testdata/breast_cancer.csv", Options{SkipLines: 1})
	if err != nil {
		b.Fatal(err)
	}
	cols := tab.Names()[:30]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tab.Float32s(cols); err != nil {
			b.Fatal(err)
		}
	}
}
