package moodle

import (
	"io"
	"sync"
)

// pipe carries a stream from one goroutine to another through a bounded
// buffer of chunks, so that the writer (the upload into the content
// store) and the reader (the backup's decompression) run side by side
// rather than in turns as with io.Pipe. Memory is chunks × size at most.
type pipe struct {
	data chan []byte
	free chan []byte
	done chan struct{} // closed by closeRead

	once sync.Once
	rerr error // why the reader stopped, set before done closes
	werr error // why the writer stopped (io.EOF: the end), set before data closes

	cur []byte // the reader's chunk, to go back to free
	buf []byte // what is left of it to read
}

func newPipe(chunks, size int) *pipe {
	p := &pipe{data: make(chan []byte, chunks), free: make(chan []byte, chunks), done: make(chan struct{})}
	for range chunks {
		p.free <- make([]byte, size)
	}
	return p
}

// Write copies b into the buffer, waiting for room; once the reader has
// stopped it returns the reader's error.
func (p *pipe) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		var c []byte
		select {
		case c = <-p.free:
		case <-p.done:
			return n, p.rerr
		}
		k := copy(c[:cap(c)], b)
		select {
		case p.data <- c[:k]:
		case <-p.done:
			return n, p.rerr
		}
		n, b = n+k, b[k:]
	}
	return n, nil
}

// closeWrite ends the stream: the reader reads what is buffered, then
// err (io.EOF when nil). Called once, by the writer.
func (p *pipe) closeWrite(err error) {
	if err == nil {
		err = io.EOF
	}
	p.werr = err
	close(p.data)
}

// Read reads what the writer wrote.
func (p *pipe) Read(b []byte) (int, error) {
	if len(p.buf) == 0 {
		if p.cur != nil {
			p.free <- p.cur[:cap(p.cur)] // never blocks: free has room for every chunk
			p.cur = nil
		}
		c, ok := <-p.data
		if !ok {
			return 0, p.werr
		}
		p.cur, p.buf = c, c
	}
	k := copy(b, p.buf)
	p.buf = p.buf[k:]
	return k, nil
}

// closeRead tells the writer that nothing more will be read: its writes
// fail with err from then on. Called by the reader, at most once taking
// effect.
func (p *pipe) closeRead(err error) {
	if err == nil {
		err = io.ErrClosedPipe
	}
	p.once.Do(func() {
		p.rerr = err
		close(p.done)
	})
}

// teeReader reads r, filling each p as far as r gives, and writes what
// it read to w before returning it: the reading side of the tee is as
// fast as r, one write per read.
type teeReader struct {
	r io.Reader
	w io.Writer
}

func (t *teeReader) Read(p []byte) (int, error) {
	var n int
	var err error
	for n < len(p) && err == nil {
		var k int
		k, err = t.r.Read(p[n:])
		n += k
	}
	if n > 0 {
		if _, werr := t.w.Write(p[:n]); werr != nil {
			return n, werr
		}
	}
	return n, err
}
