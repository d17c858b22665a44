package compiler

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
