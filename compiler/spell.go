package compiler

import (
	"fmt"
	"slices"
	"strings"
)

// closest returns the candidate nearest to name by edit distance, or ""
// when none is near enough to be a plausible typo: at most max(1,
// len(name)/3) edits, where swapping two adjacent letters is one edit.
// Ties go to the earliest candidate.
func closest(name string, candidates []string) string {
	best, bestD := "", 1<<30
	limit := max(1, len(name)/3)
	for _, c := range candidates {
		if c == name {
			continue
		}
		if len(c)-len(name) > limit || len(name)-len(c) > limit {
			continue // at least that many edits apart
		}
		d := editDistance(name, c)
		if d <= limit && d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b
// (Damerau-Levenshtein without re-editing a transposed pair): the fewest
// insertions, deletions, substitutions and swaps of adjacent bytes that
// turn a into b.
func editDistance(a, b string) int {
	// Three rows: the one before the previous (for transpositions), the
	// previous and the current.
	pp := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], pp[j-2]+1)
			}
		}
		pp, prev, cur = prev, cur, pp
	}
	return prev[len(b)]
}

// tfSpellings maps argument names TensorFlow, Keras (and for some,
// PyTorch and NumPy) use to flow's names for the same thing; noArgument
// suggests the one the callee has.
var tfSpellings = map[string][]string{
	"learning_rate":      {"lr"},
	"std":                {"stddev"},
	"sigma":              {"stddev"},
	"scale":              {"stddev"},
	"loc":                {"mean"},
	"mu":                 {"mean"},
	"minval":             {"low"},
	"maxval":             {"high"},
	"axis":               {"axes"},
	"dim":                {"axis", "axes"},
	"keepdims":           {"keep_dims"},
	"beta_1":             {"beta1"},
	"beta_2":             {"beta2"},
	"eps":                {"epsilon"},
	"variance_epsilon":   {"epsilon"},
	"use_nesterov":       {"nesterov"},
	"clipnorm":           {"clip_norm"},
	"global_clipnorm":    {"clip_norm"},
	"dilation_rate":      {"dilations"},
	"pool_size":          {"ksize"},
	"kernel_size":        {"ksize"},
	"permutation":        {"perm"},
	"num_classes":        {"depth"},
	"constant_values":    {"value"},
	"num_or_size_splits": {"num", "sizes"},
	"num_split":          {"num"},
	"size_splits":        {"sizes"},
	"keep_prob":          {"rate"},
}

// noArgument is the message for a keyword argument the callee what does
// not take: another framework's spelling of one of valid gets flow's
// name, a near miss gets "did you mean", anything else the list of the
// arguments it takes.
func noArgument(what, got string, valid []string) string {
	msg := fmt.Sprintf("%s has no argument %s", what, got)
	for _, flow := range tfSpellings[got] {
		if !slices.Contains(valid, flow) {
			continue
		}
		if got == "keep_prob" {
			return msg + "; flow takes rate, the fraction dropped: rate = 1 - keep_prob (as TensorFlow 2 does)"
		}
		return fmt.Sprintf("%s; flow calls it %s", msg, flow)
	}
	for _, v := range valid {
		if strings.EqualFold(v, got) {
			return fmt.Sprintf("%s; did you mean %s?", msg, v)
		}
	}
	if s := closest(got, valid); s != "" {
		return fmt.Sprintf("%s; did you mean %s?", msg, s)
	}
	switch len(valid) {
	case 0:
		return msg + "; it takes none"
	case 1:
		return fmt.Sprintf("%s; its only argument is %s", msg, valid[0])
	}
	return fmt.Sprintf("%s; its arguments are %s and %s", msg, strings.Join(valid[:len(valid)-1], ", "), valid[len(valid)-1])
}
