package moodle_test

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/lyceum-oer/lyceum/node/nodetest"
)

func mbztestGzip(w io.Writer, b []byte) {
	zw := gzip.NewWriter(w)
	zw.Write(b)
	zw.Close()
}

// TestMain fails the package when a share's reading goroutine outlives
// its request.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leak := nodetest.Leaked("moodle.(*Server)"); leak != "" {
			fmt.Fprintf(os.Stderr, "goroutines of a share still running after the tests:\n%s\n", leak)
			code = 1
		}
	}
	os.Exit(code)
}
