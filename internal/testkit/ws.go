package testkit

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

// WS is a test websocket client: frames are read by one goroutine into a
// channel so tests can wait for a frame with a timeout.
type WS struct {
	T      testing.TB
	Conn   *websocket.Conn
	frames chan Frame
	closed chan struct{}
	mu     sync.Mutex
	err    error
}

// Frame is one server frame, decoded loosely, with its raw bytes.
type Frame struct {
	Type string
	Raw  json.RawMessage
	M    map[string]any
}

// Int reads a numeric field.
func (f Frame) Int(key string) int64 {
	v, _ := f.M[key].(float64)
	return int64(v)
}

// Str reads a string field.
func (f Frame) Str(key string) string {
	v, _ := f.M[key].(string)
	return v
}

// Message decodes the message of a chat.message frame.
func (f Frame) Message() ChatMessage {
	var out struct {
		Message ChatMessage `json:"message"`
	}
	_ = json.Unmarshal(f.Raw, &out)
	return out.Message
}

// ChatMessage is the SPEC §5 message object, as tests read it.
type ChatMessage struct {
	ID        int64  `json:"id"`
	Seq       int64  `json:"seq"`
	MeetingID int64  `json:"meeting_id"`
	Body      string `json:"body"`
	BodyHTML  string `json:"body_html"`
	ClientID  string `json:"client_id"`
	Author    struct {
		ID   int64   `json:"id"`
		Name string  `json:"name"`
		JST  *string `json:"jst"`
	} `json:"author"`
}

// DialWS opens /ws with the client's cookies and the server's own Origin.
func (c *Client) DialWS() *WS {
	c.T.Helper()
	ws, resp, err := c.TryDialWS(c.Base)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		c.T.Fatalf("dial websocket: %v (status %d)", err, status)
	}
	return ws
}

// TryDialWS dials with a chosen Origin and returns the handshake response on failure.
func (c *Client) TryDialWS(origin string) (*WS, *http.Response, error) {
	conn, resp, err := c.DialRawWS(origin, 0)
	if err != nil {
		return nil, resp, err
	}
	w := &WS{T: c.T, Conn: conn, frames: make(chan Frame, 10000), closed: make(chan struct{})}
	go w.readLoop()
	return w, resp, nil
}

// DialRawWS opens /ws and returns the bare connection, read by nobody (a
// client that stalls). A positive kernelReadBuffer pins the socket's receive
// buffer (no autotuning), so a stalled client stops absorbing frames early.
func (c *Client) DialRawWS(origin string, kernelReadBuffer int) (*websocket.Conn, *http.Response, error) {
	u, _ := url.Parse(c.Base)
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	var cookies []string
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	if len(cookies) > 0 {
		h.Set("Cookie", strings.Join(cookies, "; "))
	}
	wsURL := "ws" + strings.TrimPrefix(c.Base, "http") + "/ws"
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	if kernelReadBuffer > 0 {
		d.NetDial = func(network, addr string) (net.Conn, error) {
			conn, err := net.Dial(network, addr)
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetReadBuffer(kernelReadBuffer)
			}
			return conn, err
		}
	}
	conn, resp, err := d.Dial(wsURL, h)
	if err != nil {
		return nil, resp, err
	}
	c.T.Cleanup(func() { _ = conn.Close() })
	return conn, resp, nil
}

func (w *WS) readLoop() {
	defer close(w.closed)
	defer close(w.frames)
	for {
		_, data, err := w.Conn.ReadMessage()
		if err != nil {
			w.mu.Lock()
			w.err = err
			w.mu.Unlock()
			return
		}
		f := Frame{Raw: append(json.RawMessage(nil), data...)}
		_ = json.Unmarshal(data, &f.M)
		f.Type, _ = f.M["type"].(string)
		w.frames <- f
	}
}

// Frames is the channel of received frames (closed when the connection ends),
// for tests that read from several goroutines or select over connections.
func (w *WS) Frames() <-chan Frame { return w.frames }

// Send writes one JSON frame.
func (w *WS) Send(v any) {
	w.T.Helper()
	if err := w.Conn.WriteJSON(v); err != nil {
		w.T.Fatalf("websocket write: %v", err)
	}
}

// Next returns the next frame, failing the test after timeout.
func (w *WS) Next(timeout time.Duration) Frame {
	w.T.Helper()
	select {
	case f, ok := <-w.frames:
		if !ok {
			w.T.Fatalf("websocket closed while waiting for a frame: %v", w.Err())
		}
		return f
	case <-time.After(timeout):
		w.T.Fatalf("no websocket frame within %s", timeout)
	}
	return Frame{}
}

// Expect skips frames until one of type typ arrives (presence and the like
// come and go), failing after timeout.
func (w *WS) Expect(typ string, timeout time.Duration) Frame {
	w.T.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case f, ok := <-w.frames:
			if !ok {
				w.T.Fatalf("websocket closed while waiting for %q: %v", typ, w.Err())
			}
			if f.Type == typ {
				return f
			}
		case <-deadline:
			w.T.Fatalf("no %q frame within %s", typ, timeout)
		}
	}
}

// Closed waits for the connection to end and returns the error that ended it
// (a *websocket.CloseError carries the close code).
func (w *WS) Closed(timeout time.Duration) error {
	w.T.Helper()
	select {
	case <-w.closed:
		return w.Err()
	case <-time.After(timeout):
		w.T.Fatalf("websocket still open after %s", timeout)
		return nil
	}
}

// Drain discards buffered frames until quiet for the given time.
func (w *WS) Drain(quiet time.Duration) {
	for {
		select {
		case _, ok := <-w.frames:
			if !ok {
				return
			}
		case <-time.After(quiet):
			return
		}
	}
}

func (w *WS) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}
