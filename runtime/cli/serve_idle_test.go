package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServeClosesIdleConnections checks that serve closes a keep-alive
// connection that stays idle past --idle-timeout: without an idle timeout
// net/http keeps such connections (and their goroutines and file
// descriptors) open forever.
func TestServeClosesIdleConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	_, url, stderr, _ := serveProcess(t, 0, "--idle-timeout", "100ms")
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /v1/models/fake_softmax HTTP/1.1\r\nHost: localhost\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the status response: %v; stderr:\n%s", err, stderr)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("status %d (close %v), want 200 on a kept-alive connection", resp.StatusCode, resp.Close)
	}
	// The server should hang up after 100ms of idleness; the deadline
	// only keeps a broken server from hanging the test.
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("reading the idle connection: %v, want EOF (closed by the server)", err)
	}
}
