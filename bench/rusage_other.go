//go:build !unix

package main

import "os"

// maxRSSKB returns 0: the system does not report a child's peak RSS in a
// form the harness reads.
func maxRSSKB(*os.ProcessState) int64 { return 0 }
