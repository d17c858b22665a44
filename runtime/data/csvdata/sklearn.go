package csvdata

import (
	"fmt"
	"strconv"
	"strings"
)

// SklearnHeader is the first line of the CSV files shipped with
// scikit-learn (sklearn/datasets/data/*.csv), "150,4,setosa,versicolor,
// virginica": the number of samples and features, then the class names
// (class k is the integer label k in the last column).
type SklearnHeader struct {
	Samples  int
	Features int
	Classes  []string
}

// ParseSklearnHeader parses a scikit-learn header line, such as
// Table.Preamble[0] after reading with Options{SkipLines: 1}.
func ParseSklearnHeader(line string) (SklearnHeader, error) {
	f := strings.Split(strings.TrimRight(line, "\r\n"), ",")
	var h SklearnHeader
	var err error
	if len(f) < 2 {
		return h, fmt.Errorf("csvdata: scikit-learn header %q: want n_samples,n_features,classes...", line)
	}
	if h.Samples, err = strconv.Atoi(strings.TrimSpace(f[0])); err != nil || h.Samples < 0 {
		return h, fmt.Errorf("csvdata: scikit-learn header %q: n_samples %q is not a count", line, f[0])
	}
	if h.Features, err = strconv.Atoi(strings.TrimSpace(f[1])); err != nil || h.Features < 0 {
		return h, fmt.Errorf("csvdata: scikit-learn header %q: n_features %q is not a count", line, f[1])
	}
	for _, c := range f[2:] {
		if c = strings.TrimSpace(c); c != "" {
			h.Classes = append(h.Classes, c)
		}
	}
	return h, nil
}
