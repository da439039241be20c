package live

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// tcpConn is a server-side connection over a real loopback socket, with its
// raw socket for the fan-out's direct writes, and the peer's end.
func tcpConn(t testing.TB, h *Hub, limit int) (*Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close(); peer.Close() })
	rc, err := server.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	return &Conn{h: h, raw: server, rc: rc, out: newQueue(limit), done: make(chan struct{}), written: make(chan struct{})}, peer
}

// readFrame reads one unmasked server frame: its opcode and payload.
func readFrame(r *bufio.Reader) (op byte, payload []byte, err error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := int(hdr[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return 0, nil, err
		}
		n = int(ext[0])<<8 | int(ext[1])
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return 0, nil, err
		}
		n = 0
		for _, b := range ext {
			n = n<<8 | int(b)
		}
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(r, payload)
	return hdr[0], payload, err
}

func count(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

func testHub(t testing.TB) *Hub {
	h := New(Deps{Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry()})
	t.Cleanup(h.cancel)
	return h
}

// A fan-out writes to a socket with room itself, with one system call for
// what it queued, and gives the writer role up: no writer goroutine runs
// for it, and a due ping and pong go out with the frames, after them.
func TestFanOutWritesDirectlyWhenTheSocketHasRoom(t *testing.T) {
	h := testHub(t)
	c, peer := tcpConn(t, h, 16)
	c.out.pong([]byte("hi")) // the reader answering a ping: takes the role
	c.out.ping()
	ok, start := c.offerHeld([]byte("one"), []byte("two"))
	if !ok || start {
		t.Fatalf("offer: ok %v, start %v (the pong took the role)", ok, start)
	}
	fanOut([]*Conn{c})
	if got := count(h.metrics.directWrites); got != 1 {
		t.Errorf("direct writes = %v, want 1", got)
	}
	if got := count(h.metrics.handOffs); got != 0 {
		t.Errorf("hand-offs = %v, want 0", got)
	}
	if !c.out.claim() {
		t.Error("the fan-out kept the writer role")
	}
	c.out.mu.Lock()
	c.out.writing = false
	c.out.mu.Unlock()

	r := bufio.NewReader(peer)
	_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	want := []string{"81 one", "81 two", "89 ", "8a hi"}
	for _, w := range want {
		op, p, err := readFrame(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%x %s", op, p); got != w {
			t.Fatalf("frame %q, want %q", got, w)
		}
	}
	if n := r.Buffered(); n != 0 {
		t.Errorf("%d bytes more than the frames", n)
	}
}

// A fan-out larger than a part (fanOutPart) is split over the Ps; every
// connection still gets its frames, directly, in order.
func TestSplitFanOutWritesEveryConnection(t *testing.T) {
	h := testHub(t)
	const n = 3*fanOutPart + 5
	cs := make([]*Conn, n)
	peers := make([]net.Conn, n)
	for i := range cs {
		cs[i], peers[i] = tcpConn(t, h, 8)
	}
	for _, frames := range [][][]byte{{[]byte("a"), []byte("b")}, {[]byte("c")}} {
		var starts []*Conn
		for _, c := range cs {
			if _, start := c.offerHeld(frames...); start {
				starts = append(starts, c)
			}
		}
		fanOut(starts)
	}
	for i, p := range peers {
		r := bufio.NewReader(p)
		_ = p.SetReadDeadline(time.Now().Add(5 * time.Second))
		for _, want := range []string{"a", "b", "c"} {
			if op, got, err := readFrame(r); err != nil || op != 0x81 || string(got) != want {
				t.Fatalf("connection %d: %x %q %v, want %q", i, op, got, err, want)
			}
		}
	}
	if o := count(h.metrics.handOffs); o != 0 {
		t.Errorf("%v hand-offs to sockets with room", o)
	}
}

// A write deadline left by the writer goroutine's last blocking write, long
// past, does not turn the fan-out's next write into a hand-off.
func TestFanOutIgnoresAnOldWriteDeadline(t *testing.T) {
	h := testHub(t)
	c, peer := tcpConn(t, h, 4)
	_ = c.raw.SetWriteDeadline(time.Now().Add(-time.Second))
	if _, start := c.offerHeld([]byte("late")); !start {
		t.Fatal("the offer did not take the writer role")
	}
	fanOut([]*Conn{c})
	if d, o := count(h.metrics.directWrites), count(h.metrics.handOffs); d != 1 || o != 0 {
		t.Errorf("direct writes %v, hand-offs %v; want 1, 0", d, o)
	}
	_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	if op, p, err := readFrame(bufio.NewReader(peer)); err != nil || op != 0x81 || string(p) != "late" {
		t.Errorf("peer read %x %q %v", op, p, err)
	}
}

// A socket whose buffer is full does not hold up the fan-out: the kernel
// takes what fits, a writer goroutine finishes the frame and writes what is
// queued after it once the peer reads, and the peer gets every frame whole
// and in order (nothing written between the two parts of a frame).
func TestFanOutHandsAFullSocketToAWriter(t *testing.T) {
	h := testHub(t)
	c, peer := tcpConn(t, h, 64)
	if err := c.raw.(*net.TCPConn).SetWriteBuffer(4 << 10); err != nil {
		t.Fatal(err)
	}
	_ = peer.(*net.TCPConn).SetReadBuffer(4 << 10)
	var sent [][]byte
	frame := func(i int) []byte {
		f := bytes.Repeat([]byte{byte('a' + i%26)}, 20<<10)
		sent = append(sent, f)
		return f
	}
	// Frames of 20 KiB until a fan-out leaves one to a writer.
	started := time.Now()
	for i := 0; count(h.metrics.handOffs) == 0; i++ {
		if i == 40 {
			t.Fatal("800 KiB written to a peer that does not read, without a hand-off")
		}
		ok, start := c.offerHeld(frame(i))
		if !ok {
			t.Fatal("queue full")
		}
		if start {
			fanOut([]*Conn{c})
		}
	}
	if d := time.Since(started); d > 2*time.Second {
		t.Errorf("the fan-outs took %v: a write waited for the peer", d)
	}
	// What follows queues behind the writer, which the peer now drains.
	for i := range 3 {
		if ok, start := c.offerHeld(frame(100 + i)); !ok || start {
			t.Fatalf("offer behind the writer: ok %v, start %v", ok, start)
		}
	}
	c.out.pong([]byte("p"))
	r := bufio.NewReader(peer)
	_ = peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i, want := range sent {
		op, p, err := readFrame(r)
		for err == nil && op == 0x8a { // the pong may come between batches
			op, p, err = readFrame(r)
		}
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if op != 0x81 || !bytes.Equal(p, want) {
			t.Fatalf("frame %d: opcode %x, %d bytes of %q, want %d of %q", i, op, len(p), p[:1], len(want), want[:1])
		}
	}
}

// The non-blocking write never waits: on a socket that takes nothing more
// it reports EAGAIN at once.
func TestNonBlockingWriteDoesNotWait(t *testing.T) {
	h := testHub(t)
	c, _ := tcpConn(t, h, 4)
	_ = c.raw.(*net.TCPConn).SetWriteBuffer(4 << 10)
	w := nonBlocking{}
	w.fn = w.write
	buf := make([]byte, 64<<10)
	started := time.Now()
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		_, err = w.try(c.rc, buf)
	}
	if err != syscall.EAGAIN {
		t.Errorf("write to a full socket: %v, want EAGAIN", err)
	}
	if d := time.Since(started); d > time.Second {
		t.Errorf("took %v", d)
	}
}
