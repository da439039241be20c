package benchlive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/gwd-jst/forumjst/internal/meetings"
)

// The baseline is the harness's ceiling (SPEC §8's "minimal Go broadcast
// server"): one process, rooms in memory, no authentication, no database. On
// chat.send it encodes one chat.message frame of exactly the forum's shape
// (the same struct, so the same JSON size) and queues it to every subscriber
// of the room. Each connection has a reader and a writer goroutine and a
// bounded queue, as in the forum, so the comparison isolates what the forum
// adds: authentication, persistence, the database round trips, presence.

const baselineQueue = 512 // the forum's default FORUM_WS_QUEUE_FRAMES

type baselineServer struct {
	author   meetings.Author
	upgrader websocket.Upgrader
	nextID   atomic.Int64
	conns    atomic.Int64

	mu    sync.Mutex
	rooms map[string]*baselineRoom
}

type baselineRoom struct {
	mu   sync.Mutex
	seq  int64
	subs map[*baselineConn]struct{}
}

type baselineConn struct {
	ws        *websocket.Conn
	out       chan []byte
	done      chan struct{}
	closeOnce sync.Once
	closeCode int
}

// chatFrame mirrors the forum's chat.message frame (internal/live).
type chatFrame struct {
	Type    string           `json:"type"`
	Topic   string           `json:"topic"`
	Message meetings.Message `json:"message"`
}

func newBaselineServer(author meetings.Author) *baselineServer {
	return &baselineServer{
		author: author,
		rooms:  map[string]*baselineRoom{},
		upgrader: websocket.Upgrader{
			// The same buffer settings as the forum's /ws.
			ReadBufferSize:  1024,
			WriteBufferSize: 1024,
			WriteBufferPool: &sync.Pool{},
			CheckOrigin:     func(*http.Request) bool { return true }, // no auth: that is the point
		},
	}
}

func (s *baselineServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", s.serveWS)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ready\n")) })
	// The two figures the harness reads from the forum's /metrics, in the same format.
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Fprintf(w, "go_memstats_heap_inuse_bytes %d\ngo_goroutines %d\n", ms.HeapInuse, runtime.NumGoroutine())
	})
	return mux
}

// serveBaseline serves on ln until ctx ends.
func serveBaseline(ctx context.Context, ln net.Listener, author meetings.Author) error {
	s := newBaselineServer(author)
	srv := &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	s.closeAll()
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (s *baselineServer) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rooms {
		r.mu.Lock()
		for c := range r.subs {
			c.close(websocket.CloseGoingAway)
		}
		r.mu.Unlock()
	}
}

func (s *baselineServer) room(topic string) *baselineRoom {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[topic]
	if r == nil {
		r = &baselineRoom{subs: map[*baselineConn]struct{}{}}
		s.rooms[topic] = r
	}
	return r
}

func (c *baselineConn) close(code int) {
	c.closeOnce.Do(func() {
		c.closeCode = code
		close(c.done)
	})
}

// offer queues without waiting; a full queue closes the connection (4008),
// as the forum does.
func (c *baselineConn) offer(frame []byte) bool {
	select {
	case c.out <- frame:
		return true
	default:
		return false
	}
}

// send queues the connection's own answers (acks), waiting for room as the
// forum's reader does.
func (c *baselineConn) send(frame []byte) {
	select {
	case c.out <- frame:
	case <-c.done:
	}
}

func (c *baselineConn) closing() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *baselineConn) writeLoop() {
	defer c.ws.Close()
	for {
		select {
		case f := <-c.out:
			_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := c.ws.WriteMessage(websocket.TextMessage, f); err != nil {
				c.close(websocket.CloseNormalClosure)
				return
			}
		case <-c.done:
			_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(c.closeCode, ""), time.Now().Add(time.Second))
			return
		}
	}
}

type baselineClientFrame struct {
	Type      string `json:"type"`
	Topic     string `json:"topic"`
	MeetingID int64  `json:"meeting_id"`
	ClientID  string `json:"client_id"`
	Body      string `json:"body"`
}

func (s *baselineServer) serveWS(w http.ResponseWriter, r *http.Request) {
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered the request
	}
	// Returning from the handler lets net/http drop its per-request state
	// (buffers, request, response): a minimal server keeps only the socket.
	go s.serveConn(ws)
}

func (s *baselineServer) serveConn(ws *websocket.Conn) {
	c := &baselineConn{ws: ws, out: make(chan []byte, baselineQueue), done: make(chan struct{})}
	s.conns.Add(1)
	defer s.conns.Add(-1)
	writerDone := make(chan struct{})
	go func() { defer close(writerDone); c.writeLoop() }()
	joined := map[*baselineRoom]bool{}
	ws.SetReadLimit(16 << 10)
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			break
		}
		var f baselineClientFrame
		if json.Unmarshal(data, &f) != nil {
			continue
		}
		switch f.Type {
		case "subscribe":
			rm := s.room(f.Topic)
			// Under the room's lock, so the subscribed frame precedes every
			// live message in the queue, as in the forum.
			rm.mu.Lock()
			rm.subs[c] = struct{}{}
			ok := c.offer(encodeJSON(map[string]any{"type": "subscribed", "topic": f.Topic, "seq": rm.seq, "state": map[string]string{"status": "live"}}))
			rm.mu.Unlock()
			joined[rm] = true
			if !ok {
				c.close(4008)
			}
		case "chat.send":
			s.broadcast(c, f)
		case "ping":
			c.send([]byte(`{"type":"pong"}`))
		}
		if c.closing() {
			break
		}
	}
	c.close(websocket.CloseNormalClosure)
	<-writerDone
	for rm := range joined {
		rm.mu.Lock()
		delete(rm.subs, c)
		rm.mu.Unlock()
	}
}

// broadcast assigns the next seq, encodes the frame once and queues it to
// every subscriber under the room's lock (so every queue sees seq order),
// then acknowledges to the sender.
func (s *baselineServer) broadcast(sender *baselineConn, f baselineClientFrame) {
	topic := "meeting:" + strconv.FormatInt(f.MeetingID, 10)
	rm := s.room(topic)
	rm.mu.Lock()
	rm.seq++
	msg := meetings.Message{ID: s.nextID.Add(1), Seq: rm.seq, MeetingID: f.MeetingID, Author: s.author,
		Body: f.Body, BodyHTML: "<p>" + html.EscapeString(f.Body) + "</p>\n", ClientID: f.ClientID,
		CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	frame := encodeJSON(chatFrame{Type: "chat.message", Topic: topic, Message: msg})
	for c := range rm.subs {
		if !c.offer(frame) {
			delete(rm.subs, c)
			c.close(4008)
		}
	}
	rm.mu.Unlock()
	sender.send(encodeJSON(map[string]any{"type": "chat.ack", "client_id": f.ClientID, "id": msg.ID, "seq": msg.Seq}))
}

func encodeJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("benchlive: encode frame: " + err.Error()) // plain structs: a bug
	}
	return b
}
