package live

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"testing"

	"github.com/fasthttp/websocket"
)

// Frames written together by writeFrames are read back by the websocket
// library as the same messages, in order, at every length encoding.
func TestCoalescedFramesReadBack(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 1000, 65535, 65536, 70000}
	var payloads [][]byte
	var wire []byte
	for i, n := range sizes {
		p := bytes.Repeat([]byte{byte('a' + i)}, n)
		payloads = append(payloads, p)
		wire = appendTextFrame(wire, p)
	}
	server, client := net.Pipe()
	defer server.Close()
	go func() {
		req, err := http.ReadRequest(bufio.NewReader(server))
		if err != nil {
			t.Errorf("read handshake: %v", err)
			return
		}
		sum := sha1.Sum([]byte(req.Header.Get("Sec-Websocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		fmt.Fprintf(server, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			base64.StdEncoding.EncodeToString(sum[:]))
		_, _ = server.Write(wire) // all frames in one write
	}()
	ws, _, err := websocket.NewClient(client, &url.URL{Scheme: "ws", Host: "test", Path: "/ws"}, nil, 1024, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range payloads {
		kind, got, err := ws.ReadMessage()
		if err != nil || kind != websocket.TextMessage || !bytes.Equal(got, want) {
			t.Fatalf("frame %d (%d bytes): kind %d, %d bytes, err %v", i, len(want), kind, len(got), err)
		}
	}
}
